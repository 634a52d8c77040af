/*
 * The sliding-window estimate behind the rate limiter (see cc_window.h for
 * the semantics), in integer arithmetic so that every process computes
 * exactly the same answer from the same shared state.  Positions are
 * counted from the current window's start in 1/CC_WINDOW_SCALE of the
 * window: piece = position / CC_WINDOW_STEPS, step = the remainder.
 */

#include <string.h>

#include "cc_window.h"


/* One request in the estimate's fixed point. */
#define CC_WINDOW_ONE   65536u


static void cc_window_advance(cc_window_t *w, uint64_t now, uint64_t length);
static uint32_t cc_window_position(const cc_window_t *w, uint64_t now,
    uint64_t length);
static uint64_t cc_window_estimate(const cc_window_t *w, uint64_t now,
    uint64_t length);
static uint64_t cc_window_piece_inside(const cc_window_t *w, uint32_t i,
    uint32_t pos);
static uint64_t cc_window_estimate_at(const cc_window_t *w, uint64_t now,
    uint64_t length);
static uint32_t cc_window_requests(uint64_t estimate);


void
cc_window_init(cc_window_t *w, uint64_t now)
{
    memset(w, 0, sizeof(cc_window_t));
    w->start = now;
}


void
cc_window_check(cc_window_t *w, uint64_t now, uint64_t length,
    uint32_t limit, cc_window_verdict_t *v)
{
    uint64_t  estimate, budget;

    cc_window_advance(w, now, length);

    estimate = cc_window_estimate(w, now, length);
    budget = (uint64_t) limit * CC_WINDOW_ONE;

    v->used = cc_window_requests(estimate);

    if (estimate + CC_WINDOW_ONE <= budget) {
        v->admitted = 1;
        v->remaining = (uint32_t) ((budget - estimate - CC_WINDOW_ONE)
                                   / CC_WINDOW_ONE);
        v->wait = 0;
        return;
    }

    v->admitted = 0;
    v->remaining = 0;
    v->wait = (limit == 0) ? length
                           : cc_window_wait(w, now, length, limit - 1);
}


void
cc_window_count(cc_window_t *w, uint64_t now, uint64_t length)
{
    uint32_t  pos, i;
    uint8_t   step;

    cc_window_advance(w, now, length);

    pos = cc_window_position(w, now, length);
    i = pos / CC_WINDOW_STEPS;
    step = (uint8_t) (pos % CC_WINDOW_STEPS);

    /* another process's clock may lag by a tick: keep first <= last */
    if (w->count[i] == 0) {
        w->first[i] = step;
        w->last[i] = step;

    } else if (step < w->first[i]) {
        w->first[i] = step;

    } else if (step > w->last[i]) {
        w->last[i] = step;
    }

    if (w->count[i] < UINT32_MAX) {
        w->count[i]++;
    }
}


void
cc_window_hit(cc_window_t *w, uint64_t now, uint64_t length,
    uint32_t limit, cc_window_verdict_t *v)
{
    cc_window_check(w, now, length, limit, v);

    if (v->admitted) {
        cc_window_count(w, now, length);
    }
}


uint32_t
cc_window_used(const cc_window_t *w, uint64_t now, uint64_t length)
{
    return cc_window_requests(cc_window_estimate_at(w, now, length));
}


/*
 * With nothing more counted the estimate never grows (inside a window the
 * previous spans slide out; at a boundary the current window becomes the
 * previous one, still wholly inside), so the first moment it is low enough
 * can be found by bisection, in about 17 steps for a one-minute window.
 */

uint64_t
cc_window_wait(const cc_window_t *w, uint64_t now, uint64_t length,
    uint32_t target)
{
    uint64_t  lo, hi, mid, budget;

    if (now < w->start) {
        now = w->start;
    }

    budget = (uint64_t) target * CC_WINDOW_ONE;

    if (cc_window_estimate_at(w, now, length) <= budget) {
        return 0;
    }

    /* too high at now + lo, low enough at now + hi */
    lo = 0;
    hi = 2 * length;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (cc_window_estimate_at(w, now + mid, length) <= budget) {
            hi = mid;

        } else {
            lo = mid;
        }
    }

    return hi;
}


int
cc_window_idle(const cc_window_t *w, uint64_t now, uint64_t length)
{
    return cc_window_estimate_at(w, now, length) == 0;
}


/*
 * Brings the state to the window that holds now.  One window on, the
 * current window becomes the previous one; two or more, both are empty.
 * When nothing is left inside the sliding window the windows are anchored
 * again at now, so that a key's windows begin with its traffic: that is
 * what keeps a client who starts part-way through a wall-clock window
 * from being estimated as if its first burst had been spread over the
 * whole window.
 */

static void
cc_window_advance(cc_window_t *w, uint64_t now, uint64_t length)
{
    uint64_t  windows;

    if (now < w->start) {
        return;
    }

    windows = (now - w->start) / length;

    if (windows == 1) {
        memcpy(w->prev_count, w->count, sizeof(w->count));
        memcpy(w->prev_first, w->first, sizeof(w->first));
        memcpy(w->prev_last, w->last, sizeof(w->last));
        memset(w->count, 0, sizeof(w->count));
        w->start += length;

    } else if (windows > 1) {
        memset(w->count, 0, sizeof(w->count));
        memset(w->prev_count, 0, sizeof(w->prev_count));
    }

    if (cc_window_estimate(w, now, length) == 0) {
        memset(w->prev_count, 0, sizeof(w->prev_count));
        w->start = now;
    }
}


static uint32_t
cc_window_position(const cc_window_t *w, uint64_t now, uint64_t length)
{
    uint64_t  pos;

    if (now <= w->start) {
        return 0;
    }

    pos = (now - w->start) * CC_WINDOW_SCALE / length;

    return (pos < CC_WINDOW_SCALE) ? (uint32_t) pos : CC_WINDOW_SCALE - 1;
}


/* The estimate of a state already brought to now's window. */

static uint64_t
cc_window_estimate(const cc_window_t *w, uint64_t now, uint64_t length)
{
    uint32_t  i, pos;
    uint64_t  estimate;

    pos = cc_window_position(w, now, length);
    estimate = 0;

    for (i = 0; i < CC_WINDOW_PIECES; i++) {
        estimate += (uint64_t) w->count[i] * CC_WINDOW_ONE;
        estimate += cc_window_piece_inside(w, i, pos);
    }

    return estimate;
}


/*
 * The part of the previous window's piece i still inside the sliding
 * window: its requests spread evenly over the positions [first, last + 1)
 * of the piece, those after pos.  Rounded up, so that the estimate errs
 * towards the limit.
 */

static uint64_t
cc_window_piece_inside(const cc_window_t *w, uint32_t i, uint32_t pos)
{
    uint64_t  lo, hi, share;

    lo = (uint64_t) i * CC_WINDOW_STEPS + w->prev_first[i];
    hi = (uint64_t) i * CC_WINDOW_STEPS + w->prev_last[i] + 1;

    if (w->prev_count[i] == 0 || pos >= hi) {
        return 0;
    }

    if (pos <= lo) {
        return (uint64_t) w->prev_count[i] * CC_WINDOW_ONE;
    }

    share = ((hi - pos) * CC_WINDOW_ONE + (hi - lo) - 1) / (hi - lo);

    return (uint64_t) w->prev_count[i] * share;
}


static uint64_t
cc_window_estimate_at(const cc_window_t *w, uint64_t now, uint64_t length)
{
    cc_window_t  copy;

    copy = *w;
    cc_window_advance(&copy, now, length);

    return cc_window_estimate(&copy, now, length);
}


static uint32_t
cc_window_requests(uint64_t estimate)
{
    uint64_t  n;

    n = (estimate + CC_WINDOW_ONE - 1) / CC_WINDOW_ONE;

    return (n > UINT32_MAX) ? UINT32_MAX : (uint32_t) n;
}
