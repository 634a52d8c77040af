/*
 * Diagnostics upload URLs for device agents (agent-protocol.md 11): a
 * short-lived service SAS that lets one device create exactly one blob,
 * {tenant}/{session}/{FileName}, in the diagnostics container.
 */

#ifndef INGEST_UPLOAD_H
#define INGEST_UPLOAD_H

#include <stddef.h>

#include "cc_config.h"
#include "cc_http.h"
#include "cc_sas.h"

/* Blob storage as configured (CC_BLOB_*), the key decoded. */
typedef struct ingest_upload_s {
    char           base_url[CC_CONFIG_STR_LEN];  /* no trailing '/' */
    const char    *account;
    const char    *container;
    const char    *protocol;        /* CC_SAS_HTTPS unless base_url is http */
    int            minutes;         /* lifetime of a URL */
    unsigned char  key[CC_SAS_KEY_MAX];
    size_t         keylen;
} ingest_upload_t;

/*
 * Reads the blob settings and the account key, and creates the container
 * when it is missing (a failure to is logged, not fatal).  Returns 1 when
 * uploads are configured, 0 when CC_BLOB_URL is unset (upload-url then
 * answers 503), -1 after logging what is wrong (a partial or invalid
 * configuration).  Call it before any thread runs (curl_global_init()).
 */
int ingest_upload_init(ingest_upload_t *up, const cc_config_t *cfg);

/* Wipes the account key. */
void ingest_upload_forget(ingest_upload_t *up);

/* POST /api/agent/upload-url */
void ingest_upload_url(cc_request_t *req, cc_reply_t *rep);

#endif /* INGEST_UPLOAD_H */
