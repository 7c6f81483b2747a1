/* Signals of `run` and `exec` forwarded to the container: SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1 and SIGUSR2 become kill calls, SIGWINCH a resize. A thread reads them from a
 * signalfd, so the calls are ordinary engine requests made outside any signal handler. */
#ifndef MC_CLI_SIGPROXY_H
#define MC_CLI_SIGPROXY_H

#include <stdbool.h>

#include "error.h"

/* Called on the proxy's thread for each signal received. */
typedef void (*cli_signal_fn)(void *userdata, int signo);

struct cli_sigproxy;

/* Blocks the forwarded signals in the calling thread (call it before starting other threads,
 * which inherit the mask) and starts the thread. winch_only: only SIGWINCH (exec -t, which
 * forwards no other signal, as docker exec does). */
int cli_sigproxy_start(bool winch_only, cli_signal_fn fn, void *userdata, struct cli_sigproxy **ret,
                       struct mc_error **err);
/* Stops the thread and restores the signal mask; NULL is accepted. */
void cli_sigproxy_stop(struct cli_sigproxy *p);

#endif
