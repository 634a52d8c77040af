/*
 * Validation of the identity headers nginx sets; workers trust their values
 * only after these checks, never their mere presence.
 */

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cc_identity.h"


int
cc_uuid_valid(const char *s)
{
    int  i;

    if (s == NULL || strlen(s) != CC_UUID_STR_LEN) {
        return 0;
    }
    for (i = 0; i < CC_UUID_STR_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        } else if (!isxdigit((unsigned char) s[i])) {
            return 0;
        }
    }
    return 1;
}


int
cc_identity_set_tenant(cc_identity_t *id, const char *header)
{
    int  i;

    id->tenant[0] = '\0';
    if (header == NULL || header[0] == '\0') {
        return 0;
    }
    if (!cc_uuid_valid(header)) {
        return -1;
    }
    for (i = 0; i < CC_UUID_STR_LEN; i++) {
        id->tenant[i] = (char) tolower((unsigned char) header[i]);
    }
    id->tenant[CC_UUID_STR_LEN] = '\0';
    return 0;
}


int
cc_identity_has_role(const cc_identity_t *id, const char *role)
{
    const char  *p, *end;
    size_t       len;

    if (id->roles == NULL || role == NULL) {
        return 0;
    }
    len = strlen(role);
    for (p = id->roles; *p != '\0'; p = (*end == ',') ? end + 1 : end) {
        while (*p == ' ') {
            p++;
        }
        end = strchr(p, ',');
        if (end == NULL) {
            end = p + strlen(p);
        }
        if ((size_t) (end - p) == len && strncmp(p, role, len) == 0) {
            return 1;
        }
    }
    return 0;
}


int
cc_identity_is_platform_tenant(const char *tenant, const char *platform_tenant)
{
    return platform_tenant[0] != '\0' && cc_uuid_valid(platform_tenant)
           && strcasecmp(tenant, platform_tenant) == 0;
}
