/*
 * Sliding-window request counting in 56 bytes per key: an estimate of how
 * many requests a key made in the last window, from two consecutive
 * windows and the span of time each quarter of them really held requests.
 *
 * Semantics (what the rate limiter promises; t/unit/window_*.c prove it
 * with a controllable clock):
 *
 *   A key's time is cut into windows of the configured length, anchored at
 *   the key's first request after a quiet spell (a moment when nothing it
 *   did is left in the sliding window), not at the wall clock.  Each window
 *   has four pieces (quarters); for each piece of the current and of the
 *   previous window the state keeps the number of admitted requests and
 *   the positions of the first and the last of them.  The estimate of the
 *   requests in the sliding window (now - length, now] is
 *
 *       current window's count
 *     + for each piece of the previous window:
 *           its count * (part of [its first, its last] still inside the
 *                        sliding window) / (its first .. its last)
 *
 *   i.e. the previous window's requests are taken as spread evenly over the
 *   spans they really occupied, not over the whole window.  A request is
 *   admitted when estimate + 1 <= limit, and only admitted requests are
 *   counted.  Positions are kept in 1/1024 of the window (steps of under
 *   60 ms for a minute: a request counts as inside the sliding window
 *   until the end of its step), the estimate in 1/65536 of a request.
 *
 * The plain two-window counter (the previous count weighted by the elapsed
 * fraction of the current window) assumes the previous window was used
 * evenly from end to end; a client that starts sending part-way through a
 * window breaks that assumption and gets up to 1.5 times its limit in its
 * first minute.  Anchoring and spans remove that error for steady clients:
 * at twice the limit a client gets its limit in its first minute exactly,
 * at 0.9 times it is never refused (limits of 20 or more per window), and
 * quarters keep a client that comes back after a pause, alternates bursts
 * and silence, or sends in a few bursts a minute close to what an exact
 * log of every request would allow.  Irregular traffic is estimated, not
 * counted: ngx_module/README.md gives the measured error for it.
 *
 * Times are milliseconds from any monotonic clock the caller chooses; a
 * time earlier than the state's own is taken as the state's own time (so a
 * process whose cached clock lags another's by a tick does no harm).
 */

#ifndef CC_WINDOW_H
#define CC_WINDOW_H

#include <stdint.h>

#define CC_WINDOW_PIECES   4         /* spans kept per window */
#define CC_WINDOW_STEPS    256       /* positions per piece */
#define CC_WINDOW_SCALE    (CC_WINDOW_PIECES * CC_WINDOW_STEPS)

/*
 * 56 bytes.  A position is a piece and a step in it: under 60 ms for a
 * one-minute window.  Counts are full 32-bit numbers.
 */
typedef struct {
    uint64_t  start;                          /* ms: current window began */
    uint32_t  count[CC_WINDOW_PIECES];        /* current window, per piece */
    uint32_t  prev_count[CC_WINDOW_PIECES];   /* the window before it */
    uint8_t   first[CC_WINDOW_PIECES];        /* steps of the first and */
    uint8_t   last[CC_WINDOW_PIECES];         /*   last request per piece */
    uint8_t   prev_first[CC_WINDOW_PIECES];
    uint8_t   prev_last[CC_WINDOW_PIECES];
} cc_window_t;

typedef struct {
    int       admitted;              /* 1: the request may go on */
    uint32_t  used;                  /* estimate before it, rounded up */
    uint32_t  remaining;             /* admissible right after it */
    uint64_t  wait;                  /* refused: ms until one would fit */
} cc_window_verdict_t;

/* An empty state whose first window starts at now. */
void cc_window_init(cc_window_t *w, uint64_t now);

/*
 * Decides whether one request at now fits under limit requests per length
 * ms, without counting it: v->remaining is what would remain if it were
 * counted; when it does not fit, v->wait is the time until one would (the
 * length when limit is 0).  Moves w's windows forward to now, which
 * changes no estimate.
 */
void cc_window_check(cc_window_t *w, uint64_t now, uint64_t length,
    uint32_t limit, cc_window_verdict_t *v);

/* Counts one admitted request at now. */
void cc_window_count(cc_window_t *w, uint64_t now, uint64_t length);

/* check, then count if admitted: the one-limit case. */
void cc_window_hit(cc_window_t *w, uint64_t now, uint64_t length,
    uint32_t limit, cc_window_verdict_t *v);

/* The estimate at now, in requests, rounded up. */
uint32_t cc_window_used(const cc_window_t *w, uint64_t now, uint64_t length);

/*
 * How many ms from now until the estimate is at most target requests, if
 * nothing more is counted: 0 if it already is.  Never more than twice the
 * length, when everything counted has left the sliding window.
 */
uint64_t cc_window_wait(const cc_window_t *w, uint64_t now, uint64_t length,
    uint32_t target);

/* True when nothing counted in w is inside the sliding window any more. */
int cc_window_idle(const cc_window_t *w, uint64_t now, uint64_t length);

#endif /* CC_WINDOW_H */
