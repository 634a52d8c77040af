/*
 * What a handler answers: a status, a JSON (or text) body and a few extra
 * headers, plus the one error shape every worker uses:
 *
 *   {"error":{"code":"<stable_code>","message":"<human text>"}}
 *
 * Messages are written for people and never echo request content, so no
 * token or personal data can leak through an error.
 */

#ifndef CC_REPLY_H
#define CC_REPLY_H

#include <jansson.h>

#define CC_REPLY_MAX_HEADERS  4

#define CC_CONTENT_JSON     "application/json; charset=utf-8"
#define CC_CONTENT_METRICS  "text/plain; version=0.0.4; charset=utf-8"

typedef struct cc_reply_header {
    const char  *name;          /* a literal */
    char        *value;         /* owned */
} cc_reply_header_t;

typedef struct cc_reply {
    int                 status;         /* 0 = not answered yet */
    json_t             *json;           /* owned; wins over text */
    char               *text;           /* owned */
    const char         *content_type;   /* a literal; JSON by default */
    int                 nheaders;
    cc_reply_header_t   headers[CC_REPLY_MAX_HEADERS];
} cc_reply_t;

typedef enum {
    CC_ERR_NOT_FOUND = 0,
    CC_ERR_METHOD_NOT_ALLOWED,
    CC_ERR_MALFORMED_JSON,
    CC_ERR_INVALID_REQUEST,
    CC_ERR_INVALID_IDENTITY,
    CC_ERR_FORBIDDEN,
    CC_ERR_BODY_TOO_LARGE,
    CC_ERR_UNSUPPORTED_MEDIA_TYPE,
    CC_ERR_INTERNAL,
    CC_ERR_UNAVAILABLE,
    CC_ERR_COUNT
} cc_error_t;

void cc_reply_init(cc_reply_t *rep);
void cc_reply_free(cc_reply_t *rep);

/* Answers status with the JSON value body (ownership taken). */
void cc_reply_json(cc_reply_t *rep, int status, json_t *body);

/* Answers status with a text body of content type type (a literal). */
void cc_reply_text(cc_reply_t *rep, int status, const char *type,
                   const char *text);

/* Answers with the error shape; message is a printf format. */
void cc_reply_error(cc_reply_t *rep, cc_error_t err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a response header (name must be a literal; value is copied). */
int cc_reply_header(cc_reply_t *rep, const char *name, const char *value);

/* The status and stable code of an error. */
int cc_error_status(cc_error_t err);
const char *cc_error_code(cc_error_t err);

/* Builds the error shape as a JSON value. */
json_t *cc_error_body(cc_error_t err, const char *message);

/* Serialises the reply's body; the caller frees it. */
char *cc_reply_body(const cc_reply_t *rep, size_t *len);

#endif /* CC_REPLY_H */
