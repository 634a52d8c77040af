
/*
 * Concierge: who is calling.  In the PREACCESS phase, before anything
 * that reads the identity (rate limits, tenant routing, the identity
 * headers passed upstream), this module authenticates the request by the
 * method its location asks for: an Entra ID bearer token, our session
 * cookie, or an Intune device certificate (or, where the location allows
 * it, a bootstrap token instead); then the tenant must be active
 * in the registry.  The result is a set of variables ($cc_tenant_id,
 * $cc_user_id, ...); a refusal is answered here, in JSON.
 *
 * The concerns live in their own files: ngx_http_cc_auth_keys.c (JWKS
 * keys), _cache.c (verified-token cache), _bearer.c, _cookie.c,
 * _device.c, _bootstrap.c, _registry.c and _reply.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_ctx.h"

#include "ngx_http_cc_auth.h"


#define NGX_HTTP_CC_AUTH_MIN_TOKEN_SIZE     1024
#define NGX_HTTP_CC_AUTH_MAX_TOKEN_SIZE     (1024 * 1024)
#define NGX_HTTP_CC_AUTH_MIN_CACHE_SIZE     (8 * ngx_pagesize)


static ngx_int_t ngx_http_cc_auth_handler(ngx_http_request_t *r);
static ngx_http_cc_auth_ctx_t *ngx_http_cc_auth_get_ctx(ngx_http_request_t *r);
static ngx_http_cc_auth_ctx_t *ngx_http_cc_auth_create_ctx(
    ngx_http_request_t *r);
static void ngx_http_cc_auth_cleanup(void *data);
static ngx_int_t ngx_http_cc_auth_authenticate(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_bearer_or_cookie(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_device_or_bootstrap(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);

static ngx_int_t ngx_http_cc_auth_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_auth_method_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_auth_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_auth_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static void ngx_http_cc_auth_set_variable(ngx_http_variable_value_t *v,
    u_char *data, size_t len);

static void *ngx_http_cc_auth_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_cc_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_cc_auth_platform_tenant(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_cc_auth_limit_roles(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx);
static char *ngx_http_cc_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_cc_auth_check_mode(ngx_conf_t *cf,
    ngx_http_cc_auth_loc_conf_t *conf);
static ngx_int_t ngx_http_cc_auth_build_policy(ngx_conf_t *cf,
    ngx_http_cc_auth_loc_conf_t *conf);

static char *ngx_http_cc_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_auth_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_auth_add_string(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_auth_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_auth_session_keys(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_cc_auth_origin(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_auth_cookie_name(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_auth_check_leeway(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_cc_auth_check_token_size(ngx_conf_t *cf, void *post,
    void *data);

static ngx_int_t ngx_http_cc_auth_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_cc_auth_init(ngx_conf_t *cf);
static void ngx_http_cc_auth_exit_process(ngx_cycle_t *cycle);


static ngx_conf_enum_t  ngx_http_cc_auth_modes[] = {
    { ngx_string("off"), NGX_HTTP_CC_AUTH_OFF },
    { ngx_string("bearer"), NGX_HTTP_CC_AUTH_BEARER },
    { ngx_string("cookie"), NGX_HTTP_CC_AUTH_COOKIE },
    { ngx_string("device"), NGX_HTTP_CC_AUTH_DEVICE },
    { ngx_string("bearer_or_cookie"), NGX_HTTP_CC_AUTH_BEARER_OR_COOKIE },
    { ngx_null_string, 0 }
};


static ngx_conf_post_handler_pt  ngx_http_cc_auth_leeway_post =
    ngx_http_cc_auth_check_leeway;

static ngx_conf_post_handler_pt  ngx_http_cc_auth_token_size_post =
    ngx_http_cc_auth_check_token_size;


static ngx_command_t  ngx_http_cc_auth_commands[] = {

    { ngx_string("cc_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_cc_auth_mode,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_auth_tenant_check"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, tenant_check),
      NULL },

    { ngx_string("cc_auth_jwks_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_jwks_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_auth_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_add_string,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, issuers),
      NULL },

    { ngx_string("cc_auth_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_add_string,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, audiences),
      NULL },

    { ngx_string("cc_auth_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, leeway),
      &ngx_http_cc_auth_leeway_post },

    { ngx_string("cc_auth_max_token_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, max_token_size),
      &ngx_http_cc_auth_token_size_post },

    { ngx_string("cc_auth_cache"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_cc_auth_cache,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_auth_cookie_name"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_cookie_name,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, cookie_name),
      NULL },

    { ngx_string("cc_auth_session_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_session_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_auth_origin"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_origin,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, origin),
      NULL },

    { ngx_string("cc_auth_platform_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_auth_platform_tenant,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_auth_loc_conf_t, platform_tenant),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cc_auth_module_ctx = {
    ngx_http_cc_auth_add_variables,        /* preconfiguration */
    ngx_http_cc_auth_init,                 /* postconfiguration */

    ngx_http_cc_auth_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cc_auth_create_loc_conf,      /* create location configuration */
    ngx_http_cc_auth_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_cc_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_cc_auth_module_ctx,          /* module context */
    ngx_http_cc_auth_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_cc_auth_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_cc_auth_vars[] = {

    { ngx_string("cc_tenant_id"), NULL, ngx_http_cc_auth_identity_variable,
      offsetof(ngx_http_cc_auth_ctx_t, tenant_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_user_id"), NULL, ngx_http_cc_auth_identity_variable,
      offsetof(ngx_http_cc_auth_ctx_t, user_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_user_name"), NULL, ngx_http_cc_auth_identity_variable,
      offsetof(ngx_http_cc_auth_ctx_t, user_name),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_roles"), NULL, ngx_http_cc_auth_identity_variable,
      offsetof(ngx_http_cc_auth_ctx_t, roles),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_device_id"), NULL, ngx_http_cc_auth_identity_variable,
      offsetof(ngx_http_cc_auth_ctx_t, device_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_bootstrap_id"), NULL,
      ngx_http_cc_auth_identity_variable,
      offsetof(ngx_http_cc_auth_ctx_t, bootstrap_id),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_auth_method"), NULL, ngx_http_cc_auth_method_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_auth_error"), NULL, ngx_http_cc_auth_error_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_auth_cache"), NULL, ngx_http_cc_auth_cache_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_cc_auth_method_names[] = {
    ngx_string("none"),
    ngx_string("bearer"),
    ngx_string("cookie"),
    ngx_string("device"),
    ngx_string("bootstrap")
};


static ngx_str_t  ngx_http_cc_auth_cache_names[] = {
    ngx_null_string,
    ngx_string("miss"),
    ngx_string("hit"),
    ngx_string("revalidated")
};


/*
 * Runs in every location with cc_auth that a request ends up in, under
 * that location's policy (once: a rewrite that comes back to the same
 * location does not authenticate again).  A location without cc_auth
 * keeps the identity established before an internal redirect, so that
 * try_files or error_page may hand an authenticated request to a plain
 * proxy location.  Subrequests share the main request's identity.  A
 * refusal is answered here and the request finalized, as a content
 * handler's would be.
 */

static ngx_int_t
ngx_http_cc_auth_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_cc_auth_ctx_t       *ctx;
    ngx_http_cc_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_auth_module);

    if (alcf->mode == NGX_HTTP_CC_AUTH_OFF || r != r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_cc_auth_get_ctx(r);

    if (ctx != NULL && ctx->conf == alcf) {
        return NGX_DECLINED;
    }

    if (ctx == NULL) {
        ctx = ngx_http_cc_auth_create_ctx(r);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

    } else {
        ngx_memzero(ctx, sizeof(ngx_http_cc_auth_ctx_t));
    }

    ctx->conf = alcf;

    rc = ngx_http_cc_auth_authenticate(r, alcf, ctx);

    if (rc == NGX_OK) {
        return ngx_http_cc_auth_limit_roles(r, alcf, ctx) == NGX_OK
               ? NGX_DECLINED : NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->method = NGX_HTTP_CC_AUTH_METHOD_NONE;

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, ngx_http_cc_auth_reply(r, alcf, ctx));

    return NGX_DONE;
}


/*
 * An internal redirect clears every module's context; the identity is
 * found again through the request pool's cleanup list, as the realip
 * module finds its own.
 */

static ngx_http_cc_auth_ctx_t *
ngx_http_cc_auth_get_ctx(ngx_http_request_t *r)
{
    return ngx_http_cc_ctx_get(r, &ngx_http_cc_auth_module,
                               ngx_http_cc_auth_cleanup);
}


static ngx_http_cc_auth_ctx_t *
ngx_http_cc_auth_create_ctx(ngx_http_request_t *r)
{
    return ngx_http_cc_ctx_create(r, &ngx_http_cc_auth_module,
                                  sizeof(ngx_http_cc_auth_ctx_t),
                                  ngx_http_cc_auth_cleanup);
}


/* Only a marker for ngx_http_cc_auth_get_ctx: the pool frees the data. */

static void
ngx_http_cc_auth_cleanup(void *data)
{
}


/* NGX_OK with ctx->method set, NGX_DECLINED (refused) or NGX_ERROR. */

static ngx_int_t
ngx_http_cc_auth_authenticate(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    switch (alcf->mode) {

    case NGX_HTTP_CC_AUTH_BEARER:
        ctx->method = NGX_HTTP_CC_AUTH_METHOD_BEARER;
        return ngx_http_cc_auth_bearer(r, alcf, ctx);

    case NGX_HTTP_CC_AUTH_COOKIE:
        ctx->method = NGX_HTTP_CC_AUTH_METHOD_COOKIE;
        return ngx_http_cc_auth_cookie(r, alcf, ctx);

    case NGX_HTTP_CC_AUTH_DEVICE:
        return ngx_http_cc_auth_device_or_bootstrap(r, alcf, ctx);

    default: /* NGX_HTTP_CC_AUTH_BEARER_OR_COOKIE */
        return ngx_http_cc_auth_bearer_or_cookie(r, alcf, ctx);
    }
}


/*
 * Where bootstrap tokens are allowed, a request that sends one is judged
 * by it alone (agent-protocol.md 3 step 3); any other by its certificate.
 */

static ngx_int_t
ngx_http_cc_auth_device_or_bootstrap(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_str_t  value;

    if (alcf->bootstrap
        && ngx_http_cc_auth_bootstrap_token(r, &value) == NGX_OK)
    {
        ctx->method = NGX_HTTP_CC_AUTH_METHOD_BOOTSTRAP;
        return ngx_http_cc_auth_bootstrap(r, alcf, ctx);
    }

    ctx->method = NGX_HTTP_CC_AUTH_METHOD_DEVICE;
    return ngx_http_cc_auth_device(r, alcf, ctx);
}


/* A token, when one is sent, wins: API clients may carry a stray cookie. */

static ngx_int_t
ngx_http_cc_auth_bearer_or_cookie(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    ngx_str_t  value;

    if (ngx_http_cc_auth_bearer_token(r, &value) == NGX_OK) {
        ctx->method = NGX_HTTP_CC_AUTH_METHOD_BEARER;
        return ngx_http_cc_auth_bearer(r, alcf, ctx);
    }

    if (ngx_http_cc_auth_session_cookie(r, alcf, &value) == NGX_OK) {
        ctx->method = NGX_HTTP_CC_AUTH_METHOD_COOKIE;
        return ngx_http_cc_auth_cookie(r, alcf, ctx);
    }

    ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_NO_CREDENTIALS,
                            "missing_token");

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_cc_auth_copy(ngx_pool_t *pool, ngx_str_t *dst, const char *src,
    size_t len)
{
    dst->data = ngx_pnalloc(pool, len ? len : 1);
    if (dst->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(dst->data, src, len);
    dst->len = len;

    return NGX_OK;
}


/* Reads at most max + 1 bytes, so that a parser can say "too large". */

ngx_int_t
ngx_http_cc_auth_read_file(ngx_conf_t *cf, ngx_str_t *name, size_t max,
    ngx_str_t *text)
{
    ssize_t          n;
    ngx_fd_t         fd;
    ngx_file_info_t  fi;

    fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", name);
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    text->len = ngx_min((size_t) ngx_file_size(&fi), max + 1);
    text->data = ngx_pnalloc(cf->temp_pool, text->len + 1);
    if (text->data == NULL) {
        ngx_close_file(fd);
        return NGX_ERROR;
    }

    n = ngx_read_fd(fd, text->data, text->len);

    ngx_close_file(fd);

    if (n == -1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_read_fd_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    text->len = n;

    return NGX_OK;
}


/*
 * Identity variables are empty unless the request was authenticated: a
 * refused credential names nobody.  $cc_auth_error says why instead.
 */

static ngx_int_t
ngx_http_cc_auth_identity_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *s;
    ngx_http_cc_auth_ctx_t  *ctx;

    ctx = ngx_http_cc_auth_get_ctx(r->main);

    if (ctx == NULL || ctx->method == NGX_HTTP_CC_AUTH_METHOD_NONE) {
        ngx_http_cc_auth_set_variable(v, (u_char *) "", 0);
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    ngx_http_cc_auth_set_variable(v, s->data, s->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_method_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *name;
    ngx_http_cc_auth_ctx_t  *ctx;

    ctx = ngx_http_cc_auth_get_ctx(r->main);

    name = &ngx_http_cc_auth_method_names[ctx ? ctx->method
                                              : NGX_HTTP_CC_AUTH_METHOD_NONE];

    ngx_http_cc_auth_set_variable(v, name->data, name->len);

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_error_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_cc_auth_ctx_t  *ctx;

    ctx = ngx_http_cc_auth_get_ctx(r->main);

    if (ctx == NULL || ctx->error == NULL) {
        ngx_http_cc_auth_set_variable(v, (u_char *) "", 0);
        return NGX_OK;
    }

    ngx_http_cc_auth_set_variable(v, (u_char *) ctx->error,
                                  ngx_strlen(ctx->error));

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_cache_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t               *name;
    ngx_http_cc_auth_ctx_t  *ctx;

    ctx = ngx_http_cc_auth_get_ctx(r->main);

    name = &ngx_http_cc_auth_cache_names[ctx ? ctx->cache
                                             : NGX_HTTP_CC_AUTH_CACHE_OFF];

    ngx_http_cc_auth_set_variable(v, name->data ? name->data : (u_char *) "",
                                  name->len);

    return NGX_OK;
}


static void
ngx_http_cc_auth_set_variable(ngx_http_variable_value_t *v, u_char *data,
    size_t len)
{
    v->data = data;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
}


static void *
ngx_http_cc_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_cc_auth_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_auth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->cache = NULL;
     *     amcf->cache_max_ttl = 0;
     */

    return amcf;
}


static void *
ngx_http_cc_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_cc_auth_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_auth_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->policy = { 0 };
     *     conf->tag = { 0 };
     *     conf->cookie_name = { 0, NULL };
     *     conf->origin = { 0, NULL };
     */

    conf->mode = NGX_CONF_UNSET_UINT;
    conf->bootstrap = NGX_CONF_UNSET_UINT;
    conf->tenant_check = NGX_CONF_UNSET;
    conf->jwks = NGX_CONF_UNSET_PTR;
    conf->issuers = NGX_CONF_UNSET_PTR;
    conf->audiences = NGX_CONF_UNSET_PTR;
    conf->leeway = NGX_CONF_UNSET;
    conf->max_token_size = NGX_CONF_UNSET_SIZE;
    conf->keyring = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_cc_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_cc_auth_loc_conf_t *prev = parent;
    ngx_http_cc_auth_loc_conf_t *conf = child;

    /* the method and its bootstrap flag come from one directive */
    if (conf->mode == NGX_CONF_UNSET_UINT) {
        conf->bootstrap = prev->bootstrap;
    }

    ngx_conf_merge_uint_value(conf->mode, prev->mode, NGX_HTTP_CC_AUTH_OFF);
    ngx_conf_merge_uint_value(conf->bootstrap, prev->bootstrap, 0);
    ngx_conf_merge_value(conf->tenant_check, prev->tenant_check, 1);
    ngx_conf_merge_ptr_value(conf->jwks, prev->jwks, NULL);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway,
                             NGX_HTTP_CC_AUTH_DEFAULT_LEEWAY);
    ngx_conf_merge_size_value(conf->max_token_size, prev->max_token_size,
                              NGX_HTTP_CC_AUTH_DEFAULT_MAX_TOKEN);
    ngx_conf_merge_str_value(conf->cookie_name, prev->cookie_name,
                             "cc_session");
    ngx_conf_merge_ptr_value(conf->keyring, prev->keyring, NULL);
    ngx_conf_merge_str_value(conf->origin, prev->origin, "");
    ngx_conf_merge_str_value(conf->platform_tenant, prev->platform_tenant, "");

    if (ngx_http_cc_auth_check_mode(cf, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_cc_auth_build_policy(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A method that cannot work is a configuration error, not a 401 later. */

static char *
ngx_http_cc_auth_check_mode(ngx_conf_t *cf, ngx_http_cc_auth_loc_conf_t *conf)
{
    if ((conf->mode == NGX_HTTP_CC_AUTH_BEARER
         || conf->mode == NGX_HTTP_CC_AUTH_BEARER_OR_COOKIE)
        && (conf->issuers == NULL || conf->audiences == NULL))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth accepts bearer tokens but "
                           "cc_auth_issuer or cc_auth_audience is missing");
        return NGX_CONF_ERROR;
    }

    if ((conf->mode == NGX_HTTP_CC_AUTH_COOKIE
         || conf->mode == NGX_HTTP_CC_AUTH_BEARER_OR_COOKIE)
        && (conf->keyring == NULL || conf->origin.len == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth accepts session cookies but "
                           "cc_auth_session_keys or cc_auth_origin is "
                           "missing");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * lib's policy points at the configuration's strings; the tag digests
 * everything the verdict on a token depends on besides the registry.
 */

static ngx_int_t
ngx_http_cc_auth_build_policy(ngx_conf_t *cf,
    ngx_http_cc_auth_loc_conf_t *conf)
{
    char         **s;
    size_t         len;
    u_char        *text, *p;
    ngx_uint_t     i;
    ngx_array_t   *lists[2];
    u_char         digest[CC_SHA256_LEN];

    lists[0] = conf->issuers;
    lists[1] = conf->audiences;

    conf->policy.max_len = conf->max_token_size;
    conf->policy.leeway = conf->leeway;
    conf->policy.algs = 0;

    if (lists[0]) {
        conf->policy.issuers = (const char *const *) lists[0]->elts;
        conf->policy.n_issuers = lists[0]->nelts;
    }

    if (lists[1]) {
        conf->policy.audiences = (const char *const *) lists[1]->elts;
        conf->policy.n_audiences = lists[1]->nelts;
    }

    len = 2 * NGX_OFF_T_LEN + NGX_INT_T_LEN + 5 + CC_SHA256_LEN;

    for (i = 0; i < 2; i++) {
        s = lists[i] ? lists[i]->elts : NULL;

        while (s && s < (char **) lists[i]->elts + lists[i]->nelts) {
            len += ngx_strlen(*s++) + 1;
        }
    }

    text = ngx_pnalloc(cf->temp_pool, len);
    if (text == NULL) {
        return NGX_ERROR;
    }

    p = text;

    for (i = 0; i < 2; i++) {
        s = lists[i] ? lists[i]->elts : NULL;

        while (s && s < (char **) lists[i]->elts + lists[i]->nelts) {
            p = ngx_sprintf(p, "%s%Z", *s++);
        }

        *p++ = '\n';
    }

    /* a token cached where the tenant is not checked is no hit where it is */
    p = ngx_sprintf(p, "%T %uz %i\n", conf->leeway, conf->max_token_size,
                    conf->tenant_check);

    if (conf->jwks) {
        p = ngx_cpymem(p, conf->jwks->digest, CC_SHA256_LEN);
    }

    if (cc_sha256(text, p - text, digest) != 0) {
        return NGX_ERROR;
    }

    ngx_memcpy(conf->tag, digest, NGX_HTTP_CC_AUTH_TAG_LEN);

    return NGX_OK;
}


static char *
ngx_http_cc_auth_mode(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_auth_loc_conf_t *alcf = conf;

    ngx_str_t        *value;
    ngx_conf_enum_t  *e;

    if (alcf->mode != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (e = ngx_http_cc_auth_modes; e->name.len; e++) {
        if (e->name.len == value[1].len
            && ngx_strcmp(e->name.data, value[1].data) == 0)
        {
            alcf->mode = e->value;
            break;
        }
    }

    if (e->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth \"%V\": off, bearer, cookie, device or "
                           "bearer_or_cookie expected", &value[1]);
        return NGX_CONF_ERROR;
    }

    alcf->bootstrap = 0;

    if (cf->args->nelts == 2) {
        return NGX_CONF_OK;
    }

    if (value[2].len != sizeof("bootstrap") - 1
        || ngx_strcmp(value[2].data, "bootstrap") != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth \"%V\": only \"bootstrap\" may follow "
                           "the method", &value[2]);
        return NGX_CONF_ERROR;
    }

    /* a token stands in for a device certificate, for nothing else */
    if (alcf->mode != NGX_HTTP_CC_AUTH_DEVICE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth \"%V bootstrap\": bootstrap tokens are "
                           "accepted only with \"device\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    alcf->bootstrap = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_cc_auth_jwks_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->jwks != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_cc_auth_load_jwks(cf, &value[1], &alcf->jwks);
}


/*
 * cc_auth_issuer and cc_auth_audience may repeat; a level that names any
 * replaces, rather than adds to, what it would inherit.
 */

static char *
ngx_http_cc_auth_add_string(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    char         **s;
    ngx_str_t     *value;
    ngx_uint_t     i;
    ngx_array_t  **list;

    list = (ngx_array_t **) (p + cmd->offset);
    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty value";
    }

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= ' ' || value[1].data[i] == 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%V \"%V\": spaces and control characters "
                               "are not allowed", &cmd->name, &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (*list == NGX_CONF_UNSET_PTR) {
        *list = ngx_array_create(cf->pool, 4, sizeof(char *));
        if (*list == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    s = (*list)->elts;

    for (i = 0; i < (*list)->nelts; i++) {
        if (ngx_strcmp(s[i], value[1].data) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%V \"%V\" is given twice", &cmd->name,
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if ((*list)->nelts == NGX_HTTP_CC_AUTH_MAX_ISSUERS) {
        return "is repeated too many times";
    }

    s = ngx_array_push(*list);
    if (s == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the configuration parser NUL-terminates every word */
    *s = (char *) value[1].data;

    return NGX_CONF_OK;
}


/* cc_auth_cache zone=NAME:SIZE [max_ttl=TIME] */

static char *
ngx_http_cc_auth_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_auth_main_conf_t *amcf = conf;

    u_char      *colon;
    ssize_t      size;
    ngx_str_t   *value, name, s;
    ngx_int_t    ttl;
    ngx_uint_t   i;

    if (amcf->cache) {
        return "is duplicate";
    }

    value = cf->args->elts;
    size = 0;
    ngx_str_null(&name);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;
            colon = (u_char *) ngx_strchr(name.data, ':');

            if (colon == NULL || colon == name.data) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "cc_auth_cache \"%V\": zone=NAME:SIZE "
                                   "expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = colon - name.data;

            s.data = colon + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "cc_auth_cache \"%V\": invalid size",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) NGX_HTTP_CC_AUTH_MIN_CACHE_SIZE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "cc_auth_cache \"%V\": the zone is too "
                                   "small (8 pages at least)", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_ttl=", 8) == 0) {

            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            ttl = ngx_parse_time(&s, 1);

            if (ttl == NGX_ERROR || ttl == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "cc_auth_cache \"%V\": a time of 1s or "
                                   "more expected", &value[i]);
                return NGX_CONF_ERROR;
            }

            amcf->cache_max_ttl = (time_t) ttl;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "cc_auth_cache \"%V\": unknown parameter",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        return "needs the \"zone\" parameter";
    }

    amcf->cache = ngx_http_cc_auth_cache_add(cf, &name, size);

    return amcf->cache ? NGX_CONF_OK : NGX_CONF_ERROR;
}


static char *
ngx_http_cc_auth_session_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->keyring != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_cc_auth_load_keyring(cf, &value[1], &alcf->keyring);
}


/*
 * An origin as browsers serialise it: scheme "://" host [":" port], lower
 * case, nothing after, so that comparing bytes is comparing origins.
 */

static char *
ngx_http_cc_auth_origin(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char     *p, *host, *end;
    ngx_str_t  *value, *origin;

    value = cf->args->elts;
    p = value[1].data;
    end = p + value[1].len;

    if (value[1].len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        host = p + 7;

    } else if (value[1].len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        host = p + 8;

    } else {
        goto invalid;
    }

    for (p = host; p < end; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '.' || *p == '-' || *p == ':' || *p == '['
              || *p == ']'))
        {
            goto invalid;
        }
    }

    origin = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (origin->data) {
        return "is duplicate";
    }

    *origin = value[1];

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "cc_auth_origin \"%V\": scheme://host[:port] in lower "
                       "case expected, as a browser sends it", &value[1]);

    return NGX_CONF_ERROR;
}


/* A cookie-name is an RFC 6265 token. */

static char *
ngx_http_cc_auth_cookie_name(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char     *p;
    ngx_str_t  *value, *name;

    value = cf->args->elts;

    if (value[1].len == 0) {
        return "has an empty value";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p <= ' ' || *p >= 0x7f
            || ngx_strchr("()<>@,;:\\\"/[]?={}", *p) != NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "cc_auth_cookie_name \"%V\" is not a cookie "
                               "name (an RFC 6265 token)", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    name = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (name->data) {
        return "is duplicate";
    }

    *name = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_cc_auth_check_leeway(ngx_conf_t *cf, void *post, void *data)
{
    time_t  *leeway = data;

    if (*leeway > CC_JWT_MAX_LEEWAY) {
        return "must not exceed 300s (Entra's advice for clock skew)";
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_cc_auth_check_token_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *size = data;

    if (*size < NGX_HTTP_CC_AUTH_MIN_TOKEN_SIZE
        || *size > NGX_HTTP_CC_AUTH_MAX_TOKEN_SIZE)
    {
        return "must be between 1k and 1m";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cc_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_cc_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_auth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_cc_auth_handler;

    return NGX_OK;
}


static void
ngx_http_cc_auth_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_cc_auth_free_process_keys();
    ngx_http_cc_auth_free_digest();
}


/*
 * Drops global_admin from the roles of anyone outside the platform tenant
 * (ngx_http_cc_auth.h says why), before any variable, upstream header or
 * later module sees them.
 */

static ngx_int_t
ngx_http_cc_auth_limit_roles(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
    u_char     *p, *start, *end, *out;
    size_t      len;
    ngx_str_t   role = ngx_string("global_admin");

    if (alcf->platform_tenant.len
        && ctx->tenant_id.len == alcf->platform_tenant.len
        && ngx_strncasecmp(ctx->tenant_id.data, alcf->platform_tenant.data,
                           ctx->tenant_id.len)
           == 0)
    {
        return NGX_OK;
    }

    out = ngx_pnalloc(r->pool, ctx->roles.len + 1);
    if (out == NULL) {
        return NGX_ERROR;
    }

    len = 0;
    end = ctx->roles.data + ctx->roles.len;

    for (start = ctx->roles.data; start < end; start = p + 1) {
        p = ngx_strlchr(start, end, ',');
        if (p == NULL) {
            p = end;
        }

        if ((size_t) (p - start) == role.len
            && ngx_strncmp(start, role.data, role.len) == 0)
        {
            ngx_log_error(NGX_LOG_NOTICE, r->connection->log, 0,
                          "cc auth: global_admin ignored for tenant %V, "
                          "which is not the platform tenant",
                          &ctx->tenant_id);
            continue;
        }

        if (len) {
            out[len++] = ',';
        }

        ngx_memcpy(out + len, start, p - start);
        len += p - start;
    }

    ctx->roles.data = out;
    ctx->roles.len = len;

    return NGX_OK;
}


static char *
ngx_http_cc_auth_platform_tenant(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cc_auth_loc_conf_t *alcf = conf;

    u_char     *guid;
    ngx_str_t  *value;

    if (alcf->platform_tenant.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&alcf->platform_tenant, "");
        return NGX_CONF_OK;
    }

    guid = ngx_pnalloc(cf->pool, CC_UUID_STR_LEN + 1);
    if (guid == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cc_uuid_normalise((char *) value[1].data, value[1].len,
                          (char *) guid)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" is not a tenant id (a GUID) or \"off\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    alcf->platform_tenant.data = guid;
    alcf->platform_tenant.len = CC_UUID_STR_LEN;

    return NGX_CONF_OK;
}
