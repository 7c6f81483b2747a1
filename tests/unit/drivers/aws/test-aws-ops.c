/* The driver's pure helpers: image and subnet choice, CIDR and checkip parsing, state mapping,
 * rule matching, resource names, and the parameters of tagged and filtered calls. */
#include <string.h>

#include "aws-internal.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static void
test_newest_image(void)
{
    struct aws_image v[] = {
        { .id = "ami-1",
          .name = "debian-12-amd64-20240101",
          .creation_date = "2024-01-01T10:00:00.000Z" },
        { .id = "ami-3",
          .name = "debian-12-amd64-20231201",
          .creation_date = "2024-06-10T12:00:00.000Z" },
        { .id = "ami-2",
          .name = "debian-12-amd64-20240301",
          .creation_date = "2024-03-01T00:00:00.000Z" },
        { .id = NULL, .name = "broken", .creation_date = "2030-01-01T00:00:00.000Z" },
    };
    struct aws_image_list l = { v, ELEMENTSOF(v), NULL };
    const struct aws_image *im = aws_newest_image(&l);
    is_str(im ? im->id : NULL, "ami-3", "the newest by creation date, whatever the name says");
    struct aws_image same[] = {
        { .id = "ami-a",
          .name = "debian-12-amd64-20240610",
          .creation_date = "2024-06-10T00:00:00.000Z" },
        { .id = "ami-b",
          .name = "debian-12-amd64-20240611",
          .creation_date = "2024-06-10T00:00:00.000Z" },
    };
    struct aws_image_list l2 = { same, 2, NULL };
    im = aws_newest_image(&l2);
    is_str(im ? im->id : NULL, "ami-b", "a tie goes to the name that sorts last");
    struct aws_image_list empty = { NULL, 0, NULL };
    ok(aws_newest_image(&empty) == NULL, "no image: NULL");
}

static void
test_pick_subnet(void)
{
    struct aws_subnet v[] = {
        { .id = "subnet-1", .default_for_az = false },
        { .id = "subnet-2", .default_for_az = true },
    };
    struct aws_subnet_list l = { v, 2, NULL };
    is_str(aws_pick_subnet(&l)->id, "subnet-2", "the zone's default subnet first");
    v[1].default_for_az = false;
    is_str(aws_pick_subnet(&l)->id, "subnet-1", "else the first");
    l.n = 0;
    ok(aws_pick_subnet(&l) == NULL, "none: NULL");
}

static void
test_cidr(void)
{
    static const struct {
        const char *in, *out;
    } good[] = {
        { "203.0.113.7/32", "203.0.113.7/32" }, { "203.0.113.7", "203.0.113.7/32" },
        { "10.0.0.0/8", "10.0.0.0/8" },         { "2001:DB8::1", "2001:db8::1/128" },
        { "2001:db8::/48", "2001:db8::/48" },   { "0.0.0.0/0", "0.0.0.0/0" },
    };
    for (size_t i = 0; i < ELEMENTSOF(good); i++) {
        _cleanup_free_ char *c = aws_normalize_cidr(good[i].in, NULL);
        is_str(c, good[i].out, "CIDR '%s'", good[i].in);
    }
    static const char *const bad[] = { "300.1.2.3/8", "1.2.3.4/33", "1.2.3.4/",      "1.2.3.4/x",
                                       "example.com", "",           "2001:db8::/129" };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct mc_error *err = NULL;
        char *c = aws_normalize_cidr(bad[i], &err);
        ok(!c && err && strstr(err->message, "is not an address or a CIDR block"), "refused: '%s'",
           bad[i]);
        free(c);
        mc_error_free(err);
    }
    _cleanup_free_ char *ip = aws_parse_checkip("198.51.100.23\n", NULL);
    is_str(ip, "198.51.100.23/32", "checkip answer to a /32");
    struct mc_error *err = NULL;
    ok(aws_parse_checkip("<html>captive portal</html>", &err) == NULL && err,
       "a checkip answer that is not an address is refused");
    mc_error_free(err);
    err = NULL;
    ok(aws_parse_checkip("10.0.0.0/8", &err) == NULL, "a block is not an address");
    mc_error_free(err);
}

static void
test_states_rules_names(void)
{
    is_int(aws_state_from_ec2("pending"), DRIVER_STATE_STARTING, "pending: Starting");
    is_int(aws_state_from_ec2("running"), DRIVER_STATE_RUNNING, "running: Running");
    is_int(aws_state_from_ec2("stopping"), DRIVER_STATE_STOPPING, "stopping: Stopping");
    is_int(aws_state_from_ec2("shutting-down"), DRIVER_STATE_STOPPING, "shutting-down: Stopping");
    is_int(aws_state_from_ec2("stopped"), DRIVER_STATE_STOPPED, "stopped: Stopped");
    is_int(aws_state_from_ec2("terminated"), DRIVER_STATE_NOT_FOUND, "terminated: NotFound");
    is_int(aws_state_from_ec2("weird"), DRIVER_STATE_NONE, "unknown: none");
    is_int(aws_state_from_ec2(NULL), DRIVER_STATE_NONE, "missing: none");

    char *c22[] = { "203.0.113.7/32", NULL };
    char *c6[] = { "2001:db8::1/128", NULL };
    char *call[] = { "0.0.0.0/0", NULL };
    struct aws_ip_permission perms[] = {
        { .protocol = "tcp", .from_port = 22, .to_port = 22, .cidrs = c22 },
        { .protocol = "tcp", .from_port = 2000, .to_port = 3000, .cidrs6 = c6 },
        { .protocol = "udp", .from_port = 0, .to_port = 65535, .cidrs = call },
    };
    struct aws_security_group g = { .perms = perms, .n_perms = ELEMENTSOF(perms) };
    ok(aws_group_allows(&g, 22, "203.0.113.7/32"), "tcp 22 from the address");
    ok(!aws_group_allows(&g, 2376, "203.0.113.7/32"), "not 2376 from it");
    ok(aws_group_allows(&g, 2376, "2001:db8::1/128"), "a port range and an IPv6 block");
    ok(!aws_group_allows(&g, 22, "0.0.0.0/0"), "a udp rule does not count");

    _cleanup_free_ char *n = aws_resource_name("web1", "0123456789abcdef");
    is_str(n, "machine-web1-01234567", "resource names: machine-NAME-ID8");
}

static void
test_params(void)
{
    struct driver_ctx ctx = { .name = "web1" };
    struct aws_session s = { .ctx = &ctx, .id = "0123456789abcdef" };
    struct aws_params p = { 0 };
    aws_params_filter(&p, "vpc-id", "vpc-1");
    aws_params_filter_values(&p, "instance-state-name", aws_live_states);
    aws_params_tag_spec(&p, &s, "instance");
    aws_params_tag_spec(&p, &s, "volume");
    _cleanup_free_ char *e = aws_params_encode("RunInstances", &p);
    is_str(e,
           "Action=RunInstances&Version=2016-11-15"
           "&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1"
           "&Filter.2.Name=instance-state-name&Filter.2.Value.1=pending&Filter.2.Value.2=running"
           "&Filter.2.Value.3=stopping&Filter.2.Value.4=stopped"
           "&TagSpecification.1.ResourceType=instance"
           "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web1"
           "&TagSpecification.1.Tag.2.Key=machine-name&TagSpecification.1.Tag.2.Value=web1"
           "&TagSpecification.1.Tag.3.Key=machine-id"
           "&TagSpecification.1.Tag.3.Value=0123456789abcdef"
           "&TagSpecification.1.Tag.4.Key=managed-by&TagSpecification.1.Tag.4.Value=machine"
           "&TagSpecification.2.ResourceType=volume"
           "&TagSpecification.2.Tag.1.Key=Name&TagSpecification.2.Tag.1.Value=web1"
           "&TagSpecification.2.Tag.2.Key=machine-name&TagSpecification.2.Tag.2.Value=web1"
           "&TagSpecification.2.Tag.3.Key=machine-id"
           "&TagSpecification.2.Tag.3.Value=0123456789abcdef"
           "&TagSpecification.2.Tag.4.Key=managed-by&TagSpecification.2.Tag.4.Value=machine",
           "filters number themselves; every made resource gets the four tags");
    aws_params_clear(&p);
}

static void
test_wait_predicates(void)
{
    struct aws_instance run = {
        .id = "i-1", .state = "running", .public_ip = "54.1.2.3", .private_ip = "172.31.0.4"
    };
    struct aws_instance nopub = { .id = "i-1", .state = "running", .private_ip = "172.31.0.4" };
    struct aws_instance pend = { .id = "i-1", .state = "pending" };
    struct aws_instance term = { .id = "i-1", .state = "terminated" };
    struct aws_instance stopped = { .id = "i-1", .state = "stopped" };
    struct mc_error *err = NULL;
    is_int(aws_want_running(&run, NULL, &err), 1, "running with a public address: done");
    is_int(aws_want_running(&nopub, NULL, &err), 0, "running without one: wait");
    is_int(aws_want_running(&nopub, (void *)1, &err), 1, "... unless the private one is used");
    is_int(aws_want_running(&pend, NULL, &err), 0, "pending: wait");
    ok(aws_want_running(&term, NULL, &err) < 0 && err && strstr(err->message, "terminated"),
       "terminated while waiting to run: an error");
    mc_error_free(err);
    err = NULL;
    is_int(aws_want_stopped(&stopped, NULL, &err), 1, "stopped: done");
    is_int(aws_want_stopped(&run, NULL, &err), 0, "running: wait for stopped");
    is_int(aws_want_terminated(NULL, NULL, &err), 1, "gone counts as terminated");
    is_int(aws_want_terminated(&term, NULL, &err), 1, "terminated: done");
    mc_error_free(err);
}

int
main(void)
{
    test_newest_image();
    test_pick_subnet();
    test_cidr();
    test_states_rules_names();
    test_params();
    test_wait_predicates();
    return tap_done();
}
