/* The SSH layer against a real sshd in a test host (run by ssh-session.py, which brings the host
 * up and passes SSH_HOST, SSH_KEY and TESTHOST_NAME): pinning, exec with separate streams and
 * exit status, a streamed stdin checked on the host, deadlines, signals, session reuse. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "fs.h"
#include "ssh.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static struct prov_ssh_config cfg;

static int
run(struct prov_ssh *s, const char *cmd, struct prov_ssh_io *io, struct prov_ssh_result *res,
    struct mc_error **err)
{
    if (!io->deadline_ms)
        io->deadline_ms = mc_now_ms() + 20000;
    return prov_ssh_exec(s, cmd, io, res, err);
}

static void
test_exec(struct prov_ssh *s)
{
    struct mc_error *err = NULL;
    struct prov_ssh_io io = PROV_SSH_IO_INIT;
    struct prov_ssh_result r;
    ok(run(s, "echo out; echo err >&2; exit 3", &io, &r, &err) == 0, "exec runs");
    ok(r.status == 3 && streq(r.out, "out\n") && streq(r.err, "err\n"),
       "exit status and separate stdout and stderr");
    prov_ssh_result_clear(&r);

    io = (struct prov_ssh_io)PROV_SSH_IO_INIT;
    io.in = "a\nb\n";
    io.in_len = 4;
    ok(run(s, "wc -l", &io, &r, &err) == 0 && streq(r.out, "2\n"), "stdin bytes reach the command");
    prov_ssh_result_clear(&r);

    io = (struct prov_ssh_io)PROV_SSH_IO_INIT;
    bool ran = run(s, "kill -TERM $$", &io, &r, &err) == 0;
    ok(ran && r.status == 128 + 15 && r.signal && streq(r.signal, "TERM"),
       "a command killed by a signal: 128+15 and the signal's name (%d)", r.status);
    prov_ssh_result_clear(&r);
    mc_error_free(err);
}

static void
test_stream(struct prov_ssh *s)
{
    /* 8 MB of random bytes streamed from a file; the host's sha256 must be ours. */
    size_t n = 8 << 20;
    _cleanup_free_ uint8_t *data = xmalloc(n);
    mc_random_bytes(data, n);
    _cleanup_free_ char *path = mc_path_join(tap_tmpdir(), "blob");
    struct mc_error *err = NULL;
    mc_write_file_atomic(path, data, n, 0600, &err);
    char want[65];
    mc_sha256_hex(data, n, want);
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct prov_ssh_io io = PROV_SSH_IO_INIT;
    io.in_fd = fd;
    struct prov_ssh_result r;
    int64_t t0 = mc_now_ms();
    ok(run(s, "sha256sum", &io, &r, &err) == 0 && startswith(r.out, want),
       "8 MB streamed from a file arrive intact (sha256 checked on the host)");
    int64_t ms = mc_now_ms() - t0;
    tap_diag("8 MB in %lld ms (%.1f MB/s)", (long long)ms, 8.0 * 1000 / (double)(ms ? ms : 1));
    prov_ssh_result_clear(&r);
    mc_error_free(err);
}

static void
test_deadline(struct prov_ssh *s)
{
    struct mc_error *err = NULL;
    struct prov_ssh_io io = PROV_SSH_IO_INIT;
    io.deadline_ms = mc_now_ms() + 500;
    struct prov_ssh_result r;
    int64_t t0 = mc_now_ms();
    bool failed = prov_ssh_exec(s, "sleep 5", &io, &r, &err) < 0;
    ok(failed && err && err->code == MC_ERR_TIMEOUT, "a command past its deadline is a timeout: %s",
       err ? err->message : "(none)");
    int64_t ms = mc_now_ms() - t0;
    ok(ms >= 450 && ms < 2000, "the timeout came on time (%lld ms)", (long long)ms);
    mc_error_free(err);
    err = NULL;
    io = (struct prov_ssh_io)PROV_SSH_IO_INIT;
    ok(run(s, "echo still", &io, &r, &err) == 0 && streq(r.out, "still\n"),
       "the session is still usable after a timed-out command");
    prov_ssh_result_clear(&r);
    mc_error_free(err);
}

static void
test_reuse(struct prov_ssh *s)
{
    struct mc_error *err = NULL;
    int64_t t0 = mc_now_ms();
    int good = 0;
    for (int i = 0; i < 50; i++) {
        struct prov_ssh_io io = PROV_SSH_IO_INIT;
        struct prov_ssh_result r;
        if (run(s, "true", &io, &r, &err) == 0 && r.status == 0)
            good++;
        prov_ssh_result_clear(&r);
    }
    ok(good == 50, "50 commands on one session");
    tap_diag("%.1f ms per command on a reused session", (double)(mc_now_ms() - t0) / 50);
    mc_error_free(err);
}

int
main(void)
{
    const char *host = getenv("SSH_HOST"), *key = getenv("SSH_KEY");
    if (!host || !key)
        tap_skip_all("run through ssh-session.py, which brings up a test host");
    _cleanup_free_ char *kh = mc_path_join(tap_tmpdir(), "known_hosts");
    cfg = (struct prov_ssh_config){ .host = host, .identity = key, .known_hosts = kh };
    struct mc_error *err = NULL;
    struct prov_ssh *s = NULL;
    int64_t t0 = mc_now_ms();
    int rc = prov_ssh_connect(&cfg, mc_now_ms() + 10000, &s, &err);
    ok(rc == 0, "connect: %s", err ? err->message : "ok");
    if (!s)
        tap_bail("no session");
    tap_diag("connect + key exchange + auth: %lld ms", (long long)(mc_now_ms() - t0));
    ok(mc_path_exists(kh), "the host key was pinned at first contact");
    test_exec(s);
    test_stream(s);
    test_deadline(s);
    test_reuse(s);
    prov_ssh_free(s);
    s = NULL;
    ok(prov_ssh_connect(&cfg, mc_now_ms() + 10000, &s, &err) == 0,
       "a second connect matches the pin");
    prov_ssh_free(s);
    return tap_done();
}
