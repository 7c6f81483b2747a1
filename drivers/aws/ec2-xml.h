/* EC2 Query API answers (2016-11-15) as structs: pure functions from XML bytes, through
 * libxml2 with no network and no entity expansion, bounded in size. Elements are matched by
 * local name, so the document's namespace does not matter. Strings are newly allocated and
 * freed with the matching *_free() functions; a missing element leaves its field NULL/0. */
#ifndef MC_EC2_XML_H
#define MC_EC2_XML_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Documents larger than this are refused before parsing. */
#define AWS_XML_MAX (16u << 20)

/* An AWS error answer: <Response><Errors><Error><Code>, <Message>, and <RequestID> (EC2), or
 * <ErrorResponse><Error>... <RequestId> (the authentication layer). */
struct aws_error_info {
    char *code;
    char *message;
    char *request_id;
};
/* Returns 0 and fills ret when the document is an AWS error answer, else -1 (ret untouched). */
int aws_xml_parse_error(const char *xml, size_t len, struct aws_error_info *ret);
void aws_error_info_clear(struct aws_error_info *e);

struct aws_tag {
    char *key;
    char *value;
};
struct aws_tags {
    struct aws_tag *v;
    size_t n;
};
/* The value of a tag, or NULL. */
const char *aws_tags_get(const struct aws_tags *tags, const char *key);

struct aws_vpc {
    char *id;
    bool is_default;
};

struct aws_subnet {
    char *id;
    char *vpc_id;
    char *zone;
    bool default_for_az;
};

struct aws_image {
    char *id;
    char *name;
    char *creation_date; /* RFC 3339: compares as text */
    char *root_device_name;
    char *state;
    char *architecture;
};

struct aws_key_pair {
    char *name;
    char *id;
    char *fingerprint;
    struct aws_tags tags;
};

struct aws_ip_permission {
    char *protocol; /* "tcp", "-1" */
    long long from_port;
    long long to_port;
    char **cidrs;  /* IPv4 ranges, NULL-terminated, or NULL */
    char **cidrs6; /* IPv6 ranges */
};

struct aws_security_group {
    char *id;
    char *name;
    char *vpc_id;
    struct aws_ip_permission *perms;
    size_t n_perms;
    struct aws_tags tags;
};

struct aws_instance {
    char *id;
    char *state; /* "pending", "running", "stopping", "stopped", "shutting-down", "terminated" */
    char *public_ip;
    char *private_ip;
    char *subnet_id;
    char *vpc_id;
    char *image_id;
    char *key_name;
    char *instance_type;
    char *lifecycle; /* "spot" or NULL */
    char *spot_request_id;
    struct aws_tags tags;
};

struct aws_network_interface {
    char *id;
    char *status;      /* "in-use", "available", ... */
    char *instance_id; /* the instance it is attached to, or NULL */
};

/* A list answer: items, and the nextToken for the next page (NULL on the last page). */
#define AWS_LIST(name, type) \
    struct name {            \
        type *v;             \
        size_t n;            \
        char *next_token;    \
    }

AWS_LIST(aws_vpc_list, struct aws_vpc);
AWS_LIST(aws_subnet_list, struct aws_subnet);
AWS_LIST(aws_image_list, struct aws_image);
AWS_LIST(aws_key_pair_list, struct aws_key_pair);
AWS_LIST(aws_security_group_list, struct aws_security_group);
AWS_LIST(aws_instance_list, struct aws_instance);
AWS_LIST(aws_network_interface_list, struct aws_network_interface);

/* Each parser checks that the root element is <ACTIONResponse> (action as given) and fails with
 * MC_ERR_INVALID naming the action otherwise. */
int aws_parse_vpcs(const char *xml, size_t len, struct aws_vpc_list *ret, struct mc_error **err);
int aws_parse_subnets(const char *xml, size_t len, struct aws_subnet_list *ret,
                      struct mc_error **err);
int aws_parse_images(const char *xml, size_t len, struct aws_image_list *ret,
                     struct mc_error **err);
/* DescribeKeyPairs (keySet/item), or ImportKeyPair (the root itself: one item). */
int aws_parse_key_pairs(const char *action, const char *xml, size_t len,
                        struct aws_key_pair_list *ret, struct mc_error **err);
int aws_parse_security_groups(const char *xml, size_t len, struct aws_security_group_list *ret,
                              struct mc_error **err);
/* CreateSecurityGroup: the new group's id. */
int aws_parse_group_id(const char *xml, size_t len, char **ret, struct mc_error **err);
/* RunInstances (instancesSet/item) or DescribeInstances (reservationSet/item/instancesSet/item). */
int aws_parse_instances(const char *action, const char *xml, size_t len,
                        struct aws_instance_list *ret, struct mc_error **err);
int aws_parse_network_interfaces(const char *xml, size_t len,
                                 struct aws_network_interface_list *ret, struct mc_error **err);
/* Any answer whose root is <ACTIONResponse>: checks the root only (for Delete*, Authorize*, ...). */
int aws_parse_ok(const char *action, const char *xml, size_t len, struct mc_error **err);

void aws_vpc_list_free(struct aws_vpc_list *l);
void aws_subnet_list_free(struct aws_subnet_list *l);
void aws_image_list_free(struct aws_image_list *l);
void aws_key_pair_list_free(struct aws_key_pair_list *l);
void aws_security_group_list_free(struct aws_security_group_list *l);
void aws_instance_list_free(struct aws_instance_list *l);
void aws_network_interface_list_free(struct aws_network_interface_list *l);

#endif
