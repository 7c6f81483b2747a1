/* The terminal of `run -it` and `exec -it`: raw mode, restored on every way out (the verb's
 * own cleanup, and an atexit() safety net), and its size. */
#ifndef MC_CLI_TTY_H
#define MC_CLI_TTY_H

#include <stdbool.h>
#include <termios.h>

#include "error.h"

struct cli_tty {
    int fd; /* -1: nothing to restore */
    struct termios saved;
};
#define CLI_TTY_INIT \
    {                \
        .fd = -1     \
    }

/* Puts the terminal on fd in raw mode, saving its settings. Only one terminal at a time. */
int cli_tty_raw(struct cli_tty *t, int fd, struct mc_error **err);
/* Restores what cli_tty_raw() saved; safe to call twice. */
void cli_tty_restore(struct cli_tty *t);
/* The size of the terminal on fd; false when fd is not a terminal. */
bool cli_tty_size(int fd, int *ret_rows, int *ret_cols);

#endif
