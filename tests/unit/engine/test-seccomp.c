/* The default seccomp profile: built once, cached, and loaded in a child where known syscalls
 * get the decisions moby's default.json gives them. Needs no root (no_new_privs). */
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "rt-seccomp.h"
#include "tap.h"

/* Each check is a syscall and the errno the filter must give (0: allowed through). */
enum check {
    C_GETPID,
    C_KEYCTL,
    C_VSOCK,
    C_UNIX_SOCKET,
    C_CLONE3,
    C_CLONE_NEWNS,
    C_UNSHARE,
    C_MOUNT,
    C_PERSONALITY_QUERY,
    C_PERSONALITY_OTHER,
    C_INIT_MODULE,
    C__MAX
};

static const char *const check_names[C__MAX] = {
    "getpid",
    "keyctl",
    "socket(AF_VSOCK)",
    "socket(AF_UNIX)",
    "clone3",
    "clone(CLONE_NEWNS)",
    "unshare(CLONE_NEWUTS)",
    "mount",
    "personality(0xffffffff)",
    "personality(PER_BSD)",
    "init_module",
};

static long
run_check(enum check c)
{
    struct clone_args ca;
    switch (c) {
    case C_GETPID:
        return syscall(SYS_getpid);
    case C_KEYCTL:
        return syscall(SYS_keyctl, 0, 0, 0, 0, 0);
    case C_VSOCK:
        return socket(40, SOCK_STREAM, 0);
    case C_UNIX_SOCKET:
        return socket(AF_UNIX, SOCK_STREAM, 0);
    case C_CLONE3:
        memset(&ca, 0, sizeof(ca));
        ca.exit_signal = SIGCHLD;
        /* An invalid size: the kernel would say EINVAL, the filter says ENOSYS first. */
        return syscall(SYS_clone3, &ca, 1);
    case C_CLONE_NEWNS:
        return syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
    case C_UNSHARE:
        return syscall(SYS_unshare, CLONE_NEWUTS);
    case C_MOUNT:
        return syscall(SYS_mount, "none", "/nonexistent-dir", "tmpfs", 0, 0);
    case C_PERSONALITY_QUERY:
        return syscall(SYS_personality, 0xffffffffUL);
    case C_PERSONALITY_OTHER:
        return syscall(SYS_personality, 0x0006UL);
    case C_INIT_MODULE:
        return syscall(SYS_init_module, 0, 0, "");
    default:
        return -1;
    }
}

/* Runs every check in a child under prog; fills errs[] with the errno of each (0: success). */
static bool
run_under(const struct eng_seccomp_prog *prog, int errs[C__MAX])
{
    int p[2];
    if (pipe(p) < 0)
        return false;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        int r = eng_seccomp_load(prog);
        int out[C__MAX + 1];
        out[C__MAX] = r;
        for (int c = 0; c < C__MAX; c++) {
            errno = 0;
            long v = run_check(c);
            if (v == 0 && (c == C_CLONE_NEWNS))
                _exit(0); /* the clone went through: this is the new child */
            out[c] = v < 0 ? errno : 0;
        }
        (void)!write(p[1], out, sizeof(out));
        _exit(0);
    }
    close(p[1]);
    int in[C__MAX + 1];
    ssize_t n = read(p[0], in, sizeof(in));
    close(p[0]);
    waitpid(pid, NULL, 0);
    if (n != (ssize_t)sizeof(in) || in[C__MAX] != 0)
        return false;
    memcpy(errs, in, sizeof(int) * C__MAX);
    return true;
}

static void
expect(const int errs[C__MAX], enum check c, int want, const char *profile)
{
    if (want < 0)
        ok(errs[c] != EPERM && errs[c] != ENOSYS, "%s: %s passes the filter (errno %d)", profile,
           check_names[c], errs[c]);
    else
        ok(errs[c] == want, "%s: %s gives %s (got %d)", profile, check_names[c],
           want ? strerror(want) : "success", errs[c]);
}

int
main(void)
{
    struct mc_error *err = NULL;
    const struct eng_seccomp_prog *def = eng_seccomp_default(ENG_CAPS_DEFAULT, &err);
    if (!ok(def != NULL, "default profile built")) {
        tap_diag("%s", err ? err->message : "?");
        return tap_done();
    }
    ok(def->n > 100, "a real program (%zu instructions)", def->n);
    ok(eng_seccomp_default(ENG_CAPS_DEFAULT | (1u << 12), &err) == def,
       "built once: irrelevant capabilities share the program");
    const struct eng_seccomp_prog *admin =
            eng_seccomp_default(ENG_CAPS_DEFAULT | (UINT64_C(1) << 21), &err);
    ok(admin && admin != def, "CAP_SYS_ADMIN gets its own program");

    int errs[C__MAX];
    if (ok(run_under(def, errs), "default profile loaded in a child")) {
        expect(errs, C_GETPID, 0, "default");
        expect(errs, C_KEYCTL, EPERM, "default");
        expect(errs, C_VSOCK, EPERM, "default");
        expect(errs, C_UNIX_SOCKET, 0, "default");
        expect(errs, C_CLONE3, ENOSYS, "default");
        expect(errs, C_CLONE_NEWNS, EPERM, "default");
        expect(errs, C_UNSHARE, EPERM, "default");
        expect(errs, C_MOUNT, EPERM, "default");
        expect(errs, C_PERSONALITY_QUERY, 0, "default");
        expect(errs, C_PERSONALITY_OTHER, EPERM, "default");
        expect(errs, C_INIT_MODULE, EPERM, "default");
    }
    if (admin && ok(run_under(admin, errs), "SYS_ADMIN profile loaded in a child")) {
        expect(errs, C_CLONE3, -1, "sys_admin");
        expect(errs, C_MOUNT, -1, "sys_admin");
        expect(errs, C_KEYCTL, EPERM, "sys_admin");
        expect(errs, C_INIT_MODULE, EPERM, "sys_admin");
    }
    return tap_done();
}
