/* The provisioner's shell scripts run by real shells on this machine (dash as /bin/sh, and
 * busybox's sh when it is installed): the multi-file installer writes every file byte for byte
 * with its mode, leaves an identical file alone (and says whether the kept file was new, the
 * same or replaced) and refuses input of the wrong length before anything moves; the engine
 * binary's installer checks the sum of what it wrote; the facts script's builtins read this machine's facts right; the gzipped
 * upload unpacks to the same bytes. */
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <zlib.h>

#include "crypto.h"
#include "facts.h"
#include "fs.h"
#include "gzip.h"
#include "install.h"
#include "spawn.h"
#include "strbuf.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const char *tmp;

/* Runs script with shell ("sh" or "busybox"), input on stdin; returns the exit status
 * (stderr in *ret_err). */
static int
run_sh(const char *shell, const char *script, const void *input, size_t len, char **ret_err)
{
    char *const sh[] = { "sh", "-c", (char *)script, NULL };
    char *const bb[] = { "busybox", "sh", "-c", (char *)script, NULL };
    struct mc_spawn_opts o = { .input = input ? input : "",
                               .input_len = len,
                               .timeout_ms = 20000,
                               .capture = MC_SPAWN_CAPTURE_OUT | MC_SPAWN_CAPTURE_ERR };
    struct mc_spawn_result res = { 0 };
    struct mc_error *err = NULL;
    if (mc_spawn(streq(shell, "busybox") ? bb : sh, &o, &res, &err) < 0)
        tap_bail("cannot run %s: %s", shell, err->message);
    int status = res.status;
    if (ret_err) {
        *ret_err = xstrdup(res.err ? res.err : "");
        (*ret_err)[strcspn(*ret_err, "\n")] = '\0'; /* one line for TAP */
    }
    mc_spawn_result_free(&res);
    return status;
}

static char *
read_all(const char *path, size_t *ret_len)
{
    char *data = NULL;
    struct mc_error *err = NULL;
    if (mc_read_file(path, 1 << 20, &data, ret_len, &err) < 0) {
        mc_error_free(err);
        return NULL;
    }
    return data;
}

static bool
has_bytes(const char *path, const void *want, size_t len)
{
    size_t n = 0;
    _cleanup_free_ char *got = read_all(path, &n);
    return got && n == len && memcmp(got, want, len) == 0;
}

static unsigned
mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
}

/* Files left in dir whose names start with a dot: the installer's temporaries. */
static int
temporaries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] == '.' && !streq(e->d_name, ".") && !streq(e->d_name, "..");
    closedir(d);
    return n;
}

static const char bin_bytes[] = "\x7f"
                                "ELF\0\x01\x02\n\nno newline at the end\\n\0";

static void
test_installer(const char *shell)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s", tmp, shell);
    _cleanup_free_ char *sub = xasprintf("%s/etc/machined", dir);
    _cleanup_free_ char *p_text = mc_path_join(sub, "config.json");
    _cleanup_free_ char *p_key = mc_path_join(sub, "server-key.pem");
    _cleanup_free_ char *p_bin = mc_path_join(sub, "tool");
    _cleanup_free_ char *p_same = mc_path_join(dir, "unit.service");
    const char *text = "{\n  \"a\": \"back\\\\slash  and  spaces \",\n\t\"tab\": 1\n}\n\n";
    const char *key = "-----BEGIN KEY-----\nsecret\n-----END KEY-----\n";
    const char *unit = "[Unit]\nDescription=x\n";
    struct mc_error *err = NULL;
    mc_mkdir_p(dir, 0755, &err);
    mc_write_file_atomic(p_same, unit, strlen(unit), 0644, &err);
    struct stat before;
    stat(p_same, &before);
    const struct prov_file files[] = {
        { p_text, 0644, text, strlen(text) },
        { p_key, 0600, key, strlen(key) },
        { p_bin, 0755, bin_bytes, sizeof(bin_bytes) - 1 },
        { p_same, 0644, unit, strlen(unit), true },
    };
    _cleanup_free_ char *script = prov_script_install_files(files, ELEMENTSOF(files));
    _cleanup_buf_ struct mc_buf in = MC_BUF_INIT;
    for (size_t i = 0; i < ELEMENTSOF(files); i++)
        mc_buf_append(&in, files[i].data, files[i].len);
    mc_buf_puts(&in, PROV_INSTALL_END "\n");

    /* Input that ends early, then input that goes on: refused, nothing moved. */
    _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL;
    int rc = run_sh(shell, script, in.data, in.len - 10, &e1);
    ok(rc != 0 && access(p_text, F_OK) < 0 && access(p_bin, F_OK) < 0 && temporaries(sub) == 0,
       "%s: input that ends early is refused before any file moves (%s)", shell, e1);
    _cleanup_buf_ struct mc_buf longer = MC_BUF_INIT;
    mc_buf_append(&longer, in.data, in.len - strlen(PROV_INSTALL_END "\n"));
    mc_buf_puts(&longer, "more\n" PROV_INSTALL_END "\n");
    rc = run_sh(shell, script, longer.data, longer.len, &e2);
    ok(rc != 0 && access(p_text, F_OK) < 0 && temporaries(sub) == 0,
       "%s: input longer than announced is refused (%s)", shell, e2);
    _cleanup_free_ char *said = xasprintf("%secho \"unit_was=$unit_was\" >&2\n", script);
    rc = run_sh(shell, said, in.data, in.len, &e3);
    ok(rc == 0 && streq(e3, "unit_was=same"),
       "%s: the installer succeeds, and says the kept file was the same (%s)", shell, e3);
    ok(has_bytes(p_text, text, strlen(text)) && mode_of(p_text) == 0644,
       "%s: a text file arrives byte for byte (backslashes, tabs, spaces, empty line), 0644",
       shell);
    ok(has_bytes(p_key, key, strlen(key)) && mode_of(p_key) == 0600, "%s: the key, 0600", shell);
    ok(has_bytes(p_bin, bin_bytes, sizeof(bin_bytes) - 1) && mode_of(p_bin) == 0755,
       "%s: bytes with NULs and no final newline arrive whole, 0755", shell);
    struct stat after;
    stat(p_same, &after);
    ok(after.st_ino == before.st_ino && after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
               after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
       "%s: an identical file is left as it was (same inode and time)", shell);
    ok(temporaries(sub) == 0 && temporaries(dir) == 0, "%s: no temporary file is left", shell);

    /* A changed file replaces the old one. */
    const char *unit2 = "[Unit]\nDescription=y\n";
    const struct prov_file again[] = { { p_same, 0644, unit2, strlen(unit2), true } };
    _cleanup_free_ char *s2 = prov_script_install_files(again, 1);
    _cleanup_free_ char *s2said = xasprintf("%secho \"unit_was=$unit_was\" >&2\n", s2);
    _cleanup_free_ char *in2 = xasprintf("%s%s\n", unit2, PROV_INSTALL_END);
    _cleanup_free_ char *e4 = NULL, *e5 = NULL;
    rc = run_sh(shell, s2said, in2, strlen(in2), &e4);
    ok(rc == 0 && has_bytes(p_same, unit2, strlen(unit2)) && streq(e4, "unit_was=replaced"),
       "%s: a changed file is replaced, and said so (%s)", shell, e4);
    unlink(p_same);
    rc = run_sh(shell, s2said, in2, strlen(in2), &e5);
    ok(rc == 0 && has_bytes(p_same, unit2, strlen(unit2)) && streq(e5, "unit_was=new"),
       "%s: a file that was not there is new (%s)", shell, e5);
    mc_error_free(err);
}

/* The engine binary's installer, with /usr/local/bin replaced by a folder of the test: gzipped
 * or not, the bytes arrive and are checked by their sha256 as they are written; damaged bytes
 * are refused and leave nothing. */
static void
test_binary(const char *shell)
{
    _cleanup_free_ char *dir = xasprintf("%s/%s-bin", tmp, shell);
    struct mc_error *err = NULL;
    mc_mkdir_p(dir, 0755, &err);
    _cleanup_free_ char *bin = mc_path_join(dir, "machined");
    _cleanup_buf_ struct mc_buf data = MC_BUF_INIT;
    for (int i = 0; i < 50000; i++)
        mc_buf_printf(&data, "%d\x01%c", i, i % 251);
    char sum[MC_SHA256_HEX_LEN + 1];
    mc_sha256_hex(data.data, data.len, sum);
    for (int gz = 0; gz <= 1; gz++) {
        _cleanup_free_ char *s0 = prov_script_install_binary(sum, gz);
        _cleanup_free_ char *script = NULL;
        _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
        for (const char *p = s0, *q; *p; p = q + strlen("/usr/local/bin")) {
            if (!(q = strstr(p, "/usr/local/bin"))) {
                mc_buf_puts(&b, p);
                break;
            }
            mc_buf_append(&b, p, (size_t)(q - p));
            mc_buf_puts(&b, dir);
        }
        script = mc_buf_steal(&b);
        _cleanup_buf_ struct mc_buf in = MC_BUF_INIT;
        if (gz)
            prov_gzip(data.data, data.len, 1, &in, &err);
        else
            mc_buf_append(&in, data.data, data.len);
        unlink(bin);
        _cleanup_free_ char *e1 = NULL, *e2 = NULL;
        int rc = run_sh(shell, script, in.data, in.len - 100, &e1);
        ok(rc == 65 && access(bin, F_OK) < 0 && temporaries(dir) == 0,
           "%s: a %s binary cut short is refused, nothing left (%s)", shell,
           gz ? "gzipped" : "plain", e1);
        rc = run_sh(shell, script, in.data, in.len, &e2);
        ok(rc == 0 && has_bytes(bin, data.data, data.len) && mode_of(bin) == 0755 &&
                   temporaries(dir) == 0,
           "%s: a %s binary arrives whole, 0755, its sum checked (%s)", shell,
           gz ? "gzipped" : "plain", e2);
    }
    mc_error_free(err);
}

static void
test_facts_script(void)
{
    /* A sudo that says no, so that the test asks no real sudo anything. */
    _cleanup_free_ char *bin = xasprintf("%s/fakebin", tmp);
    _cleanup_free_ char *sudo = mc_path_join(bin, "sudo");
    struct mc_error *err = NULL;
    mc_mkdir_p(bin, 0755, &err);
    const char *fake = "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n";
    mc_write_file_atomic(sudo, fake, strlen(fake), 0755, &err);
    _cleanup_free_ char *script = xasprintf("PATH=%s:$PATH\n%s", bin, prov_facts_script());
    char *argv[] = { "sh", "-c", script, NULL };
    struct mc_spawn_opts o = { .timeout_ms = 20000, .capture = MC_SPAWN_CAPTURE_OUT };
    struct mc_spawn_result res = { 0 };
    if (mc_spawn(argv, &o, &res, &err) < 0)
        tap_bail("facts script: %s", err->message);
    struct prov_facts f = { 0 };
    ok(res.status == 0 && prov_facts_parse(res.out, &f, &err) == 0,
       "the facts script runs here and parses");
    struct utsname u;
    uname(&u);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    is_str(f.arch, u.machine, "arch (the last word of uname -r -m)");
    is_str(f.kernel, u.release, "kernel (the first word)");
    is_str(f.hostname, host, "the kernel's host name, read by the shell");
    is_int(f.uid, (int)getuid(), "uid");
    ok(f.cgroup != PROV_CGROUP_UNKNOWN, "cgroup mode from /proc/self/mounts: %s",
       prov_cgroup_name(f.cgroup));
    ok(f.have_tools, "the tools section is there (gzip %s)", f.has_gzip ? "found" : "absent");
    prov_facts_clear(&f);
    mc_spawn_result_free(&res);
    mc_error_free(err);
}

static void
test_gzip(void)
{
    _cleanup_buf_ struct mc_buf data = MC_BUF_INIT;
    for (int i = 0; i < 200000; i++)
        mc_buf_printf(&data, "%d %s\n", i, i % 7 ? "machined" : "\x01\x02");
    _cleanup_buf_ struct mc_buf gz = MC_BUF_INIT;
    struct mc_error *err = NULL;
    int rc = prov_gzip(data.data, data.len, 1, &gz, &err);
    ok(rc == 0 && gz.len < data.len / 2, "gzip at level 1: %zu bytes to %zu", data.len, gz.len);
    _cleanup_free_ char *back = xmalloc(data.len + 1);
    z_stream z = { 0 };
    inflateInit2(&z, 15 + 16);
    z.next_in = (Bytef *)gz.data;
    z.avail_in = (uInt)gz.len;
    z.next_out = (Bytef *)back;
    z.avail_out = (uInt)data.len + 1;
    rc = inflate(&z, Z_FINISH);
    ok(rc == Z_STREAM_END && z.total_out == data.len && memcmp(back, data.data, data.len) == 0,
       "it unpacks (gzip format) to the same bytes");
    inflateEnd(&z);
    mc_error_free(err);
}

int
main(void)
{
    tmp = tap_tmpdir();
    signal(SIGPIPE, SIG_IGN); /* a refused input may close the script's stdin early */
    test_installer("sh");
    test_binary("sh");
    char *argv[] = { "busybox", "true", NULL };
    struct mc_spawn_opts o = { .capture = MC_SPAWN_CAPTURE_OUT | MC_SPAWN_CAPTURE_ERR };
    struct mc_spawn_result res = { 0 };
    struct mc_error *err = NULL;
    if (mc_spawn(argv, &o, &res, &err) == 0 && res.status == 0) {
        test_installer("busybox");
        test_binary("busybox");
    } else
        tap_skip(14, "busybox is not installed (its sh is the shell of minimal hosts)");
    mc_spawn_result_free(&res);
    mc_error_free(err);
    test_facts_script();
    test_gzip();
    return tap_done();
}
