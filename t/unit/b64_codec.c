/*
 * cc_base64: the strict base64url decoder JOSE segments go through and the
 * padded base64 decoder x5c goes through accept exactly one spelling of
 * each byte string and refuse everything else.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_base64.h"


typedef struct {
    const char  *in;
    size_t       inlen;        /* 0: strlen(in) */
    const char  *hex;          /* expected bytes, NULL: must be refused */
    const char  *why;
} b64_case_t;


static const b64_case_t  url_cases[] = {
    { "",        0, "",           "empty input is empty output" },
    { "Zg",      0, "66",         "two characters make one byte" },
    { "Zm8",     0, "666f",       "three characters make two bytes" },
    { "Zm9v",    0, "666f6f",     "a whole quantum" },
    { "Zm9vYg",  0, "666f6f62",   "quantum plus two characters" },
    { "_-8",     0, "ffef",       "url alphabet - and _" },
    { "AQAB",    0, "010001",     "the usual RSA exponent" },
    { "Zg==",    0, NULL,         "padding is refused" },
    { "Zm8=",    0, NULL,         "single padding is refused" },
    { "Z",       0, NULL,         "one leftover character is impossible" },
    { "Zm9vY",   0, NULL,         "five characters are impossible" },
    { "Zh",      0, NULL,         "non-zero unused bits (one byte)" },
    { "Zm9",     0, NULL,         "non-zero unused bits (two bytes)" },
    { "Zm+v",    0, NULL,         "standard alphabet + is refused" },
    { "Zm/v",    0, NULL,         "standard alphabet / is refused" },
    { "Zm9v\n",  0, NULL,         "trailing newline is refused" },
    { " Zm9v",   0, NULL,         "leading space is refused" },
    { "Zm 9v",   0, NULL,         "inner space is refused" },
    { "Zm9\0v",  5, NULL,         "embedded NUL is refused" },
    { "Zm9v\xc3\xa9", 0, NULL,    "non-ASCII is refused" },
    { ".",       0, NULL,         "a dot is not base64url" },
};

static const b64_case_t  std_cases[] = {
    { "",         0, "",            "empty input is empty output" },
    { "Zg==",     0, "66",          "one byte with two pads" },
    { "Zm8=",     0, "666f",        "two bytes with one pad" },
    { "Zm9v",     0, "666f6f",      "a whole quantum" },
    { "+/8=",     0, "fbff",        "standard alphabet + and /" },
    { "Zg",       0, NULL,          "missing padding is refused" },
    { "Zg=",      0, NULL,          "short padding is refused" },
    { "Zg===",    0, NULL,          "extra padding is refused" },
    { "Z===",     0, NULL,          "three pads are impossible" },
    { "====",     0, NULL,          "padding alone is refused" },
    { "Zh==",     0, NULL,          "non-zero unused bits are refused" },
    { "Zm9=",     0, NULL,          "non-zero unused bits (two bytes)" },
    { "Zg==Zg==", 0, NULL,          "padding in the middle is refused" },
    { "-_8=",     0, NULL,          "url alphabet is refused" },
    { "Zm9v\r\n", 0, NULL,          "line breaks are refused" },
    { "Zm=v",     0, NULL,          "a pad inside a quantum is refused" },
};


static int
hex_equal(const unsigned char *got, size_t gotlen, const char *hex)
{
    size_t        i;
    unsigned int  byte;

    if (gotlen * 2 != strlen(hex)) {
        return 0;
    }
    for (i = 0; i < gotlen; i++) {
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1 || byte != got[i]) {
            return 0;
        }
    }
    return 1;
}


static void
run_cases(const b64_case_t *cases, size_t n, int url)
{
    unsigned char  out[64];
    size_t         i, len, outlen;
    int            rc;

    for (i = 0; i < n; i++) {
        len = cases[i].inlen ? cases[i].inlen : strlen(cases[i].in);
        outlen = 0;
        rc = url ? cc_base64url_decode(cases[i].in, len, out, &outlen)
                 : cc_base64_decode(cases[i].in, len, out, &outlen);

        if (cases[i].hex == NULL) {
            is_int(rc, -1, "%s: %s", url ? "base64url" : "base64",
                   cases[i].why);
        } else {
            ok(rc == 0 && hex_equal(out, outlen, cases[i].hex), "%s: %s",
               url ? "base64url" : "base64", cases[i].why);
        }
    }
}


static void
test_round_trips(void)
{
    unsigned char  in[97], back[97 + 3];
    char           enc[140];
    size_t         len, n, backlen, i;
    int            good;

    for (i = 0; i < sizeof(in); i++) {
        in[i] = (unsigned char) (i * 37 + 11);
    }

    good = 1;
    for (len = 0; len <= sizeof(in); len++) {
        n = cc_base64url_encode(in, len, enc);
        if (n != cc_base64url_encoded_len(len) || enc[n] != '\0'
            || strchr(enc, '=') != NULL
            || cc_base64url_decoded_max(n) < len
            || cc_base64url_decode(enc, n, back, &backlen) != 0
            || backlen != len || memcmp(in, back, len) != 0)
        {
            good = 0;
            diag("round trip broke at length %zu", len);
            break;
        }
    }
    ok(good, "base64url encode/decode round-trips lengths 0..97");
}


/* Every one of the 64 possible last characters of a 2-character group:
 * exactly the 4 whose low 4 bits are zero decode. */
static void
test_canonical_tail(void)
{
    static const char  alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char      out[4];
    size_t             i, outlen;
    char               in[3];
    int                accepted;

    accepted = 0;
    for (i = 0; i < 64; i++) {
        in[0] = 'Q';
        in[1] = alphabet[i];
        if (cc_base64url_decode(in, 2, out, &outlen) == 0) {
            accepted++;
        }
    }
    is_int(accepted, 4, "exactly 4 of 64 final characters are canonical");
}


int
main(void)
{
    run_cases(url_cases, sizeof(url_cases) / sizeof(url_cases[0]), 1);
    run_cases(std_cases, sizeof(std_cases) / sizeof(std_cases[0]), 0);
    test_round_trips();
    test_canonical_tail();
    return done_testing();
}
