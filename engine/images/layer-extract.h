/* Extracting tar streams (image layers, docker-save archives) into a directory with no escape.
 *
 * Every entry's path is cleaned first: absolute paths and ".." components are refused with an
 * error naming the entry. Parent directories are opened from the target with openat2()
 * RESOLVE_BENEATH (a symbolic link that would lead outside is refused, naming the entry), or,
 * on kernels without openat2, walked one component at a time with O_NOFOLLOW (then any
 * symbolic link in a parent path is refused). The last component is always created with *at()
 * calls relative to that parent and never followed: an existing file, symlink or directory
 * there is replaced, not written through. Hard links must point inside the target. Nothing is
 * ever written outside the target directory. */
#ifndef ENG_LAYER_EXTRACT_H
#define ENG_LAYER_EXTRACT_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "tar.h"

enum eng_whiteout_mode {
    /* Layers applied on top of each other in one directory: ".wh.NAME" removes NAME,
     * ".wh..wh..opq" empties its directory of what earlier layers put there. */
    ENG_WHITEOUT_APPLY,
    /* One layer per directory for overlayfs: ".wh.NAME" becomes a 0:0 character device,
     * ".wh..wh..opq" the xattr trusted.overlay.opaque=y (root only). */
    ENG_WHITEOUT_OVERLAY,
    /* Kept as the plain empty files the archive has (docker-save spooling). */
    ENG_WHITEOUT_KEEP,
};

struct eng_extract_opts {
    enum eng_whiteout_mode whiteouts;
    bool same_owner; /* chown entries to the archive's uid and gid (needs root) */
    bool devices;    /* create character and block devices (needs root); else skip them */
    bool xattrs;     /* set user.* and security.capability xattrs from PAX records */
    bool no_openat2; /* walk parents with O_NOFOLLOW even where openat2 exists (tests) */
    bool only_files; /* regular files, directories and symlinks only; others are skipped */
};

struct eng_extract_stats {
    uint64_t entries;
    uint64_t bytes;           /* file data written */
    uint64_t skipped_devices; /* devices left out because !devices */
};

/* Cleans an archive path: "./a//b/" -> "a/b", "." or "./" -> "" (the target itself).
 * Returns NULL with MC_ERR_INVALID naming the entry for an absolute path or a ".." component.
 * Pure. */
char *eng_tar_clean_path(const char *name, struct mc_error **err);

/* Extracts every entry of r into the directory dirfd (which stays open and owned by the
 * caller). stats may be NULL. On error, what was extracted so far stays (the caller removes
 * its temporary directory). */
int eng_extract_tar(int dirfd, struct mc_tar_reader *r, const struct eng_extract_opts *o,
                    struct eng_extract_stats *stats, struct mc_error **err);

/* Opens rel (a cleaned path) beneath dirfd for reading, refusing any symbolic link that
 * leads outside (openat2 RESOLVE_BENEATH; O_NOFOLLOW walk without it). flags are open flags
 * (O_RDONLY, O_DIRECTORY...). */
int eng_open_beneath(int dirfd, const char *rel, int flags, struct mc_error **err);

/* rm -rf of name in the directory dirfd, never following symbolic links. ENOENT is fine. */
int eng_rm_rf_at(int dirfd, const char *name, struct mc_error **err);

#endif
