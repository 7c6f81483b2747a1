/* The store's folders, locks and listing. Records are in record.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fs.h"
#include "log.h"
#include "store.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

char *
store_default_path(void)
{
    const char *env = getenv("MACHINE_STORAGE_PATH");
    if (!isempty(env))
        return xstrdup(env);
    const char *home = getenv("HOME");
    return mc_path_join(isempty(home) ? "/" : home, ".machine");
}

void
store_free(struct store *s)
{
    if (!s)
        return;
    free(s->root);
    free(s->machines_dir);
    free(s->certs_dir);
    free(s->locks_dir);
    free(s->trash_dir);
    mc_closep(&s->machines_fd);
    free(s);
}

int
store_open(const char *root, struct store **ret, struct mc_error **err)
{
    _cleanup_store_ struct store *s = xzalloc(sizeof(*s));
    s->machines_fd = -1;
    s->root = xstrdup(root);
    s->machines_dir = mc_path_join(root, "machines");
    s->certs_dir = mc_path_join(root, "certs");
    s->locks_dir = mc_path_join(root, "locks");
    s->trash_dir = mc_path_join(root, "trash");
    const char *dirs[] = { s->machines_dir, s->certs_dir, s->locks_dir, s->trash_dir };
    for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
        if (!mc_is_dir(dirs[i]) && mc_mkdir_p(dirs[i], 0700, err) < 0)
            return mc_error_prefix(err, "store '%s': ", root);
    s->machines_fd = open(s->machines_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (s->machines_fd < 0)
        return mc_error_sys(err, errno, "cannot open '%s'", s->machines_dir);
    *ret = TAKE_PTR(s);
    return 0;
}

char *
store_machine_dir(const struct store *s, const char *name)
{
    return mc_path_join(s->machines_dir, name);
}

char *
store_machine_path(const struct store *s, const char *name, const char *rel)
{
    return xasprintf("%s/%s/%s", s->machines_dir, name, rel);
}

char *
store_certs_path(const struct store *s, const char *rel)
{
    return mc_path_join(s->certs_dir, rel);
}

int
store_check_name(const char *name, struct mc_error **err)
{
    if (mc_name_is_valid(name))
        return 0;
    return mc_error_set(err, MC_ERR_USAGE,
                        "invalid machine name '%s': a name is 1 to 63 letters, digits and "
                        "hyphens, and neither starts nor ends with a hyphen (RFC 1123 label)",
                        name);
}

static char *
machine_lock_path(const struct store *s, const char *name)
{
    /* Names never contain dots, so "machine.NAME.lock" cannot meet "ca.lock". */
    return xasprintf("%s/machine.%s.lock", s->locks_dir, name);
}

static char *
dirty_path(const struct store *s, const char *name)
{
    return xasprintf("%s/machine.%s.dirty", s->locks_dir, name);
}

/* Under the lock: removes what a crashed writer left, then marks the machine dirty. */
static void
mark_dirty(const struct store *s, const char *name)
{
    _cleanup_free_ char *marker = dirty_path(s, name);
    if (access(marker, F_OK) == 0) {
        log_debug("machine '%s': a writer crashed; removing its temporary files", name);
        _cleanup_free_ char *dir = store_machine_dir(s, name);
        mc_remove_stale_temps(dir);
        return;
    }
    _cleanup_close_ int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
}

int
store_lock_machine(const struct store *s, const char *name, int timeout_ms, struct mc_error **err)
{
    if (store_check_name(name, err) < 0)
        return -1;
    _cleanup_free_ char *path = machine_lock_path(s, name);
    int fd = mc_lock_path(path, true, timeout_ms, err);
    if (fd < 0)
        return mc_error_prefix(err, "machine '%s': ", name);
    mark_dirty(s, name);
    return fd;
}

void
store_unlock_machine(const struct store *s, const char *name, int fd)
{
    if (fd < 0)
        return;
    _cleanup_free_ char *marker = dirty_path(s, name);
    unlink(marker);
    close(fd);
}

int
store_lock_ca(const struct store *s, int timeout_ms, struct mc_error **err)
{
    _cleanup_free_ char *path = mc_path_join(s->locks_dir, "ca.lock");
    int fd = mc_lock_path(path, true, timeout_ms, err);
    if (fd < 0)
        return mc_error_prefix(err, "store CA: ");
    mc_remove_stale_temps(s->certs_dir);
    return fd;
}

void
store_tidy_machine(const struct store *s, const char *name)
{
    _cleanup_free_ char *path = machine_lock_path(s, name);
    _cleanup_free_ char *marker = dirty_path(s, name);
    if (!mc_path_exists(marker))
        return; /* no writer crashed */
    _cleanup_error_ struct mc_error *e = NULL;
    _cleanup_close_ int fd = mc_lock_path(path, true, 0, &e);
    if (fd < 0)
        return; /* a writer is at work: its temporary files are not stale */
    log_debug("machine '%s': a writer crashed; removing its temporary files", name);
    _cleanup_free_ char *dir = store_machine_dir(s, name);
    mc_remove_stale_temps(dir);
    unlink(marker);
}

void
store_tidy(const struct store *s)
{
    _cleanup_closedir_ DIR *d = opendir(s->locks_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        const char *rest = startswith(de->d_name, "machine.");
        if (!rest || !endswith(rest, ".dirty"))
            continue;
        _cleanup_free_ char *name = xstrndup(rest, strlen(rest) - strlen(".dirty"));
        if (mc_name_is_valid(name))
            store_tidy_machine(s, name);
    }
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int
store_list_names(const struct store *s, char ***ret, struct mc_error **err)
{
    _cleanup_closedir_ DIR *d = opendir(s->machines_dir);
    if (!d)
        return mc_error_sys(err, errno, "cannot list machines in '%s'", s->machines_dir);
    _cleanup_strv_ char **names = strv_new();
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (de->d_type == DT_UNKNOWN) {
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                continue;
        }
        strv_add(&names, de->d_name);
    }
    qsort(names, strv_length(names), sizeof(char *), cmp_str);
    *ret = TAKE_PTR(names);
    return 0;
}

bool
store_machine_exists(const struct store *s, const char *name)
{
    if (!mc_name_is_valid(name))
        return false;
    _cleanup_free_ char *dir = store_machine_dir(s, name);
    return mc_is_dir(dir);
}

bool
store_machine_has_tls(const struct store *s, const char *name)
{
    static const char *const files[] = { "certs/ca.pem", "certs/cert.pem", "certs/key.pem" };
    for (size_t i = 0; i < ELEMENTSOF(files); i++) {
        _cleanup_free_ char *p = store_machine_path(s, name, files[i]);
        if (access(p, R_OK) < 0)
            return false;
    }
    return true;
}

int
store_machine_remove(const struct store *s, const char *name, struct mc_error **err)
{
    _cleanup_free_ char *dir = store_machine_dir(s, name);
    if (!mc_is_dir(dir))
        return mc_error_set(err, MC_ERR_NOT_FOUND, "machine '%s' does not exist", name);
    _cleanup_free_ char *rnd = mc_random_hex(8);
    _cleanup_free_ char *trash = xasprintf("%s/%s.%s", s->trash_dir, name, rnd);
    /* One rename takes the machine out of machines/ whole; the slow delete happens after. */
    if (mc_rename(dir, trash, err) < 0)
        return mc_error_prefix(err, "remove machine '%s': ", name);
    if (mc_fsync_dir(s->machines_dir, err) < 0)
        return mc_error_prefix(err, "remove machine '%s': ", name);
    mc_crashpoint("store-trash");
    if (mc_rm_rf(trash, err) < 0)
        return mc_error_prefix(err, "remove machine '%s': ", name);
    mc_crashpoint("store-rm");
    return 0;
}

void
store_empty_trash(const struct store *s)
{
    _cleanup_closedir_ DIR *d = opendir(s->trash_dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        /* "NAME.RANDOM": skip entries whose removal is still running in another process. */
        _cleanup_free_ char *name = xstrndup(de->d_name, strcspn(de->d_name, "."));
        _cleanup_free_ char *lock = machine_lock_path(s, name);
        _cleanup_error_ struct mc_error *e = NULL;
        _cleanup_close_ int fd = mc_lock_path(lock, true, 0, &e);
        if (fd < 0)
            continue;
        _cleanup_free_ char *p = mc_path_join(s->trash_dir, de->d_name);
        (void)mc_rm_rf(p, &e);
    }
}
