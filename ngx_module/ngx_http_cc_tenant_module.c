
/*
 * Concierge: tenant routing.  From the registry, live: a request whose
 * tenant is unknown, suspended, offboarding or offboarded is refused in
 * JSON (on agent endpoints with the statuses the agent protocol expects);
 * a path that names a tenant must name the caller's own unless the caller
 * is a Global Admin, whose cross-tenant access is marked for upstream
 * auditing; a location may require one of a set of roles; and the tenant's
 * region or plan picks an upstream, $cc_tenant_upstream.
 *
 * Like the limit module it works in the PRECONTENT phase, after the auth
 * module has set $cc_tenant_id and $cc_roles (which cc_tenant_id and
 * cc_tenant_roles can replace, for tests and for other sources), and
 * before the limit module, so a refused tenant uses no rate limit.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cc_roles.h"
#include "cc_uuid.h"

#include "ngx_http_cc_registry.h"
#include "ngx_http_cc_reply.h"


/* cc_tenant_response */
#define NGX_HTTP_CC_TENANT_RESPONSE_JSON    0
#define NGX_HTTP_CC_TENANT_RESPONSE_AGENT   1

/* cc_tenant_route: what a rule matches */
#define NGX_HTTP_CC_TENANT_ROUTE_REGION     0
#define NGX_HTTP_CC_TENANT_ROUTE_PLAN       1
#define NGX_HTTP_CC_TENANT_ROUTE_DEFAULT    2


typedef struct {
    ngx_uint_t                   match;       /* NGX_HTTP_CC_TENANT_ROUTE_* */
    ngx_str_t                    value;
    ngx_str_t                    upstream;
} ngx_http_cc_tenant_route_t;


typedef struct {
    ngx_flag_t                   check;
    ngx_uint_t                   response;
    ngx_str_t                    onboarding;
    ngx_http_complex_value_t    *tenant_id;
    ngx_http_complex_value_t    *roles;
    ngx_http_complex_value_t    *path_tenant; /* cc_tenant_match */
    ngx_array_t                 *routes;      /* cc_tenant_route rules */
    ngx_uint_t                   required;    /* cc_require_role: role bits */
} ngx_http_cc_tenant_loc_conf_t;


typedef struct {
    ngx_flag_t                   looked_up;
    ngx_str_t                    tenant_id;
    ngx_int_t                    found;       /* NGX_OK: tenant is valid */
    ngx_http_cc_tenant_t         tenant;
    ngx_flag_t                   cross;       /* $cc_cross_tenant */
} ngx_http_cc_tenant_ctx_t;


/* One refusal: its status for people and for agents, its code and text. */
typedef struct {
    ngx_uint_t                   status;
    ngx_uint_t                   agent_status;
    const char                  *code;
    const char                  *message;
} ngx_http_cc_tenant_refusal_t;


static ngx_int_t ngx_http_cc_tenant_handler(ngx_http_request_t *r);
static ngx_http_cc_tenant_refusal_t *ngx_http_cc_tenant_check_status(
    ngx_http_request_t *r, ngx_http_cc_tenant_ctx_t *ctx);
static ngx_http_cc_tenant_refusal_t *ngx_http_cc_tenant_check_path(
    ngx_http_request_t *r, ngx_http_cc_tenant_loc_conf_t *tlcf,
    ngx_http_cc_tenant_ctx_t *ctx, ngx_uint_t roles);
static ngx_int_t ngx_http_cc_tenant_same(ngx_str_t *a, ngx_str_t *b);
static ngx_int_t ngx_http_cc_tenant_roles(ngx_http_request_t *r,
    ngx_http_cc_tenant_loc_conf_t *tlcf, ngx_uint_t *roles);
static ngx_int_t ngx_http_cc_tenant_refuse(ngx_http_request_t *r,
    ngx_http_cc_tenant_loc_conf_t *tlcf, ngx_http_cc_tenant_ctx_t *ctx,
    ngx_http_cc_tenant_refusal_t *refusal);
static ngx_http_cc_tenant_ctx_t *ngx_http_cc_tenant_lookup(
    ngx_http_request_t *r);
static ngx_str_t *ngx_http_cc_tenant_route(ngx_http_cc_tenant_loc_conf_t *tlcf,
    ngx_http_cc_tenant_ctx_t *ctx);

static ngx_int_t ngx_http_cc_tenant_upstream_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cc_tenant_cross_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

static void *ngx_http_cc_tenant_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_cc_tenant_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_cc_tenant_default_value(ngx_conf_t *cf,
    ngx_http_complex_value_t **cv, char *text);
static char *ngx_http_cc_tenant_onboarding(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_tenant_route_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cc_tenant_require_role(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_cc_tenant_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_cc_tenant_init(ngx_conf_t *cf);


static ngx_http_cc_tenant_refusal_t  ngx_http_cc_tenant_no_tenant = {
    NGX_HTTP_UNAUTHORIZED, NGX_HTTP_UNAUTHORIZED, "no_tenant",
    "The request is not authenticated as any organisation."
};

/*
 * Agents understand 401 and 403 with a JSON body; any other 4xx (410
 * among them) stalls their upload queue (agent-protocol.md sections 3 and
 * 7), so agents hear 403 for every state that is not active.
 */
static ngx_http_cc_tenant_refusal_t  ngx_http_cc_tenant_states[] = {
    { NGX_HTTP_FORBIDDEN, NGX_HTTP_FORBIDDEN, "tenant_unknown",
      "This organisation is not onboarded yet." },
    { 0, 0, NULL, NULL },                                     /* active */
    { NGX_HTTP_FORBIDDEN, NGX_HTTP_FORBIDDEN, "tenant_suspended",
      "This organisation is suspended." },
    { 410, NGX_HTTP_FORBIDDEN, "tenant_offboarding",
      "This organisation is leaving the platform." },
    { 410, NGX_HTTP_FORBIDDEN, "tenant_offboarded",
      "This organisation has left the platform." }
};

static ngx_http_cc_tenant_refusal_t  ngx_http_cc_tenant_mismatch = {
    NGX_HTTP_FORBIDDEN, NGX_HTTP_FORBIDDEN, "tenant_mismatch",
    "The tenant named by the request is not the caller's tenant."
};

static ngx_http_cc_tenant_refusal_t  ngx_http_cc_tenant_role = {
    NGX_HTTP_FORBIDDEN, NGX_HTTP_FORBIDDEN, "role_required",
    "The caller does not have a role this request requires."
};


static ngx_conf_enum_t  ngx_http_cc_tenant_responses[] = {
    { ngx_string("json"), NGX_HTTP_CC_TENANT_RESPONSE_JSON },
    { ngx_string("agent"), NGX_HTTP_CC_TENANT_RESPONSE_AGENT },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_cc_tenant_commands[] = {

    { ngx_string("cc_tenant_check"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_tenant_loc_conf_t, check),
      NULL },

    { ngx_string("cc_tenant_response"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_tenant_loc_conf_t, response),
      &ngx_http_cc_tenant_responses },

    { ngx_string("cc_tenant_onboarding_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cc_tenant_onboarding,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_tenant_loc_conf_t, onboarding),
      NULL },

    { ngx_string("cc_tenant_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_tenant_loc_conf_t, tenant_id),
      NULL },

    { ngx_string("cc_tenant_roles"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_tenant_loc_conf_t, roles),
      NULL },

    { ngx_string("cc_tenant_match"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cc_tenant_loc_conf_t, path_tenant),
      NULL },

    { ngx_string("cc_tenant_route"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_cc_tenant_route_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cc_require_role"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_cc_tenant_require_role,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cc_tenant_module_ctx = {
    ngx_http_cc_tenant_add_variables,      /* preconfiguration */
    ngx_http_cc_tenant_init,               /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cc_tenant_create_loc_conf,    /* create location configuration */
    ngx_http_cc_tenant_merge_loc_conf      /* merge location configuration */
};


ngx_module_t  ngx_http_cc_tenant_module = {
    NGX_MODULE_V1,
    &ngx_http_cc_tenant_module_ctx,        /* module context */
    ngx_http_cc_tenant_commands,           /* module directives */
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


static ngx_http_variable_t  ngx_http_cc_tenant_vars[] = {

    { ngx_string("cc_tenant_upstream"), NULL,
      ngx_http_cc_tenant_upstream_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cc_cross_tenant"), NULL,
      ngx_http_cc_tenant_cross_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/*
 * The checks, in order: the tenant's state, the tenant the path names,
 * the roles the location requires.  Each is off until configured.
 */

static ngx_int_t
ngx_http_cc_tenant_handler(ngx_http_request_t *r)
{
    ngx_int_t                       rc;
    ngx_uint_t                      roles;
    ngx_http_cc_tenant_ctx_t       *ctx;
    ngx_http_cc_tenant_refusal_t   *refusal;
    ngx_http_cc_tenant_loc_conf_t  *tlcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_tenant_module);

    if (!tlcf->check && tlcf->path_tenant == NULL && tlcf->required == 0) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_cc_tenant_lookup(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    refusal = NULL;
    roles = 0;

    if (tlcf->check) {
        refusal = ngx_http_cc_tenant_check_status(r, ctx);
    }

    if (refusal == NULL && (tlcf->path_tenant || tlcf->required)) {
        if (ngx_http_cc_tenant_roles(r, tlcf, &roles) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (refusal == NULL && tlcf->path_tenant) {
        refusal = ngx_http_cc_tenant_check_path(r, tlcf, ctx, roles);
    }

    if (refusal == NULL && tlcf->required && (roles & tlcf->required) == 0) {
        refusal = &ngx_http_cc_tenant_role;
    }

    if (refusal == NULL) {
        return NGX_DECLINED;
    }

    rc = ngx_http_cc_tenant_refuse(r, tlcf, ctx, refusal);

    ngx_http_finalize_request(r, rc);

    return NGX_DONE;
}


static ngx_http_cc_tenant_refusal_t *
ngx_http_cc_tenant_check_status(ngx_http_request_t *r,
    ngx_http_cc_tenant_ctx_t *ctx)
{
    ngx_uint_t  status;

    if (ctx->tenant_id.len == 0) {
        return &ngx_http_cc_tenant_no_tenant;
    }

    if (ngx_http_cc_registry_from_request(r) == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cc tenant: \"cc_tenant_check\" without "
                      "\"cc_registry_zone\": every tenant is unknown");
    }

    status = (ctx->found == NGX_OK) ? ctx->tenant.status
                                    : NGX_HTTP_CC_TENANT_UNKNOWN;

    if (status == NGX_HTTP_CC_TENANT_ACTIVE
        || status > NGX_HTTP_CC_TENANT_OFFBOARDED)
    {
        return (status == NGX_HTTP_CC_TENANT_ACTIVE)
               ? NULL : &ngx_http_cc_tenant_states[0];
    }

    return &ngx_http_cc_tenant_states[status];
}


/*
 * The tenant a path names (a capture of the URI, in cc_tenant_match) must
 * be the caller's.  A Global Admin may name another: the request passes
 * and $cc_cross_tenant says so, for cc-api to audit.
 */

static ngx_http_cc_tenant_refusal_t *
ngx_http_cc_tenant_check_path(ngx_http_request_t *r,
    ngx_http_cc_tenant_loc_conf_t *tlcf, ngx_http_cc_tenant_ctx_t *ctx,
    ngx_uint_t roles)
{
    ngx_str_t  named;

    if (ngx_http_complex_value(r, tlcf->path_tenant, &named) != NGX_OK) {
        return &ngx_http_cc_tenant_mismatch;
    }

    if (named.len == 0) {
        return NULL;
    }

    if (ctx->tenant_id.len && ngx_http_cc_tenant_same(&named, &ctx->tenant_id))
    {
        return NULL;
    }

    if (roles & CC_ROLE_GLOBAL_ADMIN) {
        ctx->cross = 1;
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cc tenant: global admin of tenant \"%V\" reaches "
                      "another tenant's path", &ctx->tenant_id);
        return NULL;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cc tenant: refused: the path names another tenant than "
                  "\"%V\"", &ctx->tenant_id);

    return &ngx_http_cc_tenant_mismatch;
}


/* Tenant ids are GUIDs in any letter case; anything else compares as is. */

static ngx_int_t
ngx_http_cc_tenant_same(ngx_str_t *a, ngx_str_t *b)
{
    char  na[CC_UUID_STR_LEN + 1], nb[CC_UUID_STR_LEN + 1];

    if (cc_uuid_normalise((char *) a->data, a->len, na) == 0
        && cc_uuid_normalise((char *) b->data, b->len, nb) == 0)
    {
        return ngx_strcmp(na, nb) == 0;
    }

    return a->len == b->len && ngx_strncmp(a->data, b->data, a->len) == 0;
}


/* The caller's roles as bits; a malformed list is no roles at all. */

static ngx_int_t
ngx_http_cc_tenant_roles(ngx_http_request_t *r,
    ngx_http_cc_tenant_loc_conf_t *tlcf, ngx_uint_t *roles)
{
    uint32_t   bits;
    ngx_str_t  value;

    if (ngx_http_complex_value(r, tlcf->roles, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (cc_roles_parse((char *) value.data, value.len, &bits) != 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cc tenant: the roles are malformed, taken as none");
        bits = 0;
    }

    *roles = bits;

    return NGX_OK;
}


/*
 * {"error":{"code":..,"message":..}} for people and API clients; where
 * agents call, the agent protocol's "success" and "message" come first.
 * An unknown tenant is told where onboarding starts.
 */

static ngx_int_t
ngx_http_cc_tenant_refuse(ngx_http_request_t *r,
    ngx_http_cc_tenant_loc_conf_t *tlcf, ngx_http_cc_tenant_ctx_t *ctx,
    ngx_http_cc_tenant_refusal_t *refusal)
{
    size_t       len;
    u_char      *p, *start;
    ngx_uint_t   agent, status, hint;

    agent = (tlcf->response == NGX_HTTP_CC_TENANT_RESPONSE_AGENT);
    status = agent ? refusal->agent_status : refusal->status;
    hint = (refusal == &ngx_http_cc_tenant_states[0]
            && tlcf->onboarding.len > 0);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cc tenant: refused: %s%s%V", refusal->code,
                  ctx->tenant_id.len ? ", tenant " : "", &ctx->tenant_id);

    len = sizeof("{\"success\":false,\"message\":\"\","
                 "\"error\":{\"code\":\"\",\"message\":\"\","
                 "\"onboarding\":\"\"}}\n")
          + 2 * ngx_strlen(refusal->message) + ngx_strlen(refusal->code)
          + tlcf->onboarding.len;

    start = ngx_pnalloc(r->pool, len);
    if (start == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = start;

    if (agent) {
        p = ngx_sprintf(p, "{\"success\":false,\"message\":\"%s\",",
                        refusal->message);
    } else {
        *p++ = '{';
    }

    p = ngx_sprintf(p, "\"error\":{\"code\":\"%s\",\"message\":\"%s\"",
                    refusal->code, refusal->message);

    if (hint) {
        p = ngx_sprintf(p, ",\"onboarding\":\"%V\"", &tlcf->onboarding);
    }

    p = ngx_cpymem(p, "}}\n", 3);

    return ngx_http_cc_reply_json_text(r, status, start, p);
}


/*
 * The tenant of this request and its registry entry, looked up once per
 * request and location (a context does not survive an internal redirect,
 * and a redirect may well change the tenant id's source).  All of the
 * module's use of the registry's C API is here.
 */

static ngx_http_cc_tenant_ctx_t *
ngx_http_cc_tenant_lookup(ngx_http_request_t *r)
{
    ngx_http_cc_tenant_ctx_t       *ctx;
    ngx_http_cc_tenant_loc_conf_t  *tlcf;

    ctx = ngx_http_get_module_ctx(r, ngx_http_cc_tenant_module);

    if (ctx != NULL && ctx->looked_up) {
        return ctx;
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_cc_tenant_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_cc_tenant_module);
    }

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_tenant_module);

    if (ngx_http_complex_value(r, tlcf->tenant_id, &ctx->tenant_id)
        != NGX_OK)
    {
        return NULL;
    }

    ctx->found = NGX_DECLINED;

    if (ctx->tenant_id.len) {
        ctx->found = ngx_http_cc_registry_tenant(
                         ngx_http_cc_registry_from_request(r),
                         &ctx->tenant_id, &ctx->tenant);
    }

    if (ctx->found == NGX_ERROR) {
        return NULL;
    }

    ctx->looked_up = 1;

    return ctx;
}


/* The first rule that matches the tenant's region or plan, or default. */

static ngx_str_t *
ngx_http_cc_tenant_route(ngx_http_cc_tenant_loc_conf_t *tlcf,
    ngx_http_cc_tenant_ctx_t *ctx)
{
    ngx_str_t                   have;
    ngx_uint_t                  i;
    ngx_http_cc_tenant_route_t *route;

    if (tlcf->routes == NULL) {
        return NULL;
    }

    route = tlcf->routes->elts;

    for (i = 0; i < tlcf->routes->nelts; i++) {

        if (route[i].match == NGX_HTTP_CC_TENANT_ROUTE_DEFAULT) {
            return &route[i].upstream;
        }

        if (ctx->found != NGX_OK) {
            continue;
        }

        if (route[i].match == NGX_HTTP_CC_TENANT_ROUTE_REGION) {
            have.data = ctx->tenant.region;
            have.len = ctx->tenant.region_len;

        } else {
            have.data = ctx->tenant.plan;
            have.len = ctx->tenant.plan_len;
        }

        if (have.len == route[i].value.len
            && ngx_strncmp(have.data, route[i].value.data, have.len) == 0)
        {
            return &route[i].upstream;
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_cc_tenant_upstream_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                      *upstream;
    ngx_http_cc_tenant_ctx_t       *ctx;
    ngx_http_cc_tenant_loc_conf_t  *tlcf;

    ctx = ngx_http_cc_tenant_lookup(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_cc_tenant_module);

    upstream = ngx_http_cc_tenant_route(tlcf, ctx);

    if (upstream == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = upstream->len;
    v->data = upstream->data;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_cc_tenant_cross_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_cc_tenant_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_cc_tenant_module);

    if (ctx == NULL || !ctx->cross) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = 1;
    v->data = (u_char *) "1";
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static void *
ngx_http_cc_tenant_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_cc_tenant_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_cc_tenant_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->onboarding = { 0, NULL };
     *     conf->tenant_id = NULL;
     *     conf->roles = NULL;
     *     conf->path_tenant = NULL;
     *     conf->routes = NULL;
     */

    conf->check = NGX_CONF_UNSET;
    conf->response = NGX_CONF_UNSET_UINT;
    conf->required = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_cc_tenant_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_cc_tenant_loc_conf_t *prev = parent;
    ngx_http_cc_tenant_loc_conf_t *conf = child;

    ngx_conf_merge_value(conf->check, prev->check, 0);
    ngx_conf_merge_uint_value(conf->response, prev->response,
                              NGX_HTTP_CC_TENANT_RESPONSE_JSON);
    ngx_conf_merge_str_value(conf->onboarding, prev->onboarding, "");
    ngx_conf_merge_uint_value(conf->required, prev->required, 0);

    if (conf->path_tenant == NULL) {
        conf->path_tenant = prev->path_tenant;
    }

    if (conf->routes == NULL) {
        conf->routes = prev->routes;
    }

    if (conf->tenant_id == NULL) {
        conf->tenant_id = prev->tenant_id;
    }

    if (conf->roles == NULL) {
        conf->roles = prev->roles;
    }

    if (conf->tenant_id == NULL
        && ngx_http_cc_tenant_default_value(cf, &conf->tenant_id,
                                            "$cc_tenant_id")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (conf->roles == NULL
        && ngx_http_cc_tenant_default_value(cf, &conf->roles, "$cc_roles")
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* What the auth module sets, unless cc_tenant_id / cc_tenant_roles say. */

static ngx_int_t
ngx_http_cc_tenant_default_value(ngx_conf_t *cf, ngx_http_complex_value_t **cv,
    char *text)
{
    ngx_str_t                          value;
    ngx_http_compile_complex_value_t   ccv;

    *cv = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (*cv == NULL) {
        return NGX_ERROR;
    }

    value.data = (u_char *) text;
    value.len = ngx_strlen(text);

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value;
    ccv.complex_value = *cv;

    return ngx_http_compile_complex_value(&ccv);
}


/* The URL goes into JSON as it is: nothing that would need escaping. */

static char *
ngx_http_cc_tenant_onboarding(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_tenant_loc_conf_t *tlcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (tlcf->onboarding.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] >= 0x7f
            || value[1].data[i] == '"' || value[1].data[i] == '\\')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid URL \"%V\": spaces, quotes, "
                               "backslashes and non-ASCII characters must "
                               "be percent-encoded", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    tlcf->onboarding = value[1];

    return NGX_CONF_OK;
}


/* cc_tenant_route REGION|region=R|plan=P|default UPSTREAM; */

static char *
ngx_http_cc_tenant_route_rule(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cc_tenant_loc_conf_t *tlcf = conf;

    ngx_str_t                   *value;
    ngx_http_cc_tenant_route_t  *route;

    value = cf->args->elts;

    if (tlcf->routes == NULL) {
        tlcf->routes = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_cc_tenant_route_t));
        if (tlcf->routes == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    route = ngx_array_push(tlcf->routes);
    if (route == NULL) {
        return NGX_CONF_ERROR;
    }

    route->upstream = value[2];

    if (ngx_strcmp(value[1].data, "default") == 0) {
        route->match = NGX_HTTP_CC_TENANT_ROUTE_DEFAULT;
        ngx_str_null(&route->value);

    } else if (ngx_strncmp(value[1].data, "plan=", 5) == 0) {
        route->match = NGX_HTTP_CC_TENANT_ROUTE_PLAN;
        route->value.data = value[1].data + 5;
        route->value.len = value[1].len - 5;

    } else if (ngx_strncmp(value[1].data, "region=", 7) == 0) {
        route->match = NGX_HTTP_CC_TENANT_ROUTE_REGION;
        route->value.data = value[1].data + 7;
        route->value.len = value[1].len - 7;

    } else {
        route->match = NGX_HTTP_CC_TENANT_ROUTE_REGION;
        route->value = value[1];
    }

    if (route->match != NGX_HTTP_CC_TENANT_ROUTE_DEFAULT
        && route->value.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty region or plan in \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* cc_require_role ROLE ...; the request needs any one of them. */

static char *
ngx_http_cc_tenant_require_role(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cc_tenant_loc_conf_t *tlcf = conf;

    uint32_t     bit;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (tlcf->required != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    tlcf->required = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0
            || ngx_strlchr(value[i].data, value[i].data + value[i].len, ',')
            || cc_roles_parse((char *) value[i].data, value[i].len, &bit)
               != 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown role \"%V\": global_admin, "
                               "tenant_admin, operator or user", &value[i]);
            return NGX_CONF_ERROR;
        }

        tlcf->required |= bit;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cc_tenant_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_cc_tenant_vars; v->name.len; v++) {
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
ngx_http_cc_tenant_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /* registered after the limit module's handler, so it runs before it */
    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_cc_tenant_handler;

    return NGX_OK;
}
