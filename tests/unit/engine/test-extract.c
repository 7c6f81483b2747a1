/* Safe layer extraction: a corpus of hostile archives (absolute paths, "..", symlink and hard
 * link escapes, symlink-then-file, devices) must be refused or neutralised with nothing written
 * outside the target, checked by comparing a snapshot of everything around the target; and
 * whiteouts (apply and overlay forms), with openat2 and with the O_NOFOLLOW walk. */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs.h"
#include "layer-extract.h"
#include "strbuf.h"
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

static void
add_entry(struct mc_buf *b, const char *name, char type, const char *link, const char *data,
          uint32_t mode, uint32_t maj, uint32_t min)
{
    size_t len = data ? strlen(data) : 0;
    struct mc_tar_entry e = { .name = (char *)name,
                              .linkname = (char *)(link ? link : ""),
                              .type = type,
                              .mode = mode,
                              .size = (int64_t)len,
                              .mtime = 1700000000,
                              .devmajor = maj,
                              .devminor = min };
    mc_tar_header_write(b, &e);
    if (len) {
        mc_buf_append(b, data, len);
        static const char zeros[MC_TAR_BLOCK];
        mc_buf_append(b, zeros, mc_tar_padding(len));
    }
}

#define FILE_(b, n, d)    add_entry(b, n, MC_TAR_FILE, NULL, d, 0644, 0, 0)
#define DIR_(b, n)        add_entry(b, n, MC_TAR_DIR, NULL, NULL, 0755, 0, 0)
#define SYMLINK(b, n, t)  add_entry(b, n, MC_TAR_SYMLINK, t, NULL, 0777, 0, 0)
#define HARDLINK(b, n, t) add_entry(b, n, MC_TAR_HARDLINK, t, NULL, 0644, 0, 0)

static const char *base; /* the test's tmp dir: target/ and outside/ live here */
static char *target, *outside;

/* Everything under base except target/: names, kinds, sizes, contents, link targets. */
static void
snapshot_dir(const char *dir, const char *rel, struct mc_buf *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    while ((de = readdir(d))) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        names = xreallocarray(names, n + 1, sizeof(char *));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) > 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, names[i]);
        _cleanup_free_ char *r = xasprintf("%s/%s", rel, names[i]);
        if (!*rel && streq(names[i], "target")) {
            free(names[i]);
            continue;
        }
        struct stat st;
        lstat(p, &st);
        mc_buf_printf(out, "%s %o %lld", r, st.st_mode, (long long)st.st_size);
        if (S_ISREG(st.st_mode)) {
            _cleanup_free_ char *data = NULL;
            if (mc_read_file(p, 1 << 20, &data, NULL, NULL) == 0)
                mc_buf_printf(out, " [%s]", data);
        } else if (S_ISLNK(st.st_mode)) {
            char t[4096];
            ssize_t k = readlink(p, t, sizeof(t) - 1);
            mc_buf_printf(out, " -> %.*s", (int)(k > 0 ? k : 0), t);
        }
        mc_buf_putc(out, '\n');
        if (S_ISDIR(st.st_mode))
            snapshot_dir(p, r, out);
        free(names[i]);
    }
    free(names);
}

static char *
snapshot(void)
{
    struct mc_buf b = MC_BUF_INIT;
    snapshot_dir(base, "", &b);
    return b.data ? mc_buf_steal(&b) : xstrdup("");
}

static void
reset(void)
{
    mc_rm_rf(target, NULL);
    mc_mkdir_p(target, 0755, NULL);
    mc_rm_rf(outside, NULL);
    mc_mkdir_p(outside, 0755, NULL);
    _cleanup_free_ char *victim = xasprintf("%s/victim", outside);
    mc_write_file_atomic(victim, "original", 8, 0644, NULL);
}

static int
extract(struct mc_buf *b, const struct eng_extract_opts *o, struct mc_error **err)
{
    static const char zeros[2 * MC_TAR_BLOCK];
    struct mc_buf full = MC_BUF_INIT;
    mc_buf_append(&full, b->data, b->len);
    mc_buf_append(&full, zeros, sizeof(zeros));
    struct mem m = { full.data, full.len, 0 };
    struct mc_tar_reader *r = mc_tar_reader_new(mem_read, &m);
    int dfd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = eng_extract_tar(dfd, r, o, NULL, err);
    close(dfd);
    mc_tar_reader_free(r);
    mc_buf_free(&full);
    return rc;
}

static bool
target_has(const char *rel, mode_t kind)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", target, rel);
    struct stat st;
    return lstat(p, &st) == 0 && (st.st_mode & S_IFMT) == kind;
}

static char *
target_read(const char *rel)
{
    _cleanup_free_ char *p = xasprintf("%s/%s", target, rel);
    char *data = NULL;
    if (mc_read_file(p, 4096, &data, NULL, NULL) < 0)
        return xstrdup("(missing)");
    return data;
}

/* One hostile archive: it must fail with an error naming `names`, or (want_ok) succeed; in
 * both cases nothing outside target/ may change. */
static void
hostile(const char *what, struct mc_buf *b, const char *names, bool want_ok, bool walk)
{
    reset();
    _cleanup_free_ char *before = snapshot();
    struct eng_extract_opts o = { .whiteouts = ENG_WHITEOUT_APPLY, .no_openat2 = walk };
    struct mc_error *err = NULL;
    int rc = extract(b, &o, &err);
    const char *how = walk ? " (O_NOFOLLOW walk)" : "";
    if (want_ok)
        ok(rc == 0, "%s%s: extracted", what, how);
    else
        ok(rc < 0 && err && strstr(err->message, names), "%s%s: refused naming '%s'", what, how,
           names);
    if (err)
        tap_diag("%s", err->message);
    _cleanup_free_ char *after = snapshot();
    if (!is_str(after, before, "%s%s: nothing written outside the target", what, how))
        tap_diag("before:\n%s\nafter:\n%s", before, after);
    mc_error_free(err);
}

static void
test_hostile(bool walk)
{
    struct mc_buf b = MC_BUF_INIT;
    _cleanup_free_ char *abs_victim = xasprintf("%s/victim", outside);

    FILE_(&b, abs_victim, "pwned");
    hostile("absolute path", &b, abs_victim, false, walk);
    mc_buf_reset(&b);

    FILE_(&b, "../outside/victim", "pwned");
    hostile("'..' path", &b, "../outside/victim", false, walk);
    mc_buf_reset(&b);

    DIR_(&b, "a/");
    FILE_(&b, "a/../../outside/victim", "pwned");
    hostile("'..' inside a path", &b, "a/../../outside/victim", false, walk);
    mc_buf_reset(&b);

    SYMLINK(&b, "lnk", "../outside");
    FILE_(&b, "lnk/victim", "pwned");
    hostile("symlink escape (relative)", &b, "lnk/victim", false, walk);
    mc_buf_reset(&b);

    SYMLINK(&b, "lnk", outside);
    FILE_(&b, "lnk/new-file", "pwned");
    hostile("symlink escape (absolute)", &b, "lnk/new-file", false, walk);
    mc_buf_reset(&b);

    SYMLINK(&b, "a", "b");
    SYMLINK(&b, "b", "../../..");
    DIR_(&b, "a/x/");
    hostile("symlink chain escape", &b, "a/x/", false, walk);
    mc_buf_reset(&b);

    HARDLINK(&b, "hl", "../outside/victim");
    hostile("hard link escape", &b, "hl", false, walk);
    mc_buf_reset(&b);

    HARDLINK(&b, "hl", abs_victim);
    hostile("hard link to an absolute path", &b, "hl", false, walk);
    mc_buf_reset(&b);

    SYMLINK(&b, "lnk", "../outside");
    HARDLINK(&b, "hl", "lnk/victim");
    hostile("hard link through a symlink", &b, "hl", false, walk);
    mc_buf_reset(&b);

    /* A symlink, then a file of the same name: the file replaces the link. */
    SYMLINK(&b, "f", "../outside/victim");
    FILE_(&b, "f", "pwned");
    hostile("symlink then file", &b, "", true, walk);
    ok(target_has("f", S_IFREG), "the file replaced the symlink");
    _cleanup_free_ char *fdata = target_read("f");
    is_str(fdata, "pwned", "with the archive's data");
    mc_buf_reset(&b);

    SYMLINK(&b, "d", "../outside");
    DIR_(&b, "d/");
    FILE_(&b, "d/victim", "inside");
    hostile("symlink then directory", &b, "", true, walk);
    ok(target_has("d", S_IFDIR) && target_has("d/victim", S_IFREG),
       "the directory replaced the symlink");
    mc_buf_reset(&b);

    /* PAX long names are cleaned too. */
    char longname[400];
    memset(longname, 'x', sizeof(longname));
    memcpy(longname, "../", 3);
    longname[sizeof(longname) - 1] = '\0';
    FILE_(&b, longname, "pwned");
    hostile("'..' in a PAX long name", &b, "../xxx", false, walk);
    mc_buf_reset(&b);

    add_entry(&b, "dev/null", MC_TAR_CHAR, NULL, NULL, 0666, 1, 3);
    add_entry(&b, "dev/sda", MC_TAR_BLOCKDEV, NULL, NULL, 0660, 8, 0);
    hostile("device nodes without the devices option", &b, "", true, walk);
    ok(!target_has("dev/null", S_IFCHR) && !target_has("dev/sda", S_IFBLK),
       "no device node was created");
    mc_buf_reset(&b);

    mc_buf_free(&b);
}

static void
test_benign(bool walk)
{
    reset();
    struct mc_buf b = MC_BUF_INIT;
    DIR_(&b, "./");
    DIR_(&b, "./usr/");
    DIR_(&b, "./usr/bin/");
    FILE_(&b, "./usr/bin/busybox", "ELF");
    SYMLINK(&b, "./bin", "usr/bin");
    HARDLINK(&b, "./usr/bin/sh", "./usr/bin/busybox");
    FILE_(&b, "etc//passwd", "root:x:0:0::/root:/bin/sh\n");
    add_entry(&b, "fifo", MC_TAR_FIFO, NULL, NULL, 0600, 0, 0);
    if (!walk)
        FILE_(&b, "bin/via-link", "through an inner symlink");
    struct eng_extract_opts o = { .whiteouts = ENG_WHITEOUT_APPLY, .no_openat2 = walk };
    struct mc_error *err = NULL;
    const char *how = walk ? " (walk)" : "";
    ok(extract(&b, &o, &err) == 0, "a normal layer extracts%s", how);
    if (err)
        tap_diag("%s", err->message);
    mc_error_free(err);
    ok(target_has("usr/bin/busybox", S_IFREG) && target_has("bin", S_IFLNK) &&
               target_has("etc/passwd", S_IFREG) && target_has("fifo", S_IFIFO),
       "files, symlinks, parents made on demand, FIFOs%s", how);
    _cleanup_free_ char *a = xasprintf("%s/usr/bin/busybox", target);
    _cleanup_free_ char *h = xasprintf("%s/usr/bin/sh", target);
    struct stat sa, sh;
    ok(stat(a, &sa) == 0 && stat(h, &sh) == 0 && sa.st_ino == sh.st_ino,
       "hard link inside the target%s", how);
    ok(sa.st_mtime == 1700000000, "mtime applied");
    if (!walk)
        ok(target_has("usr/bin/via-link", S_IFREG),
           "writing through a symlink that stays inside (RESOLVE_BENEATH)");
    mc_buf_free(&b);
}

static void
test_whiteouts(void)
{
    reset();
    struct eng_extract_opts o = { .whiteouts = ENG_WHITEOUT_APPLY };
    struct mc_buf b = MC_BUF_INIT;
    FILE_(&b, "a/b", "1");
    FILE_(&b, "a/c", "2");
    FILE_(&b, "a/d/e", "3");
    FILE_(&b, "keep", "4");
    ok(extract(&b, &o, NULL) == 0, "layer 1");
    mc_buf_reset(&b);
    FILE_(&b, "a/.wh.b", "");
    FILE_(&b, ".wh.keep", "");
    ok(extract(&b, &o, NULL) == 0, "layer 2 with whiteouts");
    ok(!target_has("a/b", S_IFREG) && !target_has("keep", S_IFREG) && target_has("a/c", S_IFREG),
       ".wh.NAME removes NAME");
    ok(!target_has("a/.wh.b", S_IFREG), "the whiteout itself is not kept");
    mc_buf_reset(&b);
    FILE_(&b, "a/new", "5");
    FILE_(&b, "a/.wh..wh..opq", "");
    ok(extract(&b, &o, NULL) == 0, "layer 3 with an opaque directory");
    ok(target_has("a/new", S_IFREG) && !target_has("a/c", S_IFREG) && !target_has("a/d", S_IFDIR),
       "opaque: earlier layers' entries go, this layer's stay");
    mc_buf_reset(&b);

    if (geteuid() != 0) {
        tap_skip(3, "overlay whiteouts need root (mknod, trusted xattrs)");
        mc_buf_free(&b);
        return;
    }
    reset();
    o.whiteouts = ENG_WHITEOUT_OVERLAY;
    FILE_(&b, "a/.wh.gone", "");
    DIR_(&b, "o/");
    FILE_(&b, "o/.wh..wh..opq", "");
    ok(extract(&b, &o, NULL) == 0, "overlay-form whiteouts");
    _cleanup_free_ char *g = xasprintf("%s/a/gone", target);
    struct stat st;
    ok(lstat(g, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
       ".wh.gone became a 0:0 character device");
    _cleanup_free_ char *od = xasprintf("%s/o", target);
    char v[4] = "";
    ok(getxattr(od, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y',
       "the opaque marker became trusted.overlay.opaque=y");
    mc_buf_free(&b);
}

static void
test_clean_path(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "./a//b/", "a/b" }, { ".", "" },    { "./", "" },       { "a/./b", "a/b" }, { "a", "a" },
        { "/abs", NULL },     { "..", NULL }, { "a/../b", NULL }, { "a/..", NULL },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        struct mc_error *err = NULL;
        _cleanup_free_ char *got = eng_tar_clean_path(cases[i].in, &err);
        if (cases[i].out)
            is_str(got, cases[i].out, "clean '%s'", cases[i].in);
        else
            ok(!got && err && strstr(err->message, cases[i].in), "refuse '%s'", cases[i].in);
        mc_error_free(err);
    }
}

int
main(void)
{
    base = tap_tmpdir();
    target = xasprintf("%s/target", base);
    outside = xasprintf("%s/outside", base);
    test_clean_path();
    test_hostile(false);
    test_hostile(true);
    test_benign(false);
    test_benign(true);
    test_whiteouts();
    free(target);
    free(outside);
    return tap_done();
}
