/* Shell syntax for `machine env` (cli-shell.h). */
#include <string.h>

#include "cli-shell.h"
#include "strbuf.h"
#include "util.h"
#include "xalloc.h"

static const struct {
    const char *name;
    enum cli_shell shell;
} shell_names[] = {
    { "bash", CLI_SHELL_SH },
    { "zsh", CLI_SHELL_SH },
    { "sh", CLI_SHELL_SH },
    { "dash", CLI_SHELL_SH },
    { "ksh", CLI_SHELL_SH },
    { "mksh", CLI_SHELL_SH },
    { "ash", CLI_SHELL_SH },
    { "fish", CLI_SHELL_FISH },
    { "tcsh", CLI_SHELL_TCSH },
    { "csh", CLI_SHELL_TCSH },
    { "powershell", CLI_SHELL_POWERSHELL },
    { "pwsh", CLI_SHELL_POWERSHELL },
    { "cmd", CLI_SHELL_CMD },
    { "emacs", CLI_SHELL_EMACS },
};

int
cli_shell_from_name(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (*base == '-') /* a login shell's argv[0] */
        base++;
    for (size_t i = 0; i < ELEMENTSOF(shell_names); i++)
        if (streq(base, shell_names[i].name))
            return shell_names[i].shell;
    return -1;
}

const char *
cli_shell_name(enum cli_shell sh)
{
    for (size_t i = 0; i < ELEMENTSOF(shell_names); i++)
        if (shell_names[i].shell == sh)
            return shell_names[i].name;
    return "bash";
}

/* Appends s with each character in specials preceded by esc. */
static void
put_escaped(struct mc_buf *b, const char *s, const char *specials, const char *esc)
{
    for (; *s; s++) {
        if (strchr(specials, *s))
            mc_buf_puts(b, esc);
        mc_buf_putc(b, *s);
    }
}

/* tcsh: single quotes ('\'' for a quote) and \! against history expansion. */
static void
put_tcsh(struct mc_buf *b, const char *s)
{
    mc_buf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            mc_buf_puts(b, "'\\''");
        else if (*s == '!')
            mc_buf_puts(b, "\\!");
        else
            mc_buf_putc(b, *s);
    }
    mc_buf_putc(b, '\'');
}

static void
set_var(struct mc_buf *b, enum cli_shell sh, const char *name, const char *v)
{
    switch (sh) {
    case CLI_SHELL_SH:
        mc_buf_printf(b, "export %s=\"", name);
        put_escaped(b, v, "\"$`\\", "\\");
        mc_buf_puts(b, "\"\n");
        break;
    case CLI_SHELL_FISH:
        mc_buf_printf(b, "set -gx %s \"", name);
        put_escaped(b, v, "\"$\\", "\\");
        mc_buf_puts(b, "\";\n");
        break;
    case CLI_SHELL_TCSH:
        mc_buf_printf(b, "setenv %s ", name);
        put_tcsh(b, v);
        mc_buf_puts(b, ";\n");
        break;
    case CLI_SHELL_POWERSHELL:
        mc_buf_printf(b, "$Env:%s = \"", name);
        put_escaped(b, v, "`\"$", "`");
        mc_buf_puts(b, "\"\n");
        break;
    case CLI_SHELL_CMD:
        mc_buf_printf(b, "SET %s=", name);
        put_escaped(b, v, "^&|<>%", "^");
        mc_buf_puts(b, "\n");
        break;
    default:
        mc_buf_printf(b, "(setenv \"%s\" \"", name);
        put_escaped(b, v, "\"\\", "\\");
        mc_buf_puts(b, "\")\n");
        break;
    }
}

/* Unset commands and usage hints, by shell: each is a prefix and a suffix around the
 * variable's name or the command to evaluate. */
static const struct {
    const char *unset_pre, *unset_post;
    const char *comment;
    const char *hint_pre, *hint_post;
} syntax[CLI_SHELL__MAX] = {
    [CLI_SHELL_SH] = { "unset ", "\n", "#", "eval \"$(", ")\"" },
    [CLI_SHELL_FISH] = { "set -e ", ";\n", "#", "", " | source" },
    [CLI_SHELL_TCSH] = { "unsetenv ", ";\n", "#", "eval `", "`" },
    [CLI_SHELL_POWERSHELL] = { "Remove-Item Env:\\", " -ErrorAction SilentlyContinue\n", "#", "& ",
                               " | Invoke-Expression" },
    [CLI_SHELL_CMD] = { "SET ", "=\n", "REM", "\t@FOR /f \"tokens=*\" %i IN ('", "') DO @%i" },
    [CLI_SHELL_EMACS] = { "(setenv \"", "\" nil)\n", ";;", "(with-temp-buffer (shell-command \"",
                          "\" (current-buffer)) (eval-buffer))" },
};

char *
cli_shell_render(enum cli_shell sh, const struct cli_env_var *vars, size_t n, const char *hint_cmd)
{
    if ((unsigned)sh >= CLI_SHELL__MAX)
        sh = CLI_SHELL_SH;
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (size_t i = 0; i < n; i++) {
        if (vars[i].value)
            set_var(&b, sh, vars[i].name, vars[i].value);
        else
            mc_buf_printf(&b, "%s%s%s", syntax[sh].unset_pre, vars[i].name, syntax[sh].unset_post);
    }
    mc_buf_printf(&b, "%s Run this command to configure your shell:\n%s %s%s%s\n",
                  syntax[sh].comment, syntax[sh].comment, syntax[sh].hint_pre, hint_cmd,
                  syntax[sh].hint_post);
    return mc_buf_steal(&b);
}
