/* The EC2 driver: its options, its vtable, sessions, and the verbs that act on a made instance
 * (start, stop, restart, kill, state, address). create is in aws-create.c, remove in
 * aws-remove.c. Callers prefix the driver's name to its errors ("create 'web1': aws: ..."). */
#include <string.h>
#include <unistd.h>

#include "aws-config.h"
#include "aws-internal.h"
#include "aws.h"
#include "fs.h"
#include "json.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define VERB_TIMEOUT_MS (10 * 60 * 1000)
/* status, ip, url: one DescribeInstances, retried for a minute at most unless the caller says. */
#define QUERY_TIMEOUT_MS (60 * 1000)
#define STDIN_MAX        (64 * 1024)

/* Defaults stay empty where an AWS_* variable or a profile must be able to apply. */
static const struct driver_option aws_options[] = {
    { "profile", DRIVER_OPT_STRING, NULL,
      "profile of ~/.aws/credentials and ~/.aws/config to use (beats AWS_ACCESS_KEY_ID)", NULL,
      "NAME" },
    { "credentials-stdin", DRIVER_OPT_BOOL, NULL,
      "read an AWS key pair from standard input and keep it (0600) in the machine's folder", NULL,
      NULL },
    { "region", DRIVER_OPT_STRING, NULL,
      "region (else AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1)", NULL, "REGION" },
    { "endpoint", DRIVER_OPT_STRING, NULL,
      "EC2 endpoint URL (else AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL, the region's)", NULL, "URL" },
    { "vpc-id", DRIVER_OPT_STRING, NULL, "VPC to use (default: the region's default VPC)", NULL,
      "ID" },
    { "subnet-id", DRIVER_OPT_STRING, NULL, "subnet to use (default: the zone's default subnet)",
      NULL, "ID" },
    { "zone", DRIVER_OPT_STRING, "a", "availability zone letter within the region", NULL, "Z" },
    { "security-group", DRIVER_OPT_STRING, NULL,
      "security group name, made if missing (default: machine-NAME-ID, this machine's own)", NULL,
      "NAME" },
    { "open-cidr", DRIVER_OPT_STRING, NULL,
      "address block allowed to reach SSH and the engine (default: this host's public address, "
      "found through checkip.amazonaws.com)",
      NULL, "CIDR" },
    { "instance-type", DRIVER_OPT_STRING, "t3.small", "instance type", NULL, "TYPE" },
    { "root-size", DRIVER_OPT_INT, "16", "root disk size in GB", NULL, "GB" },
    { "volume-type", DRIVER_OPT_STRING, "gp3", "root disk volume type", NULL, "TYPE" },
    { "ami", DRIVER_OPT_STRING, NULL,
      "image id (default: the newest image matching --aws-ami-owner and --aws-ami-name)", NULL,
      "ID" },
    { "ami-owner", DRIVER_OPT_STRING, "136693071363", "owner of the default image (Debian's)", NULL,
      "ACCOUNT" },
    { "ami-name", DRIVER_OPT_STRING, "debian-12-amd64-*", "name pattern of the default image", NULL,
      "PATTERN" },
    { "ssh-user", DRIVER_OPT_STRING, "admin", "user to log in as (Debian's images use admin)", NULL,
      "USER" },
    { "request-spot-instance", DRIVER_OPT_BOOL, NULL, "run a spot instance", NULL, NULL },
    { "spot-price", DRIVER_OPT_STRING, NULL,
      "highest hourly price for a spot instance (default: the on-demand price)", NULL, "USD" },
    { "iam-instance-profile", DRIVER_OPT_STRING, NULL, "IAM instance profile to attach", NULL,
      "NAME" },
    { "use-private-address", DRIVER_OPT_BOOL, NULL,
      "reach the instance at its private address (from inside its VPC)", NULL, NULL },
    { NULL },
};

/* ---- sessions ---- */

int
aws_stdin_credentials(struct driver_ctx *ctx, bool *ret_written, struct mc_error **err)
{
    if (ret_written)
        *ret_written = false;
    if (!driver_opt_bool(ctx, "credentials-stdin"))
        return 0;
    _cleanup_free_ char *path = mc_path_join(ctx->dir, AWS_MACHINE_CREDENTIALS_FILE);
    if (mc_path_exists(path))
        return 0;
    /* The pre-create check runs before the store makes the machine's folders. */
    if (mc_mkdir_p(ctx->dir, 0700, err) < 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    if (isatty(STDIN_FILENO))
        driver_progress(ctx, "reading an AWS key pair from standard input: the key id and the "
                             "secret on two lines, then Ctrl-D");
    if (mc_read_file("/dev/stdin", STDIN_MAX, &text, &len, err) < 0)
        return mc_error_prefix(err, "--aws-credentials-stdin: ");
    struct aws_credentials c = { 0 };
    int r = aws_parse_key_pair(text, &c, err);
    mc_free_secret(text, len);
    if (r < 0)
        return mc_error_prefix(err, "--aws-credentials-stdin: ");
    char *file = aws_format_key_pair(&c);
    aws_credentials_clear(&c);
    r = mc_write_file_atomic(path, file, strlen(file), 0600, err);
    mc_free_secret(file, strlen(file));
    if (r == 0 && ret_written)
        *ret_written = true;
    return r;
}

int
aws_save(struct aws_session *s, struct mc_error **err)
{
    return driver_save(s->ctx, err);
}

/* The region and endpoint a machine was made in win over anything resolved now. */
static void
pin_location(struct driver_ctx *ctx, struct aws_config *cfg)
{
    const char *region = mc_json_str(ctx->state, ST_REGION);
    const char *endpoint = mc_json_str(ctx->state, ST_ENDPOINT);
    if (region) {
        free(cfg->region);
        cfg->region = xstrdup(region);
    }
    if (endpoint) {
        free(cfg->endpoint);
        cfg->endpoint = xstrdup(endpoint);
    }
}

int
aws_session_open(struct aws_session *s, struct driver_ctx *ctx, struct mc_error **err)
{
    memset(s, 0, sizeof(*s));
    s->ctx = ctx;
    if (!json_is_object(ctx->state))
        return mc_error_set(err, MC_ERR_INVALID, "the machine's driver state is not an object");
    struct aws_config cfg = { 0 };
    if (aws_config_load(ctx->options, ctx->dir, &cfg, err) < 0)
        return -1;
    pin_location(ctx, &cfg);
    int r = aws_ec2_init(&s->ec2, &cfg, err);
    aws_config_clear(&cfg);
    if (r < 0)
        return -1;
    s->ec2.deadline_ms = ctx->deadline_ms;
    s->id = mc_json_str(ctx->state, ST_ID);
    return 0;
}

void
aws_session_close(struct aws_session *s)
{
    aws_ec2_clear(&s->ec2);
    strv_free(s->terminated);
    memset(s, 0, sizeof(*s));
}

/* ---- verbs on a made instance ---- */

/* Opens a session for a verb on the machine's instance, with the caller's deadline or
 * default_ms from now. */
static int
open_for_instance(struct aws_session *s, struct driver_ctx *ctx, int64_t default_ms,
                  const char **ret_id, struct mc_error **err)
{
    const char *id = mc_json_str(ctx->state, ST_INSTANCE);
    if (!id)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "machine '%s' has no instance", ctx->name);
    if (aws_session_open(s, ctx, err) < 0)
        return -1;
    if (s->ec2.deadline_ms == 0)
        s->ec2.deadline_ms = aws_deadline(ctx, default_ms);
    *ret_id = id;
    return 0;
}

static bool
use_private(const struct driver_ctx *ctx)
{
    return mc_json_bool(ctx->state, ST_USE_PRIVATE_IP, false);
}

/* Waits for running with an address and records the addresses. */
static int
wait_running(struct aws_session *s, const char *id, struct mc_error **err)
{
    struct aws_instance_list l = { 0 };
    void *priv = use_private(s->ctx) ? (void *)1 : NULL;
    driver_progress(s->ctx, "waiting for instance %s to run", id);
    if (aws_wait_instance(s, id, "running with an address", aws_want_running, priv, &l, err) < 0)
        return -1;
    aws_note_addresses(s, &l.v[0]);
    aws_instance_list_free(&l);
    return aws_save(s, err);
}

static int
act(struct driver_ctx *ctx, const char *action, bool force, aws_wait_fn want, const char *what,
    struct mc_error **err)
{
    _cleanup_session_ struct aws_session s = { 0 };
    const char *id = NULL;
    if (open_for_instance(&s, ctx, VERB_TIMEOUT_MS, &id, err) < 0)
        return -1;
    struct aws_params extra = { 0 };
    if (force)
        aws_params_add(&extra, "Force", "true");
    driver_progress(ctx, "%s: instance %s", action, id);
    int r = aws_instance_action(&s, action, id, &extra, err);
    aws_params_clear(&extra);
    if (r == 0 && want == aws_want_running)
        r = wait_running(&s, id, err);
    else if (r == 0)
        r = aws_wait_instance(&s, id, what, want, NULL, NULL, err);
    return r;
}

static int
aws_start(struct driver_ctx *ctx, struct mc_error **err)
{
    return act(ctx, "StartInstances", false, aws_want_running, "running", err);
}

static int
aws_stop(struct driver_ctx *ctx, struct mc_error **err)
{
    return act(ctx, "StopInstances", false, aws_want_stopped, "stopped", err);
}

static int
aws_restart(struct driver_ctx *ctx, struct mc_error **err)
{
    return act(ctx, "RebootInstances", false, aws_want_running, "running", err);
}

static int
aws_kill(struct driver_ctx *ctx, struct mc_error **err)
{
    return act(ctx, "StopInstances", true, aws_want_stopped, "stopped", err);
}

static int
aws_get_state(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err)
{
    if (!mc_json_str(ctx->state, ST_INSTANCE)) {
        *ret = DRIVER_STATE_NOT_FOUND;
        return 0;
    }
    _cleanup_session_ struct aws_session s = { 0 };
    const char *id = NULL;
    if (open_for_instance(&s, ctx, QUERY_TIMEOUT_MS, &id, err) < 0)
        return -1;
    struct aws_instance_list l = { 0 };
    struct mc_error *e = NULL;
    if (aws_describe_instance(&s, id, &l, &e) < 0) {
        if (!mc_error_is(e, MC_ERR_NOT_FOUND)) {
            mc_error_propagate(err, e);
            return -1;
        }
        mc_error_free(e);
        *ret = DRIVER_STATE_NOT_FOUND;
        return 0;
    }
    *ret = aws_state_from_ec2(l.v[0].state);
    aws_instance_list_free(&l);
    return 0;
}

static char *
aws_get_ip(struct driver_ctx *ctx, struct mc_error **err)
{
    _cleanup_session_ struct aws_session s = { 0 };
    const char *id = NULL;
    if (open_for_instance(&s, ctx, QUERY_TIMEOUT_MS, &id, err) < 0)
        return NULL;
    struct aws_instance_list l = { 0 };
    if (aws_describe_instance(&s, id, &l, err) < 0) {
        return NULL;
    }
    const struct aws_instance *in = &l.v[0];
    const char *addr = use_private(ctx) ? in->private_ip : in->public_ip;
    char *r = xstrdup_or_null(addr);
    if (!r)
        mc_error_set(err, MC_ERR_NOT_RUNNING, "instance '%s' has no %s address (it is %s)", id,
                     use_private(ctx) ? "private" : "public", in->state ? in->state : "unknown");
    else
        aws_note_addresses(&s, in);
    aws_instance_list_free(&l);
    return r;
}

static int
aws_get_ssh_target(struct driver_ctx *ctx, struct driver_ssh_target *ret, struct mc_error **err)
{
    char *ip = aws_get_ip(ctx, err);
    if (!ip)
        return -1;
    const char *user = mc_json_str(ctx->state, ST_SSH_USER);
    ret->host = ip;
    ret->port = 22;
    ret->user = xstrdup(user ? user : "admin");
    return 0;
}

const struct machine_driver aws_driver = {
    .name = "aws",
    .aliases = (const char *const[]){ "amazonec2", NULL },
    .description = "Amazon EC2 instances",
    .available = true,
    .provisions = true,
    .options = aws_options,
    .precreate_check = aws_precreate_check,
    .create = aws_create,
    .remove = aws_remove,
    .start = aws_start,
    .stop = aws_stop,
    .restart = aws_restart,
    .kill = aws_kill,
    .get_state = aws_get_state,
    .get_ip = aws_get_ip,
    .get_ssh_target = aws_get_ssh_target,
};
