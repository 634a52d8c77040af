/*
 * Probing a worker's /healthz over its unix socket with libcurl, with a
 * short timeout so a hung worker cannot hang the health answer.
 */

#include <curl/curl.h>

#include "api_probe.h"
#include "cc_curl_body.h"


int
api_probe_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}


void
api_probe_cleanup(void)
{
    curl_global_cleanup();
}


int
api_probe_healthz(const char *socket_path)
{
    CURL      *curl;
    CURLcode   rc;
    long       status;

    if (socket_path == NULL || socket_path[0] == '\0') {
        return 0;
    }
    curl = curl_easy_init();
    if (curl == NULL) {
        return 0;
    }

    /* The host part is ignored on a unix socket; nginx is not involved. */
    curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/healthz");
    curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) API_PROBE_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, cc_curl_discard);

    status = 0;
    rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    }
    curl_easy_cleanup(curl);
    return status == 200;
}
