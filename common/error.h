/* Errors: a failing function returns -1 (or NULL) and fills a struct mc_error.
 *
 * Exactly one layer creates an error (mc_error_set and friends); callers above only add context
 * with mc_error_prefix(). Only cli/main.c and the engine's request layer turn an error into text,
 * an exit code or an HTTP status. Success leaves *err alone. */
#ifndef MC_ERROR_H
#define MC_ERROR_H

#include <stdbool.h>

#include "cleanup.h"

#ifndef MC_LOG_MODULE
#define MC_LOG_MODULE "machine"
#endif

enum mc_error_code {
    MC_ERR_FAILED = 1,   /* anything without a better code */
    MC_ERR_INVALID,      /* malformed input: a file, a request, a flag value */
    MC_ERR_USAGE,        /* the command line is wrong (exit code 2) */
    MC_ERR_NOT_FOUND,    /* the named object does not exist */
    MC_ERR_EXISTS,       /* the object exists already */
    MC_ERR_CONFLICT,     /* the object's state forbids the action */
    MC_ERR_UNSUPPORTED,  /* the driver, host or engine cannot do this */
    MC_ERR_TIMEOUT,      /* a deadline passed */
    MC_ERR_IO,           /* a system call or a transport failed */
    MC_ERR_PERMISSION,   /* refused by the operating system or a peer */
    MC_ERR_AUTH,         /* credentials or keys were refused */
    MC_ERR_PRECREATE,    /* a driver's pre-create check failed (exit code 3) */
    MC_ERR_REMOTE,       /* a remote service answered with an error */
    MC_ERR_CANCELLED,    /* interrupted by the user or a signal */
    MC_ERR_NOT_RUNNING,  /* the container or host is not running */
    MC_ERR_NOT_MODIFIED, /* nothing to do: already in the asked state (HTTP 304) */
    MC_ERR__MAX
};

struct mc_error {
    enum mc_error_code code;
    int errnum;         /* errno when a system call is the cause, else 0 */
    const char *domain; /* the module that created the error (static string) */
    char *message;      /* a whole sentence, with context prefixes added by callers */
};

/* Creates *err (if err is not NULL and *err is still NULL) with a formatted message.
 * With errnum != 0, ": <strerror(errnum)>" is appended. Returns -1 so callers can
 * `return mc_error_set(...)`. Use the macros below, which record the module. */
int mc_error_set_full(struct mc_error **err, const char *domain, enum mc_error_code code,
                      int errnum, const char *fmt, ...) _printf_(5, 6);

#define mc_error_set(err, code, ...) mc_error_set_full(err, MC_LOG_MODULE, code, 0, __VA_ARGS__)
/* An error caused by a failed system call: the code is derived from errnum. */
#define mc_error_sys(err, errnum, ...) \
    mc_error_set_full(err, MC_LOG_MODULE, mc_error_code_from_errno(errnum), errnum, __VA_ARGS__)

/* Prefixes context to an existing error: "create 'web1': " + old message. Returns -1.
 * Does nothing when err or *err is NULL. */
int mc_error_prefix(struct mc_error **err, const char *fmt, ...) _printf_(2, 3);

/* Frees an error; NULL is accepted. */
void mc_error_free(struct mc_error *err);
MC_DEFINE_CLEANUP(struct mc_error, mc_error_free)
#define _cleanup_error_ _cleanup_(mc_error_freep)

/* Moves src into *dst (if dst is non-NULL and *dst is NULL), else frees src. Returns -1. */
int mc_error_propagate(struct mc_error **dst, struct mc_error *src);

/* The stable name of a code ("not-found", ...), used in JSON output. */
const char *mc_error_code_name(enum mc_error_code code);
enum mc_error_code mc_error_code_from_errno(int errnum);

/* True when err is set and has the given code. */
bool mc_error_is(const struct mc_error *err, enum mc_error_code code);

#endif
