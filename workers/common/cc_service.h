/*
 * The start-up every worker process shares: configuration (exit 2 when it
 * is invalid), JSON logging, shutdown signals and metrics.
 */

#ifndef CC_SERVICE_H
#define CC_SERVICE_H

#include "cc_config.h"

/*
 * Loads cfg from the environment and argv (see cc_config.h), and sets up
 * logging as svc, the signal self-pipe and the metrics.  Exits 2 on a
 * configuration error, 1 when the process cannot be set up.
 */
void cc_service_init(cc_config_t *cfg, const char *svc, int needs,
                     int argc, char **argv);

#endif /* CC_SERVICE_H */
