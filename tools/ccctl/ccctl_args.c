/*
 * ccctl's command-line and input plumbing: option parsing, reading files,
 * stdin and URLs (libcurl) with a size bound, printing JSON.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "ccctl.h"


typedef struct {
    char    *data;
    size_t   len;
    size_t   max;
    int      too_big;
} ccctl_buf_t;


static const char *ccctl_known(const char *const *known, const char *name,
    size_t len);
static char *ccctl_read_stream(FILE *f, size_t max, size_t *len);
static char *ccctl_fetch(const char *url, size_t max, size_t *len);
static size_t ccctl_fetch_write(char *ptr, size_t size, size_t n, void *ud);


int
ccctl_parse(int argc, char **argv, const char *const *known,
    ccctl_cmdline_t *cmd)
{
    const char  *arg, *eq, *name;
    int          i, options_done;
    size_t       len;

    memset(cmd, 0, sizeof(*cmd));
    options_done = 0;

    for (i = 0; i < argc; i++) {
        arg = argv[i];

        if (options_done || strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (!options_done && strcmp(arg, "--") == 0) {
                options_done = 1;
                continue;
            }
            if (cmd->n_args == CCCTL_MAX_ARGS) {
                fprintf(stderr, "ccctl: too many arguments\n");
                return -1;
            }
            cmd->args[cmd->n_args++] = arg;
            continue;
        }

        eq = strchr(arg + 2, '=');
        len = eq ? (size_t) (eq - arg - 2) : strlen(arg + 2);
        name = ccctl_known(known, arg + 2, len);
        if (name == NULL) {
            fprintf(stderr, "ccctl: unknown option '%.*s'\n", (int) len + 2,
                    arg);
            return -1;
        }
        if (cmd->n_opts == CCCTL_MAX_ARGS) {
            fprintf(stderr, "ccctl: too many options\n");
            return -1;
        }

        cmd->opts[cmd->n_opts].name = name;
        if (eq != NULL) {
            cmd->opts[cmd->n_opts].value = eq + 1;
        } else if (i + 1 < argc) {
            cmd->opts[cmd->n_opts].value = argv[++i];
        } else {
            fprintf(stderr, "ccctl: --%s needs a value\n", name);
            return -1;
        }
        cmd->n_opts++;
    }
    return 0;
}


const char *
ccctl_opt(const ccctl_cmdline_t *cmd, const char *name)
{
    const char  *value;
    size_t       i;

    value = NULL;
    for (i = 0; i < cmd->n_opts; i++) {
        if (strcmp(cmd->opts[i].name, name) == 0) {
            value = cmd->opts[i].value;
        }
    }
    return value;
}


size_t
ccctl_opt_all(const ccctl_cmdline_t *cmd, const char *name,
    const char **values, size_t max)
{
    size_t  i, n;

    n = 0;
    for (i = 0; i < cmd->n_opts && n < max; i++) {
        if (strcmp(cmd->opts[i].name, name) == 0) {
            values[n++] = cmd->opts[i].value;
        }
    }
    return n;
}


int
ccctl_opt_ll(const ccctl_cmdline_t *cmd, const char *name, long long dflt,
    long long min, long long max, long long *out)
{
    const char  *s;
    char        *end;
    long long    v;

    s = ccctl_opt(cmd, name);
    if (s == NULL) {
        *out = dflt;
        return 0;
    }

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "ccctl: --%s must be an integer in %lld..%lld\n",
                name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}


char *
ccctl_read_source(const char *source, size_t max, size_t *len)
{
    FILE  *f;
    char  *data;

    if (strncmp(source, "http://", 7) == 0
        || strncmp(source, "https://", 8) == 0)
    {
        return ccctl_fetch(source, max, len);
    }

    if (strcmp(source, "-") == 0) {
        return ccctl_read_stream(stdin, max, len);
    }

    f = fopen(source, "rb");
    if (f == NULL) {
        fprintf(stderr, "ccctl: %s: %s\n", source, strerror(errno));
        return NULL;
    }
    data = ccctl_read_stream(f, max, len);
    fclose(f);
    if (data == NULL) {
        fprintf(stderr, "ccctl: %s: unreadable or larger than %zu bytes\n",
                source, max);
    }
    return data;
}


char *
ccctl_read_token(const char *arg, size_t max, size_t *len)
{
    const char  *start, *end;
    char        *copy, *data;

    data = NULL;
    if (strcmp(arg, "-") == 0) {
        data = ccctl_read_stream(stdin, max, len);
        if (data == NULL) {
            fprintf(stderr, "ccctl: stdin: unreadable or larger than %zu "
                    "bytes\n", max);
            return NULL;
        }
        arg = data;
    }

    start = arg;
    while (*start == ' ' || *start == '\t' || *start == '\n'
           || *start == '\r')
    {
        start++;
    }
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t'
                           || end[-1] == '\n' || end[-1] == '\r'))
    {
        end--;
    }

    copy = malloc((size_t) (end - start) + 1);
    if (copy != NULL) {
        memcpy(copy, start, (size_t) (end - start));
        copy[end - start] = '\0';
        *len = (size_t) (end - start);
    }
    free(data);
    return copy;
}


void
ccctl_print_json(json_t *obj)
{
    json_dumpf(obj, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(obj);
}


static const char *
ccctl_known(const char *const *known, const char *name, size_t len)
{
    for (; *known != NULL; known++) {
        if (strlen(*known) == len && strncmp(*known, name, len) == 0) {
            return *known;
        }
    }
    return NULL;
}


/* Reads up to max bytes; NULL if the stream holds more or fails. */
static char *
ccctl_read_stream(FILE *f, size_t max, size_t *len)
{
    char    *data, *bigger;
    size_t   cap, n, got;

    cap = 4096;
    n = 0;
    data = malloc(cap + 1);
    if (data == NULL) {
        return NULL;
    }

    for (;;) {
        if (n == cap) {
            if (cap > max) {
                free(data);
                return NULL;
            }
            cap *= 2;
            bigger = realloc(data, cap + 1);
            if (bigger == NULL) {
                free(data);
                return NULL;
            }
            data = bigger;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }

    if (ferror(f) || n > max) {
        free(data);
        return NULL;
    }
    data[n] = '\0';
    *len = n;
    return data;
}


static char *
ccctl_fetch(const char *url, size_t max, size_t *len)
{
    CURL         *curl;
    CURLcode      rc;
    ccctl_buf_t   buf;
    long          status;

    memset(&buf, 0, sizeof(buf));
    buf.max = max;

    curl = curl_easy_init();
    if (curl == NULL) {
        fprintf(stderr, "ccctl: cannot start libcurl\n");
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, ccctl_fetch_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);

    rc = curl_easy_perform(curl);
    status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);

    if (buf.too_big) {
        fprintf(stderr, "ccctl: %s: larger than %zu bytes\n", url, max);
        free(buf.data);
        return NULL;
    }
    if (rc != CURLE_OK) {
        fprintf(stderr, "ccctl: %s: %s\n", url, curl_easy_strerror(rc));
        free(buf.data);
        return NULL;
    }
    if (status != 200) {
        fprintf(stderr, "ccctl: %s: HTTP status %ld\n", url, status);
        free(buf.data);
        return NULL;
    }
    if (buf.data == NULL) {
        buf.data = calloc(1, 1);
    }
    *len = buf.len;
    return buf.data;
}


static size_t
ccctl_fetch_write(char *ptr, size_t size, size_t n, void *ud)
{
    ccctl_buf_t  *buf;
    char         *bigger;
    size_t        add;

    buf = ud;
    add = size * n;
    if (buf->len + add > buf->max) {
        buf->too_big = 1;
        return 0;
    }
    bigger = realloc(buf->data, buf->len + add + 1);
    if (bigger == NULL) {
        return 0;
    }
    buf->data = bigger;
    memcpy(buf->data + buf->len, ptr, add);
    buf->len += add;
    buf->data[buf->len] = '\0';
    return add;
}
