/*
 * libFuzzer target for the strict base64 decoders: whatever decodes must
 * encode back to exactly the input (one spelling per byte string), and
 * nothing is written past the documented output size.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cc_base64.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char  *out;
    char           *back;
    size_t          outlen, n;

    out = malloc(cc_base64url_decoded_max(size));
    if (cc_base64url_decode((const char *) data, size, out, &outlen) == 0) {
        back = malloc(cc_base64url_encoded_len(outlen) + 1);
        n = cc_base64url_encode(out, outlen, back);
        if (n != size || memcmp(back, data, size) != 0) {
            abort();
        }
        free(back);
    }
    free(out);

    /* Standard base64 has no encoder here; it must at least stay inside
     * its buffer and report a length that fits. */
    out = malloc(cc_base64_decoded_max(size));
    if (cc_base64_decode((const char *) data, size, out, &outlen) == 0
        && (outlen > cc_base64_decoded_max(size) || outlen * 4 > size * 3))
    {
        abort();
    }
    free(out);
    return 0;
}
