/*
 * Binary arrays as cc-ingest passes a batch's columns (array_recv's
 * layout): the header, one dimension with lower bound 1, big-endian
 * element lengths, -1 for NULL with the has_null flag set, ndim 0 for an
 * empty array, and each element type's own bytes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_pgarray_bin.h"


/* The finished array as lowercase hex, or "(failed)". */
static const char *
hex_of(cc_pgarray_bin_t *a)
{
    static char   out[1024];
    const char   *p;
    int           len, i;

    p = cc_pgarray_bin_finish(a, &len);
    if (p == NULL || 2 * (size_t) len >= sizeof(out)) {
        return "(failed)";
    }
    for (i = 0; i < len; i++) {
        snprintf(out + 2 * i, 3, "%02x", (unsigned char) p[i]);
    }
    out[2 * len] = '\0';
    return out;
}


static void
test_empty(void)
{
    cc_pgarray_bin_t  a;

    cc_pgarray_bin_init(&a, CC_PG_INT8_OID, 0);
    is_str(hex_of(&a), "00000000" "00000000" "00000014",
           "an empty array is ndim 0, no nulls, its element type, nothing "
           "else");
    cc_pgarray_bin_free(&a);

    cc_pgarray_bin_init(&a, CC_PG_JSONB_OID, 4096);
    is_str(hex_of(&a), "00000000" "00000000" "00000eda",
           "an empty array keeps its element type (jsonb 3802)");
    cc_pgarray_bin_free(&a);
}


static void
test_int8(void)
{
    cc_pgarray_bin_t  a;

    cc_pgarray_bin_init(&a, CC_PG_INT8_OID, 0);
    cc_pgarray_bin_add_int8(&a, 1);
    cc_pgarray_bin_add_int8(&a, -2);
    cc_pgarray_bin_add_int8(&a, INT64_C(0x0102030405060708));
    is_str(hex_of(&a),
           "00000001" "00000000" "00000014" "00000003" "00000001"
           "00000008" "0000000000000001"
           "00000008" "fffffffffffffffe"
           "00000008" "0102030405060708",
           "int8 elements: header, 3 elements from 1, each 8 bytes "
           "big-endian, two's complement");
    cc_pgarray_bin_free(&a);
}


static void
test_int4_with_null(void)
{
    cc_pgarray_bin_t  a;

    cc_pgarray_bin_init(&a, CC_PG_INT4_OID, 0);
    cc_pgarray_bin_add_int4(&a, 7);
    cc_pgarray_bin_add_null(&a);
    cc_pgarray_bin_add_int4(&a, -1);
    is_str(hex_of(&a),
           "00000001" "00000001" "00000017" "00000003" "00000001"
           "00000004" "00000007"
           "ffffffff"
           "00000004" "ffffffff",
           "a NULL is length -1 without bytes and sets has_null");
    cc_pgarray_bin_free(&a);

    cc_pgarray_bin_init(&a, CC_PG_INT4_OID, 0);
    cc_pgarray_bin_add_int4(&a, 7);
    is_str(hex_of(&a),
           "00000001" "00000000" "00000017" "00000001" "00000001"
           "00000004" "00000007",
           "an array without NULLs leaves has_null 0");
    cc_pgarray_bin_free(&a);
}


static void
test_text(void)
{
    cc_pgarray_bin_t  a;

    cc_pgarray_bin_init(&a, CC_PG_TEXT_OID, 0);
    cc_pgarray_bin_add_text(&a, "a\"\\");
    cc_pgarray_bin_add_text(&a, "");
    cc_pgarray_bin_add_text(&a, NULL);
    cc_pgarray_bin_add_text(&a, "NULL");
    is_str(hex_of(&a),
           "00000001" "00000001" "00000019" "00000004" "00000001"
           "00000003" "61225c"
           "00000000"
           "ffffffff"
           "00000004" "4e554c4c",
           "text elements are their bytes unescaped; \"\" is length 0, "
           "a NULL pointer is NULL, \"NULL\" is the string");
    cc_pgarray_bin_free(&a);
}


static void
test_jsonb(void)
{
    cc_pgarray_bin_t  a;

    cc_pgarray_bin_init(&a, CC_PG_JSONB_OID, 0);
    cc_pgarray_bin_add_jsonb(&a, "{\"a\":1}");
    cc_pgarray_bin_add_jsonb(&a, NULL);
    is_str(hex_of(&a),
           "00000001" "00000001" "00000eda" "00000002" "00000001"
           "00000008" "01" "7b2261223a317d"
           "ffffffff",
           "a jsonb element is version byte 1 then the JSON text");
    cc_pgarray_bin_free(&a);
}


static void
test_timestamptz(void)
{
    cc_pgarray_bin_t  a;

    cc_pgarray_bin_init(&a, CC_PG_TIMESTAMPTZ_OID, 0);
    cc_pgarray_bin_add_timestamptz(&a, INT64_C(827049731298741));
    cc_pgarray_bin_add_timestamptz(&a, -1);
    is_str(hex_of(&a),
           "00000001" "00000000" "000004a0" "00000002" "00000001"
           "00000008" "0002f032857215b5"
           "00000008" "ffffffffffffffff",
           "a timestamptz element is 8 bytes of microseconds since 2000");
    cc_pgarray_bin_free(&a);
}


static void
test_growth(void)
{
    cc_pgarray_bin_t  a;
    const char       *p;
    char              big[3001];
    int               len, i, right;

    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cc_pgarray_bin_init(&a, CC_PG_TEXT_OID, 0);
    for (i = 0; i < 100; i++) {
        cc_pgarray_bin_add_text(&a, big);
    }
    p = cc_pgarray_bin_finish(&a, &len);
    is_int(len, 20 + 100 * (4 + 3000),
           "an array outgrowing its first buffer keeps every byte");
    right = p != NULL;
    for (i = 0; right && i < 100; i++) {
        right = p[20 + i * 3004 + 2] == 0x0b && p[20 + i * 3004 + 3]
                == (char) 0xb8 && p[20 + i * 3004 + 4] == 'x'
                && p[20 + i * 3004 + 3003] == 'x';
    }
    ok(right, "... each element's length and bytes in place");
    ok(p != NULL && p[12] == 0 && p[15] == 100,
       "... and the dimension counts all 100 elements");
    cc_pgarray_bin_free(&a);
}


static void
test_failed_stays_failed(void)
{
    cc_pgarray_bin_t  a;
    int               len;

    cc_pgarray_bin_init(&a, CC_PG_INT8_OID, 0);
    cc_pgarray_bin_add_int8(&a, 1);
    a.failed = 1;
    cc_pgarray_bin_add_int8(&a, 2);
    ok(cc_pgarray_bin_finish(&a, &len) == NULL,
       "an array that ran out of memory on the way has no bytes to send");
    cc_pgarray_bin_free(&a);
}


int
main(void)
{
    test_empty();
    test_int8();
    test_int4_with_null();
    test_text();
    test_jsonb();
    test_timestamptz();
    test_growth();
    test_failed_stays_failed();
    return done_testing();
}
