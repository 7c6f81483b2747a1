/* machine create: make a machine with a driver, then provision it (DESIGN.md §3, §4). */
#include <string.h>

#include "cli-drivers.h"
#include "cli.h"
#include "json.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag create_flags[] = {
    { .name = "driver",
      .short_name = 'd',
      .type = CLI_STRING,
      .metavar = "DRIVER",
      .env = "MACHINE_DRIVER",
      .dflt = DRIVER_DEFAULT,
      .help = "the driver: libvirt, aws, azure, generic, none or fake" },
    { .name = "no-provision",
      .type = CLI_BOOL,
      .help = "stop after the driver's create; 'machine provision NAME' finishes later" },
    { .name = "engine-port",
      .type = CLI_STRING,
      .metavar = "PORT",
      .dflt = "2376",
      .help = "the engine's TCP port on the host" },
    { .name = "tls-san",
      .type = CLI_STRINGS,
      .metavar = "NAME|IP",
      .help = "an extra subject alternative name for the engine's certificate" },
    { .name = "tls-validity-days",
      .type = CLI_STRING,
      .metavar = "DAYS",
      .dflt = "1080",
      .help = "how long the engine's server certificate is valid (regenerate-certs renews it)" },
    { .name = "engine-binary",
      .type = CLI_STRING,
      .metavar = "PATH",
      .env = "MACHINE_ENGINE_BINARY",
      .help = "the machined to install (default: the one installed next to machine)" },
    { .name = "engine-opt",
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "a key of the engine's config.json (data-root=/srv/machined, live-restore=true)" },
    { .name = "engine-label",
      .type = CLI_STRINGS,
      .metavar = "KEY=VALUE",
      .help = "a label of the engine" },
    { .name = "engine-env",
      .type = CLI_STRINGS,
      .metavar = "NAME=VALUE",
      .help = "an environment variable of the engine's service (HTTP_PROXY=...)" },
    { .name = "ssh-timeout",
      .type = CLI_STRING,
      .metavar = "DURATION",
      .dflt = "60s",
      .help = "how long to wait for the host's SSH (each connection to it, too)" },
    { .name = "provision-timeout",
      .type = CLI_STRING,
      .metavar = "DURATION",
      .dflt = "120s",
      .help = "the limit of each provisioning step (upload, service start, engine answer...)" },
    { 0 },
};

static int
parse_timeout(const struct cli_args *args, const char *flag, int64_t *ret, struct mc_error **err)
{
    const char *text = cli_args_get_or_default(args, flag, NULL);
    if (mc_parse_duration_ms(text, ret) < 0 || *ret <= 0)
        return mc_error_set(err, MC_ERR_USAGE, "--%s '%s' is not a duration (30s, 2m, 1500ms)",
                            flag, text);
    return 0;
}

static int
parse_days(const char *text, int *ret, struct mc_error **err)
{
    int days = 0;
    if (mc_parse_int(text, &days) < 0 || days < 1 || days > 36500)
        return mc_error_set(err, MC_ERR_USAGE,
                            "--tls-validity-days '%s' is not a number of days from 1 to 36500",
                            text);
    *ret = days;
    return 0;
}

static int
parse_port(const char *text, int *ret, struct mc_error **err)
{
    int port = 0;
    if (mc_parse_int(text, &port) < 0 || port < 1 || port > 65535)
        return mc_error_set(err, MC_ERR_USAGE, "--engine-port '%s' is not a TCP port", text);
    *ret = port;
    return 0;
}

/* A recorded machine resumes with its recorded flags (or is refused when ready), so the driver
 * flags given now are not even resolved (they may name a driver not built here). */
static bool
is_recorded(struct store *s, const char *name)
{
    _cleanup_store_machine_ struct store_machine *m = NULL;
    _cleanup_error_ struct mc_error *e = NULL;
    return store_machine_load(s, name, &m, &e) == 0;
}

static int
resolve(struct cli_ctx *ctx, const struct cli_args *args, struct machine_create_opts *o,
        json_t **ret_options, struct mc_error **err)
{
    const struct machine_driver *d = NULL;
    const char *driver = cli_args_get_or_default(args, "driver", ctx->getenv);
    if (cli_driver_lookup(driver, &d, err) < 0)
        return -1;
    if (cli_driver_resolve(d, args, ctx->getenv, ret_options, err) < 0)
        return -1;
    o->driver = d->name;
    o->options = *ret_options;
    return 0;
}

static void
report_done(struct cli_ctx *ctx, struct store *s, const char *name)
{
    _cleanup_store_machine_ struct store_machine *m = NULL;
    _cleanup_error_ struct mc_error *e = NULL;
    if (ctx->quiet || store_machine_load(s, name, &m, &e) < 0)
        return;
    if (m->create_state == STORE_CREATE_READY)
        fprintf(ctx->err,
                "Machine '%s' is ready. To point your shell at it: "
                "eval \"$(machine env %s)\"\n",
                name, name);
    else
        fprintf(ctx->err,
                "Machine '%s' is created without its engine (--no-provision): run 'machine "
                "provision %s' to install it.\n",
                name, name);
}

static int
create_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    const char *name = NULL;
    struct store *s = NULL;
    if (cli_one_name(ctx, cmd, args, &name, err) < 0 || store_check_name(name, err) < 0)
        return -1;
    struct machine_create_opts o = {
        .name = name,
        .no_provision = cli_args_bool(args, "no-provision", NULL),
        .tls_san = cli_args_get_all(args, "tls-san"),
        .engine_binary = cli_args_get(args, "engine-binary", ctx->getenv),
        .engine_opts = cli_args_get_all(args, "engine-opt"),
        .engine_labels = cli_args_get_all(args, "engine-label"),
        .engine_env = cli_args_get_all(args, "engine-env"),
        .progress = cli_progress,
        .userdata = ctx,
    };
    if (parse_port(cli_args_get_or_default(args, "engine-port", NULL), &o.engine_port, err) < 0 ||
        parse_timeout(args, "ssh-timeout", &o.ssh_timeout_ms, err) < 0 ||
        parse_timeout(args, "provision-timeout", &o.provision_timeout_ms, err) < 0 ||
        parse_days(cli_args_get_or_default(args, "tls-validity-days", NULL), &o.tls_validity_days,
                   err) < 0)
        return -1;
    if (cli_store(ctx, &s, err) < 0)
        return -1;
    _cleanup_json_ json_t *options = NULL;
    if (!is_recorded(s, name) && resolve(ctx, args, &o, &options, err) < 0)
        return mc_error_prefix(err, "create '%s': ", name);
    if (machine_create(s, &o, err) < 0)
        return -1;
    report_done(ctx, s, name);
    return 0;
}

const struct cli_command cli_cmd_create = {
    .name = "create",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Create a machine",
    .description =
            "Creates a machine with the chosen driver, then provisions it (installs and starts "
            "the engine) unless\n--no-provision is given. A create that was interrupted or "
            "failed resumes when run again, with\nthe flags it was first given; a machine that "
            "is ready is refused. Driver options are flags\n--DRIVER-OPTION or variables "
            "MACHINE_DRIVER_OPTION (a flag beats its variable, which beats the default).",
    .flags = create_flags,
    .run = create_run,
    .more_flags = cli_driver_flags,
};
