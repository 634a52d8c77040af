/*
 * cc_session: a minted session token verifies under the same keyring and
 * yields what was minted; rotation keeps old sessions valid; every
 * tampering, shape error, unknown key and expiry is refused with its own
 * reason; keyring files load strictly.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_base64.h"
#include "cc_session.h"


#define NOW  1795000000LL


static const unsigned char  key_a[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char  key_b[48] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv";


static cc_session_t
sample_session(void)
{
    cc_session_t  s;
    size_t        i;

    memset(&s, 0, sizeof(s));
    for (i = 0; i < CC_UUID_LEN; i++) {
        s.sid[i] = (unsigned char) (0xa0 + i);
        s.tenant[i] = (unsigned char) (0x10 + i);
        s.user[i] = (unsigned char) (0x30 + i);
    }
    s.roles = CC_ROLE_TENANT_ADMIN | CC_ROLE_OPERATOR;
    s.iat = NOW;
    s.exp = NOW + 3600;
    return s;
}


static void
ring_with(cc_session_keyring_t *ring, const char *active_kid)
{
    cc_session_keyring_init(ring);
    cc_session_keyring_add(ring, "k1", key_a, sizeof(key_a),
                           strcmp(active_kid, "k1") == 0);
    cc_session_keyring_add(ring, "k2", key_b, sizeof(key_b),
                           strcmp(active_kid, "k2") == 0);
}


static void
test_round_trip(void)
{
    cc_session_keyring_t  ring;
    cc_session_t          s, got;
    cc_session_err_t      err;
    char                  token[CC_SESSION_TOKEN_MAX + 1];
    char                  tenant[CC_UUID_STR_LEN + 1];

    ring_with(&ring, "k2");
    s = sample_session();
    err = cc_session_mint(&ring, &s, token, sizeof(token));
    is_str(cc_session_strerror(err), "ok", "mint succeeds");
    is_str(s.kid, "k2", "mint records the active kid");
    ok(strncmp(token, "v1.k2.", 6) == 0, "token starts with version and kid");
    ok(strlen(token) < 200, "token is compact (%zu bytes)", strlen(token));
    ok(strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-_.") == strlen(token),
       "token is cookie-safe");

    err = cc_session_verify(&ring, token, strlen(token), NOW + 10, &got);
    is_str(cc_session_strerror(err), "ok", "minted token verifies");
    ok(memcmp(got.sid, s.sid, 16) == 0 && memcmp(got.tenant, s.tenant, 16) == 0
       && memcmp(got.user, s.user, 16) == 0, "ids survive the round trip");
    is_int(got.roles, CC_ROLE_TENANT_ADMIN | CC_ROLE_OPERATOR, "roles survive");
    is_int(got.iat, NOW, "iat survives");
    is_int(got.exp, NOW + 3600, "exp survives");
    is_str(got.kid, "k2", "verify reports the kid");
    cc_uuid_format(got.tenant, tenant);
    is_str(tenant, "10111213-1415-1617-1819-1a1b1c1d1e1f",
           "tenant formats as a UUID");

    is_str(cc_session_strerror(cc_session_verify(&ring, token, strlen(token),
                                                 NOW + 3599, &got)),
           "ok", "valid one second before exp");
    is_str(cc_session_strerror(cc_session_verify(&ring, token, strlen(token),
                                                 NOW + 3600, &got)),
           "session_expired", "expired at exp");
    ok(got.roles == 0 && got.exp == 0, "an expired session yields nothing");
    is_str(cc_session_strerror(cc_session_verify(&ring, token, strlen(token),
                                                 NOW - 60, &got)),
           "ok", "iat up to 60 s ahead of our clock is tolerated");
    is_str(cc_session_strerror(cc_session_verify(&ring, token, strlen(token),
                                                 NOW - 61, &got)),
           "session_not_yet_valid", "iat further ahead is refused");
    is_str(cc_session_strerror(cc_session_verify(&ring, token, strlen(token),
                                                 -1, &got)),
           "invalid_argument", "negative clock is refused");
    cc_session_keyring_wipe(&ring);
}


static void
test_rotation(void)
{
    cc_session_keyring_t  old_ring, new_ring, next_ring;
    cc_session_t          s, got;
    char                  token[CC_SESSION_TOKEN_MAX + 1];

    /* Minted while k1 was active. */
    cc_session_keyring_init(&old_ring);
    cc_session_keyring_add(&old_ring, "k1", key_a, sizeof(key_a), 1);
    s = sample_session();
    cc_session_mint(&old_ring, &s, token, sizeof(token));

    ring_with(&new_ring, "k2");
    is_str(cc_session_strerror(cc_session_verify(&new_ring, token,
                                                 strlen(token), NOW, &got)),
           "ok", "old key still verifies after k2 became active");
    is_str(got.kid, "k1", "verify says which key it used");

    cc_session_keyring_init(&next_ring);
    cc_session_keyring_add(&next_ring, "k2", key_b, sizeof(key_b), 1);
    is_str(cc_session_strerror(cc_session_verify(&next_ring, token,
                                                 strlen(token), NOW, &got)),
           "session_unknown_key", "once k1 is dropped its sessions fail");

    /* Same kid, different key bytes: the MAC fails. */
    cc_session_keyring_init(&next_ring);
    cc_session_keyring_add(&next_ring, "k1", key_b, 32, 1);
    is_str(cc_session_strerror(cc_session_verify(&next_ring, token,
                                                 strlen(token), NOW, &got)),
           "session_bad_mac", "a kid reused with another key fails the MAC");

    cc_session_keyring_wipe(&old_ring);
    cc_session_keyring_wipe(&new_ring);
    cc_session_keyring_wipe(&next_ring);
}


typedef struct {
    const char        *name;
    int                at;          /* index to change; -1: see edit */
    char               to;
    const char        *edit;        /* replacement token, "%s" = original */
    cc_session_err_t   want;
} tamper_t;


static void
test_tampering(void)
{
    static const tamper_t  cases[] = {
        { "flipped body character", 20, 0, NULL, CC_SESSION_ERR_BAD_MAC },
        { "flipped tag character", -2, 0, NULL, CC_SESSION_ERR_BAD_MAC },
        { "flipped version", 1, '2', NULL, CC_SESSION_ERR_BAD_VERSION },
        { "kid changed to the other key", 4, '1', NULL,
          CC_SESSION_ERR_BAD_MAC },
        { "kid changed to an unknown key", 4, '9', NULL,
          CC_SESSION_ERR_UNKNOWN_KEY },
        { "dot in kid position", 4, '.', NULL, CC_SESSION_ERR_MALFORMED },
        { "plus in body", 30, '+', NULL, CC_SESSION_ERR_MALFORMED },
        { "non-canonical last body character", -3, 0, NULL,
          CC_SESSION_ERR_MALFORMED },
        { "truncated by one", -1, 0, "trunc1", CC_SESSION_ERR_MALFORMED },
        { "extra character", -1, 0, "append", CC_SESSION_ERR_MALFORMED },
        { "padding appended", -1, 0, "pad", CC_SESSION_ERR_MALFORMED },
        { "empty", -1, 0, "empty", CC_SESSION_ERR_BAD_VERSION },
        { "a JWT instead", -1, 0, "jwt", CC_SESSION_ERR_BAD_VERSION },
        { "only the prefix", -1, 0, "prefix", CC_SESSION_ERR_MALFORMED },
        { "oversized", -1, 0, "huge", CC_SESSION_ERR_TOO_LARGE },
    };
    cc_session_keyring_t  ring;
    cc_session_t          s, got;
    char                  token[CC_SESSION_TOKEN_MAX + 1];
    char                  t[2 * CC_SESSION_TOKEN_MAX];
    size_t                i, n, body_end;

    ring_with(&ring, "k2");
    s = sample_session();
    cc_session_mint(&ring, &s, token, sizeof(token));
    n = strlen(token);
    body_end = (size_t) (strrchr(token, '.') - token);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(t, token, n + 1);

        if (cases[i].edit == NULL) {
            if (cases[i].at == -2) {
                t[n - 5] = t[n - 5] == 'A' ? 'B' : 'A';
            } else if (cases[i].at == -3) {
                /* 68 bytes = 91 characters: the last carries 2 unused
                 * bits; 'B' (1) sets one. */
                t[body_end - 1] = 'B';
            } else if (cases[i].to == 0) {
                t[cases[i].at] = t[cases[i].at] == 'A' ? 'B' : 'A';
            } else {
                t[cases[i].at] = cases[i].to;
            }
        } else if (strcmp(cases[i].edit, "trunc1") == 0) {
            t[n - 1] = '\0';
        } else if (strcmp(cases[i].edit, "append") == 0) {
            strcat(t, "A");
        } else if (strcmp(cases[i].edit, "pad") == 0) {
            strcat(t, "=");
        } else if (strcmp(cases[i].edit, "empty") == 0) {
            t[0] = '\0';
        } else if (strcmp(cases[i].edit, "jwt") == 0) {
            strcpy(t, "eyJhbGciOiJub25lIn0.e30.");
        } else if (strcmp(cases[i].edit, "prefix") == 0) {
            strcpy(t, "v1.");
        } else if (strcmp(cases[i].edit, "huge") == 0) {
            memset(t, 'A', CC_SESSION_TOKEN_MAX + 1);
            t[CC_SESSION_TOKEN_MAX + 1] = '\0';
        }

        is_str(cc_session_strerror(cc_session_verify(&ring, t, strlen(t),
                                                     NOW, &got)),
               cc_session_strerror(cases[i].want), "%s", cases[i].name);
    }

    /* A body whose MAC is right but whose content the minter would never
     * write (unknown role bits) is still refused. */
    {
        cc_session_keyring_t  r;
        cc_session_t          bad = sample_session();

        cc_session_keyring_init(&r);
        cc_session_keyring_add(&r, "k1", key_a, sizeof(key_a), 1);
        bad.roles = 0x100;
        is_str(cc_session_strerror(cc_session_mint(&r, &bad, t, sizeof(t))),
               "invalid_argument", "mint refuses unknown role bits");
        bad = sample_session();
        bad.exp = bad.iat;
        is_str(cc_session_strerror(cc_session_mint(&r, &bad, t, sizeof(t))),
               "invalid_argument", "mint refuses exp <= iat");
        bad = sample_session();
        is_str(cc_session_strerror(cc_session_mint(&r, &bad, t, 100)),
               "invalid_argument", "mint refuses a short output buffer");
        cc_session_keyring_wipe(&r);
    }
    cc_session_keyring_wipe(&ring);
}


static void
test_keyring(void)
{
    cc_session_keyring_t  ring;
    cc_session_t          s;
    char                  text[512], enc_a[64], enc_b[80], token[300];
    size_t                i;

    cc_base64url_encode(key_a, sizeof(key_a), enc_a);
    cc_base64url_encode(key_b, sizeof(key_b), enc_b);

    snprintf(text, sizeof(text),
             "# session keys\r\n\nold %s\r\nnew\t%s  active\n", enc_a, enc_b);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "ok", "keyring file with comment, CRLF and tabs loads");
    is_int(ring.count, 2, "two keys loaded");
    ok(ring.has_active && strcmp(ring.keys[ring.active].kid, "new") == 0,
       "the key marked active is active");
    s = sample_session();
    cc_session_mint(&ring, &s, token, sizeof(token));
    is_str(s.kid, "new", "minting uses the active key");

    cc_session_keyring_wipe(&ring);
    for (i = 0; i < sizeof(ring); i++) {
        if (((unsigned char *) &ring)[i] != 0) {
            break;
        }
    }
    is_int(i, sizeof(ring), "wipe leaves no key byte behind");

    snprintf(text, sizeof(text), "a %s active\nb %s active\n", enc_a, enc_b);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "invalid_argument", "two active keys are refused");
    is_int(ring.count, 0, "a failed load leaves an empty ring");

    snprintf(text, sizeof(text), "a %s\na %s\n", enc_a, enc_b);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "keyring_duplicate_kid", "duplicate kid is refused");

    snprintf(text, sizeof(text), "a %.20s\n", enc_a);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "keyring_bad_key", "a key under 32 bytes is refused");

    snprintf(text, sizeof(text), "a %s=\n", enc_a);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "keyring_bad_key", "a padded key is refused");

    snprintf(text, sizeof(text), "a.b %s\n", enc_a);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "keyring_bad_key", "a kid with a dot is refused");

    snprintf(text, sizeof(text), "a %s current\n", enc_a);
    is_str(cc_session_strerror(cc_session_keyring_load(&ring, text,
                                                       strlen(text))),
           "keyring_bad_key", "an unknown third word is refused");

    snprintf(text, sizeof(text), "a %s\n", enc_a);
    cc_session_keyring_load(&ring, text, strlen(text));
    s = sample_session();
    is_str(cc_session_strerror(cc_session_mint(&ring, &s, token,
                                               sizeof(token))),
           "keyring_no_active_key", "a verify-only ring cannot mint");

    cc_session_keyring_init(&ring);
    for (i = 0; i < CC_SESSION_MAX_KEYS; i++) {
        char  kid[8];

        snprintf(kid, sizeof(kid), "k%zu", i);
        cc_session_keyring_add(&ring, kid, key_a, sizeof(key_a), 0);
    }
    is_str(cc_session_strerror(cc_session_keyring_add(&ring, "more", key_a,
                                                      sizeof(key_a), 0)),
           "keyring_full", "the ring is bounded");
    cc_session_keyring_wipe(&ring);
}


static void
test_new_id(void)
{
    unsigned char  a[16], b[16];

    ok(cc_session_new_id(a) == 0 && cc_session_new_id(b) == 0
       && memcmp(a, b, 16) != 0, "two new session ids differ");
}


int
main(void)
{
    test_round_trip();
    test_rotation();
    test_tampering();
    test_keyring();
    test_new_id();
    return done_testing();
}
