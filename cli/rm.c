/* machine rm: delete machines and their resources. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag rm_flags[] = {
    { .name = "force",
      .short_name = 'f',
      .type = CLI_BOOL,
      .help = "remove the record even when the resources cannot be removed (or the record "
              "is corrupt); implies -y" },
    { .name = "yes", .short_name = 'y', .type = CLI_BOOL, .help = "do not ask for confirmation" },
    { .name = "purge",
      .type = CLI_BOOL,
      .help = "on a provisioned host, remove the engine's data root (images, containers) too" },
    { 0 },
};

/* Asks on the terminal; without one, -y is required (never remove silently). */
static int
confirm(struct cli_ctx *ctx, char *const *names, struct mc_error **err)
{
    if (!isatty(STDIN_FILENO))
        return mc_error_set(err, MC_ERR_USAGE,
                            "not removing without confirmation: stdin is not a terminal, add -y");
    _cleanup_free_ char *list = strv_join(names, ", ");
    fprintf(ctx->err, "About to remove %s\nAre you sure? (y/n): ", list);
    fflush(ctx->err);
    char answer[16] = "";
    if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
        return mc_error_set(err, MC_ERR_CANCELLED, "nothing was removed");
    return 0;
}

struct rm_opts {
    bool force;
    bool purge;
};

static int
rm_one(struct cli_ctx *ctx, const char *name, void *userdata, struct mc_error **err)
{
    const struct rm_opts *o = userdata;
    struct store *s = NULL;
    if (cli_store(ctx, &s, err) < 0 || store_check_name(name, err) < 0)
        return -1;
    int r = o->purge ? machine_purge(s, name, o->force, cli_progress, ctx, err)
                     : machine_remove(s, name, o->force, cli_progress, ctx, err);
    if (r < 0)
        return mc_error_prefix(err, "rm '%s': ", name);
    if (!ctx->quiet)
        fprintf(ctx->out, "Removed '%s'\n", name);
    return 0;
}

static int
rm_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
       struct mc_error **err)
{
    struct rm_opts o = { .force = cli_args_bool(args, "force", NULL),
                         .purge = cli_args_bool(args, "purge", NULL) };
    _cleanup_strv_ char **names = cli_names(args);
    if (!o.force && !cli_args_bool(args, "yes", NULL) && confirm(ctx, names, err) < 0)
        return -1;
    return cli_each_name(ctx, args, rm_one, &o, err);
}

const struct cli_command cli_cmd_rm = {
    .name = "rm",
    .usage = "[OPTIONS] [NAME...]",
    .summary = "Remove machines",
    .description =
            "Deletes what the driver made for each machine (the VM, the cloud "
            "resources), then its record.\nWith -f a machine whose resources cannot be "
            "removed, whose record is corrupt or whose\ndriver is unknown is removed from "
            "the store anyway. On a provisioned host without a VM of ours (generic), rm\nstops and "
            "uninstalls the engine (service, binary, certificates, configuration) and\n"
            "keeps its data root unless --purge is given.",
    .flags = rm_flags,
    .run = rm_run,
};
