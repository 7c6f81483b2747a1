/* `docker load`: docker-save archives (manifest.json) and OCI image layouts (index.json). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "decompress.h"
#include "fs.h"
#include "api-events.h"
#include "images-internal.h"
#include "json.h"
#include "layer-extract.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define MAX_META (16 << 20)

struct load_image {
    char *config;  /* archive path */
    char **layers; /* archive paths, bottom first */
    char **tags;   /* normalised "name:tag" */
};

static void
load_images_free(struct load_image *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].config);
        strv_free(l[i].layers);
        strv_free(l[i].tags);
    }
    free(l);
}

/* Reads a whole file of the unpacked archive. */
static char *
read_member(int dfd, const char *path, size_t *ret_len, struct mc_error **err)
{
    struct mc_error *e = NULL;
    _cleanup_free_ char *rel = eng_tar_clean_path(path, &e);
    if (!rel) {
        mc_error_propagate(err, e);
        return NULL;
    }
    _cleanup_close_ int fd = eng_open_beneath(dfd, rel, O_RDONLY, err);
    if (fd < 0) {
        mc_error_prefix(err, "The archive lacks '%s': ", path);
        return NULL;
    }
    struct mc_buf b = MC_BUF_INIT;
    char buf[65536];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || b.len + (size_t)(n > 0 ? n : 0) > MAX_META) {
            mc_buf_free(&b);
            mc_error_set(err, MC_ERR_INVALID, "The archive member '%s' cannot be read.", path);
            return NULL;
        }
        if (n == 0)
            break;
        mc_buf_append(&b, buf, (size_t)n);
    }
    *ret_len = b.len;
    return b.data ? mc_buf_steal(&b) : xstrdup("");
}

static json_t *
read_json_member(int dfd, const char *path, struct mc_error **err)
{
    size_t len;
    _cleanup_free_ char *data = read_member(dfd, path, &len, err);
    if (!data)
        return NULL;
    _cleanup_free_ char *what = xasprintf("The archive's '%s'", path);
    return mc_json_parse(data, len, what, err);
}

static void
add_tag(char ***tags, const char *ref)
{
    struct img_ref r;
    if (img_ref_parse(ref, &r, NULL) < 0)
        return;
    if (r.tag)
        strv_push(tags, img_ref_string(&r));
    img_ref_clear(&r);
}

static int
parse_docker_manifest(int dfd, struct load_image **ret, size_t *ret_n, struct mc_error **err)
{
    _cleanup_json_ json_t *m = read_json_member(dfd, "manifest.json", err);
    if (!m)
        return -1;
    if (!json_is_array(m))
        return mc_error_set(err, MC_ERR_INVALID, "The archive's manifest.json is not a list.");
    size_t n = json_array_size(m);
    struct load_image *l = xcalloc(n ? n : 1, sizeof(*l));
    size_t i;
    json_t *e;
    json_array_foreach (m, i, e) {
        const char *cfg = mc_json_str(e, "Config");
        json_t *layers = json_object_get(e, "Layers");
        if (!cfg || !json_is_array(layers)) {
            load_images_free(l, n);
            return mc_error_set(err, MC_ERR_INVALID,
                                "The archive's manifest.json entry %zu lacks Config or Layers.", i);
        }
        l[i].config = xstrdup(cfg);
        l[i].layers = mc_json_to_strv(layers);
        l[i].tags = strv_new();
        size_t k;
        json_t *t;
        json_array_foreach (json_object_get(e, "RepoTags"), k, t) {
            if (json_is_string(t))
                add_tag(&l[i].tags, json_string_value(t));
        }
    }
    *ret = l;
    *ret_n = n;
    return 0;
}

static char *
blob_member(const char *digest)
{
    const char *colon = digest ? strchr(digest, ':') : NULL;
    if (!colon || strchr(colon + 1, '/'))
        return NULL;
    return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

static bool
is_index_type(const char *mt)
{
    return mt && (streq(mt, "application/vnd.oci.image.index.v1+json") ||
                  streq(mt, "application/vnd.docker.distribution.manifest.list.v2+json"));
}

/* Follows one descriptor to an image manifest (through nested indexes, preferring this
 * machine's linux platform), and records it with the name from the annotations. */
static int
oci_descriptor(int dfd, json_t *desc, const char *name, int depth, struct load_image **l, size_t *n,
               struct mc_error **err)
{
    _cleanup_free_ char *path = blob_member(mc_json_str(desc, "digest"));
    if (!path || depth > 3)
        return mc_error_set(err, MC_ERR_INVALID, "The archive's index has a bad descriptor.");
    _cleanup_json_ json_t *m = read_json_member(dfd, path, err);
    if (!m)
        return -1;
    const char *mt = mc_json_str(m, "mediaType");
    if (!mt)
        mt = mc_json_str(desc, "mediaType");
    if (is_index_type(mt) || json_is_array(json_object_get(m, "manifests"))) {
        json_t *pick = NULL;
        size_t i;
        json_t *d;
        json_array_foreach (json_object_get(m, "manifests"), i, d) {
            json_t *p = json_object_get(d, "platform");
            const char *arch = mc_json_str(p, "architecture");
            if (!pick || (streq_ptr(mc_json_str(p, "os"), "linux") &&
                          (streq_ptr(arch, "amd64") || streq_ptr(arch, "arm64"))))
                pick = pick && !p ? pick : d;
        }
        if (!pick)
            return mc_error_set(err, MC_ERR_INVALID, "The archive's index '%s' is empty.", path);
        return oci_descriptor(dfd, pick, name, depth + 1, l, n, err);
    }
    _cleanup_free_ char *cfg = blob_member(mc_json_str(json_object_get(m, "config"), "digest"));
    json_t *layers = json_object_get(m, "layers");
    if (!cfg || !json_is_array(layers))
        return mc_error_set(err, MC_ERR_INVALID, "The manifest '%s' lacks config or layers.", path);
    *l = xreallocarray(*l, *n + 1, sizeof(**l));
    struct load_image *img = &(*l)[(*n)++];
    *img = (struct load_image){ .config = TAKE_PTR(cfg), .layers = strv_new(), .tags = strv_new() };
    size_t i;
    json_t *d;
    json_array_foreach (layers, i, d) {
        char *lp = blob_member(mc_json_str(d, "digest"));
        if (!lp)
            return mc_error_set(err, MC_ERR_INVALID, "The manifest '%s' has a bad layer.", path);
        strv_push(&img->layers, lp);
    }
    if (name)
        add_tag(&img->tags, name);
    return 0;
}

static int
parse_oci_index(int dfd, struct load_image **ret, size_t *ret_n, struct mc_error **err)
{
    _cleanup_json_ json_t *idx = read_json_member(dfd, "index.json", err);
    if (!idx)
        return -1;
    struct load_image *l = NULL;
    size_t n = 0;
    size_t i;
    json_t *d;
    json_array_foreach (json_object_get(idx, "manifests"), i, d) {
        json_t *ann = json_object_get(d, "annotations");
        const char *name = mc_json_str(ann, "io.containerd.image.name");
        const char *ref = mc_json_str(ann, "org.opencontainers.image.ref.name");
        if (!name && ref && (strchr(ref, '/') || strchr(ref, ':')))
            name = ref; /* a full reference; a bare tag has no repository to go with */
        if (oci_descriptor(dfd, d, name, 0, &l, &n, err) < 0) {
            load_images_free(l, n);
            return -1;
        }
    }
    *ret = l;
    *ret_n = n;
    return 0;
}

static int
load_layer(int dfd, const char *path, const char *want, size_t idx, struct mc_error **err)
{
    struct mc_error *e = NULL;
    _cleanup_free_ char *rel = eng_tar_clean_path(path, &e);
    if (!rel)
        return mc_error_propagate(err, e);
    _cleanup_close_ int fd = eng_open_beneath(dfd, rel, O_RDONLY, err);
    if (fd < 0)
        return mc_error_prefix(err, "The archive lacks the layer '%s': ", path);
    _cleanup_free_ char *tmp = NULL, *digest = NULL;
    if (img_spool_stream(eng_fd_read, &fd, true, &tmp, &digest, NULL, err) < 0)
        return mc_error_prefix(err, "layer '%s': ", path);
    if (!streq(digest, want)) {
        unlink(tmp);
        return mc_error_set(err, MC_ERR_INVALID,
                            "The layer %zu ('%s') has the digest %s, but the image config "
                            "expects %s.",
                            idx + 1, path, digest, want);
    }
    return img_layer_commit(tmp, digest, err);
}

static int
load_one(int dfd, const struct load_image *li, img_progress_fn progress, void *pctx,
         struct mc_error **err)
{
    size_t len;
    _cleanup_free_ char *cfg = read_member(dfd, li->config, &len, err);
    if (!cfg)
        return -1;
    _cleanup_json_ json_t *j = mc_json_parse(cfg, len, "The image config", err);
    if (!j)
        return -1;
    json_t *diff_ids = json_object_get(json_object_get(j, "rootfs"), "diff_ids");
    if (!json_is_array(diff_ids) || json_array_size(diff_ids) != strv_length(li->layers))
        return mc_error_set(err, MC_ERR_INVALID,
                            "The image config '%s' does not list one diff_id per layer.",
                            li->config);
    for (size_t i = 0; li->layers[i]; i++) {
        const char *want = json_string_value(json_array_get(diff_ids, i));
        if (!want || !img_is_full_id(want) || !startswith(want, "sha256:"))
            return mc_error_set(err, MC_ERR_INVALID, "The image config '%s' has a bad diff_id.",
                                li->config);
        if (!img_layer_present(want) && load_layer(dfd, li->layers[i], want, i, err) < 0)
            return -1;
    }
    _cleanup_free_ char *id = img_add_image(cfg, len, li->tags, err);
    if (!id)
        return -1;
    eng_event("image", "load", id,
              li->tags && li->tags[0] ? json_pack("{s:s}", "name", li->tags[0]) : NULL);
    if (strv_length(li->tags) == 0) {
        _cleanup_free_ char *line = xasprintf("Loaded image ID: %s\n", id);
        return progress(pctx, line, err);
    }
    STRV_FOREACH (t, li->tags) {
        _cleanup_free_ char *line = xasprintf("Loaded image: %s\n", *t);
        if (progress(pctx, line, err) < 0)
            return -1;
    }
    return 0;
}

static bool
has_member(int dfd, const char *name)
{
    int fd = eng_open_beneath(dfd, name, O_RDONLY, NULL);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static int
unpack(mc_tar_read_fn read, void *ctx, const char *dir, struct mc_error **err)
{
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mc_error_sys(err, errno, "Cannot open '%s'", dir);
    struct eng_decomp *d = eng_decomp_new(read, ctx);
    struct mc_tar_reader *r = mc_tar_reader_new(eng_decomp_read, d);
    struct eng_extract_opts o = { .whiteouts = ENG_WHITEOUT_KEEP, .only_files = true };
    int rc = eng_extract_tar(dfd, r, &o, NULL, err);
    /* Drain what follows the end marker so the request body is fully read. */
    char buf[4096];
    while (rc == 0 && eng_decomp_read(d, buf, sizeof(buf), NULL) > 0)
        ;
    mc_tar_reader_free(r);
    eng_decomp_free(d);
    return rc;
}

int
img_load(mc_tar_read_fn read, void *ctx, img_progress_fn progress, void *pctx,
         struct mc_error **err)
{
    _cleanup_free_ char *dir = img_tmp_dir(err);
    if (!dir)
        return -1;
    struct load_image *l = NULL;
    size_t n = 0;
    int rc = unpack(read, ctx, dir, err);
    _cleanup_close_ int dfd = rc == 0 ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (rc == 0) {
        if (has_member(dfd, "manifest.json"))
            rc = parse_docker_manifest(dfd, &l, &n, err);
        else if (has_member(dfd, "index.json"))
            rc = parse_oci_index(dfd, &l, &n, err);
        else
            rc = mc_error_set(err, MC_ERR_INVALID,
                              "The archive has neither manifest.json nor index.json: it is not "
                              "a docker save archive or an OCI image layout.");
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = load_one(dfd, &l[i], progress, pctx, err);
    if (rc == 0 && n == 0)
        rc = mc_error_set(err, MC_ERR_INVALID, "The archive holds no image.");
    load_images_free(l, n);
    mc_rm_rf(dir, NULL);
    return rc;
}
