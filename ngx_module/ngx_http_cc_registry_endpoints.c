
/*
 * Concierge: what each endpoint of the registry's control API does: the
 * status document, lists, and reading, writing and deleting entries, one
 * at a time or all at once (sync).  The request has been routed and its
 * body parsed by ngx_http_cc_registry_api.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_cc_registry_endpoints.h"


/* the keys and values a list copies out at most */
#define NGX_HTTP_CC_REGISTRY_LIST_MAX    (8 * 1024 * 1024)


static int ngx_libc_cdecl ngx_http_cc_registry_api_cmp_entries(
    const void *one, const void *two);
static json_t *ngx_http_cc_registry_api_at(time_t at);
static ngx_int_t ngx_http_cc_registry_api_full(ngx_http_request_t *r,
    ngx_uint_t kind);


ngx_int_t
ngx_http_cc_registry_api_put(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_route_t *route,
    json_t *json)
{
    json_t                          *out;
    ngx_int_t                        rc;
    ngx_uint_t                       created;
    ngx_http_cc_registry_entry_t     entry;
    ngx_http_cc_registry_problem_t   problem;

    rc = ngx_http_cc_registry_json_entry(r->pool, route->kind, &route->key,
                                         json, &entry, &problem);
    if (rc == NGX_DECLINED) {
        return ngx_http_cc_registry_api_invalid(r, NGX_HTTP_CC_UNPROCESSABLE,
                                                &problem);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_cc_registry_put(reg, &entry, &created);

    if (rc == NGX_DECLINED) {
        return ngx_http_cc_registry_api_full(r, route->kind);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = ngx_http_cc_registry_json_from_entry(&entry);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_registry_api_send(r, created ? NGX_HTTP_CREATED
                                                    : NGX_HTTP_OK, out);
}


ngx_int_t
ngx_http_cc_registry_api_sync(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, json_t *json)
{
    json_t                          *out;
    uint64_t                         generation;
    ngx_int_t                        rc;
    ngx_str_t                        tag;
    ngx_array_t                      entries;
    ngx_http_cc_registry_problem_t   problem;

    rc = ngx_http_cc_registry_json_sync(r->pool, json, &entries, &tag,
                                        &problem);
    if (rc == NGX_DECLINED) {
        return ngx_http_cc_registry_api_invalid(r, NGX_HTTP_CC_UNPROCESSABLE,
                                                &problem);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_cc_registry_replace(reg, &entries, &tag, &generation);

    if (rc == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cc registry: zone \"%V\" cannot hold a sync of %ui "
                      "entries beside the current content, which is kept",
                      &reg->shm_zone->shm.name, entries.nelts);

        return ngx_http_cc_registry_api_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                          "zone_full",
                          "the sync does not fit in the registry zone; "
                          "the previous content is kept");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cc registry: synced %ui entries, generation %uL",
                  entries.nelts, generation);

    out = json_pack("{s:I}", "generation", (json_int_t) generation);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_registry_api_send(r, NGX_HTTP_OK, out);
}


ngx_int_t
ngx_http_cc_registry_api_get(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_route_t *route)
{
    json_t                        *out;
    ngx_int_t                      rc;
    ngx_http_cc_registry_entry_t   entry;

    rc = ngx_http_cc_registry_get(reg, route->kind, &route->key, r->pool,
                                  &entry);

    if (rc == NGX_DECLINED) {
        return ngx_http_cc_registry_api_error(r, NGX_HTTP_NOT_FOUND,
                                              "not_found", "no such entry");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = ngx_http_cc_registry_json_from_entry(&entry);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_registry_api_send(r, NGX_HTTP_OK, out);
}


ngx_int_t
ngx_http_cc_registry_api_delete(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_http_cc_registry_route_t *route)
{
    if (ngx_http_cc_registry_delete(reg, route->kind, &route->key) != NGX_OK)
    {
        return ngx_http_cc_registry_api_error(r, NGX_HTTP_NOT_FOUND,
                                              "not_found", "no such entry");
    }

    return ngx_http_cc_registry_api_send(r, NGX_HTTP_NO_CONTENT, NULL);
}


/*
 * Lists are for operators and are not paginated; they are bounded by the
 * zone's size and by NGX_HTTP_CC_REGISTRY_LIST_MAX, past which the answer
 * says "truncated": true.  Entries come sorted by key.
 */

ngx_int_t
ngx_http_cc_registry_api_list(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg, ngx_uint_t kind)
{
    int                            rc;
    json_t                        *out, *list;
    ngx_str_t                     *name;
    ngx_uint_t                     i, truncated;
    ngx_array_t                    entries;
    ngx_http_cc_registry_entry_t  *entry;

    if (ngx_http_cc_registry_list(reg, kind, r->pool,
                                  NGX_HTTP_CC_REGISTRY_LIST_MAX, &entries,
                                  &truncated)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    entry = entries.elts;

    ngx_qsort(entry, entries.nelts, sizeof(ngx_http_cc_registry_entry_t),
              ngx_http_cc_registry_api_cmp_entries);

    out = json_object();
    list = json_array();

    rc = (out == NULL);

    for (i = 0; list && i < entries.nelts; i++) {
        rc |= json_array_append_new(list,
                             ngx_http_cc_registry_json_from_entry(&entry[i]));
    }

    name = ngx_http_cc_registry_kind_name(kind);

    if (out) {
        rc |= json_object_set_new(out, (char *) name->data, list);

        if (truncated) {
            rc |= json_object_set_new(out, "truncated", json_true());
        }

    } else {
        json_decref(list);
    }

    if (rc != 0) {
        json_decref(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_registry_api_send(r, NGX_HTTP_OK, out);
}


static int ngx_libc_cdecl
ngx_http_cc_registry_api_cmp_entries(const void *one, const void *two)
{
    const ngx_http_cc_registry_entry_t  *a = one;
    const ngx_http_cc_registry_entry_t  *b = two;

    return (int) ngx_memn2cmp(a->key.data, b->key.data, a->key.len,
                              b->key.len);
}


/*
 * "sync" is null in both fields until the first sync since the zone was
 * created: after a restart (or a reload that resized the zone) that is
 * how the sync job knows it must push everything again.
 */

ngx_int_t
ngx_http_cc_registry_api_status(ngx_http_request_t *r,
    ngx_http_cc_registry_t *reg)
{
    int                            rc;
    json_t                        *out, *sync, *kid;
    ngx_str_t                     *name;
    ngx_uint_t                     kind;
    ngx_http_cc_registry_status_t  st;

    if (ngx_http_cc_registry_status(reg, r->pool, &st) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = json_object();
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = json_object_set_new(out, "generation",
                             json_integer((json_int_t) st.generation));

    for (kind = 0; kind < NGX_HTTP_CC_REGISTRY_KINDS; kind++) {
        name = ngx_http_cc_registry_kind_name(kind);
        rc |= json_object_set_new(out, (char *) name->data,
                                  json_integer((json_int_t) st.count[kind]));
    }

    rc |= json_object_set_new(out, "bytes_used",
                              json_integer((json_int_t) st.bytes_used));
    rc |= json_object_set_new(out, "bytes_free",
                              json_integer((json_int_t) st.bytes_free));

    sync = json_object();

    if (sync) {
        rc |= json_object_set_new(sync, "tag",
                                  st.synced_at
                                  ? json_stringn((char *) st.sync_tag.data,
                                                 st.sync_tag.len)
                                  : json_null());
        rc |= json_object_set_new(sync, "at",
                                  ngx_http_cc_registry_api_at(st.synced_at));
    }

    rc |= json_object_set_new(out, "sync", sync);

    if (st.unknown_kid_at) {
        kid = json_object();

        if (kid) {
            rc |= json_object_set_new(kid, "kid",
                                  json_stringn((char *) st.unknown_kid.data,
                                               st.unknown_kid.len));
            rc |= json_object_set_new(kid, "at",
                          ngx_http_cc_registry_api_at(st.unknown_kid_at));
        }

    } else {
        kid = json_null();
    }

    rc |= json_object_set_new(out, "unknown_kid", kid);

    if (rc != 0) {
        json_decref(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cc_registry_api_send(r, NGX_HTTP_OK, out);
}


static json_t *
ngx_http_cc_registry_api_at(time_t at)
{
    return at ? json_integer((json_int_t) at) : json_null();
}


static ngx_int_t
ngx_http_cc_registry_api_full(ngx_http_request_t *r, ngx_uint_t kind)
{
    ngx_http_cc_registry_t  *reg;

    reg = ngx_http_cc_registry_from_request(r);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "cc registry: zone \"%V\" is full, an entry of %V "
                  "was not stored", &reg->shm_zone->shm.name,
                  ngx_http_cc_registry_kind_name(kind));

    return ngx_http_cc_registry_api_error(r, NGX_HTTP_INSUFFICIENT_STORAGE,
                                          "zone_full",
                                          "the registry zone is full");
}
