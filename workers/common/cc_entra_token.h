/*
 * App-only access tokens from Entra ID (the OAuth 2.0 client-credentials
 * grant) for the platform's own application, in any customer tenant that
 * has consented to it, cached per (tenant, scope) until shortly before
 * they expire.  Thread-safe: request threads share one client.
 *
 *   POST {login}/{tenant}/oauth2/v2.0/token
 *   client_id=...&client_secret=...&grant_type=client_credentials
 *   &scope={resource}/.default
 *
 * The secret is read once from a file and never logged; neither are
 * tokens.  A failure says whether trying again later can help (network,
 * timeout, 429, 5xx) or whether it is a credential or consent problem
 * that only an operator can fix (invalid_client, unauthorized_client...),
 * which callers must not retry in a loop (DESIGN.md rule 8).
 */

#ifndef CC_ENTRA_TOKEN_H
#define CC_ENTRA_TOKEN_H

#include <stddef.h>

#define CC_ENTRA_TOKEN_MAX  8192     /* longest access token accepted */

typedef struct cc_entra_token_client cc_entra_token_client_t;

typedef struct cc_entra_token_config {
    const char  *login_url;     /* e.g. https://login.microsoftonline.com */
    const char  *client_id;
    const char  *secret_file;   /* the client secret, one line */
    const char  *ca_file;       /* NULL or "": the system's CAs */
    int          timeout_ms;    /* the whole exchange */
} cc_entra_token_config_t;

typedef enum {
    CC_ENTRA_TOKEN_OK = 0,
    CC_ENTRA_TOKEN_TRANSIENT,   /* network, timeout, 429, 5xx: try later */
    CC_ENTRA_TOKEN_REFUSED,     /* credential, consent, tenant, scope */
    CC_ENTRA_TOKEN_INTERNAL
} cc_entra_token_status_t;

/* Why a token could not be had, in words fit for a log line. */
typedef struct cc_entra_token_error {
    long    http_status;        /* 0 without an answer */
    char    error[64];          /* Entra's "error", e.g. invalid_client */
    long    aadsts;             /* error_codes[0], 0 when absent */
    char    detail[96];         /* what went wrong, never a secret */
} cc_entra_token_error_t;

/*
 * Reads the secret file and makes a client.  Returns NULL (after logging
 * why, without the secret) when the file cannot be read or is empty.
 * Call curl_global_init() before, while no other thread runs.
 */
cc_entra_token_client_t *cc_entra_token_create(
    const cc_entra_token_config_t *cfg);

/* Wipes the secret and every cached token, and frees the client. */
void cc_entra_token_destroy(cc_entra_token_client_t *client);

/*
 * Puts a token for tenant and scope (e.g. https://graph.microsoft.com/
 * .default) into out, from the cache or from Entra.  On failure err says
 * why.  A refusal is remembered for a minute and answered from memory
 * meanwhile; a transient failure is not remembered.
 */
cc_entra_token_status_t cc_entra_token_get(cc_entra_token_client_t *client,
    const char *tenant, const char *scope, char *out, size_t outlen,
    cc_entra_token_error_t *err);

/* Drops a cached token a resource server refused (401), so the next
 * cc_entra_token_get() asks Entra again. */
void cc_entra_token_forget(cc_entra_token_client_t *client,
                           const char *tenant, const char *scope);

/*
 * Seconds a token answered with expires_in may be used: up to five
 * minutes less, but never less than half its life.
 */
long cc_entra_token_usable_seconds(long expires_in);

#endif /* CC_ENTRA_TOKEN_H */
