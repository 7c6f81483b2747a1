/* The AWS driver's internals, shared by aws.c (the vtable and the small verbs), aws-create.c,
 * aws-remove.c and aws-ops.c (typed EC2 operations). */
#ifndef MC_AWS_INTERNAL_H
#define MC_AWS_INTERNAL_H

#include <stdbool.h>

#include "driver.h"
#include "ec2-client.h"
#include "ec2-xml.h"

/* Tags on every resource a machine makes; resume and rm find resources by TAG_ID. */
#define AWS_TAG_NAME    "Name"
#define AWS_TAG_MACHINE "machine-name"
#define AWS_TAG_ID      "machine-id"
#define AWS_TAG_TOOL    "managed-by"
#define AWS_TOOL        "machine"

/* Keys of the driver's state (ctx->state). */
#define ST_ID             "id"
#define ST_REGION         "region"
#define ST_ENDPOINT       "endpoint"
#define ST_CREDENTIALS    "credentials"
#define ST_VPC            "vpc_id"
#define ST_SUBNET         "subnet_id"
#define ST_ZONE           "zone"
#define ST_AMI            "ami"
#define ST_ROOT_DEVICE    "root_device"
#define ST_KEY_NAME       "key_name"
#define ST_KEY_ID         "key_pair_id"
#define ST_KEY_CREATED    "key_created"
#define ST_GROUP_ID       "security_group_id"
#define ST_GROUP_NAME     "security_group_name"
#define ST_GROUP_CREATED  "security_group_created"
#define ST_OPEN_CIDR      "open_cidr"
#define ST_INGRESS        "ingress_authorized"
#define ST_INSTANCE       "instance_id"
#define ST_RUN_ATTEMPT    "run_attempt"
#define ST_SPOT           "spot"
#define ST_SSH_USER       "ssh_user"
#define ST_PUBLIC_IP      "public_ip"
#define ST_PRIVATE_IP     "private_ip"
#define ST_USE_PRIVATE_IP "use_private_address"

/* Instance states worth acting on (everything but shutting-down and terminated). */
extern const char *const aws_live_states[];

/* One verb's connection to EC2: the context, and a client for the machine's pinned region and
 * endpoint with freshly resolved credentials. */
struct aws_session {
    struct driver_ctx *ctx;
    struct aws_ec2 ec2;
    const char *id;    /* the machine's create id (state "id"), or NULL before create made one */
    char **terminated; /* instances remove terminated (their interfaces may linger a while) */
};

/* Opens a session: resolves credentials (reading the machine's stdin key pair when it has one)
 * and the region and endpoint (those in the state win: a machine stays where it was made). */
int aws_session_open(struct aws_session *s, struct driver_ctx *ctx, struct mc_error **err);
void aws_session_close(struct aws_session *s);
static inline void
aws_session_closep(struct aws_session *s)
{
    aws_session_close(s);
}
#define _cleanup_session_ _cleanup_(aws_session_closep)

/* Reads the key pair from standard input into the machine's 0600 file when
 * --aws-credentials-stdin is set and the file does not exist yet (*ret_written says so). */
int aws_stdin_credentials(struct driver_ctx *ctx, bool *ret_written, struct mc_error **err);

/* Saves ctx->state now (the moment a resource exists). */
int aws_save(struct aws_session *s, struct mc_error **err);

/* The vtable's create, precreate_check and remove (aws-create.c, aws-remove.c). */
int aws_precreate_check(struct driver_ctx *ctx, struct mc_error **err);
int aws_create(struct driver_ctx *ctx, struct mc_error **err);
int aws_remove(struct driver_ctx *ctx, bool force, struct mc_error **err);

/* ---- typed operations (aws-ops.c) ---- */

/* Adds a filter on the machine's create-id tag. */
void aws_params_filter_machine(struct aws_params *p, const struct aws_session *s);
/* Adds TagSpecification.N for resource_type with the machine's tags. */
void aws_params_tag_spec(struct aws_params *p, const struct aws_session *s,
                         const char *resource_type);

int aws_describe_instances(struct aws_session *s, struct aws_params *params,
                           struct aws_instance_list *ret, struct mc_error **err);
/* The one instance with this id; MC_ERR_NOT_FOUND when EC2 does not know it. */
int aws_describe_instance(struct aws_session *s, const char *id, struct aws_instance_list *ret,
                          struct mc_error **err);
/* Live instances tagged with the machine's create id. */
int aws_find_instances(struct aws_session *s, struct aws_instance_list *ret, struct mc_error **err);
/* A call whose answer only needs its root checked. */
int aws_call_ok(struct aws_session *s, const char *action, struct aws_params *params,
                struct mc_error **err);
/* Calls action on one instance (StartInstances, StopInstances, ...), with extra parameters. */
int aws_instance_action(struct aws_session *s, const char *action, const char *id,
                        struct aws_params *extra, struct mc_error **err);

/* Polls the instance until want says done, with backoff, until the deadline. want gets the
 * current instance, or NULL once EC2 no longer knows it. Returns 0 with *ret filled (unless
 * ret is NULL), or MC_ERR_TIMEOUT naming what was awaited and the last state. */
typedef int (*aws_wait_fn)(const struct aws_instance *in, void *userdata, struct mc_error **err);
int aws_wait_instance(struct aws_session *s, const char *id, const char *what, aws_wait_fn want,
                      void *userdata, struct aws_instance_list *ret, struct mc_error **err);
/* Wait predicates: running with the address the machine uses (an instance that is terminating
 * or terminated is MC_ERR_NOT_RUNNING, one EC2 no longer knows MC_ERR_NOT_FOUND); stopped;
 * terminated (or gone). */
int aws_want_running(const struct aws_instance *in, void *use_private, struct mc_error **err);
int aws_want_stopped(const struct aws_instance *in, void *unused, struct mc_error **err);
int aws_want_terminated(const struct aws_instance *in, void *unused, struct mc_error **err);

/* The deadline for the verb: the caller's, else now + default_ms. */
int64_t aws_deadline(const struct driver_ctx *ctx, int64_t default_ms);

/* Records the addresses of a described instance in the state. */
void aws_note_addresses(struct aws_session *s, const struct aws_instance *in);

/* ---- pure helpers (aws-ops.c), unit-tested ---- */

/* The newest image by creationDate (then by name), or NULL for an empty list. */
const struct aws_image *aws_newest_image(const struct aws_image_list *l);
/* The subnet to use among those of a zone: the zone's default subnet, else the first. */
const struct aws_subnet *aws_pick_subnet(const struct aws_subnet_list *l);
/* Validates an IPv4 or IPv6 CIDR ("203.0.113.7/32"); a bare address gets /32 or /128. Newly
 * allocated canonical text, or NULL with an error naming the value. */
char *aws_normalize_cidr(const char *s, struct mc_error **err);
/* The caller's address from a checkip answer ("203.0.113.7\n") as a /32 CIDR. */
char *aws_parse_checkip(const char *body, struct mc_error **err);
/* The driver state for an EC2 instance state name ("running" -> DRIVER_STATE_RUNNING). */
enum driver_state aws_state_from_ec2(const char *state);
/* True when the group has a tcp rule for port from cidr. */
bool aws_group_allows(const struct aws_security_group *g, int port, const char *cidr);
/* "machine-web1-0123abcd": the default name of a machine's key pair and security group. */
char *aws_resource_name(const char *machine, const char *id);

#endif
