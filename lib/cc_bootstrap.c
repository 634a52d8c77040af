/*
 * Bootstrap tokens: their stored digest and the device ids derived for the
 * devices that use them (see cc_bootstrap.h).
 */

#include <string.h>

#include "cc_bootstrap.h"


int
cc_bootstrap_token_hash(const char *text, size_t len,
    char out[CC_SHA256_HEX_LEN + 1])
{
    char  canonical[CC_UUID_STR_LEN + 1];

    out[0] = '\0';
    if (cc_uuid_normalise(text, len, canonical) != 0) {
        return -1;
    }
    return cc_sha256_hex(canonical, CC_UUID_STR_LEN, out);
}


static int
is_space(char c)
{
    return c == ' ' || c == '\t';
}


static char
upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
}


int
cc_bootstrap_device_id(const char *tenant, size_t tenant_len,
    const char *serial, size_t serial_len, char out[CC_UUID_STR_LEN + 1])
{
    static const char  prefix[] = "serial:";
    unsigned char      name[CC_UUID_LEN + sizeof(prefix)
                            + CC_BOOTSTRAP_SERIAL_MAX];
    unsigned char      digest[CC_SHA256_LEN];
    size_t             n, i;

    while (serial_len > 0 && is_space(serial[0])) {
        serial++;
        serial_len--;
    }
    while (serial_len > 0 && is_space(serial[serial_len - 1])) {
        serial_len--;
    }
    if (serial_len == 0 || serial_len > CC_BOOTSTRAP_SERIAL_MAX
        || cc_uuid_parse(tenant, tenant_len, name) != 0)
    {
        return -1;
    }

    n = CC_UUID_LEN;
    memcpy(name + n, prefix, sizeof(prefix) - 1);
    n += sizeof(prefix) - 1;
    for (i = 0; i < serial_len; i++) {
        name[n++] = (unsigned char) upper(serial[i]);
    }

    if (cc_sha256(name, n, digest) != 0) {
        return -1;
    }

    /* RFC 9562 5.8: version 8 in the high nibble of byte 6, variant 10 */
    digest[6] = (unsigned char) ((digest[6] & 0x0f) | 0x80);
    digest[8] = (unsigned char) ((digest[8] & 0x3f) | 0x80);
    cc_uuid_format(digest, out);
    return 0;
}
