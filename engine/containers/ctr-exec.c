/* docker exec: instances created against a running container, started into its namespaces and
 * cgroup, reaped by the supervisor (which records ExitCode before anyone is told). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "ctr-internal.h"
#include "ctr-start.h"
#include "json.h"
#include "log.h"
#include "passwd.h"
#include "rt-seccomp.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

/* Finished instances a container keeps for /exec/{id}/json before the oldest go. */
#define EXEC_KEEP 64

static void
exec_free(struct eng_ctr_exec *e)
{
    if (e->pty_fd >= 0)
        close(e->pty_fd);
    json_decref(e->config);
    eng_rt_process_close(&e->proc);
    free(e);
}

static void
exec_unref_locked(struct eng_ctr_exec *e)
{
    if (e && --e->refs == 0)
        exec_free(e);
}

void
ctr_exec_unref(struct eng_ctr_exec *e)
{
    pthread_mutex_lock(&ctrs.lock);
    exec_unref_locked(e);
    pthread_mutex_unlock(&ctrs.lock);
}

static void
list_remove(struct eng_ctr_exec ***v, size_t *n, struct eng_ctr_exec *e)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*v)[i] != e)
            continue;
        memmove(&(*v)[i], &(*v)[i + 1], (*n - i - 1) * sizeof(**v));
        (*n)--;
        return;
    }
}

/* Forgets one instance: out of the global list and its container's. Locked. */
static void
exec_forget_locked(struct eng_ctr_exec *e)
{
    list_remove(&ctrs.execs, &ctrs.nexecs, e);
    if (e->ctr)
        list_remove(&e->ctr->execs, &e->ctr->nexecs, e);
    e->ctr = NULL;
    exec_unref_locked(e);
}

void
ctr_exec_drop_locked(struct eng_ctr *c)
{
    while (c->nexecs > 0)
        exec_forget_locked(c->execs[0]);
}

static void
prune_locked(struct eng_ctr *c)
{
    size_t finished = 0;
    for (size_t i = 0; i < c->nexecs; i++)
        finished += c->execs[i]->exited;
    for (size_t i = 0; i < c->nexecs && finished > EXEC_KEEP;) {
        if (c->execs[i]->exited) {
            exec_forget_locked(c->execs[i]);
            finished--;
        } else {
            i++;
        }
    }
}

static int
check_running_locked(const struct eng_ctr *c, struct mc_error **err)
{
    if (c->state == ENG_CTR_PAUSED)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "Container %s is paused, unpause the container before exec", c->id);
    if (c->state != ENG_CTR_RUNNING)
        return mc_error_set(err, MC_ERR_CONFLICT, "Container %s is not running", c->id);
    return 0;
}

void
ctr_exec_event_locked(const struct eng_ctr_exec *e, const char *action, bool with_cmd)
{
    if (!e->ctr)
        return;
    _cleanup_buf_ struct mc_buf what = MC_BUF_INIT;
    mc_buf_puts(&what, action);
    size_t i;
    const json_t *arg;
    const json_t *cmd = with_cmd ? json_object_get(e->config, "Cmd") : NULL;
    json_array_foreach (cmd, i, arg)
        mc_buf_printf(&what, "%s%s", i ? " " : ": ",
                      json_is_string(arg) ? json_string_value(arg) : "");
    json_t *extra = json_pack("{s:s}", "execID", e->id);
    if (e->exited) {
        char code[16];
        snprintf(code, sizeof(code), "%d", e->exit_code);
        json_object_set_new(extra, "exitCode", json_string(code));
    }
    ctr_event_locked(e->ctr, what.data, extra);
}

struct eng_ctr_exec *
ctr_exec_create(struct eng_ctr *c, json_t *body, struct mc_error **err)
{
    const json_t *cmd = json_object_get(body, "Cmd");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return mc_error_set(err, MC_ERR_INVALID, "No exec command specified"), NULL;
    struct eng_ctr_exec *e = xzalloc(sizeof(*e));
    e->config = json_incref(body);
    e->tty = mc_json_bool(body, "Tty", false);
    e->proc = (struct eng_rt_process)ENG_RT_PROCESS_INIT;
    e->pty_fd = -1;
    e->refs = 2; /* the lists' and the caller's */
    pthread_mutex_lock(&ctrs.lock);
    if (check_running_locked(c, err) < 0) {
        pthread_mutex_unlock(&ctrs.lock);
        exec_free(e);
        return NULL;
    }
    char id[65];
    do
        ctr_new_id_locked(id);
    while (ctr_exec_get_locked(id));
    memcpy(e->id, id, sizeof(id));
    e->ctr = c;
    ctrs.execs = xreallocarray(ctrs.execs, ctrs.nexecs + 1, sizeof(*ctrs.execs));
    ctrs.execs[ctrs.nexecs++] = e;
    c->execs = xreallocarray(c->execs, c->nexecs + 1, sizeof(*c->execs));
    c->execs[c->nexecs++] = e;
    prune_locked(c);
    ctr_exec_event_locked(e, "exec_create", true);
    pthread_mutex_unlock(&ctrs.lock);
    return e;
}

struct eng_ctr_exec *
ctr_exec_get_locked(const char *id)
{
    for (size_t i = 0; i < ctrs.nexecs; i++)
        if (streq(ctrs.execs[i]->id, id))
            return ctrs.execs[i];
    return NULL;
}

struct eng_ctr_exec *
ctr_exec_get(const char *id, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    struct eng_ctr_exec *e = ctr_exec_get_locked(id);
    if (e)
        e->refs++;
    pthread_mutex_unlock(&ctrs.lock);
    if (!e)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "No such exec instance: %s", id), NULL;
    return e;
}

/* ---- start ---- */

struct exec_launch {
    struct eng_exec_user user;
    struct eng_ctr_host_opts opts;
    char **argv;
    char **env;
    struct eng_rt_proc_config proc;
};

static void
exec_launch_clear(struct exec_launch *l)
{
    eng_exec_user_clear(&l->user);
    eng_ctr_host_opts_clear(&l->opts);
    strv_free(l->argv);
    strv_free(l->env);
}

static char **
exec_env(const struct eng_ctr *c, const json_t *config, const char *home)
{
    char **env = eng_ctr_process_env(json_object_get(c->config, "Env"),
                                     mc_json_str(c->config, "Hostname"),
                                     mc_json_bool(config, "Tty", false), home);
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(config, "Env"), i, v)
        if (json_is_string(v))
            strv_add(&env, json_string_value(v));
    return env;
}

static int
exec_prepare(struct exec_launch *l, struct eng_ctr_exec *e, const struct eng_ctr *c, int pid,
             bool detach, struct mc_error **err)
{
    const json_t *cfg = e->config;
    const char *user = mc_json_str(cfg, "User");
    if (isempty(user))
        user = mc_json_str(c->config, "User");
    char root[64];
    snprintf(root, sizeof(root), "/proc/%d/root", pid);
    if (eng_ctr_host_opts_parse(c->host_config, &l->opts, err) < 0 ||
        ctr_resolve_user_in_root(root, user, &l->user, err) < 0)
        return -1;
    bool privileged = mc_json_bool(cfg, "Privileged", false) || l->opts.privileged;
    l->argv = mc_json_to_strv(json_object_get(cfg, "Cmd"));
    l->env = exec_env(c, cfg, l->user.home);
    const char *cwd = mc_json_str(cfg, "WorkingDir");
    const json_t *cs = json_object_get(cfg, "ConsoleSize");
    l->proc = (struct eng_rt_proc_config){
        .argv = l->argv,
        .env = l->env,
        .cwd = isempty(cwd) ? mc_json_str(c->config, "WorkingDir") : cwd,
        .uid = l->user.uid,
        .gid = l->user.gid,
        .groups = l->user.groups,
        .ngroups = l->user.ngroups,
        .caps = privileged ? ENG_CAPS_ALL : l->opts.caps,
        .no_new_privs = l->opts.no_new_privs,
        .rlimits = l->opts.rlimits,
        .nrlimits = l->opts.nrlimits,
        .tty = e->tty && !detach,
        .rows = (unsigned short)json_integer_value(json_array_get(cs, 0)),
        .cols = (unsigned short)json_integer_value(json_array_get(cs, 1)),
        .open_stdin = mc_json_bool(cfg, "AttachStdin", false) && !detach,
        .null_stdio = detach,
        .cgroup = c->cgroup,
    };
    if (!privileged && !l->opts.seccomp_unconfined &&
        !(l->proc.seccomp = eng_seccomp_default(l->proc.caps, err)))
        return -1;
    return 0;
}

/* Claims e for its one start and returns its container (referenced), running. Locked. */
static struct eng_ctr *
claim_locked(struct eng_ctr_exec *e, struct mc_error **err)
{
    if (e->started)
        return mc_error_set(err, MC_ERR_CONFLICT, "Exec %s has already been started", e->id), NULL;
    if (!e->ctr)
        return mc_error_set(err, MC_ERR_CONFLICT, "The container of exec %s is gone", e->id), NULL;
    if (check_running_locked(e->ctr, err) < 0)
        return NULL;
    e->started = true;
    ctr_ref_locked(e->ctr);
    return e->ctr;
}

int
ctr_exec_start(struct eng_ctr_exec *e, bool detach, struct eng_rt_process *ret,
               struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    struct eng_ctr *c = claim_locked(e, err);
    /* Our own pidfd: the container may exit (and its pidfd be closed) meanwhile. */
    _cleanup_close_ int pidfd = c ? fcntl(c->proc.pidfd, F_DUPFD_CLOEXEC, 3) : -1;
    int pid = c ? c->pid : 0;
    pthread_mutex_unlock(&ctrs.lock);
    if (!c)
        return -1;
    _cleanup_(exec_launch_clear) struct exec_launch l = { 0 };
    struct mc_error *e2 = NULL;
    int r = pidfd < 0 ? mc_error_sys(&e2, errno, "cannot reach container %.12s", c->id) : 0;
    if (r == 0)
        r = exec_prepare(&l, e, c, pid, detach, &e2);
    if (r == 0)
        r = eng_rt_exec(pidfd, false, &l.proc, &e->proc, &e2);
    pthread_mutex_lock(&ctrs.lock);
    if (r == 0) {
        e->running = true;
        e->pid = e->proc.pid;
        ctr_exec_event_locked(e, "exec_start", true);
        if (e->proc.pty_fd >= 0)
            e->pty_fd = fcntl(e->proc.pty_fd, F_DUPFD_CLOEXEC, 3);
        r = ctr_watch_exec_locked(e, &e2);
        *ret = e->proc;
        ret->pidfd = -1; /* the supervisor's */
        /* the caller owns the stdio fds now */
        e->proc.stdin_fd = e->proc.stdout_fd = e->proc.stderr_fd = e->proc.pty_fd = -1;
    } else {
        e->exited = true;
        e->exit_code = 126; /* as dockerd: an exec that could not start */
    }
    ctr_changed_locked();
    ctr_unref_locked(c);
    pthread_mutex_unlock(&ctrs.lock);
    if (r < 0)
        return mc_error_propagate(err, e2);
    return 0;
}

int
ctr_exec_resize(struct eng_ctr_exec *e, unsigned short h, unsigned short w, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    int r = 0;
    if (!e->running)
        r = mc_error_set(err, MC_ERR_CONFLICT, "Exec %s is not running", e->id);
    else if (e->tty && e->pty_fd >= 0)
        r = eng_rt_resize(e->pty_fd, h, w, err);
    pthread_mutex_unlock(&ctrs.lock);
    return r;
}
