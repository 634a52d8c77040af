/*
 * UUID text conversions, so that a tenant id compares equal whatever case
 * the issuer wrote it in.
 */

#include "cc_uuid.h"


static int cc_uuid_hex_value(char c);


int
cc_uuid_parse(const char *text, size_t len, unsigned char out[CC_UUID_LEN])
{
    size_t  i, n;
    int     hi, lo;

    if (len != CC_UUID_STR_LEN) {
        return -1;
    }

    n = 0;
    for (i = 0; i < len; ) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                return -1;
            }
            i++;
            continue;
        }

        hi = cc_uuid_hex_value(text[i]);
        lo = cc_uuid_hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return -1;
        }
        out[n++] = (unsigned char) (hi << 4 | lo);
        i += 2;
    }

    return 0;
}


void
cc_uuid_format(const unsigned char uuid[CC_UUID_LEN],
    char out[CC_UUID_STR_LEN + 1])
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i, o;

    o = 0;
    for (i = 0; i < CC_UUID_LEN; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out[o++] = '-';
        }
        out[o++] = hex[uuid[i] >> 4];
        out[o++] = hex[uuid[i] & 0x0f];
    }
    out[o] = '\0';
}


int
cc_uuid_normalise(const char *text, size_t len,
    char out[CC_UUID_STR_LEN + 1])
{
    unsigned char  uuid[CC_UUID_LEN];

    if (cc_uuid_parse(text, len, uuid) != 0) {
        return -1;
    }
    cc_uuid_format(uuid, out);
    return 0;
}


static int
cc_uuid_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}
