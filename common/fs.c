#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"

int
mc_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len, struct mc_error **err)
{
    return mc_read_file_at(AT_FDCWD, path, max, ret_data, ret_len, err);
}

int
mc_read_file_at(int dirfd, const char *path, size_t max, char **ret_data, size_t *ret_len,
                struct mc_error **err)
{
    _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open '%s'", path);

    /* The file's size (plus one to see EOF) saves growing the buffer, and a large first
     * allocation for small files; files that report no size (/proc) grow as they read. */
    struct stat st;
    size_t chunk = 4096;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (size_t)st.st_size <= max)
        chunk = (size_t)st.st_size + 1;
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    for (;; chunk = 65536) {
        mc_buf_reserve(&b, chunk);
        ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mc_error_sys(err, errno, "cannot read '%s'", path);
        if (n == 0)
            break;
        b.len += (size_t)n;
        b.data[b.len] = '\0';
        if (b.len > max)
            return mc_error_set(err, MC_ERR_INVALID, "'%s' is larger than %zu bytes", path, max);
    }
    if (ret_len)
        *ret_len = b.len;
    *ret_data = mc_buf_steal(&b);
    return 0;
}

char *
mc_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

char *
mc_path_join(const char *a, const char *b)
{
    if (isempty(a))
        return xstrdup(b);
    return xasprintf("%s%s%s", a, endswith(a, "/") ? "" : "/", b);
}

int
mc_fsync_dir(const char *dir, struct mc_error **err)
{
    _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open folder '%s'", dir);
    if (fsync(fd) < 0)
        return mc_error_sys(err, errno, "cannot sync folder '%s'", dir);
    return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int
mc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                     struct mc_error **err)
{
    _cleanup_free_ char *dir = mc_dirname(path);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    _cleanup_free_ char *tmp = xasprintf("%s/.%s.tmp-XXXXXX", dir, base);

    _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot create a temporary file in '%s'", dir);
    if (fchmod(fd, mode) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
        int e = errno;
        unlink(tmp);
        return mc_error_sys(err, e, "cannot write '%s'", tmp);
    }
    mc_crashpoint("write");
    if (rename(tmp, path) < 0) {
        int e = errno;
        unlink(tmp);
        return mc_error_sys(err, e, "cannot rename '%s' to '%s'", tmp, path);
    }
    mc_crashpoint("rename");
    if (mc_fsync_dir(dir, err) < 0)
        return -1;
    mc_crashpoint("fsync");
    return 0;
}

void
mc_remove_stale_temps(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp-"))
            unlinkat(dirfd(d), de->d_name, 0);
    }
}

int
mc_mkdir_p(const char *path, mode_t mode, struct mc_error **err)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return mc_error_sys(err, errno, "cannot create folder '%s'", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return mc_error_sys(err, errno, "cannot create folder '%s'", p);
    if (!mc_is_dir(p))
        return mc_error_set(err, MC_ERR_EXISTS, "'%s' exists and is not a folder", p);
    return 0;
}

static int
rm_rf_at(int dfd, const char *name, struct mc_error **err)
{
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return mc_error_sys(err, errno, "cannot remove '%s'", name);

    _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open '%s'", name);
    DIR *d = fdopendir(fd);
    if (!d)
        return mc_error_sys(err, errno, "cannot list '%s'", name);
    int child = TAKE_FD(fd);
    struct dirent *de;
    int r = 0;
    while (r == 0 && (de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        r = rm_rf_at(child, de->d_name, err);
    }
    closedir(d);
    if (r < 0)
        return mc_error_prefix(err, "'%s': ", name);
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return mc_error_sys(err, errno, "cannot remove folder '%s'", name);
    return 0;
}

int
mc_rm_rf(const char *path, struct mc_error **err)
{
    return rm_rf_at(AT_FDCWD, path, err);
}

int
mc_rename(const char *from, const char *to, struct mc_error **err)
{
    if (rename(from, to) < 0)
        return mc_error_sys(err, errno, "cannot rename '%s' to '%s'", from, to);
    _cleanup_free_ char *dir = mc_dirname(to);
    return mc_fsync_dir(dir, err);
}

bool
mc_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

bool
mc_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
mc_lock_path(const char *path, bool exclusive, int timeout_ms, struct mc_error **err)
{
    _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return mc_error_sys(err, errno, "cannot open lock '%s'", path);

    int op = exclusive ? LOCK_EX : LOCK_SH;
    if (timeout_ms < 0) {
        while (flock(fd, op) < 0)
            if (errno != EINTR)
                return mc_error_sys(err, errno, "cannot lock '%s'", path);
        return TAKE_FD(fd);
    }
    int64_t deadline = mono_ms() + timeout_ms;
    int delay = 1;
    while (flock(fd, op | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR)
            return mc_error_sys(err, errno, "cannot lock '%s'", path);
        if (mono_ms() >= deadline)
            return mc_error_set(err, MC_ERR_TIMEOUT,
                                "'%s' is locked by another process (waited %d ms)", path,
                                timeout_ms);
        poll(NULL, 0, delay);
        if (delay < 50)
            delay *= 2;
    }
    return TAKE_FD(fd);
}

static unsigned crash_count;

void
mc_crashpoint(const char *label)
{
    const char *at = getenv("MACHINE_TEST_CRASH_AT");
    const char *trace = getenv("MACHINE_TEST_CRASH_TRACE");
    if (!at && !trace)
        return;

    crash_count++;
    if (trace) {
        _cleanup_close_ int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char line[256];
            int n = snprintf(line, sizeof(line), "%u %s\n", crash_count, label);
            if (n > 0)
                (void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line));
        }
    }
    if (!at)
        return;
    int n;
    if ((mc_parse_int(at, &n) == 0 && (unsigned)n == crash_count) || streq(at, label))
        kill(getpid(), SIGKILL);
}

int
mc_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}
