/* Container cgroups: v2 (unified) and v1 (including hybrid hosts, where memory, cpu and pids
 * are v1 controllers) for memory, cpu and pids limits, OOM detection, freezing and process
 * listing. One manager per daemon detects the layout once; each container gets one cgroup
 * named after it under a parent ("machined" by default) in every hierarchy used.
 *
 * The roots are configurable so tests can point the manager at a fake tree of plain folders:
 * values are written into files created as needed, exactly as into cgroupfs. */
#ifndef ENG_CGROUP_H
#define ENG_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

struct eng_cgroup_limits {
    int64_t memory;      /* bytes; 0: unlimited */
    int64_t memory_swap; /* Docker's MemorySwap: 0 twice memory, -1 unlimited, else memory+swap */
    int64_t nano_cpus;   /* 1e9 = one CPU; 0: none */
    int64_t cpu_quota;   /* CpuQuota in µs per period; 0: none (NanoCpus wins when set) */
    int64_t cpu_period;  /* CpuPeriod in µs; 0: 100000 */
    int64_t cpu_shares;  /* CpuShares (v1 shares, mapped to a v2 weight); 0: default */
    int64_t pids_limit;  /* PidsLimit; 0 or negative: unlimited */
};

struct eng_cgroup_options {
    const char *v2_root;   /* use this folder as a cgroup2 tree (tests), else detect */
    const char *v1_root;   /* use this folder's "memory", "cpu", "pids", "freezer" (tests) */
    const char *mountinfo; /* mountinfo text to detect from; NULL: /proc/self/mountinfo */
    const char *parent;    /* path under each hierarchy's root; NULL: "machined" */
};

struct eng_cgroup_manager;
struct eng_cgroup;

/* Detects the layout (v2 when the unified hierarchy has the memory controller, else v1) and
 * prepares the parent cgroups. Returns NULL with an error when neither is usable. */
struct eng_cgroup_manager *eng_cgroup_manager_new(const struct eng_cgroup_options *opts,
                                                  struct mc_error **err);
void eng_cgroup_manager_free(struct eng_cgroup_manager *m);
MC_DEFINE_CLEANUP(struct eng_cgroup_manager, eng_cgroup_manager_free)
/* Removes the manager's (empty) parent folders, e.g. after tests; -1 when one is in use. */
int eng_cgroup_manager_remove_parent(struct eng_cgroup_manager *m, struct mc_error **err);
/* 1 or 2. */
int eng_cgroup_manager_version(const struct eng_cgroup_manager *m);

/* Creates (or reuses) the cgroup of a container and writes its limits. */
struct eng_cgroup *eng_cgroup_create(struct eng_cgroup_manager *m, const char *name,
                                     const struct eng_cgroup_limits *limits, struct mc_error **err);
/* The cgroup of name without creating or writing anything (cleanup after a restart). */
struct eng_cgroup *eng_cgroup_open(struct eng_cgroup_manager *m, const char *name);
void eng_cgroup_free(struct eng_cgroup *cg);
MC_DEFINE_CLEANUP(struct eng_cgroup, eng_cgroup_free)

/* Moves pid into the cgroup (every hierarchy). */
int eng_cgroup_attach(struct eng_cgroup *cg, pid_t pid, struct mc_error **err);
/* Files a process writes "0" to, itself, to enter the cgroup (every hierarchy), opened into
 * fds (at most ENG_CGROUP_JOIN_MAX, O_CLOEXEC); returns how many, 0 when the cgroup version
 * has none (v2: eng_cgroup_attach moves it). On v1 moving a process by its pid takes the
 * kernel's global threadgroup lock for writing, which waits for an RCU grace period (5-20 ms
 * here, the longest step of a container's start); a single-threaded process moving itself
 * through `tasks` does not take it. */
#define ENG_CGROUP_JOIN_MAX 4
int eng_cgroup_join_fds(struct eng_cgroup *cg, int fds[ENG_CGROUP_JOIN_MAX], struct mc_error **err);
/* v2: the cgroup's folder opened for clone3's CLONE_INTO_CGROUP (the child starts in it,
 * without the global lock cgroup.procs takes); -1 on v1 or when it cannot be opened. */
int eng_cgroup_clone_fd(struct eng_cgroup *cg);
/* Freezes or thaws every process of the cgroup and waits until the kernel says it is done. */
int eng_cgroup_freeze(struct eng_cgroup *cg, bool frozen, struct mc_error **err);
/* How many processes the kernel OOM-killed in the cgroup so far. */
int eng_cgroup_oom_kills(struct eng_cgroup *cg, uint64_t *ret, struct mc_error **err);
/* The pids in the cgroup (host pid namespace), newly allocated. */
int eng_cgroup_pids(struct eng_cgroup *cg, pid_t **ret, size_t *ret_n, struct mc_error **err);
/* SIGKILLs every process left, then removes the cgroup folders; missing folders are fine. */
int eng_cgroup_destroy(struct eng_cgroup *cg, struct mc_error **err);
/* The cgroup's folder in the memory hierarchy (for tests and diagnostics); borrowed. */
const char *eng_cgroup_path(const struct eng_cgroup *cg);

/* What a container sees at /sys/fs/cgroup, in Docker's layout (cgroup-mount.c). v2: a cgroup
 * namespace of its own, rooted at its cgroup, and cgroup2 mounted there, so memory.max and
 * pids.max at the top are the container's. v1 (hybrid hosts too): a tmpfs holding, for each
 * hierarchy the container has a cgroup in, a bind of that cgroup's folder named after the
 * hierarchy's mount ("memory", "cpu,cpuacct"), and links for co-mounted controllers
 * ("cpu" -> "cpu,cpuacct"); the container stays in the host's cgroup namespace (Docker's
 * default on v1). Everything read-only unless the container is privileged. */
#define ENG_CGROUP_MOUNT_MAX_BINDS 4

struct eng_cgroup_mount_bind {
    char *source; /* the container's folder in one v1 hierarchy, a host path */
    char *name;   /* its folder under /sys/fs/cgroup */
};

struct eng_cgroup_mount_link {
    char *name;   /* "cpu" */
    char *target; /* "cpu,cpuacct" (relative, beside it) */
};

struct eng_cgroup_mounts {
    int version; /* 1 or 2 */
    bool readonly;
    struct eng_cgroup_mount_bind binds[ENG_CGROUP_MOUNT_MAX_BINDS]; /* v1 */
    size_t nbinds;
    struct eng_cgroup_mount_link *links; /* v1 */
    size_t nlinks;
};

/* Fills ret with the mounts that show cg inside its container; writable for privileged
 * containers. Pure: reads nothing, so it works on fake trees. Clear ret with
 * eng_cgroup_mounts_clear. */
void eng_cgroup_mount_plan(const struct eng_cgroup *cg, bool writable,
                           struct eng_cgroup_mounts *ret);
void eng_cgroup_mounts_clear(struct eng_cgroup_mounts *p);

/* Pure conversions, shared by both versions and unit-tested. */
/* v1 cpu.shares (2..262144) to a v2 cpu.weight (1..10000), as runc does; 0 stays 0. */
uint64_t eng_cgroup_shares_to_weight(uint64_t shares);
/* The CFS quota and period for the limits; false when no cpu bandwidth limit is set. */
bool eng_cgroup_cpu_max(const struct eng_cgroup_limits *l, int64_t *quota, int64_t *period);
/* v1 memory.memsw.limit_in_bytes for the limits: -1 unlimited, 0 not to be written. */
int64_t eng_cgroup_memsw(const struct eng_cgroup_limits *l);

#endif
