/* `machine env` shell syntax: detection names, quoting, and golden outputs. */
#include <string.h>

#include "cli-shell.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_env_var vars[] = {
    { "DOCKER_TLS_VERIFY", "1" },
    { "DOCKER_HOST", "tcp://192.0.2.10:2376" },
    { "DOCKER_CERT_PATH", "/home/u/.machine/machines/web1/certs" },
    { "MACHINE_NAME", "web1" },
    { "DOCKER_MACHINE_NAME", "web1" },
};

static const struct cli_env_var unset[] = {
    { "DOCKER_HOST", NULL },
    { "MACHINE_NAME", NULL },
};

int
main(void)
{
    is_int(cli_shell_from_name("bash"), CLI_SHELL_SH, "bash");
    is_int(cli_shell_from_name("-zsh"), CLI_SHELL_SH, "a login zsh");
    is_int(cli_shell_from_name("/usr/bin/fish"), CLI_SHELL_FISH, "a path to fish");
    is_int(cli_shell_from_name("csh"), CLI_SHELL_TCSH, "csh is tcsh");
    is_int(cli_shell_from_name("pwsh"), CLI_SHELL_POWERSHELL, "pwsh is powershell");
    is_int(cli_shell_from_name("python3"), -1, "not a shell");

    const struct {
        enum cli_shell sh;
        const char *golden;
    } goldens[] = {
        { CLI_SHELL_SH, "env-sh.txt" },     { CLI_SHELL_FISH, "env-fish.txt" },
        { CLI_SHELL_TCSH, "env-tcsh.txt" }, { CLI_SHELL_POWERSHELL, "env-powershell.txt" },
        { CLI_SHELL_CMD, "env-cmd.txt" },   { CLI_SHELL_EMACS, "env-emacs.txt" },
    };
    for (size_t i = 0; i < ELEMENTSOF(goldens); i++) {
        _cleanup_free_ char *set =
                cli_shell_render(goldens[i].sh, vars, ELEMENTSOF(vars), "machine env web1");
        _cleanup_free_ char *un =
                cli_shell_render(goldens[i].sh, unset, ELEMENTSOF(unset), "machine env --unset");
        _cleanup_free_ char *both = xasprintf("%s%s", set, un);
        is_golden(both, goldens[i].golden);
    }

    const struct cli_env_var odd[] = { { "X", "a\"b$c`d\\e'f!g&h%i" } };
    const struct {
        enum cli_shell sh;
        const char *want;
    } quoting[] = {
        { CLI_SHELL_SH, "export X=\"a\\\"b\\$c\\`d\\\\e'f!g&h%i\"\n" },
        { CLI_SHELL_FISH, "set -gx X \"a\\\"b\\$c`d\\\\e'f!g&h%i\";\n" },
        { CLI_SHELL_TCSH, "setenv X 'a\"b$c`d\\e'\\''f\\!g&h%i';\n" },
        { CLI_SHELL_POWERSHELL, "$Env:X = \"a`\"b`$c``d\\e'f!g&h%i\"\n" },
        { CLI_SHELL_CMD, "SET X=a\"b$c`d\\e'f!g^&h^%i\n" },
        { CLI_SHELL_EMACS, "(setenv \"X\" \"a\\\"b$c`d\\\\e'f!g&h%i\")\n" },
    };
    for (size_t i = 0; i < ELEMENTSOF(quoting); i++) {
        _cleanup_free_ char *out = cli_shell_render(quoting[i].sh, odd, 1, "m");
        ok(startswith(out, quoting[i].want), "%s quotes special characters",
           cli_shell_name(quoting[i].sh));
        if (!startswith(out, quoting[i].want))
            tap_diag("got: %s", out);
    }
    return tap_done();
}
