/*
 * Our own session token, the value of the SPA's session cookie: who the
 * user is (session id, tenant, user, roles) and until when, authenticated
 * with HMAC-SHA256 under a key chosen by key id from a rotating keyring.
 *
 * Wire form (ASCII, cookie-safe, about 155 bytes):
 *
 *     v1.<kid>.<base64url(body)>.<base64url(tag)>
 *
 *     body = sid[16] tenant[16] user[16] roles[4] iat[8] exp[8]
 *            (integers big-endian, 68 bytes, 91 characters)
 *     tag  = HMAC-SHA256(key[kid], everything before the last ".")
 *
 * Why a MAC and not AES-GCM: the token holds no secret and no personal
 * data (random session id, tenant and user UUIDs, a role mask), so
 * integrity is all it needs; HMAC has no nonce to manage across nginx
 * nodes (a repeated GCM nonce under one key breaks both confidentiality
 * and authenticity), and operators can read a cookie with ccctl without
 * holding a decryption key.  The session id is what the registry revokes.
 */

#ifndef CC_SESSION_H
#define CC_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "cc_roles.h"
#include "cc_uuid.h"

#define CC_SESSION_VERSION     "v1"
#define CC_SESSION_KID_MAX     16      /* [A-Za-z0-9_-], at least 1 */
#define CC_SESSION_KEY_MIN     32      /* bytes of HMAC key */
#define CC_SESSION_KEY_MAX     64
#define CC_SESSION_MAX_KEYS    8
#define CC_SESSION_TOKEN_MAX   256     /* longer input is refused unread */
#define CC_SESSION_SKEW        60      /* seconds an iat may be ahead of us */

typedef enum {
    CC_SESSION_OK = 0,
    CC_SESSION_ERR_INTERNAL,
    CC_SESSION_ERR_INVALID_ARGUMENT,
    CC_SESSION_ERR_TOO_LARGE,
    CC_SESSION_ERR_MALFORMED,
    CC_SESSION_ERR_BAD_VERSION,
    CC_SESSION_ERR_UNKNOWN_KEY,
    CC_SESSION_ERR_BAD_MAC,
    CC_SESSION_ERR_EXPIRED,
    CC_SESSION_ERR_NOT_YET_VALID,
    CC_SESSION_ERR_KEYRING_FULL,
    CC_SESSION_ERR_DUPLICATE_KID,
    CC_SESSION_ERR_BAD_KEY,
    CC_SESSION_ERR_NO_ACTIVE_KEY,
    CC_SESSION_ERR_LAST
} cc_session_err_t;

/* One key; the keyring owns its bytes and wipes them. */
typedef struct {
    char           kid[CC_SESSION_KID_MAX + 1];
    unsigned char  key[CC_SESSION_KEY_MAX];
    size_t         keylen;
} cc_session_key_t;

/*
 * Keys by id, one of them active for minting; all of them verify, which
 * is what makes rotation work: add the new key, make it active, drop the
 * old one once its sessions have expired.  Fixed size, no allocation: it
 * can live in a configuration struct.  Read-only use is thread-safe.
 */
typedef struct {
    cc_session_key_t  keys[CC_SESSION_MAX_KEYS];
    size_t            count;
    size_t            active;           /* index into keys */
    int               has_active;
} cc_session_keyring_t;

typedef struct {
    unsigned char  sid[CC_UUID_LEN];     /* random, 128 bits */
    unsigned char  tenant[CC_UUID_LEN];
    unsigned char  user[CC_UUID_LEN];
    uint32_t       roles;                /* CC_ROLE_* bits */
    long long      iat;                  /* Unix seconds */
    long long      exp;
    char           kid[CC_SESSION_KID_MAX + 1];   /* set by mint/verify */
} cc_session_t;

/* A stable short string ("session_expired"...), static, never NULL. */
const char *cc_session_strerror(cc_session_err_t err);

void cc_session_keyring_init(cc_session_keyring_t *ring);

/* Adds a copy of key (32..64 bytes) under kid; active makes it the
 * minting key. */
cc_session_err_t cc_session_keyring_add(cc_session_keyring_t *ring,
    const char *kid, const unsigned char *key, size_t keylen, int active);

/*
 * Loads a keyring file's text: one key per line, "KID BASE64URL-KEY", with
 * the word "active" after at most one of them; blank lines and lines
 * starting with "#" are ignored.  A second "active" is INVALID_ARGUMENT, a
 * malformed line BAD_KEY.  On error the ring is wiped.
 */
cc_session_err_t cc_session_keyring_load(cc_session_keyring_t *ring,
    const char *text, size_t len);

/* Overwrites every key byte (OPENSSL_cleanse) and empties the ring. */
void cc_session_keyring_wipe(cc_session_keyring_t *ring);

/* Fills sid with 128 random bits from OpenSSL's CSPRNG; 0 or -1. */
int cc_session_new_id(unsigned char sid[CC_UUID_LEN]);

/*
 * Writes the token for *session (iat < exp, roles within CC_ROLE_ALL)
 * under the active key into out[outsize] (NUL-terminated; outsize of
 * CC_SESSION_TOKEN_MAX + 1 always suffices) and sets session->kid.
 */
cc_session_err_t cc_session_mint(const cc_session_keyring_t *ring,
    cc_session_t *session, char *out, size_t outsize);

/*
 * Checks token[0..len) at time now: size, exact shape and canonical
 * base64url, known kid, MAC (constant-time), then iat/exp (valid while
 * iat <= now + CC_SESSION_SKEW and now < exp).  Only then is *session
 * filled; on error it is zeroed.  Revocation of session->sid is the
 * caller's business (the registry).
 */
cc_session_err_t cc_session_verify(const cc_session_keyring_t *ring,
    const char *token, size_t len, long long now, cc_session_t *session);

#endif /* CC_SESSION_H */
