/*
 * Health probes of the other workers: GET /healthz on their unix socket.
 */

#ifndef API_PROBE_H
#define API_PROBE_H

#define API_PROBE_TIMEOUT_MS  1000

/* Call once at start-up, before any thread runs (libcurl's rule). */
int api_probe_init(void);

/* Releases libcurl's global state at exit. */
void api_probe_cleanup(void);

/* True when the worker at socket_path answers /healthz with 200 within
 * API_PROBE_TIMEOUT_MS.  An empty path is "not configured": false. */
int api_probe_healthz(const char *socket_path);

#endif /* API_PROBE_H */
