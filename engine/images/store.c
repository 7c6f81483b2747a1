/* The image store: blobs, layers, image records and tags (images.h, images-internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "decompress.h"
#include "fs.h"
#include "api-events.h"
#include "images-internal.h"
#include "json.h"
#include "layer-extract.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define INDEX_FILE "repositories.json"
#define MAX_CONFIG (8 << 20)

struct record {
    char *id;
    json_t *config;
    char **layers;
    int64_t size;
    int64_t created;
    char *created_str;
};

static struct {
    pthread_mutex_t lock;
    char *root;
    struct record **recs;
    size_t n;
    json_t *tags; /* "name:tag" -> "sha256:<id>" */
    bool overlay;
    eng_image_in_use_fn in_use;
} st = { .lock = PTHREAD_MUTEX_INITIALIZER };

const char *
img_store_root(void)
{
    return st.root;
}

bool
img_overlay(void)
{
    return st.overlay;
}

bool
eng_images_overlay(void)
{
    return st.overlay;
}

void
eng_images_set_in_use_hook(eng_image_in_use_fn fn)
{
    st.in_use = fn;
}

static void
record_free(struct record *r)
{
    if (!r)
        return;
    free(r->id);
    json_decref(r->config);
    strv_free(r->layers);
    free(r->created_str);
    free(r);
}

char *
img_blob_path(const char *digest)
{
    const char *hex = startswith(digest, "sha256:");
    return xasprintf("%s/blobs/sha256/%s", st.root, hex ? hex : digest);
}

int64_t
img_layer_size(const char *diff_id)
{
    _cleanup_free_ char *p = img_blob_path(diff_id);
    struct stat s;
    return stat(p, &s) == 0 ? (int64_t)s.st_size : -1;
}

static char *
layer_dir(const char *diff_id)
{
    const char *hex = startswith(diff_id, "sha256:");
    return xasprintf("%s/layers/%s", st.root, hex ? hex : diff_id);
}

/* ---- temporary files ---- */

int
img_tmp_file(char **ret_path, struct mc_error **err)
{
    _cleanup_free_ char *rnd = mc_random_hex(12);
    _cleanup_free_ char *path = xasprintf("%s/tmp/f-%s", st.root, rnd);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot create a temporary file in '%s/tmp'", st.root);
    *ret_path = TAKE_PTR(path);
    return fd;
}

char *
img_tmp_dir(struct mc_error **err)
{
    _cleanup_free_ char *rnd = mc_random_hex(12);
    char *path = xasprintf("%s/tmp/d-%s", st.root, rnd);
    if (mkdir(path, 0755) < 0) {
        mc_error_sys(err, errno, "Cannot create '%s'", path);
        free(path);
        return NULL;
    }
    return path;
}

static int
write_all(int fd, const void *data, size_t n, struct mc_error **err)
{
    if (mc_write_all(fd, data, n) < 0)
        return mc_error_sys(err, errno, "Cannot write to the image store");
    return 0;
}

int
img_spool_stream(mc_tar_read_fn read, void *ctx, bool decompress, char **ret_tmp_path,
                 char **ret_digest, uint64_t *ret_size, struct mc_error **err)
{
    _cleanup_free_ char *path = NULL;
    _cleanup_close_ int fd = img_tmp_file(&path, err);
    if (fd < 0)
        return -1;
    struct eng_decomp *d = decompress ? eng_decomp_new(read, ctx) : NULL;
    struct mc_sha256_ctx h;
    mc_sha256_init(&h);
    uint64_t total = 0;
    _cleanup_free_ char *buf = xmalloc(1 << 16);
    int rc = 0;
    for (;;) {
        ssize_t n = d ? eng_decomp_read(d, buf, 1 << 16, err) : read(ctx, buf, 1 << 16, err);
        if (n < 0 || (n > 0 && write_all(fd, buf, (size_t)n, err) < 0)) {
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        mc_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    eng_decomp_free(d);
    char hex[MC_SHA256_HEX_LEN + 1];
    mc_sha256_final_hex(&h, hex);
    if (rc < 0) {
        unlink(path);
        return -1;
    }
    *ret_tmp_path = TAKE_PTR(path);
    *ret_digest = xasprintf("sha256:%s", hex);
    if (ret_size)
        *ret_size = total;
    return 0;
}

/* ---- layers ---- */

bool
img_layer_present(const char *diff_id)
{
    _cleanup_free_ char *blob = img_blob_path(diff_id);
    if (!mc_path_exists(blob))
        return false;
    if (!st.overlay)
        return true;
    _cleanup_free_ char *dir = layer_dir(diff_id);
    return mc_is_dir(dir);
}

/* l/<short> -> ../layers/<hex>: keeps overlay's lowerdir option short. */
static int
link_short(const char *hex, struct mc_error **err)
{
    _cleanup_free_ char *target = xasprintf("../layers/%s", hex);
    for (size_t len = 12; len <= 64; len += 4) {
        _cleanup_free_ char *link = xasprintf("%s/l/%.*s", st.root, (int)len, hex);
        char buf[128];
        ssize_t n = readlink(link, buf, sizeof(buf) - 1);
        if (n >= 0) {
            buf[n] = '\0';
            if (streq(buf, target))
                return 0;
            continue;
        }
        if (symlink(target, link) == 0 || errno == EEXIST)
            return 0;
        return mc_error_sys(err, errno, "Cannot create '%s'", link);
    }
    return mc_error_set(err, MC_ERR_FAILED, "No short name is free for the layer %s.", hex);
}

/* The short link name of a layer (as created by link_short). */
static char *
short_name(const char *hex)
{
    _cleanup_free_ char *target = xasprintf("../layers/%s", hex);
    for (size_t len = 12; len <= 64; len += 4) {
        _cleanup_free_ char *link = xasprintf("%s/l/%.*s", st.root, (int)len, hex);
        char buf[128];
        ssize_t n = readlink(link, buf, sizeof(buf) - 1);
        if (n >= 0) {
            buf[n] = '\0';
            if (streq(buf, target))
                return xstrndup(hex, len);
        }
    }
    return NULL;
}

static int
extract_layer_file(const char *tar_path, const char *dir, enum eng_whiteout_mode mode,
                   struct mc_error **err)
{
    _cleanup_close_ int fd = open(tar_path, O_RDONLY | O_CLOEXEC);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || dfd < 0)
        return mc_error_sys(err, errno, "Cannot open the layer");
    bool root = geteuid() == 0;
    struct eng_extract_opts o = {
        .whiteouts = mode, .same_owner = root, .devices = root, .xattrs = root
    };
    struct mc_tar_reader *r = mc_tar_reader_new(eng_fd_read, &fd);
    int rc = eng_extract_tar(dfd, r, &o, NULL, err);
    mc_tar_reader_free(r);
    return rc;
}

int
img_extract_layers(char *const *layers, const char *dir, struct mc_error **err)
{
    STRV_FOREACH (l, (char **)layers) {
        _cleanup_free_ char *blob = img_blob_path(*l);
        if (extract_layer_file(blob, dir, ENG_WHITEOUT_APPLY, err) < 0)
            return mc_error_prefix(err, "layer %.19s: ", *l);
    }
    return 0;
}

int
img_layer_commit(const char *tmp_path, const char *diff_id, struct mc_error **err)
{
    const char *hex = diff_id + 7;
    if (img_layer_present(diff_id)) {
        unlink(tmp_path);
        return 0;
    }
    _cleanup_free_ char *dir = img_tmp_dir(err);
    if (!dir) {
        unlink(tmp_path);
        return -1;
    }
    if (extract_layer_file(tmp_path, dir, st.overlay ? ENG_WHITEOUT_OVERLAY : ENG_WHITEOUT_APPLY,
                           err) < 0) {
        mc_rm_rf(dir, NULL);
        unlink(tmp_path);
        return mc_error_prefix(err, "layer %.19s: ", diff_id);
    }
    if (st.overlay) {
        _cleanup_free_ char *final = layer_dir(diff_id);
        if (rename(dir, final) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
            int e = errno;
            mc_rm_rf(dir, NULL);
            unlink(tmp_path);
            return mc_error_sys(err, e, "Cannot store the layer %s", hex);
        }
        mc_rm_rf(dir, NULL); /* a no-op unless another load stored the same layer first */
        if (link_short(hex, err) < 0)
            return -1;
    } else {
        mc_rm_rf(dir, NULL); /* extracted only to validate it: containers get copies */
    }
    _cleanup_free_ char *blob = img_blob_path(diff_id);
    if (rename(tmp_path, blob) < 0) {
        int e = errno;
        unlink(tmp_path);
        return mc_error_sys(err, e, "Cannot store the layer %s", hex);
    }
    return 0;
}

/* ---- records and the index ---- */

static int64_t
parse_created(const char *s)
{
    int64_t ns;
    if (!s || mc_parse_rfc3339(s, &ns) < 0)
        return 0;
    return ns / 1000000000;
}

/* A record from config bytes; NULL with an error when the config is not an image config. */
static struct record *
record_from_config(const char *id, json_t *config, struct mc_error **err)
{
    json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
    if (!json_is_array(diff_ids)) {
        mc_error_set(err, MC_ERR_INVALID, "The image config %.19s has no rootfs.diff_ids.", id);
        return NULL;
    }
    struct record *r = xzalloc(sizeof(*r));
    r->id = xstrdup(id);
    r->config = json_incref(config);
    r->layers = strv_new();
    size_t i;
    json_t *v;
    json_array_foreach (diff_ids, i, v) {
        const char *d = json_string_value(v);
        if (!d || !img_is_full_id(d) || !startswith(d, "sha256:")) {
            record_free(r);
            mc_error_set(err, MC_ERR_INVALID, "The image config %.19s has a bad diff_id.", id);
            return NULL;
        }
        strv_add(&r->layers, d);
        int64_t sz = img_layer_size(d);
        r->size += sz > 0 ? sz : 0;
    }
    const char *created = mc_json_str(config, "created");
    r->created_str = xstrdup(created ? created : "1970-01-01T00:00:00Z");
    r->created = parse_created(created);
    return r;
}

static struct record *
find_id_locked(const char *id)
{
    for (size_t i = 0; i < st.n; i++)
        if (streq(st.recs[i]->id, id))
            return st.recs[i];
    return NULL;
}

static int
save_index_locked(struct mc_error **err)
{
    _cleanup_json_ json_t *ids = json_array();
    for (size_t i = 0; i < st.n; i++)
        json_array_append_new(ids, json_string(st.recs[i]->id));
    _cleanup_json_ json_t *j =
            json_pack("{s:i,s:O,s:O}", "version", 1, "images", ids, "tags", st.tags);
    _cleanup_free_ char *path = xasprintf("%s/" INDEX_FILE, st.root);
    return mc_json_save_file(path, j, true, 0600, err);
}

static json_t *
load_config_blob(const char *id, struct mc_error **err)
{
    _cleanup_free_ char *path = img_blob_path(id);
    return mc_json_load_file(path, MAX_CONFIG, err);
}

static int
load_index(struct mc_error **err)
{
    _cleanup_free_ char *path = xasprintf("%s/" INDEX_FILE, st.root);
    st.tags = json_object();
    if (!mc_path_exists(path))
        return 0;
    _cleanup_json_ json_t *j = mc_json_load_file(path, 64 << 20, err);
    if (!j)
        return -1;
    size_t i;
    json_t *v;
    json_array_foreach (json_object_get(j, "images"), i, v) {
        const char *id = json_string_value(v);
        struct mc_error *e = NULL;
        _cleanup_json_ json_t *cfg = id ? load_config_blob(id, &e) : NULL;
        struct record *r = cfg ? record_from_config(id, cfg, &e) : NULL;
        if (!r) {
            log_warn("dropping image %s from the store: %s", id ? id : "?",
                     e ? e->message : "bad entry");
            mc_error_free(e);
            continue;
        }
        st.recs = xreallocarray(st.recs, st.n + 1, sizeof(*st.recs));
        st.recs[st.n++] = r;
    }
    const char *tag;
    json_object_foreach (json_object_get(j, "tags"), tag, v) {
        if (json_is_string(v) && find_id_locked(json_string_value(v)))
            json_object_set(st.tags, tag, v);
    }
    return 0;
}

int
img_store_open(const char *data_root, bool try_overlay, struct mc_error **err)
{
    img_store_close();
    st.root = mc_path_join(data_root, "image");
    static const char *const dirs[] = { "", "/blobs/sha256", "/layers", "/l", "/tmp" };
    for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
        _cleanup_free_ char *d = xasprintf("%s%s", st.root, dirs[i]);
        if (mc_mkdir_p(d, 0700, err) < 0)
            return -1;
    }
    /* Left-overs of an interrupted load or import. */
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", st.root);
    mc_rm_rf(tmp, NULL);
    if (mc_mkdir_p(tmp, 0700, err) < 0)
        return -1;
    st.overlay = try_overlay && img_probe_overlay(st.root);
    if (st.overlay && img_init_layer_ensure(st.root, err) < 0)
        return -1;
    pthread_mutex_lock(&st.lock);
    int r = load_index(err);
    pthread_mutex_unlock(&st.lock);
    log_info("image store '%s': %zu images, %s", st.root, st.n,
             st.overlay ? "overlayfs" : "copy fallback (no overlayfs)");
    return r;
}

void
img_store_close(void)
{
    pthread_mutex_lock(&st.lock);
    for (size_t i = 0; i < st.n; i++)
        record_free(st.recs[i]);
    free(st.recs);
    st.recs = NULL;
    st.n = 0;
    json_decref(st.tags);
    st.tags = NULL;
    free(st.root);
    st.root = NULL;
    pthread_mutex_unlock(&st.lock);
}

static int
write_blob(const char *digest, const void *data, size_t len, struct mc_error **err)
{
    _cleanup_free_ char *path = img_blob_path(digest);
    if (mc_path_exists(path))
        return 0;
    return mc_write_file_atomic(path, data, len, 0600, err);
}

char *
img_add_image(const char *config, size_t len, char *const *tags, struct mc_error **err)
{
    _cleanup_json_ json_t *cfg = mc_json_parse(config, len, "The image config", err);
    if (!cfg)
        return NULL;
    char hex[MC_SHA256_HEX_LEN + 1];
    mc_sha256_hex(config, len, hex);
    _cleanup_free_ char *id = xasprintf("sha256:%s", hex);
    struct record *r = record_from_config(id, cfg, err);
    if (!r)
        return NULL;
    STRV_FOREACH (l, r->layers) {
        if (!img_layer_present(*l)) {
            record_free(r);
            mc_error_set(err, MC_ERR_INVALID, "The layer %s of image %.19s is missing.", *l, id);
            return NULL;
        }
    }
    if (write_blob(id, config, len, err) < 0) {
        record_free(r);
        return NULL;
    }
    pthread_mutex_lock(&st.lock);
    if (find_id_locked(id)) {
        record_free(r);
    } else {
        st.recs = xreallocarray(st.recs, st.n + 1, sizeof(*st.recs));
        st.recs[st.n++] = r;
    }
    STRV_FOREACH (t, (char **)tags) {
        json_object_set_new(st.tags, *t, json_string(id));
    }
    int rc = save_index_locked(err);
    pthread_mutex_unlock(&st.lock);
    return rc < 0 ? NULL : TAKE_PTR(id);
}

/* ---- lookups ---- */

enum found_by {
    BY_ID,
    BY_TAG,
};

/* dockerd names the missing image in its normalised form ("nope" -> "nope:latest"). */
static int
not_found(const char *ref, struct mc_error **err)
{
    struct img_ref r;
    if (!img_is_full_id(ref) && img_ref_parse(ref, &r, NULL) == 0) {
        _cleanup_free_ char *s = img_ref_string(&r);
        img_ref_clear(&r);
        return mc_error_set(err, MC_ERR_NOT_FOUND, "No such image: %s", s);
    }
    return mc_error_set(err, MC_ERR_NOT_FOUND, "No such image: %s", ref);
}

/* Finds the record of ref under the lock: full ID, then name[:tag], then a unique ID prefix. */
static struct record *
find_locked(const char *ref, enum found_by *by, char **ret_tag, struct mc_error **err)
{
    if (img_is_full_id(ref)) {
        _cleanup_free_ char *id =
                startswith(ref, "sha256:") ? xstrdup(ref) : xasprintf("sha256:%s", ref);
        struct record *r = find_id_locked(id);
        if (r)
            *by = BY_ID;
        else
            not_found(ref, err);
        return r;
    }
    struct img_ref parsed;
    if (img_ref_parse(ref, &parsed, NULL) == 0) {
        _cleanup_free_ char *tag = img_ref_string(&parsed);
        img_ref_clear(&parsed);
        const char *id = json_string_value(json_object_get(st.tags, tag));
        struct record *r = id ? find_id_locked(id) : NULL;
        if (r) {
            *by = BY_TAG;
            if (ret_tag)
                *ret_tag = TAKE_PTR(tag);
            return r;
        }
    }
    const char *hex = startswith(ref, "sha256:");
    hex = hex ? hex : ref;
    size_t hl = strlen(hex);
    if (hl > 0 && hl < 64 && strspn(hex, "0123456789abcdef") == hl) {
        struct record *match = NULL;
        for (size_t i = 0; i < st.n; i++) {
            if (strncmp(st.recs[i]->id + 7, hex, hl) != 0)
                continue;
            if (match) {
                mc_error_set(err, MC_ERR_CONFLICT,
                             "The image ID prefix '%s' is ambiguous: give more characters.", ref);
                return NULL;
            }
            match = st.recs[i];
        }
        if (match) {
            *by = BY_ID;
            return match;
        }
    }
    not_found(ref, err);
    return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **
tags_of_locked(const char *id)
{
    char **l = strv_new();
    const char *tag;
    json_t *v;
    json_object_foreach (st.tags, tag, v) {
        if (streq_ptr(json_string_value(v), id))
            strv_add(&l, tag);
    }
    qsort(l, strv_length(l), sizeof(char *), cmp_str);
    return l;
}

static void
snapshot_locked(const struct record *r, struct img_info *ret)
{
    *ret = (struct img_info){
        .id = xstrdup(r->id),
        .config = json_deep_copy(r->config),
        .layers = strv_copy(r->layers),
        .tags = tags_of_locked(r->id),
        .size = r->size,
        .created = r->created,
        .created_str = xstrdup(r->created_str),
    };
}

void
img_info_clear(struct img_info *i)
{
    free(i->id);
    json_decref(i->config);
    strv_free(i->layers);
    strv_free(i->tags);
    free(i->created_str);
    memset(i, 0, sizeof(*i));
}

int
img_get(const char *ref, struct img_info *ret, struct mc_error **err)
{
    pthread_mutex_lock(&st.lock);
    enum found_by by;
    struct record *r = find_locked(ref, &by, NULL, err);
    if (r)
        snapshot_locked(r, ret);
    pthread_mutex_unlock(&st.lock);
    return r ? 0 : -1;
}

struct img_info *
img_list(size_t *ret_n)
{
    pthread_mutex_lock(&st.lock);
    struct img_info *l = xcalloc(st.n ? st.n : 1, sizeof(*l));
    for (size_t i = 0; i < st.n; i++)
        snapshot_locked(st.recs[i], &l[i]);
    *ret_n = st.n;
    pthread_mutex_unlock(&st.lock);
    return l;
}

size_t
img_count(void)
{
    pthread_mutex_lock(&st.lock);
    size_t n = st.n;
    pthread_mutex_unlock(&st.lock);
    return n;
}

char *
eng_image_resolve(const char *ref, struct mc_error **err)
{
    pthread_mutex_lock(&st.lock);
    enum found_by by;
    struct record *r = find_locked(ref, &by, NULL, err);
    char *id = r ? xstrdup(r->id) : NULL;
    pthread_mutex_unlock(&st.lock);
    return id;
}

json_t *
eng_image_config(const char *image_id, struct mc_error **err)
{
    pthread_mutex_lock(&st.lock);
    enum found_by by;
    struct record *r = find_locked(image_id, &by, NULL, err);
    json_t *c = r ? json_deep_copy(r->config) : NULL;
    pthread_mutex_unlock(&st.lock);
    return c;
}

char *
eng_image_display_name(const char *image_id)
{
    pthread_mutex_lock(&st.lock);
    _cleanup_strv_ char **tags = tags_of_locked(image_id);
    pthread_mutex_unlock(&st.lock);
    if (strv_length(tags) > 0)
        return xstrdup(tags[0]);
    const char *hex = startswith(image_id, "sha256:");
    return xstrndup(hex ? hex : image_id, 12);
}

/* ---- tag and remove ---- */

int
img_tag(const char *ref, const char *new_ref, struct mc_error **err)
{
    struct img_ref parsed;
    if (img_ref_parse(new_ref, &parsed, err) < 0)
        return -1;
    if (parsed.digest && !parsed.tag) {
        img_ref_clear(&parsed);
        return mc_error_set(err, MC_ERR_INVALID,
                            "refusing to create a tag with a digest "
                            "reference");
    }
    _cleanup_free_ char *tag = img_ref_string(&parsed);
    img_ref_clear(&parsed);
    pthread_mutex_lock(&st.lock);
    enum found_by by;
    struct record *r = find_locked(ref, &by, NULL, err);
    int rc = -1;
    if (r) {
        json_object_set_new(st.tags, tag, json_string(r->id));
        rc = save_index_locked(err);
        eng_event("image", "tag", r->id, json_pack("{s:s}", "name", tag));
    }
    pthread_mutex_unlock(&st.lock);
    return rc;
}

static bool
layer_used_locked(const char *diff_id)
{
    for (size_t i = 0; i < st.n; i++)
        if (strv_contains(st.recs[i]->layers, diff_id))
            return true;
    return false;
}

/* Removes the record and whatever blobs and layers no other image uses. */
static void
delete_locked(struct record *r)
{
    for (size_t i = 0; i < st.n; i++)
        if (st.recs[i] == r) {
            st.recs[i] = st.recs[--st.n];
            break;
        }
    _cleanup_free_ char *cfg = img_blob_path(r->id);
    unlink(cfg);
    STRV_FOREACH (l, r->layers) {
        if (layer_used_locked(*l))
            continue;
        _cleanup_free_ char *blob = img_blob_path(*l);
        _cleanup_free_ char *dir = layer_dir(*l);
        _cleanup_free_ char *sn = short_name(*l + 7);
        if (sn) {
            _cleanup_free_ char *link = xasprintf("%s/l/%s", st.root, sn);
            unlink(link);
        }
        unlink(blob);
        mc_rm_rf(dir, NULL);
    }
    record_free(r);
}

static char *
short_id(const char *id)
{
    return xstrndup(id + 7, 12);
}

static int
conflict_for_id(const char *id, const char *user, bool running, bool force, size_t n_tags,
                struct mc_error **err)
{
    _cleanup_free_ char *sid = short_id(id);
    _cleanup_free_ char *suser = user ? xstrndup(user, 12) : xstrdup("?");
    if (user && running)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "conflict: unable to delete %s (cannot be forced) - image is being "
                            "used by running container %s",
                            sid, suser);
    if (user && !force)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "conflict: unable to delete %s (must be forced) - image is being "
                            "used by stopped container %s",
                            sid, suser);
    if (n_tags > 1 && !force)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "conflict: unable to delete %s (must be forced) - image is "
                            "referenced in multiple repositories",
                            sid);
    return 0;
}

static void
untag_locked(const char *id, const char *tag, json_t *out)
{
    json_object_del(st.tags, tag);
    json_array_append_new(out, json_pack("{s:s}", "Untagged", tag));
    eng_event("image", "untag", id, json_pack("{s:s}", "name", tag));
}

int
img_remove(const char *ref, bool force, json_t *out, struct mc_error **err)
{
    /* Ask the containers module first, without our lock (it may call us under its own). */
    _cleanup_free_ char *id = eng_image_resolve(ref, err);
    if (!id)
        return -1;
    _cleanup_free_ char *user = NULL;
    bool running = false;
    bool used = st.in_use && st.in_use(id, &user, &running);

    pthread_mutex_lock(&st.lock);
    enum found_by by;
    _cleanup_free_ char *tag = NULL;
    _cleanup_strv_ char **tags = NULL;
    struct record *r = find_locked(ref, &by, &tag, err);
    int rc = -1;
    if (!r || !streq(r->id, id)) {
        if (r)
            mc_error_set(err, MC_ERR_CONFLICT, "The image '%s' changed; try again.", ref);
        goto out;
    }
    tags = tags_of_locked(id);
    size_t n_tags = strv_length(tags);
    if (by == BY_TAG && n_tags > 1) {
        untag_locked(id, tag, out);
    } else if (by == BY_TAG && used && !force) {
        _cleanup_free_ char *sid = short_id(id);
        _cleanup_free_ char *suser = xstrndup(user ? user : "?", 12);
        mc_error_set(err, MC_ERR_CONFLICT,
                     "conflict: unable to remove repository reference \"%s\" (must force) - "
                     "container %s is using its referenced image %s",
                     ref, suser, sid);
        goto out;
    } else {
        if (by == BY_ID && conflict_for_id(id, user, running, force, n_tags, err) < 0)
            goto out;
        STRV_FOREACH (t, tags) {
            untag_locked(id, *t, out);
        }
        if (!used) {
            json_array_append_new(out, json_pack("{s:s}", "Deleted", id));
            eng_event("image", "delete", id, NULL);
            delete_locked(r);
        }
    }
    rc = save_index_locked(err);
out:
    pthread_mutex_unlock(&st.lock);
    return rc;
}

/* ---- lowerdirs ---- */

char *
img_lowerdirs(const struct img_info *i, struct mc_error **err)
{
    struct mc_buf b = MC_BUF_INIT;
    size_t n = strv_length(i->layers);
    for (size_t k = n; k-- > 0;) {
        _cleanup_free_ char *sn = short_name(i->layers[k] + 7);
        if (!sn) {
            mc_buf_free(&b);
            mc_error_set(err, MC_ERR_NOT_FOUND, "The layer %s of image %.19s is not extracted.",
                         i->layers[k], i->id);
            return NULL;
        }
        mc_buf_printf(&b, "%s%s/l/%s", b.len ? ":" : "", st.root, sn);
    }
    return b.data ? mc_buf_steal(&b) : xstrdup("");
}
