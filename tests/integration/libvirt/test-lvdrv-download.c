/* Image downloads against a loopback HTTP server (tests/hosts/libvirt/serve.py): the publisher's
 * checksum list, the cache by digest, resume after a dropped connection, a server that cannot
 * resume, a checksum mismatch (the download is deleted), a missing file, and no checksum at all.
 * Only 127.0.0.1 is contacted. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto.h"
#include "fs.h"
#include "lvdrv-internal.h"
#include "spawn.h"
#include "strbuf.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#define ZEROS "sha256:0000000000000000000000000000000000000000000000000000000000000000"

struct server {
    pid_t pid;
    int out;
    int port;
    char *root;
    char *log;
};

static struct server servers[4];
static size_t n_servers;

static void
stop_servers(void)
{
    for (size_t i = 0; i < n_servers; i++)
        if (servers[i].pid > 0) {
            kill(servers[i].pid, SIGTERM);
            waitpid(servers[i].pid, NULL, 0);
        }
}

/* Starts serve.py over root with extra options (NULL-terminated). */
static struct server *
serve(const char *root, const char *opt1, const char *opt2)
{
    struct server *s = &servers[n_servers++];
    s->root = xstrdup(root);
    s->log = xasprintf("%s.log", root);
    _cleanup_free_ char *script = xasprintf("%s/tests/hosts/libvirt/serve.py", tap_srcdir());
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        tap_bail("pipe: %s", strerror(errno));
    s->pid = fork();
    if (s->pid == 0) {
        int logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(out[1], 1);
        dup2(logfd, 2);
        execlp("python3", "python3", script, root, opt1, opt2, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    /* The read end stays open while the server runs: it writes nothing more, but must never
     * meet a closed pipe. */
    s->out = out[0];
    char buf[32] = { 0 };
    size_t have = 0;
    while (have < sizeof(buf) - 1 && !strchr(buf, '\n')) {
        ssize_t n = read(out[0], buf + have, sizeof(buf) - 1 - have);
        if (n <= 0)
            tap_bail("serve.py did not start");
        have += (size_t)n;
    }
    buf[strcspn(buf, "\n")] = '\0';
    if (mc_parse_int(buf, &s->port) < 0)
        tap_bail("serve.py printed no port: '%s'", buf);
    return s;
}

static char *
url(const struct server *s, const char *path)
{
    return xasprintf("http://127.0.0.1:%d/%s", s->port, path);
}

static char *
server_log(const struct server *s)
{
    char *data = NULL;
    if (mc_read_file(s->log, 1 << 20, &data, NULL, NULL) < 0)
        return xstrdup("");
    return data;
}

/* A file of n pseudo-random bytes; returns its SHA-256 hex. */
static char *
make_file(const char *path, size_t n)
{
    _cleanup_free_ uint8_t *data = xmalloc(n);
    mc_random_bytes(data, n);
    if (mc_write_file_atomic(path, data, n, 0644, NULL) < 0)
        tap_bail("cannot write '%s'", path);
    char hex[65];
    mc_sha256_hex(data, n, hex);
    return xstrdup(hex);
}

/* Writes the checksum list (sha512sum or sha256sum) of dir/name into dir/list. */
static void
make_sums(const char *dir, const char *tool, const char *name, const char *list)
{
    char *argv[] = { (char *)tool, (char *)name, NULL };
    struct mc_spawn_opts o = { .cwd = dir, .capture = MC_SPAWN_CAPTURE_OUT, .timeout_ms = 30000 };
    struct mc_spawn_result r = { 0 };
    if (mc_spawn(argv, &o, &r, NULL) < 0 || r.status != 0)
        tap_bail("%s failed", tool);
    _cleanup_free_ char *p = xasprintf("%s/%s", dir, list);
    if (mc_write_file_atomic(p, r.out, r.out_len, 0644, NULL) < 0)
        tap_bail("cannot write '%s'", p);
    mc_spawn_result_free(&r);
}

static int progress_lines;

static void
count_progress(struct driver_ctx *ctx, const char *msg)
{
    if (startswith(msg, "downloading") || startswith(msg, "resuming"))
        progress_lines++;
}

static bool
no_part_files(const char *cache)
{
    _cleanup_free_ char *dir = xasprintf("%s/images/partial", cache);
    _cleanup_closedir_ DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (endswith(e->d_name, ".part"))
            return false;
    return true;
}

static size_t
count(const char *haystack, const char *needle)
{
    size_t n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void
test_publisher_sums(struct driver_ctx *ctx, const char *cache, const char *www)
{
    _cleanup_free_ char *file = xasprintf("%s/disk.img", www);
    _cleanup_free_ char *hex = make_file(file, 3 << 20);
    make_sums(www, "sha512sum", "disk.img", "SHA512SUMS");
    struct server *s = serve(www, NULL, NULL);
    _cleanup_free_ char *u = url(s, "disk.img");

    struct lvdrv_image img = { 0 };
    _cleanup_error_ struct mc_error *e = NULL;
    int r = lvdrv_image_prepare(ctx, cache, u, NULL, &img, &e);
    is_int(r, 0, "a URL with the publisher's SHA512SUMS downloads %s", e ? e->message : "");
    is_str(img.sha256, hex, "the cached file is the served one");
    _cleanup_free_ char *want = xasprintf("%s/images/sha256/%s", cache, hex);
    is_str(img.path, want, "cached by its digest");
    ok(progress_lines > 0, "with progress lines (%d)", progress_lines);
    lvdrv_image_clear(&img);

    is_int(lvdrv_image_prepare(ctx, cache, u, NULL, &img, NULL), 0, "the same URL again");
    _cleanup_free_ char *log = server_log(s);
    is_int(count(log, "GET /disk.img "), 1, "is not downloaded again");
    is_int(count(log, "GET /SHA512SUMS "), 2, "(its checksum is asked each time)");
    lvdrv_image_clear(&img);
}

static void
test_resume(struct driver_ctx *ctx, const char *cache, const char *www, bool ranges)
{
    const char *name = ranges ? "resume.img" : "norange.img";
    _cleanup_free_ char *file = xasprintf("%s/%s", www, name);
    _cleanup_free_ char *hex = make_file(file, 4 << 20);
    _cleanup_free_ char *sum = xasprintf("sha256:%s", hex);
    struct server *s = serve(www, "--cut-after=1048576", ranges ? NULL : "--ignore-range");
    _cleanup_free_ char *u = url(s, name);
    struct lvdrv_image img = { 0 };
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(lvdrv_image_prepare(ctx, cache, u, sum, &img, &e), -1,
           "%s: a connection dropped after 1 MiB fails the download", name);
    ok(mc_error_is(e, MC_ERR_IO), "as a transport error: %s", e ? e->message : "");
    ok(!no_part_files(cache), "and keeps what arrived");
    _cleanup_error_ struct mc_error *e2 = NULL;
    int r = lvdrv_image_prepare(ctx, cache, u, sum, &img, &e2);
    is_int(r, 0, "%s: the next create finishes the download %s", name, e2 ? e2->message : "");
    is_str(img.sha256, hex, "with the right content");
    _cleanup_free_ char *log = server_log(s);
    if (ranges)
        ok(strstr(log, "GET /resume.img bytes=1048576- -> 206"),
           "by asking for the rest only (206)");
    else
        ok(strstr(log, "GET /norange.img bytes=1048576- -> 200") &&
                   count(log, "GET /norange.img - -> 200") == 2,
           "from the start again, when the server ignores the range");
    ok(no_part_files(cache), "no partial file is left");
    lvdrv_image_clear(&img);
}

static void
test_failures(struct driver_ctx *ctx, const char *cache, const char *www)
{
    _cleanup_free_ char *file = xasprintf("%s/bad.img", www);
    _cleanup_free_ char *hex = make_file(file, 1 << 20);
    struct server *s = serve(www, NULL, NULL);
    struct lvdrv_image img = { 0 };

    _cleanup_free_ char *u = url(s, "bad.img");
    _cleanup_error_ struct mc_error *e = NULL;
    is_int(lvdrv_image_prepare(ctx, cache, u, ZEROS, &img, &e), -1, "a checksum mismatch fails");
    ok(e && strstr(e->message, "does not match its checksum (expected " ZEROS ", got sha256:") &&
               strstr(e->message, "the download was deleted"),
       "saying so: %s", e ? e->message : "");
    _cleanup_free_ char *cached = xasprintf("%s/images/sha256/%s", cache, hex);
    ok(no_part_files(cache) && !mc_path_exists(cached), "and the download is deleted");

    _cleanup_free_ char *u404 = url(s, "missing.img");
    _cleanup_error_ struct mc_error *e2 = NULL;
    is_int(lvdrv_image_prepare(ctx, cache, u404, ZEROS, &img, &e2), -1, "a missing file fails");
    ok(mc_error_is(e2, MC_ERR_NOT_FOUND) && strstr(e2->message, "answered HTTP 404"),
       "with the HTTP status: %s", e2 ? e2->message : "");
    ok(no_part_files(cache), "leaving no file");

    _cleanup_error_ struct mc_error *e3 = NULL;
    is_int(lvdrv_image_prepare(ctx, cache, u, NULL, &img, &e3), -1,
           "a URL without a checksum list, and no checksum given");
    ok(e3 && strstr(e3->message, "has no SHA512SUMS or SHA256SUMS next to it: pass its checksum "
                                 "with --libvirt-image-checksum"),
       "is refused: %s", e3 ? e3->message : "");

    make_sums(www, "sha256sum", "bad.img", "SHA256SUMS");
    _cleanup_error_ struct mc_error *e4 = NULL;
    int r = lvdrv_image_prepare(ctx, cache, u, NULL, &img, &e4);
    is_int(r, 0, "a publisher's SHA256SUMS serves too %s", e4 ? e4->message : "");
    is_str(img.sha256, hex, "with the right content");
    lvdrv_image_clear(&img);
}

static char *
subdir(const char *name)
{
    char *d = xasprintf("%s/%s", tap_tmpdir(), name);
    if (mc_mkdir_p(d, 0755, NULL) < 0)
        tap_bail("cannot make '%s'", d);
    return d;
}

int
main(void)
{
    atexit(stop_servers);
    signal(SIGPIPE, SIG_IGN);
    _cleanup_free_ char *cache = subdir("cache");
    _cleanup_free_ char *www1 = subdir("www1");
    _cleanup_free_ char *www2 = subdir("www2");
    _cleanup_free_ char *www3 = subdir("www3");
    _cleanup_free_ char *www4 = subdir("www4");
    struct driver_ctx ctx = { .name = "dl", .dir = tap_tmpdir(), .progress = count_progress };
    test_publisher_sums(&ctx, cache, www1);
    test_resume(&ctx, cache, www2, true);
    test_resume(&ctx, cache, www3, false);
    test_failures(&ctx, cache, www4);
    return tap_done();
}
