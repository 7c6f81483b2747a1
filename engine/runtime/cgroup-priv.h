/* Pure layout detection behind eng_cgroup_manager_new(), exposed for unit tests. */
#ifndef ENG_CGROUP_PRIV_H
#define ENG_CGROUP_PRIV_H

#include <stdbool.h>

#include "cgroup-internal.h"
#include "mountinfo.h"

struct eng_cgroup_layout {
    char *unified;         /* the cgroup2 mount point, or NULL */
    char *v1[ENG_CG__MAX]; /* each v1 controller's mount point, or NULL */
};

/* Finds the cgroup2 mount and the v1 mounts of memory, cpu, pids and freezer. */
void eng_cgroup_layout_from_mounts(const struct eng_mountinfo *mi, struct eng_cgroup_layout *ret);
void eng_cgroup_layout_clear(struct eng_cgroup_layout *l);
/* 2 when the unified hierarchy offers memory (its cgroup.controllers text) and v1 does not
 * hold it; 1 when v1 holds memory; 0 when neither can limit memory. */
int eng_cgroup_choose_version(const struct eng_cgroup_layout *l, const char *unified_controllers);

#endif
