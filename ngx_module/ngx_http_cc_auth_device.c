
/*
 * Concierge: authentication by an Intune device certificate (mTLS).  nginx
 * checks the chain against the pinned Intune bundle (ssl_verify_client);
 * this file reads what the chain alone does not prove: that the issuer is
 * the MDM Device CA, the device id in the subject CN, and the Entra tenant
 * in extension 1.2.840.113556.5.14 (the roots are shared by every tenant).
 * Then the X-Tenant-Id an agent sends must be that tenant, the tenant must
 * be active, and the device must not be blocked.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "cc_uuid.h"

#include "ngx_http_cc_auth.h"


#define NGX_HTTP_CC_AUTH_INTUNE_CA      "Microsoft Intune MDM Device CA"
#define NGX_HTTP_CC_AUTH_TENANT_OID     "1.2.840.113556.5.14"


#if (NGX_HTTP_SSL)

static const char *ngx_http_cc_auth_chain_error(SSL *ssl);
static const char *ngx_http_cc_auth_read_certificate(ngx_http_request_t *r,
    X509 *cert, ngx_http_cc_auth_ctx_t *ctx);
static ngx_int_t ngx_http_cc_auth_common_name(X509_NAME *name,
    ngx_str_t *cn);
static ngx_int_t ngx_http_cc_auth_tenant_extension(X509 *cert,
    char tenant[CC_UUID_STR_LEN + 1]);
static ngx_int_t ngx_http_cc_auth_tenant_header_matches(ngx_http_request_t *r,
    ngx_str_t *tenant_id);

#endif


ngx_int_t
ngx_http_cc_auth_device(ngx_http_request_t *r,
    ngx_http_cc_auth_loc_conf_t *alcf, ngx_http_cc_auth_ctx_t *ctx)
{
#if (NGX_HTTP_SSL)
    X509                    *cert;
    SSL                     *ssl;
    time_t                   until;
    const char              *error;
    ngx_http_cc_registry_t  *reg;

    if (r->connection->ssl == NULL) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_CERTIFICATE,
                                "no_certificate");
        return NGX_DECLINED;
    }

    ssl = r->connection->ssl->connection;

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    cert = SSL_get1_peer_certificate(ssl);
#else
    cert = SSL_get_peer_certificate(ssl);
#endif

    if (cert == NULL) {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_CERTIFICATE,
                                "no_certificate");
        return NGX_DECLINED;
    }

    error = ngx_http_cc_auth_chain_error(ssl);

    if (error == NULL) {
        error = ngx_http_cc_auth_read_certificate(r, cert, ctx);
    }

    X509_free(cert);

    if (error != NULL) {
        if (ngx_strcmp(error, "internal_error") == 0) {
            return NGX_ERROR;
        }

        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_CERTIFICATE, error);
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_tenant_header_matches(r, &ctx->tenant_id)
        != NGX_OK)
    {
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_FORBIDDEN,
                                "tenant_mismatch");
        return NGX_DECLINED;
    }

    reg = ngx_http_cc_auth_registry(r);

    if (ngx_http_cc_auth_check_tenant(r, reg, ctx) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (ngx_http_cc_auth_device_blocked(reg, &ctx->tenant_id, &ctx->device_id,
                                        &until)
        == NGX_OK)
    {
        ctx->unblock_at = until;
        ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_DEVICE_BLOCKED,
                                "device_blocked");
        return NGX_DECLINED;
    }

    return NGX_OK;

#else

    ngx_http_cc_auth_refuse(ctx, NGX_HTTP_CC_AUTH_BAD_CERTIFICATE,
                            "no_certificate");
    return NGX_DECLINED;

#endif
}


#if (NGX_HTTP_SSL)

/*
 * With "ssl_verify_client optional" nginx itself answers 495 to a chain
 * that fails; an error_page that sends the request back here (or
 * "optional_no_ca") lets us answer with JSON and a precise reason.  A
 * server that never asked for a certificate proves nothing at all.
 */

static const char *
ngx_http_cc_auth_chain_error(SSL *ssl)
{
    if ((SSL_get_verify_mode(ssl) & SSL_VERIFY_PEER) == 0) {
        return "certificate_not_requested";
    }

    switch (SSL_get_verify_result(ssl)) {

    case X509_V_OK:
        return NULL;

    case X509_V_ERR_CERT_HAS_EXPIRED:
        return "certificate_expired";

    case X509_V_ERR_CERT_NOT_YET_VALID:
        return "certificate_not_yet_valid";

    default:
        return "certificate_untrusted";
    }
}


/* NULL when the certificate names a device and a tenant: ctx has them. */

static const char *
ngx_http_cc_auth_read_certificate(ngx_http_request_t *r, X509 *cert,
    ngx_http_cc_auth_ctx_t *ctx)
{
    char       device[CC_UUID_STR_LEN + 1], tenant[CC_UUID_STR_LEN + 1];
    ngx_str_t  cn;

    if (ngx_http_cc_auth_common_name(X509_get_issuer_name(cert), &cn)
           != NGX_OK
        || cn.len != sizeof(NGX_HTTP_CC_AUTH_INTUNE_CA) - 1
        || ngx_strncmp(cn.data, NGX_HTTP_CC_AUTH_INTUNE_CA, cn.len) != 0)
    {
        return "wrong_issuer";
    }

    if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0
        || (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) == 0)
    {
        return "not_for_client_auth";
    }

    if (ngx_http_cc_auth_common_name(X509_get_subject_name(cert), &cn)
           != NGX_OK
        || cc_uuid_normalise((const char *) cn.data, cn.len, device) != 0)
    {
        return "bad_device_id";
    }

    if (ngx_http_cc_auth_tenant_extension(cert, tenant) != NGX_OK) {
        return "no_tenant_extension";
    }

    if (ngx_http_cc_auth_copy(r->pool, &ctx->device_id, device,
                              CC_UUID_STR_LEN)
           != NGX_OK
        || ngx_http_cc_auth_copy(r->pool, &ctx->tenant_id, tenant,
                                 CC_UUID_STR_LEN)
           != NGX_OK)
    {
        return "internal_error";
    }

    return NULL;
}


/* The one CN of name; a name with two is ambiguous and refused. */

static ngx_int_t
ngx_http_cc_auth_common_name(X509_NAME *name, ngx_str_t *cn)
{
    int          i;
    ASN1_STRING  *s;

    i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);

    if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0) {
        return NGX_DECLINED;
    }

    s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));

    cn->data = (u_char *) ASN1_STRING_get0_data(s);
    cn->len = ASN1_STRING_length(s);

    return NGX_OK;
}


/*
 * The extension's value is an OCTET STRING (04 10) of the 16 GUID bytes
 * in Windows order: the first three fields little-endian.
 */

static ngx_int_t
ngx_http_cc_auth_tenant_extension(X509 *cert, char tenant[CC_UUID_STR_LEN + 1])
{
    int                    i;
    u_char                 guid[CC_UUID_LEN];
    const u_char          *d;
    ASN1_OCTET_STRING     *value;
    static ASN1_OBJECT    *oid;

    if (oid == NULL) {
        oid = OBJ_txt2obj(NGX_HTTP_CC_AUTH_TENANT_OID, 1);
        if (oid == NULL) {
            return NGX_ERROR;
        }
    }

    i = X509_get_ext_by_OBJ(cert, oid, -1);

    if (i < 0 || X509_get_ext_by_OBJ(cert, oid, i) >= 0) {
        return NGX_DECLINED;
    }

    value = X509_EXTENSION_get_data(X509_get_ext(cert, i));

    if (ASN1_STRING_length(value) != 2 + CC_UUID_LEN) {
        return NGX_DECLINED;
    }

    d = ASN1_STRING_get0_data(value);

    if (d[0] != 0x04 || d[1] != CC_UUID_LEN) {
        return NGX_DECLINED;
    }

    d += 2;

    guid[0] = d[3];
    guid[1] = d[2];
    guid[2] = d[1];
    guid[3] = d[0];
    guid[4] = d[5];
    guid[5] = d[4];
    guid[6] = d[7];
    guid[7] = d[6];
    ngx_memcpy(&guid[8], &d[8], 8);

    cc_uuid_format(guid, tenant);

    return NGX_OK;
}


/* Every X-Tenant-Id sent, in any letter case, must name the tenant. */

static ngx_int_t
ngx_http_cc_auth_tenant_header_matches(ngx_http_request_t *r,
    ngx_str_t *tenant_id)
{
    char              value[CC_UUID_STR_LEN + 1];
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++) {

            if (h[i].key.len != sizeof("x-tenant-id") - 1
                || ngx_strncmp(h[i].lowcase_key, "x-tenant-id",
                               sizeof("x-tenant-id") - 1)
                   != 0)
            {
                continue;
            }

            if (cc_uuid_normalise((const char *) h[i].value.data,
                                  h[i].value.len, value)
                   != 0
                || ngx_strncmp(value, tenant_id->data, CC_UUID_STR_LEN) != 0)
            {
                return NGX_DECLINED;
            }
        }
    }

    return NGX_OK;
}

#endif
