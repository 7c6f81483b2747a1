/* machine provision, regenerate-certs, upgrade: work on a provisioned host's engine. */
#include "cli.h"
#include "provision.h"

typedef int (*host_op_fn)(struct machine_handle *h, struct mc_error **err);

struct host_op {
    const char *verb;
    host_op_fn fn;
};

static int
provision_one(struct cli_ctx *ctx, const char *name, void *userdata, struct mc_error **err)
{
    struct store *s = NULL;
    if (cli_store(ctx, &s, err) < 0 || store_check_name(name, err) < 0)
        return -1;
    return machine_provision(s, name, cli_progress, ctx, err);
}

static int
provision_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
              struct mc_error **err)
{
    return cli_each_name(ctx, args, provision_one, NULL, err);
}

/* Opens the machine locked and runs a provisioner action on it. */
static int
host_op_one(struct cli_ctx *ctx, const char *name, void *userdata, struct mc_error **err)
{
    const struct host_op *op = userdata;
    struct store *s = NULL;
    _cleanup_machine_ struct machine_handle *h = NULL;
    if (cli_store(ctx, &s, err) < 0 || store_check_name(name, err) < 0 ||
        machine_open(s, name, true, &h, err) < 0)
        return -1;
    h->progress = cli_progress;
    h->userdata = ctx;
    if (!h->driver->provisions)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "%s '%s': machines of the '%s' driver run an engine machine did not "
                            "install",
                            op->verb, name, h->driver->name);
    if (h->rec->create_state != STORE_CREATE_READY)
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "%s '%s': the machine is not ready (%s); finish it with 'machine "
                            "create %s'",
                            op->verb, name, store_create_state_to_string(h->rec->create_state),
                            name);
    if (op->fn(h, err) < 0)
        return mc_error_prefix(err, "%s '%s': ", op->verb, name);
    return 0;
}

static int
regenerate_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
               struct mc_error **err)
{
    static const struct host_op op = { "regenerate-certs", prov_regenerate_certs };
    return cli_each_name(ctx, args, host_op_one, (void *)&op, err);
}

static int
upgrade_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
            struct mc_error **err)
{
    static const struct host_op op = { "upgrade", prov_upgrade_engine };
    return cli_each_name(ctx, args, host_op_one, (void *)&op, err);
}

static const struct cli_flag regenerate_flags[] = {
    { .name = "force",
      .short_name = 'f',
      .type = CLI_BOOL,
      .help = "accepted for compatibility: machine never asks" },
    { 0 },
};

const struct cli_command cli_cmd_provision = {
    .name = "provision",
    .usage = "[NAME...]",
    .summary = "Provision machines again (install or repair the engine)",
    .description = "Runs the provisioning steps over SSH; safe to repeat. Finishes a machine "
                   "created with --no-provision.",
    .run = provision_run,
};

const struct cli_command cli_cmd_regenerate_certs = {
    .name = "regenerate-certs",
    .usage = "[OPTIONS] [NAME...]",
    .summary = "Issue new engine certificates for machines",
    .flags = regenerate_flags,
    .run = regenerate_run,
};

const struct cli_command cli_cmd_upgrade = {
    .name = "upgrade",
    .usage = "[NAME...]",
    .summary = "Replace the engine on machines with this machine's machined",
    .description = "Images and containers are kept.",
    .run = upgrade_run,
};
