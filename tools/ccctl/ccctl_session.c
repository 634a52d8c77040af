/*
 * ccctl session: make keyring lines, mint session tokens and check them,
 * with lib/'s cc_session.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ccctl.h"
#include "cc_base64.h"
#include "cc_session.h"


#define CCCTL_KEYRING_MAX  (64 * 1024)
#define CCCTL_MAX_TTL      (30LL * 86400)


static int ccctl_session_keygen(int argc, char **argv);
static int ccctl_session_mint(int argc, char **argv);
static int ccctl_session_verify(int argc, char **argv);
static int ccctl_load_keyring(const char *path, cc_session_keyring_t *ring);
static int ccctl_uuid_opt(const ccctl_cmdline_t *cmd, const char *name,
    unsigned char out[CC_UUID_LEN]);


int
ccctl_session(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "keygen") == 0) {
        return ccctl_session_keygen(argc - 1, argv + 1);
    }
    if (argc >= 1 && strcmp(argv[0], "mint") == 0) {
        return ccctl_session_mint(argc - 1, argv + 1);
    }
    if (argc >= 1 && strcmp(argv[0], "verify") == 0) {
        return ccctl_session_verify(argc - 1, argv + 1);
    }
    fprintf(stderr, "ccctl: session needs keygen, mint or verify "
            "(try ccctl --help)\n");
    return CCCTL_ERROR;
}


static int
ccctl_session_keygen(int argc, char **argv)
{
    static const char *const  known[] = { "kid", NULL };
    ccctl_cmdline_t        cmd;
    cc_session_keyring_t   probe;
    unsigned char          key[32];
    char                   b64[64];
    const char            *kid;

    if (ccctl_parse(argc, argv, known, &cmd) != 0 || cmd.n_args != 0) {
        return CCCTL_ERROR;
    }
    kid = ccctl_opt(&cmd, "kid") ? ccctl_opt(&cmd, "kid") : "k1";

    if (RAND_bytes(key, sizeof(key)) != 1) {
        fprintf(stderr, "ccctl: no randomness\n");
        return CCCTL_ERROR;
    }

    /* Let the keyring judge the kid, so what we print always loads. */
    cc_session_keyring_init(&probe);
    if (cc_session_keyring_add(&probe, kid, key, sizeof(key), 1)
        != CC_SESSION_OK)
    {
        fprintf(stderr, "ccctl: --kid must be 1-%d of [A-Za-z0-9_-]\n",
                CC_SESSION_KID_MAX);
        OPENSSL_cleanse(key, sizeof(key));
        return CCCTL_ERROR;
    }
    cc_session_keyring_wipe(&probe);

    cc_base64url_encode(key, sizeof(key), b64);
    printf("%s %s active\n", kid, b64);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(b64, sizeof(b64));
    return CCCTL_OK;
}


static int
ccctl_session_mint(int argc, char **argv)
{
    static const char *const  known[] = {
        "keyring", "tenant", "user", "roles", "ttl", "now", "sid", NULL
    };
    ccctl_cmdline_t        cmd;
    cc_session_keyring_t   ring;
    cc_session_t           s;
    cc_session_err_t       err;
    long long              ttl, now;
    const char            *roles;
    char                   token[CC_SESSION_TOKEN_MAX + 1];

    memset(&s, 0, sizeof(s));
    if (ccctl_parse(argc, argv, known, &cmd) != 0
        || ccctl_opt_ll(&cmd, "ttl", 3600, 1, CCCTL_MAX_TTL, &ttl)
        || ccctl_opt_ll(&cmd, "now", (long long) time(NULL), 0,
                        (1LL << 61), &now))
    {
        return CCCTL_ERROR;
    }
    if (ccctl_opt(&cmd, "keyring") == NULL || cmd.n_args != 0
        || ccctl_uuid_opt(&cmd, "tenant", s.tenant) != 0
        || ccctl_uuid_opt(&cmd, "user", s.user) != 0)
    {
        fprintf(stderr, "usage: ccctl session mint --keyring FILE "
                "--tenant UUID --user UUID [--roles R,...] [--ttl S] "
                "[--now UNIX] [--sid UUID]\n");
        return CCCTL_ERROR;
    }

    roles = ccctl_opt(&cmd, "roles") ? ccctl_opt(&cmd, "roles") : "user";
    if (cc_roles_parse(roles, strlen(roles), &s.roles) != 0) {
        fprintf(stderr, "ccctl: --roles takes global_admin, tenant_admin, "
                "operator, user, comma-separated\n");
        return CCCTL_ERROR;
    }

    if (ccctl_opt(&cmd, "sid") != NULL) {
        if (ccctl_uuid_opt(&cmd, "sid", s.sid) != 0) {
            fprintf(stderr, "ccctl: --sid must be a UUID\n");
            return CCCTL_ERROR;
        }
    } else if (cc_session_new_id(s.sid) != 0) {
        fprintf(stderr, "ccctl: no randomness\n");
        return CCCTL_ERROR;
    }
    s.iat = now;
    s.exp = now + ttl;

    if (ccctl_load_keyring(ccctl_opt(&cmd, "keyring"), &ring) != 0) {
        return CCCTL_ERROR;
    }
    err = cc_session_mint(&ring, &s, token, sizeof(token));
    cc_session_keyring_wipe(&ring);
    if (err != CC_SESSION_OK) {
        fprintf(stderr, "ccctl: cannot mint: %s\n", cc_session_strerror(err));
        return CCCTL_ERROR;
    }
    printf("%s\n", token);
    return CCCTL_OK;
}


static int
ccctl_session_verify(int argc, char **argv)
{
    static const char *const  known[] = { "keyring", "now", NULL };
    ccctl_cmdline_t        cmd;
    cc_session_keyring_t   ring;
    cc_session_t           s;
    cc_session_err_t       err;
    long long              now;
    char                  *token;
    size_t                 len;
    char                   sid[CC_UUID_STR_LEN + 1];
    char                   tenant[CC_UUID_STR_LEN + 1];
    char                   user[CC_UUID_STR_LEN + 1];
    char                   roles[CC_ROLES_STR_MAX];

    if (ccctl_parse(argc, argv, known, &cmd) != 0
        || ccctl_opt_ll(&cmd, "now", (long long) time(NULL), 0,
                        (1LL << 61), &now))
    {
        return CCCTL_ERROR;
    }
    if (ccctl_opt(&cmd, "keyring") == NULL || cmd.n_args != 1) {
        fprintf(stderr, "usage: ccctl session verify --keyring FILE "
                "[--now UNIX] TOKEN|-\n");
        return CCCTL_ERROR;
    }

    if (ccctl_load_keyring(ccctl_opt(&cmd, "keyring"), &ring) != 0) {
        return CCCTL_ERROR;
    }
    token = ccctl_read_token(cmd.args[0], 64 * 1024, &len);
    if (token == NULL) {
        cc_session_keyring_wipe(&ring);
        return CCCTL_ERROR;
    }
    err = cc_session_verify(&ring, token, len, now, &s);
    cc_session_keyring_wipe(&ring);
    free(token);

    if (err != CC_SESSION_OK) {
        ccctl_print_json(json_pack("{s:s,s:s}", "result", "rejected",
                                   "error", cc_session_strerror(err)));
        return CCCTL_REJECTED;
    }

    cc_uuid_format(s.sid, sid);
    cc_uuid_format(s.tenant, tenant);
    cc_uuid_format(s.user, user);
    cc_roles_format(s.roles, roles);
    ccctl_print_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I}",
                               "result", "verified", "kid", s.kid,
                               "sid", sid, "tenant", tenant, "user", user,
                               "roles", roles, "iat", (json_int_t) s.iat,
                               "exp", (json_int_t) s.exp));
    return CCCTL_OK;
}


static int
ccctl_load_keyring(const char *path, cc_session_keyring_t *ring)
{
    cc_session_err_t   err;
    char              *text;
    size_t             len;

    cc_session_keyring_init(ring);

    /* Keys come from a local file, never over the network. */
    if (strstr(path, "://") != NULL) {
        fprintf(stderr, "ccctl: --keyring must be a file\n");
        return -1;
    }
    text = ccctl_read_source(path, CCCTL_KEYRING_MAX, &len);
    if (text == NULL) {
        return -1;
    }
    err = cc_session_keyring_load(ring, text, len);
    OPENSSL_cleanse(text, len);
    free(text);
    if (err != CC_SESSION_OK) {
        fprintf(stderr, "ccctl: %s: keyring refused: %s\n", path,
                cc_session_strerror(err));
        return -1;
    }
    return 0;
}


static int
ccctl_uuid_opt(const ccctl_cmdline_t *cmd, const char *name,
    unsigned char out[CC_UUID_LEN])
{
    const char  *s;

    s = ccctl_opt(cmd, name);
    return s != NULL && cc_uuid_parse(s, strlen(s), out) == 0 ? 0 : -1;
}
