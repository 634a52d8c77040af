/*
 * ccctl end to end: a JWKS built from a PEM key, a token signed and then
 * verified (exit 0 with the claims), refused (exit 1 with the reason and
 * nothing of the token), usage errors (exit 2); session keygen, mint and
 * verify.  ccctl is found beside the test binaries ($BUILD/ccctl) or in
 * $CCCTL; if it has not been built the whole file is skipped.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tap.h"


#define TID  "72f988bf-86f1-41af-91ab-2d7cd011db47"
#define NOW  "1795000000"

static char  ccctl[4096];
static char  dir[64];
static char  out[65536];


/* Runs a shell command line (ccctl is $C, the temp dir $D), keeps stdout
 * and stderr together in out, returns the exit status. */
static int
run(const char *fmt, const char *arg)
{
    char    cmd[16384], line[8192];
    FILE   *p;
    size_t  n;
    int     status;

    snprintf(line, sizeof(line), fmt, arg ? arg : "");
    snprintf(cmd, sizeof(cmd), "C='%s'; D='%s'; %s 2>&1", ccctl, dir, line);
    p = popen(cmd, "r");
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


static int
find_ccctl(const char *argv0)
{
    const char  *env;
    char        *slash;

    env = getenv("CCCTL");
    if (env != NULL) {
        snprintf(ccctl, sizeof(ccctl), "%s", env);
    } else {
        snprintf(ccctl, sizeof(ccctl), "%s", argv0);
        slash = strrchr(ccctl, '/');
        if (slash == NULL) {
            return 0;
        }
        snprintf(slash, sizeof(ccctl) - (size_t) (slash - ccctl),
                 "/../../ccctl");
    }
    return access(ccctl, X_OK) == 0;
}


static void
write_key(void)
{
    EVP_PKEY  *pkey;
    FILE      *f;
    char       path[128];

    pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048);
    snprintf(path, sizeof(path), "%s/rsa.pem", dir);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    EVP_PKEY_free(pkey);
}


static void
test_jwt(void)
{
    char  token[4096], *sig;

    is_int(run("$C jwks from-pem r1=$D/rsa.pem > $D/jwks.json", NULL), 0,
           "jwks from-pem builds a JWKS");
    is_int(run("$C jwks show --jwks $D/jwks.json", NULL), 0,
           "jwks show reads it back");
    ok(strstr(out, "\"loaded\": 1") != NULL, "one key loaded");

    is_int(run("$C jwt sign --key $D/rsa.pem --kid r1 '{\"aud\":\"app\","
               "\"tid\":\"" TID "\",\"iss\":\"https://sts.windows.net/" TID
               "/\",\"exp\":1795003600,\"name\":\"Ada\"}' > $D/token", NULL),
           0, "jwt sign signs claims");
    is_int(run("cat $D/token", NULL), 0, "token written");
    snprintf(token, sizeof(token), "%.4000s", out);
    token[strcspn(token, "\n")] = '\0';
    sig = strrchr(token, '.');
    ok(sig != NULL && strlen(sig) > 300, "token has an RS256 signature");

    is_int(run("$C jwt verify --jwks $D/jwks.json --audience app --now " NOW
               " - < $D/token", NULL), 0, "jwt verify accepts it");
    ok(strstr(out, "\"result\": \"verified\"") != NULL
       && strstr(out, "\"tid\": \"" TID "\"") != NULL
       && strstr(out, "\"name\": \"Ada\"") != NULL,
       "verified claims printed as JSON");

    is_int(run("$C jwt verify --jwks $D/jwks.json --audience other --now "
               NOW " $(cat $D/token)", NULL), 1,
           "wrong audience exits 1");
    ok(strstr(out, "\"error\": \"bad_audience\"") != NULL,
       "the reason is bad_audience");
    ok(strstr(out, sig + 1) == NULL && strstr(out, "Ada") == NULL,
       "a rejection prints nothing of the token");

    is_int(run("$C jwt verify --jwks $D/jwks.json --audience app --now "
               NOW " \"$(cat $D/token)x\"", NULL), 1,
           "tampered token exits 1");
    ok(strstr(out, "\"error\": \"bad_base64\"") != NULL
       || strstr(out, "\"error\": \"bad_signature\"") != NULL,
       "the reason names the signature segment");

    is_int(run("$C jwt verify --jwks $D/jwks.json --audience app "
               "--now 1795003700 - < $D/token", NULL), 1,
           "expired token exits 1");
    ok(strstr(out, "\"error\": \"expired\"") != NULL, "the reason is expired");

    is_int(run("$C jwt verify --jwks $D/jwks.json - < $D/token", NULL), 2,
           "missing --audience is a usage error");
    is_int(run("$C jwt verify --jwks $D/nope.json --audience app x", NULL), 2,
           "missing JWKS file is an input error");
    is_int(run("$C jwt verify --jwks $D/jwks.json --audience app --bogus 1 x",
               NULL), 2, "unknown option is a usage error");
}


static void
test_session(void)
{
    is_int(run("$C session keygen --kid s1 > $D/ring", NULL), 0,
           "session keygen writes a keyring line");
    is_int(run("$C session mint --keyring $D/ring --tenant " TID
               " --user 11111111-2222-3333-4444-555555555555 --roles "
               "operator --now " NOW " > $D/session", NULL), 0,
           "session mint mints");
    is_int(run("$C session verify --keyring $D/ring --now 1795000001 "
               "- < $D/session", NULL), 0, "session verify accepts it");
    ok(strstr(out, "\"roles\": \"operator\"") != NULL
       && strstr(out, "\"tenant\": \"" TID "\"") != NULL,
       "session content printed");
    is_int(run("$C session verify --keyring $D/ring --now 1795003600 "
               "- < $D/session", NULL), 1, "expired session exits 1");
    ok(strstr(out, "session_expired") != NULL, "the reason is session_expired");
    is_int(run("$C session mint --keyring $D/ring --tenant nope --user "
               "11111111-2222-3333-4444-555555555555", NULL), 2,
           "a tenant that is not a UUID is a usage error");
}


int
main(int argc, char **argv)
{
    if (!find_ccctl(argv[0])) {
        printf("1..0 # SKIP ccctl not built (make ccctl, or set CCCTL)\n");
        return 0;
    }

    snprintf(dir, sizeof(dir), "/tmp/cc-ccctl-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        printf("1..0 # SKIP no temporary directory\n");
        return 0;
    }
    write_key();

    is_int(run("$C --help", NULL), 0, "ccctl --help exits 0");
    ok(strstr(out, "ccctl jwt verify") != NULL, "help lists jwt verify");

    test_jwt();
    test_session();

    run("rm -rf $D", NULL);
    return done_testing();
}
