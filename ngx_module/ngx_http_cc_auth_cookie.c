
/*
 * Concierge: authentication by our own session cookie (lib/cc_session.h):
 * the MAC under the keyring from cc_auth_session_keys, the lifetime, the
 * registry's list of revoked session ids, and, for any method that can
 * change something, an Origin header equal to cc_auth_origin, because a
 * browser attaches the cookie to cross-site requests too.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cc_roles.h"

#include "ngx_http_cc_auth.h"


#define NGX_HTTP_CC_AUTH_SAFE_METHODS                                        \
    (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_OPTIONS)


static ngx_int_t ngx_http_cc_auth_identity_from_session(ngx_http_request_t *r,
    cc_session_t *session, ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_origin_matches(ngx_http_request_t *r,
    ngx_str_t *origin);
static void ngx_http_cc_auth_wipe_keyring(void *data);


/* NGX_OK and the cookie's value, or NGX_DECLINED when there is none. */

ngx_int_t
ngx_http_cc_auth_session_cookie(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_str_t *value)
{
#if (nginx_version >= 1023000)
    return ngx_http_parse_multi_header_lines(r, r->headers_in.cookie,
                                             &alcf->cookie_name, value)
           ? NGX_OK : NGX_DECLINED;
#else
    return ngx_http_parse_multi_header_lines(&r->headers_in.cookies,
                                             &alcf->cookie_name, value)
           == NGX_DECLINED ? NGX_DECLINED : NGX_OK;
#endif
}


ngx_int_t
ngx_http_cc_auth_cookie(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    u_char                   hex[NGX_HTTP_CC_SESSION_ID_LEN];
    ngx_str_t                value, sid;
    cc_session_t             session;
    cc_session_err_t         err;
    ngx_http_cc_registry_t  *reg;

    if (ngx_http_cc_auth_session_cookie(r, alcf, &value) != NGX_OK) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_NO_CREDENTIALS,
                                "missing_session");
        return NGX_DECLINED;
    }

    err = cc_session_verify(alcf->keyring, (const char *) value.data,
                            value.len, ngx_time(), &session);

    if (err == CC_SESSION_ERR_INTERNAL) {
        return NGX_ERROR;
    }

    if (err != CC_SESSION_OK) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_SESSION,
                                cc_session_strerror(err));
        return NGX_DECLINED;
    }

    reg = ngx_http_cc_auth_registry(r);

    sid.data = hex;
    sid.len = ngx_hex_dump(hex, session.sid, sizeof(session.sid)) - hex;

    if (ngx_http_cc_auth_session_revoked(reg, &sid) == NGX_OK) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_SESSION,
                                "session_revoked");
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_identity_from_session(r, &session, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if ((r->method & NGX_HTTP_CC_AUTH_SAFE_METHODS) == 0
        && ngx_http_cc_auth_origin_matches(r, &alcf->origin) != NGX_OK)
    {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_FORBIDDEN, "bad_origin");
        return NGX_DECLINED;
    }

    return ngx_http_cc_auth_check_tenant(r, reg, ctx);
}


static ngx_int_t
ngx_http_cc_auth_identity_from_session(ngx_http_request_t *r,
    cc_session_t *session, ngx_http_cc_auth_ctx_t *ctx)
{
    char  tenant[CC_UUID_STR_LEN + 1], user[CC_UUID_STR_LEN + 1];
    char  roles[CC_ROLES_STR_MAX];

    cc_uuid_format(session->tenant, tenant);
    cc_uuid_format(session->user, user);
    cc_roles_format(session->roles, roles);

    if (ngx_http_cc_auth_copy(r->pool, &ctx->tenant_id, tenant,
                              CC_UUID_STR_LEN)
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->user_id, user,
                                 CC_UUID_STR_LEN)
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->roles, roles,
                                 ngx_strlen(roles))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Exactly one Origin header, byte for byte the configured origin.  A
 * request without one is refused too: browsers send Origin with every
 * cross-site unsafe request, and ours always do.
 */

static ngx_int_t
ngx_http_cc_auth_origin_matches(ngx_http_request_t *r, ngx_str_t *origin)
{
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (h[i].key.len != sizeof("origin") - 1
                || ngx_strncmp(h[i].lowcase_key, "origin",
                               sizeof("origin") - 1)
                   != 0)
            {
                continue;
            }

            if (n++ > 0
                || origin->len == 0
                || h[i].value.len != origin->len
                || ngx_strncmp(h[i].value.data, origin->data, origin->len)
                   != 0)
            {
                return NGX_DECLINED;
            }
        }
    }

    return n == 1 ? NGX_OK : NGX_DECLINED;
}


char *
ngx_http_cc_auth_load_keyring(ngx_conf_t *cf, ngx_str_t *path,
    cc_session_keyring_t **keyring)
{
    ngx_str_t              name, text;
    cc_session_err_t       err;
    ngx_pool_cleanup_t    *cln;
    cc_session_keyring_t  *ring;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_cc_auth_read_file(cf, &name, 64 * 1024, &text) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ring = ngx_palloc(cf->pool, sizeof(cc_session_keyring_t));
    if (ring == NULL) {
        ngx_explicit_memzero(text.data, text.len);
        return NGX_CONF_ERROR;
    }

    cc_session_keyring_init(ring);

    err = cc_session_keyring_load(ring, (const char *) text.data, text.len);

    ngx_explicit_memzero(text.data, text.len);

    if (err == CC_SESSION_OK && ring->count == 0) {
        err = CC_SESSION_ERR_NO_ACTIVE_KEY;
    }

    if (err != CC_SESSION_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth_session_keys \"%V\" refused: %s",
                           &name, cc_session_strerror(err));
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        cc_session_keyring_wipe(ring);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_cc_auth_wipe_keyring;
    cln->data = ring;

    *keyring = ring;

    return NGX_CONF_OK;
}


static void
ngx_http_cc_auth_wipe_keyring(void *data)
{
    cc_session_keyring_wipe(data);
}
