/* The containers module's life: start-up (records, what a previous run left, restart policies),
 * SIGTERM (containers stopped gracefully, in parallel) and its part of /info. */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "ctr-internal.h"
#include "ctr-routes.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "log.h"
#include "rt-seccomp.h"
#include "caps.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* docker rmi asks whether a container uses an image. */
static bool
image_in_use(const char *image_id, char **ret_container_id, bool *ret_running)
{
    bool found = false;
    pthread_mutex_lock(&ctrs.lock);
    for (size_t i = 0; i < ctrs.n && !found; i++) {
        struct eng_ctr *c = ctrs.v[i];
        if (!streq(c->image_id, image_id))
            continue;
        found = true;
        *ret_container_id = xstrdup(c->id);
        *ret_running = c->state == ENG_CTR_RUNNING || c->state == ENG_CTR_PAUSED ||
                       c->state == ENG_CTR_RESTARTING;
    }
    pthread_mutex_unlock(&ctrs.lock);
    return found;
}

/* A container recorded as running belonged to a machined that is gone: its processes (if
 * any survived) are killed through its cgroup, and it is shown exited. machined does not
 * re-adopt containers (see docs/adr/0002-engine-supervision.md). */
static void
restore_one(struct eng_ctr *c)
{
    if (c->state != ENG_CTR_RUNNING && c->state != ENG_CTR_PAUSED &&
        c->state != ENG_CTR_RESTARTING && c->state != ENG_CTR_REMOVING)
        return;
    struct eng_cgroup *cg = eng_cgroup_open(ctrs.cgroups, c->id);
    pid_t *pids = NULL;
    size_t n = 0;
    bool killed = eng_cgroup_pids(cg, &pids, &n, NULL) == 0 && n > 0;
    free(pids);
    eng_cgroup_freeze(cg, false, NULL);
    eng_cgroup_destroy(cg, NULL);
    eng_cgroup_free(cg);
    bool was_removing = c->state == ENG_CTR_REMOVING;
    c->state = was_removing ? ENG_CTR_DEAD : ENG_CTR_EXITED;
    c->pid = 0;
    c->exit_code = killed ? 128 + SIGKILL : 255;
    c->finished_ns = mc_realtime_ns();
    free(c->error);
    c->error = killed ? NULL : xstrdup("machined stopped while the container was running");
    pthread_mutex_lock(&ctrs.lock);
    ctr_save_locked(c, NULL);
    pthread_mutex_unlock(&ctrs.lock);
    log_info("container %.12s was running when machined stopped: now exited (%d)", c->id,
             c->exit_code);
}

static bool
restart_on_boot(const struct eng_ctr *c)
{
    struct eng_ctr_restart p;
    if (!c->started_before || c->state != ENG_CTR_EXITED ||
        eng_ctr_restart_parse(json_object_get(c->host_config, "RestartPolicy"), &p, NULL) < 0)
        return false;
    return eng_ctr_should_restart(&p, c->exit_code, c->manually_stopped, 0);
}

static void
restore_all(void)
{
    pthread_mutex_lock(&ctrs.lock);
    size_t n = ctrs.n;
    struct eng_ctr **v = xcalloc(n + 1, sizeof(*v));
    if (n)
        memcpy(v, ctrs.v, n * sizeof(*v));
    for (size_t i = 0; i < n; i++)
        ctr_ref_locked(v[i]);
    pthread_mutex_unlock(&ctrs.lock);
    for (size_t i = 0; i < n; i++)
        restore_one(v[i]);
    for (size_t i = 0; i < n; i++) {
        struct mc_error *err = NULL;
        if (restart_on_boot(v[i]) && ctr_start(v[i], &err) < 0)
            log_warn("container %.12s: restart at start-up failed: %s", v[i]->id, err->message);
        mc_error_free(err);
        ctr_unref(v[i]);
    }
    free(v);
}

int
ctr_module_init(struct eng_daemon *d, struct mc_error **err)
{
    ctrs.daemon = d;
    ctrs.root = mc_path_join(d->data_root, "containers");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&ctrs.changed, &ca);
    pthread_condattr_destroy(&ca);
    if (mc_mkdir_p(ctrs.root, 0710, err) < 0)
        return -1;
    /* One engine per data root: a second one would kill the first one's containers as
     * leftovers. A restarting engine waits a little for the old one to finish stopping. */
    _cleanup_free_ char *lock = mc_path_join(ctrs.root, ".lock");
    ctrs.lock_fd = mc_lock_path(lock, true, 15000, err);
    if (ctrs.lock_fd < 0)
        return mc_error_prefix(err, "another machined uses the data root '%s': ", d->data_root);
    struct eng_cgroup_options co = { .parent = d->config ? d->config->cgroup_parent : NULL };
    ctrs.cgroups = eng_cgroup_manager_new(&co, err);
    if (!ctrs.cgroups)
        return mc_error_prefix(err, "cgroups: ");
    /* The default profile is built now, not at the first container. */
    if (!eng_seccomp_default(ENG_CAPS_DEFAULT, err))
        return -1;
    if (ctr_load_all(err) < 0 || ctr_supervisor_start(err) < 0)
        return -1;
    eng_images_set_in_use_hook(image_in_use);
    if (d->live_restore)
        log_warn("live-restore is not supported: containers are stopped with machined");
    restore_all();
    log_info("containers: %zu loaded, cgroup v%d", ctrs.n,
             eng_cgroup_manager_version(ctrs.cgroups));
    return 0;
}

/* ---- SIGTERM ---- */

static size_t
signal_running_locked(int sig, bool first)
{
    size_t n = 0;
    for (size_t i = 0; i < ctrs.n; i++) {
        struct eng_ctr *c = ctrs.v[i];
        if (c->state == ENG_CTR_RESTARTING) {
            c->state = ENG_CTR_EXITED;
            c->restart_at_ms = 0;
            ctr_save_locked(c, NULL);
        }
        if (c->state != ENG_CTR_RUNNING && c->state != ENG_CTR_PAUSED)
            continue;
        n++;
        c->stop_requested = true;
        const char *name = mc_json_str(c->config, "StopSignal");
        int s = first && !isempty(name) ? ctr_signal_number(name) : sig;
        eng_rt_signal(&c->proc, s > 0 ? s : sig);
        if (c->state == ENG_CTR_PAUSED && c->cgroup)
            eng_cgroup_freeze(c->cgroup, false, NULL);
    }
    return n;
}

static void
wait_all_stopped_locked(int64_t deadline_ms)
{
    while (mc_now_ms() < deadline_ms) {
        size_t running = 0;
        for (size_t i = 0; i < ctrs.n; i++)
            running += ctrs.v[i]->state == ENG_CTR_RUNNING || ctrs.v[i]->state == ENG_CTR_PAUSED;
        if (running == 0)
            return;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&ctrs.changed, &ctrs.lock, &ts);
    }
}

void
ctr_module_shutdown(struct eng_daemon *d)
{
    pthread_mutex_lock(&ctrs.lock);
    ctrs.shutting_down = true;
    size_t n = signal_running_locked(SIGTERM, true);
    if (n > 0) {
        log_info("stopping %zu container(s)", n);
        wait_all_stopped_locked(mc_now_ms() + 10000);
        signal_running_locked(SIGKILL, false);
        wait_all_stopped_locked(mc_now_ms() + 5000);
    }
    pthread_mutex_unlock(&ctrs.lock);
    ctr_supervisor_stop();
    if (ctrs.lock_fd >= 0)
        close(ctrs.lock_fd);
    ctrs.lock_fd = -1;
}

void
ctr_module_info(json_t *info)
{
    size_t running = 0, paused = 0, stopped = 0;
    pthread_mutex_lock(&ctrs.lock);
    for (size_t i = 0; i < ctrs.n; i++) {
        enum eng_ctr_state s = ctrs.v[i]->state;
        running += s == ENG_CTR_RUNNING || s == ENG_CTR_RESTARTING;
        paused += s == ENG_CTR_PAUSED;
        stopped += s != ENG_CTR_RUNNING && s != ENG_CTR_RESTARTING && s != ENG_CTR_PAUSED;
    }
    size_t total = ctrs.n;
    pthread_mutex_unlock(&ctrs.lock);
    json_object_set_new(info, "Containers", json_integer((json_int_t)total));
    json_object_set_new(info, "ContainersRunning", json_integer((json_int_t)running));
    json_object_set_new(info, "ContainersPaused", json_integer((json_int_t)paused));
    json_object_set_new(info, "ContainersStopped", json_integer((json_int_t)stopped));
    json_object_set_new(info, "CgroupDriver", json_string("cgroupfs"));
    if (ctrs.cgroups)
        json_object_set_new(info, "CgroupVersion",
                            json_string(eng_cgroup_manager_version(ctrs.cgroups) == 2 ? "2" : "1"));
}
