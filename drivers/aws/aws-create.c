/* create: VPC, subnet, image, key pair, security group and its ingress, the instance, then the
 * wait for it to run with an address. Each step is skipped when the state already holds its
 * result, and looks for what an interrupted create made (by tag or by its deterministic name)
 * before making anything, so running create again resumes. Every resource is tagged when it is
 * made and saved the moment its answer arrives; crash points (mc_crashpoint) sit right after
 * each answer and after each save. */
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aws-config.h"
#include "aws-internal.h"
#include "crypto.h"
#include "fs.h"
#include "json.h"
#include "render.h"
#include "templates.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define CREATE_TIMEOUT_MS (15 * 60 * 1000)
#define CHECKIP_URL       "https://checkip.amazonaws.com/"
#define USER_DATA         "cloud-init-user-data.yaml"
#define MAX_ROOT_GB       16384

static const char *
state_str(const struct aws_session *s, const char *key)
{
    return mc_json_str(s->ctx->state, key);
}

static void
set_str(struct aws_session *s, const char *key, const char *value)
{
    mc_json_set_str(s->ctx->state, key, value);
}

static void
set_bool(struct aws_session *s, const char *key, bool value)
{
    json_object_set_new(s->ctx->state, key, json_boolean(value));
}

static const char *
opt(const struct aws_session *s, const char *name)
{
    const char *v = driver_opt_str(s->ctx, name);
    return isempty(v) ? NULL : v;
}

/* ---- checks ---- */

static int
check_options(struct driver_ctx *ctx, struct mc_error **err)
{
    int64_t size = driver_opt_int(ctx, "root-size", 16);
    if (size < 1 || size > MAX_ROOT_GB)
        return mc_error_set(err, MC_ERR_INVALID, "--aws-root-size %lld is not between 1 and %d GB",
                            (long long)size, MAX_ROOT_GB);
    const char *price = driver_opt_str(ctx, "spot-price");
    if (!isempty(price) && (strspn(price, "0123456789.") != strlen(price) || *price == '.'))
        return mc_error_set(err, MC_ERR_INVALID, "--aws-spot-price '%s' is not a price in USD",
                            price);
    if (!isempty(price) && !driver_opt_bool(ctx, "request-spot-instance"))
        return mc_error_set(err, MC_ERR_USAGE,
                            "--aws-spot-price needs --aws-request-spot-instance");
    const char *zone = driver_opt_str(ctx, "zone");
    if (!isempty(zone) && (strlen(zone) != 1 || zone[0] < 'a' || zone[0] > 'z'))
        return mc_error_set(err, MC_ERR_INVALID, "--aws-zone '%s' is not a zone letter", zone);
    const char *cidr = driver_opt_str(ctx, "open-cidr");
    _cleanup_free_ char *norm = isempty(cidr) ? NULL : aws_normalize_cidr(cidr, err);
    if (!isempty(cidr) && !norm)
        return mc_error_prefix(err, "--aws-open-cidr: ");
    return 0;
}

int
aws_precreate_check(struct driver_ctx *ctx, struct mc_error **err)
{
    bool written = false;
    int r = check_options(ctx, err);
    if (r == 0)
        r = aws_stdin_credentials(ctx, &written, err);
    _cleanup_session_ struct aws_session s = { 0 };
    if (r == 0)
        r = aws_session_open(&s, ctx, err);
    if (r == 0) {
        /* One cheap signed call proves the credentials before anything is made. */
        struct aws_params p = { 0 };
        aws_params_add(&p, "MaxResults", "5");
        r = aws_call_ok(&s, "DescribeVpcs", &p, err);
        aws_params_clear(&p);
    }
    if (r < 0) {
        /* A refused pair must not be found and reused by the next create. */
        if (written) {
            _cleanup_free_ char *path = mc_path_join(ctx->dir, AWS_MACHINE_CREDENTIALS_FILE);
            unlink(path);
        }
        if (err && *err)
            (*err)->code = MC_ERR_PRECREATE;
        return -1;
    }
    return 0;
}

/* ---- steps ---- */

/* The create id tags everything this machine makes; it is saved before anything is made. */
static int
step_identity(struct aws_session *s, struct mc_error **err)
{
    if (s->id)
        return 0;
    _cleanup_free_ char *id = mc_random_hex(8);
    set_str(s, ST_ID, id);
    set_str(s, ST_REGION, s->ec2.region);
    set_str(s, ST_ENDPOINT, s->ec2.endpoint);
    set_str(s, ST_CREDENTIALS, s->ec2.creds.source);
    set_str(s, ST_SSH_USER, opt(s, "ssh-user") ? opt(s, "ssh-user") : "admin");
    set_bool(s, ST_USE_PRIVATE_IP, driver_opt_bool(s->ctx, "use-private-address"));
    set_bool(s, ST_SPOT, driver_opt_bool(s->ctx, "request-spot-instance"));
    s->id = state_str(s, ST_ID);
    return aws_save(s, err);
}

/* The caller's address from AWS's checkip service. Never used by tests (they pass
 * --aws-open-cidr). */
static char *
caller_cidr(struct mc_error **err)
{
    _cleanup_free_ char *body = NULL;
    if (aws_http_get(CHECKIP_URL, 10000, &body, err) < 0) {
        mc_error_prefix(err, "cannot find this host's public address (pass --aws-open-cidr): ");
        return NULL;
    }
    return aws_parse_checkip(body, err);
}

/* Who may reach the machine, settled before anything is made: a create that cannot learn the
 * caller's address leaves nothing behind. */
static int
step_open_cidr(struct aws_session *s, struct mc_error **err)
{
    if (state_str(s, ST_OPEN_CIDR))
        return 0;
    const char *given = opt(s, "open-cidr");
    _cleanup_free_ char *cidr = given ? aws_normalize_cidr(given, err) : caller_cidr(err);
    if (!cidr)
        return -1;
    set_str(s, ST_OPEN_CIDR, cidr);
    return aws_save(s, err);
}

static int
describe_subnets(struct aws_session *s, struct aws_params *p, struct aws_subnet_list *ret,
                 struct mc_error **err)
{
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    if (aws_ec2_call(&s->ec2, "DescribeSubnets", p, &body, &len, err) < 0)
        return -1;
    return aws_parse_subnets(body, len, ret, err);
}

/* The subnet named by --aws-subnet-id, checked against --aws-vpc-id. */
static int
given_subnet(struct aws_session *s, const char *subnet_id, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_add(&p, "SubnetId.1", subnet_id);
    struct aws_subnet_list l = { 0 };
    int r = describe_subnets(s, &p, &l, err);
    aws_params_clear(&p);
    if (r < 0)
        return -1;
    const char *vpc = opt(s, "vpc-id");
    if (l.n == 0)
        r = mc_error_set(err, MC_ERR_NOT_FOUND, "subnet '%s' does not exist", subnet_id);
    else if (vpc && !streq_ptr(l.v[0].vpc_id, vpc))
        r = mc_error_set(err, MC_ERR_INVALID, "subnet '%s' is in VPC '%s', not in '%s'", subnet_id,
                         l.v[0].vpc_id, vpc);
    else {
        set_str(s, ST_VPC, l.v[0].vpc_id);
        set_str(s, ST_SUBNET, l.v[0].id);
        set_str(s, ST_ZONE, l.v[0].zone);
    }
    aws_subnet_list_free(&l);
    return r;
}

static int
default_vpc(struct aws_session *s, struct mc_error **err)
{
    /* DescribeAccountAttributes' default-vpc is "none" in moto and absent in some accounts;
     * the VPC flag isDefault is what EC2 itself uses. */
    struct aws_params p = { 0 };
    aws_params_filter(&p, "isDefault", "true");
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_vpc_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "DescribeVpcs", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_vpcs(body, len, &l, err) < 0)
        return -1;
    if (l.n == 0 || !l.v[0].id)
        r = mc_error_set(err, MC_ERR_NOT_FOUND,
                         "region '%s' has no default VPC: name one with --aws-vpc-id",
                         s->ec2.region);
    else
        set_str(s, ST_VPC, l.v[0].id);
    aws_vpc_list_free(&l);
    return r;
}

static int
zone_subnet(struct aws_session *s, struct mc_error **err)
{
    _cleanup_free_ char *zone =
            xasprintf("%s%s", s->ec2.region, opt(s, "zone") ? opt(s, "zone") : "a");
    struct aws_params p = { 0 };
    aws_params_filter(&p, "vpc-id", state_str(s, ST_VPC));
    aws_params_filter(&p, "availability-zone", zone);
    struct aws_subnet_list l = { 0 };
    int r = describe_subnets(s, &p, &l, err);
    aws_params_clear(&p);
    if (r < 0)
        return -1;
    const struct aws_subnet *sn = aws_pick_subnet(&l);
    if (!sn)
        r = mc_error_set(err, MC_ERR_NOT_FOUND,
                         "VPC '%s' has no subnet in zone '%s': name one with --aws-subnet-id",
                         state_str(s, ST_VPC), zone);
    else {
        set_str(s, ST_SUBNET, sn->id);
        set_str(s, ST_ZONE, sn->zone ? sn->zone : zone);
    }
    aws_subnet_list_free(&l);
    return r;
}

static int
step_network(struct aws_session *s, struct mc_error **err)
{
    if (state_str(s, ST_SUBNET))
        return 0;
    driver_progress(s->ctx, "finding the network in %s", s->ec2.region);
    int r;
    if (opt(s, "subnet-id"))
        r = given_subnet(s, opt(s, "subnet-id"), err);
    else {
        if (opt(s, "vpc-id"))
            set_str(s, ST_VPC, opt(s, "vpc-id"));
        r = opt(s, "vpc-id") ? 0 : default_vpc(s, err);
        if (r == 0)
            r = zone_subnet(s, err);
    }
    return r < 0 ? -1 : aws_save(s, err);
}

static int
step_image(struct aws_session *s, struct mc_error **err)
{
    if (state_str(s, ST_AMI))
        return 0;
    struct aws_params p = { 0 };
    const char *ami = opt(s, "ami");
    const char *owner = opt(s, "ami-owner") ? opt(s, "ami-owner") : "136693071363";
    const char *name = opt(s, "ami-name") ? opt(s, "ami-name") : "debian-12-amd64-*";
    if (ami)
        aws_params_add(&p, "ImageId.1", ami);
    else {
        driver_progress(s->ctx, "finding the newest image named '%s' from owner %s", name, owner);
        aws_params_add(&p, "Owner.1", owner);
        aws_params_filter(&p, "name", name);
        aws_params_filter(&p, "state", "available");
    }
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_image_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "DescribeImages", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_images(body, len, &l, err) < 0)
        return -1;
    const struct aws_image *im = aws_newest_image(&l);
    if (!im && ami)
        r = mc_error_set(err, MC_ERR_NOT_FOUND, "image '%s' does not exist in region '%s'", ami,
                         s->ec2.region);
    else if (!im)
        r = mc_error_set(err, MC_ERR_NOT_FOUND,
                         "no available image named '%s' from owner %s in region '%s': name one "
                         "with --aws-ami",
                         name, owner, s->ec2.region);
    else {
        set_str(s, ST_AMI, im->id);
        set_str(s, ST_ROOT_DEVICE, im->root_device_name);
    }
    aws_image_list_free(&l);
    return r < 0 ? -1 : aws_save(s, err);
}

static int
describe_key(struct aws_session *s, const char *name, struct aws_key_pair_list *ret,
             struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_filter(&p, "key-name", name);
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    int r = aws_ec2_call(&s->ec2, "DescribeKeyPairs", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0)
        return -1;
    return aws_parse_key_pairs("DescribeKeyPairs", body, len, ret, err);
}

/* Adopts an existing key pair of that name when this machine made it. */
static int
adopt_key(struct aws_session *s, const char *name, bool *ret_found, struct mc_error **err)
{
    struct aws_key_pair_list l = { 0 };
    *ret_found = false;
    if (describe_key(s, name, &l, err) < 0)
        return -1;
    int r = 0;
    if (l.n > 0 && !streq_ptr(aws_tags_get(&l.v[0].tags, AWS_TAG_ID), s->id))
        r = mc_error_set(err, MC_ERR_EXISTS,
                         "a key pair named '%s' exists and is not this machine's", name);
    else if (l.n > 0) {
        set_str(s, ST_KEY_NAME, name);
        set_str(s, ST_KEY_ID, l.v[0].id);
        set_bool(s, ST_KEY_CREATED, true);
        *ret_found = true;
    }
    aws_key_pair_list_free(&l);
    return r;
}

static char *
base64(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
    return out;
}

static int
import_key(struct aws_session *s, const char *name, struct mc_error **err)
{
    struct aws_params p = { 0 };
    _cleanup_free_ char *material = base64(s->ctx->ssh_public_key);
    aws_params_add(&p, "KeyName", name);
    aws_params_add(&p, "PublicKeyMaterial", material);
    aws_params_tag_spec(&p, s, "key-pair");
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_key_pair_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "ImportKeyPair", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_key_pairs("ImportKeyPair", body, len, &l, err) < 0)
        return -1;
    mc_crashpoint("aws:key-pair-imported");
    set_str(s, ST_KEY_NAME, name);
    set_str(s, ST_KEY_ID, l.n ? l.v[0].id : NULL);
    set_bool(s, ST_KEY_CREATED, true);
    aws_key_pair_list_free(&l);
    return 0;
}

static int
step_key_pair(struct aws_session *s, struct mc_error **err)
{
    if (state_str(s, ST_KEY_NAME))
        return 0;
    if (isempty(s->ctx->ssh_public_key))
        return mc_error_set(err, MC_ERR_INVALID, "machine '%s' has no SSH public key to import",
                            s->ctx->name);
    _cleanup_free_ char *name = aws_resource_name(s->ctx->name, s->id);
    bool found = false;
    if (adopt_key(s, name, &found, err) < 0)
        return -1;
    if (!found) {
        driver_progress(s->ctx, "importing the machine's SSH key as key pair '%s'", name);
        struct mc_error *e = NULL;
        /* A retry whose first attempt went through (its answer lost) hears Duplicate. */
        if (import_key(s, name, &e) < 0 &&
            (!mc_error_is(e, MC_ERR_EXISTS) || adopt_key(s, name, &found, NULL) < 0 || !found))
            return mc_error_propagate(err, e);
        mc_error_free(e);
    }
    if (aws_save(s, err) < 0)
        return -1;
    mc_crashpoint("aws:key-pair-saved");
    return 0;
}

static int
describe_group(struct aws_session *s, const char *name, struct aws_security_group_list *ret,
               struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_filter(&p, "vpc-id", state_str(s, ST_VPC));
    aws_params_filter(&p, "group-name", name);
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    int r = aws_ec2_call(&s->ec2, "DescribeSecurityGroups", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0)
        return -1;
    return aws_parse_security_groups(body, len, ret, err);
}

static int
create_group(struct aws_session *s, const char *name, struct mc_error **err)
{
    struct aws_params p = { 0 };
    _cleanup_free_ char *desc = xasprintf("machine: SSH and engine access to '%s'", s->ctx->name);
    aws_params_add(&p, "GroupName", name);
    aws_params_add(&p, "GroupDescription", desc);
    aws_params_add(&p, "VpcId", state_str(s, ST_VPC));
    aws_params_tag_spec(&p, s, "security-group");
    _cleanup_free_ char *body = NULL, *id = NULL;
    size_t len = 0;
    int r = aws_ec2_call(&s->ec2, "CreateSecurityGroup", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_group_id(body, len, &id, err) < 0)
        return -1;
    mc_crashpoint("aws:security-group-created");
    set_str(s, ST_GROUP_ID, id);
    set_bool(s, ST_GROUP_CREATED, true);
    return 0;
}

/* Uses the group of that name in the VPC when there is one (made by this machine, by an
 * interrupted create of it, or by the user). */
static int
adopt_group(struct aws_session *s, const char *name, bool *ret_found, struct mc_error **err)
{
    struct aws_security_group_list l = { 0 };
    *ret_found = false;
    if (describe_group(s, name, &l, err) < 0)
        return -1;
    if (l.n > 0) {
        set_str(s, ST_GROUP_ID, l.v[0].id);
        set_bool(s, ST_GROUP_CREATED, streq_ptr(aws_tags_get(&l.v[0].tags, AWS_TAG_ID), s->id));
        *ret_found = true;
    }
    aws_security_group_list_free(&l);
    return 0;
}

static int
step_security_group(struct aws_session *s, struct mc_error **err)
{
    if (state_str(s, ST_GROUP_ID))
        return 0;
    _cleanup_free_ char *dflt = aws_resource_name(s->ctx->name, s->id);
    const char *name = opt(s, "security-group") ? opt(s, "security-group") : dflt;
    bool found = false;
    set_str(s, ST_GROUP_NAME, name);
    if (adopt_group(s, name, &found, err) < 0)
        return -1;
    if (!found) {
        driver_progress(s->ctx, "making security group '%s'", name);
        struct mc_error *e = NULL;
        /* A retry whose first attempt went through (its answer lost) hears Duplicate. */
        if (create_group(s, name, &e) < 0 &&
            (!mc_error_is(e, MC_ERR_EXISTS) || adopt_group(s, name, &found, NULL) < 0 || !found))
            return mc_error_propagate(err, e);
        mc_error_free(e);
    }
    if (aws_save(s, err) < 0)
        return -1;
    mc_crashpoint("aws:security-group-saved");
    return 0;
}

static void
add_permission(struct aws_params *p, int n, int port, const char *cidr)
{
    _cleanup_free_ char *k1 = xasprintf("IpPermissions.%d.IpProtocol", n);
    _cleanup_free_ char *k2 = xasprintf("IpPermissions.%d.FromPort", n);
    _cleanup_free_ char *k3 = xasprintf("IpPermissions.%d.ToPort", n);
    bool v6 = strchr(cidr, ':') != NULL;
    _cleanup_free_ char *k4 = xasprintf(v6 ? "IpPermissions.%d.Ipv6Ranges.1.CidrIpv6"
                                           : "IpPermissions.%d.IpRanges.1.CidrIp",
                                        n);
    _cleanup_free_ char *k5 = xasprintf(v6 ? "IpPermissions.%d.Ipv6Ranges.1.Description"
                                           : "IpPermissions.%d.IpRanges.1.Description",
                                        n);
    aws_params_add(p, k1, "tcp");
    aws_params_addf(p, k2, "%d", port);
    aws_params_addf(p, k3, "%d", port);
    aws_params_add(p, k4, cidr);
    aws_params_add(p, k5, port == 22 ? "machine: SSH" : "machine: engine API");
}

static int
step_ingress(struct aws_session *s, struct mc_error **err)
{
    if (mc_json_bool(s->ctx->state, ST_INGRESS, false))
        return 0;
    const char *cidr = state_str(s, ST_OPEN_CIDR);
    struct aws_security_group_list l = { 0 };
    if (describe_group(s, state_str(s, ST_GROUP_NAME), &l, err) < 0)
        return -1;
    int ports[] = { 22, s->ctx->engine_port > 0 ? s->ctx->engine_port : 2376 }, n = 0;
    struct aws_params p = { 0 };
    aws_params_add(&p, "GroupId", state_str(s, ST_GROUP_ID));
    for (size_t i = 0; i < ELEMENTSOF(ports); i++)
        if (l.n == 0 || !aws_group_allows(&l.v[0], ports[i], cidr))
            add_permission(&p, ++n, ports[i], cidr);
    aws_security_group_list_free(&l);
    int r = 0;
    if (n > 0) {
        driver_progress(s->ctx, "opening ports 22 and %d to %s", ports[1], cidr);
        struct mc_error *e = NULL;
        r = aws_call_ok(s, "AuthorizeSecurityGroupIngress", &p, &e);
        if (r < 0 && aws_ec2_code_is(&s->ec2, "InvalidPermission.Duplicate")) {
            mc_error_free(e);
            r = 0;
        } else if (r < 0)
            mc_error_propagate(err, e);
    }
    aws_params_clear(&p);
    if (r < 0)
        return -1;
    set_bool(s, ST_INGRESS, true);
    if (aws_save(s, err) < 0)
        return -1;
    mc_crashpoint("aws:ingress-authorized");
    return 0;
}

static char *
user_data(struct aws_session *s, struct mc_error **err)
{
    const char *tmpl = template_get(USER_DATA);
    if (!tmpl) {
        mc_error_set(err, MC_ERR_FAILED, "the template '%s' is not built in", USER_DATA);
        return NULL;
    }
    const char *const vars[] = {
        "hostname",       s->ctx->name,           "user", state_str(s, ST_SSH_USER),
        "ssh_public_key", s->ctx->ssh_public_key, NULL
    };
    _cleanup_free_ char *text = mc_render(tmpl, vars, err);
    return text ? base64(text) : NULL;
}

static void
add_placement(struct aws_session *s, struct aws_params *p)
{
    bool priv = mc_json_bool(s->ctx->state, ST_USE_PRIVATE_IP, false);
    aws_params_add(p, "NetworkInterface.1.DeviceIndex", "0");
    aws_params_add(p, "NetworkInterface.1.SubnetId", state_str(s, ST_SUBNET));
    aws_params_add(p, "NetworkInterface.1.SecurityGroupId.1", state_str(s, ST_GROUP_ID));
    if (!priv)
        aws_params_add(p, "NetworkInterface.1.AssociatePublicIpAddress", "true");
    aws_params_add(p, "NetworkInterface.1.DeleteOnTermination", "true");
}

static void
add_disk(struct aws_session *s, struct aws_params *p)
{
    const char *dev = state_str(s, ST_ROOT_DEVICE);
    if (!dev)
        return;
    aws_params_add(p, "BlockDeviceMapping.1.DeviceName", dev);
    aws_params_addf(p, "BlockDeviceMapping.1.Ebs.VolumeSize", "%lld",
                    (long long)driver_opt_int(s->ctx, "root-size", 16));
    aws_params_add(p, "BlockDeviceMapping.1.Ebs.VolumeType",
                   opt(s, "volume-type") ? opt(s, "volume-type") : "gp3");
    aws_params_add(p, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
}

static void
add_market(struct aws_session *s, struct aws_params *p)
{
    if (!mc_json_bool(s->ctx->state, ST_SPOT, false))
        return;
    aws_params_add(p, "InstanceMarketOptions.MarketType", "spot");
    aws_params_add(p, "InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time");
    aws_params_add(p, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior",
                   "terminate");
    if (opt(s, "spot-price"))
        aws_params_add(p, "InstanceMarketOptions.SpotOptions.MaxPrice", opt(s, "spot-price"));
}

static int
run_params(struct aws_session *s, struct aws_params *p, struct mc_error **err)
{
    _cleanup_free_ char *ud = user_data(s, err);
    if (!ud)
        return -1;
    /* The same token makes a repeated RunInstances return the same instance; a new attempt
     * (after the last instance died before it ran) gets a new one. */
    _cleanup_free_ char *token = xasprintf(
            "machine-%s-%lld", s->id, (long long)mc_json_int(s->ctx->state, ST_RUN_ATTEMPT, 0));
    aws_params_add(p, "ImageId", state_str(s, ST_AMI));
    aws_params_add(p, "MinCount", "1");
    aws_params_add(p, "MaxCount", "1");
    aws_params_add(p, "InstanceType",
                   opt(s, "instance-type") ? opt(s, "instance-type") : "t3.small");
    aws_params_add(p, "KeyName", state_str(s, ST_KEY_NAME));
    aws_params_add(p, "UserData", ud);
    aws_params_add(p, "ClientToken", token);
    aws_params_add(p, "MetadataOptions.HttpTokens", "required");
    aws_params_add(p, "MetadataOptions.HttpEndpoint", "enabled");
    if (opt(s, "iam-instance-profile"))
        aws_params_add(p, "IamInstanceProfile.Name", opt(s, "iam-instance-profile"));
    add_placement(s, p);
    add_disk(s, p);
    add_market(s, p);
    aws_params_tag_spec(p, s, "instance");
    aws_params_tag_spec(p, s, "volume");
    return 0;
}

static int
run_instance(struct aws_session *s, struct mc_error **err)
{
    struct aws_params p = { 0 };
    if (run_params(s, &p, err) < 0) {
        aws_params_clear(&p);
        return -1;
    }
    driver_progress(s->ctx, "running a %s instance of %s",
                    opt(s, "instance-type") ? opt(s, "instance-type") : "t3.small",
                    state_str(s, ST_AMI));
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_instance_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "RunInstances", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_instances("RunInstances", body, len, &l, err) < 0)
        return -1;
    mc_crashpoint("aws:run-instances-answered");
    if (l.n == 0 || !l.v[0].id)
        r = mc_error_set(err, MC_ERR_INVALID, "EC2 answered RunInstances without an instance");
    else
        set_str(s, ST_INSTANCE, l.v[0].id);
    aws_instance_list_free(&l);
    return r;
}

/* An instance an interrupted create made; extras (which only a retried RunInstances without
 * idempotency could make) are terminated so that one instance remains. */
static int
adopt_instance(struct aws_session *s, bool *ret_found, struct mc_error **err)
{
    struct aws_instance_list l = { 0 };
    *ret_found = false;
    if (aws_find_instances(s, &l, err) < 0)
        return -1;
    int r = 0;
    if (l.n > 0) {
        set_str(s, ST_INSTANCE, l.v[0].id);
        *ret_found = true;
        driver_progress(s->ctx, "resuming with instance %s", l.v[0].id);
    }
    for (size_t i = 1; i < l.n && r == 0; i++)
        r = aws_instance_action(s, "TerminateInstances", l.v[i].id, NULL, err);
    aws_instance_list_free(&l);
    return r;
}

static int
step_instance(struct aws_session *s, struct mc_error **err)
{
    if (state_str(s, ST_INSTANCE))
        return 0;
    bool found = false;
    if (adopt_instance(s, &found, err) < 0)
        return -1;
    if (!found && run_instance(s, err) < 0)
        return -1;
    if (aws_save(s, err) < 0)
        return -1;
    mc_crashpoint("aws:instance-saved");
    return 0;
}

/* An instance that died before it ran is forgotten, so that the next create makes another. */
static void
forget_dead_instance(struct aws_session *s)
{
    json_object_del(s->ctx->state, ST_INSTANCE);
    json_object_set_new(s->ctx->state, ST_RUN_ATTEMPT,
                        json_integer(mc_json_int(s->ctx->state, ST_RUN_ATTEMPT, 0) + 1));
}

static int
step_running(struct aws_session *s, struct mc_error **err)
{
    _cleanup_free_ char *id = xstrdup(state_str(s, ST_INSTANCE));
    struct aws_instance_list l = { 0 };
    void *priv = mc_json_bool(s->ctx->state, ST_USE_PRIVATE_IP, false) ? (void *)1 : NULL;
    driver_progress(s->ctx, "waiting for instance %s to run", id);
    struct mc_error *e = NULL;
    if (aws_wait_instance(s, id, "running with an address", aws_want_running, priv, &l, &e) < 0) {
        if (mc_error_is(e, MC_ERR_NOT_RUNNING) || mc_error_is(e, MC_ERR_NOT_FOUND)) {
            forget_dead_instance(s);
            char *m = xasprintf("%s; creating again runs a new instance", e->message);
            free(e->message);
            e->message = m;
            aws_save(s, NULL);
        }
        return mc_error_propagate(err, e);
    }
    aws_note_addresses(s, &l.v[0]);
    aws_instance_list_free(&l);
    if (aws_save(s, err) < 0)
        return -1;
    mc_crashpoint("aws:instance-running");
    return 0;
}

static int (*const steps[])(struct aws_session *, struct mc_error **) = {
    step_identity,       step_open_cidr, step_network,  step_image,   step_key_pair,
    step_security_group, step_ingress,   step_instance, step_running,
};

int
aws_create(struct driver_ctx *ctx, struct mc_error **err)
{
    if (check_options(ctx, err) < 0 || aws_stdin_credentials(ctx, NULL, err) < 0)
        return -1;
    _cleanup_session_ struct aws_session s = { 0 };
    if (aws_session_open(&s, ctx, err) < 0)
        return -1;
    s.ec2.deadline_ms = aws_deadline(ctx, CREATE_TIMEOUT_MS);
    for (size_t i = 0; i < ELEMENTSOF(steps); i++)
        if (steps[i](&s, err) < 0)
            return -1;
    return 0;
}
