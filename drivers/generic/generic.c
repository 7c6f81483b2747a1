/* The generic driver: any Linux host reachable over SSH becomes an engine host.
 *
 * Nothing is created: create records the address, the user and the port, and copies the SSH key
 * into the driver's folder (so the machine keeps working if the user's copy moves). The host is
 * not ours, so start, stop, restart, kill, remove and get_state are left empty: machine-ops
 * asks the provisioner to act on the engine instead (DESIGN.md §2). */
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "fs.h"
#include "json.h"
#include "sshkeyfile.h"
#include "util.h"
#include "xalloc.h"

#define KEY_FILE_MAX (64 * 1024)
#define KEY_NAME     "id_key"

static const struct driver_option generic_options[] = {
    { .name = "ip-address",
      .type = DRIVER_OPT_STRING,
      .metavar = "IP",
      .help = "the host's address (an IP or a DNS name)" },
    { .name = "ssh-user",
      .type = DRIVER_OPT_STRING,
      .default_value = "root",
      .metavar = "USER",
      .help = "the user to log in as; commands run through sudo -n when it is not root" },
    { .name = "ssh-key",
      .type = DRIVER_OPT_STRING,
      .metavar = "PATH",
      .help = "the private key (ed25519 or ECDSA) the host accepts (default ~/.ssh/id_ed25519)" },
    { .name = "ssh-port",
      .type = DRIVER_OPT_INT,
      .default_value = "22",
      .metavar = "PORT",
      .help = "the host's SSH port" },
    { 0 },
};

/* The key to copy: --generic-ssh-key, else ~/.ssh/id_ed25519. Newly allocated. */
static char *
key_source(const struct driver_ctx *ctx)
{
    const char *k = driver_opt_str(ctx, "ssh-key");
    if (!isempty(k))
        return xstrdup(k);
    const char *home = getenv("HOME");
    return xasprintf("%s/.ssh/id_ed25519", isempty(home) ? "/root" : home);
}

static int
generic_precreate_check(struct driver_ctx *ctx, struct mc_error **err)
{
    if (isempty(driver_opt_str(ctx, "ip-address")))
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "the generic driver needs --generic-ip-address (the host's address)");
    int64_t port = driver_opt_int(ctx, "ssh-port", 22);
    if (port < 1 || port > 65535)
        return mc_error_set(err, MC_ERR_PRECREATE, "--generic-ssh-port %lld is not a TCP port",
                            (long long)port);
    const char *user = driver_opt_str(ctx, "ssh-user");
    if (user && (isempty(user) || strpbrk(user, " \t\n'\"\\/:@")))
        return mc_error_set(err, MC_ERR_PRECREATE, "--generic-ssh-user '%s' is not a user name",
                            user);
    /* A key machine cannot use (RSA, DSA, a passphrase) is refused before anything is made. */
    _cleanup_free_ char *key = key_source(ctx);
    enum mc_key_type type;
    if (mc_sshkey_check_file(key, &type, err) < 0) {
        if (err && *err)
            (*err)->code = MC_ERR_PRECREATE;
        return mc_error_prefix(err, "--generic-ssh-key: ");
    }
    return 0;
}

static int
copy_key(struct driver_ctx *ctx, const char *dst, struct mc_error **err)
{
    _cleanup_free_ char *src = key_source(ctx);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (mc_read_file(src, KEY_FILE_MAX, &text, &len, err) < 0)
        return mc_error_prefix(err, "SSH key: ");
    int r = mc_write_file_atomic(dst, text, len, 0600, err);
    explicit_bzero(text, len);
    return r;
}

static int
generic_create(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_free_ char *key = mc_path_join(ctx->dir, KEY_NAME);
    if (copy_key(ctx, key, err) < 0)
        return -1;
    const char *user = driver_opt_str(ctx, "ssh-user");
    json_object_set_new(ctx->state, "ip", json_string(driver_opt_str(ctx, "ip-address")));
    json_object_set_new(ctx->state, "user", json_string(isempty(user) ? "root" : user));
    json_object_set_new(ctx->state, "port", json_integer(driver_opt_int(ctx, "ssh-port", 22)));
    json_object_set_new(ctx->state, "key", json_string(key));
    driver_progress(ctx, "using %s@%s:%lld over SSH", isempty(user) ? "root" : user,
                    driver_opt_str(ctx, "ip-address"),
                    (long long)driver_opt_int(ctx, "ssh-port", 22));
    return driver_save(ctx, err);
}

static int
need_state(const struct driver_ctx *ctx, const char **ret_ip, struct mc_error **err)
{
    const char *ip = mc_json_str(ctx->state, "ip");
    if (isempty(ip))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the generic machine '%s' has no address recorded (its create did "
                            "not finish)",
                            ctx->name);
    *ret_ip = ip;
    return 0;
}

static char *
generic_get_ip(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *ip = NULL;
    return need_state(ctx, &ip, err) < 0 ? NULL : xstrdup(ip);
}

static int
generic_get_ssh_target(struct driver_ctx *ctx, struct driver_ssh_target *ret, struct mc_error **err)
{
    const char *ip = NULL;
    if (need_state(ctx, &ip, err) < 0)
        return -1;
    const char *user = mc_json_str(ctx->state, "user");
    const char *key = mc_json_str(ctx->state, "key");
    ret->host = xstrdup(ip);
    ret->port = (int)mc_json_int(ctx->state, "port", 22);
    ret->user = xstrdup(isempty(user) ? "root" : user);
    ret->identity = xstrdup_or_null(key);
    return 0;
}

const struct machine_driver generic_driver = {
    .name = "generic",
    .description = "an existing Linux host reached over SSH",
    .available = true,
    .provisions = true,
    .options = generic_options,
    .precreate_check = generic_precreate_check,
    .create = generic_create,
    .get_ip = generic_get_ip,
    .get_ssh_target = generic_get_ssh_target,
};
