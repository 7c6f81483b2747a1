/* Pure parsers for /proc/<pid>/mountinfo and /proc/<pid>/cgroup: bytes in, structs out. */
#ifndef ENG_MOUNTINFO_H
#define ENG_MOUNTINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct eng_mount_entry {
    int id;
    int parent_id;
    unsigned int major;
    unsigned int minor;
    char *root;        /* the root of the mount inside its filesystem (unescaped) */
    char *mount_point; /* where it is mounted (unescaped) */
    char *options;     /* per-mount options ("rw,relatime") */
    char *fstype;      /* "cgroup2", "cgroup", "overlay", ... */
    char *source;      /* the mount source, or "" */
    char *super_options;
};

struct eng_mountinfo {
    struct eng_mount_entry *entries;
    size_t n;
};

/* Parses the text of a mountinfo file. Fills *ret (freed with eng_mountinfo_free) or returns -1
 * with MC_ERR_INVALID naming the line. */
int eng_mountinfo_parse(const char *text, struct eng_mountinfo *ret, struct mc_error **err);
void eng_mountinfo_free(struct eng_mountinfo *mi);

/* True when the comma-separated option list opts holds opt exactly. */
_pure_ bool eng_option_has(const char *opts, const char *opt);

struct eng_proc_cgroup {
    int hierarchy;      /* 0 for the unified (v2) hierarchy */
    char **controllers; /* v1 controllers ("cpu", "cpuacct", "name=systemd"); empty for v2 */
    char *path;         /* the cgroup path inside the hierarchy, starting with '/' */
};

struct eng_proc_cgroups {
    struct eng_proc_cgroup *entries;
    size_t n;
};

/* Parses the text of /proc/<pid>/cgroup ("ID:CONTROLLERS:PATH" lines). */
int eng_proc_cgroup_parse(const char *text, struct eng_proc_cgroups *ret, struct mc_error **err);
void eng_proc_cgroups_free(struct eng_proc_cgroups *c);
/* The path of the v1 hierarchy holding controller, or of the v2 one when controller is NULL;
 * NULL when absent. Borrowed from c. */
const char *eng_proc_cgroup_path(const struct eng_proc_cgroups *c, const char *controller);

#endif
