/*
 * Unit tests of workers/common/cc_reply and the content-type check of
 * cc_http: the error shape, each code's status, and reply bodies.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_http.h"
#include "cc_reply.h"


static const struct {
    cc_error_t   err;
    int          status;
    const char  *code;
} expected[] = {
    { CC_ERR_NOT_FOUND,              404, "not_found" },
    { CC_ERR_METHOD_NOT_ALLOWED,     405, "method_not_allowed" },
    { CC_ERR_MALFORMED_JSON,         400, "malformed_json" },
    { CC_ERR_INVALID_REQUEST,        422, "invalid_request" },
    { CC_ERR_INVALID_IDENTITY,       400, "invalid_identity" },
    { CC_ERR_BODY_TOO_LARGE,         413, "body_too_large" },
    { CC_ERR_UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type" },
    { CC_ERR_INTERNAL,               500, "internal_error" },
    { CC_ERR_UNAVAILABLE,            503, "unavailable" },
};


static void
test_error_codes(void)
{
    size_t  i;

    for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        is_int(cc_error_status(expected[i].err), expected[i].status,
               "%s answers %d", expected[i].code, expected[i].status);
        is_str(cc_error_code(expected[i].err), expected[i].code,
               "%s has its stable code", expected[i].code);
    }
}


static void
test_error_shape(void)
{
    cc_reply_t   rep;
    json_t      *body, *error;
    char        *text;
    size_t       len;

    cc_reply_init(&rep);
    cc_reply_error(&rep, CC_ERR_NOT_FOUND, "no job %d", 7);
    is_int(rep.status, 404, "the reply carries the error's status");
    is_str(rep.content_type, CC_CONTENT_JSON, "errors are JSON");

    text = cc_reply_body(&rep, &len);
    is_str(text,
           "{\"error\":{\"code\":\"not_found\",\"message\":\"no job 7\"}}",
           "the error shape is exactly {error:{code,message}}");
    is_int((long long) len, (long long) strlen(text), "length is returned");

    body = json_loads(text, 0, NULL);
    error = json_object_get(body, "error");
    is_int((long long) json_object_size(body), 1, "only 'error' at the top");
    is_int((long long) json_object_size(error), 2,
           "only code and message inside");
    json_decref(body);
    free(text);
    cc_reply_free(&rep);

    body = cc_error_body(CC_ERR_INTERNAL, "bad \xff byte");
    ok(body != NULL, "a message that is not UTF-8 still gives a body");
    ok(json_is_string(json_object_get(json_object_get(body, "error"),
                                      "message")),
       "with a string message");
    json_decref(body);
}


static void
test_reply_body_and_headers(void)
{
    cc_reply_t   rep;
    char        *text;
    size_t       len;
    int          i;

    cc_reply_init(&rep);
    cc_reply_json(&rep, 202, json_pack("{s:i,s:s}", "id", 1, "state", "q"));
    text = cc_reply_body(&rep, &len);
    is_str(text, "{\"id\":1,\"state\":\"q\"}", "JSON keeps member order");
    free(text);

    cc_reply_text(&rep, 200, CC_CONTENT_METRICS, "a 1\n");
    text = cc_reply_body(&rep, &len);
    is_str(text, "a 1\n", "a text reply replaces the JSON one");
    is_str(rep.content_type, CC_CONTENT_METRICS,
           "metrics carry the Prometheus content type");
    free(text);

    for (i = 0; i < CC_REPLY_MAX_HEADERS; i++) {
        is_int(cc_reply_header(&rep, "X-Test", "v"), 0, "header %d kept", i);
    }
    is_int(cc_reply_header(&rep, "X-Test", "v"), -1,
           "headers past the limit are refused");
    cc_reply_free(&rep);
    is_int(rep.nheaders, 0, "free forgets the headers");
}


static void
test_json_type(void)
{
    ok(cc_http_is_json_type("application/json"), "application/json is JSON");
    ok(cc_http_is_json_type("application/json; charset=utf-8"),
       "with a charset is JSON");
    ok(cc_http_is_json_type("Application/JSON"), "media types ignore case");
    ok(!cc_http_is_json_type("application/jsonp"), "jsonp is not JSON");
    ok(!cc_http_is_json_type("text/plain"), "text/plain is not JSON");
    ok(!cc_http_is_json_type("application/x-www-form-urlencoded"),
       "a form is not JSON");
    ok(!cc_http_is_json_type(NULL), "no Content-Type is not JSON");
    ok(!cc_http_is_json_type(""), "an empty Content-Type is not JSON");
}


int
main(void)
{
    test_error_codes();
    test_error_shape();
    test_reply_body_and_headers();
    test_json_type();
    return done_testing();
}
