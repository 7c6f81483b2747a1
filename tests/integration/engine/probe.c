/* A static helper copied into test containers: tries what a container must not do and prints
 * one "name=result" line per attempt (result: "ok" or the errno name), for the isolation
 * tests. Usage: probe syscalls | probe mknod MAJOR MINOR | probe forks N | probe hog MB |
 * probe ids (the real and effective uid: a set-uid copy shows what exec granted) */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

/* Digits only (the style check bans strtol outside common/util.c). */
static long
num(const char *s)
{
    long v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (*s - '0');
    return v;
}

static const char *
errname(int e)
{
    switch (e) {
    case 0:
        return "ok";
    case EPERM:
        return "EPERM";
    case EACCES:
        return "EACCES";
    case ENOSYS:
        return "ENOSYS";
    case EINVAL:
        return "EINVAL";
    case ENOENT:
        return "ENOENT";
    case EAGAIN:
        return "EAGAIN";
    case EROFS:
        return "EROFS";
    case ENXIO:
        return "ENXIO";
    default:
        return "other";
    }
}

static void
report(const char *name, long r)
{
    printf("%s=%s\n", name, r < 0 ? errname(errno) : "ok");
}

static int
syscalls(void)
{
    report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0, 0, 0));
    report("unshare", syscall(SYS_unshare, CLONE_NEWNS));
    report("unshare_user", syscall(SYS_unshare, CLONE_NEWUSER));
    report("mount", mount("none", "/mnt", "tmpfs", 0, NULL));
    report("init_module", syscall(SYS_init_module, NULL, 0, ""));
    report("finit_module", syscall(SYS_finit_module, -1, "", 0));
    report("vsock", socket(40, SOCK_STREAM, 0));
    struct clone_args ca;
    memset(&ca, 0, sizeof(ca));
    report("clone3", syscall(SYS_clone3, &ca, 1));
    report("reboot", syscall(SYS_reboot, 0, 0, 0, NULL));
    report("swapoff", syscall(SYS_swapoff, "/nonexistent"));
    fflush(stdout);
    return 0;
}

static int
try_mknod(const char *maj, const char *min)
{
    dev_t dev = makedev((unsigned)num(maj), (unsigned)num(min));
    const char *paths[] = { "/tmp/blk", "/dev/blk", "/dev/shm/blk" };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        char name[64];
        snprintf(name, sizeof(name), "mknod%s", paths[i]);
        long r = mknod(paths[i], S_IFBLK | 0600, dev);
        report(name, r);
        if (r == 0) {
            snprintf(name, sizeof(name), "open%s", paths[i]);
            int fd = open(paths[i], O_RDONLY);
            report(name, fd);
        }
    }
    fflush(stdout);
    return 0;
}

static int
forks(int n)
{
    int made = 0;
    for (int i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) {
            pause();
            _exit(0);
        }
        if (p < 0)
            break;
        made++;
    }
    printf("forked=%d\n", made);
    fflush(stdout);
    kill(0, SIGKILL);
    return 0;
}

static int
hog(long mb)
{
    for (long i = 0; i < mb; i++) {
        char *p = malloc(1 << 20);
        if (!p)
            return 2;
        memset(p, 1, 1 << 20);
    }
    printf("survived\n");
    return 0;
}

static int
ids(void)
{
    printf("uid=%d euid=%d\n", (int)getuid(), (int)geteuid());
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "syscalls") == 0)
        return syscalls();
    if (argc >= 4 && strcmp(argv[1], "mknod") == 0)
        return try_mknod(argv[2], argv[3]);
    if (argc >= 3 && strcmp(argv[1], "forks") == 0)
        return forks((int)num(argv[2]));
    if (argc >= 3 && strcmp(argv[1], "hog") == 0)
        return hog(num(argv[2]));
    if (argc >= 2 && strcmp(argv[1], "ids") == 0)
        return ids();
    fprintf(stderr, "usage: probe syscalls | mknod MAJ MIN | forks N | hog MB | ids\n");
    return 2;
}
