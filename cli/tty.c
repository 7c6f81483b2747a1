/* Terminal raw mode and size (cli-tty.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli-tty.h"

/* The terminal in raw mode, for the atexit() safety net. */
static struct cli_tty *active;

static void
restore_at_exit(void)
{
    if (active)
        cli_tty_restore(active);
}

int
cli_tty_raw(struct cli_tty *t, int fd, struct mc_error **err)
{
    static bool registered;
    if (tcgetattr(fd, &t->saved) < 0)
        return mc_error_sys(err, errno, "cannot read the terminal's settings");
    struct termios raw = t->saved;
    cfmakeraw(&raw);
    if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
        return mc_error_sys(err, errno, "cannot put the terminal in raw mode");
    t->fd = fd;
    active = t;
    if (!registered)
        registered = atexit(restore_at_exit) == 0;
    return 0;
}

void
cli_tty_restore(struct cli_tty *t)
{
    if (t->fd < 0)
        return;
    tcsetattr(t->fd, TCSADRAIN, &t->saved);
    t->fd = -1;
    if (active == t)
        active = NULL;
}

bool
cli_tty_size(int fd, int *ret_rows, int *ret_cols)
{
    struct winsize ws;
    if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
        return false;
    *ret_rows = ws.ws_row;
    *ret_cols = ws.ws_col;
    return true;
}
