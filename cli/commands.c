/* machine-full's command table: every verb. The machine front (front.c) runs the engine verbs
 * itself and this program for the others (docs/adr/0011). */
#include <stdio.h>

#include "cli.h"
#include "strv.h"
#include "util.h"

static const struct cli_command *const commands[] = {
    &cli_cmd_active,
    &cli_cmd_completion,
    &cli_cmd_config,
    &cli_cmd_container,
    &cli_cmd_create,
    &cli_cmd_env,
    &cli_cmd_exec,
    &cli_cmd_help,
    &cli_cmd_image,
    &cli_cmd_images,
    &cli_cmd_info,
    &cli_cmd_inspect,
    &cli_cmd_ip,
    &cli_cmd_kill,
    &cli_cmd_logs,
    &cli_cmd_ls,
    &cli_cmd_provision,
    &cli_cmd_ps,
    &cli_cmd_regenerate_certs,
    &cli_cmd_restart,
    &cli_cmd_rm,
    &cli_cmd_rmi,
    &cli_cmd_run,
    &cli_cmd_scp,
    &cli_cmd_ssh,
    &cli_cmd_start,
    &cli_cmd_status,
    &cli_cmd_stop,
    &cli_cmd_upgrade,
    &cli_cmd_url,
    &cli_cmd_version,
    NULL,
};

const struct cli_command *const *
cli_commands(void)
{
    return commands;
}

static int
unknown_command(const char *name, struct mc_error **err)
{
    _cleanup_strv_ char **names = strv_new();
    for (size_t i = 0; commands[i]; i++)
        strv_add(&names, commands[i]->name);
    const char *near = cli_did_you_mean(name, (const char *const *)names);
    if (near)
        return mc_error_set(err, MC_ERR_USAGE, "unknown command '%s'; did you mean '%s'?", name,
                            near);
    return mc_error_set(err, MC_ERR_USAGE, "unknown command '%s'", name);
}

int
cli_verb_missing(struct cli_ctx *ctx, const char *name, char **argv, struct mc_error **err)
{
    if (name)
        return unknown_command(name, err);
    cli_usage(ctx->out);
    return 0;
}
