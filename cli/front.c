/* The machine front's command table: the engine verbs, which only need the engine client, run
 * here; any other verb (and the usage) is machine-full's, which this program becomes with the
 * same arguments. Starting a program linked with libvirt, libcurl, libxml2 and libssh2 costs
 * about 20 ms here, more than the engine takes to run a container (docs/adr/0011). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "fs.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_command *const commands[] = {
    &cli_cmd_container, &cli_cmd_exec,    &cli_cmd_image, &cli_cmd_images,
    &cli_cmd_info,      &cli_cmd_logs,    &cli_cmd_ps,    &cli_cmd_rmi,
    &cli_cmd_run,       &cli_cmd_version, NULL,
};

const struct cli_command *const *
cli_commands(void)
{
    return commands;
}

/* machine-full next to this program (the build tree), or in the installed layout's
 * BINDIR/../libexec/machine/. */
static char *
find_full(struct mc_error **err)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0)
        return mc_error_sys(err, errno, "cannot find this program's folder"), NULL;
    self[n] = '\0';
    _cleanup_free_ char *dir = mc_dirname(self);
    static const char *const rel[] = { "machine-full", "../libexec/machine/machine-full",
                                       "../lib/machine/machine-full" };
    for (size_t i = 0; i < ELEMENTSOF(rel); i++) {
        char *p = mc_path_join(dir, rel[i]);
        if (access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return mc_error_set(err, MC_ERR_NOT_FOUND,
                        "machine-full, which runs every command but the engine's, was not found "
                        "next to '%s' (looked for machine-full and "
                        "../libexec/machine/machine-full)",
                        self),
           NULL;
}

int
cli_verb_missing(struct cli_ctx *ctx, const char *name, char **argv, struct mc_error **err)
{
    _cleanup_free_ char *full = find_full(err);
    if (!full)
        return -1;
    fflush(ctx->out);
    execv(full, argv);
    return mc_error_sys(err, errno, "cannot run '%s'", full);
}
