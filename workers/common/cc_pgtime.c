/*
 * ISO-8601 date-times to timestamptz's binary value, computed the way
 * PostgreSQL's text input computes it, so that a value sent in binary is
 * stored exactly as its string would have been.  The one place that needs
 * care is the fraction: timestamptz_in reads ".fffffff" with strtod and
 * rounds fraction * 1e6 to the nearest microsecond, ties to even (rint),
 * and a fraction that rounds up to 1000000 carries into the next second,
 * day or year; the same double arithmetic here gives the same result.
 */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cc_pgtime.h"

#define USECS_PER_SEC   INT64_C(1000000)
#define SECS_PER_DAY    INT64_C(86400)

/* Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define PG_EPOCH_DAYS   10957

/* PostgreSQL refuses offsets of 16 hours or more (MAX_TZDISP_HOUR). */
#define MAX_OFFSET_HOUR 15


/* The value of n digits at s, or -1 when one of them is not a digit. */
static int
digits_value(const char *s, int n)
{
    int  v = 0;

    while (n-- > 0) {
        if (!isdigit((unsigned char) *s)) {
            return -1;
        }
        v = v * 10 + (*s++ - '0');
    }
    return v;
}


static int
is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}


static int
days_in_month(int year, int month)
{
    static const int  days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };

    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}


/*
 * Days from 1970-01-01 to the proleptic Gregorian date: years counted
 * from March, so that the leap day ends a year, in 400-year eras.
 */
static int64_t
days_from_civil(int year, int month, int day)
{
    int64_t  y, era, yoe, doy, doe;

    y = month <= 2 ? year - 1 : year;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}


/*
 * Microseconds of the fraction at s (the '.'), rounded as PostgreSQL's
 * ParseFractionalSecond does: strtod, times 1e6, rint.  The workers never
 * call setlocale, so strtod reads '.' as the decimal point.  *end is set
 * past the digits; -1 when there are none or an exponent follows them.
 */
static int64_t
fraction_usecs(const char *s, const char **end)
{
    const char  *p;
    double       x, rest;
    int64_t      whole;

    for (p = s + 1; isdigit((unsigned char) *p); p++) {
        /* the digits strtod will read */
    }
    if (p == s + 1) {
        return -1;
    }
    if (*p == 'e' || *p == 'E') {
        /* strtod would read an exponent, and the value could overflow */
        return -1;
    }
    *end = p;
    x = strtod(s, NULL) * 1000000.0;
    /* x is in [0, 1e6]: round half to even, as rint does by default. */
    whole = (int64_t) x;
    rest = x - (double) whole;
    if (rest > 0.5 || (rest == 0.5 && (whole & 1) != 0)) {
        whole++;
    }
    return whole;
}


/* Seconds east of UTC of "Z", "+hh:mm", "-hh:mm" or ""; -1 otherwise. */
static int
offset_seconds(const char *s, int *has_offset, int64_t *secs)
{
    int  hh, mm;

    *has_offset = *s != '\0';
    if (*s == '\0' || strcmp(s, "Z") == 0) {
        *secs = 0;
        return 0;
    }
    if ((*s != '+' && *s != '-') || strlen(s) != 6 || s[3] != ':') {
        return -1;
    }
    hh = digits_value(s + 1, 2);
    mm = digits_value(s + 4, 2);
    if (hh < 0 || hh > MAX_OFFSET_HOUR || mm < 0 || mm > 59) {
        return -1;
    }
    *secs = (int64_t) (hh * 3600 + mm * 60) * (*s == '-' ? -1 : 1);
    return 0;
}


int
cc_pgtime_from_iso(const char *s, int64_t *usecs, int *has_offset)
{
    int          year, month, day, hour, min, sec;
    int64_t      fsec, offset, days;
    const char  *p;

    if (s == NULL || strlen(s) < 19 || s[4] != '-' || s[7] != '-'
        || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    {
        return -1;
    }
    year = digits_value(s, 4);
    month = digits_value(s + 5, 2);
    day = digits_value(s + 8, 2);
    hour = digits_value(s + 11, 2);
    min = digits_value(s + 14, 2);
    sec = digits_value(s + 17, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1
        || day > days_in_month(year, month) || hour < 0 || hour > 23
        || min < 0 || min > 59 || sec < 0 || sec > 59)
    {
        return -1;
    }
    p = s + 19;
    fsec = 0;
    if (*p == '.') {
        fsec = fraction_usecs(p, &p);
        if (fsec < 0) {
            return -1;
        }
    }
    if (offset_seconds(p, has_offset, &offset) != 0) {
        return -1;
    }
    days = days_from_civil(year, month, day) - PG_EPOCH_DAYS;
    *usecs = ((days * SECS_PER_DAY + hour * 3600 + min * 60 + sec - offset)
              * USECS_PER_SEC) + fsec;
    return 0;
}
