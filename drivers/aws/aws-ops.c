#include <arpa/inet.h>
#include <string.h>

#include "aws-internal.h"
#include "json.h"
#include "log.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define POLL_FIRST_MS 1000
#define POLL_MAX_MS   5000

const char *const aws_live_states[] = { "pending", "running", "stopping", "stopped", NULL };

/* ---- parameters ---- */

void
aws_params_filter_machine(struct aws_params *p, const struct aws_session *s)
{
    _cleanup_free_ char *tag = xasprintf("tag:%s", AWS_TAG_ID);
    aws_params_filter(p, tag, s->id);
}

void
aws_params_tag_spec(struct aws_params *p, const struct aws_session *s, const char *resource_type)
{
    int n = aws_params_next(p, "TagSpecification.", ".ResourceType");
    const char *const tags[][2] = {
        { AWS_TAG_NAME, s->ctx->name },
        { AWS_TAG_MACHINE, s->ctx->name },
        { AWS_TAG_ID, s->id },
        { AWS_TAG_TOOL, AWS_TOOL },
    };
    _cleanup_free_ char *rt = xasprintf("TagSpecification.%d.ResourceType", n);
    aws_params_add(p, rt, resource_type);
    for (size_t i = 0; i < ELEMENTSOF(tags); i++) {
        _cleanup_free_ char *k = xasprintf("TagSpecification.%d.Tag.%zu.Key", n, i + 1);
        _cleanup_free_ char *v = xasprintf("TagSpecification.%d.Tag.%zu.Value", n, i + 1);
        aws_params_add(p, k, tags[i][0]);
        aws_params_add(p, v, tags[i][1]);
    }
}

/* ---- calls ---- */

int
aws_call_ok(struct aws_session *s, const char *action, struct aws_params *params,
            struct mc_error **err)
{
    _cleanup_free_ char *body = NULL;
    size_t len = 0;
    if (aws_ec2_call(&s->ec2, action, params, &body, &len, err) < 0)
        return -1;
    return aws_parse_ok(action, body, len, err);
}

int
aws_describe_instances(struct aws_session *s, struct aws_params *params,
                       struct aws_instance_list *ret, struct mc_error **err)
{
    struct aws_instance_list all = { 0 };
    _cleanup_free_ char *token = NULL;
    for (;;) {
        struct aws_params page = { 0 };
        for (size_t i = 0; params && i < params->n; i++)
            aws_params_add(&page, params->names[i], params->values[i]);
        if (token)
            aws_params_add(&page, "NextToken", token);
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        struct aws_instance_list l = { 0 };
        int r = aws_ec2_call(&s->ec2, "DescribeInstances", &page, &body, &len, err);
        aws_params_clear(&page);
        if (r < 0 || aws_parse_instances("DescribeInstances", body, len, &l, err) < 0) {
            aws_instance_list_free(&all);
            return -1;
        }
        all.v = xreallocarray(all.v, all.n + l.n, sizeof(*all.v));
        memcpy(all.v + all.n, l.v, l.n * sizeof(*l.v));
        all.n += l.n;
        free(l.v);
        free(token);
        token = l.next_token;
        if (!token)
            break;
    }
    *ret = all;
    return 0;
}

int
aws_describe_instance(struct aws_session *s, const char *id, struct aws_instance_list *ret,
                      struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_add(&p, "InstanceId.1", id);
    int r = aws_describe_instances(s, &p, ret, err);
    aws_params_clear(&p);
    if (r == 0 && ret->n == 0) {
        aws_instance_list_free(ret);
        return mc_error_set(err, MC_ERR_NOT_FOUND, "instance '%s' does not exist", id);
    }
    return r;
}

int
aws_find_instances(struct aws_session *s, struct aws_instance_list *ret, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_filter_machine(&p, s);
    aws_params_filter_values(&p, "instance-state-name", aws_live_states);
    int r = aws_describe_instances(s, &p, ret, err);
    aws_params_clear(&p);
    return r;
}

int
aws_instance_action(struct aws_session *s, const char *action, const char *id,
                    struct aws_params *extra, struct mc_error **err)
{
    struct aws_params p = { 0 };
    aws_params_add(&p, "InstanceId.1", id);
    for (size_t i = 0; extra && i < extra->n; i++)
        aws_params_add(&p, extra->names[i], extra->values[i]);
    int r = aws_call_ok(s, action, &p, err);
    aws_params_clear(&p);
    return r;
}

/* ---- waiting ---- */

int64_t
aws_deadline(const struct driver_ctx *ctx, int64_t default_ms)
{
    return ctx->deadline_ms > 0 ? ctx->deadline_ms : mc_now_ms() + default_ms;
}

int
aws_want_running(const struct aws_instance *in, void *use_private, struct mc_error **err)
{
    if (!in)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "the instance no longer exists");
    if (streq_ptr(in->state, "shutting-down") || streq_ptr(in->state, "terminated"))
        return mc_error_set(err, MC_ERR_NOT_RUNNING, "instance '%s' is %s instead of running",
                            in->id, in->state);
    const char *addr = use_private ? in->private_ip : in->public_ip;
    return streq_ptr(in->state, "running") && !isempty(addr);
}

int
aws_want_stopped(const struct aws_instance *in, void *unused, struct mc_error **err)
{
    if (!in)
        return mc_error_set(err, MC_ERR_NOT_FOUND, "the instance no longer exists");
    if (streq_ptr(in->state, "terminated"))
        return mc_error_set(err, MC_ERR_FAILED, "instance '%s' is terminated", in->id);
    return streq_ptr(in->state, "stopped");
}

int
aws_want_terminated(const struct aws_instance *in, void *unused, struct mc_error **err)
{
    return !in || streq_ptr(in->state, "terminated");
}

int
aws_wait_instance(struct aws_session *s, const char *id, const char *what, aws_wait_fn want,
                  void *userdata, struct aws_instance_list *ret, struct mc_error **err)
{
    int64_t deadline = s->ec2.deadline_ms, wait = POLL_FIRST_MS;
    _cleanup_free_ char *last = xstrdup("unknown");
    for (;;) {
        struct aws_instance_list l = { 0 };
        struct mc_error *e = NULL;
        int r = aws_describe_instance(s, id, &l, &e);
        if (r < 0 && !mc_error_is(e, MC_ERR_NOT_FOUND))
            return mc_error_propagate(err, e);
        mc_error_free(e);
        const struct aws_instance *in = r == 0 ? &l.v[0] : NULL;
        int done = want(in, userdata, err);
        if (done > 0 && ret) {
            *ret = l;
            return 0;
        }
        free(last);
        last = xstrdup(in && in->state ? in->state : "unknown");
        aws_instance_list_free(&l);
        if (done != 0)
            return done > 0 ? 0 : -1;
        if (!in)
            return mc_error_set(err, MC_ERR_NOT_FOUND, "instance '%s' no longer exists", id);
        if (mc_now_ms() + wait > deadline)
            return mc_error_set(err, MC_ERR_TIMEOUT,
                                "instance '%s' is still %s: gave up waiting for it to be %s", id,
                                last, what);
        log_debug("instance '%s' is %s; waiting %lld ms for it to be %s", id, last, (long long)wait,
                  what);
        mc_sleep_ms(wait);
        wait = wait * 2 > POLL_MAX_MS ? POLL_MAX_MS : wait * 2;
    }
}

void
aws_note_addresses(struct aws_session *s, const struct aws_instance *in)
{
    mc_json_set_str(s->ctx->state, ST_PUBLIC_IP, in->public_ip);
    mc_json_set_str(s->ctx->state, ST_PRIVATE_IP, in->private_ip);
}

/* ---- pure helpers ---- */

const struct aws_image *
aws_newest_image(const struct aws_image_list *l)
{
    const struct aws_image *best = NULL;
    for (size_t i = 0; i < l->n; i++) {
        const struct aws_image *im = &l->v[i];
        if (!im->id)
            continue;
        if (!best) {
            best = im;
            continue;
        }
        int c = strcmp(im->creation_date ? im->creation_date : "",
                       best->creation_date ? best->creation_date : "");
        if (c > 0 || (c == 0 && strcmp(im->name ? im->name : "", best->name ? best->name : "") > 0))
            best = im;
    }
    return best;
}

const struct aws_subnet *
aws_pick_subnet(const struct aws_subnet_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].default_for_az && l->v[i].id)
            return &l->v[i];
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].id)
            return &l->v[i];
    return NULL;
}

char *
aws_normalize_cidr(const char *s, struct mc_error **err)
{
    const char *slash = strchr(s, '/');
    _cleanup_free_ char *addr = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
    unsigned char buf[16];
    int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    int max = family == AF_INET6 ? 128 : 32, bits = max;
    if (inet_pton(family, addr, buf) != 1 ||
        (slash && (mc_parse_int(slash + 1, &bits) < 0 || bits < 0 || bits > max))) {
        mc_error_set(err, MC_ERR_INVALID, "'%s' is not an address or a CIDR block", s);
        return NULL;
    }
    char text[INET6_ADDRSTRLEN];
    inet_ntop(family, buf, text, sizeof(text));
    return xasprintf("%s/%d", text, bits);
}

char *
aws_parse_checkip(const char *body, struct mc_error **err)
{
    size_t n = strcspn(body, " \t\r\n");
    _cleanup_free_ char *addr = xstrndup(body, n);
    unsigned char buf[16];
    if (n == 0 || strchr(addr, '/') ||
        (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)) {
        mc_error_set(err, MC_ERR_INVALID,
                     "the address service answered something that is not an address");
        return NULL;
    }
    return aws_normalize_cidr(addr, err);
}

static const struct {
    const char *ec2;
    enum driver_state state;
} state_map[] = {
    { "pending", DRIVER_STATE_STARTING },  { "running", DRIVER_STATE_RUNNING },
    { "stopping", DRIVER_STATE_STOPPING }, { "shutting-down", DRIVER_STATE_STOPPING },
    { "stopped", DRIVER_STATE_STOPPED },   { "terminated", DRIVER_STATE_NOT_FOUND },
};

enum driver_state
aws_state_from_ec2(const char *state)
{
    for (size_t i = 0; state && i < ELEMENTSOF(state_map); i++)
        if (streq(state, state_map[i].ec2))
            return state_map[i].state;
    return DRIVER_STATE_NONE;
}

bool
aws_group_allows(const struct aws_security_group *g, int port, const char *cidr)
{
    for (size_t i = 0; i < g->n_perms; i++) {
        const struct aws_ip_permission *p = &g->perms[i];
        bool proto = streq_ptr(p->protocol, "tcp") || streq_ptr(p->protocol, "6") ||
                     streq_ptr(p->protocol, "-1");
        bool all = streq_ptr(p->protocol, "-1");
        if (proto && (all || (p->from_port <= port && port <= p->to_port)) &&
            (strv_contains(p->cidrs, cidr) || strv_contains(p->cidrs6, cidr)))
            return true;
    }
    return false;
}

char *
aws_resource_name(const char *machine, const char *id)
{
    return xasprintf("machine-%s-%.8s", machine, id);
}
