
/*
 * Concierge: the registry, the module's view of the world.
 *
 * A shared-memory zone (cc_registry_zone) holds tenants (status, plan,
 * region, limits), blocked devices, revoked sessions and signing keys.
 * cc-worker's sync job writes it through a control API on a unix socket
 * (cc_registry_api); the auth and limit modules read it through the C API
 * in ngx_http_cc_registry.h; configuration reads a tenant through the
 * $cc_tenant_* variables, for the tenant that cc_registry_tenant names.
 *
 * This file is the nginx glue: directives, configuration, variables.  The
 * zone and its trees are in ngx_http_cc_registry_store.c (entries encoded
 * by ngx_http_cc_registry_value.c), the C API in
 * ngx_http_cc_registry_lookup.c, and the control API in
 * ngx_http_cc_registry_api.c (HTTP), ngx_http_cc_registry_endpoints.c and
 * ngx_http_cc_registry_json.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry.h"
#include "ngx_http_cc_registry_api.h"
#include "ngx_http_cc_registry_store.h"


/* room for the zone's header, one content block and a few entries */
#define NGX_HTTP_CC_REGISTRY_ZONE_MIN    (64 * 1024)

#define NGX_HTTP_CC_LIMIT_PREFIX         "cc_tenant_limit_"
#define NGX_HTTP_CC_LIMIT_PREFIX_LEN     (sizeof(NGX_HTTP_CC_LIMIT_PREFIX) - 1)

/* which field a $cc_tenant_* variable shows */
#define NGX_HTTP_CC_VAR_PLAN             0
#define NGX_HTTP_CC_VAR_REGION           1


typedef struct {
    ngx_http_cc_registry_t          *registry;    /* NULL: no zone */
} ngx_http_cc_registry_main_conf_t;


typedef struct {
    ngx_flag_t                       api;
    ngx_http_complex_value_t        *tenant;
} ngx_http_cc_registry_loc_conf_t;


/* One lookup per request and tenant id, however many variables ask. */
typedef struct {
    ngx_uint_t                       looked_up;
    ngx_str_t                        tenant_id;
    ngx_int_t                        rc;           /* NGX_OK: found */
    ngx_http_cc_tenant_t             tenant;
} ngx_http_cc_registry_ctx_t;


static ngx_http_cc_registry_ctx_t *ngx_http_cc_registry_lookup(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_cc_registry_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_registry_field_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_registry_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_registry_add_variables(ngx_conf_t *cf);
static void *ngx_http_cc_registry_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_cc_registry_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_cc_registry_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_cc_registry_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_registry_api(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_command_t  ngx_http_cc_registry_commands[] = {

    { ngx_string("cc_registry_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cc_registry_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_registry_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_cc_registry_api,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_registry_tenant"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_registry_loc_conf_t, tenant),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cc_registry_module_ctx = {
    ngx_http_cc_registry_add_variables,    /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_cc_registry_create_main_conf, /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cc_registry_create_loc_conf,  /* create location configuration */
    ngx_http_cc_registry_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_cc_registry_module = {
    NGX_MODULE_V1,
    &ngx_http_cc_registry_module_ctx,      /* module context */
    ngx_http_cc_registry_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/*
 * The variables are not cacheable: the tenant id may be set later in the
 * request than a variable is first read (the auth module sets it in the
 * access phase).  The lookup itself is cached in the request's context
 * for as long as the tenant id stays the same.
 */

static ngx_http_variable_t  ngx_http_cc_registry_vars[] = {

    { ngx_string("cc_tenant_status"), NULL,
      ngx_http_cc_registry_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_tenant_plan"), NULL,
      ngx_http_cc_registry_field_variable, NGX_HTTP_CC_VAR_PLAN,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_tenant_region"), NULL,
      ngx_http_cc_registry_field_variable, NGX_HTTP_CC_VAR_REGION,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string(NGX_HTTP_CC_LIMIT_PREFIX), NULL,
      ngx_http_cc_registry_limit_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_http_cc_registry_t *
ngx_http_cc_registry_from_request(ngx_http_request_t *r)
{
    ngx_http_cc_registry_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_cc_registry_module);

    return rmcf->registry;
}


/* NULL only when memory runs out; ctx->rc says whether a tenant was found. */

static ngx_http_cc_registry_ctx_t *
ngx_http_cc_registry_lookup(ngx_http_request_t *r)
{
    ngx_str_t                         id;
    ngx_http_cc_registry_t           *reg;
    ngx_http_cc_registry_ctx_t       *ctx;
    ngx_http_cc_registry_loc_conf_t  *rlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cc_registry_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_cc_registry_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ctx->rc = NGX_DECLINED;
        ngx_http_set_ctx(r, ctx, ngx_http_cc_registry_module);
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_registry_module);
    reg = ngx_http_cc_registry_from_request(r);

    if (rlcf->tenant == NULL || reg == NULL) {
        ctx->rc = NGX_DECLINED;
        return ctx;
    }

    if (ngx_http_complex_value(r, rlcf->tenant, &id) != NGX_OK) {
        return NULL;
    }

    if (ctx->looked_up
        && ngx_memn2cmp(id.data, ctx->tenant_id.data, id.len,
                        ctx->tenant_id.len)
           == 0)
    {
        return ctx;
    }

    ctx->looked_up = 1;
    ctx->tenant_id = id;
    ctx->rc = ngx_http_cc_registry_tenant(reg, &id, &ctx->tenant);

    return ctx;
}


static ngx_int_t
ngx_http_cc_registry_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   *name;
    ngx_http_cc_registry_ctx_t  *ctx;

    ctx = ngx_http_cc_registry_lookup(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    name = ngx_http_cc_tenant_status_name(ctx->rc == NGX_OK
                                          ? ctx->tenant.status
                                          : NGX_HTTP_CC_TENANT_UNKNOWN);

    v->len = name->len;
    v->data = name->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* The value is copied: the context may be refilled for another tenant. */

static ngx_int_t
ngx_http_cc_registry_field_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *field;
    size_t                       len;
    ngx_http_cc_registry_ctx_t  *ctx;

    ctx = ngx_http_cc_registry_lookup(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->rc != NGX_OK) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == NGX_HTTP_CC_VAR_PLAN) {
        field = ctx->tenant.plan;
        len = ctx->tenant.plan_len;

    } else {
        field = ctx->tenant.region;
        len = ctx->tenant.region_len;
    }

    v->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (v->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(v->data, field, len);

    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* $cc_tenant_limit_NAME: the tenant's limit NAME, or not found. */

static ngx_int_t
ngx_http_cc_registry_limit_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *var = (ngx_str_t *) data;

    u_char                      *name;
    size_t                       len;
    ngx_uint_t                   i;
    ngx_http_cc_limit_t         *limit;
    ngx_http_cc_registry_ctx_t  *ctx;

    ctx = ngx_http_cc_registry_lookup(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    v->not_found = 1;

    if (ctx->rc != NGX_OK) {
        return NGX_OK;
    }

    name = var->data + NGX_HTTP_CC_LIMIT_PREFIX_LEN;
    len = var->len - NGX_HTTP_CC_LIMIT_PREFIX_LEN;

    for (i = 0; i < ctx->tenant.nlimits; i++) {
        limit = &ctx->tenant.limits[i];

        if (limit->name_len != len
            || ngx_strncmp(limit->name, name, len) != 0)
        {
            continue;
        }

        v->data = ngx_pnalloc(r->pool, NGX_INT64_LEN);
        if (v->data == NULL) {
            return NGX_ERROR;
        }

        v->len = ngx_sprintf(v->data, "%L", limit->value) - v->data;
        v->valid = 1;
        v->no_cacheable = 1;
        v->not_found = 0;

        break;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_registry_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_cc_registry_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_cc_registry_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_cc_registry_main_conf_t  *rmcf;

    /* set by ngx_pcalloc(): rmcf->registry = NULL; */

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_registry_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    return rmcf;
}


static void *
ngx_http_cc_registry_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_cc_registry_loc_conf_t  *rlcf;

    /* set by ngx_pcalloc(): rlcf->tenant = NULL; */

    rlcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_registry_loc_conf_t));
    if (rlcf == NULL) {
        return NULL;
    }

    rlcf->api = NGX_CONF_UNSET;

    return rlcf;
}


/*
 * cc_registry_api is not inherited: like any content handler it belongs
 * to the location that names it.
 */

static char *
ngx_http_cc_registry_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_cc_registry_loc_conf_t *prev = parent;
    ngx_http_cc_registry_loc_conf_t *conf = child;

    ngx_http_cc_registry_main_conf_t  *rmcf;

    if (conf->api == NGX_CONF_UNSET) {
        conf->api = 0;
    }

    if (conf->tenant == NULL) {
        conf->tenant = prev->tenant;
    }

    rmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_cc_registry_module);

    if (conf->api && rmcf->registry == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cc_registry_api\" needs a \"cc_registry_zone\" "
                           "in the http block");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * cc_registry_zone name=NAME size=SIZE;
 *
 * nginx keeps a zone across a reload when its name and size are unchanged,
 * and the registry's content with it (see ngx_http_cc_registry_init_zone).
 */

static char *
ngx_http_cc_registry_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_registry_main_conf_t *rmcf = conf;

    ssize_t                  size;
    ngx_str_t               *value, name, s;
    ngx_uint_t               i;
    ngx_shm_zone_t          *shm_zone;
    ngx_http_cc_registry_t  *reg;

    if (rmcf->registry) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_str_null(&name);
    size = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            name.data = value[i].data + 5;
            name.len = value[i].len - 5;

            if (name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone name \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < NGX_HTTP_CC_REGISTRY_ZONE_MIN) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" size \"%V\" is too small: "
                                   "the registry needs at least %uzk",
                                   &cmd->name, &s,
                                   (size_t) NGX_HTTP_CC_REGISTRY_ZONE_MIN
                                   / 1024);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"name\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"size\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    reg = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_registry_t));
    if (reg == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_cc_registry_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_cc_registry_init_zone;
    shm_zone->data = reg;

    reg->shm_zone = shm_zone;
    rmcf->registry = reg;

    return NGX_CONF_OK;
}


/*
 * cc_registry_api;
 *
 * The API enforces its own body limit (4 MiB, answered in JSON), so it
 * lifts client_max_body_size in its location unless that location sets
 * one before this directive.
 */

static char *
ngx_http_cc_registry_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_registry_loc_conf_t *rlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (rlcf->api != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    rlcf->api = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    clcf->handler = ngx_http_cc_registry_api_handler;

    if (clcf->client_max_body_size == NGX_CONF_UNSET) {
        clcf->client_max_body_size = 0;
    }

    return NGX_CONF_OK;
}
