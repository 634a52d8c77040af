/*
 * Blob Storage signing with the account key: the 16-line service SAS
 * string to sign of version 2020-12-06, HMAC-SHA256 under the decoded
 * account key, the query string whose values are byte-identical to what
 * was signed, and the Shared Key string to sign of a bodiless request.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cc_base64.h"
#include "cc_mac.h"
#include "cc_sas.h"

/* The blob permission letters in the order the service requires. */
#define CC_SAS_PERMISSION_ORDER  "racwdxyltfmeopi"


int
cc_sas_format_time(time_t t, char out[CC_SAS_TIME_LEN + 1])
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL
        || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999
        || strftime(out, CC_SAS_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm)
           != CC_SAS_TIME_LEN)
    {
        out[0] = '\0';
        return -1;
    }
    return 0;
}


int
cc_sas_decode_key(const char *text, unsigned char out[CC_SAS_KEY_MAX],
    size_t *len)
{
    unsigned char  *buf;
    size_t          start, end, n;
    int             rc;

    start = 0;
    end = strlen(text);
    while (start < end && isspace((unsigned char) text[start])) {
        start++;
    }
    while (end > start && isspace((unsigned char) text[end - 1])) {
        end--;
    }

    buf = malloc(cc_base64_decoded_max(end - start) + 1);
    if (buf == NULL) {
        return -1;
    }
    rc = -1;
    if (cc_base64_decode(text + start, end - start, buf, &n) == 0
        && n > 0 && n <= CC_SAS_KEY_MAX)
    {
        memcpy(out, buf, n);
        *len = n;
        rc = 0;
    }
    OPENSSL_cleanse(buf, cc_base64_decoded_max(end - start) + 1);
    free(buf);
    return rc;
}


/* True when s is present, not empty and cannot break a line of the string
 * to sign. */
static int
is_one_line(const char *s)
{
    return s != NULL && s[0] != '\0' && strpbrk(s, "\r\n") == NULL;
}


/* True when every letter of p is a permission and they come in order. */
static int
permissions_are_canonical(const char *p)
{
    const char  *order, *at;

    order = CC_SAS_PERMISSION_ORDER;
    for (; *p != '\0'; p++) {
        at = strchr(order, *p);
        if (at == NULL) {
            return 0;
        }
        order = at + 1;
    }
    return 1;
}


static int
sas_is_signable(const cc_sas_blob_t *sas)
{
    return is_one_line(sas->account) && is_one_line(sas->container)
           && is_one_line(sas->blob) && is_one_line(sas->permissions)
           && permissions_are_canonical(sas->permissions)
           && sas->protocol != NULL
           && (strcmp(sas->protocol, CC_SAS_HTTPS) == 0
               || strcmp(sas->protocol, CC_SAS_HTTPS_HTTP) == 0)
           && sas->expiry > sas->start;
}


char *
cc_sas_string_to_sign(const cc_sas_blob_t *sas)
{
    char    st[CC_SAS_TIME_LEN + 1], se[CC_SAS_TIME_LEN + 1];
    char   *out;
    size_t  len;

    if (!sas_is_signable(sas)) {
        return NULL;
    }
    st[0] = '\0';
    if ((sas->start != 0 && cc_sas_format_time(sas->start, st) != 0)
        || cc_sas_format_time(sas->expiry, se) != 0)
    {
        return NULL;
    }

    /* sp, st, se, canonical resource, si, sip, spr, sv, sr, snapshot
     * time, ses, rscc, rscd, rsce, rscl, rsct: unused fields are empty. */
    len = strlen(sas->permissions) + strlen(sas->account)
          + strlen(sas->container) + strlen(sas->blob)
          + strlen(sas->protocol) + 2 * CC_SAS_TIME_LEN + 64;
    out = malloc(len);
    if (out == NULL) {
        return NULL;
    }
    snprintf(out, len,
             "%s\n%s\n%s\n/blob/%s/%s/%s\n\n\n%s\n%s\nb\n\n\n\n\n\n\n",
             sas->permissions, st, se, sas->account, sas->container,
             sas->blob, sas->protocol, CC_SAS_VERSION);
    return out;
}


int
cc_sas_signature(const unsigned char *key, size_t keylen, const char *msg,
    char sig[CC_SAS_SIG_LEN + 1])
{
    unsigned char  mac[CC_HMAC_SHA256_LEN];
    int            rc;

    rc = -1;
    if (cc_hmac_sha256(key, keylen, (const unsigned char *) msg, strlen(msg),
                       mac) == 0
        && EVP_EncodeBlock((unsigned char *) sig, mac, sizeof(mac))
           == CC_SAS_SIG_LEN)
    {
        rc = 0;
    }
    OPENSSL_cleanse(mac, sizeof(mac));
    return rc;
}


/* Appends s to out percent-encoded, keeping unreserved bytes and the
 * bytes in keep; out has room for 3 * strlen(s) + 1 more. */
static char *
append_encoded(char *out, const char *s, const char *keep)
{
    static const char    hex[] = "0123456789ABCDEF";
    const unsigned char *p;

    for (p = (const unsigned char *) s; *p != '\0'; p++) {
        if (isalnum(*p) || strchr("-._~", *p) != NULL
            || (*p != '\0' && strchr(keep, *p) != NULL))
        {
            *out++ = (char) *p;
        } else {
            *out++ = '%';
            *out++ = hex[*p >> 4];
            *out++ = hex[*p & 0x0f];
        }
    }
    *out = '\0';
    return out;
}


char *
cc_sas_encode_path(const char *name)
{
    char  *out;

    out = malloc(3 * strlen(name) + 1);
    if (out != NULL) {
        append_encoded(out, name, "/");
    }
    return out;
}


/* Appends "&name=" (no '&' first) and the encoded value. */
static char *
append_param(char *out, int first, const char *name, const char *value)
{
    out += sprintf(out, "%s%s=", first ? "" : "&", name);
    return append_encoded(out, value, "");
}


char *
cc_sas_blob_query(const cc_sas_blob_t *sas, const unsigned char *key,
    size_t keylen)
{
    char    st[CC_SAS_TIME_LEN + 1], se[CC_SAS_TIME_LEN + 1];
    char    sig[CC_SAS_SIG_LEN + 1];
    char   *msg, *out, *p;
    int     rc;

    msg = cc_sas_string_to_sign(sas);
    if (msg == NULL) {
        return NULL;
    }
    rc = cc_sas_signature(key, keylen, msg, sig);
    free(msg);
    if (rc != 0) {
        return NULL;
    }
    cc_sas_format_time(sas->start, st);
    cc_sas_format_time(sas->expiry, se);

    /* Every value at most triples when encoded; the names are short. */
    out = malloc(3 * (strlen(sas->permissions) + strlen(sas->protocol)
                      + 2 * CC_SAS_TIME_LEN + CC_SAS_SIG_LEN) + 128);
    if (out == NULL) {
        OPENSSL_cleanse(sig, sizeof(sig));
        return NULL;
    }
    p = append_param(out, 1, "sv", CC_SAS_VERSION);
    p = append_param(p, 0, "sr", "b");
    p = append_param(p, 0, "sp", sas->permissions);
    if (sas->start != 0) {
        p = append_param(p, 0, "st", st);
    }
    p = append_param(p, 0, "se", se);
    p = append_param(p, 0, "spr", sas->protocol);
    append_param(p, 0, "sig", sig);
    OPENSSL_cleanse(sig, sizeof(sig));
    return out;
}


int
cc_sas_http_date(time_t t, char out[CC_SAS_DATE_LEN + 1])
{
    static const char  *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
                                   "Sat" };
    static const char  *months[] = { "Jan", "Feb", "Mar", "Apr", "May",
                                     "Jun", "Jul", "Aug", "Sep", "Oct",
                                     "Nov", "Dec" };
    struct tm           tm;
    char                buf[64];

    /* Names spelled out here: strftime's %a and %b follow the locale. */
    if (gmtime_r(&t, &tm) == NULL
        || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
    {
        out[0] = '\0';
        return -1;
    }
    if (snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec)
        != CC_SAS_DATE_LEN)
    {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, buf, CC_SAS_DATE_LEN + 1);
    return 0;
}


char *
cc_sas_shared_key_string_to_sign(const char *method, const char *date,
    const char *account, const char *path, const char *query)
{
    char    *out;
    size_t   len;

    if (!is_one_line(method) || !is_one_line(date) || !is_one_line(account)
        || !is_one_line(path) || path[0] != '/'
        || (query != NULL && !is_one_line(query)))
    {
        return NULL;
    }
    len = strlen(method) + strlen(date) + strlen(account) + strlen(path)
          + (query != NULL ? strlen(query) : 0) + 64;
    out = malloc(len);
    if (out == NULL) {
        return NULL;
    }
    /* Content-Encoding, -Language, -Length, -MD5, -Type, Date,
     * If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since and
     * Range are all absent (a zero Content-Length is signed as empty). */
    snprintf(out, len, "%s\n\n\n\n\n\n\n\n\n\n\n\n"
             "x-ms-date:%s\nx-ms-version:%s\n/%s%s%s%s",
             method, date, CC_SAS_VERSION, account, path,
             query != NULL ? "\n" : "", query != NULL ? query : "");
    return out;
}
