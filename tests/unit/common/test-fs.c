#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static int
count_entries(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
            n++;
    return n;
}

static void
test_atomic_write(const char *tmp)
{
    _cleanup_free_ char *path = mc_path_join(tmp, "f.json");
    struct mc_error *err = NULL;
    ok(mc_write_file_atomic(path, "one", 3, 0600, &err) == 0, "first write");
    ok(mc_write_file_atomic(path, "two!", 4, 0640, &err) == 0, "second write replaces");
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    ok(mc_read_file(path, 100, &data, &len, &err) == 0 && len == 4 && streq(data, "two!"),
       "reads back the second content");
    struct stat st;
    ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "mode is applied exactly");
    is_int(count_entries(tmp), 1, "no temporary file is left");
    _cleanup_free_ char *small = NULL;
    ok(mc_read_file(path, 2, &small, NULL, &err) < 0 && err && err->code == MC_ERR_INVALID,
       "a read over the limit is refused");
    mc_error_free(err);
}

/* A child killed at each crash point of a write leaves the old or the new file, never a torn one,
 * and at most a temporary file that mc_remove_stale_temps() clears. */
static void
test_crash_points(const char *tmp)
{
    _cleanup_free_ char *dir = mc_path_join(tmp, "crash");
    mc_mkdir_p(dir, 0700, NULL);
    _cleanup_free_ char *path = mc_path_join(dir, "config.json");
    mc_write_file_atomic(path, "old", 3, 0600, NULL);
    for (int point = 1; point <= 3; point++) {
        pid_t pid = fork();
        if (pid == 0) {
            char n[8];
            snprintf(n, sizeof(n), "%d", point);
            setenv("MACHINE_TEST_CRASH_AT", n, 1);
            mc_write_file_atomic(path, "new", 3, 0600, NULL);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed at crash point %d",
           point);
        _cleanup_free_ char *data = NULL;
        mc_read_file(path, 100, &data, NULL, NULL);
        ok(data && (streq(data, "old") || streq(data, "new")), "file whole after point %d: '%s'",
           point, data ? data : "(missing)");
        mc_remove_stale_temps(dir);
        is_int(count_entries(dir), 1, "only config.json remains after point %d", point);
        mc_write_file_atomic(path, "old", 3, 0600, NULL);
    }
}

static void
test_dirs_and_locks(const char *tmp)
{
    _cleanup_free_ char *deep = xasprintf("%s/a/b/c", tmp);
    struct mc_error *err = NULL;
    ok(mc_mkdir_p(deep, 0700, &err) == 0 && mc_is_dir(deep), "mkdir -p");
    _cleanup_free_ char *link = xasprintf("%s/a/b/outside", tmp);
    _cleanup_free_ char *victim = xasprintf("%s/victim", tmp);
    mc_write_file_atomic(victim, "keep", 4, 0600, NULL);
    ok(symlink(tmp, link) == 0, "symlink made");
    _cleanup_free_ char *top = xasprintf("%s/a", tmp);
    ok(mc_rm_rf(top, &err) == 0 && !mc_path_exists(top), "rm -rf removes the tree");
    ok(mc_path_exists(victim), "rm -rf did not follow the symlink");
    ok(mc_rm_rf(top, &err) == 0, "rm -rf of a missing path succeeds");

    _cleanup_free_ char *lock = mc_path_join(tmp, "lock");
    int fd = mc_lock_path(lock, true, 100, &err);
    ok(fd >= 0, "lock taken");
    pid_t pid = fork();
    if (pid == 0) {
        struct mc_error *cerr = NULL;
        int r = mc_lock_path(lock, true, 100, &cerr);
        _exit(r < 0 && cerr->code == MC_ERR_TIMEOUT ? 0 : 1);
    }
    int status = 1;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second locker times out");
    close(fd);
    mc_error_free(err);
}

/* Through a pipe smaller than the data, drained by a child: short writes are continued. */
static void
test_write_all(void)
{
    int p[2];
    if (pipe(p) < 0) {
        ok(false, "pipe");
        return;
    }
    size_t n = 1 << 20;
    char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 7);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[1]);
        size_t got = 0;
        char buf[4096];
        ssize_t r;
        bool same = true;
        while ((r = read(p[0], buf, sizeof(buf))) > 0) {
            for (ssize_t i = 0; i < r; i++)
                same = same && buf[i] == (char)((got + (size_t)i) * 7);
            got += (size_t)r;
        }
        _exit(got == n && same ? 0 : 1);
    }
    close(p[0]);
    ok(mc_write_all(p[1], data, n) == 0, "mc_write_all writes 1 MiB into a 64 KiB pipe");
    close(p[1]);
    int status = 1;
    waitpid(pid, &status, 0);
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "and the reader gets every byte in order");
    ok(mc_write_all(-1, data, 1) < 0 && errno == EBADF, "a bad fd: -1 with errno");
    free(data);
}

int
main(void)
{
    const char *tmp = tap_tmpdir();
    test_atomic_write(tmp);
    test_crash_points(tmp);
    test_dirs_and_locks(tmp);
    test_write_all();
    return tap_done();
}
