/* lvdrv-run: drives the libvirt driver through its vtable, as `machine` will, for the scripts
 * that test it against a real libvirtd (and for the benchmark). A minimal store of one folder:
 *
 *   lvdrv-run DIR VERB NAME [OPTION=VALUE...]
 *
 * VERB: precreate, create, start, stop, restart, kill, rm, state, ip, ssh-target.
 * DIR/NAME/state.json is the driver's state, DIR/NAME/ its folder (DIR/NAME/id_ed25519.pub, made
 * by the caller, is the machine's key), DIR/cache the shared cache. OPTIONs are the driver's own
 * (uri=..., memory=...). Progress lines go to stderr with the seconds since start; results to
 * stdout. Exit status: 0, 1 on an error (printed), 3 when a pre-create check failed. */
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "error.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static int64_t started;

static void
progress(struct driver_ctx *ctx, const char *msg)
{
    fprintf(stderr, "[%8.3f] %s\n", (double)(mc_now_ms() - started) / 1000.0, msg);
}

static int
save(struct driver_ctx *ctx, struct mc_error **err)
{
    return mc_json_save_file(ctx->userdata, ctx->state, true, 0600, err);
}

static json_t *
parse_options(int argc, char **argv)
{
    json_t *o = json_object();
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "lvdrv-run: '%s' is not OPTION=VALUE\n", argv[i]);
            exit(2);
        }
        _cleanup_free_ char *key = xstrndup(argv[i], (size_t)(eq - argv[i]));
        json_object_set_new(o, key, json_string(eq + 1));
    }
    return o;
}

static int
run(const struct machine_driver *d, const char *verb, struct driver_ctx *ctx, struct mc_error **err)
{
    if (streq(verb, "precreate"))
        return driver_precreate_check(d, ctx, err);
    if (streq(verb, "create"))
        return driver_create(d, ctx, err);
    if (streq(verb, "start"))
        return driver_start(d, ctx, err);
    if (streq(verb, "stop"))
        return driver_stop(d, ctx, err);
    if (streq(verb, "restart"))
        return driver_restart(d, ctx, err);
    if (streq(verb, "kill"))
        return driver_kill(d, ctx, err);
    if (streq(verb, "rm"))
        return driver_remove(d, ctx, false, err);
    if (streq(verb, "state")) {
        enum driver_state s;
        if (driver_get_state(d, ctx, &s, err) < 0)
            return -1;
        printf("%s\n", driver_state_to_string(s));
        return 0;
    }
    if (streq(verb, "ip")) {
        _cleanup_free_ char *ip = driver_get_ip(d, ctx, err);
        if (ip)
            printf("%s\n", ip);
        return ip ? 0 : -1;
    }
    if (streq(verb, "ssh-target")) {
        struct driver_ssh_target t = { 0 };
        if (driver_get_ssh_target(d, ctx, &t, err) < 0)
            return -1;
        printf("%s@%s:%d\n", t.user, t.host, t.port);
        driver_ssh_target_clear(&t);
        return 0;
    }
    return mc_error_set(err, MC_ERR_USAGE, "unknown verb '%s'", verb);
}

int
main(int argc, char **argv)
{
    mc_log_init("lvdrv-run");
    started = mc_now_ms();
    if (argc < 4) {
        fprintf(stderr, "usage: lvdrv-run DIR VERB NAME [OPTION=VALUE...]\n");
        return 2;
    }
    const char *dir = argv[1], *verb = argv[2], *name = argv[3];
    _cleanup_free_ char *mdir = xasprintf("%s/%s", dir, name);
    _cleanup_free_ char *cache = xasprintf("%s/cache", dir);
    _cleanup_free_ char *state_path = xasprintf("%s/state.json", mdir);
    _cleanup_free_ char *key_path = xasprintf("%s/id_ed25519.pub", mdir);
    _cleanup_error_ struct mc_error *err = NULL;
    if (mc_mkdir_p(mdir, 0700, &err) < 0 || mc_mkdir_p(cache, 0700, &err) < 0) {
        fprintf(stderr, "lvdrv-run: %s\n", err->message);
        return 1;
    }
    _cleanup_free_ char *key = NULL;
    if (mc_read_file(key_path, 16384, &key, NULL, NULL) == 0)
        key[strcspn(key, "\n")] = '\0';
    _cleanup_json_ json_t *state = mc_json_load_file(state_path, 1 << 20, NULL);
    if (!state)
        state = json_object();
    _cleanup_json_ json_t *options = parse_options(argc - 4, argv + 4);
    struct driver_ctx ctx = {
        .name = name,
        .dir = mdir,
        .cache_dir = cache,
        .ssh_public_key = key,
        .engine_port = 2376,
        .options = options,
        .state = state,
        .save = save,
        .progress = progress,
        .userdata = state_path,
    };
    const struct machine_driver *d = driver_find("libvirt");
    if (run(d, verb, &ctx, &err) < 0) {
        fprintf(stderr, "lvdrv-run: %s '%s': %s\n", verb, name, err->message);
        return err->code == MC_ERR_PRECREATE ? 3 : 1;
    }
    return 0;
}
