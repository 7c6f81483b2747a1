#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ec2-xml.h"
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *x = (const char *)data;
    struct aws_error_info e = { 0 };
    if (aws_xml_parse_error(x, size, &e) == 0)
        aws_error_info_clear(&e);
    struct mc_error *err = NULL;
    struct aws_vpc_list v;
    if (aws_parse_vpcs(x, size, &v, &err) == 0)
        aws_vpc_list_free(&v);
    mc_error_free(err);
    err = NULL;
    struct aws_subnet_list s;
    if (aws_parse_subnets(x, size, &s, &err) == 0)
        aws_subnet_list_free(&s);
    mc_error_free(err);
    err = NULL;
    struct aws_image_list i;
    if (aws_parse_images(x, size, &i, &err) == 0)
        aws_image_list_free(&i);
    mc_error_free(err);
    err = NULL;
    struct aws_key_pair_list k;
    if (aws_parse_key_pairs("ImportKeyPair", x, size, &k, &err) == 0)
        aws_key_pair_list_free(&k);
    mc_error_free(err);
    err = NULL;
    struct aws_security_group_list g;
    if (aws_parse_security_groups(x, size, &g, &err) == 0)
        aws_security_group_list_free(&g);
    mc_error_free(err);
    err = NULL;
    struct aws_instance_list in;
    if (aws_parse_instances("DescribeInstances", x, size, &in, &err) == 0)
        aws_instance_list_free(&in);
    mc_error_free(err);
    err = NULL;
    struct aws_network_interface_list n;
    if (aws_parse_network_interfaces(x, size, &n, &err) == 0)
        aws_network_interface_list_free(&n);
    mc_error_free(err);
    err = NULL;
    char *id = NULL;
    if (aws_parse_group_id(x, size, &id, &err) == 0)
        free(id);
    mc_error_free(err);
    return 0;
}
