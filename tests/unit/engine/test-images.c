/* The image store without HTTP: references, import changes, import (plain and gzip), tags,
 * removal rules with the in-use hook, save then load (docker and OCI forms), hostile layers
 * refused at import, and container root filesystems (copy fallback; overlay when root). */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <zlib.h>

#include "fs.h"
#include "images-internal.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "tap.h"
#include "tar.h"
#include "util.h"
#include "xalloc.h"

struct mem {
    const char *data;
    size_t len, pos;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n, struct mc_error **err)
{
    struct mem *m = ctx;
    if (n > m->len - m->pos)
        n = m->len - m->pos;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static int
mem_write(void *ctx, const void *data, size_t n, struct mc_error **err)
{
    mc_buf_append(ctx, data, n);
    return 0;
}

static void
add(struct mc_buf *b, const char *name, char type, const char *link, const char *data)
{
    size_t len = data ? strlen(data) : 0;
    struct mc_tar_entry e = { .name = (char *)name,
                              .linkname = (char *)(link ? link : ""),
                              .type = type,
                              .mode = type == MC_TAR_DIR ? 0755 : 0755,
                              .size = (int64_t)len,
                              .mtime = 1700000000 };
    mc_tar_header_write(b, &e);
    if (len) {
        mc_buf_append(b, data, len);
        static const char zeros[MC_TAR_BLOCK];
        mc_buf_append(b, zeros, mc_tar_padding(len));
    }
}

static void
rootfs_tar(struct mc_buf *b, const char *marker)
{
    add(b, "./", MC_TAR_DIR, NULL, NULL);
    add(b, "./bin/", MC_TAR_DIR, NULL, NULL);
    add(b, "./bin/busybox", MC_TAR_FILE, NULL, "#!fake busybox\n");
    add(b, "./bin/sh", MC_TAR_SYMLINK, "busybox", NULL);
    add(b, "./etc/marker", MC_TAR_FILE, NULL, marker);
    mc_tar_end(b);
}

static char *
import_buf(const struct mc_buf *b, const char *tag, char *const *changes, struct mc_error **err)
{
    struct mem m = { b->data, b->len, 0 };
    char *id = NULL;
    if (img_import(mem_read, &m, tag, changes, "test message", &id, err) < 0)
        return NULL;
    return id;
}

static void
test_references(void)
{
    static const struct {
        const char *in, *out;
    } ok_cases[] = {
        { "busybox", "busybox:latest" },
        { "docker.io/library/busybox:1.36", "busybox:1.36" },
        { "docker.io/user/app", "user/app:latest" },
        { "localhost:5000/bb", "localhost:5000/bb:latest" },
        { "localhost:5000/bb:2", "localhost:5000/bb:2" },
        { "registry.example.com/a/b/c:v1.0-rc_1", "registry.example.com/a/b/c:v1.0-rc_1" },
        { "my_app__x.y-z", "my_app__x.y-z:latest" },
    };
    for (size_t i = 0; i < ELEMENTSOF(ok_cases); i++) {
        struct img_ref r;
        struct mc_error *err = NULL;
        bool parsed = img_ref_parse(ok_cases[i].in, &r, &err) == 0;
        _cleanup_free_ char *s = parsed ? img_ref_string(&r) : NULL;
        is_str(s, ok_cases[i].out, "reference '%s'", ok_cases[i].in);
        if (parsed)
            img_ref_clear(&r);
        mc_error_free(err);
    }
    static const char *const bad[] = { "BusyBox", "a//b", "bb:",  "bb:-x",
                                       "/bb",     "bb/",  "a..b", "bb@sha256:zz" };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct img_ref r;
        struct mc_error *err = NULL;
        ok(img_ref_parse(bad[i], &r, &err) < 0 && strstr(err->message, "invalid reference format"),
           "reference '%s' refused", bad[i]);
        mc_error_free(err);
    }
    struct img_ref r;
    img_ref_parse("busybox:1", &r, NULL);
    _cleanup_free_ char *full = img_ref_full(&r);
    is_str(full, "docker.io/library/busybox:1", "full name for OCI annotations");
    img_ref_clear(&r);
}

static void
test_changes(void)
{
    _cleanup_json_ json_t *c = json_object();
    static const char *const ch[] = {
        "CMD [\"/bin/hello\", \"x\"]",
        "ENV A=1 B=\"two words\"",
        "ENV C three words",
        "WORKDIR /srv",
        "USER nobody",
        "LABEL a=b \"c d\"=e",
        "EXPOSE 80 53/udp",
        "ENTRYPOINT /bin/sh -c",
        "VOLUME /data",
    };
    for (size_t i = 0; i < ELEMENTSOF(ch); i++)
        ok(img_apply_change(c, ch[i], NULL) == 0, "change '%s'", ch[i]);
    _cleanup_free_ char *s = mc_json_dumps(c, false);
    is_str(s,
           "{\"Cmd\":null,\"Env\":[\"A=1\",\"B=two words\",\"C=three words\"],"
           "\"WorkingDir\":\"/srv\",\"User\":\"nobody\",\"Labels\":{\"a\":\"b\",\"c d\":\"e\"},"
           "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}},"
           "\"Entrypoint\":[\"/bin/sh\",\"-c\",\"/bin/sh -c\"],\"Volumes\":{\"/data\":{}}}",
           "config after the changes");
    struct mc_error *err = NULL;
    ok(img_apply_change(c, "RUN rm -rf /", &err) < 0 &&
               streq(err->message, "RUN is not a valid change command"),
       "RUN refused like dockerd");
    mc_error_free(err);
}

static bool in_use_flag;
static bool in_use_running;

static bool
in_use(const char *id, char **ret_container, bool *ret_running)
{
    if (!in_use_flag)
        return false;
    *ret_container = xstrdup("c0ffee0123456789");
    *ret_running = in_use_running;
    return true;
}

static size_t
count_key(json_t *out, const char *key)
{
    size_t n = 0, i;
    json_t *v;
    json_array_foreach (out, i, v) {
        n += json_object_get(v, key) != NULL;
    }
    return n;
}

static void
test_store(const char *root)
{
    struct mc_error *err = NULL;
    ok(img_store_open(root, false, &err) == 0, "store opens (copy fallback)");
    mc_error_free(err);
    err = NULL;
    struct mc_buf t = MC_BUF_INIT;
    rootfs_tar(&t, "one\n");
    char *changes[] = { "CMD [\"/bin/sh\"]", NULL };
    _cleanup_free_ char *id = import_buf(&t, "bb:1", changes, &err);
    ok(id && img_is_full_id(id), "import gives an ID");
    if (err)
        tap_diag("%s", err->message);

    /* The same tar, gzip-compressed, gives the same layer. */
    uLongf zl = compressBound(t.len) + 64;
    Bytef *gz = xmalloc(zl);
    z_stream z = { 0 };
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)t.data;
    z.avail_in = (uInt)t.len;
    z.next_out = gz;
    z.avail_out = (uInt)zl;
    deflate(&z, Z_FINISH);
    struct mc_buf g = MC_BUF_INIT;
    mc_buf_append(&g, gz, z.total_out);
    deflateEnd(&z);
    free(gz);
    _cleanup_free_ char *id2 = import_buf(&g, "gz", NULL, &err);
    struct img_info a, b2;
    ok(id2 && img_get("bb:1", &a, NULL) == 0 && img_get("gz:latest", &b2, NULL) == 0,
       "gzip import");
    ok(streq(a.layers[0], b2.layers[0]), "same diff ID for the plain and gzip tars");
    ok(a.size == (int64_t)t.len, "image size is the layer size");
    _cleanup_free_ char *cmd = mc_json_dumps(json_object_get(a.config, "config"), false);
    is_str(cmd, "{\"Cmd\":[\"/bin/sh\"]}", "changes in the config");
    is_str(mc_json_str(a.config, "comment"), "test message", "message recorded");
    img_info_clear(&a);
    img_info_clear(&b2);
    mc_buf_free(&g);

    /* lookups */
    _cleanup_free_ char *by_prefix = eng_image_resolve(id + 7 + 0, NULL);
    char short_id[13];
    snprintf(short_id, sizeof(short_id), "%s", id + 7);
    _cleanup_free_ char *by_short = eng_image_resolve(short_id, NULL);
    _cleanup_free_ char *by_hub = eng_image_resolve("docker.io/library/bb:1", NULL);
    ok(streq_ptr(by_prefix, id) && streq_ptr(by_short, id) && streq_ptr(by_hub, id),
       "resolve by full hex, short ID and docker.io name");
    ok(!eng_image_resolve("nope", &err) && err && err->code == MC_ERR_NOT_FOUND &&
               streq(err->message, "No such image: nope:latest"),
       "missing image: not-found with dockerd's message");
    mc_error_free(err);
    err = NULL;

    /* tag and remove */
    ok(img_tag("bb:1", "localhost:5000/bb:2", NULL) == 0, "tag");
    json_t *out = json_array();
    ok(img_remove("bb:1", false, out, NULL) == 0 && count_key(out, "Untagged") == 1 &&
               count_key(out, "Deleted") == 0,
       "rmi of one of two tags only untags");
    json_decref(out);
    ok(img_tag(id, "bb:1", NULL) == 0, "tag again by ID");
    out = json_array();
    ok(img_remove(id, false, out, &err) < 0 && err->code == MC_ERR_CONFLICT &&
               strstr(err->message, "referenced in multiple repositories"),
       "rmi by ID with two tags needs force");
    mc_error_free(err);
    err = NULL;
    json_decref(out);
    eng_images_set_in_use_hook(in_use);
    in_use_flag = true;
    in_use_running = true;
    out = json_array();
    ok(img_remove(id, true, out, &err) < 0 &&
               strstr(err->message, "running container c0ffee012345"),
       "an image a running container uses cannot be removed, even forced");
    mc_error_free(err);
    err = NULL;
    json_decref(out);
    in_use_running = false;
    out = json_array();
    ok(img_remove("localhost:5000/bb:2", false, out, NULL) == 0, "untag one of two in use");
    json_decref(out);
    out = json_array();
    ok(img_remove("bb:1", false, out, &err) < 0 && err->code == MC_ERR_CONFLICT &&
               strstr(err->message, "container c0ffee012345 is using its referenced image"),
       "the last tag of an image in use needs force");
    mc_error_free(err);
    err = NULL;
    json_decref(out);
    out = json_array();
    _cleanup_free_ char *kept = NULL;
    ok(img_remove("bb:1", true, out, NULL) == 0 && count_key(out, "Untagged") == 1 &&
               count_key(out, "Deleted") == 0 && (kept = eng_image_resolve(id, NULL)),
       "forced: untagged, kept for the container (dangling)");
    json_decref(out);
    in_use_flag = false;
    out = json_array();
    ok(img_remove(id, false, out, NULL) == 0 && count_key(out, "Deleted") == 1 &&
               eng_image_resolve(id, NULL) == NULL,
       "unused and untagged: deleted");
    json_decref(out);
    eng_images_set_in_use_hook(NULL);
    ok(img_count() == 1, "one image left");
    mc_buf_free(&t);
}

static int
collect_line(void *ctx, const char *line, struct mc_error **err)
{
    strv_add((char ***)ctx, line);
    return 0;
}

static void
test_save_load(const char *root)
{
    struct mc_error *err = NULL;
    struct mc_buf t = MC_BUF_INIT;
    rootfs_tar(&t, "saved\n");
    _cleanup_free_ char *id = import_buf(&t, "saveme:v1", NULL, &err);
    ok(id != NULL, "image to save");
    img_tag("saveme:v1", "other/name:x", NULL);
    char *names[] = { "saveme:v1", "other/name:x", NULL };
    ok(img_save_check(names, NULL) == 0, "save check");
    char *missing[] = { "saveme:v1", "nope", NULL };
    ok(img_save_check(missing, &err) < 0 && err->code == MC_ERR_NOT_FOUND,
       "save of a missing image fails before writing");
    mc_error_free(err);
    err = NULL;
    struct mc_buf archive = MC_BUF_INIT;
    ok(img_save(names, mem_write, &archive, &err) == 0, "save");

    /* list the archive */
    struct mem m = { archive.data, archive.len, 0 };
    struct mc_tar_reader *r = mc_tar_reader_new(mem_read, &m);
    const struct mc_tar_entry *e;
    _cleanup_strv_ char **members = strv_new();
    while (mc_tar_reader_next(r, &e, NULL) == 1)
        strv_add(&members, e->name);
    mc_tar_reader_free(r);
    ok(strv_contains(members, "index.json") && strv_contains(members, "manifest.json") &&
               strv_contains(members, "oci-layout") && strv_contains(members, "repositories"),
       "OCI layout plus manifest.json and repositories");
    _cleanup_free_ char *cfg = xasprintf("blobs/sha256/%s", id + 7);
    ok(strv_contains(members, cfg), "config blob");

    /* remove, then load it back */
    json_t *out = json_array();
    img_remove(id, true, out, NULL);
    json_decref(out);
    ok(!eng_image_resolve("saveme:v1", NULL), "removed");
    _cleanup_strv_ char **lines = strv_new();
    m = (struct mem){ archive.data, archive.len, 0 };
    ok(img_load(mem_read, &m, collect_line, &lines, &err) == 0, "load");
    if (err)
        tap_diag("%s", err->message);
    _cleanup_free_ char *back = eng_image_resolve("saveme:v1", NULL);
    _cleanup_free_ char *back2 = eng_image_resolve("other/name:x", NULL);
    ok(streq_ptr(back, id) && streq_ptr(back2, id), "same ID and both tags after the round trip");
    ok(strv_contains(lines, "Loaded image: saveme:v1\n") &&
               strv_contains(lines, "Loaded image: other/name:x\n"),
       "Loaded image lines");
    mc_buf_free(&archive);
    mc_buf_free(&t);
}

static void
test_hostile_import(const char *root)
{
    _cleanup_free_ char *outside = xasprintf("%s/outside", root);
    _cleanup_free_ char *owned = xasprintf("%s/owned", outside);
    mc_mkdir_p(outside, 0755, NULL);
    struct mc_buf t = MC_BUF_INIT;
    add(&t, "lnk", MC_TAR_SYMLINK, outside, NULL);
    add(&t, "lnk/owned", MC_TAR_FILE, NULL, "x");
    mc_tar_end(&t);
    struct mc_error *err = NULL;
    size_t before = img_count();
    ok(!import_buf(&t, "evil", NULL, &err) && err && strstr(err->message, "lnk/owned"),
       "a hostile layer is refused at import, naming the entry");
    mc_error_free(err);
    ok(!mc_path_exists(owned), "nothing was written outside");
    ok(img_count() == before, "no image was added");
    mc_buf_free(&t);
}

static void
test_rootfs_copy(const char *root)
{
    struct mc_error *err = NULL;
    struct mc_buf t = MC_BUF_INIT;
    rootfs_tar(&t, "layer1\n");
    _cleanup_free_ char *id = import_buf(&t, "rootfs-test", NULL, &err);
    _cleanup_free_ char *cdir = xasprintf("%s/containers/c1", root);
    mc_mkdir_p(cdir, 0700, NULL);
    struct eng_rootfs r;
    ok(eng_rootfs_prepare(id, cdir, ENG_ROOTFS_MOUNT, &r, &err) == 0 && !r.overlay,
       "copy-fallback rootfs");
    if (err)
        tap_diag("%s", err->message);
    _cleanup_free_ char *marker = xasprintf("%s/etc/marker", r.path);
    _cleanup_free_ char *data = NULL;
    mc_read_file(marker, 100, &data, NULL, NULL);
    is_str(data, "layer1\n", "the image's files are in the copy");
    eng_rootfs_clear(&r);
    ok(eng_rootfs_release(cdir, NULL) == 0 && !mc_path_exists(marker), "released");
    mc_buf_free(&t);
}

static void
test_rootfs_overlay(const char *root)
{
    if (geteuid() != 0) {
        tap_skip(4, "overlay root filesystems need root");
        return;
    }
    img_store_close();
    _cleanup_free_ char *oroot = xasprintf("%s/ov", root);
    struct mc_error *err = NULL;
    img_store_open(oroot, true, NULL);
    if (!img_overlay()) {
        tap_skip(4, "overlayfs cannot be mounted here");
        return;
    }
    struct mc_buf t = MC_BUF_INIT;
    rootfs_tar(&t, "overlay\n");
    _cleanup_free_ char *id = import_buf(&t, "ov", NULL, &err);
    _cleanup_free_ char *cdir = xasprintf("%s/c2", oroot);
    mc_mkdir_p(cdir, 0700, NULL);
    struct eng_rootfs r;
    ok(eng_rootfs_prepare(id, cdir, ENG_ROOTFS_MOUNT, &r, &err) == 0 && r.overlay,
       "overlay rootfs mounted");
    if (err)
        tap_diag("%s", err->message);
    _cleanup_free_ char *marker = xasprintf("%s/etc/marker", r.path);
    _cleanup_free_ char *data = NULL;
    mc_read_file(marker, 100, &data, NULL, NULL);
    is_str(data, "overlay\n", "the image's files are visible");
    _cleanup_free_ char *w = xasprintf("%s/etc/new", r.path);
    mc_write_file_atomic(w, "x", 1, 0644, NULL);
    _cleanup_free_ char *up = xasprintf("%s/etc/new", r.upperdir);
    ok(mc_path_exists(up), "writes land in the container's upper directory");
    eng_rootfs_clear(&r);
    ok(eng_rootfs_release(cdir, NULL) == 0 && !mc_path_exists(marker), "unmounted and released");
    mc_buf_free(&t);
}

/* A data root on overlayfs (a machine inside a container): overlay cannot be stacked there, so
 * the store must fall back to copies, and containers still get their root filesystems. */
static void
test_overlay_on_overlay(const char *root)
{
    if (geteuid() != 0) {
        tap_skip(3, "mounting an overlay needs root");
        return;
    }
    _cleanup_free_ char *d = xasprintf("%s/ovl", root);
    _cleanup_free_ char *merged = xasprintf("%s/m", d);
    static const char *const subs[] = { "l", "u", "w", "m" };
    for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", d, subs[i]);
        mc_mkdir_p(p, 0755, NULL);
    }
    _cleanup_free_ char *opts = xasprintf("lowerdir=%s/l,upperdir=%s/u,workdir=%s/w", d, d, d);
    if (mount("overlay", merged, "overlay", 0, opts) < 0) {
        tap_skip(3, "overlayfs cannot be mounted here");
        return;
    }
    img_store_close();
    _cleanup_free_ char *data_root = xasprintf("%s/root", merged);
    img_store_open(data_root, true, NULL);
    ok(!img_overlay(), "a data root on overlayfs falls back to copies");
    struct mc_buf t = MC_BUF_INIT;
    rootfs_tar(&t, "nested\n");
    struct mc_error *err = NULL;
    _cleanup_free_ char *id = import_buf(&t, "nested", NULL, &err);
    _cleanup_free_ char *cdir = xasprintf("%s/c3", data_root);
    mc_mkdir_p(cdir, 0700, NULL);
    struct eng_rootfs r = { 0 };
    ok(id && eng_rootfs_prepare(id, cdir, ENG_ROOTFS_MOUNT, &r, &err) == 0 && !r.overlay,
       "a copied root filesystem there");
    if (err)
        tap_diag("%s", err->message);
    mc_error_free(err);
    _cleanup_free_ char *marker = xasprintf("%s/etc/marker", r.path ? r.path : "");
    _cleanup_free_ char *data = NULL;
    mc_read_file(marker, 100, &data, NULL, NULL);
    is_str(data, "nested\n", "with the image's files");
    eng_rootfs_clear(&r);
    img_store_close();
    umount2(merged, MNT_DETACH);
    mc_buf_free(&t);
}

int
main(void)
{
    const char *root = tap_tmpdir();
    test_references();
    test_changes();
    test_store(root);
    test_save_load(root);
    test_hostile_import(root);
    test_rootfs_copy(root);
    test_rootfs_overlay(root);
    test_overlay_on_overlay(root);
    img_store_close();
    return tap_done();
}
