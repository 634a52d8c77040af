/*
 * cc_window, request by request: admission up to the limit and not one
 * more, refusals not counted, the wait until the next admission, windows
 * that move on and are anchored again after a quiet spell, the previous
 * window's spans sliding out, a lagging clock, limits of 0 and near 2^32.
 */

#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "cc_window.h"


#define T0      1000000000ULL          /* any monotonic ms */
#define MINUTE  60000ULL
#define STEP    ((MINUTE + CC_WINDOW_SCALE - 1) / CC_WINDOW_SCALE)   /* 59 */


static void
test_up_to_the_limit(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    uint32_t             i, admitted;

    cc_window_init(&w, T0);
    is_int(cc_window_used(&w, T0, MINUTE), 0, "a new state has used nothing");

    cc_window_hit(&w, T0, MINUTE, 10, &v);
    ok(v.admitted, "first request admitted");
    is_int(v.used, 0, "first request saw nothing used before it");
    is_int(v.remaining, 9, "nine remain after the first of ten");

    admitted = 1;
    for (i = 0; i < 20; i++) {
        cc_window_hit(&w, T0, MINUTE, 10, &v);
        admitted += v.admitted;
    }
    is_int(admitted, 10, "exactly the limit admitted at one instant");
    ok(!v.admitted, "the request over the limit is refused");
    is_int(v.remaining, 0, "nothing remains when refused");
    is_int(cc_window_used(&w, T0, MINUTE), 10, "refusals are not counted");
}


static void
test_check_does_not_count(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    int                  i;

    cc_window_init(&w, T0);
    for (i = 0; i < 5; i++) {
        cc_window_check(&w, T0 + i, MINUTE, 3, &v);
    }
    ok(v.admitted, "check alone admits again and again");
    is_int(cc_window_used(&w, T0 + 5, MINUTE), 0, "check alone counts nothing");

    for (i = 0; i < 5; i++) {
        cc_window_count(&w, T0 + 10, MINUTE);
    }
    is_int(cc_window_used(&w, T0 + 10, MINUTE), 5,
           "count counts even past the limit (it is the caller's verdict)");
    cc_window_check(&w, T0 + 10, MINUTE, 3, &v);
    ok(!v.admitted, "a state over its limit refuses");
}


/*
 * Ten requests at one instant occupy one step; they leave the sliding
 * window at the end of that step (under 60 ms of a minute) a whole window
 * later, and not before.
 */
static void
test_wait_for_a_point_burst(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    int                  i;

    cc_window_init(&w, T0);
    for (i = 0; i < 10; i++) {
        cc_window_hit(&w, T0, MINUTE, 10, &v);
    }

    cc_window_check(&w, T0 + 1000, MINUTE, 10, &v);
    ok(!v.admitted, "refused a second later");
    is_int(v.wait, MINUTE - 1000 + STEP, "wait ends one step after a window");

    cc_window_check(&w, T0 + MINUTE, MINUTE, 10, &v);
    ok(!v.admitted, "still refused exactly one window later");
    is_int(v.used, 10, "the burst is still inside at exactly one window");

    cc_window_check(&w, T0 + MINUTE + STEP - 1, MINUTE, 10, &v);
    ok(!v.admitted, "still refused a millisecond before the wait is over");

    cc_window_check(&w, T0 + MINUTE + STEP, MINUTE, 10, &v);
    ok(v.admitted, "admitted once the wait is over");
    is_int(v.remaining, 9, "the whole limit is back after the burst left");
}


/* One request every 600 ms for a minute: an even spread. */
static void
test_previous_window_slides_out(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    uint64_t             t;
    uint32_t             used;

    cc_window_init(&w, T0);
    for (t = 0; t < MINUTE; t += 600) {
        cc_window_hit(&w, T0 + t, MINUTE, 100, &v);
    }
    ok(v.admitted, "an even spread at the limit is admitted throughout");
    is_int(cc_window_used(&w, T0 + MINUTE - 1, MINUTE), 100,
           "all of it is inside at the end of the window");

    used = cc_window_used(&w, T0 + MINUTE + MINUTE / 4, MINUTE);
    ok(used >= 75 && used <= 76, "a quarter window on, 3/4 is inside (%u)",
       used);

    used = cc_window_used(&w, T0 + MINUTE + MINUTE / 2, MINUTE);
    ok(used >= 50 && used <= 51, "half a window on, half is inside (%u)",
       used);

    used = cc_window_used(&w, T0 + 2 * MINUTE - 600, MINUTE);
    ok(used <= 2, "almost a window on, almost nothing is inside (%u)", used);

    is_int(cc_window_used(&w, T0 + 2 * MINUTE, MINUTE), 0,
           "two windows on, nothing is inside");
}


/*
 * The previous window's requests count where they were, not spread over
 * the whole window: 50 requests in the last tenth of a window stay wholly
 * inside the sliding window for the next nine tenths.
 */
static void
test_span_not_whole_window(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    uint64_t             t;
    int                  i;

    cc_window_init(&w, T0);
    cc_window_hit(&w, T0, MINUTE, 100, &v);           /* anchors at T0 */
    for (i = 0, t = 54000; i < 49; i++, t += 100) {
        cc_window_hit(&w, T0 + t, MINUTE, 100, &v);
    }
    is_int(cc_window_used(&w, T0 + MINUTE + 30000, MINUTE), 49,
           "late requests still wholly inside half a window on");
    is_int(cc_window_used(&w, T0 + MINUTE + 53999, MINUTE), 49,
           "and just before their span begins to leave");
    ok(cc_window_used(&w, T0 + MINUTE + 56500, MINUTE) <= 26,
       "half of their span gone, about half of them gone");
}


static void
test_anchored_after_quiet_spell(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;

    cc_window_init(&w, T0);
    cc_window_hit(&w, T0 + 37123, MINUTE, 5, &v);
    is_int((long long) (w.start - T0), 37123,
           "the first request of a fresh state anchors the windows");

    cc_window_hit(&w, T0 + 37123 + 2 * MINUTE + 5, MINUTE, 5, &v);
    is_int((long long) (w.start - T0), 37123 + 2 * MINUTE + 5,
           "after two quiet windows the windows start again at the request");

    cc_window_hit(&w, T0 + 37123 + 2 * MINUTE + 10, MINUTE, 5, &v);
    ok(!cc_window_idle(&w, T0 + 37123 + 3 * MINUTE, MINUTE),
       "a request is still inside just under a window later");
    ok(cc_window_idle(&w, T0 + 37123 + 4 * MINUTE + 10, MINUTE),
       "idle once everything has left the sliding window");
    ok(!cc_window_idle(&w, T0 + 37123 + 3 * MINUTE + 5 + STEP - 1, MINUTE),
       "not idle before the end of the last request's step");
    ok(cc_window_idle(&w, T0 + 37123 + 3 * MINUTE + 5 + STEP, MINUTE),
       "idle as soon as the previous window's span has left");
}


static void
test_limit_zero_and_huge(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    int                  i;

    cc_window_init(&w, T0);
    cc_window_hit(&w, T0, MINUTE, 0, &v);
    ok(!v.admitted, "a limit of 0 refuses the first request");
    is_int(v.wait, MINUTE, "a limit of 0 says: try again after a window");

    cc_window_init(&w, T0);
    for (i = 0; i < 1000; i++) {
        cc_window_hit(&w, T0 + i, MINUTE, 4000000000u, &v);
    }
    ok(v.admitted, "a limit near 2^32 admits");
    is_int(v.remaining, 4000000000LL - 1000, "and counts without overflow");
}


static void
test_lagging_clock(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    int                  i, admitted;

    cc_window_init(&w, T0);
    cc_window_hit(&w, T0 + 5000, MINUTE, 10, &v);
    admitted = 0;
    for (i = 0; i < 5; i++) {
        cc_window_hit(&w, T0 + 4990 + i, MINUTE, 10, &v);   /* earlier */
        admitted += v.admitted;
    }
    is_int(admitted, 5, "requests from a lagging clock are admitted");
    is_int(cc_window_used(&w, T0 + 5000, MINUTE), 6,
           "and counted like the others");
    ok(w.first[0] <= w.last[0], "the span stays ordered");

    cc_window_init(&w, T0);
    cc_window_hit(&w, T0 + 30000, MINUTE, 10, &v);
    cc_window_hit(&w, T0 + 31000, MINUTE, 10, &v);
    cc_window_hit(&w, T0 + 29000, MINUTE, 10, &v);
    ok(w.first[0] == 0 && w.last[0] > 0,
       "a position before the first widens the span, never inverts it");
}


/*
 * The wait is exact: the estimate is at most the target at now + wait and
 * above it a millisecond earlier, for states built from arbitrary traffic.
 */
static void
test_wait_is_exact(void)
{
    cc_window_t          w;
    cc_window_verdict_t  v;
    uint64_t             now, wait, seed;
    uint32_t             target, used;
    int                  round, i, exact;

    seed = 0x9e3779b97f4a7c15ULL;
    exact = 1;

    for (round = 0; round < 200 && exact; round++) {
        cc_window_init(&w, T0);
        now = T0;
        for (i = 0; i < 300; i++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            now += seed % 700;
            cc_window_hit(&w, now, MINUTE, 120, &v);
        }

        used = cc_window_used(&w, now, MINUTE);
        target = (uint32_t) (seed % (used + 1));
        wait = cc_window_wait(&w, now, MINUTE, target);

        if (cc_window_used(&w, now + wait, MINUTE) > target
            || (wait > 0
                && cc_window_used(&w, now + wait - 1, MINUTE) <= target)
            || wait > 2 * MINUTE)
        {
            diag("round %d: used %u target %u wait %llu", round, used, target,
                 (unsigned long long) wait);
            exact = 0;
        }
    }
    ok(exact, "the wait is the first millisecond the target is met");
}


int
main(void)
{
    test_up_to_the_limit();
    test_check_does_not_count();
    test_wait_for_a_point_burst();
    test_previous_window_slides_out();
    test_span_not_whole_window();
    test_anchored_after_quiet_spell();
    test_limit_zero_and_huge();
    test_lagging_clock();
    test_wait_is_exact();
    return done_testing();
}
