/*
 * Strict base64url and base64 codecs: every byte string has exactly one
 * accepted encoding, so two different tokens never decode to the same
 * bytes (which matters for signatures and for the verified-token cache).
 */

#include "cc_base64.h"


#define CC_B64_INVALID  0xff


static const char  cc_base64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";


static unsigned char cc_base64_value(unsigned char c, int url);
static int cc_base64_decode_quanta(const char *in, size_t len,
    unsigned char *out, size_t *outlen, int url);


size_t
cc_base64url_encoded_len(size_t len)
{
    return len / 3 * 4 + (len % 3 == 0 ? 0 : len % 3 + 1);
}


size_t
cc_base64url_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}


size_t
cc_base64_decoded_max(size_t len)
{
    return len / 4 * 3 + 3;
}


size_t
cc_base64url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t         i, o;
    unsigned long  v;

    o = 0;
    for (i = 0; i + 2 < len; i += 3) {
        v = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8
            | in[i + 2];
        out[o++] = cc_base64url_alphabet[v >> 18 & 0x3f];
        out[o++] = cc_base64url_alphabet[v >> 12 & 0x3f];
        out[o++] = cc_base64url_alphabet[v >> 6 & 0x3f];
        out[o++] = cc_base64url_alphabet[v & 0x3f];
    }

    if (len - i == 1) {
        v = (unsigned long) in[i] << 16;
        out[o++] = cc_base64url_alphabet[v >> 18 & 0x3f];
        out[o++] = cc_base64url_alphabet[v >> 12 & 0x3f];

    } else if (len - i == 2) {
        v = (unsigned long) in[i] << 16 | (unsigned long) in[i + 1] << 8;
        out[o++] = cc_base64url_alphabet[v >> 18 & 0x3f];
        out[o++] = cc_base64url_alphabet[v >> 12 & 0x3f];
        out[o++] = cc_base64url_alphabet[v >> 6 & 0x3f];
    }

    out[o] = '\0';
    return o;
}


int
cc_base64url_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen)
{
    return cc_base64_decode_quanta(in, len, out, outlen, 1);
}


int
cc_base64_decode(const char *in, size_t len, unsigned char *out,
    size_t *outlen)
{
    size_t  pad;

    /* Padded base64 always comes in whole quanta; the padding may only
     * complete the last one. */
    if (len % 4 != 0) {
        return -1;
    }

    pad = 0;
    if (len > 0 && in[len - 1] == '=') {
        pad++;
        if (in[len - 2] == '=') {
            pad++;
        }
    }

    return cc_base64_decode_quanta(in, len - pad, out, outlen, 0);
}


/*
 * Decodes an unpadded run of base64 characters.  A final group of one
 * character cannot encode a whole byte, and the bits a final group of two
 * or three characters does not use must be zero: otherwise several inputs
 * would map to the same bytes.
 */
static int
cc_base64_decode_quanta(const char *in, size_t len, unsigned char *out,
    size_t *outlen, int url)
{
    size_t         i, o, rest;
    unsigned long  v;
    unsigned char  c[4];

    rest = len % 4;
    if (rest == 1) {
        return -1;
    }

    o = 0;
    for (i = 0; i < len; i += 4) {
        size_t  n, k;

        n = len - i < 4 ? len - i : 4;
        for (k = 0; k < 4; k++) {
            c[k] = 0;
            if (k < n) {
                c[k] = cc_base64_value((unsigned char) in[i + k], url);
                if (c[k] == CC_B64_INVALID) {
                    return -1;
                }
            }
        }

        v = (unsigned long) c[0] << 18 | (unsigned long) c[1] << 12
            | (unsigned long) c[2] << 6 | c[3];

        if (n == 2 && (v & 0xffff) != 0) {
            return -1;
        }
        if (n == 3 && (v & 0xff) != 0) {
            return -1;
        }

        out[o++] = (unsigned char) (v >> 16);
        if (n > 2) {
            out[o++] = (unsigned char) (v >> 8);
        }
        if (n > 3) {
            out[o++] = (unsigned char) v;
        }
    }

    *outlen = o;
    return 0;
}


static unsigned char
cc_base64_value(unsigned char c, int url)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned char) (c - 'A');
    }
    if (c >= 'a' && c <= 'z') {
        return (unsigned char) (c - 'a' + 26);
    }
    if (c >= '0' && c <= '9') {
        return (unsigned char) (c - '0' + 52);
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return CC_B64_INVALID;
}
