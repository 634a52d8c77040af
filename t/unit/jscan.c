/*
 * The strict JSON scanner (lib/cc_jscan.c): every rule of the RFC 8259
 * grammar both ways, the UTF-8 and "\u0000" rules PostgreSQL needs, the
 * depth limit, the token array, and the member/integer/unescape helpers.
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_jscan.h"

#define NTOKS  64

static cc_jscan_tok_t  toks[NTOKS];


static cc_jscan_result_t
scan(const char *text)
{
    size_t  n;

    return cc_jscan_parse(text, strlen(text), 64, toks, NTOKS, &n);
}


/* A text of len bytes that may hold NULs. */
static cc_jscan_result_t
scan_bytes(const char *text, size_t len)
{
    size_t  n;

    return cc_jscan_parse(text, len, 64, toks, NTOKS, &n);
}


static void
accepts(const char *text, const char *what)
{
    is_int(scan(text), CC_JSCAN_OK, "accepted: %s", what);
}


static void
refuses(const char *text, const char *what)
{
    is_int(scan(text), CC_JSCAN_INVALID, "refused: %s", what);
}


static void
test_structure(void)
{
    accepts("{}", "an empty object");
    accepts("[]", "an empty array");
    accepts(" \t\r\n[ 1 , 2 ]\n ", "whitespace around and inside");
    accepts("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}",
            "nested containers");
    accepts("1", "a number alone");
    accepts("\"s\"", "a string alone");
    accepts("null", "a literal alone");
    refuses("", "an empty text");
    refuses("   ", "only whitespace");
    refuses("[1,]", "a trailing comma in an array");
    refuses("{\"a\":1,}", "a trailing comma in an object");
    refuses("[,1]", "a leading comma");
    refuses("[1 2]", "a missing comma");
    refuses("{\"a\" 1}", "a missing colon");
    refuses("{\"a\":}", "a member without a value");
    refuses("{a:1}", "an unquoted key");
    refuses("{1:1}", "a number as key");
    refuses("{'a':1}", "single quotes");
    refuses("[1", "an unclosed array");
    refuses("{\"a\":1", "an unclosed object");
    refuses("[1}", "mismatched brackets");
    refuses("{\"a\":1]", "mismatched braces");
    refuses("]", "a lone closing bracket");
    refuses("[1] [2]", "two documents");
    refuses("[1]x", "trailing garbage");
    refuses("{} ,", "a trailing comma after the document");
    refuses("[\f1]", "form feed is not whitespace");
    refuses("[\v1]", "vertical tab is not whitespace");
    refuses("\xc2\xa0[]", "no-break space is not whitespace");
    is_int(scan_bytes("[1]\0", 4), CC_JSCAN_INVALID,
           "refused: a NUL after the document");
    is_int(scan_bytes("[1]", 2), CC_JSCAN_INVALID,
           "refused: a text cut short by its length");
    accepts("[true,false,null]", "the three literals");
    refuses("[tru]", "a truncated literal");
    refuses("[True]", "a capitalised literal");
    refuses("[nulll]", "a literal with a tail");
    refuses("[undefined]", "undefined");
    refuses("[NaN]", "NaN");
    refuses("[Infinity]", "Infinity");
}


static void
test_numbers(void)
{
    accepts("[0]", "zero");
    accepts("[-0]", "minus zero");
    accepts("[123]", "an integer");
    accepts("[-123]", "a negative integer");
    accepts("[1.5]", "a fraction");
    accepts("[0.5]", "a fraction below one");
    accepts("[1e3]", "an exponent");
    accepts("[1E+3]", "a capital exponent with a plus");
    accepts("[1.5e-3]", "a fraction and a negative exponent");
    accepts("[1e400]", "an exponent beyond a double (the grammar allows it)");
    accepts("[123456789012345678901234567890]", "a long integer");
    refuses("[01]", "a leading zero");
    refuses("[-01]", "a leading zero after minus");
    refuses("[00]", "two zeros");
    refuses("[+1]", "a plus sign");
    refuses("[-]", "a lone minus");
    refuses("[1.]", "a point without digits");
    refuses("[.5]", "a point without an integer part");
    refuses("[1.e3]", "a point before an exponent");
    refuses("[1e]", "an exponent without digits");
    refuses("[1e+]", "an exponent sign without digits");
    refuses("[0x10]", "hexadecimal");
    refuses("[1_000]", "digit separators");
    refuses("[- 1]", "a space after minus");
    refuses("[--1]", "two minus signs");
    refuses("1.5.", "two points");

    scan("[1, 1.0, 1e3, -0]");
    ok((toks[1].flags & CC_JSCAN_INTEGER) != 0, "1 is an integer");
    ok(!(toks[2].flags & CC_JSCAN_INTEGER), "1.0 is not");
    ok(!(toks[3].flags & CC_JSCAN_INTEGER), "1e3 is not");
    ok((toks[4].flags & CC_JSCAN_INTEGER) != 0, "-0 is");
}


static void
test_strings(void)
{
    accepts("[\"\"]", "an empty string");
    accepts("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"]", "every short escape");
    accepts("[\"\\u00e9\\u20AC\"]", "\\u escapes in either case");
    accepts("[\"\\ud83d\\ude00\"]", "a surrogate pair");
    refuses("[\"\\u0000\"]", "\\u0000 (PostgreSQL cannot hold it)");
    refuses("[\"\\ud83d\"]", "an unpaired high surrogate");
    refuses("[\"\\ud83dx\"]", "a high surrogate before a character");
    refuses("[\"\\ud83d\\n\"]", "a high surrogate before another escape");
    refuses("[\"\\ud83d\\ud83d\"]", "two high surrogates");
    refuses("[\"\\ude00\"]", "a lone low surrogate");
    refuses("[\"\\ude00\\ud83d\"]", "a pair in the wrong order");
    refuses("[\"\\u12\"]", "a short \\u escape");
    refuses("[\"\\u12g4\"]", "a \\u escape with a non-hex digit");
    refuses("[\"\\x41\"]", "\\x");
    refuses("[\"\\a\"]", "\\a");
    refuses("[\"\\'\"]", "\\'");
    refuses("[\"\\U0041\"]", "\\U");
    refuses("[\"\\", "a backslash at the end of the text");
    refuses("[\"abc", "an unterminated string");
    refuses("[\"a\nb\"]", "a raw line feed");
    refuses("[\"a\tb\"]", "a raw tab");
    refuses("[\"\x1f\"]", "a raw control character");
    is_int(scan_bytes("[\"a\0b\"]", 6), CC_JSCAN_INVALID,
           "refused: a raw NUL in a string");
    accepts("[\"\x7f\"]", "DEL is not a control character in JSON");

    accepts("[\"\xc3\xa9\"]", "two-byte UTF-8");
    accepts("[\"\xe2\x82\xac\"]", "three-byte UTF-8");
    accepts("[\"\xf0\x9f\x98\x80\"]", "four-byte UTF-8");
    accepts("[\"\xef\xbf\xbf\"]", "U+FFFF");
    accepts("[\"\xf4\x8f\xbf\xbf\"]", "U+10FFFF");
    refuses("[\"\xc0\xaf\"]", "an overlong two-byte form");
    refuses("[\"\xc1\xbf\"]", "another overlong two-byte form");
    refuses("[\"\xe0\x9f\xbf\"]", "an overlong three-byte form");
    refuses("[\"\xf0\x8f\xbf\xbf\"]", "an overlong four-byte form");
    refuses("[\"\xed\xa0\x80\"]", "an encoded surrogate");
    refuses("[\"\xf4\x90\x80\x80\"]", "above U+10FFFF");
    refuses("[\"\xf5\x80\x80\x80\"]", "a lead byte above F4");
    refuses("[\"\x80\"]", "a lone continuation byte");
    refuses("[\"\xc3\"]", "a truncated sequence");
    refuses("[\"\xe2\x82\"]", "a truncated three-byte sequence");
    refuses("[\"\xc3\x28\"]", "a lead byte before ASCII");
    refuses("[\"\xff\"]", "byte FF");
}


static void
test_depth_and_room(void)
{
    char    text[2 * CC_JSCAN_MAX_DEPTH + 8];
    size_t  n, i;

    is_int(cc_jscan_parse("[[1]]", 5, 2, toks, NTOKS, &n), CC_JSCAN_OK,
           "nesting at the depth limit is accepted");
    is_int(cc_jscan_parse("[[[1]]]", 7, 2, toks, NTOKS, &n),
           CC_JSCAN_TOO_DEEP, "one level deeper is refused");
    is_int(cc_jscan_parse("{\"a\":{}}", 8, 1, toks, NTOKS, &n),
           CC_JSCAN_TOO_DEEP, "objects count towards the depth too");
    is_int(cc_jscan_parse("[1]", 3, 0, toks, NTOKS, &n), CC_JSCAN_TOO_DEEP,
           "depth 0 allows no container");
    is_int(cc_jscan_parse("1", 1, 0, toks, NTOKS, &n), CC_JSCAN_OK,
           "but a scalar");

    for (i = 0; i < CC_JSCAN_MAX_DEPTH + 1; i++) {
        text[i] = '[';
        text[CC_JSCAN_MAX_DEPTH + 1 + i] = ']';
    }
    is_int(cc_jscan_parse(text, 2 * (CC_JSCAN_MAX_DEPTH + 1), UINT_MAX, NULL,
                          0, &n), CC_JSCAN_TOO_DEEP,
           "a larger limit is clamped to CC_JSCAN_MAX_DEPTH");
    is_int(cc_jscan_parse(text + 1, 2 * CC_JSCAN_MAX_DEPTH, UINT_MAX, NULL,
                          0, &n), CC_JSCAN_NO_ROOM,
           "which itself is allowed");

    is_int(cc_jscan_parse("[1,[2,3],{\"a\":4}]", 17, 8, toks, 3, &n),
           CC_JSCAN_NO_ROOM, "too few tokens: NO_ROOM");
    is_int((long long) n, 8, "with the count the text needs");
    is_int(cc_jscan_parse("[1,[2,3],{\"a\":4}]", 17, 8, toks, n, &n),
           CC_JSCAN_OK, "which is then enough");
    is_int(cc_jscan_parse("[1,[2,3],{\"a\":4}", 16, 8, NULL, 0, &n),
           CC_JSCAN_INVALID, "an invalid text is INVALID, not NO_ROOM");
    is_int(cc_jscan_parse("[1,2]", 5, 8, NULL, 0, &n), CC_JSCAN_NO_ROOM,
           "no array at all only counts");
    is_int((long long) n, 3, "three tokens");
}


static void
test_tokens(void)
{
    const char  *text = " {\"a\": [1, \"x\"], \"b\": {}, \"c\": true} ";
    size_t       n;

    is_int(cc_jscan_parse(text, strlen(text), 8, toks, NTOKS, &n),
           CC_JSCAN_OK, "a document scans");
    is_int((long long) n, 9, "into one token per value and key");
    is_int(toks[0].type, CC_JSCAN_OBJECT, "the first is the document");
    is_int(toks[0].size, 3, "an object's size counts its members");
    is_int(toks[0].start, 1, "it starts at its brace");
    is_int(toks[0].end, (long long) strlen(text) - 1, "and ends past it");
    is_int(toks[0].next, 9, "nothing follows it");
    is_int(toks[1].type, CC_JSCAN_STRING, "a key is a string token");
    is_int(toks[1].end - toks[1].start, 3, "whose range holds its quotes");
    is_int(toks[2].type, CC_JSCAN_ARRAY, "then its value");
    is_int(toks[2].size, 2, "an array's size counts its elements");
    is_int(toks[2].next, 5, "next skips what the array holds");
    is_int(toks[5].type, CC_JSCAN_STRING, "the next key follows");
    is_int(toks[6].size, 0, "an empty object has size 0");
    is_int(toks[8].type, CC_JSCAN_TRUE, "literals have their own type");
}


static void
test_member(void)
{
    const char  *text = "{\"a\":1,\"b\":{\"a\":2},\"a\":3,\"k\\u00e9y\":4,"
                        "\"\":5}";
    long long    v;
    long         i;

    scan(text);
    i = cc_jscan_member(text, toks, 0, "a");
    ok(i > 0 && cc_jscan_integer(text, &toks[i], &v) == 0 && v == 3,
       "the last of duplicate keys wins");
    i = cc_jscan_member(text, toks, 0, "b");
    ok(i > 0 && toks[i].type == CC_JSCAN_OBJECT, "a member holding an object");
    i = cc_jscan_member(text, toks, (size_t) i, "a");
    ok(i > 0 && cc_jscan_integer(text, &toks[i], &v) == 0 && v == 2,
       "a nested object's own member");
    i = cc_jscan_member(text, toks, 0, "k\xc3\xa9y");
    ok(i > 0 && cc_jscan_integer(text, &toks[i], &v) == 0 && v == 4,
       "an escaped key matches its unescaped name");
    ok(cc_jscan_member(text, toks, 0, "k") < 0, "a prefix does not match");
    ok(cc_jscan_member(text, toks, 0, "k\xc3\xa9yy") < 0,
       "nor a longer name");
    ok(cc_jscan_member(text, toks, 0, "") > 0, "the empty key is a key");
    ok(cc_jscan_member(text, toks, 0, "c") < 0, "a missing member is -1");
    scan("[\"a\",1]");
    ok(cc_jscan_member("[\"a\",1]", toks, 0, "a") < 0,
       "an array has no members");
}


/* The integer value of text, which must scan to a number. */
static int
integer_of(const char *text, long long *v)
{
    if (scan(text) != CC_JSCAN_OK) {
        return -2;
    }
    return cc_jscan_integer(text, &toks[0], v);
}


static void
test_integer(void)
{
    long long  v = 1;

    ok(integer_of("9223372036854775807", &v) == 0 && v == LLONG_MAX,
       "9223372036854775807 is the largest integer");
    ok(integer_of("9223372036854775808", &v) == -1,
       "9223372036854775808 is out of range");
    ok(integer_of("-9223372036854775808", &v) == 0 && v == LLONG_MIN,
       "-9223372036854775808 is the smallest");
    ok(integer_of("-9223372036854775809", &v) == -1,
       "-9223372036854775809 is out of range");
    ok(integer_of("99999999999999999999", &v) == -1,
       "a twenty-digit integer is out of range");
    ok(integer_of("-0", &v) == 0 && v == 0, "-0 is 0");
    ok(integer_of("1.0", &v) == -1, "1.0 is not an integer");
    ok(integer_of("1e3", &v) == -1, "1e3 is not an integer");
    ok(integer_of("\"1\"", &v) == -1, "a string is not an integer");
    ok(integer_of("42", &v) == 0 && v == 42, "42 is 42");
}


static void
test_unescape(void)
{
    const char  *text = "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac"
                        "\\ud83d\\ude00\xc3\xa9\",\"plain\",\"\"]";
    char         out[128];
    size_t       n;

    is_int(scan(text), CC_JSCAN_OK, "escapes scan");
    ok(toks[1].flags & CC_JSCAN_ESCAPED, "a string with escapes says so");
    ok(!(toks[2].flags & CC_JSCAN_ESCAPED), "and one without does not");
    n = cc_jscan_unescape(text, &toks[1], out);
    is_str(out, "a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
           "\xc3\xa9", "every escape unescapes to its UTF-8");
    is_int((long long) n, (long long) strlen(out), "its length is returned");
    ok(n + 1 <= toks[1].end - toks[1].start - 1,
       "and fits in the raw length less one");
    cc_jscan_unescape(text, &toks[2], out);
    is_str(out, "plain", "a plain string is copied");
    is_int((long long) cc_jscan_unescape(text, &toks[3], out), 0,
           "an empty string is empty");
    ok(cc_jscan_string_is(text, &toks[2], "plain", 5), "string_is matches");
    ok(!cc_jscan_string_is(text, &toks[2], "plai", 4), "but not a prefix");
    ok(!cc_jscan_string_is(text, &toks[0], "plain", 5),
       "and never a non-string");
}


/* Header values and other text from outside JSON. */
static void
test_is_text(void)
{
    ok(cc_jscan_is_text("Contoso Laptop 7", 16), "ASCII is text");
    ok(cc_jscan_is_text("caf\xc3\xa9 \xf0\x9f\x98\x80", 10),
       "two- and four-byte UTF-8 is text");
    ok(cc_jscan_is_text("", 0), "nothing is text");
    ok(!cc_jscan_is_text("Laptop \xff 7", 10), "a byte 0xff is not");
    ok(!cc_jscan_is_text("\xc0\x80", 2), "an overlong NUL is not");
    ok(!cc_jscan_is_text("\xed\xa0\x80", 3), "an encoded surrogate is not");
    ok(!cc_jscan_is_text("caf\xc3", 4), "a character cut short is not");
    ok(!cc_jscan_is_text("a\0b", 3), "a NUL byte is not");
}


int
main(void)
{
    test_structure();
    test_numbers();
    test_strings();
    test_depth_and_room();
    test_tokens();
    test_member();
    test_integer();
    test_unescape();
    test_is_text();
    return done_testing();
}
