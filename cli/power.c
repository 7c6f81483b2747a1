/* machine start, stop, restart, kill: power actions on machines. */
#include "cli.h"

static int
act_one(struct cli_ctx *ctx, const char *name, void *userdata, struct mc_error **err)
{
    const enum machine_action *a = userdata;
    struct store *s = NULL;
    if (cli_store(ctx, &s, err) < 0 || store_check_name(name, err) < 0)
        return -1;
    if (machine_act(s, name, *a, cli_progress, ctx, err) < 0)
        return -1;
    cli_progress(ctx, "Done");
    return 0;
}

#define POWER_RUN(fn, action)                                                                      \
    static int fn(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args, \
                  struct mc_error **err)                                                           \
    {                                                                                              \
        enum machine_action a = action;                                                            \
        return cli_each_name(ctx, args, act_one, &a, err);                                         \
    }

POWER_RUN(start_run, MACHINE_START)
POWER_RUN(stop_run, MACHINE_STOP)
POWER_RUN(restart_run, MACHINE_RESTART)
POWER_RUN(kill_run, MACHINE_KILL)

const struct cli_command cli_cmd_start = {
    .name = "start",
    .usage = "[NAME...]",
    .summary = "Start machines",
    .description = "Starts the VM (or, for generic hosts, the engine service); records the "
                   "address again and\nre-issues certificates when it changed.",
    .run = start_run,
};

const struct cli_command cli_cmd_stop = {
    .name = "stop",
    .usage = "[NAME...]",
    .summary = "Stop machines gracefully",
    .run = stop_run,
};

const struct cli_command cli_cmd_restart = {
    .name = "restart",
    .usage = "[NAME...]",
    .summary = "Restart machines",
    .run = restart_run,
};

const struct cli_command cli_cmd_kill = {
    .name = "kill",
    .usage = "[NAME...]",
    .summary = "Stop machines at once (power off)",
    .run = kill_run,
};
