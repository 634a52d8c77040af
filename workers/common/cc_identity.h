/*
 * The caller's identity as nginx passes it in X-CC-* request headers, and
 * the checks a worker makes on it before trusting it.
 */

#ifndef CC_IDENTITY_H
#define CC_IDENTITY_H

#include <stddef.h>

#include "cc_uuid.h"


typedef struct cc_identity {
    char         tenant[CC_UUID_STR_LEN + 1]; /* "" = platform context */
    const char  *user;                      /* NULL when absent */
    const char  *roles;                     /* comma-separated, or NULL */
    const char  *device;
    const char  *request_id;
} cc_identity_t;

/* True when s is a UUID in its 8-4-4-4-12 hexadecimal text form. */
int cc_uuid_valid(const char *s);

/*
 * Copies a tenant header value into id->tenant, lowercased.  NULL or empty
 * means the platform context.  Returns -1 when the value is not a UUID.
 */
int cc_identity_set_tenant(cc_identity_t *id, const char *header);

/* True when roles (comma-separated) contains role exactly. */
int cc_identity_has_role(const cc_identity_t *id, const char *role);

/*
 * True when tenant (a GUID, any case) is platform_tenant, the one tenant
 * whose users may be Global Admins; false when platform_tenant is empty.
 */
int cc_identity_is_platform_tenant(const char *tenant,
                                   const char *platform_tenant);

#endif /* CC_IDENTITY_H */
