/* GET /containers/{id}/stats (docker stats): CPU, memory, pids and network counters of a
 * running container, read from its cgroup and its processes, in dockerd's JSON shape.
 *
 * stream=1 (the default) sends a sample every second until the container is removed or the
 * client goes; stream=0 sends one, taken a second after a first one so that the CPU percentage
 * has a previous sample to compare with (as dockerd); one-shot=1 sends one at once. A container
 * that is not running gets samples of zeros, as from dockerd.
 *
 * CPU time comes from cpu.stat's usage_usec on cgroup v2, else (v1, where the cpuacct
 * controller is not used) from the processes of the cgroup (/proc/PID/stat, their own time and
 * their reaped children's). Memory: the memory controller's usage and memory.stat (the CLI
 * subtracts the inactive file cache). The limit is the container's, else the host's memory. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "api-handler.h"
#include "ctr-internal.h"
#include "ctr-routes.h"
#include "fs.h"
#include "json.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define STATS_INTERVAL_MS 1000

struct sample {
    int64_t read_ns; /* 0: not running (zeros) */
    uint64_t cpu_user_ns;
    uint64_t cpu_sys_ns;
    uint64_t cpu_total_ns;
    uint64_t system_ns;
    uint64_t mem_usage;
    uint64_t mem_limit;
    uint64_t pids;
    uint64_t pids_limit;
    json_t *mem_stats; /* owned; NULL: none */
    json_t *networks;  /* owned; NULL: none */
};

static void
sample_clear(struct sample *s)
{
    json_decref(s->mem_stats);
    json_decref(s->networks);
    memset(s, 0, sizeof(*s));
}

/* What a sample needs, copied under the lock. */
struct target {
    char *cgroup_dir;
    pid_t *pids;
    size_t npids;
    pid_t pid1;
    bool host_net;
    int64_t memory_limit;
    int64_t pids_limit;
};

static void
target_clear(struct target *t)
{
    free(t->cgroup_dir);
    free(t->pids);
    memset(t, 0, sizeof(*t));
}

/* False when c is not running (or its cgroup cannot be listed). */
static bool
target_get(struct eng_ctr *c, struct target *t)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_lock(&ctrs.lock);
    bool running = (c->state == ENG_CTR_RUNNING || c->state == ENG_CTR_PAUSED) && c->cgroup &&
                   eng_cgroup_pids(c->cgroup, &t->pids, &t->npids, NULL) == 0;
    if (running) {
        t->cgroup_dir = xstrdup(eng_cgroup_path(c->cgroup));
        t->pid1 = c->pid;
        const char *mode = mc_json_str(c->host_config, "NetworkMode");
        t->host_net = mode && streq(mode, "host");
        t->memory_limit = mc_json_int(c->host_config, "Memory", 0);
        t->pids_limit = mc_json_int(c->host_config, "PidsLimit", 0);
    }
    pthread_mutex_unlock(&ctrs.lock);
    return running;
}

/* dir/name, or /proc/PID/name; NULL when it cannot be read. */
static char *
read_small(const char *dir, const char *name)
{
    _cleanup_free_ char *path = mc_path_join(dir, name);
    char *data = NULL;
    if (mc_read_file(path, 1 << 20, &data, NULL, NULL) < 0)
        return NULL;
    return data;
}

static uint64_t
read_u64(const char *dir, const char *name)
{
    _cleanup_free_ char *text = read_small(dir, name);
    uint64_t v = 0;
    if (text) {
        text[strcspn(text, "\n")] = '\0';
        if (mc_parse_uint64(text, &v) < 0)
            v = 0;
    }
    return v;
}

static void
sample_cpu(const struct target *t, struct sample *s)
{
    _cleanup_free_ char *stat = read_small(t->cgroup_dir, "cpu.stat");
    _cleanup_json_ json_t *kv = stat ? eng_ctr_parse_keyed_values(stat) : NULL;
    if (kv && json_object_get(kv, "usage_usec")) { /* cgroup v2 */
        s->cpu_total_ns = (uint64_t)mc_json_int(kv, "usage_usec", 0) * 1000;
        s->cpu_user_ns = (uint64_t)mc_json_int(kv, "user_usec", 0) * 1000;
        s->cpu_sys_ns = (uint64_t)mc_json_int(kv, "system_usec", 0) * 1000;
    } else {
        uint64_t hz = (uint64_t)sysconf(_SC_CLK_TCK), user = 0, sys = 0;
        for (size_t i = 0; i < t->npids; i++) {
            char dir[64];
            snprintf(dir, sizeof(dir), "/proc/%d", (int)t->pids[i]);
            _cleanup_free_ char *text = read_small(dir, "stat");
            uint64_t u, k;
            if (text && eng_ctr_parse_proc_stat_times(text, &u, &k)) {
                user += u;
                sys += k;
            }
        }
        s->cpu_user_ns = user * (1000000000 / hz);
        s->cpu_sys_ns = sys * (1000000000 / hz);
        s->cpu_total_ns = s->cpu_user_ns + s->cpu_sys_ns;
    }
    _cleanup_free_ char *host = read_small("/proc", "stat");
    uint64_t ticks;
    if (host && eng_ctr_parse_system_cpu(host, &ticks))
        s->system_ns = ticks * (1000000000 / (uint64_t)sysconf(_SC_CLK_TCK));
}

static void
sample_memory(const struct target *t, struct sample *s)
{
    s->mem_usage = read_u64(t->cgroup_dir, "memory.usage_in_bytes"); /* v1 */
    if (s->mem_usage == 0)
        s->mem_usage = read_u64(t->cgroup_dir, "memory.current"); /* v2 */
    _cleanup_free_ char *stat = read_small(t->cgroup_dir, "memory.stat");
    s->mem_stats = stat ? eng_ctr_parse_keyed_values(stat) : json_object();
    struct sysinfo si = { 0 };
    sysinfo(&si);
    uint64_t host = (uint64_t)si.totalram * si.mem_unit;
    s->mem_limit = t->memory_limit > 0 && (uint64_t)t->memory_limit < host
                           ? (uint64_t)t->memory_limit
                           : host;
}

static void
take_sample(struct eng_ctr *c, struct sample *s)
{
    memset(s, 0, sizeof(*s));
    struct target t;
    if (!target_get(c, &t))
        return;
    s->read_ns = mc_realtime_ns();
    sample_cpu(&t, s);
    sample_memory(&t, s);
    s->pids = t.npids;
    s->pids_limit = t.pids_limit > 0 ? (uint64_t)t.pids_limit : 0;
    if (!t.host_net) {
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/net", (int)t.pid1);
        _cleanup_free_ char *dev = read_small(dir, "dev");
        s->networks = dev ? eng_ctr_parse_net_dev(dev) : NULL;
    }
    target_clear(&t);
}

static json_t *
cpu_json(const struct sample *s)
{
    return json_pack("{s:{s:I,s:I,s:I},s:I,s:i,s:{s:i,s:i,s:i}}", "cpu_usage", "total_usage",
                     (json_int_t)s->cpu_total_ns, "usage_in_kernelmode", (json_int_t)s->cpu_sys_ns,
                     "usage_in_usermode", (json_int_t)s->cpu_user_ns, "system_cpu_usage",
                     (json_int_t)s->system_ns, "online_cpus",
                     s->read_ns ? (int)sysconf(_SC_NPROCESSORS_ONLN) : 0, "throttling_data",
                     "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

static json_t *
stats_json(const struct eng_ctr *c, const struct sample *cur, const struct sample *prev)
{
    json_t *j = json_pack(
            "{s:o,s:o,s:{s:I},s:{},s:i,s:{},s:o,s:o,s:{s:I,s:O,s:I},s:s,s:s}", "read",
            ctr_time_json(cur->read_ns), "preread", ctr_time_json(prev->read_ns), "pids_stats",
            "current", (json_int_t)cur->pids, "blkio_stats", "num_procs", 0, "storage_stats",
            "cpu_stats", cpu_json(cur), "precpu_stats", cpu_json(prev), "memory_stats", "usage",
            (json_int_t)cur->mem_usage, "stats", cur->mem_stats ? cur->mem_stats : json_null(),
            "limit", (json_int_t)cur->mem_limit, "name", c->name, "id", c->id);
    if (cur->pids_limit)
        json_object_set_new(json_object_get(j, "pids_stats"), "limit",
                            json_integer((json_int_t)cur->pids_limit));
    if (cur->networks && json_object_size(cur->networks))
        json_object_set(j, "networks", cur->networks);
    return j;
}

static bool
removed(struct eng_ctr *c)
{
    pthread_mutex_lock(&ctrs.lock);
    bool gone = c->removed;
    pthread_mutex_unlock(&ctrs.lock);
    return gone;
}

/* Waits the interval; false when the client went away meanwhile. */
static bool
pause_interval(struct eng_request *req)
{
    struct pollfd pf = { .fd = eng_req_fd(req), .events = POLLIN };
    int64_t deadline = mc_now_ms() + STATS_INTERVAL_MS;
    for (int64_t left; (left = deadline - mc_now_ms()) > 0;) {
        if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
            return false;
        if (pf.revents && eng_req_client_gone(req))
            return false;
        if (pf.revents)
            mc_sleep_ms(left < 50 ? left : 50); /* pipelined bytes, not a hang-up: no spin */
    }
    return true;
}

int
ctr_h_stats(struct eng_request *req, struct mc_error **err)
{
    _cleanup_ctr_ struct eng_ctr *c = ctr_get(eng_req_param(req, "id"), err);
    if (!c)
        return -1;
    bool stream = eng_req_query_bool(req, "stream", true);
    bool one_shot = !stream && eng_req_query_bool(req, "one-shot", false);
    struct eng_stream *s = eng_resp_stream(req, 200, "application/json", err);
    if (!s)
        return -1;
    struct sample prev = { 0 }, cur = { 0 };
    int r = 0;
    if (!stream && !one_shot) {
        take_sample(c, &prev);
        if (prev.read_ns && !pause_interval(req))
            goto out;
    }
    for (;;) {
        take_sample(c, &cur);
        /* While the container does not run, a stream goes on with samples of zeros, as
         * dockerd's does; it ends when the container is removed. */
        _cleanup_json_ json_t *j = stats_json(c, &cur, &prev);
        if ((r = eng_stream_json(s, j, err)) < 0 || !stream || removed(c) || !pause_interval(req))
            break;
        sample_clear(&prev);
        prev = cur;
        memset(&cur, 0, sizeof(cur));
    }
out:
    sample_clear(&prev);
    sample_clear(&cur);
    return r;
}
