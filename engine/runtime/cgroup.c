#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-priv.h"
#include "fs.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

const char *const eng_cg_controller_names[ENG_CG__MAX] = {
    [ENG_CG_MEMORY] = "memory",
    [ENG_CG_CPU] = "cpu",
    [ENG_CG_PIDS] = "pids",
    [ENG_CG_FREEZER] = "freezer",
};

/* ---- file helpers ---- */

int
eng_cg_write(const char *dir, const char *file, const char *value, struct mc_error **err)
{
    _cleanup_free_ char *path = mc_path_join(dir, file);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open '%s'", path);
    size_t n = strlen(value);
    if (write(fd, value, n) != (ssize_t)n)
        return mc_error_sys(err, errno, "cannot write '%s' to '%s'", value, path);
    return 0;
}

int
eng_cg_write_int(const char *dir, const char *file, int64_t value, struct mc_error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)value);
    return eng_cg_write(dir, file, buf, err);
}

char *
eng_cg_read(const char *dir, const char *file, struct mc_error **err)
{
    _cleanup_free_ char *path = mc_path_join(dir, file);
    char *data = NULL;
    if (mc_read_file(path, 1 << 20, &data, NULL, err) < 0)
        return NULL;
    return data;
}

bool
eng_cg_keyed_value(const char *text, const char *key, uint64_t *ret)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
            char num[32];
            size_t len = (nl ? (size_t)(nl - p) : strlen(p)) - kl - 1;
            if (len == 0 || len >= sizeof(num))
                return false;
            memcpy(num, p + kl + 1, len);
            num[len] = '\0';
            return mc_parse_uint64(num, ret) == 0;
        }
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

int
eng_cg_kill_procs(const char *dir)
{
    _cleanup_free_ char *procs = eng_cg_read(dir, "cgroup.procs", NULL);
    int n = 0;
    _cleanup_strv_ char **l = strv_split(procs ? procs : "", "\n");
    STRV_FOREACH (s, l) {
        int pid;
        if (mc_parse_int(*s, &pid) == 0 && pid > 0) {
            kill(pid, SIGKILL);
            n++;
        }
    }
    return n;
}

/* ---- pure conversions ---- */

uint64_t
eng_cgroup_shares_to_weight(uint64_t shares)
{
    if (shares == 0)
        return 0;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return 1 + ((shares - 2) * 9999) / 262142;
}

bool
eng_cgroup_cpu_max(const struct eng_cgroup_limits *l, int64_t *quota, int64_t *period)
{
    *period = l->cpu_period > 0 ? l->cpu_period : 100000;
    if (l->nano_cpus > 0) {
        *quota = l->nano_cpus * *period / 1000000000;
        /* The kernel refuses quotas under 1 ms. */
        if (*quota < 1000)
            *quota = 1000;
        return true;
    }
    if (l->cpu_quota > 0) {
        *quota = l->cpu_quota;
        return true;
    }
    return false;
}

int64_t
eng_cgroup_memsw(const struct eng_cgroup_limits *l)
{
    if (l->memory <= 0)
        return 0;
    if (l->memory_swap < 0)
        return -1;
    if (l->memory_swap == 0)
        return 2 * l->memory;
    return l->memory_swap;
}

/* ---- layout detection ---- */

void
eng_cgroup_layout_from_mounts(const struct eng_mountinfo *mi, struct eng_cgroup_layout *ret)
{
    memset(ret, 0, sizeof(*ret));
    for (size_t i = 0; i < mi->n; i++) {
        const struct eng_mount_entry *e = &mi->entries[i];
        if (streq(e->fstype, "cgroup2") && !ret->unified) {
            ret->unified = xstrdup(e->mount_point);
            continue;
        }
        if (!streq(e->fstype, "cgroup"))
            continue;
        for (int c = 0; c < ENG_CG__MAX; c++)
            if (!ret->v1[c] && eng_option_has(e->super_options, eng_cg_controller_names[c]))
                ret->v1[c] = xstrdup(e->mount_point);
    }
}

void
eng_cgroup_layout_clear(struct eng_cgroup_layout *l)
{
    free(l->unified);
    for (int c = 0; c < ENG_CG__MAX; c++)
        free(l->v1[c]);
    memset(l, 0, sizeof(*l));
}

int
eng_cgroup_choose_version(const struct eng_cgroup_layout *l, const char *unified_controllers)
{
    if (l->v1[ENG_CG_MEMORY])
        return 1;
    if (l->unified && unified_controllers) {
        _cleanup_strv_ char **c = strv_split(unified_controllers, " \n");
        if (strv_contains(c, "memory"))
            return 2;
    }
    return 0;
}

/* ---- the manager ---- */

static int
detect(struct eng_cgroup_manager *m, const struct eng_cgroup_options *o, struct mc_error **err)
{
    _cleanup_free_ char *text = NULL;
    if (!o->mountinfo && mc_read_file("/proc/self/mountinfo", 4 << 20, &text, NULL, err) < 0)
        return -1;
    struct eng_mountinfo mi;
    if (eng_mountinfo_parse(o->mountinfo ? o->mountinfo : text, &mi, err) < 0)
        return -1;
    struct eng_cgroup_layout l;
    eng_cgroup_layout_from_mounts(&mi, &l);
    eng_mountinfo_free(&mi);
    _cleanup_free_ char *ctl =
            l.unified ? eng_cg_read(l.unified, "cgroup.controllers", NULL) : NULL;
    int version = eng_cgroup_choose_version(&l, ctl);
    if (version == 2) {
        m->ops = &eng_cgroup_v2_ops;
        m->v2_root = TAKE_PTR(l.unified);
    } else if (version == 1) {
        m->ops = &eng_cgroup_v1_ops;
        for (int c = 0; c < ENG_CG__MAX; c++)
            m->v1_roots[c] = TAKE_PTR(l.v1[c]);
    }
    eng_cgroup_layout_clear(&l);
    if (version == 0)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "No cgroup hierarchy offers the memory controller.");
    return 0;
}

struct eng_cgroup_manager *
eng_cgroup_manager_new(const struct eng_cgroup_options *opts, struct mc_error **err)
{
    static const struct eng_cgroup_options none = { 0 };
    const struct eng_cgroup_options *o = opts ? opts : &none;
    _cleanup_(eng_cgroup_manager_freep) struct eng_cgroup_manager *m = xzalloc(sizeof(*m));
    m->parent = xstrdup(isempty(o->parent) ? "machined" : o->parent);
    if (o->v2_root) {
        m->ops = &eng_cgroup_v2_ops;
        m->v2_root = xstrdup(o->v2_root);
    } else if (o->v1_root) {
        m->ops = &eng_cgroup_v1_ops;
        for (int c = 0; c < ENG_CG__MAX; c++)
            m->v1_roots[c] = mc_path_join(o->v1_root, eng_cg_controller_names[c]);
    } else if (detect(m, o, err) < 0) {
        return NULL;
    }
    if (m->ops->init(m, err) < 0)
        return NULL;
    return TAKE_PTR(m);
}

void
eng_cgroup_manager_free(struct eng_cgroup_manager *m)
{
    if (!m)
        return;
    free(m->parent);
    free(m->v2_root);
    for (int c = 0; c < ENG_CG__MAX; c++)
        free(m->v1_roots[c]);
    free(m);
}

static int remove_dir(const char *dir, struct mc_error **err);

int
eng_cgroup_manager_remove_parent(struct eng_cgroup_manager *m, struct mc_error **err)
{
    const char *roots[ENG_CG__MAX] = { m->v2_root };
    if (m->ops->version == 1)
        memcpy(roots, m->v1_roots, sizeof(roots));
    for (int c = 0; c < ENG_CG__MAX; c++) {
        if (!roots[c])
            continue;
        _cleanup_free_ char *dir = mc_path_join(roots[c], m->parent);
        if (remove_dir(dir, err) < 0)
            return -1;
    }
    return 0;
}

int
eng_cgroup_manager_version(const struct eng_cgroup_manager *m)
{
    return m->ops->version;
}

/* ---- per-container cgroups ---- */

static struct eng_cgroup *
cgroup_new(struct eng_cgroup_manager *m, const char *name)
{
    struct eng_cgroup *cg = xzalloc(sizeof(*cg));
    cg->m = m;
    _cleanup_free_ char *rel = mc_path_join(m->parent, name);
    if (m->ops->version == 2) {
        cg->dirs[0] = mc_path_join(m->v2_root, rel);
        return cg;
    }
    for (int c = 0; c < ENG_CG__MAX; c++)
        if (m->v1_roots[c])
            cg->dirs[c] = mc_path_join(m->v1_roots[c], rel);
    return cg;
}

static int
make_dirs(struct eng_cgroup *cg, struct mc_error **err)
{
    for (int c = 0; c < ENG_CG__MAX; c++)
        if (cg->dirs[c] && mkdir(cg->dirs[c], 0755) < 0 && errno != EEXIST)
            return mc_error_sys(err, errno, "cannot create the cgroup '%s'", cg->dirs[c]);
    return 0;
}

struct eng_cgroup *
eng_cgroup_create(struct eng_cgroup_manager *m, const char *name,
                  const struct eng_cgroup_limits *limits, struct mc_error **err)
{
    static const struct eng_cgroup_limits unlimited = { 0 };
    _cleanup_(eng_cgroup_freep) struct eng_cgroup *cg = cgroup_new(m, name);
    if (make_dirs(cg, err) < 0)
        return NULL;
    if (m->ops->create(cg, limits ? limits : &unlimited, err) < 0) {
        eng_cgroup_destroy(cg, NULL);
        return NULL;
    }
    return TAKE_PTR(cg);
}

struct eng_cgroup *
eng_cgroup_open(struct eng_cgroup_manager *m, const char *name)
{
    return cgroup_new(m, name);
}

void
eng_cgroup_free(struct eng_cgroup *cg)
{
    if (!cg)
        return;
    for (int c = 0; c < ENG_CG__MAX; c++)
        free(cg->dirs[c]);
    free(cg);
}

int
eng_cgroup_attach(struct eng_cgroup *cg, pid_t pid, struct mc_error **err)
{
    return cg->m->ops->attach(cg, pid, err);
}

int
eng_cgroup_join_fds(struct eng_cgroup *cg, int fds[ENG_CGROUP_JOIN_MAX], struct mc_error **err)
{
    return cg->m->ops->join_fds ? cg->m->ops->join_fds(cg, fds, err) : 0;
}

int
eng_cgroup_clone_fd(struct eng_cgroup *cg)
{
    return cg->m->ops->clone_fd ? cg->m->ops->clone_fd(cg) : -1;
}

int
eng_cgroup_freeze(struct eng_cgroup *cg, bool frozen, struct mc_error **err)
{
    return cg->m->ops->freeze(cg, frozen, err);
}

int
eng_cgroup_oom_kills(struct eng_cgroup *cg, uint64_t *ret, struct mc_error **err)
{
    return cg->m->ops->oom_kills(cg, ret, err);
}

const char *
eng_cgroup_path(const struct eng_cgroup *cg)
{
    return cg->dirs[0];
}

int
eng_cgroup_pids(struct eng_cgroup *cg, pid_t **ret, size_t *ret_n, struct mc_error **err)
{
    const char *dir = cg->dirs[ENG_CG_MEMORY] ? cg->dirs[ENG_CG_MEMORY] : cg->dirs[ENG_CG_PIDS];
    _cleanup_free_ char *procs = eng_cg_read(dir, "cgroup.procs", err);
    if (!procs)
        return -1;
    _cleanup_strv_ char **l = strv_split(procs, "\n");
    pid_t *pids = xcalloc(strv_length(l) + 1, sizeof(pid_t));
    size_t n = 0;
    STRV_FOREACH (s, l) {
        int pid;
        if (mc_parse_int(*s, &pid) == 0 && pid > 0)
            pids[n++] = pid;
    }
    *ret = pids;
    *ret_n = n;
    return 0;
}

static int
remove_dir(const char *dir, struct mc_error **err)
{
    /* Processes killed a moment ago may still be leaving: retry for up to a second. */
    for (int i = 0; i < 100; i++) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        if (errno != EBUSY)
            break;
        mc_sleep_ms(10);
    }
    if (errno == ENOTEMPTY || errno == ENOTDIR)
        return mc_rm_rf(dir, err); /* a fake tree: plain files inside */
    return mc_error_sys(err, errno, "cannot remove the cgroup '%s'", dir);
}

int
eng_cgroup_destroy(struct eng_cgroup *cg, struct mc_error **err)
{
    cg->m->ops->kill_all(cg);
    int r = 0;
    for (int c = 0; c < ENG_CG__MAX; c++)
        if (cg->dirs[c] && remove_dir(cg->dirs[c], err) < 0)
            r = -1;
    return r;
}
