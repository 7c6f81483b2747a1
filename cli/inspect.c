/* machine inspect, config, url, ip, status: what is known about one machine. inspect and
 * config read the store; url, ip and status ask the driver. */
#include <string.h>

#include "cli.h"
#include "json.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag format_flags[] = { CLI_FLAG_FORMAT, { 0 } };

/* The record's options with the driver's secret ones masked. */
static json_t *
masked_options(const struct store_machine *m)
{
    json_t *opts = json_deep_copy(store_machine_get_section(m, "options"));
    if (!opts)
        return json_object();
    const struct machine_driver *d = driver_find(m->driver);
    for (size_t i = 0; d && d->options && d->options[i].name; i++)
        if (d->options[i].secret && json_object_get(opts, d->options[i].name))
            json_object_set_new(opts, d->options[i].name, json_string("********"));
    return opts;
}

static json_t *
section_or_empty(const struct store_machine *m, const char *key)
{
    const json_t *v = store_machine_get_section(m, key);
    return v ? json_deep_copy(v) : json_object();
}

static json_t *
inspect_json(struct store *s, const struct store_machine *m)
{
    const char *url = store_machine_url(m);
    bool tls = store_machine_has_tls(s, m->name);
    _cleanup_free_ char *dir = store_machine_dir(s, m->name);
    _cleanup_free_ char *certs = store_machine_path(s, m->name, "certs");
    json_t *o = json_object();
    json_object_set_new(o, "Name", json_string(m->name));
    json_object_set_new(o, "DriverName", json_string(m->driver));
    json_object_set_new(o, "CreateState",
                        json_string(store_create_state_to_string(m->create_state)));
    json_object_set_new(o, "CreateStep",
                        m->create_step ? json_string(m->create_step) : json_null());
    json_object_set_new(o, "Error", m->create_error ? json_string(m->create_error) : json_null());
    json_object_set_new(o, "URL", url ? json_string(url) : json_null());
    json_object_set_new(o, "TLS", json_boolean(tls));
    json_object_set_new(o, "CertPath", tls ? json_string(certs) : json_null());
    json_object_set_new(o, "StorePath", json_string(dir));
    json_object_set_new(o, "CreatedAt", json_incref(json_object_get(m->config, "created_at")));
    json_object_set_new(o, "Options", masked_options(m));
    json_object_set_new(o, "Flags", section_or_empty(m, "flags"));
    json_object_set_new(o, "Driver", section_or_empty(m, "driver_state"));
    json_object_set_new(o, "Engine", section_or_empty(m, "engine"));
    json_object_set_new(o, "Host", section_or_empty(m, "host"));
    if (!json_object_get(o, "CreatedAt"))
        json_object_set_new(o, "CreatedAt", json_null());
    return o;
}

static int
load(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
     struct store **ret_store, struct store_machine **ret, struct mc_error **err)
{
    const char *name = NULL;
    if (cli_one_name(ctx, cmd, args, &name, err) < 0 || cli_store(ctx, ret_store, err) < 0)
        return -1;
    if (store_machine_load(*ret_store, name, ret, err) < 0)
        return mc_error_prefix(err, "%s: ", cmd->name);
    return 0;
}

static int
inspect_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
            struct mc_error **err)
{
    struct store *s = NULL;
    _cleanup_store_machine_ struct store_machine *m = NULL;
    if (load(ctx, cmd, args, &s, &m, err) < 0)
        return -1;
    _cleanup_json_ json_t *o = inspect_json(s, m);
    bool done = false;
    if (cli_print_formatted(ctx, args, o, false, &done, err) < 0)
        return -1;
    if (!done) {
        _cleanup_free_ char *text = mc_json_dumps(o, true);
        fprintf(ctx->out, "%s\n", text);
    }
    return 0;
}

const struct cli_command cli_cmd_inspect = {
    .name = "inspect",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Print what the store knows about a machine, as JSON",
    .description = "Template fields: .Name .DriverName .CreateState .CreateStep .Error .URL .TLS "
                   ".CertPath .StorePath\n.CreatedAt .Options .Flags .Driver (the driver's state) "
                   ".Engine .Host",
    .flags = format_flags,
    .run = inspect_run,
};

/* Prints one value, or {"Name":..., key: value} through --format. */
static int
print_value(struct cli_ctx *ctx, const struct cli_args *args, const char *name, const char *key,
            const char *value, struct mc_error **err)
{
    _cleanup_json_ json_t *o = json_pack("{s:s, s:s}", "Name", name, key, value);
    bool done = false;
    if (cli_print_formatted(ctx, args, o, false, &done, err) < 0)
        return -1;
    if (!done)
        fprintf(ctx->out, "%s\n", value);
    return 0;
}

static int
config_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    struct store *s = NULL;
    _cleanup_store_machine_ struct store_machine *m = NULL;
    if (load(ctx, cmd, args, &s, &m, err) < 0)
        return -1;
    const char *url = store_machine_url(m);
    if (!url)
        return mc_error_set(err, MC_ERR_CONFLICT, "config: machine '%s' has no engine URL (%s)",
                            m->name, store_create_state_to_string(m->create_state));
    bool tls = store_machine_has_tls(s, m->name);
    _cleanup_free_ char *ca = store_machine_path(s, m->name, "certs/ca.pem");
    _cleanup_free_ char *cert = store_machine_path(s, m->name, "certs/cert.pem");
    _cleanup_free_ char *key = store_machine_path(s, m->name, "certs/key.pem");
    _cleanup_json_ json_t *o =
            json_pack("{s:s, s:s, s:b}", "Name", m->name, "Host", url, "TLSVerify", tls);
    if (tls) {
        json_object_set_new(o, "TLSCACert", json_string(ca));
        json_object_set_new(o, "TLSCert", json_string(cert));
        json_object_set_new(o, "TLSKey", json_string(key));
    }
    bool done = false;
    if (cli_print_formatted(ctx, args, o, false, &done, err) < 0 || done)
        return done ? 0 : -1;
    if (tls)
        fprintf(ctx->out, "--tlsverify\n--tlscacert=\"%s\"\n--tlscert=\"%s\"\n--tlskey=\"%s\"\n",
                ca, cert, key);
    fprintf(ctx->out, "-H=%s\n", url);
    return 0;
}

const struct cli_command cli_cmd_config = {
    .name = "config",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Print the docker client flags that reach a machine's engine",
    .description = "Use as: docker $(machine config NAME) ps. Template fields: .Name .Host "
                   ".TLSVerify .TLSCACert .TLSCert .TLSKey",
    .flags = format_flags,
    .run = config_run,
};

/* ---- live: url, ip, status ---- */

enum live_query {
    LIVE_URL,
    LIVE_IP,
    LIVE_STATUS
};

static char *
query(struct machine_handle *h, enum live_query q, struct mc_error **err)
{
    enum driver_state st;
    switch (q) {
    case LIVE_URL:
        return machine_get_url(h, 0, err);
    case LIVE_IP:
        return machine_get_ip(h, 0, err);
    default:
        if (machine_get_state(h, 0, &st, err) < 0)
            return NULL;
        return xstrdup(driver_state_to_string(st));
    }
}

static int
live_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
         enum live_query q, const char *key, struct mc_error **err)
{
    const char *name = NULL;
    struct store *s = NULL;
    _cleanup_machine_ struct machine_handle *h = NULL;
    if (cli_one_name(ctx, cmd, args, &name, err) < 0 || cli_store(ctx, &s, err) < 0)
        return -1;
    if (machine_open(s, name, false, &h, err) < 0)
        return mc_error_prefix(err, "%s: ", cmd->name);
    _cleanup_free_ char *value = query(h, q, err);
    if (!value)
        return mc_error_prefix(err, "%s '%s': ", cmd->name, name);
    return print_value(ctx, args, name, key, value, err);
}

static int
url_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    return live_run(ctx, cmd, args, LIVE_URL, "URL", err);
}

static int
ip_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
       struct mc_error **err)
{
    return live_run(ctx, cmd, args, LIVE_IP, "IP", err);
}

static int
status_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
           struct mc_error **err)
{
    return live_run(ctx, cmd, args, LIVE_STATUS, "State", err);
}

const struct cli_command cli_cmd_url = {
    .name = "url",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Print a machine's engine URL (asks the driver)",
    .description = "Template fields: .Name .URL",
    .flags = format_flags,
    .run = url_run,
};

const struct cli_command cli_cmd_ip = {
    .name = "ip",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Print a machine's IP address (asks the driver)",
    .description = "Template fields: .Name .IP",
    .flags = format_flags,
    .run = ip_run,
};

const struct cli_command cli_cmd_status = {
    .name = "status",
    .usage = "[OPTIONS] [NAME]",
    .summary = "Print a machine's state (asks the driver)",
    .description = "Template fields: .Name .State",
    .flags = format_flags,
    .run = status_run,
};
