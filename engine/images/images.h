/* The image store (DESIGN.md §7): content-addressed blobs and image records under
 * <data-root>/image/, and what the containers module needs from it.
 *
 *   <data-root>/image/blobs/sha256/<hex>   configs and layer tars (uncompressed, so a layer's
 *                                          blob digest is its diff ID), written atomically
 *   <data-root>/image/layers/<hex>/        each layer extracted once (overlay whiteouts)
 *   <data-root>/image/l/<short>            short symlinks to layers/ for overlay's lowerdir
 *   <data-root>/image/repositories.json    images (by ID) and tags, rewritten atomically
 *
 * An image ID is "sha256:" + the SHA-256 of its config JSON, as in Docker. References are
 * accepted as dockerd does: name[:tag] (docker.io/library/ prefixes folded), the full ID with or
 * without "sha256:", or a unique prefix of the ID. All functions are thread-safe. */
#ifndef ENG_IMAGES_H
#define ENG_IMAGES_H

#include <stdbool.h>

#include <jansson.h>

#include "error.h"

/* Resolves a reference to an image ID ("sha256:<64 hex>", newly allocated). NULL with
 * MC_ERR_NOT_FOUND and dockerd's message "No such image: REF" when there is none (the CLI pulls
 * on that 404), MC_ERR_CONFLICT for an ambiguous ID prefix. */
char *eng_image_resolve(const char *ref, struct mc_error **err);

/* The image's config JSON (the whole object: architecture, os, config {Env, Cmd, Entrypoint,
 * WorkingDir, User, Labels, ExposedPorts, Volumes...}, rootfs, history). New reference. */
json_t *eng_image_config(const char *image_id, struct mc_error **err);

/* The image's first tag ("busybox:latest"), or its short ID when it has none; for the
 * container list's Image column. Newly allocated. */
char *eng_image_display_name(const char *image_id);

/* ---- container root filesystems ---- */

struct eng_rootfs {
    bool overlay;   /* true: overlayfs; false: a private copy (copy fallback) */
    char *path;     /* the root to pivot into: <dir>/merged (overlay) or <dir>/rootfs (copy) */
    char *options;  /* overlay mount data "lowerdir=...,upperdir=...,workdir=..."; NULL (copy) */
    char *upperdir; /* the container's writable layer (overlay) or NULL */
};

enum eng_rootfs_flags {
    /* Mount the overlay at path in the caller's mount namespace now. Without it the caller
     * mounts it itself (eng_rootfs_mount, e.g. inside the container's mount namespace). */
    ENG_ROOTFS_MOUNT = 1 << 0,
};

/* Prepares a root filesystem for a container from image_id inside container_dir (which
 * exists): overlay upper/, work/ and merged/ directories over the image's extracted layers,
 * or, where overlayfs is unavailable (overlay on overlay, no root), rootfs/ with the layers
 * extracted into it in order. Idempotent: preparing again (after a daemon restart) reuses the
 * upper directory. Fills ret (eng_rootfs_clear frees it). */
int eng_rootfs_prepare(const char *image_id, const char *container_dir, unsigned flags,
                       struct eng_rootfs *ret, struct mc_error **err);
/* Mounts the overlay of r at target ("" or NULL: r->path); nothing to do in copy mode. */
int eng_rootfs_mount(const struct eng_rootfs *r, const char *target, struct mc_error **err);
/* Unmounts <container_dir>/merged if mounted (lazily) and removes upper/, work/, merged/
 * and rootfs/. A missing directory is fine. */
int eng_rootfs_release(const char *container_dir, struct mc_error **err);
void eng_rootfs_clear(struct eng_rootfs *r);
/* True when container root filesystems use overlayfs ("overlay2" in /info), false for the
 * copy fallback ("vfs"). */
bool eng_images_overlay(void);

/* ---- what the store asks the containers module ---- */

/* Returns true when a container uses image_id, with that container's ID (newly allocated)
 * and whether it is running. */
typedef bool (*eng_image_in_use_fn)(const char *image_id, char **ret_container_id,
                                    bool *ret_running);
/* Registers the callback `docker rmi` consults (the containers module calls this in its
 * init). Without one, no image is in use. */
void eng_images_set_in_use_hook(eng_image_in_use_fn fn);

#endif
