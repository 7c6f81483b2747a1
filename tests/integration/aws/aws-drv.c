/* aws-drv: drives the aws driver in-process through its vtable, the way the CLI does, for the
 * moto suite. Each machine lives in STORE/NAME/: options.json (the create options, reused by
 * later verbs and by a resumed create), state.json (the driver's state, written by save()),
 * key.pub (its SSH public key) and driver/ (the driver's own folder).
 *
 *   aws-drv [--store DIR] [--key FILE] VERB NAME [OPTION=VALUE...]
 *   verbs: precreate create rm rm-force start stop restart kill state ip ssh url
 *
 * Progress goes to stderr as "progress: ..."; errors as "error: MESSAGE" with exit status 1
 * (3 for a failed pre-create check). */
#include <stdio.h>
#include <string.h>

#include "aws.h"
#include "driver.h"
#include "fs.h"
#include "json.h"
#include "util.h"
#include "xalloc.h"

struct machine {
    char *dir;
    char *state_path;
    char *options_path;
    char *driver_dir;
    char *key;
    json_t *options;
    json_t *state;
};

static int
save_state(struct driver_ctx *ctx, struct mc_error **err)
{
    struct machine *m = ctx->userdata;
    return mc_json_save_file(m->state_path, ctx->state, true, 0600, err);
}

static void
progress(struct driver_ctx *ctx, const char *msg)
{
    fprintf(stderr, "progress: %s\n", msg);
}

static json_t *
load_or_empty(const char *path, struct mc_error **err)
{
    if (!mc_path_exists(path))
        return json_object();
    return mc_json_load_file(path, 1 << 20, err);
}

/* OPTION=VALUE arguments as a JSON object of strings ("1" for flags). */
static json_t *
options_from_args(int argc, char **argv)
{
    json_t *o = json_object();
    for (int i = 0; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        _cleanup_free_ char *k = eq ? xstrndup(argv[i], (size_t)(eq - argv[i])) : xstrdup(argv[i]);
        json_object_set_new(o, k, json_string(eq ? eq + 1 : "1"));
    }
    return o;
}

static int
open_machine(const char *store, const char *name, const char *key_file, bool create, int argc,
             char **argv, struct machine *m, struct mc_error **err)
{
    m->dir = mc_path_join(store, name);
    m->state_path = mc_path_join(m->dir, "state.json");
    m->options_path = mc_path_join(m->dir, "options.json");
    m->driver_dir = mc_path_join(m->dir, "driver");
    _cleanup_free_ char *key_path = mc_path_join(m->dir, "key.pub");
    if (mc_mkdir_p(m->driver_dir, 0700, err) < 0)
        return -1;
    if (create && argc > 0) {
        m->options = options_from_args(argc, argv);
        if (mc_json_save_file(m->options_path, m->options, true, 0600, err) < 0)
            return -1;
    } else if (!(m->options = load_or_empty(m->options_path, err)))
        return -1;
    if (key_file) {
        _cleanup_free_ char *k = NULL;
        if (mc_read_file(key_file, 1 << 16, &k, NULL, err) < 0 ||
            mc_write_file_atomic(key_path, k, strlen(k), 0600, err) < 0)
            return -1;
    }
    if (mc_path_exists(key_path) && mc_read_file(key_path, 1 << 16, &m->key, NULL, err) < 0)
        return -1;
    if (m->key)
        m->key[strcspn(m->key, "\n")] = '\0';
    m->state = load_or_empty(m->state_path, err);
    return m->state ? 0 : -1;
}

static void
close_machine(struct machine *m)
{
    free(m->dir);
    free(m->state_path);
    free(m->options_path);
    free(m->driver_dir);
    free(m->key);
    json_decref(m->options);
    json_decref(m->state);
}

static int
run_verb(const char *verb, struct driver_ctx *ctx, struct mc_error **err)
{
    const struct machine_driver *d = driver_find("amazonec2");
    if (streq(verb, "precreate"))
        return driver_precreate_check(d, ctx, err);
    if (streq(verb, "create"))
        return driver_precreate_check(d, ctx, err) < 0 ? -1 : driver_create(d, ctx, err);
    if (streq(verb, "rm") || streq(verb, "rm-force"))
        return driver_remove(d, ctx, streq(verb, "rm-force"), err);
    if (streq(verb, "start"))
        return driver_start(d, ctx, err);
    if (streq(verb, "stop"))
        return driver_stop(d, ctx, err);
    if (streq(verb, "restart"))
        return driver_restart(d, ctx, err);
    if (streq(verb, "kill"))
        return driver_kill(d, ctx, err);
    if (streq(verb, "state")) {
        enum driver_state s;
        if (driver_get_state(d, ctx, &s, err) < 0)
            return -1;
        printf("%s\n", driver_state_to_string(s));
        return 0;
    }
    if (streq(verb, "ip") || streq(verb, "url")) {
        _cleanup_free_ char *v =
                streq(verb, "ip") ? driver_get_ip(d, ctx, err) : driver_get_url(d, ctx, err);
        if (!v)
            return -1;
        printf("%s\n", v);
        return 0;
    }
    if (streq(verb, "ssh")) {
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
    const char *store = ".", *key = NULL;
    int i = 1;
    for (; i + 1 < argc && startswith(argv[i], "--"); i += 2) {
        if (streq(argv[i], "--store"))
            store = argv[i + 1];
        else if (streq(argv[i], "--key"))
            key = argv[i + 1];
    }
    if (argc - i < 2) {
        fprintf(stderr, "usage: aws-drv [--store DIR] [--key FILE] VERB NAME [OPTION=VALUE...]\n");
        return 2;
    }
    const char *verb = argv[i], *name = argv[i + 1];
    struct machine m = { 0 };
    struct mc_error *err = NULL;
    int r = open_machine(store, name, key, streq(verb, "create") || streq(verb, "precreate"),
                         argc - i - 2, argv + i + 2, &m, &err);
    if (r == 0) {
        struct driver_ctx ctx = {
            .name = name,
            .dir = m.driver_dir,
            .ssh_public_key = m.key,
            .engine_port = 2376,
            .options = m.options,
            .state = m.state,
            .save = save_state,
            .progress = progress,
            .userdata = &m,
        };
        r = run_verb(verb, &ctx, &err);
        if (r == 0 && save_state(&ctx, &err) < 0)
            r = -1;
    }
    if (r < 0)
        fprintf(stderr, "error: %s\n", err ? err->message : "unknown");
    int code = r == 0 ? 0 : mc_error_is(err, MC_ERR_PRECREATE) ? 3 : 1;
    mc_error_free(err);
    close_machine(&m);
    return code;
}
