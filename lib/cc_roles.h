/*
 * The platform's roles as a bit mask (what a session token carries) and
 * as the names the memberships table and the X-CC-Roles header use.
 */

#ifndef CC_ROLES_H
#define CC_ROLES_H

#include <stddef.h>
#include <stdint.h>

#define CC_ROLE_GLOBAL_ADMIN   0x01u
#define CC_ROLE_TENANT_ADMIN   0x02u
#define CC_ROLE_OPERATOR       0x04u
#define CC_ROLE_USER           0x08u
#define CC_ROLE_ALL            0x0fu
#define CC_ROLES_STR_MAX       64   /* all four names, commas and a NUL */

/* "global_admin,operator" for a mask, in a fixed order; unknown bits are
 * ignored; "" for none. */
void cc_roles_format(uint32_t roles, char out[CC_ROLES_STR_MAX]);

/* The mask for "name,name" (no spaces; empty text is no roles); -1 if a
 * name is not a role or the list is malformed. */
int cc_roles_parse(const char *text, size_t len, uint32_t *roles);

#endif /* CC_ROLES_H */
