/* Files: whole-file reads, atomic writes, directory helpers, locks and test crash points. */
#ifndef MC_FS_H
#define MC_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* Reads a whole file (at most max bytes, else MC_ERR_INVALID) into a NUL-terminated buffer
 * owned by the caller. ret_len may be NULL. */
int mc_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len,
                 struct mc_error **err);

/* The same, relative to a folder's fd (openat), for readers of many files in one folder. */
int mc_read_file_at(int dirfd, const char *path, size_t max, char **ret_data, size_t *ret_len,
                    struct mc_error **err);

/* Replaces path atomically: writes a temporary file in the same folder, fsyncs it, renames it
 * over path and fsyncs the folder. The file gets mode (umask is ignored). A crash at any point
 * leaves either the old or the new file, and at most a temporary file named ".PATH.tmp-*"
 * (mc_remove_stale_temps() removes those). */
int mc_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct mc_error **err);

/* Writes all len bytes to fd, again after EINTR and short writes; -1 with errno. */
int mc_write_all(int fd, const void *data, size_t len);

/* Removes ".*.tmp-*" files left in dir by an interrupted mc_write_file_atomic(). */
void mc_remove_stale_temps(const char *dir);

/* fsyncs a folder so that renames and unlinks in it are durable. */
int mc_fsync_dir(const char *dir, struct mc_error **err);

/* mkdir -p with the given mode for created folders. */
int mc_mkdir_p(const char *path, mode_t mode, struct mc_error **err);

/* rm -rf that never follows symlinks; a missing path is success. */
int mc_rm_rf(const char *path, struct mc_error **err);

/* Renames with RENAME_NOREPLACE semantics where asked, then fsyncs the destination folder. */
int mc_rename(const char *from, const char *to, struct mc_error **err);

bool mc_path_exists(const char *path);
bool mc_is_dir(const char *path);

/* Opens (creating) path and takes an flock on it, waiting at most timeout_ms (-1: forever).
 * Returns the locked fd (O_CLOEXEC), or -1 with MC_ERR_TIMEOUT. */
int mc_lock_path(const char *path, bool exclusive, int timeout_ms, struct mc_error **err);

/* The folder part of path, newly allocated ("." when there is none). */
char *mc_dirname(const char *path);
/* path components joined with '/', newly allocated. */
char *mc_path_join(const char *a, const char *b);

/* A deterministic crash point for tests. With MACHINE_TEST_CRASH_AT=N the process SIGKILLs
 * itself at the N-th crash point it passes; with MACHINE_TEST_CRASH_AT=LABEL at the first
 * point whose label equals LABEL. With MACHINE_TEST_CRASH_TRACE=FILE, every label passed is
 * appended to FILE first. Does nothing when neither variable is set. */
void mc_crashpoint(const char *label);

#endif
