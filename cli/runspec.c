/* machine run's flags and the create body they make (cli-run.h). */
#include <stdlib.h>
#include <string.h>

#include "cli-run.h"
#include "json.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

int
cli_run_opts_from_args(const struct cli_args *args, struct cli_run_opts *ret, struct mc_error **err)
{
    if (!args->positional[0])
        return mc_error_set(err, MC_ERR_USAGE, "'machine run' needs an image");
    struct cli_run_opts o = {
        .image = args->positional[0],
        .cmd = args->positional + 1,
        .detach = cli_args_bool(args, "detach", NULL),
        .rm = cli_args_bool(args, "rm", NULL),
        .interactive = cli_args_bool(args, "interactive", NULL),
        .tty = cli_args_bool(args, "tty", NULL),
        .privileged = cli_args_bool(args, "privileged", NULL),
        .read_only = cli_args_bool(args, "read-only", NULL),
        .name = cli_args_get(args, "name", NULL),
        .workdir = cli_args_get(args, "workdir", NULL),
        .user = cli_args_get(args, "user", NULL),
        .network = cli_args_get(args, "network", NULL),
        .memory = cli_args_get(args, "memory", NULL),
        .cpus = cli_args_get(args, "cpus", NULL),
        .pids_limit = cli_args_get(args, "pids-limit", NULL),
        .restart = cli_args_get(args, "restart", NULL),
        .hostname = cli_args_get(args, "hostname", NULL),
        .entrypoint = cli_args_get(args, "entrypoint", NULL),
        .env = cli_args_get_all(args, "env"),
        .volumes = cli_args_get_all(args, "volume"),
        .labels = cli_args_get_all(args, "label"),
        .cap_add = cli_args_get_all(args, "cap-add"),
        .cap_drop = cli_args_get_all(args, "cap-drop"),
        .security_opt = cli_args_get_all(args, "security-opt"),
    };
    *ret = o;
    return 0;
}

int
cli_parse_cpus(const char *s, int64_t *ret)
{
    if (isempty(s) || strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.'))
        return -1;
    int64_t whole = 0, frac = 0, scale = 1000000000;
    const char *p = s;
    for (; *p && *p != '.'; p++) {
        if (whole > 1000000)
            return -1;
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.')
        for (p++; *p; p++) {
            if (scale == 1)
                return -1; /* finer than a nano-CPU */
            scale /= 10;
            frac += (*p - '0') * scale;
        }
    *ret = whole * 1000000000 + frac;
    return *ret > 0 ? 0 : -1;
}

int
cli_parse_restart(const char *s, json_t **ret, struct mc_error **err)
{
    const char *count = strchr(s, ':');
    _cleanup_free_ char *name = xstrndup(s, count ? (size_t)(count - s) : strlen(s));
    int64_t max = 0;
    if (!streq(name, "no") && !streq(name, "always") && !streq(name, "unless-stopped") &&
        !streq(name, "on-failure"))
        return mc_error_set(err, MC_ERR_USAGE,
                            "invalid restart policy '%s': use no, always, unless-stopped or "
                            "on-failure[:N]",
                            s);
    if (count && (!streq(name, "on-failure") || mc_parse_int64(count + 1, &max) < 0 || max < 0))
        return mc_error_set(err, MC_ERR_USAGE,
                            "invalid restart policy '%s': only on-failure takes a count (N >= 0)",
                            s);
    *ret = json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t)max);
    return 0;
}

static json_t *
env_list(char *const *env, cli_getenv_fn get)
{
    if (!env || !env[0])
        return json_null();
    json_t *a = json_array();
    STRV_FOREACH (e, (char **)env) {
        if (strchr(*e, '=')) {
            json_array_append_new(a, json_string(*e));
            continue;
        }
        const char *v = get ? get(*e) : NULL;
        _cleanup_free_ char *kv = v ? xasprintf("%s=%s", *e, v) : NULL;
        if (kv)
            json_array_append_new(a, json_string(kv));
    }
    return a;
}

static json_t *
string_list(char *const *l)
{
    return l && l[0] ? mc_json_from_strv(l) : json_null();
}

static json_t *
labels_object(char *const *labels)
{
    json_t *o = json_object();
    STRV_FOREACH (l, (char **)labels) {
        const char *eq = strchr(*l, '=');
        _cleanup_free_ char *key = xstrndup(*l, eq ? (size_t)(eq - *l) : strlen(*l));
        json_object_set_new(o, key, json_string(eq ? eq + 1 : ""));
    }
    return o;
}

/* HostConfig's resource limits. */
static int
add_limits(json_t *hc, const struct cli_run_opts *o, struct mc_error **err)
{
    uint64_t memory = 0;
    int64_t cpus = 0, pids = 0;
    if (o->memory && mc_parse_size(o->memory, &memory) < 0)
        return mc_error_set(err, MC_ERR_USAGE,
                            "invalid --memory '%s': use a size such as 512m or 1g", o->memory);
    if (o->cpus && cli_parse_cpus(o->cpus, &cpus) < 0)
        return mc_error_set(err, MC_ERR_USAGE,
                            "invalid --cpus '%s': use a positive number such as 1.5", o->cpus);
    if (o->pids_limit && mc_parse_int64(o->pids_limit, &pids) < 0)
        return mc_error_set(err, MC_ERR_USAGE, "invalid --pids-limit '%s': use a number",
                            o->pids_limit);
    json_object_set_new(hc, "Memory", json_integer((json_int_t)memory));
    json_object_set_new(hc, "NanoCpus", json_integer(cpus));
    if (o->pids_limit)
        json_object_set_new(hc, "PidsLimit", json_integer(pids));
    return 0;
}

static json_t *
host_config(const struct cli_run_opts *o, struct mc_error **err)
{
    json_t *policy = NULL;
    if (cli_parse_restart(o->restart ? o->restart : "no", &policy, err) < 0)
        return NULL;
    if (o->rm && !streq(mc_json_str(policy, "Name"), "no")) {
        json_decref(policy);
        mc_error_set(err, MC_ERR_USAGE, "conflicting options: --restart and --rm");
        return NULL;
    }
    _cleanup_json_ json_t *hc =
            json_pack("{s:o, s:s, s:o, s:b, s:b, s:b, s:o, s:o, s:o}", "Binds",
                      string_list(o->volumes), "NetworkMode", o->network ? o->network : "default",
                      "RestartPolicy", policy, "AutoRemove", o->rm, "Privileged", o->privileged,
                      "ReadonlyRootfs", o->read_only, "CapAdd", string_list(o->cap_add), "CapDrop",
                      string_list(o->cap_drop), "SecurityOpt", string_list(o->security_opt));
    if (add_limits(hc, o, err) < 0)
        return NULL;
    json_object_set_new(
            hc, "ConsoleSize",
            json_pack("[i,i]", o->tty ? o->console_rows : 0, o->tty ? o->console_cols : 0));
    return TAKE_PTR(hc);
}

json_t *
cli_run_create_body(const struct cli_run_opts *o, cli_getenv_fn get, struct mc_error **err)
{
    json_t *hc = host_config(o, err);
    if (!hc)
        return NULL;
    bool attach = !o->detach;
    json_t *entrypoint = o->entrypoint ? json_pack("[s]", o->entrypoint) : json_null();
    return json_pack("{s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:o, s:o, s:s, s:s, s:o, s:o, s:o}",
                     "Hostname", o->hostname ? o->hostname : "", "User", o->user ? o->user : "",
                     "AttachStdin", attach && o->interactive, "AttachStdout", attach,
                     "AttachStderr", attach, "Tty", o->tty, "OpenStdin", o->interactive,
                     "StdinOnce", attach && o->interactive, "Env", env_list(o->env, get), "Cmd",
                     string_list(o->cmd), "Image", o->image, "WorkingDir",
                     o->workdir ? o->workdir : "", "Entrypoint", entrypoint, "Labels",
                     labels_object(o->labels), "HostConfig", hc);
}
