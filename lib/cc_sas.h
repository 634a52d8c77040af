/*
 * Signing for Azure Blob Storage with the account key, version 2020-12-06:
 * service shared access signatures (SAS) for one blob (the string to sign,
 * its HMAC-SHA256, the query string a client appends to the blob's URL;
 * azure-protocols.md 6), and the Shared Key string to sign of a bodiless
 * request such as Create Container.  A SAS is a bearer secret: callers
 * hand it out and never store or log it.
 */

#ifndef CC_SAS_H
#define CC_SAS_H

#include <stddef.h>
#include <time.h>

#define CC_SAS_VERSION      "2020-12-06"
#define CC_SAS_TIME_LEN     20          /* YYYY-MM-DDThh:mm:ssZ, no NUL */
#define CC_SAS_SIG_LEN      44          /* base64 of 32 bytes, no NUL */
#define CC_SAS_DATE_LEN     29          /* RFC 1123 date, no NUL */
#define CC_SAS_KEY_MAX      128         /* Azure keys are 64 bytes */

#define CC_SAS_HTTPS        "https"
#define CC_SAS_HTTPS_HTTP   "https,http"

typedef struct cc_sas_blob_s {
    const char  *account;       /* storage account name */
    const char  *container;
    const char  *blob;          /* name inside the container, not encoded */
    const char  *permissions;   /* letters in canonical order, e.g. "cw" */
    time_t       start;         /* 0: no st, valid at once */
    time_t       expiry;
    const char  *protocol;      /* CC_SAS_HTTPS or CC_SAS_HTTPS_HTTP */
} cc_sas_blob_t;

/* Writes t as the SAS time format and a NUL into out[21]; 0, or -1 for a
 * time outside years 0000-9999. */
int cc_sas_format_time(time_t t, char out[CC_SAS_TIME_LEN + 1]);

/*
 * Decodes a storage account key as the portal shows it (padded standard
 * base64; surrounding blanks and a final newline, as in a key file, are
 * ignored).  Returns 0 with *len set, or -1 when it is not base64 or
 * decodes to nothing or to more than CC_SAS_KEY_MAX bytes.
 */
int cc_sas_decode_key(const char *text, unsigned char out[CC_SAS_KEY_MAX],
    size_t *len);

/*
 * The string to sign for sas, malloc'd; NULL when a field is missing, a
 * field holds a newline (it would forge another field), the permissions
 * are not in canonical order, the protocol is neither value above, or the
 * expiry is not after the start.
 */
char *cc_sas_string_to_sign(const cc_sas_blob_t *sas);

/* Writes base64(HMAC-SHA256(key, msg)) and a NUL into sig[45]; 0 or -1. */
int cc_sas_signature(const unsigned char *key, size_t keylen,
    const char *msg, char sig[CC_SAS_SIG_LEN + 1]);

/*
 * The signed query string for sas, without the leading '?', malloc'd:
 * sv, sr=b, sp, st (when set), se, spr, sig, values percent-encoded.
 * NULL when the string to sign cannot be made or out of memory.
 */
char *cc_sas_blob_query(const cc_sas_blob_t *sas, const unsigned char *key,
    size_t keylen);

/*
 * Percent-encodes a blob name for a URL path: every byte except
 * A-Z a-z 0-9 - . _ ~ and '/' becomes %XX.  Malloc'd; NULL when out of
 * memory.
 */
char *cc_sas_encode_path(const char *name);

/* Writes t as an RFC 1123 date (x-ms-date) and a NUL into out[30]; 0 or
 * -1. */
int cc_sas_http_date(time_t t, char out[CC_SAS_DATE_LEN + 1]);

/*
 * The Shared Key string to sign of a request without a body and without
 * standard headers, carrying only x-ms-date: DATE and x-ms-version:
 * CC_SAS_VERSION, malloc'd:
 *
 *   METHOD, 11 empty standard-header lines, the two x-ms- headers, then
 *   /ACCOUNT + PATH (the URL's path, e.g. /devstoreaccount1/diagnostics on
 *   Azurite), then "\n" QUERY when QUERY (a canonical "name:value") is set.
 *
 * The caller signs it with cc_sas_signature() and sends
 * "Authorization: SharedKey ACCOUNT:SIGNATURE".  NULL when a value holds
 * a newline or a required one is empty, or out of memory.
 */
char *cc_sas_shared_key_string_to_sign(const char *method, const char *date,
    const char *account, const char *path, const char *query);

#endif /* CC_SAS_H */
