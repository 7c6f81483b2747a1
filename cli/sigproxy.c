/* The signal-forwarding thread of run and exec (cli-sigproxy.h). */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli-sigproxy.h"
#include "xalloc.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

struct cli_sigproxy {
    pthread_t thread;
    bool started;
    int sfd;
    int stop_fd;
    sigset_t old_mask;
    cli_signal_fn fn;
    void *userdata;
};

static void *
proxy_main(void *arg)
{
    struct cli_sigproxy *p = arg;
    for (;;) {
        struct pollfd fds[2] = { { .fd = p->sfd, .events = POLLIN },
                                 { .fd = p->stop_fd, .events = POLLIN } };
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            return NULL;
        if (fds[1].revents)
            return NULL;
        struct signalfd_siginfo si;
        if (fds[0].revents && read(p->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
            p->fn(p->userdata, (int)si.ssi_signo);
    }
}

int
cli_sigproxy_start(bool winch_only, cli_signal_fn fn, void *userdata, struct cli_sigproxy **ret,
                   struct mc_error **err)
{
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
        if (!winch_only || forwarded[i] == SIGWINCH)
            sigaddset(&set, forwarded[i]);
    struct cli_sigproxy *p = xzalloc(sizeof(*p));
    p->fn = fn;
    p->userdata = userdata;
    p->stop_fd = eventfd(0, EFD_CLOEXEC);
    p->sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (p->stop_fd < 0 || p->sfd < 0) {
        int e = errno;
        cli_sigproxy_stop(p);
        return mc_error_sys(err, e, "cannot set up signal forwarding");
    }
    pthread_sigmask(SIG_BLOCK, &set, &p->old_mask);
    int r = pthread_create(&p->thread, NULL, proxy_main, p);
    if (r != 0) {
        pthread_sigmask(SIG_SETMASK, &p->old_mask, NULL);
        close(p->sfd);
        close(p->stop_fd);
        free(p);
        return mc_error_sys(err, r, "cannot start the signal-forwarding thread");
    }
    p->started = true;
    *ret = p;
    return 0;
}

void
cli_sigproxy_stop(struct cli_sigproxy *p)
{
    if (!p)
        return;
    if (p->started) {
        uint64_t one = 1;
        if (write(p->stop_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
            pthread_join(p->thread, NULL);
        pthread_sigmask(SIG_SETMASK, &p->old_mask, NULL);
    }
    if (p->sfd >= 0)
        close(p->sfd);
    if (p->stop_fd >= 0)
        close(p->stop_fd);
    free(p);
}
