/* machine help [COMMAND]. */
#include "cli.h"

static int
help_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         struct mc_error **err)
{
    const char *verb = args->positional[0];
    if (!verb) {
        cli_usage(ctx->out);
        return 0;
    }
    const struct cli_command *c = cli_command_find(verb);
    if (!c)
        return mc_error_set(err, MC_ERR_USAGE, "no help for unknown command '%s'", verb);
    cli_command_help(c, ctx->out);
    return 0;
}

const struct cli_command cli_cmd_help = {
    .name = "help",
    .usage = "[COMMAND]",
    .summary = "Print help for machine or one of its commands",
    .run = help_run,
};
