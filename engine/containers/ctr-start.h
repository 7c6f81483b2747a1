/* Everything one start of a container needs, prepared outside the registry lock. Internal to
 * engine/containers. */
#ifndef ENG_CTR_START_H
#define ENG_CTR_START_H

#include "ctr-internal.h"
#include "images.h"
#include "passwd.h"

struct ctr_launch {
    struct eng_rootfs rootfs;
    struct eng_exec_user user;
    struct eng_ctr_host_opts opts;
    struct eng_ctr_bind *binds;
    size_t nbinds;
    struct eng_rt_bind *rt_binds;
    size_t nrt_binds;
    char **etc_paths;
    char **argv;
    char **env;
    struct eng_rt_config rt;
};

/* Fills l for starting c: host options, root filesystem, user, binds, process. */
int ctr_launch_prepare(struct ctr_launch *l, const struct eng_ctr *c, struct mc_error **err);
void ctr_launch_clear(struct ctr_launch *l);

/* Resolves a User spec against the image files of r (passwd and group). */
int ctr_resolve_user(const struct eng_rootfs *r, const char *spec, struct eng_exec_user *ret,
                     struct mc_error **err);

/* Resolves a User spec against etc/passwd and etc/group under root (a running container's
 * /proc/PID/root), never leaving it. */
int ctr_resolve_user_in_root(const char *root, const char *spec, struct eng_exec_user *ret,
                             struct mc_error **err);

/* Writes <dir>/hostname, hosts and resolv.conf (the host's with host networking). */
int ctr_write_etc_files(const char *dir, const char *hostname, bool host_net,
                        struct mc_error **err);

#endif
