/*
 * Process start-up shared by cc-api, cc-ingest and cc-worker.
 */

#include <stdlib.h>

#include "cc_log.h"
#include "cc_metrics.h"
#include "cc_service.h"
#include "cc_signal.h"
#include "cc_version.h"


void
cc_service_init(cc_config_t *cfg, const char *svc, int needs,
                int argc, char **argv)
{
    cc_config_load_or_exit(cfg, svc, needs, argc, argv);
    cc_log_init(svc, cfg->log_level, cfg->log_pii);
    cc_metrics_init(svc);

    if (cc_signal_init() != 0) {
        cc_log(CC_LOG_ERROR, "cannot install signal handlers");
        exit(1);
    }
    cc_log_fields(CC_LOG_INFO, "starting",
                  json_pack("{s:s,s:i}", "version", CC_VERSION,
                            "max_body", (int) cfg->max_body));
}
