/*
 * The small pieces under JOSE and sessions: algorithm names, the rejection
 * strings (stable, short, content-free), UUID normalisation, SHA-256 for
 * the token cache, HMAC-SHA256 and its constant-time check, role names.
 */

#include <ctype.h>
#include <string.h>

#include "tap.h"
#include "cc_hash.h"
#include "cc_jose.h"
#include "cc_mac.h"
#include "cc_roles.h"
#include "cc_session.h"
#include "cc_uuid.h"


static void
test_alg_names(void)
{
    static const struct {
        const char     *name;
        size_t          len;
        cc_jose_alg_t   want;
    } cases[] = {
        { "RS256", 5, CC_JOSE_ALG_RS256 },
        { "PS256", 5, CC_JOSE_ALG_PS256 },
        { "ES256", 5, CC_JOSE_ALG_ES256 },
        { "EdDSA", 5, CC_JOSE_ALG_EDDSA },
        { "none",  4, CC_JOSE_ALG_UNKNOWN },
        { "None",  4, CC_JOSE_ALG_UNKNOWN },
        { "NONE",  4, CC_JOSE_ALG_UNKNOWN },
        { "HS256", 5, CC_JOSE_ALG_UNKNOWN },
        { "rs256", 5, CC_JOSE_ALG_UNKNOWN },
        { "RS384", 5, CC_JOSE_ALG_UNKNOWN },
        { "ES256K", 6, CC_JOSE_ALG_UNKNOWN },
        { "EDDSA", 5, CC_JOSE_ALG_UNKNOWN },
        { "RS256\0", 6, CC_JOSE_ALG_UNKNOWN },
        { "RS25", 4, CC_JOSE_ALG_UNKNOWN },
        { "", 0, CC_JOSE_ALG_UNKNOWN },
    };
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        is_int(cc_jose_alg_from_name(cases[i].name, cases[i].len),
               cases[i].want, "alg name '%.*s' (%zu bytes) maps as expected",
               (int) cases[i].len, cases[i].name, cases[i].len);
    }
    is_str(cc_jose_alg_name(CC_JOSE_ALG_EDDSA), "EdDSA", "EdDSA name");
    is_str(cc_jose_alg_name(CC_JOSE_ALG_UNKNOWN), "unknown", "unknown name");
}


/* Every code has its own string of [a-z_]; none is reused. */
static int
strings_are_clean(const char *(*strerror_fn)(int), int last)
{
    const char  *s, *t;
    int          i, j;
    size_t       k;

    for (i = 0; i < last; i++) {
        s = strerror_fn(i);
        if (s == NULL || strcmp(s, "unknown_error") == 0 || s[0] == '\0'
            || strlen(s) > 32)
        {
            diag("code %d has no proper string", i);
            return 0;
        }
        for (k = 0; s[k] != '\0'; k++) {
            if (!(islower((unsigned char) s[k])
                  || isdigit((unsigned char) s[k]) || s[k] == '_'))
            {
                diag("code %d string '%s' has odd characters", i, s);
                return 0;
            }
        }
        for (j = 0; j < i; j++) {
            t = strerror_fn(j);
            if (strcmp(s, t) == 0) {
                diag("codes %d and %d share '%s'", i, j, s);
                return 0;
            }
        }
    }
    return 1;
}


static const char *
jose_str(int e)
{
    return cc_jose_strerror((cc_jose_err_t) e);
}


static const char *
session_str(int e)
{
    return cc_session_strerror((cc_session_err_t) e);
}


static void
test_error_strings(void)
{
    ok(strings_are_clean(jose_str, CC_JOSE_ERR_LAST),
       "every JOSE error code has a unique [a-z0-9_] string");
    ok(strings_are_clean(session_str, CC_SESSION_ERR_LAST),
       "every session error code has a unique [a-z0-9_] string");
    is_str(cc_jose_strerror(CC_JOSE_ERR_TOKEN_TOO_LARGE), "token_too_large",
           "token_too_large is spelled as documented");
    is_str(cc_jose_strerror(CC_JOSE_ERR_UNKNOWN_KID), "unknown_kid",
           "unknown_kid is spelled as documented");
    is_str(cc_jose_strerror(CC_JOSE_ERR_LAST), "unknown_error",
           "out-of-range JOSE code is unknown_error");
    is_str(cc_jose_strerror((cc_jose_err_t) -1), "unknown_error",
           "negative JOSE code is unknown_error");
    is_str(cc_session_strerror(CC_SESSION_ERR_LAST), "unknown_error",
           "out-of-range session code is unknown_error");
}


static void
test_uuid(void)
{
    static const struct {
        const char  *in;
        const char  *want;     /* NULL: refused */
    } cases[] = {
        { "72f988bf-86f1-41af-91ab-2d7cd011db47",
          "72f988bf-86f1-41af-91ab-2d7cd011db47" },
        { "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
          "72f988bf-86f1-41af-91ab-2d7cd011db47" },
        { "{72f988bf-86f1-41af-91ab-2d7cd011db47}", NULL },
        { "72f988bf86f141af91ab2d7cd011db47", NULL },
        { "72f988bf-86f1-41af-91ab-2d7cd011db4", NULL },
        { "72f988bf-86f1-41af-91ab-2d7cd011db477", NULL },
        { "72f988bf-86f1-41af-91ab_2d7cd011db47", NULL },
        { "72f988bf-86f1-41af-91ag-2d7cd011db47", NULL },
        { " 2f988bf-86f1-41af-91ab-2d7cd011db47", NULL },
        { "72f988bf-86f1-41af-91ab-2d7cd011db4\n", NULL },
        { "common", NULL },
        { "", NULL },
    };
    char    out[CC_UUID_STR_LEN + 1];
    size_t  i;
    int     rc;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = cc_uuid_normalise(cases[i].in, strlen(cases[i].in), out);
        if (cases[i].want == NULL) {
            is_int(rc, -1, "uuid case %zu refused", i);
        } else {
            ok(rc == 0 && strcmp(out, cases[i].want) == 0,
               "uuid case %zu normalised to lower case", i);
        }
    }
}


static void
test_sha256(void)
{
    char  hex[CC_SHA256_HEX_LEN + 1];

    cc_sha256_hex("abc", 3, hex);
    is_str(hex,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
           "SHA-256 of abc (FIPS 180-2 example)");
    cc_sha256_hex("", 0, hex);
    is_str(hex,
           "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
           "SHA-256 of the empty string");
}


static void
test_hmac(void)
{
    /* RFC 4231 test case 2 */
    static const unsigned char  want[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43
    };
    const unsigned char  *key = (const unsigned char *) "Jefe";
    const unsigned char  *msg =
        (const unsigned char *) "what do ya want for nothing?";
    unsigned char         mac[32], bad[32];
    size_t                mlen;

    mlen = strlen((const char *) msg);
    ok(cc_hmac_sha256(key, 4, msg, mlen, mac) == 0
       && memcmp(mac, want, 32) == 0, "HMAC-SHA256 RFC 4231 case 2");

    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, want, 32, 32), 0,
           "full tag verifies");
    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, want, 16, 32), -1,
           "a truncated tag is refused when the policy is 32 bytes");
    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, want, 16, 16), 0,
           "a 16-byte tag verifies when the policy is 16 bytes");
    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, want, 8, 8), -1,
           "a policy under 16 bytes is refused outright");
    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, want, 0, 0), -1,
           "an empty tag never verifies");

    memcpy(bad, want, 32);
    bad[31] ^= 0x01;
    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, bad, 32, 32), -1,
           "last-bit flip is refused");
    memcpy(bad, want, 32);
    bad[0] ^= 0x80;
    is_int(cc_hmac_sha256_verify(key, 4, msg, mlen, bad, 32, 32), -1,
           "first-bit flip is refused");
    is_int(cc_hmac_sha256_verify(key, 3, msg, mlen, want, 32, 32), -1,
           "another key is refused");

    ok(cc_ct_equal("abc", "abc", 3) && !cc_ct_equal("abc", "abd", 3),
       "constant-time compare tells equal from different");
}


static void
test_roles(void)
{
    char      out[CC_ROLES_STR_MAX];
    uint32_t  roles;

    cc_roles_format(CC_ROLE_ALL, out);
    is_str(out, "global_admin,tenant_admin,operator,user",
           "all roles format in fixed order");
    cc_roles_format(0, out);
    is_str(out, "", "no roles format as empty");
    cc_roles_format(0x100 | CC_ROLE_OPERATOR, out);
    is_str(out, "operator", "unknown bits are ignored when formatting");

    ok(cc_roles_parse("operator,tenant_admin", 21, &roles) == 0
       && roles == (CC_ROLE_OPERATOR | CC_ROLE_TENANT_ADMIN),
       "role list parses to its mask");
    ok(cc_roles_parse("", 0, &roles) == 0 && roles == 0,
       "empty role list is no roles");
    is_int(cc_roles_parse("operator,", 9, &roles), -1,
           "trailing comma is refused");
    is_int(cc_roles_parse("root", 4, &roles), -1, "unknown role is refused");
    is_int(cc_roles_parse("Operator", 8, &roles), -1,
           "role names are case-sensitive");
    is_int(cc_roles_parse("operator, user", 14, &roles), -1,
           "spaces are refused");
}


int
main(void)
{
    test_alg_names();
    test_error_strings();
    test_uuid();
    test_sha256();
    test_hmac();
    test_roles();
    return done_testing();
}
