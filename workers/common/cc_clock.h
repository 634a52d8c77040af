/*
 * Deadlines for pthread_cond_timedwait, which wants an absolute
 * CLOCK_REALTIME time rather than a duration.
 */

#ifndef CC_CLOCK_H
#define CC_CLOCK_H

#include <time.h>

/* Sets ts to now + ms milliseconds on CLOCK_REALTIME. */
void cc_clock_deadline_ms(struct timespec *ts, int ms);

#endif /* CC_CLOCK_H */
