/*
 * Strict base64url (RFC 4648 section 5, unpadded, as JOSE uses it) and
 * strict standard base64 (section 4, padded, as JWK x5c uses it).
 */

#ifndef CC_BASE64_H
#define CC_BASE64_H

#include <stddef.h>

/*
 * Output sizes.  The caller owns every buffer: size the output of a decode
 * with cc_base64url_decoded_max() / cc_base64_decoded_max() and of an
 * encode with cc_base64url_encoded_len() + 1 (the encoder writes a NUL).
 */
size_t cc_base64url_encoded_len(size_t len);
size_t cc_base64url_decoded_max(size_t len);
size_t cc_base64_decoded_max(size_t len);

/* Writes the unpadded base64url form of in[0..len) and a NUL; returns its
 * length (without the NUL). */
size_t cc_base64url_encode(const unsigned char *in, size_t len, char *out);

/*
 * Decoders return 0 and set *outlen, or -1 when the input is not the one
 * canonical encoding of some byte string: a character outside the
 * alphabet, padding where none belongs (base64url) or missing/misplaced
 * padding (base64), an impossible length, or non-zero unused trailing
 * bits.  No whitespace is accepted.  An empty input decodes to nothing.
 */
int cc_base64url_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen);
int cc_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen);

#endif /* CC_BASE64_H */
