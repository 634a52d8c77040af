/*
 * A JSON Web Key Set (an Entra jwks_uri document) parsed into an immutable
 * set of verification keys looked up by kid.
 */

#ifndef CC_JWKS_H
#define CC_JWKS_H

#include <stddef.h>

#include "cc_jose.h"
#include "cc_jwk.h"

#define CC_JWKS_DEFAULT_MAX_DOC   (256 * 1024)
#define CC_JWKS_DEFAULT_MAX_KEYS  64

typedef struct cc_jwks_s  cc_jwks_t;

/* Bounds on what a document may cost us; 0 in a field means its default. */
typedef struct {
    size_t  max_doc_len;    /* bytes of JSON */
    size_t  max_keys;       /* members of "keys", usable or not */
} cc_jwks_limits_t;

/*
 * What happened to each key, for ccctl and logs: keys that cannot be used
 * (another kty or curve, use "enc", too weak, malformed, no kid) are left
 * out of the set rather than failing it, as a new key type published by
 * the issuer must not lock everybody out; first_skip says why the first
 * one was left out.
 */
typedef struct {
    size_t         loaded;
    size_t         skipped;
    size_t         first_skip_index;   /* position in "keys" */
    cc_jose_err_t  first_skip;         /* CC_JOSE_OK if none skipped */
} cc_jwks_report_t;

/*
 * Parses doc[0..len) (it need not be NUL-terminated).  Whole-document
 * refusals: JWKS_TOO_LARGE (checked before parsing), BAD_JSON (also: no
 * "keys" array), DUPLICATE_KEY (a repeated JSON member name),
 * TOO_MANY_KEYS, DUPLICATE_KID (two usable keys with one kid: ambiguous),
 * NO_USABLE_KEYS, INTERNAL.  On CC_JOSE_OK *set owns everything and must
 * be released with cc_jwks_free; otherwise *set is NULL.  limits and
 * report may be NULL.  The set is never modified after parsing, so it can
 * be shared by threads; replace it whole on a JWKS refresh.
 */
cc_jose_err_t cc_jwks_parse(const char *doc, size_t len,
    const cc_jwks_limits_t *limits, cc_jwks_t **set,
    cc_jwks_report_t *report);

/* The key whose kid is exactly kid[0..len), or NULL.  The pointer lives as
 * long as the set. */
const cc_jwk_t *cc_jwks_find(const cc_jwks_t *set, const char *kid,
    size_t len);

size_t cc_jwks_count(const cc_jwks_t *set);

/* The i-th usable key (0 <= i < cc_jwks_count), in document order. */
const cc_jwk_t *cc_jwks_get(const cc_jwks_t *set, size_t i);

/* NULL is allowed. */
void cc_jwks_free(cc_jwks_t *set);

#endif /* CC_JWKS_H */
