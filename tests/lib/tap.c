#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#ifndef MC_SOURCE_ROOT
#error "MC_SOURCE_ROOT must be defined by the build"
#endif

static int n_tests;
static int n_failed;
static char *tmpdir;

static void
vreport(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
    n_tests++;
    if (!pass)
        n_failed++;
    printf("%s %d - ", pass ? "ok" : "not ok", n_tests);
    vprintf(fmt, ap);
    printf("\n");
    if (!pass)
        printf("#   failed at %s:%d\n", file, line);
    fflush(stdout);
}

bool
tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(cond, file, line, fmt, ap);
    va_end(ap);
    return cond;
}

bool
tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
    bool pass = streq_ptr(got, want);
    va_list ap;
    va_start(ap, fmt);
    vreport(pass, file, line, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
    return pass;
}

bool
tap_is_int(int64_t got, int64_t want, const char *file, int line, const char *fmt, ...)
{
    bool pass = got == want;
    va_list ap;
    va_start(ap, fmt);
    vreport(pass, file, line, fmt, ap);
    va_end(ap);
    if (!pass)
        printf("#   got:  %lld\n#   want: %lld\n", (long long)got, (long long)want);
    return pass;
}

void
tap_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    /* every line a comment, or TAP readers see unknown lines */
    for (char *line = text, *nl; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl && nl[1] == '\0') {
            *nl = '\0';
            nl = NULL;
        }
        printf("# %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
    }
    free(text);
    fflush(stdout);
}

void
tap_skip(int n, const char *reason)
{
    for (int i = 0; i < n; i++)
        printf("ok %d # SKIP %s\n", ++n_tests, reason);
}

int
tap_done(void)
{
    printf("1..%d\n", n_tests);
    if (n_failed)
        printf("# %d of %d failed\n", n_failed, n_tests);
    fflush(stdout);
    return n_failed ? 1 : 0;
}

void
tap_skip_all(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("1..0 # SKIP ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    /* Under meson's TAP protocol the skip is the plan line above; exit status 77 would be read
     * as an error there (it means "skipped" only for the exitcode protocol). */
    exit(0);
}

void
tap_bail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("Bail out! ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    exit(1);
}

static void
remove_tmpdir(void)
{
    const char *keep = getenv("MACHINE_TEST_KEEP");
    if (tmpdir && !(keep && streq(keep, "1")))
        mc_rm_rf(tmpdir, NULL);
}

const char *
tap_tmpdir(void)
{
    if (tmpdir)
        return tmpdir;
    const char *base = getenv("TMPDIR");
    tmpdir = xasprintf("%s/machine-test-XXXXXX", isempty(base) ? "/tmp" : base);
    if (!mkdtemp(tmpdir))
        tap_bail("cannot create a temporary folder: %s", strerror(errno));
    atexit(remove_tmpdir);
    return tmpdir;
}

const char *
tap_srcdir(void)
{
    const char *s = getenv("MACHINE_TEST_SRCDIR");
    return isempty(s) ? MC_SOURCE_ROOT : s;
}

char *
tap_data_path(const char *rel)
{
    return xasprintf("%s/tests/data/%s", tap_srcdir(), rel);
}

bool
tap_golden(const char *got, const char *name, const char *file, int line)
{
    _cleanup_free_ char *rel = xasprintf("golden/%s", name);
    _cleanup_free_ char *path = tap_data_path(rel);
    const char *regen = getenv("MACHINE_TEST_REGENERATE");
    if (regen && streq(regen, "1")) {
        _cleanup_free_ char *dir = mc_dirname(path);
        mc_mkdir_p(dir, 0755, NULL);
        mc_write_file_atomic(path, got, strlen(got), 0644, NULL);
    }
    _cleanup_free_ char *want = NULL;
    if (mc_read_file(path, 1 << 24, &want, NULL, NULL) < 0)
        return tap_ok(false, file, line, "golden file '%s' exists", name);
    bool pass = streq(got, want);
    tap_ok(pass, file, line, "output matches golden file '%s'", name);
    if (!pass)
        printf("#   got:\n%s\n#   want:\n%s\n", got, want);
    return pass;
}
