#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "xalloc.h"

static const char *const code_names[MC_ERR__MAX] = {
    [MC_ERR_FAILED] = "failed",
    [MC_ERR_INVALID] = "invalid",
    [MC_ERR_USAGE] = "usage",
    [MC_ERR_NOT_FOUND] = "not-found",
    [MC_ERR_EXISTS] = "exists",
    [MC_ERR_CONFLICT] = "conflict",
    [MC_ERR_UNSUPPORTED] = "unsupported",
    [MC_ERR_TIMEOUT] = "timeout",
    [MC_ERR_IO] = "io",
    [MC_ERR_PERMISSION] = "permission",
    [MC_ERR_AUTH] = "auth",
    [MC_ERR_PRECREATE] = "precreate",
    [MC_ERR_REMOTE] = "remote",
    [MC_ERR_CANCELLED] = "cancelled",
    [MC_ERR_NOT_RUNNING] = "not-running",
    [MC_ERR_NOT_MODIFIED] = "not-modified",
};

const char *
mc_error_code_name(enum mc_error_code code)
{
    if (code <= 0 || code >= MC_ERR__MAX || !code_names[code])
        return "failed";
    return code_names[code];
}

enum mc_error_code
mc_error_code_from_errno(int errnum)
{
    switch (errnum) {
    case ENOENT:
    case ENOTDIR:
        return MC_ERR_NOT_FOUND;
    case EEXIST:
    case ENOTEMPTY:
        return MC_ERR_EXISTS;
    case EACCES:
    case EPERM:
    case EROFS:
        return MC_ERR_PERMISSION;
    case ETIMEDOUT:
        return MC_ERR_TIMEOUT;
    case EINVAL:
        return MC_ERR_INVALID;
    case EBUSY:
        return MC_ERR_CONFLICT;
    case ENOSYS:
    case EOPNOTSUPP:
        return MC_ERR_UNSUPPORTED;
    case EINTR:
    case ECANCELED:
        return MC_ERR_CANCELLED;
    default:
        return MC_ERR_IO;
    }
}

int
mc_error_set_full(struct mc_error **err, const char *domain, enum mc_error_code code, int errnum,
                  const char *fmt, ...)
{
    if (!err || *err)
        return -1;

    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);

    struct mc_error *e = xzalloc(sizeof(*e));
    e->code = code;
    e->errnum = errnum;
    e->domain = domain;
    if (errnum)
        e->message = xasprintf("%s: %s", msg, strerror(errnum));
    else
        e->message = TAKE_PTR(msg);
    *err = e;
    return -1;
}

int
mc_error_prefix(struct mc_error **err, const char *fmt, ...)
{
    if (!err || !*err)
        return -1;

    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *prefix = xvasprintf(fmt, ap);
    va_end(ap);

    char *msg = xasprintf("%s%s", prefix, (*err)->message);
    free((*err)->message);
    (*err)->message = msg;
    return -1;
}

int
mc_error_propagate(struct mc_error **dst, struct mc_error *src)
{
    if (dst && !*dst)
        *dst = src;
    else
        mc_error_free(src);
    return -1;
}

void
mc_error_free(struct mc_error *err)
{
    if (!err)
        return;
    free(err->message);
    free(err);
}

bool
mc_error_is(const struct mc_error *err, enum mc_error_code code)
{
    return err && err->code == code;
}
