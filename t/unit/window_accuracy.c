/*
 * cc_window's accuracy, proven on a simulated clock: a client sending at
 * twice its limit gets its limit in its first minute, to within 1%, from
 * whatever moment it starts and with exact or jittered timing, and keeps
 * to it minute after minute; a client at 0.9 times its limit is never
 * refused.  The plain two-window counter is run through the same first
 * test, and fails it, to show the test can fail.  Irregular traffic (random
 * arrivals, bursts and silences, a client coming back after a pause, a
 * client sending in bursts, compared with an exact log of every request)
 * gets looser bounds, and the measured figures as diagnostics.
 */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cc_window.h"


#define MINUTE     60000ULL
#define BASE       1000000007ULL       /* an arbitrary clock origin */
#define PHASES     20                  /* start moments per scenario */
#define MAX_TIMES  (8 * 6000 * 12)


typedef int (*limiter_fn)(void *state, uint64_t now, uint32_t limit);


static uint64_t  times[MAX_TIMES];
static uint64_t  admitted[MAX_TIMES];
static uint64_t  rng_state = 0x2545f4914f6cdd1dULL;


static double
uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double) (rng_state >> 11) / 9007199254740992.0;
}


/* The limiter under test, and the plain counter it is compared with. */

static int
window_hit(void *state, uint64_t now, uint32_t limit)
{
    cc_window_verdict_t  v;

    cc_window_hit(state, now, MINUTE, limit, &v);
    return v.admitted;
}


typedef struct {
    uint64_t  index;
    uint32_t  count;
    uint32_t  prev;
} naive_t;


static int
naive_hit(void *state, uint64_t now, uint32_t limit)
{
    naive_t  *n = state;
    uint64_t  index;
    double    elapsed;

    index = now / MINUTE;
    if (index == n->index + 1) {
        n->prev = n->count;
        n->count = 0;

    } else if (index > n->index + 1) {
        n->prev = 0;
        n->count = 0;
    }
    n->index = index;

    elapsed = (double) (now % MINUTE) / MINUTE;
    if (n->prev * (1.0 - elapsed) + n->count + 1 > limit) {
        return 0;
    }
    n->count++;
    return 1;
}


/* Request times: steady at rate per minute, optionally jittered. */

static size_t
steady(uint64_t start, uint64_t duration, double rate, int jitter,
    size_t n)
{
    double  gap, t;

    gap = MINUTE / rate;
    for (t = 0; t < duration && n < MAX_TIMES; t += gap) {
        times[n++] = start + (uint64_t) (t + (jitter ? uniform() * gap : 0));
    }
    return n;
}


static int
by_time(const void *a, const void *b)
{
    uint64_t  x = *(const uint64_t *) a, y = *(const uint64_t *) b;

    return (x > y) - (x < y);
}


/* Feeds times[0..n) to a fresh limiter; returns how many it admitted. */
static size_t
feed(limiter_fn hit, size_t n, uint32_t limit, size_t *refused)
{
    cc_window_t  w;
    naive_t      naive;
    void        *state;
    size_t       i, a;

    qsort(times, n, sizeof(times[0]), by_time);
    cc_window_init(&w, times[0]);
    memset(&naive, 0, sizeof(naive));
    naive.index = times[0] / MINUTE;
    state = (hit == naive_hit) ? (void *) &naive : (void *) &w;

    a = 0;
    for (i = 0; i < n; i++) {
        if (hit(state, times[i], limit)) {
            admitted[a++] = times[i];
        }
    }
    if (refused) {
        *refused = n - a;
    }
    return a;
}


static size_t
admitted_between(size_t a, uint64_t from, uint64_t to)
{
    size_t  i, c;

    for (i = 0, c = 0; i < a; i++) {
        c += (admitted[i] >= from && admitted[i] < to);
    }
    return c;
}


/* The most admitted in any 60 s, looked at every 100 ms. */
static size_t
busiest_minute(size_t a, uint64_t from, uint64_t to)
{
    size_t    lo, hi, most;
    uint64_t  t;

    lo = hi = most = 0;
    for (t = from; t + MINUTE <= to; t += 100) {
        while (lo < a && admitted[lo] < t) {
            lo++;
        }
        while (hi < a && admitted[hi] < t + MINUTE) {
            hi++;
        }
        if (hi - lo > most) {
            most = hi - lo;
        }
    }
    return most;
}


static uint64_t
phase_start(int phase)
{
    /* spread over a minute, and off any round number of milliseconds */
    return BASE + phase * MINUTE / PHASES + phase * 7;
}


/* Worst |admitted - limit| in the first minute at 2x, over every phase. */
static size_t
first_minute_error(limiter_fn hit, uint32_t limit, int jitter)
{
    size_t    n, a, got, worst;
    uint64_t  start;
    int       phase;

    worst = 0;
    for (phase = 0; phase < PHASES; phase++) {
        start = phase_start(phase);
        n = steady(start, MINUTE, 2.0 * limit, jitter, 0);
        a = feed(hit, n, limit, NULL);
        got = admitted_between(a, start, start + MINUTE);
        if ((got > limit ? got - limit : limit - got) > worst) {
            worst = got > limit ? got - limit : limit - got;
        }
    }
    return worst;
}


static void
test_twice_the_limit_for_a_minute(void)
{
    static const uint32_t  limits[] = { 20, 100, 600, 6000 };
    size_t                 i, err;
    int                    jitter;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        for (jitter = 0; jitter <= 1; jitter++) {
            err = first_minute_error(window_hit, limits[i], jitter);
            ok(err <= limits[i] / 100,
               "2x for a minute, limit %u, %s times, %d starts: within 1%% "
               "(worst error %zu)", limits[i], jitter ? "jittered" : "exact",
               PHASES, err);
        }
    }

    err = first_minute_error(naive_hit, 100, 0);
    ok(err > 40, "the plain two-window counter fails the same test "
       "(worst error %zu of 100)", err);
}


static void
test_twice_the_limit_for_ten_minutes(void)
{
    static const uint32_t  limits[] = { 100, 600, 6000 };
    size_t                 i, n, a, most, got, worst_most, worst_minute;
    uint64_t               start, m;
    uint32_t               limit;
    int                    phase, jitter;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        limit = limits[i];

        for (jitter = 0; jitter <= 1; jitter++) {
            worst_most = 0;
            worst_minute = 0;

            for (phase = 0; phase < PHASES; phase += 4) {
                start = phase_start(phase);
                n = steady(start, 10 * MINUTE, 2.0 * limit, jitter, 0);
                a = feed(window_hit, n, limit, NULL);

                most = busiest_minute(a, start, start + 10 * MINUTE);
                if (most > worst_most) {
                    worst_most = most;
                }
                for (m = 0; m < 10; m++) {
                    got = admitted_between(a, start + m * MINUTE,
                                           start + (m + 1) * MINUTE);
                    got = got > limit ? got - limit : limit - got;
                    if (got > worst_minute) {
                        worst_minute = got;
                    }
                }
            }

            ok(worst_most <= limit + limit / 100,
               "2x for 10 minutes, limit %u, %s: no 60 s holds more than "
               "the limit + 1%% (most %zu)", limit,
               jitter ? "jittered" : "exact", worst_most);
            ok(worst_minute <= limit / 100,
               "2x for 10 minutes, limit %u, %s: each minute within 1%% "
               "(worst error %zu)", limit, jitter ? "jittered" : "exact",
               worst_minute);
        }
    }
}


static void
test_ninety_percent_never_refused(void)
{
    static const uint32_t  limits[] = { 20, 100, 600, 6000 };
    size_t                 i, n, refused, total;
    int                    phase, jitter;

    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        for (jitter = 0; jitter <= 1; jitter++) {
            total = 0;
            for (phase = 0; phase < PHASES; phase += 2) {
                n = steady(phase_start(phase), 10 * MINUTE, 0.9 * limits[i],
                           jitter, 0);
                feed(window_hit, n, limits[i], &refused);
                total += refused;
            }
            is_int(total, 0, "0.9x for 10 minutes, limit %u, %s times: "
                   "never refused", limits[i], jitter ? "jittered" : "exact");
        }
    }
}


/*
 * Traffic no window estimate follows exactly.  The bounds are loose on
 * purpose; the diagnostics print what was measured, for the README.
 */

static size_t
random_arrivals(double rate, uint64_t duration)
{
    size_t  n;
    double  t;

    for (n = 0, t = 0; n < MAX_TIMES; ) {
        t += -log(1.0 - uniform()) * MINUTE / rate;
        if (t >= duration) {
            break;
        }
        times[n++] = BASE + (uint64_t) t;
    }
    return n;
}


static size_t
bursts_and_silences(double rate, uint64_t duration)
{
    size_t  n;
    double  t, length, u;
    int     on;

    for (n = 0, t = 0, on = 1; t < duration; t += length, on = !on) {
        length = 10000 + uniform() * 80000;
        for (u = 0; on && u < length && n < MAX_TIMES; u += MINUTE / rate) {
            times[n++] = BASE + (uint64_t) (t + u);
        }
    }
    return n;
}


static size_t
coming_back(uint32_t limit)
{
    size_t    n;
    uint64_t  pause;

    n = steady(BASE, 5 * MINUTE, 0.9 * limit, 0, 0);
    pause = 5000 + (uint64_t) (uniform() * 125000);
    return steady(BASE + 5 * MINUTE + pause, 2 * MINUTE, 2.0 * limit, 0, n);
}


static void
irregular(const char *what, limiter_fn hit, uint32_t limit, int kind,
    double bound)
{
    size_t    n, a, most, worst;
    uint64_t  end;
    int       round;

    worst = 0;
    for (round = 0; round < 30; round++) {
        if (kind == 0) {
            n = random_arrivals(2.0 * limit, 10 * MINUTE);
        } else if (kind == 1) {
            n = bursts_and_silences(3.0 * limit, 15 * MINUTE);
        } else {
            n = coming_back(limit);
        }
        end = times[n - 1] + 1;
        a = feed(hit, n, limit, NULL);
        most = busiest_minute(a, BASE, end);
        if (most > worst) {
            worst = most;
        }
    }

    if (hit == naive_hit) {
        diag("plain two-window counter, %s, limit %u: busiest 60 s held "
             "%.2f x the limit", what, limit, (double) worst / limit);
        return;
    }
    diag("%s, limit %u: busiest 60 s held %.2f x the limit", what, limit,
         (double) worst / limit);
    ok(worst <= bound * limit, "%s, limit %u: no 60 s holds more than %.2f x "
       "the limit", what, limit, bound);
}


/*
 * The sliding log: every admitted request's time, the exact answer a
 * window estimate approximates (for limits up to EXACT_MAX).
 */

#define EXACT_MAX  1024

typedef struct {
    uint64_t  at[EXACT_MAX];
    size_t    head;                    /* oldest */
    size_t    n;
} exact_t;


static int
exact_hit(void *state, uint64_t now, uint32_t limit)
{
    exact_t  *e = state;

    while (e->n > 0 && e->at[e->head] + MINUTE <= now) {
        e->head = (e->head + 1) % EXACT_MAX;
        e->n--;
    }
    if (e->n >= limit) {
        return 0;
    }
    e->at[(e->head + e->n) % EXACT_MAX] = now;
    e->n++;
    return 1;
}


/*
 * A client sending its 0.9x in a few bursts a minute, each burst a second
 * or two early or late: a span that holds bursts is taken as evenly used,
 * so part of a burst can be refused that the exact log would admit.
 * Bounded loosely against the exact log; measured for the README.
 */
static void
bursts(uint32_t limit, uint64_t period, double bound)
{
    static exact_t  exact;
    size_t          n, i, a, ours, log, naive, total;
    uint32_t        burst;
    uint64_t        start, t;
    int             round;

    burst = (uint32_t) (0.9 * limit * period / MINUTE);
    ours = log = naive = total = 0;

    for (round = 0; round < 10; round++) {
        start = BASE + (uint64_t) (uniform() * MINUTE);
        n = 0;
        for (t = 0; t < 20 * MINUTE && n + burst < MAX_TIMES; t += period) {
            for (i = 0; i < burst; i++) {
                times[n++] = start + 2000 + t - (uint64_t) (uniform() * 4000)
                             + 10 * i;
            }
        }
        total += n;

        feed(window_hit, n, limit, &i);
        ours += i;
        feed(naive_hit, n, limit, &i);
        naive += i;

        memset(&exact, 0, sizeof(exact));
        for (i = 0, a = 0; i < n; i++) {
            a += exact_hit(&exact, times[i], limit);
        }
        log += n - a;
    }

    diag("bursts of %u every %llu s, +-2 s, limit %u: refused %.1f%% "
         "(sliding log %.1f%%, plain two-window counter %.1f%%)", burst,
         (unsigned long long) (period / 1000), limit, 100.0 * ours / total,
         100.0 * log / total, 100.0 * naive / total);
    ok(ours <= log + bound * total, "bursts of %u every %llu s: at most "
       "%.0f%% refused beyond what the sliding log refuses", burst,
       (unsigned long long) (period / 1000), 100 * bound);
}


static void
test_irregular_traffic(void)
{
    irregular("random arrivals at 2x", window_hit, 100, 0, 1.20);
    irregular("random arrivals at 2x", window_hit, 1000, 0, 1.06);
    irregular("random arrivals at 2x", naive_hit, 100, 0, 0);
    irregular("3x bursts and silences of 10-90 s", window_hit, 100, 1, 1.10);
    irregular("3x bursts and silences of 10-90 s", naive_hit, 100, 1, 0);
    irregular("0.9x, a pause of 5-130 s, then 2x", window_hit, 100, 2, 1.05);
    irregular("0.9x, a pause of 5-130 s, then 2x", window_hit, 1000, 2, 1.05);
    irregular("0.9x, a pause of 5-130 s, then 2x", naive_hit, 100, 2, 0);
    bursts(100, 10000, 0.02);
    bursts(100, 20000, 0.02);
    bursts(100, 30000, 0.02);
}


int
main(void)
{
    test_twice_the_limit_for_a_minute();
    test_twice_the_limit_for_ten_minutes();
    test_ninety_percent_never_refused();
    test_irregular_traffic();
    return done_testing();
}
