/* Safe tar extraction: see layer-extract.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs.h"
#include "layer-extract.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define MAX_DEPTH 256

char *
eng_tar_clean_path(const char *name, struct mc_error **err)
{
    if (name[0] == '/') {
        mc_error_set(err, MC_ERR_INVALID,
                     "The archive entry '%s' is an absolute path, which is not allowed.", name);
        return NULL;
    }
    struct mc_buf out = MC_BUF_INIT;
    const char *p = name;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            mc_buf_free(&out);
            mc_error_set(err, MC_ERR_INVALID,
                         "The archive entry '%s' contains '..', which is not allowed.", name);
            return NULL;
        }
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (out.len)
                mc_buf_putc(&out, '/');
            mc_buf_append(&out, p, n);
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return out.data ? mc_buf_steal(&out) : xstrdup("");
}

static int
escape_error(struct mc_error **err, const char *entry)
{
    return mc_error_set(err, MC_ERR_INVALID,
                        "The archive entry '%s' leads outside the target directory through a "
                        "symbolic link, which is not allowed.",
                        entry);
}

static bool openat2_missing;

static int
sys_openat2(int dirfd, const char *path, int flags)
{
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
                            .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Walks rel one component at a time, refusing symbolic links (kernels without openat2). */
static int
walk_nofollow(int dirfd, const char *rel, int flags, bool create, const char *entry,
              struct mc_error **err)
{
    _cleanup_strv_ char **parts = strv_split(rel, "/");
    int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
    size_t n = strv_length(parts);
    for (size_t i = 0; i < n && fd >= 0; i++) {
        bool last = i + 1 == n;
        int f = last ? flags : O_RDONLY | O_DIRECTORY;
        int nfd = openat(fd, parts[i], f | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, parts[i], 0755) < 0 && errno != EEXIST) {
                int e = errno;
                close(fd);
                return mc_error_sys(err, e, "Cannot create a directory for '%s'", entry);
            }
            nfd = openat(fd, parts[i], f | O_NOFOLLOW | O_CLOEXEC);
        }
        int e = errno;
        struct stat st;
        bool is_link = nfd < 0 && (e == ELOOP || e == ENOTDIR) &&
                       fstatat(fd, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        close(fd);
        if (is_link)
            return mc_error_set(err, MC_ERR_INVALID,
                                "The archive entry '%s' passes through the symbolic link '%s', "
                                "which the O_NOFOLLOW walk (no openat2) does not allow.",
                                entry, parts[i]);
        if (nfd < 0)
            return mc_error_sys(err, e, "Cannot open '%s' for '%s'", parts[i], entry);
        fd = nfd;
    }
    return fd;
}

/* Opens rel beneath dirfd; with create, missing directories on the way are made. */
static int
open_beneath(int dirfd, const char *rel, int flags, bool create, bool no_openat2, const char *entry,
             struct mc_error **err)
{
    if (!*rel)
        return openat(dirfd, ".", flags | O_CLOEXEC);
    if (no_openat2 || openat2_missing)
        return walk_nofollow(dirfd, rel, flags, create, entry, err);
    int fd = sys_openat2(dirfd, rel, flags);
    if (fd >= 0)
        return fd;
    if (errno == ENOSYS || errno == E2BIG) {
        openat2_missing = true;
        return walk_nofollow(dirfd, rel, flags, create, entry, err);
    }
    if (errno == EXDEV || errno == ELOOP)
        return escape_error(err, entry);
    if (errno != ENOENT || !create)
        return mc_error_sys(err, errno, "Cannot open '%s' for '%s'", rel, entry);
    /* Create what is missing, resolving each prefix beneath the target. */
    _cleanup_free_ char *prefix = xstrdup(rel);
    for (char *slash = prefix;; slash++) {
        slash = strchr(slash, '/');
        if (slash)
            *slash = '\0';
        int pfd = sys_openat2(dirfd, prefix, O_RDONLY | O_DIRECTORY);
        if (pfd < 0 && errno == ENOENT) {
            char *base = strrchr(prefix, '/');
            _cleanup_close_ int parent = -1;
            if (base) {
                *base = '\0';
                parent = sys_openat2(dirfd, prefix, O_RDONLY | O_DIRECTORY);
                *base = '/';
            } else {
                parent = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            }
            if (parent < 0 ||
                (mkdirat(parent, base ? base + 1 : prefix, 0755) < 0 && errno != EEXIST))
                return mc_error_sys(err, errno, "Cannot create '%s' for '%s'", prefix, entry);
            pfd = sys_openat2(dirfd, prefix, O_RDONLY | O_DIRECTORY);
        }
        if (pfd < 0)
            return errno == EXDEV || errno == ELOOP
                           ? escape_error(err, entry)
                           : mc_error_sys(err, errno, "Cannot open '%s' for '%s'", prefix, entry);
        close(pfd);
        if (!slash)
            break;
        *slash = '/';
    }
    fd = sys_openat2(dirfd, rel, flags);
    if (fd < 0)
        return errno == EXDEV || errno == ELOOP
                       ? escape_error(err, entry)
                       : mc_error_sys(err, errno, "Cannot open '%s' for '%s'", rel, entry);
    return fd;
}

int
eng_open_beneath(int dirfd, const char *rel, int flags, struct mc_error **err)
{
    return open_beneath(dirfd, rel, flags, false, false, rel, err);
}

static int rm_children(int fd, int depth, struct mc_error **err);

static int
rm_rf_depth(int dirfd, const char *name, int depth, struct mc_error **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : mc_error_sys(err, errno, "Cannot inspect '%s'", name);
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
            return mc_error_sys(err, errno, "Cannot remove '%s'", name);
        return 0;
    }
    if (depth > MAX_DEPTH * 4)
        return mc_error_set(err, MC_ERR_INVALID, "The directory '%s' is nested too deeply.", name);
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot open '%s'", name);
    int r = rm_children(fd, depth, err);
    close(fd);
    if (r < 0)
        return -1;
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return mc_error_sys(err, errno, "Cannot remove '%s'", name);
    return 0;
}

/* Removes everything inside the directory fd (fd stays open). */
static int
rm_children(int fd, int depth, struct mc_error **err)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return mc_error_sys(err, errno, "Cannot list a directory");
    }
    int r = 0;
    struct dirent *de;
    while (r == 0 && (de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        r = rm_rf_depth(fd, de->d_name, depth + 1, err);
    }
    closedir(d);
    return r;
}

int
eng_rm_rf_at(int dirfd, const char *name, struct mc_error **err)
{
    return rm_rf_depth(dirfd, name, 0, err);
}

/* ---- a small set of the paths this extraction created (for opaque whiteouts) ---- */

struct path_set {
    char **slots;
    size_t cap, n;
};

static uint64_t
fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void path_set_add(struct path_set *s, const char *p);

static void
path_set_grow(struct path_set *s)
{
    struct path_set bigger = { .cap = s->cap ? s->cap * 2 : 256 };
    bigger.slots = xcalloc(bigger.cap, sizeof(char *));
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i]) {
            path_set_add(&bigger, s->slots[i]);
            free(s->slots[i]);
        }
    free(s->slots);
    *s = bigger;
}

static void
path_set_add(struct path_set *s, const char *p)
{
    if ((s->n + 1) * 2 > s->cap)
        path_set_grow(s);
    size_t i = fnv1a(p) & (s->cap - 1);
    while (s->slots[i]) {
        if (streq(s->slots[i], p))
            return;
        i = (i + 1) & (s->cap - 1);
    }
    s->slots[i] = xstrdup(p);
    s->n++;
}

static bool
path_set_has(const struct path_set *s, const char *p)
{
    if (!s->cap)
        return false;
    size_t i = fnv1a(p) & (s->cap - 1);
    while (s->slots[i]) {
        if (streq(s->slots[i], p))
            return true;
        i = (i + 1) & (s->cap - 1);
    }
    return false;
}

static void
path_set_free(struct path_set *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slots[i]);
    free(s->slots);
    memset(s, 0, sizeof(*s));
}

/* ---- extraction ---- */

struct dir_time {
    char *path;
    int64_t mtime;
};

struct extract {
    int root;
    struct mc_tar_reader *r;
    const struct eng_extract_opts *o;
    struct eng_extract_stats stats;
    struct path_set created;
    struct dir_time *dirs;
    size_t n_dirs;
    const struct mc_tar_entry *e; /* the entry being extracted */
    char *path;                   /* its cleaned path */
};

/* Makes room for a new entry called base in parent: removes what is there unless it is a
 * directory and a directory is wanted. Returns 1 when that directory is kept. */
static int
clear_slot(int parent, const char *base, bool want_dir, struct mc_error **err)
{
    struct stat st;
    if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : mc_error_sys(err, errno, "Cannot inspect '%s'", base);
    if (want_dir && S_ISDIR(st.st_mode))
        return 1;
    return eng_rm_rf_at(parent, base, err);
}

static void
set_xattrs(struct extract *x, int fd)
{
    if (!x->o->xattrs)
        return;
    for (size_t i = 0; i < x->e->n_xattrs; i++) {
        const struct mc_tar_xattr *a = &x->e->xattrs[i];
        /* trusted.* (overlayfs' own attributes among them) never comes from an archive. */
        if (!startswith(a->name, "user.") && !streq(a->name, "security.capability"))
            continue;
        fsetxattr(fd, a->name, a->value, a->len, 0);
    }
}

/* Owner, mode, xattrs and time of an open file or directory. */
static int
finish_fd(struct extract *x, int fd, bool is_dir, struct mc_error **err)
{
    const struct mc_tar_entry *e = x->e;
    if (x->o->same_owner && fchown(fd, (uid_t)e->uid, (gid_t)e->gid) < 0)
        return mc_error_sys(err, errno, "Cannot set the owner of '%s'", e->name);
    if (fchmod(fd, e->mode & 07777) < 0)
        return mc_error_sys(err, errno, "Cannot set the mode of '%s'", e->name);
    set_xattrs(x, fd);
    if (!is_dir) {
        struct timespec ts[2] = { { .tv_sec = e->mtime }, { .tv_sec = e->mtime } };
        futimens(fd, ts);
    }
    return 0;
}

static int
extract_file(struct extract *x, int parent, const char *base, struct mc_error **err)
{
    if (clear_slot(parent, base, false, err) < 0)
        return -1;
    _cleanup_close_ int fd =
            openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot create '%s'", x->e->name);
    char buf[65536];
    for (;;) {
        ssize_t n = mc_tar_reader_data(x->r, buf, sizeof(buf), err);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (mc_write_all(fd, buf, (size_t)n) < 0)
            return mc_error_sys(err, errno, "Cannot write '%s'", x->e->name);
        x->stats.bytes += (uint64_t)n;
    }
    return finish_fd(x, fd, false, err);
}

static int
extract_dir(struct extract *x, int parent, const char *base, struct mc_error **err)
{
    int kept = clear_slot(parent, base, true, err);
    if (kept < 0)
        return -1;
    if (!kept && mkdirat(parent, base, 0700) < 0)
        return mc_error_sys(err, errno, "Cannot create the directory '%s'", x->e->name);
    _cleanup_close_ int fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot open the directory '%s'", x->e->name);
    if (finish_fd(x, fd, true, err) < 0)
        return -1;
    x->dirs = xreallocarray(x->dirs, x->n_dirs + 1, sizeof(*x->dirs));
    x->dirs[x->n_dirs++] = (struct dir_time){ xstrdup(x->path), x->e->mtime };
    return 0;
}

static void
finish_link(struct extract *x, int parent, const char *base)
{
    const struct mc_tar_entry *e = x->e;
    if (x->o->same_owner)
        fchownat(parent, base, (uid_t)e->uid, (gid_t)e->gid, AT_SYMLINK_NOFOLLOW);
    struct timespec ts[2] = { { .tv_sec = e->mtime }, { .tv_sec = e->mtime } };
    utimensat(parent, base, ts, AT_SYMLINK_NOFOLLOW);
}

static int
extract_symlink(struct extract *x, int parent, const char *base, struct mc_error **err)
{
    if (clear_slot(parent, base, false, err) < 0)
        return -1;
    if (symlinkat(x->e->linkname, parent, base) < 0)
        return mc_error_sys(err, errno, "Cannot create the symbolic link '%s'", x->e->name);
    finish_link(x, parent, base);
    return 0;
}

/* Splits a cleaned path into its parent ("" at the top) and base name (in place). */
static const char *
split_base(char *path)
{
    char *slash = strrchr(path, '/');
    if (!slash) {
        memmove(path + 1, path, strlen(path) + 1);
        path[0] = '\0';
        return path + 1;
    }
    *slash = '\0';
    return slash + 1;
}

static int
extract_hardlink(struct extract *x, int parent, const char *base, struct mc_error **err)
{
    struct mc_error *e2 = NULL;
    _cleanup_free_ char *target = eng_tar_clean_path(x->e->linkname, &e2);
    if (!target || !*target) {
        mc_error_free(e2);
        return mc_error_set(err, MC_ERR_INVALID,
                            "The hard link '%s' points to '%s', outside the target directory, "
                            "which is not allowed.",
                            x->e->name, x->e->linkname);
    }
    _cleanup_free_ char *buf = xmalloc(strlen(target) + 2);
    memcpy(buf, target, strlen(target) + 1);
    const char *tbase = split_base(buf);
    _cleanup_close_ int tparent = open_beneath(x->root, buf, O_RDONLY | O_DIRECTORY, false,
                                               x->o->no_openat2, x->e->name, err);
    if (tparent < 0)
        return -1;
    struct stat st;
    if (fstatat(tparent, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return mc_error_sys(err, errno, "The hard link '%s' points to '%s', which is missing",
                            x->e->name, x->e->linkname);
    if (S_ISDIR(st.st_mode))
        return mc_error_set(err, MC_ERR_INVALID, "The hard link '%s' points to the directory '%s'.",
                            x->e->name, x->e->linkname);
    if (streq(target, x->path)) /* a link to itself: nothing to do */
        return 0;
    if (clear_slot(parent, base, false, err) < 0)
        return -1;
    if (linkat(tparent, tbase, parent, base, 0) < 0)
        return mc_error_sys(err, errno, "Cannot create the hard link '%s'", x->e->name);
    return 0;
}

static int
extract_node(struct extract *x, int parent, const char *base, struct mc_error **err)
{
    const struct mc_tar_entry *e = x->e;
    bool fifo = e->type == MC_TAR_FIFO;
    if ((!fifo && !x->o->devices) || x->o->only_files) {
        x->stats.skipped_devices++;
        return 0;
    }
    if (clear_slot(parent, base, false, err) < 0)
        return -1;
    mode_t kind = fifo ? S_IFIFO : e->type == MC_TAR_CHAR ? S_IFCHR : S_IFBLK;
    if (mknodat(parent, base, kind | (e->mode & 07777), makedev(e->devmajor, e->devminor)) < 0)
        return mc_error_sys(err, errno, "Cannot create the device '%s'", e->name);
    finish_link(x, parent, base);
    return 0;
}

static int
whiteout(struct extract *x, int parent, const char *parent_path, const char *base,
         struct mc_error **err)
{
    if (streq(base, ".wh..wh..opq")) {
        if (x->o->whiteouts == ENG_WHITEOUT_OVERLAY) {
            if (fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) < 0)
                return mc_error_sys(err, errno, "Cannot mark '%s' opaque", parent_path);
            return 0;
        }
        /* Remove what earlier layers put in this directory, keep this layer's entries. */
        int dfd = fcntl(parent, F_DUPFD_CLOEXEC, 3);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (!d) {
            if (dfd >= 0)
                close(dfd);
            return mc_error_sys(err, errno, "Cannot list '%s'", parent_path);
        }
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(d))) {
            if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                continue;
            _cleanup_free_ char *p = *parent_path ? xasprintf("%s/%s", parent_path, de->d_name)
                                                  : xstrdup(de->d_name);
            if (!path_set_has(&x->created, p))
                r = eng_rm_rf_at(parent, de->d_name, err);
        }
        closedir(d);
        return r;
    }
    const char *hidden = base + 4;
    if (!*hidden || streq(hidden, ".") || streq(hidden, ".."))
        return mc_error_set(err, MC_ERR_INVALID, "The whiteout '%s' is not valid.", x->e->name);
    if (eng_rm_rf_at(parent, hidden, err) < 0)
        return -1;
    if (x->o->whiteouts == ENG_WHITEOUT_OVERLAY &&
        mknodat(parent, hidden, S_IFCHR | 0, makedev(0, 0)) < 0)
        return mc_error_sys(err, errno, "Cannot create the whiteout for '%s'", x->e->name);
    return 0;
}

static int
extract_entry(struct extract *x, struct mc_error **err)
{
    const struct mc_tar_entry *e = x->e;
    _cleanup_free_ char *pp = xmalloc(strlen(x->path) + 2);
    memcpy(pp, x->path, strlen(x->path) + 1);
    const char *base = split_base(pp);
    bool is_whiteout = startswith(base, ".wh.") && x->o->whiteouts != ENG_WHITEOUT_KEEP;
    _cleanup_close_ int parent =
            open_beneath(x->root, pp, O_RDONLY | O_DIRECTORY, true, x->o->no_openat2, e->name, err);
    if (parent < 0)
        return -1;
    if (is_whiteout)
        return whiteout(x, parent, pp, base, err);
    int r;
    switch (e->type) {
    case MC_TAR_FILE:
        r = extract_file(x, parent, base, err);
        break;
    case MC_TAR_DIR:
        r = extract_dir(x, parent, base, err);
        break;
    case MC_TAR_SYMLINK:
        r = extract_symlink(x, parent, base, err);
        break;
    case MC_TAR_HARDLINK:
        r = extract_hardlink(x, parent, base, err);
        break;
    case MC_TAR_CHAR:
    case MC_TAR_BLOCKDEV:
    case MC_TAR_FIFO:
        r = extract_node(x, parent, base, err);
        break;
    default:
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The archive entry '%s' has the unsupported type '%c'.", e->name,
                            e->type);
    }
    if (r == 0 && x->o->whiteouts == ENG_WHITEOUT_APPLY)
        path_set_add(&x->created, x->path);
    return r;
}

/* Directory times last: creating entries inside a directory changes its mtime. */
static void
apply_dir_times(struct extract *x)
{
    for (size_t i = x->n_dirs; i-- > 0;) {
        int fd = open_beneath(x->root, x->dirs[i].path, O_RDONLY | O_DIRECTORY, false,
                              x->o->no_openat2, x->dirs[i].path, NULL);
        if (fd >= 0) {
            struct timespec ts[2] = { { .tv_sec = x->dirs[i].mtime },
                                      { .tv_sec = x->dirs[i].mtime } };
            futimens(fd, ts);
            close(fd);
        }
    }
}

int
eng_extract_tar(int dirfd, struct mc_tar_reader *r, const struct eng_extract_opts *o,
                struct eng_extract_stats *stats, struct mc_error **err)
{
    struct extract x = { .root = dirfd, .r = r, .o = o };
    int rc = 0;
    for (;;) {
        const struct mc_tar_entry *e;
        int n = mc_tar_reader_next(r, &e, err);
        if (n <= 0) {
            rc = n;
            break;
        }
        x.e = e;
        x.path = eng_tar_clean_path(e->name, err);
        if (!x.path) {
            rc = -1;
            break;
        }
        x.stats.entries++;
        bool root = !*x.path;
        bool skip = root || (o->only_files && e->type != MC_TAR_FILE && e->type != MC_TAR_DIR &&
                             e->type != MC_TAR_SYMLINK && e->type != MC_TAR_HARDLINK);
        rc = skip ? 0 : extract_entry(&x, err);
        free(x.path);
        x.path = NULL;
        if (rc < 0)
            break;
    }
    if (rc == 0)
        apply_dir_times(&x);
    for (size_t i = 0; i < x.n_dirs; i++)
        free(x.dirs[i].path);
    free(x.dirs);
    path_set_free(&x.created);
    if (stats)
        *stats = x.stats;
    return rc;
}
