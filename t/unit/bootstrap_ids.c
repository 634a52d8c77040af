/*
 * Unit tests of bootstrap tokens outside nginx: lib/cc_bootstrap.c (the
 * token's stored digest, the device id derived from tenant and serial
 * number; vectors computed independently with Python's hashlib and uuid)
 * and the registry sync's handling of bootstrap rows and notifications
 * (workers/cc-worker/sync_entries.c, compiled in as sync_entries.t does).
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"

#include "cc_bootstrap.h"
#include "../../workers/cc-worker/sync_entries.c"


#define TOKEN   "6F1C2D3E-4A5B-4C6D-8E7F-901A2B3C4D5E"
#define HASH    "82ff49d8b1522f61519364a773f7842bd69d83bf9e912a0efa438968ab93c07b"
#define TENANT  "cb9743bb-9168-4dc6-b17f-766487518a6a"
#define DEVICE  "10ed6da1-e6db-80c2-b555-60713abb1642"


static const char *
text_of(json_t *v)
{
    static char  buf[1024];
    char        *s;

    if (v == NULL) {
        return "(null)";
    }
    s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(buf, sizeof(buf), "%s", s ? s : "(dump failed)");
    free(s);
    json_decref(v);
    return buf;
}


static void
test_token_hash(void)
{
    char  hex[CC_SHA256_HEX_LEN + 1];

    is_int(cc_bootstrap_token_hash(TOKEN, strlen(TOKEN), hex), 0,
           "a GUID token is hashed");
    is_str(hex, HASH, "the hash is SHA-256 of the lower-case GUID text");
    cc_bootstrap_token_hash("6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e", 36, hex);
    is_str(hex, HASH, "the token in lower case has the same hash");
    is_int(cc_bootstrap_token_hash("{" TOKEN "}", 38, hex), -1,
           "a GUID in braces is not a token");
    is_str(hex, "", "... and leaves no hash");
    is_int(cc_bootstrap_token_hash(TOKEN, 35, hex), -1,
           "a GUID cut short is not a token");
    is_int(cc_bootstrap_token_hash("", 0, hex), -1, "nothing is not a token");
}


static void
test_device_id(void)
{
    char  id[CC_UUID_STR_LEN + 1], other[CC_UUID_STR_LEN + 1];

    is_int(cc_bootstrap_device_id(TENANT, 36, "PF3XK9ZQ", 8, id), 0,
           "a device id is derived from tenant and serial number");
    is_str(id, DEVICE, "it is the version-8 UUID of SHA-256(tenant bytes, "
           "\"serial:\", serial)");
    cc_bootstrap_device_id("CB9743BB-9168-4DC6-B17F-766487518A6A", 36,
                           " pf3xk9zq\t", 10, id);
    is_str(id, DEVICE, "letter case and surrounding blanks do not change it");
    cc_bootstrap_device_id(TENANT, 36, "PF3XK9ZR", 8, other);
    ok(strcmp(other, DEVICE) != 0, "another serial number, another id");
    cc_bootstrap_device_id("0f9d1c2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f", 36,
                           "PF3XK9ZQ", 8, other);
    ok(strcmp(other, DEVICE) != 0, "the same serial in another tenant, "
       "another id");
    is_int(cc_bootstrap_device_id(TENANT, 36, "   ", 3, id), -1,
           "a blank serial number gives no id");
    is_int(cc_bootstrap_device_id("tenant", 6, "PF3XK9ZQ", 8, id), -1,
           "a tenant that is no GUID gives no id");
    {
        char  serial[CC_BOOTSTRAP_SERIAL_MAX + 2];

        memset(serial, 'A', sizeof(serial));
        is_int(cc_bootstrap_device_id(TENANT, 36, serial,
                                      CC_BOOTSTRAP_SERIAL_MAX, id), 0,
               "a serial number of the longest length is taken");
        is_int(cc_bootstrap_device_id(TENANT, 36, serial,
                                      CC_BOOTSTRAP_SERIAL_MAX + 1, id), -1,
               "a longer one is not");
    }
}


static void
test_sync(void)
{
    sync_notice_t  n;
    sync_row_t     row;
    json_t        *body;
    char           path[256];

    is_int(sync_notice_parse("{\"kind\":\"bootstrap\",\"id\":\"" HASH "\"}",
                             &n), 0, "a bootstrap notification is understood");
    is_int(n.kind, SYNC_BOOTSTRAP, "... as a bootstrap token");
    is_str(n.id, HASH, "... named by its whole hash");
    sync_notice_path(&n, path, sizeof(path));
    is_str(path, "/registry/bootstrap/" HASH, "... at its control API path");
    ok(sync_kind_id_is_secret(SYNC_BOOTSTRAP), "its id is never logged");
    is_int(sync_notice_parse("{\"kind\":\"bootstrap\",\"id\":\"ABC\"}", &n),
           -1, "a notification with a short hash is refused");
    is_int(sync_notice_parse("{\"kind\":\"bootstrap\",\"id\":\""
                             "82FF49D8B1522F61519364A773F7842BD69D83BF9E912A0"
                             "EFA438968AB93C07B\"}", &n),
           -1, "... and one in upper case (the database writes lower case)");

    memset(&row, 0, sizeof(row));
    row.kind = "bootstrap";
    row.tenant = TENANT;
    row.id = HASH;
    row.status = "enabled";
    row.until = "1795468834";
    is_str(text_of(sync_row_body(&row)),
           "{\"enabled\":true,\"tenant\":\"" TENANT "\",\"until\":1795468834}",
           "a row becomes {tenant, until, enabled}");
    row.status = "disabled";
    is_str(text_of(sync_row_body(&row)),
           "{\"enabled\":false,\"tenant\":\"" TENANT "\",\"until\":1795468834}",
           "a tenant with bootstrap off: enabled false");
    row.until = "0";
    is_str(text_of(sync_row_body(&row)), "(null)",
           "a token that never expires is not sent");
    row.until = "1795468834";
    row.tenant = NULL;
    is_str(text_of(sync_row_body(&row)), "(null)",
           "a token without a tenant is not sent");
    row.tenant = TENANT;

    body = sync_body_new("t");
    ok(json_object_get(body, "bootstrap") == NULL,
       "a sync body has no bootstrap list before the first token");
    is_int(sync_body_add_row(body, &row), 0, "a token is added");
    is_str(text_of(json_incref(json_object_get(body, "bootstrap"))),
           "[{\"enabled\":false,\"hash\":\"" HASH "\",\"tenant\":\"" TENANT
           "\",\"until\":1795468834}]", "... to its list, with its hash");
    json_decref(body);
}


int
main(void)
{
    test_token_hash();
    test_device_id();
    test_sync();
    return done_testing();
}
