/*
 * Unit tests of workers/common/cc_identity: which tenant headers are
 * trusted, and role lookup.
 */

#include <string.h>

#include "tap.h"
#include "cc_identity.h"


int
main(void)
{
    cc_identity_t  id;

    ok(cc_uuid_valid("6f1c2a4e-0d4b-4c7e-9a51-1f2e3d4c5b6a"), "a UUID");
    ok(cc_uuid_valid("6F1C2A4E-0D4B-4C7E-9A51-1F2E3D4C5B6A"),
       "an upper-case UUID");
    ok(!cc_uuid_valid("6f1c2a4e0d4b4c7e9a511f2e3d4c5b6a"),
       "without dashes is refused");
    ok(!cc_uuid_valid("6f1c2a4e-0d4b-4c7e-9a51-1f2e3d4c5b6"),
       "one digit short is refused");
    ok(!cc_uuid_valid("6f1c2a4e-0d4b-4c7e-9a51-1f2e3d4c5b6a0"),
       "one digit long is refused");
    ok(!cc_uuid_valid("6f1c2a4e-0d4b-4c7e-9a51-1f2e3d4c5b6g"),
       "a non-hex digit is refused");
    ok(!cc_uuid_valid("6f1c2a4e-0d4b-4c7e-9a51'1f2e3d4c5b6a"),
       "a quote in place of a dash is refused");
    ok(!cc_uuid_valid(NULL), "NULL is refused");

    memset(&id, 0, sizeof(id));
    is_int(cc_identity_set_tenant(&id, NULL), 0, "no header: platform");
    is_str(id.tenant, "", "platform context is the empty tenant");
    is_int(cc_identity_set_tenant(&id, ""), 0, "an empty header: platform");
    is_int(cc_identity_set_tenant(&id,
                                  "6F1C2A4E-0D4B-4C7E-9A51-1F2E3D4C5B6A"),
           0, "a UUID header is accepted");
    is_str(id.tenant, "6f1c2a4e-0d4b-4c7e-9a51-1f2e3d4c5b6a",
           "the tenant is stored lower-case");
    is_int(cc_identity_set_tenant(&id, "contoso"), -1,
           "a tenant that is not a UUID is refused");
    is_str(id.tenant, "", "a refused tenant leaves no tenant behind");

    id.roles = "operator, tenant_admin";
    ok(cc_identity_has_role(&id, "operator"), "first role found");
    ok(cc_identity_has_role(&id, "tenant_admin"), "role after a space found");
    ok(!cc_identity_has_role(&id, "admin"), "a role's suffix is not a role");
    ok(!cc_identity_has_role(&id, "global_admin"), "an absent role");
    id.roles = NULL;
    ok(!cc_identity_has_role(&id, "operator"), "no roles header: no role");

    return done_testing();
}
