#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "driver.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "xalloc.h"

static const char *const state_names[DRIVER_STATE__MAX] = {
    [DRIVER_STATE_NONE] = "",
    [DRIVER_STATE_RUNNING] = "Running",
    [DRIVER_STATE_PAUSED] = "Paused",
    [DRIVER_STATE_SAVED] = "Saved",
    [DRIVER_STATE_STOPPED] = "Stopped",
    [DRIVER_STATE_STOPPING] = "Stopping",
    [DRIVER_STATE_STARTING] = "Starting",
    [DRIVER_STATE_ERROR] = "Error",
    [DRIVER_STATE_TIMEOUT] = "Timeout",
    [DRIVER_STATE_NOT_FOUND] = "NotFound",
};

const char *
driver_state_to_string(enum driver_state s)
{
    return (unsigned)s < DRIVER_STATE__MAX ? state_names[s] : "";
}

int
driver_state_from_string(const char *s)
{
    for (int i = 1; i < DRIVER_STATE__MAX; i++)
        if (strcasecmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

void
driver_ssh_target_clear(struct driver_ssh_target *t)
{
    free(t->host);
    free(t->user);
    free(t->identity);
    memset(t, 0, sizeof(*t));
}

static int
unsupported(const struct machine_driver *d, const char *action, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_UNSUPPORTED, "the '%s' driver cannot %s a machine", d->name,
                        action);
}

#define DISPATCH(slot, action, ...)                                      \
    do {                                                                 \
        if (!d->slot)                                                    \
            return unsupported(d, action, err);                          \
        log_debug("driver '%s': %s of '%s'", d->name, #slot, ctx->name); \
        return d->slot(__VA_ARGS__);                                     \
    } while (0)

int
driver_precreate_check(const struct machine_driver *d, struct driver_ctx *ctx,
                       struct mc_error **err)
{
    /* Nothing to check is a pass, not an error. */
    return d->precreate_check ? d->precreate_check(ctx, err) : 0;
}

int
driver_create(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    DISPATCH(create, "create", ctx, err);
}

int
driver_remove(const struct machine_driver *d, struct driver_ctx *ctx, bool force,
              struct mc_error **err)
{
    DISPATCH(remove, "remove", ctx, force, err);
}

int
driver_start(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    DISPATCH(start, "start", ctx, err);
}

int
driver_stop(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    DISPATCH(stop, "stop", ctx, err);
}

int
driver_restart(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    DISPATCH(restart, "restart", ctx, err);
}

int
driver_kill(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    DISPATCH(kill, "kill", ctx, err);
}

int
driver_get_state(const struct machine_driver *d, struct driver_ctx *ctx, enum driver_state *ret,
                 struct mc_error **err)
{
    DISPATCH(get_state, "report the state of", ctx, ret, err);
}

int
driver_get_ssh_target(const struct machine_driver *d, struct driver_ctx *ctx,
                      struct driver_ssh_target *ret, struct mc_error **err)
{
    DISPATCH(get_ssh_target, "give an SSH address for", ctx, ret, err);
}

char *
driver_get_ip(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    if (!d->get_ip) {
        unsupported(d, "give an IP address for", err);
        return NULL;
    }
    log_debug("driver '%s': get_ip of '%s'", d->name, ctx->name);
    return d->get_ip(ctx, err);
}

char *
driver_get_url(const struct machine_driver *d, struct driver_ctx *ctx, struct mc_error **err)
{
    if (d->get_url) {
        log_debug("driver '%s': get_url of '%s'", d->name, ctx->name);
        return d->get_url(ctx, err);
    }
    _cleanup_free_ char *ip = driver_get_ip(d, ctx, err);
    if (!ip)
        return NULL;
    bool v6 = strchr(ip, ':') != NULL;
    return xasprintf(v6 ? "tcp://[%s]:%d" : "tcp://%s:%d", ip,
                     ctx->engine_port ? ctx->engine_port : 2376);
}

bool
driver_has_start(const struct machine_driver *d)
{
    return d->start != NULL;
}

bool
driver_has_stop(const struct machine_driver *d)
{
    return d->stop != NULL;
}

bool
driver_has_remove(const struct machine_driver *d)
{
    return d->remove != NULL;
}

void
driver_progress(struct driver_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->progress)
        return;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    ctx->progress(ctx, msg);
}

int
driver_save(struct driver_ctx *ctx, struct mc_error **err)
{
    return ctx->save ? ctx->save(ctx, err) : 0;
}

const char *
driver_opt_str(const struct driver_ctx *ctx, const char *name)
{
    return mc_json_str(ctx->options, name);
}

int64_t
driver_opt_int(const struct driver_ctx *ctx, const char *name, int64_t dflt)
{
    json_t *v = json_object_get(ctx->options, name);
    int64_t n;
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v) && mc_parse_int64(json_string_value(v), &n) == 0)
        return n;
    return dflt;
}

bool
driver_opt_bool(const struct driver_ctx *ctx, const char *name)
{
    json_t *v = json_object_get(ctx->options, name);
    bool b = false;
    if (json_is_boolean(v))
        return json_is_true(v);
    if (json_is_string(v) && mc_parse_bool(json_string_value(v), &b) == 0)
        return b;
    return false;
}
