/*
 * cc_sas: the service SAS of one blob is signed exactly as
 * azure-protocols.md 6 documents it, and so is the Shared Key request
 * that creates a container.  The expected signatures were
 * computed independently of this code, with
 *
 *   printf '%s' "$STRING_TO_SIGN" \
 *     | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY_HEX -binary \
 *     | base64
 *
 * and are kept here as constants; t/ingest/upload_url.t shows that Azurite
 * accepts what this signer makes.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_sas.h"

/* Azurite's well-known development account key (public, not a secret). */
#define AZURITE_KEY \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/" \
    "K1SZFPTOtr/KBHBeksoGMGw=="

#define T_2024_06_01_00  1717200000     /* 2024-06-01T00:00:00Z */
#define T_2026_11_23_22  1795471200     /* 2026-11-23T22:00:00Z */

#define SESSION  "3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b"
#define DIAG_BLOB \
    "11111111-1111-4111-8111-111111111111/" SESSION \
    "/AgentDiagnostics-" SESSION "-20261123220000.zip"

static unsigned char  key[CC_SAS_KEY_MAX];
static size_t         keylen;


static cc_sas_blob_t
documented_example(void)
{
    return (cc_sas_blob_t) {
        .account = "devstoreaccount1",
        .container = "uploads",
        .blob = "report.json",
        .permissions = "cw",
        .start = T_2024_06_01_00,
        .expiry = T_2024_06_01_00 + 3600,
        .protocol = CC_SAS_HTTPS_HTTP,
    };
}


static void
test_time_format(void)
{
    char  out[CC_SAS_TIME_LEN + 1];

    is_int(cc_sas_format_time(T_2024_06_01_00, out), 0,
           "a time formats");
    is_str(out, "2024-06-01T00:00:00Z",
           "... as YYYY-MM-DDThh:mm:ssZ in UTC, without fractions");
    cc_sas_format_time(T_2026_11_23_22 + 59, out);
    is_str(out, "2026-11-23T22:00:59Z", "seconds are kept");
    is_int(cc_sas_format_time((time_t) 400000000000LL, out), -1,
           "a time past the year 9999 is refused");
}


static void
test_key_decoding(void)
{
    unsigned char  k[CC_SAS_KEY_MAX];
    size_t         n;

    is_int(cc_sas_decode_key(AZURITE_KEY, key, &keylen), 0,
           "an account key as the portal shows it decodes");
    is_int((long long) keylen, 64, "... to 64 bytes");
    is_int(key[0] == 0x11 && key[63] == 0x1b, 1,
           "... the right bytes (first 11, last 1b)");
    is_int(cc_sas_decode_key("  " AZURITE_KEY "\n", k, &n), 0,
           "blanks and the newline of a key file are ignored");
    is_int(cc_sas_decode_key("", k, &n), -1, "an empty key is refused");
    is_int(cc_sas_decode_key("not base64!", k, &n), -1,
           "a key that is not base64 is refused");
    is_int(cc_sas_decode_key("AAEC AwQF", k, &n), -1,
           "a key with a blank inside is refused");
}


static void
test_string_to_sign(void)
{
    cc_sas_blob_t   sas;
    char           *sts;

    sas = documented_example();
    sts = cc_sas_string_to_sign(&sas);
    is_str(sts,
           "cw\n2024-06-01T00:00:00Z\n2024-06-01T01:00:00Z\n"
           "/blob/devstoreaccount1/uploads/report.json\n\n\nhttps,http\n"
           "2020-12-06\nb\n\n\n\n\n\n\n",
           "the documented example's string to sign: 16 fields, the "
           "canonical resource under /blob/, no trailing newline");
    free(sts);

    sas.start = 0;
    sas.protocol = CC_SAS_HTTPS;
    sts = cc_sas_string_to_sign(&sas);
    is_str(sts,
           "cw\n\n2024-06-01T01:00:00Z\n"
           "/blob/devstoreaccount1/uploads/report.json\n\n\nhttps\n"
           "2020-12-06\nb\n\n\n\n\n\n\n",
           "without a start the st field is empty; https only is https");
    free(sts);
}


static void
refused(cc_sas_blob_t sas, const char *why)
{
    char  *sts;

    sts = cc_sas_string_to_sign(&sas);
    ok(sts == NULL, "refused: %s", why);
    free(sts);
    sts = cc_sas_blob_query(&sas, key, keylen);
    ok(sts == NULL, "... and no query string is signed");
    free(sts);
}


static void
test_refusals(void)
{
    cc_sas_blob_t  sas;

    sas = documented_example();
    sas.blob = "report.json\n\n\nhttps,http";
    refused(sas, "a blob name with a newline (it would forge fields)");
    sas = documented_example();
    sas.container = "uploads\r";
    refused(sas, "a container with a carriage return");
    sas = documented_example();
    sas.account = "";
    refused(sas, "an empty account");
    sas = documented_example();
    sas.blob = NULL;
    refused(sas, "no blob name");
    sas = documented_example();
    sas.permissions = "wc";
    refused(sas, "permissions out of canonical order");
    sas = documented_example();
    sas.permissions = "cwz";
    refused(sas, "an unknown permission letter");
    sas = documented_example();
    sas.protocol = "http";
    refused(sas, "http alone as the protocol");
    sas = documented_example();
    sas.expiry = sas.start;
    refused(sas, "an expiry that is not after the start");
}


static void
test_signatures(void)
{
    cc_sas_blob_t   sas;
    unsigned char   k32[32];
    char            sig[CC_SAS_SIG_LEN + 1];
    char           *sts;
    int             i;

    sas = documented_example();
    sts = cc_sas_string_to_sign(&sas);
    is_int(cc_sas_signature(key, keylen, sts, sig), 0, "a string signs");
    is_str(sig, "PoZW9dhb/W3BOVJQVg+4aamw7S7IzMv1jOk1BJOnaIQ=",
           "... to the HMAC-SHA256 openssl computed, in base64");
    free(sts);

    sas.start = 0;
    sas.protocol = CC_SAS_HTTPS;
    sts = cc_sas_string_to_sign(&sas);
    cc_sas_signature(key, keylen, sts, sig);
    is_str(sig, "yXnLeoMWCi79Y4h/5iAqY+VNbvtE2UYLtAc9F3z0+Gs=",
           "the same blob without st, https only, signs differently");
    free(sts);

    for (i = 0; i < 32; i++) {
        k32[i] = (unsigned char) i;
    }
    sas = (cc_sas_blob_t) {
        .account = "a", .container = "c", .blob = "b", .permissions = "r",
        .start = 1704067200, .expiry = 1704067500,
        .protocol = CC_SAS_HTTPS,
    };
    sts = cc_sas_string_to_sign(&sas);
    cc_sas_signature(k32, sizeof(k32), sts, sig);
    is_str(sig, "ePJKUoj4cg1mj55+x+gs4EVxJR5GehCGmUipEGb9Z44=",
           "another key (32 bytes 00..1f) gives openssl's signature too");
    free(sts);
}


static void
test_diagnostics_query(void)
{
    cc_sas_blob_t   sas;
    char           *q;

    sas = (cc_sas_blob_t) {
        .account = "acct",
        .container = "diagnostics",
        .blob = DIAG_BLOB,
        .permissions = "cw",
        .start = T_2026_11_23_22 - 300,
        .expiry = T_2026_11_23_22 + 600,
        .protocol = CC_SAS_HTTPS,
    };
    q = cc_sas_blob_query(&sas, key, keylen);
    /* sig = cx3t99BoM1L6bQWtbwxgDDGjh1GKTcj/gND5AgMOSPg= (openssl) */
    is_str(q,
           "sv=2020-12-06&sr=b&sp=cw&st=2026-11-23T21%3A55%3A00Z"
           "&se=2026-11-23T22%3A10%3A00Z&spr=https"
           "&sig=cx3t99BoM1L6bQWtbwxgDDGjh1GKTcj%2FgND5AgMOSPg%3D",
           "a diagnostics upload's query: create+write, st and se, https, "
           "the signature percent-encoded");
    free(q);

    sas.start = 0;
    sas.protocol = CC_SAS_HTTPS_HTTP;
    q = cc_sas_blob_query(&sas, key, keylen);
    ok(q != NULL && strstr(q, "st=") == NULL,
       "without a start the query has no st");
    ok(q != NULL && strstr(q, "&spr=https%2Chttp&") != NULL,
       "https,http is encoded as one value");
    free(q);
}


static void
test_path_encoding(void)
{
    char  *p;

    p = cc_sas_encode_path("t/s/AgentDiagnostics-x-1.zip");
    is_str(p, "t/s/AgentDiagnostics-x-1.zip",
           "a diagnostics blob name needs no encoding");
    free(p);
    p = cc_sas_encode_path("a b/c?d#e%f");
    is_str(p, "a%20b/c%3Fd%23e%25f",
           "blanks, ?, # and %% are encoded, / is kept");
    free(p);
}


static void
test_shared_key(void)
{
    char   date[CC_SAS_DATE_LEN + 1];
    char   sig[CC_SAS_SIG_LEN + 1];
    char  *sts;

    is_int(cc_sas_http_date(T_2026_11_23_22, date), 0, "a date formats");
    is_str(date, "Mon, 23 Nov 2026 22:00:00 GMT",
           "... as RFC 1123 in GMT, as x-ms-date wants it");
    cc_sas_http_date(T_2024_06_01_00, date);
    is_str(date, "Sat, 01 Jun 2024 00:00:00 GMT",
           "day and month names and a leading zero");

    sts = cc_sas_shared_key_string_to_sign("PUT",
        "Mon, 23 Nov 2026 22:00:00 GMT", "devstoreaccount1",
        "/devstoreaccount1/diagnostics", "restype:container");
    is_str(sts,
           "PUT\n\n\n\n\n\n\n\n\n\n\n\n"
           "x-ms-date:Mon, 23 Nov 2026 22:00:00 GMT\n"
           "x-ms-version:2020-12-06\n"
           "/devstoreaccount1/devstoreaccount1/diagnostics\n"
           "restype:container",
           "Create Container's Shared Key string to sign: 11 empty "
           "standard headers, the x-ms- headers, the account then the "
           "URL's path, the query");
    cc_sas_signature(key, keylen, sts, sig);
    is_str(sig, "kBBTHYiIAda8LKuP5pZdMnOr9G3FVhzwqMdu3wRD6yo=",
           "... signed as openssl signs it");
    free(sts);

    sts = cc_sas_shared_key_string_to_sign("GET", "d", "a", "/c", NULL);
    is_str(sts, "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:d\n"
           "x-ms-version:2020-12-06\n/a/c",
           "without a query the resource ends at the path");
    free(sts);

    sts = cc_sas_shared_key_string_to_sign("PUT", "d", "a", "/c",
                                           "restype:container\ncomp:x");
    ok(sts == NULL, "a query with a newline is refused");
    free(sts);
    sts = cc_sas_shared_key_string_to_sign("PUT", "d", "a", "c", NULL);
    ok(sts == NULL, "a path without its leading / is refused");
    free(sts);
    sts = cc_sas_shared_key_string_to_sign("PUT", "", "a", "/c", NULL);
    ok(sts == NULL, "an empty date is refused");
    free(sts);
}


int
main(void)
{
    test_time_format();
    test_key_decoding();
    test_string_to_sign();
    test_refusals();
    test_signatures();
    test_diagnostics_query();
    test_path_encoding();
    test_shared_key();
    return done_testing();
}
