/* Runs a command N times (fork, exec, wait) and prints each run's wall time in ms, one per
 * line; the same overhead for every command timed (crun, the docker CLI).
 * usage: timeit N COMMAND [ARGS...]   (%i in an argument becomes the run's number) */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "strv.h"
#include "util.h"
#include "xalloc.h"

static double
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* argv with each "%i" replaced by i. */
static char **
expand(char **argv, int i)
{
    char **out = strv_new();
    for (; *argv; argv++) {
        const char *p = strstr(*argv, "%i");
        if (p)
            strv_push(&out, xasprintf("%.*s%d%s", (int)(p - *argv), *argv, i, p + 2));
        else
            strv_add(&out, *argv);
    }
    return out;
}

int
main(int argc, char **argv)
{
    int n;
    if (argc < 3 || mc_parse_int(argv[1], &n) < 0 || n < 1) {
        fprintf(stderr, "usage: timeit N COMMAND [ARGS...]\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        _cleanup_strv_ char **args = expand(argv + 2, i);
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid == 0) {
            execvp(args[0], args);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "timeit: run %d of '%s' failed\n", i, args[0]);
            return 1;
        }
        printf("%.3f\n", now_ms() - t0);
        fflush(stdout);
    }
    return 0;
}
