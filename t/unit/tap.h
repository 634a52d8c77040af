/*
 * A minimal TAP producer for the C unit tests, so prove runs them beside
 * the Perl integration tests.  Header-only: each test program includes it
 * once, calls ok()/is_int()/is_str() and ends with done_testing().
 */

#ifndef CC_TAP_H
#define CC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run;
static int tap_failed;

static inline int
tap_result(int pass, const char *fmt, va_list ap)
{
    tap_run++;
    if (!pass) {
        tap_failed++;
    }
    printf("%sok %d - ", pass ? "" : "not ", tap_run);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    return pass;
}

static inline int
ok(int pass, const char *fmt, ...)
{
    va_list ap;
    int     r;

    va_start(ap, fmt);
    r = tap_result(pass, fmt, ap);
    va_end(ap);
    return r;
}

static inline int
is_int(long long got, long long want, const char *fmt, ...)
{
    va_list ap;
    int     r;

    va_start(ap, fmt);
    r = tap_result(got == want, fmt, ap);
    va_end(ap);
    if (!r) {
        printf("#   got: %lld\n#  want: %lld\n", got, want);
    }
    return r;
}

static inline int
is_str(const char *got, const char *want, const char *fmt, ...)
{
    va_list ap;
    int     r;

    va_start(ap, fmt);
    r = tap_result(got != NULL && want != NULL && strcmp(got, want) == 0,
                   fmt, ap);
    va_end(ap);
    if (!r) {
        printf("#   got: '%s'\n#  want: '%s'\n", got ? got : "(null)",
               want ? want : "(null)");
    }
    return r;
}

static inline void
diag(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static inline int
done_testing(void)
{
    printf("1..%d\n", tap_run);
    return tap_failed ? 1 : 0;
}

#endif /* CC_TAP_H */
