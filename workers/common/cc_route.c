/*
 * Route matching: literal segments compare exactly, {name} segments capture
 * one non-empty path segment.
 */

#include <string.h>

#include "cc_route.h"


/* Length of the segment starting at s (up to the next '/' or the end). */
static size_t
segment_length(const char *s)
{
    const char  *slash;

    slash = strchr(s, '/');
    return slash ? (size_t) (slash - s) : strlen(s);
}


static int
capture_param(cc_route_match_t *m, const char *pat, size_t plen,
              const char *seg, size_t slen)
{
    cc_route_param_t  *p;

    /* A value too long to capture matches nothing, whether or not this
     * call captures: the 404/405 decision must not depend on it. */
    if (slen >= sizeof(p->value)) {
        return 0;
    }
    if (m == NULL) {
        return 1;
    }
    if (m->nparams == CC_ROUTE_MAX_PARAMS || plen - 2 >= sizeof(p->name)) {
        return 0;
    }
    p = &m->params[m->nparams++];
    memcpy(p->name, pat + 1, plen - 2);
    p->name[plen - 2] = '\0';
    memcpy(p->value, seg, slen);
    p->value[slen] = '\0';
    return 1;
}


int
cc_route_path_matches(const char *pattern, const char *path,
                      cc_route_match_t *m)
{
    size_t  plen, slen;

    if (m != NULL) {
        m->nparams = 0;
    }
    if (pattern[0] != '/' || path[0] != '/') {
        return 0;
    }

    while (*pattern == '/' && *path == '/') {
        pattern++;
        path++;
        plen = segment_length(pattern);
        slen = segment_length(path);

        if (plen >= 2 && pattern[0] == '{' && pattern[plen - 1] == '}') {
            if (slen == 0 || !capture_param(m, pattern, plen, path, slen)) {
                return 0;
            }
        } else if (plen != slen || strncmp(pattern, path, plen) != 0) {
            return 0;
        }
        pattern += plen;
        path += slen;
    }
    return *pattern == '\0' && *path == '\0';
}


static void
add_allowed(char *allow, const char *method)
{
    size_t  used;

    if (strstr(allow, method) != NULL) {
        return;
    }
    used = strlen(allow);
    if (used + strlen(method) + 3 > CC_ROUTE_ALLOW_LEN) {
        return;
    }
    if (used > 0) {
        strcat(allow, ", ");
    }
    strcat(allow, method);
}


cc_route_result_t
cc_route_find(const cc_route_t *table, size_t n, const char *method,
              const char *path, cc_route_match_t *m)
{
    size_t  i;

    memset(m, 0, sizeof(*m));

    for (i = 0; i < n; i++) {
        if (strcmp(table[i].method, method) == 0
            && cc_route_path_matches(table[i].pattern, path, m))
        {
            m->route = &table[i];
            return CC_ROUTE_FOUND;
        }
    }

    for (i = 0; i < n; i++) {
        if (cc_route_path_matches(table[i].pattern, path, NULL)) {
            add_allowed(m->allow, table[i].method);
        }
    }
    m->nparams = 0;
    return m->allow[0] != '\0' ? CC_ROUTE_METHOD_NOT_ALLOWED
                               : CC_ROUTE_NOT_FOUND;
}


const char *
cc_route_param(const cc_route_match_t *m, const char *name)
{
    int  i;

    for (i = 0; i < m->nparams; i++) {
        if (strcmp(m->params[i].name, name) == 0) {
            return m->params[i].value;
        }
    }
    return NULL;
}
