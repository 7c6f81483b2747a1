/* `docker save`: an OCI image layout plus docker's manifest.json and repositories, streamed. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "images-internal.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define FLUSH_AT (256 * 1024)

struct out {
    img_write_fn write;
    void *ctx;
    struct mc_buf buf;
    char **written; /* member names already in the archive */
};

static int
flush(struct out *o, struct mc_error **err)
{
    if (o->buf.len == 0)
        return 0;
    int r = o->write(o->ctx, o->buf.data, o->buf.len, err);
    mc_buf_reset(&o->buf);
    return r;
}

static int
maybe_flush(struct out *o, struct mc_error **err)
{
    return o->buf.len >= FLUSH_AT ? flush(o, err) : 0;
}

static void
put_header(struct out *o, const char *name, char type, int64_t size)
{
    struct mc_tar_entry e = { .name = (char *)name,
                              .linkname = (char *)"",
                              .type = type,
                              .mode = type == MC_TAR_DIR ? 0755 : 0644,
                              .size = size,
                              .uname = (char *)"",
                              .gname = (char *)"" };
    mc_tar_header_write(&o->buf, &e);
}

static int
put_data(struct out *o, const char *name, const void *data, size_t len, struct mc_error **err)
{
    put_header(o, name, MC_TAR_FILE, (int64_t)len);
    mc_buf_append(&o->buf, data, len);
    static const char zeros[MC_TAR_BLOCK];
    mc_buf_append(&o->buf, zeros, mc_tar_padding(len));
    strv_add(&o->written, name);
    return maybe_flush(o, err);
}

/* Streams a blob file into the archive as blobs/sha256/<hex>, once. */
static int
put_blob(struct out *o, const char *digest, struct mc_error **err)
{
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", digest + 7);
    if (strv_contains(o->written, name))
        return 0;
    _cleanup_free_ char *path = img_blob_path(digest);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat s;
    if (fd < 0 || fstat(fd, &s) < 0)
        return mc_error_sys(err, errno, "Cannot read the blob %s", digest);
    put_header(o, name, MC_TAR_FILE, (int64_t)s.st_size);
    uint64_t left = (uint64_t)s.st_size;
    char buf[65536];
    while (left > 0) {
        ssize_t n = read(fd, buf, left < sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return mc_error_sys(err, n < 0 ? errno : EIO, "Cannot read the blob %s", digest);
        mc_buf_append(&o->buf, buf, (size_t)n);
        left -= (uint64_t)n;
        if (maybe_flush(o, err) < 0)
            return -1;
    }
    static const char zeros[MC_TAR_BLOCK];
    mc_buf_append(&o->buf, zeros, mc_tar_padding((uint64_t)s.st_size));
    strv_add(&o->written, name);
    return 0;
}

struct item {
    struct img_info info;
    char **tags; /* the tags asked for (by name), normalised */
};

static int
json_member(struct out *o, const char *name, const json_t *j, struct mc_error **err)
{
    _cleanup_free_ char *txt = mc_json_dumps(j, false);
    return put_data(o, name, txt, strlen(txt), err);
}

/* Writes the image's OCI manifest blob; returns its descriptor for index.json. */
static json_t *
put_manifest(struct out *o, const struct item *it, struct mc_error **err)
{
    json_t *layers = json_array();
    STRV_FOREACH (l, it->info.layers) {
        json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType",
                                                "application/vnd.oci.image.layer.v1.tar", "digest",
                                                *l, "size", (json_int_t)img_layer_size(*l)));
    }
    _cleanup_free_ char *cfg_path = img_blob_path(it->info.id);
    struct stat s;
    json_int_t cfg_size = stat(cfg_path, &s) == 0 ? (json_int_t)s.st_size : 0;
    _cleanup_json_ json_t *m =
            json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:o}", "schemaVersion", 2, "mediaType",
                      "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                      "application/vnd.oci.image.config.v1+json", "digest", it->info.id, "size",
                      cfg_size, "layers", layers);
    _cleanup_free_ char *txt = mc_json_dumps(m, false);
    char hex[MC_SHA256_HEX_LEN + 1];
    mc_sha256_hex(txt, strlen(txt), hex);
    _cleanup_free_ char *name = xasprintf("blobs/sha256/%s", hex);
    if (!strv_contains(o->written, name) && put_data(o, name, txt, strlen(txt), err) < 0)
        return NULL;
    _cleanup_free_ char *digest = xasprintf("sha256:%s", hex);
    return json_pack("{s:s,s:s,s:I}", "mediaType", "application/vnd.oci.image.manifest.v1+json",
                     "digest", digest, "size", (json_int_t)strlen(txt));
}

/* index.json entries (one per tag, or one without a name), manifest.json and repositories. */
static void
describe(const struct item *it, json_t *desc, json_t *index, json_t *manifest, json_t *repos)
{
    json_t *layers = json_array();
    STRV_FOREACH (l, it->info.layers) {
        _cleanup_free_ char *p = xasprintf("blobs/sha256/%s", *l + 7);
        json_array_append_new(layers, json_string(p));
    }
    _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", it->info.id + 7);
    json_array_append_new(manifest, json_pack("{s:s,s:o,s:o}", "Config", cfg, "RepoTags",
                                              mc_json_from_strv(it->tags), "Layers", layers));
    if (strv_length(it->tags) == 0) {
        json_array_append(index, desc);
        return;
    }
    STRV_FOREACH (t, it->tags) {
        struct img_ref r;
        if (img_ref_parse(*t, &r, NULL) < 0)
            continue;
        _cleanup_free_ char *full = img_ref_full(&r);
        json_t *d = json_deep_copy(desc);
        json_object_set_new(d, "annotations",
                            json_pack("{s:s,s:s}", "io.containerd.image.name", full,
                                      "org.opencontainers.image.ref.name", r.tag));
        json_array_append_new(index, d);
        json_t *repo = json_object_get(repos, r.name);
        if (!repo) {
            repo = json_object();
            json_object_set_new(repos, r.name, repo);
        }
        json_object_set_new(repo, r.tag, json_string(it->info.id + 7));
        img_ref_clear(&r);
    }
}

static void
items_free(struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        img_info_clear(&items[i].info);
        strv_free(items[i].tags);
    }
    free(items);
}

/* Resolves the references, merging those that name the same image. */
static struct item *
collect(char *const *refs, size_t *ret_n, struct mc_error **err)
{
    struct item *items = NULL;
    size_t n = 0;
    STRV_FOREACH (r, (char **)refs) {
        struct img_info info;
        if (img_get(*r, &info, err) < 0) {
            items_free(items, n);
            return NULL;
        }
        struct item *it = NULL;
        for (size_t i = 0; i < n; i++)
            if (streq(items[i].info.id, info.id))
                it = &items[i];
        if (!it) {
            items = xreallocarray(items, n + 1, sizeof(*items));
            it = &items[n++];
            *it = (struct item){ .info = info, .tags = strv_new() };
        } else {
            img_info_clear(&info);
        }
        struct img_ref parsed;
        if (!img_is_full_id(*r) && img_ref_parse(*r, &parsed, NULL) == 0) {
            _cleanup_free_ char *t = img_ref_string(&parsed);
            if (strv_contains(it->info.tags, t) && !strv_contains(it->tags, t))
                strv_add(&it->tags, t);
            img_ref_clear(&parsed);
        }
    }
    *ret_n = n;
    return items;
}

int
img_save_check(char *const *refs, struct mc_error **err)
{
    if (strv_length((char **)refs) == 0)
        return mc_error_set(err, MC_ERR_INVALID, "No image names to save.");
    size_t n;
    struct item *items = collect(refs, &n, err);
    if (!items)
        return -1;
    items_free(items, n);
    return 0;
}

int
img_save(char *const *refs, img_write_fn write, void *ctx, struct mc_error **err)
{
    size_t n;
    struct item *items = collect(refs, &n, err);
    if (!items)
        return -1;
    struct out o = { .write = write, .ctx = ctx, .written = strv_new() };
    _cleanup_json_ json_t *index = json_array();
    _cleanup_json_ json_t *manifest = json_array();
    _cleanup_json_ json_t *repos = json_object();
    put_header(&o, "blobs/", MC_TAR_DIR, 0);
    put_header(&o, "blobs/sha256/", MC_TAR_DIR, 0);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        STRV_FOREACH (l, items[i].info.layers) {
            if ((rc = put_blob(&o, *l, err)) < 0)
                break;
        }
        if (rc == 0)
            rc = put_blob(&o, items[i].info.id, err);
        json_t *desc = rc == 0 ? put_manifest(&o, &items[i], err) : NULL;
        if (!desc) {
            rc = -1;
            break;
        }
        describe(&items[i], desc, index, manifest, repos);
        json_decref(desc);
    }
    if (rc == 0) {
        _cleanup_json_ json_t *idx =
                json_pack("{s:i,s:s,s:O}", "schemaVersion", 2, "mediaType",
                          "application/vnd.oci.image.index.v1+json", "manifests", index);
        _cleanup_json_ json_t *layout = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
        rc = json_member(&o, "index.json", idx, err);
        if (rc == 0)
            rc = json_member(&o, "manifest.json", manifest, err);
        if (rc == 0)
            rc = json_member(&o, "oci-layout", layout, err);
        if (rc == 0 && json_object_size(repos) > 0)
            rc = json_member(&o, "repositories", repos, err);
    }
    if (rc == 0) {
        mc_tar_end(&o.buf);
        rc = flush(&o, err);
    }
    mc_buf_free(&o.buf);
    strv_free(o.written);
    items_free(items, n);
    return rc;
}
