/* Shell syntax for `machine env`: setting and unsetting variables in bash/zsh/sh, fish, tcsh,
 * PowerShell, cmd and Emacs Lisp, with each shell's quoting. Pure. */
#ifndef MC_CLI_SHELL_H
#define MC_CLI_SHELL_H

#include <stddef.h>

enum cli_shell {
    CLI_SHELL_SH, /* bash, zsh, sh, dash, ksh */
    CLI_SHELL_FISH,
    CLI_SHELL_TCSH, /* tcsh, csh */
    CLI_SHELL_POWERSHELL,
    CLI_SHELL_CMD,
    CLI_SHELL_EMACS,
    CLI_SHELL__MAX
};

/* The shell for a program or --shell name ("bash", "-zsh", "/usr/bin/fish", "pwsh"), or -1. */
int cli_shell_from_name(const char *name);
/* The canonical name of a shell ("bash" for CLI_SHELL_SH). */
const char *cli_shell_name(enum cli_shell sh);

struct cli_env_var {
    const char *name;
    const char *value; /* NULL: unset the variable */
};

/* The commands that set (or unset) vars in order, followed by the usage hint: comment lines
 * telling how to evaluate `hint_cmd` (e.g. "machine env web1") in this shell. Comments come
 * last, since fish and tcsh evaluate the output joined into one line. Newly allocated. */
char *cli_shell_render(enum cli_shell sh, const struct cli_env_var *vars, size_t n,
                       const char *hint_cmd);

#endif
