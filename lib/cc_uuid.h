/*
 * UUIDs (Entra calls them GUIDs): parsing the canonical 8-4-4-4-12 text
 * form in either case, and formatting it in lower case.
 */

#ifndef CC_UUID_H
#define CC_UUID_H

#include <stddef.h>

#define CC_UUID_LEN      16
#define CC_UUID_STR_LEN  36              /* without the NUL */

/* Returns 0 and fills out[16], or -1 unless text[0..len) is exactly a
 * hyphenated UUID (no braces, no "urn:uuid:", no spaces). */
int cc_uuid_parse(const char *text, size_t len, unsigned char out[CC_UUID_LEN]);

/* Writes the lower-case hyphenated form and a NUL into out[37]. */
void cc_uuid_format(const unsigned char uuid[CC_UUID_LEN],
    char out[CC_UUID_STR_LEN + 1]);

/* Rewrites a UUID given in any case into out[37] in lower case; returns 0,
 * or -1 (out untouched) when text is not a UUID. */
int cc_uuid_normalise(const char *text, size_t len,
    char out[CC_UUID_STR_LEN + 1]);

#endif /* CC_UUID_H */
