/* Shared by the files of engine/images only (and its tests). */
#ifndef ENG_IMAGES_INTERNAL_H
#define ENG_IMAGES_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "images.h"
#include "tar.h"

/* ---- references ---- */

struct img_ref {
    char *name;   /* familiar: "busybox", "localhost:5000/bb", "user/app" */
    char *tag;    /* "latest" by default; NULL with a digest */
    char *digest; /* "sha256:..." or NULL */
};

/* Parses and normalises a reference ("docker.io/library/busybox" -> "busybox:latest").
 * MC_ERR_INVALID with "invalid reference format..." when malformed. Pure. */
int img_ref_parse(const char *s, struct img_ref *ret, struct mc_error **err);
void img_ref_clear(struct img_ref *r);
/* "name:tag" (or "name@digest"), newly allocated. */
char *img_ref_string(const struct img_ref *r);
/* "docker.io/library/busybox:latest" for a familiar reference (OCI annotations). */
char *img_ref_full(const struct img_ref *r);
/* True when s is 64 lower-case hex digits, optionally after "sha256:". */
bool img_is_full_id(const char *s);

/* ---- changes for import (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR,
 * STOPSIGNAL, ONBUILD) applied to a config's "config" object. Pure. ---- */
int img_apply_change(json_t *cfg, const char *change, struct mc_error **err);

/* ---- the store ---- */

/* Opens (creating) the store under <data_root>/image. try_overlay probes whether overlayfs
 * can be mounted there (root only); without it containers get the copy fallback. */
int img_store_open(const char *data_root, bool try_overlay, struct mc_error **err);
void img_store_close(void);
const char *img_store_root(void);

/* A temporary file in the store's tmp/ (same filesystem as the blobs). Returns an fd
 * (O_RDWR) and its path. */
int img_tmp_file(char **ret_path, struct mc_error **err);
/* A temporary directory in tmp/ (newly allocated path). */
char *img_tmp_dir(struct mc_error **err);

/* Copies a stream into a temporary file while hashing it, decompressing gzip on the way when
 * decompress. Returns the temp path and "sha256:<hex>" of the (decompressed) bytes. */
int img_spool_stream(mc_tar_read_fn read, void *ctx, bool decompress, char **ret_tmp_path,
                     char **ret_digest, uint64_t *ret_size, struct mc_error **err);
/* Takes a spooled layer tar (tmp_path, uncompressed, with its diff ID): extracts it (which
 * refuses hostile entries, naming them), then moves it into blobs/. Already present: the temp
 * file is dropped. Errors name the layer. */
int img_layer_commit(const char *tmp_path, const char *diff_id, struct mc_error **err);
/* Stores a config blob and registers the image with tags ("name:tag" strings, normalised by
 * the caller) moved onto it. Every layer in its rootfs.diff_ids must be committed. Returns the
 * image ID. */
char *img_add_image(const char *config, size_t len, char *const *tags, struct mc_error **err);

/* The path of a blob ("sha256:<hex>"), newly allocated. */
char *img_blob_path(const char *digest);
/* True when the layer is committed (its blob, and its extracted directory with overlay). */
bool img_layer_present(const char *diff_id);
/* The size of a committed layer blob, or -1. */
int64_t img_layer_size(const char *diff_id);

/* A snapshot of one image (copies, safe to use without the lock). */
struct img_info {
    char *id;
    json_t *config;
    char **layers; /* diff IDs, bottom first */
    char **tags;   /* "name:tag" */
    int64_t size;
    int64_t created; /* unix seconds */
    char *created_str;
};
void img_info_clear(struct img_info *i);
/* Resolves ref and copies the image's details. */
int img_get(const char *ref, struct img_info *ret, struct mc_error **err);
/* Every image, as snapshots (ret_n of them; free each and the array). */
struct img_info *img_list(size_t *ret_n);
size_t img_count(void);

/* Tags image ref as new_ref ("name:tag", validated and normalised). */
int img_tag(const char *ref, const char *new_ref, struct mc_error **err);
/* `docker rmi`: appends {"Untagged": ...} and {"Deleted": ...} objects to out. */
int img_remove(const char *ref, bool force, json_t *out, struct mc_error **err);

/* ---- import, load, save ---- */

int img_import(mc_tar_read_fn read, void *ctx, const char *repo_tag, char *const *changes,
               const char *message, char **ret_id, struct mc_error **err);

/* Called for each image loaded, with the line docker prints ("Loaded image: busybox:latest"
 * or "Loaded image ID: sha256:..."). */
typedef int (*img_progress_fn)(void *ctx, const char *line, struct mc_error **err);
int img_load(mc_tar_read_fn read, void *ctx, img_progress_fn progress, void *pctx,
             struct mc_error **err);

typedef int (*img_write_fn)(void *ctx, const void *data, size_t n, struct mc_error **err);
/* Resolves every reference (errors before anything is written), then writes a docker-save
 * archive: OCI layout (oci-layout, index.json, blobs/sha256/...) plus manifest.json and
 * repositories. */
int img_save_check(char *const *refs, struct mc_error **err);
int img_save(char *const *refs, img_write_fn write, void *ctx, struct mc_error **err);

/* ---- root filesystems ---- */

/* Extracts layers (diff IDs, bottom first) one over the other into dir (copy fallback). */
int img_extract_layers(char *const *layers, const char *dir, struct mc_error **err);
/* Mounts a throwaway overlay under root/tmp to see whether overlayfs works there. */
bool img_probe_overlay(const char *root);

/* Makes root/init, the layer of mount points every container's overlay has on top of its
 * image's layers, unless it is there and whole. */
int img_init_layer_ensure(const char *root, struct mc_error **err);

/* Whether the store found overlayfs usable (set by img_store_open). */
bool img_overlay(void);
/* The lowerdir list ("l/<short>:l/<short>", top layer first) for an image, as absolute paths
 * joined by ':'. */
char *img_lowerdirs(const struct img_info *i, struct mc_error **err);

#endif
