/* Create-time rules: merging the image's config, the command, names, binds, HostConfig and the
 * process environment (pure). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "caps.h"
#include "ctr-pure.h"
#include "json.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const char default_path[] =
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static bool
is_empty_value(const json_t *v)
{
    return !v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)) ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0);
}

/* config[key] = image[key] when the user left it empty. */
static void
inherit(json_t *config, const json_t *image, const char *key)
{
    json_t *iv = json_object_get(image, key);
    if (is_empty_value(json_object_get(config, key)) && !is_empty_value(iv))
        json_object_set(config, key, iv);
}

/* Keys of obj missing from into are copied. */
static void
union_object(json_t *config, const json_t *image, const char *key)
{
    json_t *iv = json_object_get(image, key);
    if (!json_is_object(iv))
        return;
    json_t *cv = json_object_get(config, key);
    if (!json_is_object(cv)) {
        json_object_set_new(config, key, json_deep_copy(iv));
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach (iv, k, v)
        if (!json_object_get(cv, k))
            json_object_set(cv, k, v);
}

static size_t
env_key_len(const char *e)
{
    const char *eq = strchr(e, '=');
    return eq ? (size_t)(eq - e) : strlen(e);
}

static bool
env_has_key(const json_t *env, const char *entry)
{
    size_t n = env_key_len(entry);
    size_t i;
    json_t *v;
    json_array_foreach (env, i, v) {
        const char *s = json_string_value(v);
        if (s && env_key_len(s) == n && strncmp(s, entry, n) == 0)
            return true;
    }
    return false;
}

static void
merge_env(json_t *config, const json_t *image)
{
    json_t *ie = json_object_get(image, "Env");
    if (!json_is_array(ie))
        return;
    json_t *ce = json_object_get(config, "Env");
    if (!json_is_array(ce) || json_array_size(ce) == 0) {
        json_object_set_new(config, "Env", json_deep_copy(ie));
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach (ie, i, v)
        if (json_is_string(v) && !env_has_key(ce, json_string_value(v)))
            json_array_append(ce, v);
}

void
eng_ctr_merge_config(json_t *config, const json_t *image)
{
    if (!json_is_object(image))
        return;
    inherit(config, image, "User");
    merge_env(config, image);
    union_object(config, image, "Labels");
    union_object(config, image, "ExposedPorts");
    union_object(config, image, "Volumes");
    json_t *ep = json_object_get(config, "Entrypoint");
    if (!json_is_array(ep) || json_array_size(ep) == 0) {
        inherit(config, image, "Cmd");
        if (!json_is_array(ep))
            inherit(config, image, "Entrypoint");
    }
    inherit(config, image, "WorkingDir");
    inherit(config, image, "StopSignal");
}

static void
append_strings(char ***l, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach (arr, i, v)
        if (json_is_string(v))
            strv_add(l, json_string_value(v));
}

int
eng_ctr_command(const json_t *config, char **ret_path, char ***ret_args, struct mc_error **err)
{
    _cleanup_strv_ char **argv = strv_new();
    const json_t *ep = json_object_get(config, "Entrypoint");
    /* --entrypoint "" arrives as [""]: no entrypoint at all. */
    if (!(json_array_size(ep) == 1 && isempty(json_string_value(json_array_get(ep, 0)))))
        append_strings(&argv, ep);
    append_strings(&argv, json_object_get(config, "Cmd"));
    if (strv_length(argv) == 0)
        return mc_error_set(err, MC_ERR_INVALID, "No command specified");
    *ret_path = xstrdup(argv[0]);
    *ret_args = strv_copy(argv + 1);
    return 0;
}

int
eng_ctr_name_normalize(const char *name, char **ret, struct mc_error **err)
{
    const char *n = name[0] == '/' ? name + 1 : name;
    bool valid = strlen(n) >= 2 && isalnum((unsigned char)n[0]);
    for (const char *p = n + 1; valid && *p; p++)
        valid = isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-';
    if (!valid)
        return mc_error_set(err, MC_ERR_INVALID,
                            "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                            "allowed",
                            n);
    *ret = xasprintf("/%s", n);
    return 0;
}

char *
eng_ctr_name_random(uint64_t seed)
{
    static const char *const left[] = {
        "admiring", "brave",   "busy",     "clever",   "dazzling", "eager", "elated",
        "epic",     "focused", "gallant",  "happy",    "jolly",    "keen",  "loving",
        "modest",   "nifty",   "quirky",   "relaxed",  "sharp",    "stoic", "tender",
        "upbeat",   "vibrant", "wizardly", "youthful", "zealous",
    };
    static const char *const right[] = {
        "agnesi", "bardeen", "bohr",    "curie",    "darwin",  "einstein", "euclid",  "fermat",
        "galois", "hopper",  "hypatia", "kepler",   "lamport", "lovelace", "meitner", "noether",
        "pascal", "ritchie", "shannon", "thompson", "turing",  "wozniak",  "yalow",   "zhukovsky",
    };
    return xasprintf("%s_%s", left[seed % ELEMENTSOF(left)],
                     right[(seed / ELEMENTSOF(left)) % ELEMENTSOF(right)]);
}

/* ---- binds ---- */

static int
bind_parse(const char *spec, struct eng_ctr_bind *b, struct mc_error **err)
{
    _cleanup_strv_ char **parts = strv_split(spec, ":");
    size_t n = strv_length(parts);
    if (n < 2 || n > 3)
        return mc_error_set(err, MC_ERR_INVALID, "invalid volume specification: '%s'", spec);
    if (parts[0][0] != '/')
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "named volumes are not supported by machined: '%s'", spec);
    if (parts[1][0] != '/' || streq(parts[1], "/"))
        return mc_error_set(err, MC_ERR_INVALID,
                            "invalid mount config: destination '%s' must be an absolute path "
                            "other than '/'",
                            parts[1]);
    b->source = xstrdup(parts[0]);
    b->destination = xstrdup(parts[1]);
    b->mode = xstrdup(n == 3 ? parts[2] : "");
    _cleanup_strv_ char **opts = strv_split(b->mode, ",");
    STRV_FOREACH (o, opts) {
        if (streq(*o, "ro"))
            b->readonly = true;
        else if (!streq(*o, "rw") && !streq(*o, "z") && !streq(*o, "Z") &&
                 !startswith(*o, "rprivate") && !startswith(*o, "private") &&
                 !streq(*o, "rslave") && !streq(*o, "slave") && !streq(*o, "nocopy"))
            return mc_error_set(err, MC_ERR_INVALID, "invalid mode: '%s'", *o);
    }
    return 0;
}

int
eng_ctr_binds_parse(const json_t *binds, struct eng_ctr_bind **ret, size_t *ret_n,
                    struct mc_error **err)
{
    size_t n = json_is_array(binds) ? json_array_size(binds) : 0;
    struct eng_ctr_bind *b = xcalloc(n + 1, sizeof(*b));
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(binds, i));
        if (!s || bind_parse(s, &b[i], err) < 0) {
            if (!s)
                mc_error_set(err, MC_ERR_INVALID, "HostConfig.Binds must hold strings");
            eng_ctr_binds_free(b, n);
            return -1;
        }
    }
    *ret = b;
    *ret_n = n;
    return 0;
}

void
eng_ctr_binds_free(struct eng_ctr_bind *b, size_t n)
{
    for (size_t i = 0; b && i < n; i++) {
        free(b[i].source);
        free(b[i].destination);
        free(b[i].mode);
    }
    free(b);
}

/* ---- HostConfig ---- */

static int
parse_network(const char *mode, struct eng_ctr_host_opts *o, struct mc_error **err)
{
    if (isempty(mode) || streq(mode, "default") || streq(mode, "bridge")) {
        o->net = ENG_RT_NET_PRIVATE;
        o->net_default = true;
    } else if (streq(mode, "none")) {
        o->net = ENG_RT_NET_PRIVATE;
    } else if (streq(mode, "host")) {
        o->net = ENG_RT_NET_HOST;
    } else if (startswith(mode, "container:")) {
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "network mode '%s' is not supported by machined", mode);
    } else {
        return mc_error_set(err, MC_ERR_NOT_FOUND, "network %s not found", mode);
    }
    return 0;
}

static int
parse_security_opts(const json_t *opts, struct eng_ctr_host_opts *o, struct mc_error **err)
{
    size_t i;
    json_t *v;
    json_array_foreach (opts, i, v) {
        const char *s = json_string_value(v);
        const char *val;
        bool b;
        if (!s)
            continue;
        if ((val = startswith(s, "seccomp=")) || (val = startswith(s, "seccomp:"))) {
            if (!streq(val, "unconfined"))
                return mc_error_set(err, MC_ERR_UNSUPPORTED,
                                    "custom seccomp profiles are not supported by machined");
            o->seccomp_unconfined = true;
        } else if (streq(s, "no-new-privileges")) {
            o->no_new_privs = true;
        } else if ((val = startswith(s, "no-new-privileges=")) ||
                   (val = startswith(s, "no-new-privileges:"))) {
            if (mc_parse_bool(val, &b) < 0)
                return mc_error_set(err, MC_ERR_INVALID, "invalid --security-opt 2: \"%s\"", s);
            o->no_new_privs = b;
        } else if (!startswith(s, "apparmor") && !startswith(s, "label")) {
            return mc_error_set(err, MC_ERR_INVALID, "invalid --security-opt 1: \"%s\"", s);
        }
    }
    return 0;
}

static const struct {
    const char *name;
    int resource;
} ulimit_names[] = {
    { "core", RLIMIT_CORE },         { "cpu", RLIMIT_CPU },
    { "data", RLIMIT_DATA },         { "fsize", RLIMIT_FSIZE },
    { "locks", RLIMIT_LOCKS },       { "memlock", RLIMIT_MEMLOCK },
    { "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
    { "nofile", RLIMIT_NOFILE },     { "nproc", RLIMIT_NPROC },
    { "rss", RLIMIT_RSS },           { "rtprio", RLIMIT_RTPRIO },
    { "rttime", RLIMIT_RTTIME },     { "sigpending", RLIMIT_SIGPENDING },
    { "stack", RLIMIT_STACK },
};

static int
parse_ulimits(const json_t *ul, struct eng_ctr_host_opts *o, struct mc_error **err)
{
    size_t n = json_is_array(ul) ? json_array_size(ul) : 0;
    o->rlimits = xcalloc(n + 1, sizeof(*o->rlimits));
    for (size_t i = 0; i < n; i++) {
        const json_t *u = json_array_get(ul, i);
        const char *name = mc_json_str(u, "Name");
        size_t k = 0;
        while (k < ELEMENTSOF(ulimit_names) && !streq_ptr(ulimit_names[k].name, name))
            k++;
        if (k == ELEMENTSOF(ulimit_names))
            return mc_error_set(err, MC_ERR_INVALID, "invalid ulimit type: %s",
                                name ? name : "(none)");
        int64_t soft = mc_json_int(u, "Soft", 0), hard = mc_json_int(u, "Hard", 0);
        o->rlimits[o->nrlimits++] = (struct eng_rt_rlimit){
            ulimit_names[k].resource,
            { soft < 0 ? RLIM_INFINITY : (rlim_t)soft, hard < 0 ? RLIM_INFINITY : (rlim_t)hard },
        };
    }
    return 0;
}

static void
parse_limits(const json_t *hc, struct eng_cgroup_limits *l)
{
    l->memory = mc_json_int(hc, "Memory", 0);
    l->memory_swap = mc_json_int(hc, "MemorySwap", 0);
    l->nano_cpus = mc_json_int(hc, "NanoCpus", 0);
    l->cpu_quota = mc_json_int(hc, "CpuQuota", 0);
    l->cpu_period = mc_json_int(hc, "CpuPeriod", 0);
    l->cpu_shares = mc_json_int(hc, "CpuShares", 0);
    l->pids_limit = mc_json_int(hc, "PidsLimit", 0);
}

static int
check_limits(const struct eng_cgroup_limits *l, struct mc_error **err)
{
    if (l->memory > 0 && l->memory < 6 * 1024 * 1024)
        return mc_error_set(err, MC_ERR_INVALID, "Minimum memory limit allowed is 6MB");
    if (l->nano_cpus > 0 && (l->cpu_quota > 0 || l->cpu_period > 0))
        return mc_error_set(err, MC_ERR_INVALID,
                            "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (l->nano_cpus < 0)
        return mc_error_set(err, MC_ERR_INVALID, "Range of CPUs is from 0.01 to the host's CPUs");
    return 0;
}

int
eng_ctr_host_opts_parse(const json_t *hc, struct eng_ctr_host_opts *ret, struct mc_error **err)
{
    /* no_new_privs is on unless SecurityOpt turns it off (DESIGN.md §7, ADR 0012). */
    struct eng_ctr_host_opts o = { .no_new_privs = true };
    parse_limits(hc, &o.limits);
    o.privileged = mc_json_bool(hc, "Privileged", false);
    o.readonly_rootfs = mc_json_bool(hc, "ReadonlyRootfs", false);
    o.auto_remove = mc_json_bool(hc, "AutoRemove", false);
    _cleanup_strv_ char **add = mc_json_to_strv(json_object_get(hc, "CapAdd"));
    _cleanup_strv_ char **drop = mc_json_to_strv(json_object_get(hc, "CapDrop"));
    const char *log_driver = mc_json_str(json_object_get(hc, "LogConfig"), "Type");
    int r = check_limits(&o.limits, err);
    if (r == 0 && !isempty(log_driver) && !streq(log_driver, "json-file"))
        r = mc_error_set(err, MC_ERR_UNSUPPORTED,
                         "logging driver '%s' is not supported by machined (json-file only)",
                         log_driver);
    if (r == 0)
        r = parse_network(mc_json_str(hc, "NetworkMode"), &o, err);
    if (r == 0)
        r = parse_security_opts(json_object_get(hc, "SecurityOpt"), &o, err);
    if (r == 0)
        r = eng_caps_compute(ENG_CAPS_DEFAULT, add, drop, &o.caps, err);
    if (r == 0)
        r = parse_ulimits(json_object_get(hc, "Ulimits"), &o, err);
    if (r == 0)
        r = eng_ctr_restart_parse(json_object_get(hc, "RestartPolicy"), &o.restart, err);
    if (r == 0 && o.auto_remove && o.restart.policy != ENG_CTR_RESTART_NO)
        r = mc_error_set(err, MC_ERR_INVALID,
                         "can't create 'AutoRemove' container with restart policy");
    if (r < 0) {
        eng_ctr_host_opts_clear(&o);
        return -1;
    }
    if (o.privileged) {
        o.caps = ENG_CAPS_ALL;
        o.seccomp_unconfined = true;
    }
    *ret = o;
    return 0;
}

void
eng_ctr_host_opts_clear(struct eng_ctr_host_opts *o)
{
    free(o->rlimits);
    o->rlimits = NULL;
    o->nrlimits = 0;
}

/* ---- environment ---- */

static bool
strv_has_key(char **l, const char *key)
{
    size_t n = strlen(key);
    STRV_FOREACH (s, l)
        if (strncmp(*s, key, n) == 0 && (*s)[n] == '=')
            return true;
    return false;
}

char **
eng_ctr_process_env(const json_t *env, const char *hostname, bool tty, const char *home)
{
    _cleanup_strv_ char **user = mc_json_to_strv(env);
    char **out = strv_new();
    if (!strv_has_key(user, "PATH"))
        strv_add(&out, default_path);
    strv_push(&out, xasprintf("HOSTNAME=%s", hostname ? hostname : ""));
    if (tty)
        strv_add(&out, "TERM=xterm");
    if (!strv_has_key(user, "HOME"))
        strv_push(&out, xasprintf("HOME=%s", isempty(home) ? "/" : home));
    STRV_FOREACH (s, user)
        strv_add(&out, *s);
    return out;
}
