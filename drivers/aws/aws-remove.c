/* remove: terminate the machine's instances and wait until they are gone, cancel their spot
 * requests, then delete the key pair and the security group this machine made (a group another
 * instance still uses is kept). Resources are found by the ids in the state and by the machine's
 * create-id tag, so a create interrupted before it saved an answer leaves nothing behind. */
#include <string.h>

#include "aws-internal.h"
#include "fs.h"
#include "json.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define REMOVE_TIMEOUT_MS (15 * 60 * 1000)
#define GROUP_RETRY_MS    2000

static void
forget(struct aws_session *s, const char *const *keys)
{
    for (size_t i = 0; keys[i]; i++)
        json_object_del(s->ctx->state, keys[i]);
}

/* The machine's instances: the one in the state (when EC2 still knows it) and every live one
 * carrying its tag. */
static int
machine_instances(struct aws_session *s, char ***ret_ids, char ***ret_spot, struct mc_error **err)
{
    struct aws_instance_list tagged = { 0 }, saved = { 0 };
    const char *id = mc_json_str(s->ctx->state, ST_INSTANCE);
    struct mc_error *e = NULL;
    if (id && aws_describe_instance(s, id, &saved, &e) < 0 && !mc_error_is(e, MC_ERR_NOT_FOUND))
        return mc_error_propagate(err, e);
    mc_error_free(e);
    if (aws_find_instances(s, &tagged, err) < 0) {
        aws_instance_list_free(&saved);
        return -1;
    }
    char **ids = strv_new(), **spot = strv_new();
    const struct aws_instance_list *lists[] = { &saved, &tagged };
    for (size_t k = 0; k < ELEMENTSOF(lists); k++)
        for (size_t i = 0; i < lists[k]->n; i++) {
            const struct aws_instance *in = &lists[k]->v[i];
            if (streq_ptr(in->state, "terminated") || strv_contains(ids, in->id))
                continue;
            strv_add(&ids, in->id);
            if (in->spot_request_id)
                strv_add(&spot, in->spot_request_id);
        }
    aws_instance_list_free(&saved);
    aws_instance_list_free(&tagged);
    *ret_ids = ids;
    *ret_spot = spot;
    return 0;
}

static int
terminate(struct aws_session *s, const char *id, struct mc_error **err)
{
    struct mc_error *e = NULL;
    driver_progress(s->ctx, "terminating instance %s", id);
    if (aws_instance_action(s, "TerminateInstances", id, NULL, &e) < 0 &&
        !mc_error_is(e, MC_ERR_NOT_FOUND))
        return mc_error_propagate(err, e);
    mc_error_free(e);
    return aws_wait_instance(s, id, "terminated", aws_want_terminated, NULL, NULL, err);
}

static int
cancel_spot(struct aws_session *s, const char *request, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_add(&p, "SpotInstanceRequestId.1", request);
    struct mc_error *e = NULL;
    int r = aws_call_ok(s, "CancelSpotInstanceRequests", &p, &e);
    aws_params_clear(&p);
    if (r < 0 && !mc_error_is(e, MC_ERR_NOT_FOUND))
        return mc_error_propagate(err, e);
    mc_error_free(e);
    return 0;
}

static int
remove_instances(struct aws_session *s, struct mc_error **err)
{
    _cleanup_strv_ char **ids = NULL, **spot = NULL;
    if (machine_instances(s, &ids, &spot, err) < 0)
        return -1;
    STRV_FOREACH (id, ids) {
        if (terminate(s, *id, err) < 0)
            return -1;
        strv_add(&s->terminated, *id);
    }
    STRV_FOREACH (req, spot)
        if (cancel_spot(s, *req, err) < 0)
            return -1;
    forget(s, (const char *const[]){ ST_INSTANCE, ST_PUBLIC_IP, ST_PRIVATE_IP, NULL });
    return aws_save(s, err);
}

/* Key pairs carrying the machine's tag, plus the one in the state when this machine made it. */
static int
machine_key_pairs(struct aws_session *s, char ***ret, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_filter_machine(&p, s);
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_key_pair_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "DescribeKeyPairs", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_key_pairs("DescribeKeyPairs", body, len, &l, err) < 0)
        return -1;
    char **names = strv_new();
    const char *saved = mc_json_str(s->ctx->state, ST_KEY_NAME);
    if (saved && mc_json_bool(s->ctx->state, ST_KEY_CREATED, false))
        strv_add(&names, saved);
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].name && !strv_contains(names, l.v[i].name))
            strv_add(&names, l.v[i].name);
    aws_key_pair_list_free(&l);
    *ret = names;
    return 0;
}

static int
remove_key_pairs(struct aws_session *s, struct mc_error **err)
{
    _cleanup_strv_ char **names = NULL;
    if (machine_key_pairs(s, &names, err) < 0)
        return -1;
    STRV_FOREACH (name, names) {
        struct aws_params p = { 0 };
        aws_params_add(&p, "KeyName", *name);
        driver_progress(s->ctx, "deleting key pair '%s'", *name);
        struct mc_error *e = NULL;
        int r = aws_call_ok(s, "DeleteKeyPair", &p, &e);
        aws_params_clear(&p);
        if (r < 0 && !mc_error_is(e, MC_ERR_NOT_FOUND))
            return mc_error_propagate(err, e);
        mc_error_free(e);
    }
    forget(s, (const char *const[]){ ST_KEY_NAME, ST_KEY_ID, ST_KEY_CREATED, NULL });
    return aws_save(s, err);
}

static int
machine_groups(struct aws_session *s, char ***ret, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_filter_machine(&p, s);
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_security_group_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "DescribeSecurityGroups", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_security_groups(body, len, &l, err) < 0)
        return -1;
    char **ids = strv_new();
    const char *saved = mc_json_str(s->ctx->state, ST_GROUP_ID);
    if (saved && mc_json_bool(s->ctx->state, ST_GROUP_CREATED, false))
        strv_add(&ids, saved);
    for (size_t i = 0; i < l.n; i++)
        if (l.v[i].id && !strv_contains(ids, l.v[i].id))
            strv_add(&ids, l.v[i].id);
    aws_security_group_list_free(&l);
    *ret = ids;
    return 0;
}

/* What uses a group besides the instances remove terminated: the instances its interfaces are
 * attached to, and interfaces attached to no instance (counted). Interfaces are what EC2 itself checks before it
 * deletes a group, and they cover instances however their group was given. */
static int
group_users(struct aws_session *s, const char *group, char ***ret_instances, size_t *ret_loose,
            struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_filter(&p, "group-id", group);
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    struct aws_network_interface_list l = { 0 };
    int r = aws_ec2_call(&s->ec2, "DescribeNetworkInterfaces", &p, &body, &len, err);
    aws_params_clear(&p);
    if (r < 0 || aws_parse_network_interfaces(body, len, &l, err) < 0)
        return -1;
    char **ids = strv_new();
    size_t loose = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *in = l.v[i].instance_id;
        if (!in)
            loose++;
        else if (!strv_contains(s->terminated, in) && !strv_contains(ids, in))
            strv_add(&ids, in);
    }
    aws_network_interface_list_free(&l);
    *ret_instances = ids;
    *ret_loose = loose;
    return 0;
}

/* The live instances among ids (instances just terminated are not). */
static int
live_among(struct aws_session *s, char **ids, struct aws_instance_list *ret, struct mc_error **err)
{
    memset(ret, 0, sizeof(*ret));
    if (!ids[0])
        return 0;
    struct aws_params p = { 0 };
    int n = 0;
    STRV_FOREACH (id, ids) {
        _cleanup_free_ char *k = xasprintf("InstanceId.%d", ++n);
        aws_params_add(&p, k, *id);
    }
    aws_params_filter_values(&p, "instance-state-name", aws_live_states);
    int r = aws_describe_instances(s, &p, ret, err);
    aws_params_clear(&p);
    return r;
}

/* A group this machine made but another machine still uses becomes that machine's: retagged,
 * it is deleted when that machine is removed. A group only foreign users have is kept. */
static int
hand_over_group(struct aws_session *s, const char *group, const struct aws_instance_list *users,
                size_t loose, struct mc_error **err)
{
    _cleanup_strv_ char **ids = strv_new();
    const struct aws_instance *heir = NULL;
    for (size_t i = 0; i < users->n; i++) {
        const char *tag = aws_tags_get(&users->v[i].tags, AWS_TAG_ID);
        strv_add(&ids, users->v[i].id);
        if (!heir && tag && !streq(tag, s->id))
            heir = &users->v[i];
    }
    _cleanup_free_ char *list = strv_join(ids, ", ");
    driver_progress(s->ctx, "keeping security group %s: in use by %s%s%zu unattached interface(s)",
                    group, list, *list ? " and " : "", loose);
    if (!heir)
        return 0;
    const char *name = aws_tags_get(&heir->tags, AWS_TAG_MACHINE);
    struct aws_params p = { 0 };
    aws_params_add(&p, "ResourceId.1", group);
    aws_params_add(&p, "Tag.1.Key", AWS_TAG_ID);
    aws_params_add(&p, "Tag.1.Value", aws_tags_get(&heir->tags, AWS_TAG_ID));
    aws_params_add(&p, "Tag.2.Key", AWS_TAG_MACHINE);
    aws_params_add(&p, "Tag.2.Value", name ? name : "");
    driver_progress(s->ctx, "security group %s now belongs to machine '%s'", group,
                    name ? name : "");
    int r = aws_call_ok(s, "CreateTags", &p, err);
    aws_params_clear(&p);
    return r;
}

/* DeleteSecurityGroup, retried while EC2 still sees the terminated instance's interface. */
static int
delete_group(struct aws_session *s, const char *group, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_add(&p, "GroupId", group);
    driver_progress(s->ctx, "deleting security group %s", group);
    for (;;) {
        struct mc_error *e = NULL;
        int r = aws_call_ok(s, "DeleteSecurityGroup", &p, &e);
        bool busy = r < 0 && aws_ec2_code_is(&s->ec2, "DependencyViolation");
        if (r == 0 || mc_error_is(e, MC_ERR_NOT_FOUND) ||
            (!busy || mc_now_ms() + GROUP_RETRY_MS > s->ec2.deadline_ms)) {
            aws_params_clear(&p);
            if (r < 0 && !mc_error_is(e, MC_ERR_NOT_FOUND))
                return mc_error_propagate(err, e);
            mc_error_free(e);
            return 0;
        }
        mc_error_free(e);
        mc_sleep_ms(GROUP_RETRY_MS);
    }
}

static int
remove_groups(struct aws_session *s, struct mc_error **err)
{
    _cleanup_strv_ char **groups = NULL;
    if (machine_groups(s, &groups, err) < 0)
        return -1;
    STRV_FOREACH (g, groups) {
        _cleanup_strv_ char **attached = NULL;
        size_t loose = 0;
        struct aws_instance_list users = { 0 };
        if (group_users(s, *g, &attached, &loose, err) < 0 ||
            live_among(s, attached, &users, err) < 0)
            return -1;
        int r = users.n || loose ? hand_over_group(s, *g, &users, loose, err)
                                 : delete_group(s, *g, err);
        aws_instance_list_free(&users);
        if (r < 0)
            return -1;
    }
    forget(s,
           (const char *const[]){ ST_GROUP_ID, ST_GROUP_NAME, ST_GROUP_CREATED, ST_INGRESS, NULL });
    return aws_save(s, err);
}

static const struct {
    int (*remove)(struct aws_session *, struct mc_error **);
    const char *crashpoint; /* passed once the step is done and saved */
} removals[] = {
    { remove_instances, "aws:rm-instances-terminated" },
    { remove_key_pairs, "aws:rm-key-pairs-deleted" },
    { remove_groups, "aws:rm-groups-deleted" },
};

int
aws_remove(struct driver_ctx *ctx, bool force, struct mc_error **err)
{
    /* Without a create id nothing was ever made: the id is saved before the first resource. */
    if (!mc_json_str(ctx->state, ST_ID))
        return 0;
    _cleanup_session_ struct aws_session s = { 0 };
    if (aws_session_open(&s, ctx, err) < 0)
        return -1;
    s.ec2.deadline_ms = aws_deadline(ctx, REMOVE_TIMEOUT_MS);
    struct mc_error *first = NULL;
    for (size_t i = 0; i < ELEMENTSOF(removals); i++) {
        struct mc_error *e = NULL;
        if (removals[i].remove(&s, &e) == 0) {
            mc_crashpoint(removals[i].crashpoint);
            continue;
        }
        mc_error_propagate(&first, e);
        if (!force)
            break;
    }
    if (first) {
        mc_error_propagate(err, first);
        return -1;
    }
    return 0;
}
