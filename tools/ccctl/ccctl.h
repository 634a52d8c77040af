/*
 * ccctl, the operator's command line: shared declarations for its
 * subcommands (jwt, jwks, session) and their small input/output helpers.
 */

#ifndef CCCTL_H
#define CCCTL_H

#include <stddef.h>

#include <jansson.h>

/* Exit codes: 0 done / verified, 1 rejected, 2 usage or I/O error. */
#define CCCTL_OK        0
#define CCCTL_REJECTED  1
#define CCCTL_ERROR     2

/* A parsed command line: options (--name value or --name=value, possibly
 * repeated) and positional arguments, both in order. */
#define CCCTL_MAX_ARGS  64

typedef struct {
    const char  *name;
    const char  *value;
} ccctl_opt_t;

typedef struct {
    ccctl_opt_t   opts[CCCTL_MAX_ARGS];
    size_t        n_opts;
    const char   *args[CCCTL_MAX_ARGS];
    size_t        n_args;
} ccctl_cmdline_t;

/*
 * Splits argv into options and arguments ("--" ends the options).  known
 * lists the accepted option names, NULL-terminated; every option takes a
 * value.  Returns 0, or -1 after printing what was wrong.
 */
int ccctl_parse(int argc, char **argv, const char *const *known,
    ccctl_cmdline_t *cmd);

/* The last value of option name, or NULL; ccctl_opt_all fills values with
 * every value in order and returns how many. */
const char *ccctl_opt(const ccctl_cmdline_t *cmd, const char *name);
size_t ccctl_opt_all(const ccctl_cmdline_t *cmd, const char *name,
    const char **values, size_t max);

/* A decimal integer option in [min, max]; 0 and *out, or -1 (printed). */
int ccctl_opt_ll(const ccctl_cmdline_t *cmd, const char *name,
    long long dflt, long long min, long long max, long long *out);

/*
 * Reads a whole file, "-" for stdin, or (http:// or https://) a URL, at
 * most max bytes.  Returns a NUL-terminated malloc'ed buffer and *len, or
 * NULL after printing why (never the content).
 */
char *ccctl_read_source(const char *source, size_t max, size_t *len);

/* A token argument: the text itself, or "-" to read it from stdin; the
 * surrounding whitespace is removed. */
char *ccctl_read_token(const char *arg, size_t max, size_t *len);

/* Prints obj as indented JSON on stdout and releases it. */
void ccctl_print_json(json_t *obj);

int ccctl_jwt(int argc, char **argv);
int ccctl_jwks(int argc, char **argv);
int ccctl_session(int argc, char **argv);

void ccctl_usage(void);

#endif /* CCCTL_H */
