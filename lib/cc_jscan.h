/*
 * A strict JSON scanner (RFC 8259) that builds no tree: one pass checks the
 * whole text and records each value as a token (type, byte range, size) in
 * an array the caller supplies, so reading a document allocates nothing.
 * Beyond the RFC it refuses what PostgreSQL text and jsonb cannot hold:
 * "\u0000" in a string, and text that is not valid UTF-8.
 */

#ifndef CC_JSCAN_H
#define CC_JSCAN_H

#include <stddef.h>
#include <stdint.h>

/* The deepest nesting any caller may ask for (the scanner keeps a stack
 * of this many open containers on the C stack: 5 bytes each). */
#define CC_JSCAN_MAX_DEPTH  1024

typedef enum {
    CC_JSCAN_OBJECT = 1,
    CC_JSCAN_ARRAY,
    CC_JSCAN_STRING,
    CC_JSCAN_NUMBER,
    CC_JSCAN_TRUE,
    CC_JSCAN_FALSE,
    CC_JSCAN_NULL
} cc_jscan_type_t;

/* Token flags. */
#define CC_JSCAN_ESCAPED  0x01      /* a string holding a backslash escape */
#define CC_JSCAN_INTEGER  0x02      /* a number with no fraction or exponent */

/*
 * One value.  text[start..end) is its whole lexeme: a string's includes
 * its quotes, a container's its brackets.  An object's tokens are followed
 * by its members as key (a string token), value, key, value...; an
 * array's by its elements.  next is the index of the first token after
 * this value and everything inside it, so siblings are one step apart.
 */
typedef struct cc_jscan_tok {
    uint32_t       start;
    uint32_t       end;
    uint32_t       next;
    uint32_t       size;        /* members of an object, elements of an
                                   array, 0 otherwise */
    unsigned char  type;        /* cc_jscan_type_t */
    unsigned char  flags;
} cc_jscan_tok_t;

typedef enum {
    CC_JSCAN_OK = 0,
    CC_JSCAN_INVALID,           /* not JSON, or not text PostgreSQL holds */
    CC_JSCAN_TOO_DEEP,          /* nested deeper than max_depth */
    CC_JSCAN_NO_ROOM,           /* valid, but needs *ntoks tokens */
    CC_JSCAN_TOO_LONG           /* 4 GiB or more */
} cc_jscan_result_t;

/*
 * Scans text[0..len) (it need not be NUL-terminated) as one JSON value
 * with optional whitespace around it, into toks[0..cap).  On OK *ntoks is
 * the number of tokens written and toks[0] is the document.  When the
 * array is too small the scan still checks the whole text and returns
 * NO_ROOM with *ntoks the count it needs, so one retry with that many
 * always fits; cap 0 (toks may be NULL) only validates and counts.
 * max_depth (at most CC_JSCAN_MAX_DEPTH) bounds nested containers: 1
 * allows [1] but not [[1]].
 */
cc_jscan_result_t cc_jscan_parse(const char *text, size_t len,
    unsigned max_depth, cc_jscan_tok_t *toks, size_t cap, size_t *ntoks);

/*
 * The index of the value of the member named name in the object at
 * toks[obj], or -1 when there is none.  With duplicate keys the last one
 * wins, as in jansson and PostgreSQL jsonb.  Escaped keys are compared
 * unescaped.
 */
long cc_jscan_member(const char *text, const cc_jscan_tok_t *toks,
    size_t obj, const char *name);

/* True when the string token tok, unescaped, is exactly s[0..n). */
int cc_jscan_string_is(const char *text, const cc_jscan_tok_t *tok,
    const char *s, size_t n);

/*
 * Reads an integer token (no fraction, no exponent; "-0" is 0) into
 * *out: 0, or -1 when tok is not an integer or does not fit a long long.
 */
int cc_jscan_integer(const char *text, const cc_jscan_tok_t *tok,
    long long *out);

/*
 * Writes the unescaped UTF-8 of the string token tok and a NUL into out,
 * which must hold tok->end - tok->start - 1 bytes (never more than the
 * token's raw length); returns the length without the NUL.
 */
size_t cc_jscan_unescape(const char *text, const cc_jscan_tok_t *tok,
    char *out);

/*
 * True when the n bytes at s are valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF) without a NUL: text PostgreSQL
 * takes.  For values that arrive outside JSON, such as header values.
 */
int cc_jscan_is_text(const char *s, size_t n);

#endif /* CC_JSCAN_H */
