/* common/tar: header parsing, PAX and GNU long names, the streaming reader, and the writer
 * (round trips, and archives made by GNU tar in ustar, gnu and pax formats). */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "spawn.h"
#include "strbuf.h"
#include "tap.h"
#include "tar.h"
#include "util.h"
#include "xalloc.h"

struct mem {
    const char *data;
    size_t len, pos;
    size_t step; /* at most this many bytes per read, to exercise buffering */
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n, struct mc_error **err)
{
    struct mem *m = ctx;
    size_t left = m->len - m->pos;
    if (n > left)
        n = left;
    if (m->step && n > m->step)
        n = m->step;
    memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

static void
add(struct mc_buf *b, const char *name, char type, const char *link, const char *data)
{
    size_t len = data ? strlen(data) : 0;
    struct mc_tar_entry e = { .name = (char *)name,
                              .linkname = (char *)(link ? link : ""),
                              .type = type,
                              .mode = type == MC_TAR_DIR ? 0755 : 0644,
                              .uid = 1000,
                              .gid = 1000,
                              .size = (int64_t)len,
                              .mtime = 1700000000,
                              .uname = (char *)"user",
                              .gname = (char *)"group" };
    mc_tar_header_write(b, &e);
    if (len) {
        mc_buf_append(b, data, len);
        static const char zeros[MC_TAR_BLOCK];
        mc_buf_append(b, zeros, mc_tar_padding(len));
    }
}

static void
test_roundtrip(void)
{
    struct mc_buf b = MC_BUF_INIT;
    char longname[300];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    memcpy(longname, "deep/", 5);
    char splittable[180];
    memset(splittable, 'p', 120);
    memcpy(splittable + 120, "/file-with-a-short-base", 24);
    add(&b, "dir/", MC_TAR_DIR, NULL, NULL);
    add(&b, "dir/hello.txt", MC_TAR_FILE, NULL, "hello, world\n");
    add(&b, longname, MC_TAR_FILE, NULL, "long");
    add(&b, splittable, MC_TAR_FILE, NULL, "split");
    add(&b, "link", MC_TAR_SYMLINK, longname, NULL);
    struct mc_tar_entry big = {
        .name = (char *)"big", .type = MC_TAR_FILE, .size = 0, .uid = 10000000, .gid = 5, .mtime = 1
    };
    mc_tar_header_write(&b, &big);
    mc_tar_end(&b);
    ok(b.len % MC_TAR_BLOCK == 0, "archive is whole blocks");

    for (size_t step = 0; step <= 700; step += 350) {
        struct mem m = { b.data, b.len, 0, step };
        struct mc_tar_reader *r = mc_tar_reader_new(mem_read, &m);
        const struct mc_tar_entry *e;
        struct mc_error *err = NULL;
        ok(mc_tar_reader_next(r, &e, &err) == 1 && streq(e->name, "dir/") &&
                   e->type == MC_TAR_DIR && e->mode == 0755,
           "dir entry (read step %zu)", step);
        ok(mc_tar_reader_next(r, &e, &err) == 1 && streq(e->name, "dir/hello.txt") &&
                   e->size == 13 && e->uid == 1000 && e->mtime == 1700000000 &&
                   streq(e->uname, "user"),
           "file header");
        char buf[64] = "";
        ssize_t n = mc_tar_reader_data(r, buf, 5, &err);
        ok(n == 5 && memcmp(buf, "hello", 5) == 0, "partial data read");
        ok(mc_tar_reader_next(r, &e, &err) == 1 && streq(e->name, longname) && e->size == 4,
           "300-byte name through PAX (rest of the previous data skipped)");
        ok(mc_tar_reader_data(r, buf, sizeof(buf), &err) == 4 && memcmp(buf, "long", 4) == 0,
           "its data");
        ok(mc_tar_reader_next(r, &e, &err) == 1 && streq(e->name, splittable),
           "name split into ustar prefix and name");
        ok(mc_tar_reader_next(r, &e, &err) == 1 && e->type == MC_TAR_SYMLINK &&
                   streq(e->linkname, longname),
           "long symlink target through PAX linkpath");
        ok(mc_tar_reader_next(r, &e, &err) == 1 && e->uid == 10000000, "large uid through PAX");
        ok(mc_tar_reader_next(r, &e, &err) == 0, "end of archive");
        ok(err == NULL, "no error");
        mc_error_free(err);
        mc_tar_reader_free(r);
    }
    mc_buf_free(&b);
}

static void
test_bad(void)
{
    uint8_t block[MC_TAR_BLOCK] = { 0 };
    struct mc_tar_entry e;
    struct mc_error *err = NULL;
    ok(mc_tar_header_parse(block, &e, &err) == 0, "zero block is the end marker");
    memcpy(block, "name", 4);
    ok(mc_tar_header_parse(block, &e, &err) < 0 && err, "bad checksum refused");
    mc_error_free(err);
    err = NULL;

    struct mc_buf b = MC_BUF_INIT;
    add(&b, "f", MC_TAR_FILE, NULL, "0123456789");
    struct mem m = { b.data, MC_TAR_BLOCK + 4, 0, 0 }; /* truncated inside the data */
    struct mc_tar_reader *r = mc_tar_reader_new(mem_read, &m);
    const struct mc_tar_entry *ep;
    char buf[16];
    ok(mc_tar_reader_next(r, &ep, &err) == 1, "header of a truncated file");
    ok(mc_tar_reader_data(r, buf, 16, &err) == 4, "the part that exists");
    ok(mc_tar_reader_data(r, buf, 16, &err) < 0 && err, "then a truncation error");
    mc_error_free(err);
    err = NULL;
    mc_tar_reader_free(r);

    e = (struct mc_tar_entry){ 0 };
    e.name = xstrdup("x");
    ok(mc_tar_pax_apply("5 a=b", 5, &e, &err) < 0, "PAX record without newline refused");
    mc_error_free(err);
    err = NULL;
    ok(mc_tar_pax_apply("99 path=x\n", 10, &e, &err) < 0, "PAX length beyond the data refused");
    mc_error_free(err);
    err = NULL;
    ok(mc_tar_pax_apply("12 size=-1\n", 11, &e, &err) < 0, "negative PAX size refused");
    mc_error_free(err);
    err = NULL;
    ok(mc_tar_pax_apply("27 SCHILY.xattr.user.k=v\0w\n", 27, &e, &err) == 0 && e.n_xattrs == 1 &&
               e.xattrs[0].len == 3 && streq(e.xattrs[0].name, "user.k"),
       "binary xattr values kept whole");
    mc_tar_entry_clear(&e);
    mc_buf_free(&b);
}

/* Archives written by GNU tar in its three formats read back the same. */
static void
test_gnu_tar(void)
{
    const char *tmp = tap_tmpdir();
    _cleanup_free_ char *src = xasprintf("%s/src", tmp);
    char longdir[200];
    memset(longdir, 'd', 150);
    longdir[150] = '\0';
    _cleanup_free_ char *deep = xasprintf("%s/%s", src, longdir);
    mc_mkdir_p(deep, 0755, NULL);
    _cleanup_free_ char *f = xasprintf("%s/file.txt", deep);
    mc_write_file_atomic(f, "data\n", 5, 0640, NULL);
    _cleanup_free_ char *l = xasprintf("%s/lnk", src);
    if (symlink("target-of-link", l) < 0)
        tap_diag("symlink failed");
    static const char *const formats[] = { "ustar", "gnu", "pax" };
    for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
        _cleanup_free_ char *out = xasprintf("%s/a-%s.tar", tmp, formats[i]);
        _cleanup_free_ char *fmt = xasprintf("--format=%s", formats[i]);
        char *argv[] = { "tar", fmt, "-C", src, "-cf", out, ".", NULL };
        struct mc_spawn_opts o = { .capture = MC_SPAWN_CAPTURE_ERR };
        struct mc_spawn_result res = { 0 };
        if (mc_spawn(argv, &o, &res, NULL) < 0 || res.status != 0) {
            /* ustar cannot hold a 161-byte path: tar refuses, which is fine */
            ok(streq(formats[i], "ustar"), "GNU tar made a %s archive", formats[i]);
            mc_spawn_result_free(&res);
            continue;
        }
        mc_spawn_result_free(&res);
        _cleanup_free_ char *data = NULL;
        size_t len;
        mc_read_file(out, 1 << 20, &data, &len, NULL);
        struct mem m = { data, len, 0, 0 };
        struct mc_tar_reader *r = mc_tar_reader_new(mem_read, &m);
        const struct mc_tar_entry *e;
        bool found_file = false, found_link = false;
        int rc;
        _cleanup_free_ char *want = xasprintf("./%s/file.txt", longdir);
        while ((rc = mc_tar_reader_next(r, &e, NULL)) == 1) {
            if (streq(e->name, want)) {
                char buf[8];
                found_file = e->size == 5 && e->mode == 0640 &&
                             mc_tar_reader_data(r, buf, 8, NULL) == 5 && !memcmp(buf, "data\n", 5);
            }
            if (streq(e->name, "./lnk"))
                found_link = e->type == MC_TAR_SYMLINK && streq(e->linkname, "target-of-link");
        }
        ok(rc == 0 && found_file && found_link, "GNU tar --format=%s read back", formats[i]);
        mc_tar_reader_free(r);
    }
}

int
main(void)
{
    test_roundtrip();
    test_bad();
    test_gnu_tar();
    return tap_done();
}
