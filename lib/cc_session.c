/*
 * Session tokens: the keyring, minting and strict verification.  Parsing
 * is by fixed positions and lengths, so there is exactly one accepted
 * spelling of every session.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "cc_base64.h"
#include "cc_mac.h"
#include "cc_session.h"


#define CC_SESSION_BODY_LEN     68
#define CC_SESSION_BODY_B64     91
#define CC_SESSION_TAG_B64      43
#define CC_SESSION_PREFIX       CC_SESSION_VERSION "."
#define CC_SESSION_PREFIX_LEN   (sizeof(CC_SESSION_PREFIX) - 1)
#define CC_SESSION_MAX_TIME     (1LL << 62)


static const char  *cc_session_errors[CC_SESSION_ERR_LAST] = {
    "ok",
    "internal_error",
    "invalid_argument",
    "session_too_large",
    "session_malformed",
    "session_bad_version",
    "session_unknown_key",
    "session_bad_mac",
    "session_expired",
    "session_not_yet_valid",
    "keyring_full",
    "keyring_duplicate_kid",
    "keyring_bad_key",
    "keyring_no_active_key",
};


static int cc_session_kid_is_valid(const char *kid, size_t len);
static const cc_session_key_t *cc_session_find_key(
    const cc_session_keyring_t *ring, const char *kid, size_t len);
static cc_session_err_t cc_session_load_line(cc_session_keyring_t *ring,
    const char *line, size_t len);
static size_t cc_session_next_field(const char *s, size_t len, size_t *at,
    const char **field);
static void cc_session_pack(const cc_session_t *s,
    unsigned char body[CC_SESSION_BODY_LEN]);
static cc_session_err_t cc_session_unpack(
    const unsigned char body[CC_SESSION_BODY_LEN], cc_session_t *s);
static void cc_session_put_u64(unsigned char *p, unsigned long long v);
static unsigned long long cc_session_get_u64(const unsigned char *p);


const char *
cc_session_strerror(cc_session_err_t err)
{
    if ((int) err < 0 || err >= CC_SESSION_ERR_LAST
        || cc_session_errors[err] == NULL)
    {
        return "unknown_error";
    }
    return cc_session_errors[err];
}


void
cc_session_keyring_init(cc_session_keyring_t *ring)
{
    memset(ring, 0, sizeof(*ring));
}


cc_session_err_t
cc_session_keyring_add(cc_session_keyring_t *ring, const char *kid,
    const unsigned char *key, size_t keylen, int active)
{
    cc_session_key_t  *k;
    size_t             kidlen;

    kidlen = kid ? strlen(kid) : 0;
    if (!cc_session_kid_is_valid(kid, kidlen) || key == NULL
        || keylen < CC_SESSION_KEY_MIN || keylen > CC_SESSION_KEY_MAX)
    {
        return CC_SESSION_ERR_BAD_KEY;
    }
    if (cc_session_find_key(ring, kid, kidlen) != NULL) {
        return CC_SESSION_ERR_DUPLICATE_KID;
    }
    if (ring->count == CC_SESSION_MAX_KEYS) {
        return CC_SESSION_ERR_KEYRING_FULL;
    }

    k = &ring->keys[ring->count];
    memcpy(k->kid, kid, kidlen + 1);
    memcpy(k->key, key, keylen);
    k->keylen = keylen;

    if (active) {
        ring->active = ring->count;
        ring->has_active = 1;
    }
    ring->count++;
    return CC_SESSION_OK;
}


cc_session_err_t
cc_session_keyring_load(cc_session_keyring_t *ring, const char *text,
    size_t len)
{
    cc_session_err_t  err;
    size_t            start, end;

    cc_session_keyring_wipe(ring);

    for (start = 0; start < len; start = end + 1) {
        end = start;
        while (end < len && text[end] != '\n') {
            end++;
        }
        err = cc_session_load_line(ring, text + start, end - start);
        if (err != CC_SESSION_OK) {
            cc_session_keyring_wipe(ring);
            return err;
        }
    }
    return CC_SESSION_OK;
}


void
cc_session_keyring_wipe(cc_session_keyring_t *ring)
{
    OPENSSL_cleanse(ring, sizeof(*ring));
    memset(ring, 0, sizeof(*ring));
}


int
cc_session_new_id(unsigned char sid[CC_UUID_LEN])
{
    if (RAND_bytes(sid, CC_UUID_LEN) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}


cc_session_err_t
cc_session_mint(const cc_session_keyring_t *ring, cc_session_t *session,
    char *out, size_t outsize)
{
    const cc_session_key_t  *key;
    unsigned char            body[CC_SESSION_BODY_LEN];
    unsigned char            tag[CC_HMAC_SHA256_LEN];
    char                     buf[CC_SESSION_TOKEN_MAX + 1];
    size_t                   n, kidlen;

    if (!ring->has_active) {
        return CC_SESSION_ERR_NO_ACTIVE_KEY;
    }
    if (session->iat < 0 || session->exp <= session->iat
        || session->exp >= CC_SESSION_MAX_TIME
        || (session->roles & ~CC_ROLE_ALL) != 0)
    {
        return CC_SESSION_ERR_INVALID_ARGUMENT;
    }

    key = &ring->keys[ring->active];
    kidlen = strlen(key->kid);

    memcpy(buf, CC_SESSION_PREFIX, CC_SESSION_PREFIX_LEN);
    n = CC_SESSION_PREFIX_LEN;
    memcpy(buf + n, key->kid, kidlen);
    n += kidlen;
    buf[n++] = '.';

    cc_session_pack(session, body);
    n += cc_base64url_encode(body, sizeof(body), buf + n);

    if (cc_hmac_sha256(key->key, key->keylen, (unsigned char *) buf, n, tag)
        != 0)
    {
        return CC_SESSION_ERR_INTERNAL;
    }
    buf[n++] = '.';
    n += cc_base64url_encode(tag, sizeof(tag), buf + n);

    if (n + 1 > outsize) {
        return CC_SESSION_ERR_INVALID_ARGUMENT;
    }
    memcpy(out, buf, n + 1);
    memcpy(session->kid, key->kid, kidlen + 1);
    return CC_SESSION_OK;
}


cc_session_err_t
cc_session_verify(const cc_session_keyring_t *ring, const char *token,
    size_t len, long long now, cc_session_t *session)
{
    const cc_session_key_t  *key;
    const char              *kid, *body64, *tag64;
    size_t                   kidlen, n;
    unsigned char            body[CC_SESSION_BODY_LEN + 3];
    unsigned char            tag[CC_HMAC_SHA256_LEN + 3];
    cc_session_err_t         err;

    memset(session, 0, sizeof(*session));

    if (now < 0 || now >= CC_SESSION_MAX_TIME) {
        return CC_SESSION_ERR_INVALID_ARGUMENT;
    }
    if (len > CC_SESSION_TOKEN_MAX) {
        return CC_SESSION_ERR_TOO_LARGE;
    }
    if (len < CC_SESSION_PREFIX_LEN
        || memcmp(token, CC_SESSION_PREFIX, CC_SESSION_PREFIX_LEN) != 0)
    {
        return CC_SESSION_ERR_BAD_VERSION;
    }

    /* v1.KID.BODY.TAG, with BODY and TAG of fixed length, so the kid is
     * whatever lies between the prefix and the body. */
    if (len < CC_SESSION_PREFIX_LEN + 1 + 1 + CC_SESSION_BODY_B64 + 1
              + CC_SESSION_TAG_B64)
    {
        return CC_SESSION_ERR_MALFORMED;
    }
    tag64 = token + len - CC_SESSION_TAG_B64;
    body64 = tag64 - 1 - CC_SESSION_BODY_B64;
    kid = token + CC_SESSION_PREFIX_LEN;
    kidlen = (size_t) (body64 - 1 - kid);

    if (tag64[-1] != '.' || body64[-1] != '.'
        || !cc_session_kid_is_valid(kid, kidlen)
        || cc_base64url_decode(body64, CC_SESSION_BODY_B64, body, &n) != 0
        || n != CC_SESSION_BODY_LEN
        || cc_base64url_decode(tag64, CC_SESSION_TAG_B64, tag, &n) != 0
        || n != CC_HMAC_SHA256_LEN)
    {
        return CC_SESSION_ERR_MALFORMED;
    }

    key = cc_session_find_key(ring, kid, kidlen);
    if (key == NULL) {
        return CC_SESSION_ERR_UNKNOWN_KEY;
    }
    if (cc_hmac_sha256_verify(key->key, key->keylen,
                              (const unsigned char *) token,
                              (size_t) (tag64 - 1 - token),
                              tag, CC_HMAC_SHA256_LEN, CC_HMAC_SHA256_LEN)
        != 0)
    {
        return CC_SESSION_ERR_BAD_MAC;
    }

    err = cc_session_unpack(body, session);
    if (err == CC_SESSION_OK && session->iat > now + CC_SESSION_SKEW) {
        err = CC_SESSION_ERR_NOT_YET_VALID;
    }
    if (err == CC_SESSION_OK && now >= session->exp) {
        err = CC_SESSION_ERR_EXPIRED;
    }
    if (err != CC_SESSION_OK) {
        memset(session, 0, sizeof(*session));
        return err;
    }

    memcpy(session->kid, kid, kidlen);
    session->kid[kidlen] = '\0';
    return CC_SESSION_OK;
}


static int
cc_session_kid_is_valid(const char *kid, size_t len)
{
    size_t  i;
    char    c;

    if (kid == NULL || len == 0 || len > CC_SESSION_KID_MAX) {
        return 0;
    }
    for (i = 0; i < len; i++) {
        c = kid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            return 0;
        }
    }
    return 1;
}


static const cc_session_key_t *
cc_session_find_key(const cc_session_keyring_t *ring, const char *kid,
    size_t len)
{
    size_t  i;

    for (i = 0; i < ring->count; i++) {
        if (strlen(ring->keys[i].kid) == len
            && memcmp(ring->keys[i].kid, kid, len) == 0)
        {
            return &ring->keys[i];
        }
    }
    return NULL;
}


/* "KID KEY [active]" */
static cc_session_err_t
cc_session_load_line(cc_session_keyring_t *ring, const char *line, size_t len)
{
    const char        *f[4];
    size_t             flen[4], at, nf, keylen;
    char               kid[CC_SESSION_KID_MAX + 1];
    unsigned char      key[CC_SESSION_KEY_MAX + 3];
    cc_session_err_t   err;
    int                active;

    at = 0;
    for (nf = 0; nf < 4; nf++) {
        flen[nf] = cc_session_next_field(line, len, &at, &f[nf]);
        if (flen[nf] == 0) {
            break;
        }
    }
    if (nf == 0 || f[0][0] == '#') {
        return CC_SESSION_OK;
    }

    active = nf == 3 && flen[2] == 6 && memcmp(f[2], "active", 6) == 0;
    if (nf < 2 || nf > 3 || (nf == 3 && !active)
        || !cc_session_kid_is_valid(f[0], flen[0])
        || cc_base64url_decoded_max(flen[1]) > sizeof(key))
    {
        return CC_SESSION_ERR_BAD_KEY;
    }
    if (active && ring->has_active) {
        return CC_SESSION_ERR_INVALID_ARGUMENT;
    }
    if (cc_base64url_decode(f[1], flen[1], key, &keylen) != 0) {
        return CC_SESSION_ERR_BAD_KEY;
    }

    memcpy(kid, f[0], flen[0]);
    kid[flen[0]] = '\0';
    err = cc_session_keyring_add(ring, kid, key, keylen, active);
    OPENSSL_cleanse(key, sizeof(key));
    return err;
}


/* The next run of non-blank characters from *at; its length, 0 at the
 * end.  A trailing "\r" counts as blank so CRLF files load. */
static size_t
cc_session_next_field(const char *s, size_t len, size_t *at,
    const char **field)
{
    size_t  i, start;

    i = *at;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r')) {
        i++;
    }
    start = i;
    while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
        i++;
    }
    *field = s + start;
    *at = i;
    return i - start;
}


static void
cc_session_pack(const cc_session_t *s, unsigned char body[CC_SESSION_BODY_LEN])
{
    memcpy(body, s->sid, CC_UUID_LEN);
    memcpy(body + 16, s->tenant, CC_UUID_LEN);
    memcpy(body + 32, s->user, CC_UUID_LEN);
    body[48] = (unsigned char) (s->roles >> 24);
    body[49] = (unsigned char) (s->roles >> 16);
    body[50] = (unsigned char) (s->roles >> 8);
    body[51] = (unsigned char) s->roles;
    cc_session_put_u64(body + 52, (unsigned long long) s->iat);
    cc_session_put_u64(body + 60, (unsigned long long) s->exp);
}


/* Only ever called on a body whose MAC is good; still refuses values the
 * minter would never write. */
static cc_session_err_t
cc_session_unpack(const unsigned char body[CC_SESSION_BODY_LEN],
    cc_session_t *s)
{
    unsigned long long  iat, exp;

    memcpy(s->sid, body, CC_UUID_LEN);
    memcpy(s->tenant, body + 16, CC_UUID_LEN);
    memcpy(s->user, body + 32, CC_UUID_LEN);
    s->roles = (uint32_t) body[48] << 24 | (uint32_t) body[49] << 16
               | (uint32_t) body[50] << 8 | body[51];
    iat = cc_session_get_u64(body + 52);
    exp = cc_session_get_u64(body + 60);

    if ((s->roles & ~CC_ROLE_ALL) != 0
        || exp >= (unsigned long long) CC_SESSION_MAX_TIME || iat >= exp)
    {
        return CC_SESSION_ERR_MALFORMED;
    }
    s->iat = (long long) iat;
    s->exp = (long long) exp;
    return CC_SESSION_OK;
}


static void
cc_session_put_u64(unsigned char *p, unsigned long long v)
{
    int  i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char) v;
        v >>= 8;
    }
}


static unsigned long long
cc_session_get_u64(const unsigned char *p)
{
    unsigned long long  v;
    int                 i;

    v = 0;
    for (i = 0; i < 8; i++) {
        v = v << 8 | p[i];
    }
    return v;
}
