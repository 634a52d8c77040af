/*
 * Bootstrap tokens (agent-protocol.md 2): the one digest by which a token
 * is stored and looked up, and the stable device id given to a device that
 * authenticates with a token instead of an Intune certificate.
 */

#ifndef CC_BOOTSTRAP_H
#define CC_BOOTSTRAP_H

#include <stddef.h>

#include "cc_hash.h"
#include "cc_uuid.h"

/* Longest serial number taken into a device id (SMBIOS allows 64). */
#define CC_BOOTSTRAP_SERIAL_MAX  128

/*
 * The SHA-256, in lower-case hex, of the token's canonical text (its GUID
 * in lower case), into out[65].  Returns 0, or -1 when text[0..len) is not
 * a GUID (out is then empty).
 */
int cc_bootstrap_token_hash(const char *text, size_t len,
    char out[CC_SHA256_HEX_LEN + 1]);

/*
 * The device id of a bootstrap device, into out[37]: a name-based UUID
 * (RFC 9562 version 8, SHA-256) of the tenant's 16 bytes followed by
 * "serial:" and the serial number, upper-cased with surrounding spaces
 * removed.  The same device in the same tenant always gets the same id,
 * so its sessions, blocks and rate limits stay its own; the id reveals
 * nothing of the serial number.  Returns -1 when the tenant is not a GUID
 * or the serial is empty or longer than CC_BOOTSTRAP_SERIAL_MAX.
 */
int cc_bootstrap_device_id(const char *tenant, size_t tenant_len,
    const char *serial, size_t serial_len, char out[CC_UUID_STR_LEN + 1]);

#endif /* CC_BOOTSTRAP_H */
