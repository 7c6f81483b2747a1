/* Starting a container: its root filesystem (overlay options mounted by the child inside its
 * own mount namespace, or the copy), its user from the image's passwd/group, its cgroup, and
 * the runtime configuration, then eng_rt_start(). */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "ctr-start.h"
#include "fs.h"
#include "images.h"
#include "json.h"
#include "log.h"
#include "passwd.h"
#include "rt-seccomp.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

/* Reads rel inside root without following links out of it; NULL when absent, a whiteout, or
 * unreadable. *ret_whiteout tells an overlay whiteout (the file is deleted in this layer). */
static char *
read_in_root(const char *root, const char *rel, bool *ret_whiteout)
{
    *ret_whiteout = false;
    _cleanup_close_ int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return NULL;
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    _cleanup_close_ int fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0)
        return NULL;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        *ret_whiteout = true;
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (1 << 20))
        return NULL;
    char *buf = xmalloc((size_t)st.st_size + 1);
    ssize_t n = read(fd, buf, (size_t)st.st_size);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

/* The value of key= in overlay options ("lowerdir=a:b,upperdir=c,..."), newly allocated. */
static char *
overlay_option(const char *options, const char *key)
{
    _cleanup_strv_ char **parts = strv_split(options, ",");
    STRV_FOREACH (p, parts) {
        const char *v = startswith(*p, key);
        if (v && *v == '=')
            return xstrdup(v + 1);
    }
    return NULL;
}

/* A file of the image as the container will see it: the copy's root, or the overlay's upper
 * layer then its lower layers from the top. */
static char *
read_image_file(const struct eng_rootfs *r, const char *rel)
{
    bool whiteout;
    if (!r->overlay)
        return read_in_root(r->path, rel, &whiteout);
    _cleanup_free_ char *upper = overlay_option(r->options, "upperdir");
    _cleanup_free_ char *lower = overlay_option(r->options, "lowerdir");
    _cleanup_strv_ char **layers = strv_split(lower ? lower : "", ":");
    if (upper) {
        char *data = read_in_root(upper, rel, &whiteout);
        if (data || whiteout)
            return data;
    }
    STRV_FOREACH (l, layers) {
        char *data = read_in_root(*l, rel, &whiteout);
        if (data || whiteout)
            return data;
    }
    return NULL;
}

int
ctr_resolve_user(const struct eng_rootfs *r, const char *spec, struct eng_exec_user *ret,
                 struct mc_error **err)
{
    _cleanup_free_ char *passwd = read_image_file(r, "etc/passwd");
    _cleanup_free_ char *group = read_image_file(r, "etc/group");
    if (eng_exec_user_resolve(spec, passwd, group, ret, err) < 0)
        return -1;
    return 0;
}

int
ctr_resolve_user_in_root(const char *root, const char *spec, struct eng_exec_user *ret,
                         struct mc_error **err)
{
    bool whiteout;
    _cleanup_free_ char *passwd = read_in_root(root, "etc/passwd", &whiteout);
    _cleanup_free_ char *group = read_in_root(root, "etc/group", &whiteout);
    return eng_exec_user_resolve(spec, passwd, group, ret, err);
}

/* ---- the files dockerd bind-mounts into /etc ---- */

static const char hosts_text[] = "127.0.0.1\tlocalhost\n"
                                 "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "fe00::0\tip6-localnet\n"
                                 "ff00::0\tip6-mcastprefix\n"
                                 "ff02::1\tip6-allnodes\n"
                                 "ff02::2\tip6-allrouters\n";

static int
write_small(const char *dir, const char *name, const char *text, struct mc_error **err)
{
    _cleanup_free_ char *path = mc_path_join(dir, name);
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t n = strlen(text);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n)
        return mc_error_sys(err, errno, "cannot write '%s'", path);
    return 0;
}

int
ctr_write_etc_files(const char *dir, const char *hostname, bool host_net, struct mc_error **err)
{
    _cleanup_free_ char *hosts = NULL, *resolv = NULL;
    if (host_net)
        mc_read_file("/etc/hosts", 1 << 20, &hosts, NULL, NULL);
    mc_read_file("/etc/resolv.conf", 1 << 20, &resolv, NULL, NULL);
    _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
    if (write_small(dir, "hostname", hn, err) < 0 ||
        write_small(dir, "hosts", hosts ? hosts : hosts_text, err) < 0 ||
        write_small(dir, "resolv.conf", resolv ? resolv : "", err) < 0)
        return -1;
    return 0;
}

/* ---- the runtime configuration ---- */

void
ctr_launch_clear(struct ctr_launch *l)
{
    eng_rootfs_clear(&l->rootfs);
    eng_exec_user_clear(&l->user);
    eng_ctr_host_opts_clear(&l->opts);
    eng_ctr_binds_free(l->binds, l->nbinds);
    free(l->rt_binds);
    strv_free(l->argv);
    strv_free(l->env);
    strv_free(l->etc_paths);
    memset(l, 0, sizeof(*l));
}

static void
add_etc_binds(struct ctr_launch *l, const char *dir)
{
    static const char *const files[] = { "hostname", "hosts", "resolv.conf" };
    for (size_t i = 0; i < ELEMENTSOF(files); i++) {
        strv_push(&l->etc_paths, mc_path_join(dir, files[i]));
        l->rt_binds[l->nrt_binds++] = (struct eng_rt_bind){
            l->etc_paths[i],
            i == 0   ? "/etc/hostname"
            : i == 1 ? "/etc/hosts"
                     : "/etc/resolv.conf",
            false,
        };
    }
}

static int
build_binds(struct ctr_launch *l, const struct eng_ctr *c, struct mc_error **err)
{
    if (eng_ctr_binds_parse(json_object_get(c->host_config, "Binds"), &l->binds, &l->nbinds, err) <
        0)
        return -1;
    l->rt_binds = xcalloc(l->nbinds + 4, sizeof(*l->rt_binds));
    l->etc_paths = strv_new();
    add_etc_binds(l, c->dir);
    for (size_t i = 0; i < l->nbinds; i++) {
        if (!mc_path_exists(l->binds[i].source) && mc_mkdir_p(l->binds[i].source, 0755, err) < 0)
            return mc_error_prefix(err, "bind source: ");
        l->rt_binds[l->nrt_binds++] =
                (struct eng_rt_bind){ l->binds[i].source, l->binds[i].destination,
                                      l->binds[i].readonly };
    }
    return 0;
}

static void
build_proc(struct ctr_launch *l, const struct eng_ctr *c)
{
    const json_t *hc = c->host_config;
    const json_t *cs = json_object_get(hc, "ConsoleSize");
    struct eng_rt_proc_config *p = &l->rt.proc;
    l->argv = strv_new();
    strv_add(&l->argv, c->path);
    STRV_FOREACH (a, c->args)
        strv_add(&l->argv, *a);
    l->env = eng_ctr_process_env(json_object_get(c->config, "Env"),
                                 mc_json_str(c->config, "Hostname"), c->tty, l->user.home);
    p->argv = l->argv;
    p->env = l->env;
    p->cwd = mc_json_str(c->config, "WorkingDir");
    p->uid = l->user.uid;
    p->gid = l->user.gid;
    p->groups = l->user.groups;
    p->ngroups = l->user.ngroups;
    p->caps = l->opts.caps;
    p->no_new_privs = l->opts.no_new_privs;
    p->rlimits = l->opts.rlimits;
    p->nrlimits = l->opts.nrlimits;
    p->tty = c->tty;
    p->rows = (unsigned short)json_integer_value(json_array_get(cs, 0));
    p->cols = (unsigned short)json_integer_value(json_array_get(cs, 1));
    p->open_stdin = mc_json_bool(c->config, "OpenStdin", false);
}

int
ctr_launch_prepare(struct ctr_launch *l, const struct eng_ctr *c, struct mc_error **err)
{
    memset(l, 0, sizeof(*l));
    if (eng_ctr_host_opts_parse(c->host_config, &l->opts, err) < 0 ||
        eng_rootfs_prepare(c->image_id, c->dir, 0, &l->rootfs, err) < 0 ||
        ctr_resolve_user(&l->rootfs, mc_json_str(c->config, "User"), &l->user, err) < 0 ||
        build_binds(l, c, err) < 0)
        return -1;
    build_proc(l, c);
    if (!l->opts.seccomp_unconfined &&
        !(l->rt.proc.seccomp = eng_seccomp_default(l->opts.caps, err)))
        return -1;
    l->rt.rootfs = l->rootfs.path;
    l->rt.overlay_data = l->rootfs.overlay ? l->rootfs.options : NULL;
    /* A container removed at its exit has no writable layer worth a sync. */
    l->rt.overlay_volatile = l->opts.auto_remove;
    l->rt.readonly_rootfs = l->opts.readonly_rootfs;
    l->rt.hostname = mc_json_str(c->config, "Hostname");
    l->rt.net = l->opts.net;
    l->rt.privileged = l->opts.privileged;
    l->rt.binds = l->rt_binds;
    l->rt.nbinds = l->nrt_binds;
    return 0;
}
