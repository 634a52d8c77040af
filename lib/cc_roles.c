/*
 * Role names <-> role bits; the one table both directions read.
 */

#include <string.h>

#include "cc_roles.h"


static const struct {
    uint32_t     bit;
    const char  *name;
} cc_roles[] = {
    { CC_ROLE_GLOBAL_ADMIN, "global_admin" },
    { CC_ROLE_TENANT_ADMIN, "tenant_admin" },
    { CC_ROLE_OPERATOR,     "operator" },
    { CC_ROLE_USER,         "user" },
};

#define CC_ROLES_N  (sizeof(cc_roles) / sizeof(cc_roles[0]))


void
cc_roles_format(uint32_t roles, char out[CC_ROLES_STR_MAX])
{
    size_t  i, o, n;

    o = 0;
    for (i = 0; i < CC_ROLES_N; i++) {
        if ((roles & cc_roles[i].bit) == 0) {
            continue;
        }
        if (o > 0) {
            out[o++] = ',';
        }
        n = strlen(cc_roles[i].name);
        memcpy(out + o, cc_roles[i].name, n);
        o += n;
    }
    out[o] = '\0';
}


int
cc_roles_parse(const char *text, size_t len, uint32_t *roles)
{
    size_t  start, end, i;

    *roles = 0;
    if (len == 0) {
        return 0;
    }

    for (start = 0; start <= len; start = end + 1) {
        end = start;
        while (end < len && text[end] != ',') {
            end++;
        }

        for (i = 0; i < CC_ROLES_N; i++) {
            if (strlen(cc_roles[i].name) == end - start
                && memcmp(cc_roles[i].name, text + start, end - start) == 0)
            {
                break;
            }
        }
        if (i == CC_ROLES_N) {
            *roles = 0;
            return -1;
        }
        *roles |= cc_roles[i].bit;
    }
    return 0;
}
