/* machine ssh, machine scp: OpenSSH's ssh and scp, with the machine's key, its pinned host key
 * and its SSH address from the driver. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ssh.h"
#include "timeutil.h"
#include "fs.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

/* How long the host key check may take before OpenSSH is started. */
#define SSH_CHECK_TIMEOUT_MS 15000

struct ssh_dest {
    struct driver_ssh_target target;
    char *key;
    char *known_hosts;
};

static void
ssh_dest_clear(struct ssh_dest *d)
{
    driver_ssh_target_clear(&d->target);
    free(d->key);
    free(d->known_hosts);
}

/* Checks the host against the pinned key with our own SSH client first, so that a changed key
 * is refused with machine's message (what changed, how to accept it) before OpenSSH runs. */
static int
check_host_key(const char *name, const struct ssh_dest *d, struct mc_error **err)
{
    struct prov_ssh_config c = { .host = d->target.host,
                                 .port = d->target.port,
                                 .user = d->target.user,
                                 .identity = d->key,
                                 .known_hosts = d->known_hosts };
    _cleanup_ssh_ struct prov_ssh *ssh = NULL;
    if (prov_ssh_connect(&c, mc_now_ms() + SSH_CHECK_TIMEOUT_MS, &ssh, err) < 0)
        return mc_error_prefix(err, "machine '%s': ", name);
    return 0;
}

static int
ssh_dest(struct cli_ctx *ctx, const char *name, struct ssh_dest *ret, struct mc_error **err)
{
    struct store *s = NULL;
    _cleanup_machine_ struct machine_handle *h = NULL;
    if (cli_store(ctx, &s, err) < 0 || machine_open(s, name, false, &h, err) < 0)
        return -1;
    if (driver_get_ssh_target(h->driver, &h->ctx, &ret->target, err) < 0)
        return mc_error_prefix(err, "machine '%s': ", name);
    ret->key = ret->target.identity ? xstrdup(ret->target.identity)
                                    : store_machine_path(s, name, "id_ed25519");
    ret->known_hosts = store_machine_path(s, name, "known_hosts");
    if (!mc_path_exists(ret->known_hosts) && !h->driver->provisions)
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "machine '%s' has no pinned host key: machine pins one when it "
                            "provisions a host, and machines of the '%s' driver are not "
                            "provisioned",
                            name, h->driver->name);
    if (!mc_path_exists(ret->known_hosts))
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "machine '%s' has no pinned host key yet ('%s'): run 'machine "
                            "provision %s' first",
                            name, ret->known_hosts, name);
    return check_host_key(name, ret, err);
}

/* The options both ssh and scp get: our key only, and the pinned host key, strictly. */
static void
common_options(char ***argv, const struct ssh_dest *d)
{
    const char *const opts[] = { "-i", d->key,
                                 "-o", "IdentitiesOnly=yes",
                                 "-o", "StrictHostKeyChecking=yes",
                                 "-o", "LogLevel=ERROR" };
    for (size_t i = 0; i < ELEMENTSOF(opts); i++)
        strv_add(argv, opts[i]);
    strv_add(argv, "-o");
    strv_push(argv, xasprintf("UserKnownHostsFile=%s", d->known_hosts));
}

static int
exec_argv(char **argv, struct mc_error **err)
{
    fflush(stdout);
    execvp(argv[0], argv);
    return mc_error_sys(err, errno, "cannot run '%s'", argv[0]);
}

static int
ssh_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    const char *name = args->positional[0] ? args->positional[0] : "default";
    _cleanup_(ssh_dest_clear) struct ssh_dest d = { 0 };
    if (store_check_name(name, err) < 0 || ssh_dest(ctx, name, &d, err) < 0)
        return -1;
    _cleanup_strv_ char **argv = strv_new();
    strv_add(&argv, "ssh");
    common_options(&argv, &d);
    strv_add(&argv, "-p");
    strv_push(&argv, xasprintf("%d", d.target.port ? d.target.port : 22));
    strv_push(&argv, xasprintf("%s@%s", d.target.user ? d.target.user : "root", d.target.host));
    for (size_t i = 1; args->positional[0] && args->positional[i]; i++)
        strv_add(&argv, args->positional[i]);
    return exec_argv(argv, err);
}

const struct cli_command cli_cmd_ssh = {
    .name = "ssh",
    .usage = "[NAME] [[--] COMMAND [ARG...]]",
    .summary = "Log into a machine with ssh, or run a command there",
    .description = "Uses the machine's key (machines/NAME/id_ed25519, or the key given to "
                   "the generic driver)\nand the host key pinned when it was provisioned; a "
                   "changed host key is refused, with\nwhat changed and how to accept it. "
                   "Without a command, an interactive shell with a\nterminal; with one, its "
                   "exit code is machine's.",
    .stop_at_positional = true,
    .run = ssh_run,
};

/* "NAME:PATH" → the machine's name (NULL for a local path). */
static char *
remote_name(const char *arg)
{
    const char *colon = strchr(arg, ':');
    const char *slash = strchr(arg, '/');
    if (!colon || (slash && slash < colon))
        return NULL;
    return xstrndup(arg, (size_t)(colon - arg));
}

static int
scp_machine(char *const *paths, char **ret, struct mc_error **err)
{
    for (size_t i = 0; paths[i]; i++) {
        _cleanup_free_ char *n = remote_name(paths[i]);
        if (!n)
            continue;
        if (*ret && !streq(*ret, n))
            return mc_error_set(err, MC_ERR_USAGE, "scp: one machine per copy ('%s' and '%s')",
                                *ret, n);
        if (!*ret)
            *ret = TAKE_PTR(n);
    }
    if (!*ret)
        return mc_error_set(err, MC_ERR_USAGE, "scp: name a machine as NAME:PATH");
    return 0;
}

static int
scp_run(struct cli_ctx *ctx, const struct cli_command *cmd, const struct cli_args *args,
        struct mc_error **err)
{
    _cleanup_free_ char *name = NULL;
    _cleanup_(ssh_dest_clear) struct ssh_dest d = { 0 };
    if (strv_length(args->positional) < 2)
        return mc_error_set(err, MC_ERR_USAGE, "scp needs a source and a destination");
    if (scp_machine(args->positional, &name, err) < 0 || store_check_name(name, err) < 0 ||
        ssh_dest(ctx, name, &d, err) < 0)
        return -1;
    _cleanup_strv_ char **argv = strv_new();
    strv_add(&argv, "scp");
    common_options(&argv, &d);
    strv_add(&argv, "-P");
    strv_push(&argv, xasprintf("%d", d.target.port ? d.target.port : 22));
    if (cli_args_bool(args, "recursive", NULL))
        strv_add(&argv, "-r");
    STRV_FOREACH (p, args->positional) {
        _cleanup_free_ char *n = remote_name(*p);
        /* An IPv6 address goes in brackets, or scp would split it at its first colon. */
        bool v6 = strchr(d.target.host, ':') != NULL;
        if (n)
            strv_push(&argv,
                      xasprintf("%s@%s%s%s:%s", d.target.user ? d.target.user : "root",
                                v6 ? "[" : "", d.target.host, v6 ? "]" : "", strchr(*p, ':') + 1));
        else
            strv_add(&argv, *p);
    }
    return exec_argv(argv, err);
}

static const struct cli_flag scp_flags[] = {
    { .name = "recursive", .short_name = 'r', .type = CLI_BOOL, .help = "copy folders" },
    { 0 },
};

const struct cli_command cli_cmd_scp = {
    .name = "scp",
    .usage = "[OPTIONS] [NAME:]SRC... [NAME:]DST",
    .summary = "Copy files to or from a machine with scp",
    .flags = scp_flags,
    .run = scp_run,
};
