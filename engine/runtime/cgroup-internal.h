/* The cgroup versions behind cgroup.h: one const vtable each (v1, v2), dispatched by
 * cgroup.c, plus the small file helpers both use. */
#ifndef ENG_CGROUP_INTERNAL_H
#define ENG_CGROUP_INTERNAL_H

#include "cgroup.h"

enum eng_cg_controller {
    ENG_CG_MEMORY,
    ENG_CG_CPU,
    ENG_CG_PIDS,
    ENG_CG_FREEZER,
    ENG_CG__MAX,
};

struct eng_cgroup_ops {
    int version;
    /* Prepares the parent folders (v2: enables controllers down the tree). */
    int (*init)(struct eng_cgroup_manager *m, struct mc_error **err);
    int (*create)(struct eng_cgroup *cg, const struct eng_cgroup_limits *l, struct mc_error **err);
    int (*attach)(struct eng_cgroup *cg, pid_t pid, struct mc_error **err);
    /* NULL when a process cannot enter by itself without the global lock (v2) */
    int (*join_fds)(struct eng_cgroup *cg, int *fds, struct mc_error **err);
    /* NULL when clone3 cannot start a process in the cgroup (v1) */
    int (*clone_fd)(struct eng_cgroup *cg);
    int (*freeze)(struct eng_cgroup *cg, bool frozen, struct mc_error **err);
    int (*oom_kills)(struct eng_cgroup *cg, uint64_t *ret, struct mc_error **err);
    int (*kill_all)(struct eng_cgroup *cg);
};

struct eng_cgroup_manager {
    const struct eng_cgroup_ops *ops;
    char *parent;
    char *v2_root;               /* v2: the unified mount */
    char *v1_roots[ENG_CG__MAX]; /* v1: each controller's mount, NULL when absent */
};

struct eng_cgroup {
    struct eng_cgroup_manager *m;
    char *dirs[ENG_CG__MAX]; /* v1: one folder per controller; v2: dirs[0] only */
};

extern const struct eng_cgroup_ops eng_cgroup_v1_ops;
extern const struct eng_cgroup_ops eng_cgroup_v2_ops;

extern const char *const eng_cg_controller_names[ENG_CG__MAX];

/* Writes value into dir/file (created when missing, for fake trees). */
int eng_cg_write(const char *dir, const char *file, const char *value, struct mc_error **err);
int eng_cg_write_int(const char *dir, const char *file, int64_t value, struct mc_error **err);
/* Reads dir/file (small) into a new string; NULL with an error. */
char *eng_cg_read(const char *dir, const char *file, struct mc_error **err);
/* The number after "key " on a line of text ("oom_kill 3"); false when absent. */
bool eng_cg_keyed_value(const char *text, const char *key, uint64_t *ret);
/* SIGKILLs each pid listed in dir/cgroup.procs; returns how many were listed. */
int eng_cg_kill_procs(const char *dir);

#endif
