/*
 * Growable byte buffers for the simulator: JSON text written piece by
 * piece, strings escaped for JSON, and gzip as the agent sends telemetry.
 */

#ifndef SIM_BUF_H
#define SIM_BUF_H

#include <stddef.h>

typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
    int      failed;        /* an allocation failed: the content is cut */
} sim_buf_t;

void sim_buf_reset(sim_buf_t *b);
void sim_buf_free(sim_buf_t *b);
/* Room for n more bytes and a terminating NUL; 0 or -1. */
int  sim_buf_reserve(sim_buf_t *b, size_t n);
void sim_buf_add(sim_buf_t *b, const char *s, size_t n);
void sim_buf_str(sim_buf_t *b, const char *s);
void sim_buf_printf(sim_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s as a quoted JSON string. */
void sim_buf_json_string(sim_buf_t *b, const char *s);

/* Replaces out's content by in gzip-compressed at level; 0 or -1. */
int sim_buf_gzip(sim_buf_t *out, const char *in, size_t len, int level);

#endif
