/* Container root filesystems: overlayfs over the image's layers, or a private copy. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "crypto.h"
#include "fs.h"
#include "images-internal.h"
#include "log.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define OVERLAYFS_MAGIC 0x794c7630
#define READY_MARK      ".rootfs-ready"

bool
img_probe_overlay(const char *root)
{
    if (geteuid() != 0)
        return false;
    _cleanup_free_ char *rnd = mc_random_hex(6);
    _cleanup_free_ char *dir = xasprintf("%s/tmp/probe-%s", root, rnd);
    static const char *const subs[] = { "lower", "upper", "work", "merged" };
    for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
        _cleanup_free_ char *d = xasprintf("%s/%s", dir, subs[i]);
        if (mc_mkdir_p(d, 0755, NULL) < 0)
            return false;
    }
    _cleanup_free_ char *opts =
            xasprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", dir, dir, dir);
    _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
    bool ok = mount("overlay", merged, "overlay", 0, opts) == 0;
    int e = errno;
    if (ok)
        umount2(merged, MNT_DETACH);
    else
        log_warn("overlayfs cannot be mounted in '%s' (%s): containers get copies of their "
                 "images instead",
                 root, strerror(e));
    mc_rm_rf(dir, NULL);
    return ok;
}

void
eng_rootfs_clear(struct eng_rootfs *r)
{
    free(r->path);
    free(r->options);
    free(r->upperdir);
    memset(r, 0, sizeof(*r));
}

static bool
is_overlay_mount(const char *path)
{
    struct statfs sf;
    struct stat here, parent;
    _cleanup_free_ char *up = xasprintf("%s/..", path);
    return statfs(path, &sf) == 0 && sf.f_type == OVERLAYFS_MAGIC && stat(path, &here) == 0 &&
           stat(up, &parent) == 0 && here.st_dev != parent.st_dev;
}

int
eng_rootfs_mount(const struct eng_rootfs *r, const char *target, struct mc_error **err)
{
    if (!r->overlay)
        return 0;
    const char *t = isempty(target) ? r->path : target;
    if (is_overlay_mount(t))
        return 0;
    if (mount("overlay", t, "overlay", 0, r->options) < 0)
        return mc_error_sys(err, errno, "Cannot mount the container's overlay at '%s'", t);
    return 0;
}

/* The init layer: one directory shared by every container, the top of each overlay's lower
 * layers. It holds the points the runtime mounts onto (/proc, /sys, /dev and the three files
 * bound into /etc), so that making them costs a container nothing: without it each start made
 * them in its upper layer, and a file of the image opened for writing there (Debian's
 * /etc/hosts) was first copied up; six to ten metadata writes to the disk per start, and as
 * many removals. dockerd's init layer has the same role (one per container there). */
#define INIT_LAYER "init"

static const struct {
    const char *path;
    mode_t mode; /* S_IFDIR or S_IFREG with the permissions */
} init_entries[] = {
    { "proc", S_IFDIR | 0555 },
    { "sys", S_IFDIR | 0555 },
    { "dev", S_IFDIR | 0755 },
    { "etc", S_IFDIR | 0755 },
    { "etc/hostname", S_IFREG | 0644 },
    { "etc/hosts", S_IFREG | 0644 },
    { "etc/resolv.conf", S_IFREG | 0644 },
};

static bool
init_layer_whole(const char *dir)
{
    for (size_t i = 0; i < ELEMENTSOF(init_entries); i++) {
        _cleanup_free_ char *p = mc_path_join(dir, init_entries[i].path);
        struct stat s;
        if (lstat(p, &s) < 0 || (s.st_mode & (S_IFMT | 07777)) != init_entries[i].mode)
            return false;
    }
    return true;
}

int
img_init_layer_ensure(const char *root, struct mc_error **err)
{
    _cleanup_free_ char *dir = mc_path_join(root, INIT_LAYER);
    if (init_layer_whole(dir))
        return 0;
    _cleanup_free_ char *rnd = mc_random_hex(6);
    _cleanup_free_ char *tmp = xasprintf("%s/tmp/init-%s", root, rnd);
    if (mkdir(tmp, 0755) < 0)
        return mc_error_sys(err, errno, "Cannot create '%s'", tmp);
    for (size_t i = 0; i < ELEMENTSOF(init_entries); i++) {
        _cleanup_free_ char *p = mc_path_join(tmp, init_entries[i].path);
        mode_t perm = init_entries[i].mode & 07777;
        int r;
        if (S_ISDIR(init_entries[i].mode)) {
            r = mkdir(p, perm);
        } else {
            int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, perm);
            r = fd < 0 ? -1 : close(fd);
        }
        if (r < 0 || chmod(p, perm) < 0) { /* chmod: not the umask's */
            int e = errno;
            mc_rm_rf(tmp, NULL);
            return mc_error_sys(err, e, "Cannot create '%s'", p);
        }
    }
    mc_rm_rf(dir, NULL);
    if (rename(tmp, dir) < 0) {
        int e = errno;
        mc_rm_rf(tmp, NULL);
        return mc_error_sys(err, e, "Cannot create the init layer '%s'", dir);
    }
    return 0;
}

static int
prepare_overlay(const struct img_info *info, const char *dir, struct eng_rootfs *out,
                struct mc_error **err)
{
    _cleanup_free_ char *lower = img_lowerdirs(info, err);
    if (!lower)
        return -1;
    _cleanup_free_ char *upper = xasprintf("%s/upper", dir);
    _cleanup_free_ char *work = xasprintf("%s/work", dir);
    _cleanup_free_ char *merged = xasprintf("%s/merged", dir);
    if (mc_mkdir_p(upper, 0755, err) < 0 || mc_mkdir_p(work, 0700, err) < 0 ||
        mc_mkdir_p(merged, 0755, err) < 0)
        return -1;
    /* the init layer on top of the image's (alone for an image without layers) */
    char *opts = xasprintf("lowerdir=%s/" INIT_LAYER "%s%s,upperdir=%s,workdir=%s",
                           img_store_root(), *lower ? ":" : "", lower, upper, work);
    if (strlen(opts) >= 4000) {
        free(opts);
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The image %.19s has too many layers (%zu) for one overlay mount.",
                            info->id, strv_length(info->layers));
    }
    *out = (struct eng_rootfs){
        .overlay = true, .path = TAKE_PTR(merged), .options = opts, .upperdir = TAKE_PTR(upper)
    };
    return 0;
}

static int
prepare_copy(const struct img_info *info, const char *dir, struct eng_rootfs *out,
             struct mc_error **err)
{
    _cleanup_free_ char *rootfs = xasprintf("%s/rootfs", dir);
    _cleanup_free_ char *mark = xasprintf("%s/" READY_MARK, dir);
    if (!mc_path_exists(mark)) {
        if (mc_rm_rf(rootfs, err) < 0 || mc_mkdir_p(rootfs, 0755, err) < 0)
            return -1;
        if (img_extract_layers(info->layers, rootfs, err) < 0)
            return mc_error_prefix(err, "Cannot copy the image %.19s: ", info->id);
        if (mc_write_file_atomic(mark, info->id, strlen(info->id), 0600, err) < 0)
            return -1;
    }
    *out = (struct eng_rootfs){ .overlay = false, .path = TAKE_PTR(rootfs) };
    return 0;
}

int
eng_rootfs_prepare(const char *image_id, const char *container_dir, unsigned flags,
                   struct eng_rootfs *ret, struct mc_error **err)
{
    struct img_info info;
    if (img_get(image_id, &info, err) < 0)
        return -1;
    struct eng_rootfs r = { 0 };
    int rc = img_overlay() ? prepare_overlay(&info, container_dir, &r, err)
                           : prepare_copy(&info, container_dir, &r, err);
    img_info_clear(&info);
    if (rc < 0)
        return -1;
    if ((flags & ENG_ROOTFS_MOUNT) && eng_rootfs_mount(&r, NULL, err) < 0) {
        eng_rootfs_clear(&r);
        return -1;
    }
    *ret = r;
    return 0;
}

int
eng_rootfs_release(const char *container_dir, struct mc_error **err)
{
    _cleanup_free_ char *merged = xasprintf("%s/merged", container_dir);
    if (umount2(merged, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return mc_error_sys(err, errno, "Cannot unmount '%s'", merged);
    static const char *const subs[] = { "merged", "upper", "work", "rootfs", "empty", READY_MARK };
    for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", container_dir, subs[i]);
        if (mc_rm_rf(p, err) < 0)
            return -1;
    }
    return 0;
}
