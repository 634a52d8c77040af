/*
 * PostgreSQL array literals as cc-ingest passes a batch's columns: each
 * text element quoted, '"' and '\' escaped, NULL unquoted, integers bare.
 * The literal must read back, element for element, as what went in.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_pgarray.h"


static void
test_empty(void)
{
    cc_pgarray_t  a;

    cc_pgarray_init(&a, 0);
    is_str(cc_pgarray_finish(&a), "{}", "an array without elements is {}");
    cc_pgarray_free(&a);
}


static void
test_text(void)
{
    cc_pgarray_t  a;

    cc_pgarray_init(&a, 4);
    cc_pgarray_add_text(&a, "plain");
    cc_pgarray_add_text(&a, "say \"hi\"");
    cc_pgarray_add_text(&a, "C:\\Windows\\Temp");
    cc_pgarray_add_text(&a, "{a,b} NULL\n");
    cc_pgarray_add_text(&a, "");
    is_str(cc_pgarray_finish(&a),
           "{\"plain\",\"say \\\"hi\\\"\",\"C:\\\\Windows\\\\Temp\","
           "\"{a,b} NULL\n\",\"\"}",
           "text elements are quoted, with only quotes and backslashes "
           "escaped");
    is_int((long long) a.count, 5, "... and counted");
    cc_pgarray_free(&a);
}


static void
test_null_and_integers(void)
{
    cc_pgarray_t  a;

    cc_pgarray_init(&a, 0);
    cc_pgarray_add_int(&a, 0);
    cc_pgarray_add_null(&a);
    cc_pgarray_add_int(&a, -9223372036854775807LL - 1);
    cc_pgarray_add_text(&a, NULL);
    cc_pgarray_add_int(&a, 9223372036854775807LL);
    is_str(cc_pgarray_finish(&a),
           "{0,NULL,-9223372036854775808,NULL,9223372036854775807}",
           "integers are bare, and a NULL text is the NULL element");
    cc_pgarray_free(&a);
}


static void
test_growth(void)
{
    cc_pgarray_t  a;
    char          big[5001];
    const char   *lit;
    int           i;

    memset(big, '"', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cc_pgarray_init(&a, 1);
    for (i = 0; i < 20; i++) {
        cc_pgarray_add_text(&a, big);
    }
    lit = cc_pgarray_finish(&a);
    ok(lit != NULL, "an array outgrowing its first buffer still finishes");
    is_int((long long) strlen(lit), 1 + 20 * (2 + 2 * 5000) + 19 + 1,
           "... with every escaped element in it");
    cc_pgarray_free(&a);
}


int
main(void)
{
    test_empty();
    test_text();
    test_null_and_integers();
    test_growth();
    done_testing();
    return 0;
}
