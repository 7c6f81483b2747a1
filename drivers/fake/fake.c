/* The fake driver, for tests of cli/ and provision/. Its "machine" lives in its driver state
 * (saved in config.json), so it survives across processes. Options make it fail at a chosen
 * slot, wait, or report a given IP and state; with --fake-cloud DIR each resource it "makes"
 * is also a file DIR/NAME-N, like a cloud resource tagged with the machine's name, so tests
 * can check that an interrupted create followed by rm leaves nothing behind. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "fs.h"
#include "json.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const struct driver_option fake_options[] = {
    { .name = "ip", .default_value = "127.0.0.1", .metavar = "IP", .help = "the IP it reports" },
    { .name = "url", .metavar = "URL", .help = "the engine URL it reports" },
    { .name = "state",
      .default_value = "Running",
      .metavar = "STATE",
      .help = "the state after create (Running, Stopped, ...)" },
    { .name = "steps",
      .type = DRIVER_OPT_INT,
      .default_value = "3",
      .metavar = "N",
      .help = "resources made by create, each saved as soon as it exists" },
    { .name = "fail-at",
      .type = DRIVER_OPT_STRINGS,
      .metavar = "SLOT",
      .help = "fail once at precreate, create, create-step-N, remove, start, stop, restart, "
              "kill, get-state or get-ip" },
    { .name = "fail-always",
      .type = DRIVER_OPT_BOOL,
      .help = "fail at the --fake-fail-at slots every time, not once" },
    { .name = "delay",
      .metavar = "DURATION",
      .help = "wait this long in every slot (bounded by the caller's deadline)" },
    { .name = "cloud",
      .metavar = "DIR",
      .help = "a folder standing for the cloud: one file per resource made" },
    { .name = "ssh-port",
      .type = DRIVER_OPT_INT,
      .default_value = "22",
      .metavar = "PORT",
      .help = "the SSH port it reports" },
    { .name = "ssh-user",
      .default_value = "root",
      .metavar = "USER",
      .help = "the SSH user it reports" },
    { 0 },
};

static int
wait_delay(struct driver_ctx *ctx, const char *slot, struct mc_error **err)
{
    const char *delay = driver_opt_str(ctx, "delay");
    int64_t ms = 0;
    if (isempty(delay))
        return 0;
    if (mc_parse_duration_ms(delay, &ms) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "invalid --fake-delay '%s'", delay);
    int64_t now = mc_now_ms();
    if (ctx->deadline_ms > 0 && now + ms > ctx->deadline_ms) {
        mc_sleep_ms(ctx->deadline_ms > now ? ctx->deadline_ms - now : 0);
        return mc_error_set(err, MC_ERR_TIMEOUT, "'%s' of machine '%s' passed its deadline", slot,
                            ctx->name);
    }
    mc_sleep_ms(ms);
    return 0;
}

static bool
state_list_contains(const json_t *state, const char *key, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(state, key), i, v)
        if (json_is_string(v) && streq(json_string_value(v), s))
            return true;
    return false;
}

static void
state_list_add(json_t *state, const char *key, const char *s)
{
    json_t *arr = json_object_get(state, key);
    if (!json_is_array(arr)) {
        arr = json_array();
        json_object_set_new(state, key, arr);
    }
    json_array_append_new(arr, json_string(s));
}

/* Waits for --fake-delay, then fails if slot is one of --fake-fail-at (once, unless
 * --fake-fail-always: the failures already injected are remembered in the state). */
static int
enter(struct driver_ctx *ctx, const char *slot, struct mc_error **err)
{
    if (wait_delay(ctx, slot, err) < 0)
        return -1;
    _cleanup_strv_ char **fail = mc_json_to_strv(json_object_get(ctx->options, "fail-at"));
    if (!strv_contains(fail, slot))
        return 0;
    if (!driver_opt_bool(ctx, "fail-always")) {
        if (state_list_contains(ctx->state, "failed", slot))
            return 0;
        state_list_add(ctx->state, "failed", slot);
        if (driver_save(ctx, err) < 0)
            return -1;
    }
    return mc_error_set(err, streq(slot, "precreate") ? MC_ERR_PRECREATE : MC_ERR_FAILED,
                        "injected failure at '%s' of machine '%s'", slot, ctx->name);
}

static int
fake_precreate_check(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *st = driver_opt_str(ctx, "state");
    if (st && driver_state_from_string(st) < 0)
        return mc_error_set(err, MC_ERR_PRECREATE, "unknown state '%s'", st);
    return enter(ctx, "precreate", err);
}

static int
make_resource(struct driver_ctx *ctx, int i, struct mc_error **err)
{
    _cleanup_free_ char *id = xasprintf("%s-%d", ctx->name, i);
    if (state_list_contains(ctx->state, "resources", id))
        return 0; /* made by an earlier, interrupted create */
    const char *cloud = driver_opt_str(ctx, "cloud");
    if (!isempty(cloud)) {
        _cleanup_free_ char *path = mc_path_join(cloud, id);
        if (mc_write_file_atomic(path, ctx->name, strlen(ctx->name), 0600, err) < 0)
            return -1;
    }
    state_list_add(ctx->state, "resources", id);
    if (driver_save(ctx, err) < 0)
        return -1;
    _cleanup_free_ char *step = xasprintf("create-step-%d", i);
    return enter(ctx, step, err);
}

static int
set_state(struct driver_ctx *ctx, const char *state, struct mc_error **err)
{
    json_object_set_new(ctx->state, "state", json_string(state));
    return driver_save(ctx, err);
}

static int
fake_create(struct driver_ctx *ctx, struct mc_error **err)
{
    if (enter(ctx, "create", err) < 0)
        return -1;
    int64_t steps = driver_opt_int(ctx, "steps", 3);
    for (int i = 1; i <= steps; i++)
        if (make_resource(ctx, i, err) < 0)
            return -1;
    json_object_set_new(ctx->state, "created", json_true());
    const char *st = driver_opt_str(ctx, "state");
    return set_state(ctx, st ? st : "Running", err);
}

/* Deletes the cloud files of this machine, found by name as a cloud API would. */
static int
remove_cloud(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *cloud = driver_opt_str(ctx, "cloud");
    if (isempty(cloud))
        return 0;
    _cleanup_closedir_ DIR *d = opendir(cloud);
    if (!d)
        return errno == ENOENT ? 0 : mc_error_sys(err, errno, "cannot list '%s'", cloud);
    _cleanup_free_ char *prefix = xasprintf("%s-", ctx->name);
    _cleanup_free_ char *temp_prefix = xasprintf(".%s-", ctx->name);
    struct dirent *de;
    while ((de = readdir(d))) {
        /* A temporary file of an interrupted write is part of the resource too. */
        const char *tmp = startswith(de->d_name, temp_prefix);
        if (tmp && strstr(tmp, ".tmp-")) {
            unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        const char *rest = startswith(de->d_name, prefix);
        if (!rest || !*rest || strspn(rest, "0123456789") != strlen(rest))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
            return mc_error_sys(err, errno, "cannot delete '%s'", de->d_name);
    }
    return 0;
}

static int
fake_remove(struct driver_ctx *ctx, bool force, struct mc_error **err)
{
    if (enter(ctx, "remove", err) < 0)
        return -1;
    if (remove_cloud(ctx, err) < 0)
        return -1;
    json_object_set_new(ctx->state, "resources", json_array());
    json_object_set_new(ctx->state, "created", json_false());
    return set_state(ctx, "NotFound", err);
}

static int
fake_start(struct driver_ctx *ctx, struct mc_error **err)
{
    return enter(ctx, "start", err) < 0 ? -1 : set_state(ctx, "Running", err);
}

static int
fake_stop(struct driver_ctx *ctx, struct mc_error **err)
{
    return enter(ctx, "stop", err) < 0 ? -1 : set_state(ctx, "Stopped", err);
}

static int
fake_restart(struct driver_ctx *ctx, struct mc_error **err)
{
    return enter(ctx, "restart", err) < 0 ? -1 : set_state(ctx, "Running", err);
}

static int
fake_kill(struct driver_ctx *ctx, struct mc_error **err)
{
    return enter(ctx, "kill", err) < 0 ? -1 : set_state(ctx, "Stopped", err);
}

static int
fake_get_state(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err)
{
    if (enter(ctx, "get-state", err) < 0)
        return -1;
    const char *st = mc_json_str(ctx->state, "state");
    int s = st ? driver_state_from_string(st) : -1;
    *ret = s < 0 ? DRIVER_STATE_NOT_FOUND : (enum driver_state)s;
    return 0;
}

static char *
fake_get_ip(struct driver_ctx *ctx, struct mc_error **err)
{
    if (enter(ctx, "get-ip", err) < 0)
        return NULL;
    const char *ip = driver_opt_str(ctx, "ip");
    return xstrdup(ip ? ip : "127.0.0.1");
}

static char *
fake_get_url(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *url = driver_opt_str(ctx, "url");
    if (!isempty(url))
        return xstrdup(url);
    _cleanup_free_ char *ip = fake_get_ip(ctx, err);
    if (!ip)
        return NULL;
    return xasprintf("tcp://%s:%d", ip, ctx->engine_port ? ctx->engine_port : 2376);
}

static int
fake_get_ssh_target(struct driver_ctx *ctx, struct driver_ssh_target *ret, struct mc_error **err)
{
    char *ip = fake_get_ip(ctx, err);
    if (!ip)
        return -1;
    const char *user = driver_opt_str(ctx, "ssh-user");
    ret->host = ip;
    ret->port = (int)driver_opt_int(ctx, "ssh-port", 22);
    ret->user = xstrdup(user ? user : "root");
    return 0;
}

const struct machine_driver fake_driver = {
    .name = "fake",
    .description = "a machine that lives in its own saved state, for tests",
    .available = true,
    .provisions = false,
    .options = fake_options,
    .precreate_check = fake_precreate_check,
    .create = fake_create,
    .remove = fake_remove,
    .start = fake_start,
    .stop = fake_stop,
    .restart = fake_restart,
    .kill = fake_kill,
    .get_state = fake_get_state,
    .get_ip = fake_get_ip,
    .get_ssh_target = fake_get_ssh_target,
    .get_url = fake_get_url,
};
