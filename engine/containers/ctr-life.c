/* The container lifecycle: create, start, stop, kill, restart, pause, rename, remove, and what
 * happens when a container's process exits (restart policies, AutoRemove). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "ctr-start.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* ---- signals ---- */

static const struct {
    const char *name;
    int num;
} signals[] = {
    { "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT }, { "ILL", SIGILL },
    { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "BUS", SIGBUS },   { "FPE", SIGFPE },
    { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
    { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT },
    { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
    { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },   { "XCPU", SIGXCPU },
    { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
    { "IO", SIGIO },     { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

int
ctr_signal_number(const char *s)
{
    int n;
    if (isempty(s))
        return -1;
    if (mc_parse_int(s, &n) == 0)
        return n > 0 && n < 65 ? n : -1;
    const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
    for (size_t i = 0; i < ELEMENTSOF(signals); i++)
        if (strcasecmp(name, signals[i].name) == 0)
            return signals[i].num;
    return -1;
}

/* ---- create ---- */

static json_t *
config_from_body(const json_t *body)
{
    json_t *config = json_deep_copy(body);
    json_object_del(config, "HostConfig");
    json_object_del(config, "NetworkingConfig");
    return config;
}

static char *
pick_name_locked(const char *given, struct mc_error **err)
{
    char *name = NULL;
    if (!isempty(given))
        return eng_ctr_name_normalize(given, &name, err) < 0 ? NULL : name;
    for (uint64_t seed = (uint64_t)mc_realtime_ns();; seed = seed * 6364136223846793005u + 1) {
        _cleanup_free_ char *n = eng_ctr_name_random(seed >> 16);
        name = xasprintf("/%s", n);
        if (!ctr_find_locked(name, NULL))
            return name;
        free(name);
    }
}

/* What dockerd fills in when the client leaves it out (docker-py reads LogConfig.Type). */
static void
host_config_defaults(json_t *hc)
{
    json_t *lc = json_object_get(hc, "LogConfig");
    if (!json_is_object(lc)) {
        lc = json_object();
        json_object_set_new(hc, "LogConfig", lc);
    }
    if (isempty(mc_json_str(lc, "Type")))
        mc_json_set_str(lc, "Type", "json-file");
    if (!json_is_object(json_object_get(lc, "Config")))
        json_object_set_new(lc, "Config", json_object());
    if (isempty(mc_json_str(hc, "NetworkMode")))
        mc_json_set_str(hc, "NetworkMode", "default");
    if (!json_is_object(json_object_get(hc, "RestartPolicy")))
        json_object_set_new(hc, "RestartPolicy",
                            json_pack("{s:s, s:i}", "Name", "no", "MaximumRetryCount", 0));
}

/* Builds the container from the request (image resolved and merged), without side effects. */
static struct eng_ctr *
ctr_build(json_t *body, struct mc_error **err)
{
    const char *ref = mc_json_str(body, "Image");
    if (isempty(ref))
        return mc_error_set(err, MC_ERR_INVALID, "No image specified"), NULL;
    _cleanup_free_ char *image_id = eng_image_resolve(ref, err);
    if (!image_id)
        return NULL;
    _cleanup_json_ json_t *image = eng_image_config(image_id, err);
    if (!image)
        return NULL;
    struct eng_ctr *c = xzalloc(sizeof(*c));
    c->image = xstrdup(ref);
    c->image_id = TAKE_PTR(image_id);
    c->config = config_from_body(body);
    json_t *hc = json_object_get(body, "HostConfig");
    c->host_config = json_is_object(hc) ? json_deep_copy(hc) : json_object();
    host_config_defaults(c->host_config);
    eng_ctr_merge_config(c->config, json_object_get(image, "config"));
    c->tty = mc_json_bool(c->config, "Tty", false);
    c->log_fd = c->stdin_fd = -1;
    c->pipes[0].fd = c->pipes[1].fd = -1;
    c->proc = (struct eng_rt_process)ENG_RT_PROCESS_INIT;
    c->created_ns = mc_realtime_ns();
    if (eng_ctr_command(c->config, &c->path, &c->args, err) < 0) {
        ctr_free(c);
        return NULL;
    }
    return c;
}

static void
set_hostname(struct eng_ctr *c, bool host_net)
{
    if (!isempty(mc_json_str(c->config, "Hostname")))
        return;
    char short_id[13];
    memcpy(short_id, c->id, 12);
    short_id[12] = '\0';
    struct utsname u;
    mc_json_set_str(c->config, "Hostname", host_net && uname(&u) == 0 ? u.nodename : short_id);
}

static int
ctr_files_create(struct eng_ctr *c, const struct eng_ctr_host_opts *o, struct mc_error **err)
{
    c->dir = mc_path_join(ctrs.root, c->id);
    c->log_path = xasprintf("%s/%s-json.log", c->dir, c->id);
    if (mc_mkdir_p(c->dir, 0710, err) < 0)
        return -1;
    return ctr_write_etc_files(c->dir, mc_json_str(c->config, "Hostname"),
                               o->net == ENG_RT_NET_HOST, err);
}

struct eng_ctr *
ctr_create(const char *name, json_t *body, char **ret_warning, struct mc_error **err)
{
    struct eng_ctr_host_opts o;
    if (eng_ctr_host_opts_parse(json_object_get(body, "HostConfig"), &o, err) < 0)
        return NULL;
    eng_ctr_host_opts_clear(&o);
    struct eng_ctr_bind *binds = NULL;
    size_t nb = 0;
    if (eng_ctr_binds_parse(json_object_get(json_object_get(body, "HostConfig"), "Binds"), &binds,
                            &nb, err) < 0)
        return NULL;
    eng_ctr_binds_free(binds, nb);
    struct eng_ctr *c = ctr_build(body, err);
    if (!c)
        return NULL;
    c->net_default = o.net_default;
    pthread_mutex_lock(&ctrs.lock);
    ctr_new_id_locked(c->id);
    c->name = pick_name_locked(name, err);
    int r = c->name ? ctr_add_locked(c, err) : -1;
    if (r == 0)
        c->busy = true; /* files are being written: not startable yet */
    pthread_mutex_unlock(&ctrs.lock);
    if (r < 0) {
        ctr_free(c);
        return NULL;
    }
    set_hostname(c, o.net == ENG_RT_NET_HOST);
    r = ctr_files_create(c, &o, err);
    pthread_mutex_lock(&ctrs.lock);
    if (r == 0)
        r = ctr_save_locked(c, err);
    c->busy = false;
    if (r < 0) {
        mc_rm_rf(c->dir, NULL);
        ctr_remove_locked(c);
        c = NULL;
    } else {
        ctr_ref_locked(c);
        ctr_event_locked(c, "create", NULL);
        ctr_changed_locked();
    }
    pthread_mutex_unlock(&ctrs.lock);
    if (c && c->net_default)
        *ret_warning = xstrdup("machined: the default bridge network is not built yet; this "
                               "container has a private network namespace with loopback only");
    return c;
}

/* ---- start ---- */

/* Claims c for a start. 304 when running, 409 when removed or being removed. Locked. */
static int
claim_for_start_locked(struct eng_ctr *c, struct mc_error **err)
{
    if (c->removed || c->state == ENG_CTR_REMOVING || c->state == ENG_CTR_DEAD)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "Container %s is marked for removal and "
                            "cannot be started.",
                            c->id);
    if (c->state == ENG_CTR_RUNNING || c->state == ENG_CTR_PAUSED || c->busy)
        return mc_error_set(err, MC_ERR_NOT_MODIFIED, "Container already started");
    c->busy = true;
    c->restart_at_ms = 0;
    c->stop_requested = false;
    return 0;
}

static int
open_log(struct eng_ctr *c, struct mc_error **err)
{
    c->log_fd = open(c->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (c->log_fd < 0)
        return mc_error_sys(err, errno, "cannot open the log '%s'", c->log_path);
    return 0;
}

/* Everything outside the lock: cgroup, log, root filesystem, the process. */
static int
launch(struct eng_ctr *c, struct mc_error **err)
{
    _cleanup_(ctr_launch_clear) struct ctr_launch l;
    if (ctr_launch_prepare(&l, c, err) < 0)
        return -1;
    if (!c->cgroup && !(c->cgroup = eng_cgroup_create(ctrs.cgroups, c->id, &l.opts.limits, err)))
        return -1;
    l.rt.proc.cgroup = c->cgroup;
    if (open_log(c, err) < 0)
        return -1;
    return eng_rt_start(&l.rt, &c->proc, err);
}

/* The exit code dockerd records for a start that failed (the CLI exits with it). */
static int
start_error_code(const struct mc_error *e)
{
    if (!e)
        return 125;
    if (strstr(e->message, "executable file not found") ||
        strstr(e->message, "no such file or directory"))
        return 127;
    if (strstr(e->message, "permission denied"))
        return 126;
    return 125;
}

static void
start_failed_locked(struct eng_ctr *c, const struct mc_error *e)
{
    if (c->log_fd >= 0)
        close(c->log_fd);
    c->log_fd = -1;
    free(c->error);
    c->error = xstrdup(e ? e->message : "start failed");
    c->exit_code = start_error_code(e);
    if (c->state == ENG_CTR_RESTARTING)
        c->state = ENG_CTR_EXITED;
    c->finished_ns = c->started_before ? mc_realtime_ns() : c->finished_ns;
    c->exits++;
    ctr_subs_eof_locked(c);
    ctr_save_locked(c, NULL);
    ctr_changed_locked();
}

static void
started_locked(struct eng_ctr *c)
{
    c->state = ENG_CTR_RUNNING;
    c->pid = c->proc.pid;
    c->started_ns = mc_realtime_ns();
    c->started_before = true;
    c->manually_stopped = false;
    c->oom_killed = false;
    c->exit_code = 0;
    free(c->error);
    c->error = NULL;
    /* The fds move to their owners (the supervisor closes the pipes, stdin is closed at exit
     * or at the client's EOF); the process keeps its pidfd and, with a tty, the pty master. */
    c->stdin_fd = c->proc.stdin_fd;
    c->pipes[0].fd = c->proc.stdout_fd;
    c->pipes[1].fd = c->tty ? -1 : c->proc.stderr_fd;
    c->proc.stdin_fd = c->proc.stdout_fd = c->proc.stderr_fd = -1;
    ctr_event_locked(c, "start", NULL);
}

int
ctr_start(struct eng_ctr *c, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    int r = claim_for_start_locked(c, err);
    pthread_mutex_unlock(&ctrs.lock);
    if (r < 0)
        return -1;
    struct mc_error *e = NULL;
    r = launch(c, &e);
    pthread_mutex_lock(&ctrs.lock);
    c->busy = false;
    if (r == 0) {
        started_locked(c);
        r = ctr_watch_container_locked(c, &e);
        ctr_save_locked(c, NULL);
        ctr_changed_locked();
    } else {
        start_failed_locked(c, e);
    }
    bool remove = r < 0 && mc_json_bool(c->host_config, "AutoRemove", false);
    pthread_mutex_unlock(&ctrs.lock);
    if (r < 0 && c->cgroup) {
        eng_cgroup_destroy(c->cgroup, NULL);
        eng_cgroup_free(TAKE_PTR(c->cgroup));
    }
    if (remove)
        ctr_destroy(c, NULL);
    if (r < 0)
        return mc_error_propagate(err, e);
    return 0;
}

/* ---- exit ---- */

static bool
running_state(enum eng_ctr_state s)
{
    return s == ENG_CTR_RUNNING || s == ENG_CTR_PAUSED;
}

static void
schedule_restart_locked(struct eng_ctr *c)
{
    int64_t ran_ms = (c->finished_ns - c->started_ns) / 1000000;
    c->restart_delay_ms = eng_ctr_restart_delay_ms(c->restart_delay_ms, ran_ms);
    c->restart_at_ms = mc_now_ms() + c->restart_delay_ms;
    c->restart_count++;
    c->state = ENG_CTR_RESTARTING;
    ctr_supervisor_wake();
}

void
ctr_exited_locked(struct eng_ctr *c, int code)
{
    struct eng_ctr_restart policy;
    char code_text[16];
    snprintf(code_text, sizeof(code_text), "%d", code);
    c->state = ENG_CTR_EXITED;
    c->exit_code = code;
    c->pid = 0;
    c->finished_ns = mc_realtime_ns();
    if (c->stdin_fd >= 0 && c->stdin_fd != c->proc.pty_fd)
        close(c->stdin_fd);
    c->stdin_fd = -1;
    eng_rt_process_close(&c->proc);
    ctr_subs_eof_locked(c);
    c->exits++;
    ctr_exec_drop_locked(c);
    if (c->oom_killed)
        ctr_event_locked(c, "oom", NULL);
    ctr_event_locked(c, "die", json_pack("{s:s%}", "exitCode", code_text, strlen(code_text)));
    if (!c->stop_requested && !ctrs.shutting_down &&
        eng_ctr_restart_parse(json_object_get(c->host_config, "RestartPolicy"), &policy, NULL) ==
                0 &&
        eng_ctr_should_restart(&policy, code, c->manually_stopped, c->restart_count))
        schedule_restart_locked(c);
    ctr_save_locked(c, NULL);
    ctr_changed_locked();
}

int64_t
ctr_run_restarts(void)
{
    int64_t now = mc_now_ms(), next = -1;
    struct eng_ctr *due[32];
    size_t n = 0;
    pthread_mutex_lock(&ctrs.lock);
    for (size_t i = 0; i < ctrs.n; i++) {
        struct eng_ctr *c = ctrs.v[i];
        if (c->state != ENG_CTR_RESTARTING || c->restart_at_ms == 0)
            continue;
        if (c->restart_at_ms <= now && n < ELEMENTSOF(due)) {
            ctr_ref_locked(c);
            due[n++] = c;
        } else if (next < 0 || c->restart_at_ms - now < next) {
            next = c->restart_at_ms - now;
        }
    }
    pthread_mutex_unlock(&ctrs.lock);
    for (size_t i = 0; i < n; i++) {
        struct mc_error *err = NULL;
        /* A restart due now may have been cancelled by a stop meanwhile: start checks. */
        if (ctr_start(due[i], &err) < 0 && err->code != MC_ERR_NOT_MODIFIED)
            log_warn("restarting container %.12s failed: %s", due[i]->id, err->message);
        mc_error_free(err);
        ctr_unref(due[i]);
    }
    return n == ELEMENTSOF(due) ? 0 : next;
}

/* ---- stop, kill ---- */

/* Waits (lock held) until c's exit counter passes since, or deadline_ms (monotonic) passes;
 * true when it exited. */
static bool
wait_exit_locked(struct eng_ctr *c, uint64_t since, int64_t deadline_ms)
{
    while (c->exits == since && running_state(c->state)) {
        if (deadline_ms < 0) {
            pthread_cond_wait(&ctrs.changed, &ctrs.lock);
            continue;
        }
        int64_t left = deadline_ms - mc_now_ms();
        if (left <= 0)
            return false;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&ctrs.changed, &ctrs.lock, &ts);
    }
    return true;
}

/* Signals a running container's process; a paused one is thawed so the signal lands. */
static int
signal_locked(struct eng_ctr *c, int sig, struct mc_error **err)
{
    if (eng_rt_signal(&c->proc, sig) < 0 && errno != ESRCH)
        return mc_error_sys(err, errno, "Cannot kill container %s", c->id);
    char sig_text[16];
    snprintf(sig_text, sizeof(sig_text), "%d", sig);
    ctr_event_locked(c, "kill", json_pack("{s:s}", "signal", sig_text));
    if (c->state == ENG_CTR_PAUSED && c->cgroup && eng_cgroup_freeze(c->cgroup, false, NULL) == 0)
        c->state = ENG_CTR_RUNNING;
    return 0;
}

/* A pending restart is cancelled like a stop. Locked. */
static bool
cancel_restart_locked(struct eng_ctr *c)
{
    if (c->state != ENG_CTR_RESTARTING)
        return false;
    c->state = ENG_CTR_EXITED;
    c->restart_at_ms = 0;
    c->manually_stopped = true;
    ctr_save_locked(c, NULL);
    ctr_changed_locked();
    return true;
}

static int
stop_timeout(const struct eng_ctr *c, int timeout_s)
{
    if (timeout_s >= 0)
        return timeout_s;
    int64_t t = mc_json_int(c->config, "StopTimeout", -1);
    return t >= 0 ? (int)t : 10;
}

int
ctr_stop(struct eng_ctr *c, int timeout_s, const char *signal, struct mc_error **err)
{
    const char *name = signal ? signal : mc_json_str(c->config, "StopSignal");
    int sig = isempty(name) ? SIGTERM : ctr_signal_number(name);
    if (sig < 0)
        return mc_error_set(err, MC_ERR_INVALID, "Invalid signal: %s", name);
    pthread_mutex_lock(&ctrs.lock);
    if (cancel_restart_locked(c) || !running_state(c->state)) {
        pthread_mutex_unlock(&ctrs.lock);
        return mc_error_set(err, MC_ERR_NOT_MODIFIED, "Container %s is not running", c->id);
    }
    c->stop_requested = true;
    c->manually_stopped = true;
    uint64_t since = c->exits;
    int t = stop_timeout(c, timeout_s);
    int r = signal_locked(c, sig, err);
    if (r == 0 && !wait_exit_locked(c, since, mc_now_ms() + (int64_t)t * 1000)) {
        r = signal_locked(c, SIGKILL, err);
        wait_exit_locked(c, since, -1);
    }
    if (r == 0)
        ctr_event_locked(c, "stop", NULL);
    pthread_mutex_unlock(&ctrs.lock);
    return r;
}

int
ctr_kill(struct eng_ctr *c, const char *signal, struct mc_error **err)
{
    int sig = isempty(signal) ? SIGKILL : ctr_signal_number(signal);
    if (sig < 0)
        return mc_error_set(err, MC_ERR_INVALID, "Invalid signal: %s", signal);
    pthread_mutex_lock(&ctrs.lock);
    int r = 0;
    if (cancel_restart_locked(c)) {
        r = 0;
    } else if (!running_state(c->state)) {
        r = mc_error_set(err, MC_ERR_CONFLICT, "Container %s is not running", c->id);
    } else {
        if (sig == SIGKILL || sig == SIGTERM) {
            c->stop_requested = true;
            c->manually_stopped = true;
        }
        r = signal_locked(c, sig, err);
    }
    pthread_mutex_unlock(&ctrs.lock);
    return r;
}

int
ctr_restart(struct eng_ctr *c, int timeout_s, struct mc_error **err)
{
    struct mc_error *e = NULL;
    if (ctr_stop(c, timeout_s, NULL, &e) < 0 && e->code != MC_ERR_NOT_MODIFIED)
        return mc_error_propagate(err, e);
    mc_error_free(e);
    if (ctr_start(c, err) < 0)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    ctr_event_locked(c, "restart", NULL);
    pthread_mutex_unlock(&ctrs.lock);
    return 0;
}

int
ctr_pause(struct eng_ctr *c, bool pause, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    int r = 0;
    if (!running_state(c->state))
        r = mc_error_set(err, MC_ERR_CONFLICT, "Container %s is not running", c->id);
    else if (pause && c->state == ENG_CTR_PAUSED)
        r = mc_error_set(err, MC_ERR_CONFLICT, "Container %s is already paused", c->id);
    else if (!pause && c->state != ENG_CTR_PAUSED)
        r = mc_error_set(err, MC_ERR_CONFLICT, "Container %s is not paused", c->id);
    else if ((r = eng_cgroup_freeze(c->cgroup, pause, err)) == 0) {
        c->state = pause ? ENG_CTR_PAUSED : ENG_CTR_RUNNING;
        ctr_event_locked(c, pause ? "pause" : "unpause", NULL);
        ctr_save_locked(c, NULL);
        ctr_changed_locked();
    }
    pthread_mutex_unlock(&ctrs.lock);
    return r;
}

int
ctr_rename(struct eng_ctr *c, const char *name, struct mc_error **err)
{
    _cleanup_free_ char *n = NULL;
    if (isempty(name))
        return mc_error_set(err, MC_ERR_INVALID, "Neither old nor new names may be empty");
    if (eng_ctr_name_normalize(name, &n, err) < 0)
        return -1;
    pthread_mutex_lock(&ctrs.lock);
    int r = 0;
    struct eng_ctr *other = ctr_find_locked(n, NULL);
    if (other == c)
        r = mc_error_set(err, MC_ERR_INVALID,
                         "Renaming a container with the same name as its "
                         "current name");
    else if (other && streq(other->name, n))
        r = mc_error_set(err, MC_ERR_CONFLICT,
                         "Error when allocating new name: Conflict. The "
                         "container name \"%s\" is already in use by container \"%s\". You "
                         "have to remove (or rename) that container to be able to reuse that "
                         "name.",
                         n, other->id);
    else {
        json_t *old = json_pack("{s:s}", "oldName", c->name);
        free(c->name);
        c->name = TAKE_PTR(n);
        ctr_event_locked(c, "rename", old);
        r = ctr_save_locked(c, err);
        ctr_changed_locked();
    }
    pthread_mutex_unlock(&ctrs.lock);
    return r;
}

/* ---- remove ---- */

/* Moves the container's folder aside (fast), so that it is gone for everyone at once; the
 * files are removed afterwards. */
static char *
move_to_trash(const struct eng_ctr *c, struct mc_error **err)
{
    _cleanup_free_ char *trash_dir = mc_path_join(ctrs.root, ".trash");
    if (mc_mkdir_p(trash_dir, 0700, err) < 0)
        return NULL;
    char *trash = mc_path_join(trash_dir, c->id);
    mc_rm_rf(trash, NULL);
    if (rename(c->dir, trash) < 0 && errno != ENOENT) {
        mc_error_sys(err, errno, "cannot remove the folder of container %.12s", c->id);
        free(trash);
        return NULL;
    }
    return trash;
}

int
ctr_destroy(struct eng_ctr *c, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    while (c->busy && !c->removed)
        pthread_cond_wait(&ctrs.changed, &ctrs.lock);
    if (c->removed || running_state(c->state)) {
        pthread_mutex_unlock(&ctrs.lock);
        return 0;
    }
    c->busy = true;
    c->state = ENG_CTR_REMOVING;
    c->restart_at_ms = 0;
    ctr_changed_locked();
    pthread_mutex_unlock(&ctrs.lock);
    if (c->cgroup) {
        eng_cgroup_destroy(c->cgroup, NULL);
        eng_cgroup_free(TAKE_PTR(c->cgroup));
    }
    _cleanup_free_ char *trash = move_to_trash(c, err);
    pthread_mutex_lock(&ctrs.lock);
    c->busy = false;
    if (trash) {
        ctr_exec_drop_locked(c);
        ctr_event_locked(c, "destroy", NULL);
        ctr_remove_locked(c);
    } else {
        c->state = ENG_CTR_DEAD;
        ctr_changed_locked();
    }
    pthread_mutex_unlock(&ctrs.lock);
    if (!trash)
        return -1;
    eng_rootfs_release(trash, NULL);
    mc_rm_rf(trash, NULL);
    return 0;
}

int
ctr_delete(struct eng_ctr *c, bool force, struct mc_error **err)
{
    pthread_mutex_lock(&ctrs.lock);
    if (running_state(c->state) && !force) {
        pthread_mutex_unlock(&ctrs.lock);
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "You cannot remove a %s container %s. Stop the container before "
                            "attempting removal or force remove",
                            eng_ctr_state_name(c->state), c->id);
    }
    cancel_restart_locked(c);
    if (running_state(c->state)) {
        c->stop_requested = true;
        uint64_t since = c->exits;
        if (signal_locked(c, SIGKILL, err) < 0) {
            pthread_mutex_unlock(&ctrs.lock);
            return -1;
        }
        wait_exit_locked(c, since, -1);
    }
    pthread_mutex_unlock(&ctrs.lock);
    return ctr_destroy(c, err);
}
