/*
 * Clocks: deadlines for pthread_cond_timedwait, which wants an absolute
 * CLOCK_REALTIME time rather than a duration, and a monotonic millisecond
 * count for timers and expiries that must not jump with the wall clock.
 */

#ifndef CC_CLOCK_H
#define CC_CLOCK_H

#include <time.h>

/* Sets ts to now + ms milliseconds on CLOCK_REALTIME. */
void cc_clock_deadline_ms(struct timespec *ts, int ms);

/* Milliseconds on CLOCK_MONOTONIC (from an arbitrary start). */
long long cc_clock_monotonic_ms(void);

#endif /* CC_CLOCK_H */
