/* EC2 answers to structs: answers recorded from moto_server (tests/data/aws/ as .xml files) and
 * hand-written edge cases (pages, hostile documents, wrong roots). */
#include <string.h>

#include "ec2-xml.h"
#include "fs.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static char *
fixture(const char *name, size_t *len)
{
    _cleanup_free_ char *rel = xasprintf("aws/%s", name);
    _cleanup_free_ char *path = tap_data_path(rel);
    char *data = NULL;
    if (mc_read_file(path, 1 << 20, &data, len, NULL) < 0)
        tap_bail("cannot read '%s'", path);
    return data;
}

static void
test_errors(void)
{
    size_t len;
    _cleanup_free_ char *x = fixture("error-key-pair-not-found.xml", &len);
    struct aws_error_info e = { 0 };
    ok(aws_xml_parse_error(x, len, &e) == 0, "EC2 error document recognised");
    is_str(e.code, "InvalidKeyPair.NotFound", "code");
    is_str(e.message, "The keypair '{'nope'}' does not exist.", "message");
    is_str(e.request_id, "request-id", "request id");
    aws_error_info_clear(&e);

    _cleanup_free_ char *a = fixture("error-auth-failure.xml", &len);
    ok(aws_xml_parse_error(a, len, &e) == 0 && streq(e.code, "AuthFailure") && e.request_id == NULL,
       "authentication-layer <ErrorResponse> recognised");
    aws_error_info_clear(&e);

    static const char sts[] = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                              "<Message>Rate exceeded</Message></Error>"
                              "<RequestId>abc-123</RequestId></ErrorResponse>";
    ok(aws_xml_parse_error(sts, strlen(sts), &e) == 0 && streq(e.code, "Throttling") &&
               streq(e.request_id, "abc-123"),
       "<RequestId> spelling too");
    aws_error_info_clear(&e);

    _cleanup_free_ char *ok_doc = fixture("describe-vpcs.xml", &len);
    ok(aws_xml_parse_error(ok_doc, len, &e) < 0, "a success answer is not an error");
    ok(aws_xml_parse_error("<html>502</html>", 16, &e) < 0, "an HTML page is not an AWS error");
    ok(aws_xml_parse_error("", 0, &e) < 0, "an empty body is not an AWS error");
}

static void
test_lists(void)
{
    size_t len;
    struct mc_error *err = NULL;
    _cleanup_free_ char *v = fixture("describe-vpcs.xml", &len);
    struct aws_vpc_list vpcs;
    ok(aws_parse_vpcs(v, len, &vpcs, &err) == 0 && vpcs.n == 1 && vpcs.v[0].is_default &&
               startswith(vpcs.v[0].id, "vpc-") && !vpcs.next_token,
       "DescribeVpcs: the default VPC");
    aws_vpc_list_free(&vpcs);

    _cleanup_free_ char *s = fixture("describe-subnets.xml", &len);
    struct aws_subnet_list subnets;
    ok(aws_parse_subnets(s, len, &subnets, &err) == 0 && subnets.n == 1 &&
               streq(subnets.v[0].zone, "us-east-1a") && subnets.v[0].default_for_az &&
               startswith(subnets.v[0].vpc_id, "vpc-"),
       "DescribeSubnets: zone, VPC, defaultForAz");
    aws_subnet_list_free(&subnets);

    _cleanup_free_ char *i = fixture("describe-images.xml", &len);
    struct aws_image_list images;
    ok(aws_parse_images(i, len, &images, &err) == 0 && images.n == 1, "DescribeImages: one image");
    is_str(images.v[0].name, "machine-test-debian-12-amd64-20240101", "image name");
    is_str(images.v[0].root_device_name, "/dev/sda1", "root device");
    is_str(images.v[0].creation_date, "2026-11-30T09:31:38.000Z", "creation date");
    is_str(images.v[0].state, "available", "image state");
    aws_image_list_free(&images);

    _cleanup_free_ char *k = fixture("import-key-pair.xml", &len);
    struct aws_key_pair_list keys;
    ok(aws_parse_key_pairs("ImportKeyPair", k, len, &keys, &err) == 0 && keys.n == 1 &&
               streq(keys.v[0].name, "machine-web1-0123abcd") && startswith(keys.v[0].id, "key-") &&
               streq_ptr(aws_tags_get(&keys.v[0].tags, "machine-id"), "0123abcd"),
       "ImportKeyPair: name, id and tags");
    aws_key_pair_list_free(&keys);
    _cleanup_free_ char *dk = fixture("describe-key-pairs.xml", &len);
    ok(aws_parse_key_pairs("DescribeKeyPairs", dk, len, &keys, &err) == 0 && keys.n == 1 &&
               streq(keys.v[0].name, "machine-web1-0123abcd"),
       "DescribeKeyPairs");
    aws_key_pair_list_free(&keys);
}

static void
test_groups(void)
{
    size_t len;
    struct mc_error *err = NULL;
    _cleanup_free_ char *c = fixture("create-security-group.xml", &len);
    _cleanup_free_ char *id = NULL;
    ok(aws_parse_group_id(c, len, &id, &err) == 0 && startswith(id, "sg-"),
       "CreateSecurityGroup: the id");

    _cleanup_free_ char *d = fixture("describe-security-groups.xml", &len);
    struct aws_security_group_list groups;
    ok(aws_parse_security_groups(d, len, &groups, &err) == 0 && groups.n == 1,
       "DescribeSecurityGroups: one group");
    struct aws_security_group *g = &groups.v[0];
    is_str(g->id, id, "same id as created");
    is_str(g->name, "machine-web1-0123abcd", "group name");
    is_int(g->n_perms, 2, "two ingress rules (egress ones are not mixed in)");
    ok(g->n_perms == 2 && streq(g->perms[0].protocol, "tcp") && g->perms[0].from_port == 22 &&
               g->perms[1].to_port == 2376 && g->perms[1].cidrs &&
               streq(g->perms[1].cidrs[0], "203.0.113.7/32") && !g->perms[1].cidrs[1],
       "rules: protocol, ports, CIDR");
    is_str(aws_tags_get(&g->tags, "machine-id"), "0123abcd", "group tags");
    aws_security_group_list_free(&groups);

    _cleanup_free_ char *a = fixture("authorize-security-group-ingress.xml", &len);
    ok(aws_parse_ok("AuthorizeSecurityGroupIngress", a, len, &err) == 0, "Authorize answer");
    ok(aws_parse_ok("DeleteKeyPair", a, len, &err) < 0 && err &&
               strstr(err->message, "<AuthorizeSecurityGroupIngressResponse> instead of "
                                    "<DeleteKeyPairResponse>"),
       "a wrong root is named: %s", err ? err->message : "");
    mc_error_free(err);
}

static void
test_instances(void)
{
    size_t len;
    struct mc_error *err = NULL;
    static const struct {
        const char *file, *action, *state;
    } cases[] = {
        { "run-instances.xml", "RunInstances", "pending" },
        { "describe-instances.xml", "DescribeInstances", "running" },
    };
    for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
        _cleanup_free_ char *x = fixture(cases[c].file, &len);
        struct aws_instance_list l;
        ok(aws_parse_instances(cases[c].action, x, len, &l, &err) == 0 && l.n == 1, "%s: one",
           cases[c].action);
        if (l.n != 1)
            continue;
        struct aws_instance *in = &l.v[0];
        ok(startswith(in->id, "i-"), "%s: id", cases[c].action);
        is_str(in->state, cases[c].state, "%s: state", cases[c].action);
        ok(in->private_ip && startswith(in->private_ip, "172.31."), "%s: private address",
           cases[c].action);
        is_str(in->key_name, "machine-web1-0123abcd", "%s: key", cases[c].action);
        is_str(in->instance_type, "t3.small", "%s: type", cases[c].action);
        is_str(aws_tags_get(&in->tags, "Name"), "web1", "%s: Name tag", cases[c].action);
        ok(in->lifecycle == NULL, "%s: on-demand", cases[c].action);
        aws_instance_list_free(&l);
    }
    _cleanup_free_ char *d = fixture("describe-instances.xml", &len);
    struct aws_instance_list l;
    aws_parse_instances("DescribeInstances", d, len, &l, &err);
    ok(l.n == 1 && l.v[0].public_ip && streq(l.v[0].public_ip, "54.214.56.74"),
       "public address from ipAddress, not from the interface's association");
    aws_instance_list_free(&l);

    static const char paged[] =
            "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
            "<reservationSet><item><instancesSet>"
            "<item><instanceId>i-1</instanceId><instanceState><name>stopped</name></instanceState>"
            "<ipAddress/><instanceLifecycle>spot</instanceLifecycle></item>"
            "<item><instanceId>i-2</instanceId></item></instancesSet></item>"
            "<item><instancesSet><item><instanceId>i-3</instanceId></item></instancesSet></item>"
            "</reservationSet><nextToken> tok-2 </nextToken></DescribeInstancesResponse>";
    ok(aws_parse_instances("DescribeInstances", paged, strlen(paged), &l, &err) == 0 && l.n == 3 &&
               streq(l.v[2].id, "i-3") && streq_ptr(l.v[0].lifecycle, "spot") &&
               l.v[0].public_ip == NULL && streq_ptr(l.next_token, "tok-2"),
       "several reservations, an empty element is NULL, the next page's token");
    aws_instance_list_free(&l);
}

static void
test_interfaces(void)
{
    static const char x[] =
            "<DescribeNetworkInterfacesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
            "<networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId>"
            "<status>in-use</status><attachment><instanceId>i-1</instanceId>"
            "<status>attached</status></attachment></item>"
            "<item><networkInterfaceId>eni-2</networkInterfaceId><status>available</status>"
            "</item></networkInterfaceSet></DescribeNetworkInterfacesResponse>";
    struct aws_network_interface_list l;
    struct mc_error *err = NULL;
    ok(aws_parse_network_interfaces(x, strlen(x), &l, &err) == 0 && l.n == 2 &&
               streq(l.v[0].instance_id, "i-1") && streq(l.v[0].status, "in-use") &&
               l.v[1].instance_id == NULL && streq(l.v[1].id, "eni-2"),
       "DescribeNetworkInterfaces: attached and loose interfaces");
    aws_network_interface_list_free(&l);
}

static void
test_hostile(void)
{
    struct mc_error *err = NULL;
    struct aws_vpc_list l;
    static const char xxe[] = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e SYSTEM "
                              "\"file:///etc/hostname\">]><DescribeVpcsResponse><vpcSet><item>"
                              "<vpcId>&e;</vpcId></item></vpcSet></DescribeVpcsResponse>";
    int r = aws_parse_vpcs(xxe, strlen(xxe), &l, &err);
    ok(r < 0 || l.n == 0 || l.v[0].id == NULL, "an external entity is not loaded");
    if (r == 0)
        aws_vpc_list_free(&l);
    mc_error_free(err);
    err = NULL;

    static const char laughs[] =
            "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\">"
            "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c "
            "\"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
            "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]><DescribeVpcsResponse><vpcSet><item>"
            "<vpcId>&d;</vpcId></item></vpcSet></DescribeVpcsResponse>";
    r = aws_parse_vpcs(laughs, strlen(laughs), &l, &err);
    ok(r < 0 || l.n == 0 || !l.v[0].id || strlen(l.v[0].id) <= 10000,
       "nested entities stay bounded");
    if (r == 0)
        aws_vpc_list_free(&l);
    mc_error_free(err);
    err = NULL;

    ok(aws_parse_vpcs("not xml", 7, &l, &err) < 0 && err &&
               strstr(err->message, "DescribeVpcs with a document that is not XML"),
       "junk is refused naming the action");
    mc_error_free(err);
    err = NULL;
    ok(aws_parse_vpcs("<x/>", AWS_XML_MAX + 1, &l, &err) < 0 && err &&
               strstr(err->message, "more than"),
       "an oversized answer is refused before parsing");
    mc_error_free(err);
    err = NULL;
    static const char truncated[] = "<DescribeVpcsResponse><vpcSet><item><vpcId>vpc-1";
    ok(aws_parse_vpcs(truncated, strlen(truncated), &l, &err) < 0, "a truncated answer fails");
    mc_error_free(err);
}

int
main(void)
{
    test_errors();
    test_lists();
    test_groups();
    test_instances();
    test_interfaces();
    test_hostile();
    return tap_done();
}
