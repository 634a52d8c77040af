
/*
 * Concierge: the SHA-256 digest a token is cached under.  On a cache hit
 * the digest is nearly all the work, so it is made cheap twice over: the
 * algorithm is fetched once per worker (OpenSSL 3.0 looks it up again on
 * every EVP_Digest(EVP_sha256()), which in a busy worker costs more than
 * the hash), and a keep-alive connection remembers the digest of the last
 * token it sent, since clients send the same one on every request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ngx_http_cc_auth.h"


/* longer tokens are hashed every time rather than kept per connection */
#define NGX_HTTP_CC_AUTH_MEMO_MAX  4096


/*
 * Lives in the connection's pool, found through its cleanup list; the
 * token copy is only compared with what the same client sends next.
 */
typedef struct {
    size_t                        len;
    size_t                        size;
    u_char                       *token;
    u_char                        digest[CC_SHA256_LEN];
} ngx_http_cc_auth_memo_t;


static ngx_int_t ngx_http_cc_auth_sha256(ngx_str_t *token, u_char *digest);
static ngx_int_t ngx_http_cc_auth_sha256_init(void);
static ngx_http_cc_auth_memo_t *ngx_http_cc_auth_memo(ngx_http_request_t *r);
static void ngx_http_cc_auth_remember_digest(ngx_http_request_t *r,
    ngx_http_cc_auth_memo_t *memo, ngx_str_t *token, u_char *digest);
static void ngx_http_cc_auth_memo_cleanup(void *data);


/* fetched, and allocated, once per worker process */
static EVP_MD      *sha256;
static EVP_MD_CTX  *md;


ngx_int_t
ngx_http_cc_auth_token_digest(ngx_http_request_t *r, ngx_str_t *token,
    u_char *digest)
{
    ngx_http_cc_auth_memo_t  *memo;

    memo = ngx_http_cc_auth_memo(r);

    if (memo && memo->len == token->len
        && ngx_memcmp(memo->token, token->data, token->len) == 0)
    {
        ngx_memcpy(digest, memo->digest, CC_SHA256_LEN);
        return NGX_OK;
    }

    if (ngx_http_cc_auth_sha256(token, digest) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_cc_auth_remember_digest(r, memo, token, digest);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_sha256(ngx_str_t *token, u_char *digest)
{
    unsigned int  len;

    if (md == NULL && ngx_http_cc_auth_sha256_init() != NGX_OK) {
        return NGX_ERROR;
    }

    if (EVP_DigestInit_ex2(md, sha256, NULL) != 1
        || EVP_DigestUpdate(md, token->data, token->len) != 1
        || EVP_DigestFinal_ex(md, digest, &len) != 1
        || len != CC_SHA256_LEN)
    {
        ERR_clear_error();
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_sha256_init(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    md = EVP_MD_CTX_new();

    if (sha256 == NULL || md == NULL) {
        ngx_http_cc_auth_free_digest();
        ERR_clear_error();
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* At worker exit, so leak checkers stay quiet. */

void
ngx_http_cc_auth_free_digest(void)
{
    EVP_MD_CTX_free(md);
    EVP_MD_free(sha256);
    md = NULL;
    sha256 = NULL;
}


/* HTTP/2 streams have a pool each: there the digest is not remembered. */

static ngx_http_cc_auth_memo_t *
ngx_http_cc_auth_memo(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

#if (NGX_HTTP_V2)
    if (r->stream) {
        return NULL;
    }
#endif

    for (cln = r->connection->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_cc_auth_memo_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


/*
 * One buffer of NGX_HTTP_CC_AUTH_MEMO_MAX bytes per connection, allocated
 * on first use: each token overwrites the last, and what is left of a
 * longer earlier one is wiped, so the connection never holds more than the
 * one copy its cleanup wipes.
 */

static void
ngx_http_cc_auth_remember_digest(ngx_http_request_t *r,
    ngx_http_cc_auth_memo_t *memo, ngx_str_t *token, u_char *digest)
{
    ngx_pool_t          *pool;
    ngx_pool_cleanup_t  *cln;

#if (NGX_HTTP_V2)
    if (r->stream) {
        return;
    }
#endif

    if (token->len > NGX_HTTP_CC_AUTH_MEMO_MAX) {
        return;
    }

    pool = r->connection->pool;

    if (memo == NULL) {
        cln = ngx_pool_cleanup_add(pool, sizeof(ngx_http_cc_auth_memo_t));
        if (cln == NULL) {
            return;
        }

        memo = cln->data;
        ngx_memzero(memo, sizeof(ngx_http_cc_auth_memo_t));

        cln->handler = ngx_http_cc_auth_memo_cleanup;
    }

    if (memo->token == NULL) {
        memo->token = ngx_pnalloc(pool, NGX_HTTP_CC_AUTH_MEMO_MAX);
        if (memo->token == NULL) {
            return;
        }

        memo->size = NGX_HTTP_CC_AUTH_MEMO_MAX;
    }

    if (memo->len > token->len) {
        ngx_explicit_memzero(memo->token + token->len,
                             memo->len - token->len);
    }

    ngx_memcpy(memo->token, token->data, token->len);
    ngx_memcpy(memo->digest, digest, CC_SHA256_LEN);
    memo->len = token->len;
}


/* The token's copy is wiped when the connection closes. */

static void
ngx_http_cc_auth_memo_cleanup(void *data)
{
    ngx_http_cc_auth_memo_t  *memo = data;

    if (memo->token) {
        ngx_explicit_memzero(memo->token, memo->size);
    }
}
