#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ec2-xml.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

MC_DEFINE_CLEANUP(xmlDoc, xmlFreeDoc)

/* ---- the table that maps elements to struct fields ---- */

enum kind {
    K_STR,  /* text; empty text is NULL */
    K_BOOL, /* "true" */
    K_INT,  /* a decimal number */
    K_TAGS, /* a tagSet: item/key + item/value */
    K_STRV, /* a set whose items each hold the element named sub */
    K_LIST, /* a set whose items are structs described by list */
};

struct spec;
struct field {
    const char *path; /* from the item: "instanceState/name"; sets name the set element */
    enum kind kind;
    size_t offset;
    const char *sub;         /* K_STRV */
    const struct spec *list; /* K_LIST: the items' spec; the count is at offset + count_at */
    size_t count_offset;     /* K_LIST: offset of the size_t count in the parent struct */
};

struct spec {
    size_t size;
    const struct field *fields; /* terminated by path == NULL */
};

#define F(type, member, path, kind)                       \
    {                                                     \
        path, kind, offsetof(type, member), NULL, NULL, 0 \
    }

static const struct field vpc_fields[] = {
    F(struct aws_vpc, id, "vpcId", K_STR),
    F(struct aws_vpc, is_default, "isDefault", K_BOOL),
    { NULL },
};
static const struct spec vpc_spec = { sizeof(struct aws_vpc), vpc_fields };

static const struct field subnet_fields[] = {
    F(struct aws_subnet, id, "subnetId", K_STR),
    F(struct aws_subnet, vpc_id, "vpcId", K_STR),
    F(struct aws_subnet, zone, "availabilityZone", K_STR),
    F(struct aws_subnet, default_for_az, "defaultForAz", K_BOOL),
    { NULL },
};
static const struct spec subnet_spec = { sizeof(struct aws_subnet), subnet_fields };

static const struct field image_fields[] = {
    F(struct aws_image, id, "imageId", K_STR),
    F(struct aws_image, name, "name", K_STR),
    F(struct aws_image, creation_date, "creationDate", K_STR),
    F(struct aws_image, root_device_name, "rootDeviceName", K_STR),
    F(struct aws_image, state, "imageState", K_STR),
    F(struct aws_image, architecture, "architecture", K_STR),
    { NULL },
};
static const struct spec image_spec = { sizeof(struct aws_image), image_fields };

static const struct field key_pair_fields[] = {
    F(struct aws_key_pair, name, "keyName", K_STR),
    F(struct aws_key_pair, id, "keyPairId", K_STR),
    F(struct aws_key_pair, fingerprint, "keyFingerprint", K_STR),
    F(struct aws_key_pair, tags, "tagSet", K_TAGS),
    { NULL },
};
static const struct spec key_pair_spec = { sizeof(struct aws_key_pair), key_pair_fields };

static const struct field perm_fields[] = {
    F(struct aws_ip_permission, protocol, "ipProtocol", K_STR),
    F(struct aws_ip_permission, from_port, "fromPort", K_INT),
    F(struct aws_ip_permission, to_port, "toPort", K_INT),
    { "ipRanges", K_STRV, offsetof(struct aws_ip_permission, cidrs), "cidrIp", NULL, 0 },
    { "ipv6Ranges", K_STRV, offsetof(struct aws_ip_permission, cidrs6), "cidrIpv6", NULL, 0 },
    { NULL },
};
static const struct spec perm_spec = { sizeof(struct aws_ip_permission), perm_fields };

static const struct field group_fields[] = {
    F(struct aws_security_group, id, "groupId", K_STR),
    F(struct aws_security_group, name, "groupName", K_STR),
    F(struct aws_security_group, vpc_id, "vpcId", K_STR),
    { "ipPermissions", K_LIST, offsetof(struct aws_security_group, perms), NULL, &perm_spec,
      offsetof(struct aws_security_group, n_perms) },
    F(struct aws_security_group, tags, "tagSet", K_TAGS),
    { NULL },
};
static const struct spec group_spec = { sizeof(struct aws_security_group), group_fields };

static const struct field instance_fields[] = {
    F(struct aws_instance, id, "instanceId", K_STR),
    F(struct aws_instance, state, "instanceState/name", K_STR),
    F(struct aws_instance, public_ip, "ipAddress", K_STR),
    F(struct aws_instance, private_ip, "privateIpAddress", K_STR),
    F(struct aws_instance, subnet_id, "subnetId", K_STR),
    F(struct aws_instance, vpc_id, "vpcId", K_STR),
    F(struct aws_instance, image_id, "imageId", K_STR),
    F(struct aws_instance, key_name, "keyName", K_STR),
    F(struct aws_instance, instance_type, "instanceType", K_STR),
    F(struct aws_instance, lifecycle, "instanceLifecycle", K_STR),
    F(struct aws_instance, spot_request_id, "spotInstanceRequestId", K_STR),
    F(struct aws_instance, tags, "tagSet", K_TAGS),
    { NULL },
};
static const struct spec instance_spec = { sizeof(struct aws_instance), instance_fields };

static const struct field eni_fields[] = {
    F(struct aws_network_interface, id, "networkInterfaceId", K_STR),
    F(struct aws_network_interface, status, "status", K_STR),
    F(struct aws_network_interface, instance_id, "attachment/instanceId", K_STR),
    { NULL },
};
static const struct spec eni_spec = { sizeof(struct aws_network_interface), eni_fields };

/* ---- walking the tree ---- */

static bool
is_named(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && streq((const char *)n->name, name);
}

static const xmlNode *
child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is_named(c, name))
            return c;
    return NULL;
}

/* Follows a "a/b/c" path of first matches. */
static const xmlNode *
walk(const xmlNode *n, const char *path)
{
    _cleanup_strv_ char **segs = strv_split(path, "/");
    STRV_FOREACH (s, segs)
        if (!(n = child(n, *s)))
            return NULL;
    return n;
}

struct nodes {
    const xmlNode **v;
    size_t n;
};

/* Every element reached by path, taking all matches at each level ("" is n itself). */
static void
collect(const xmlNode *n, char **segs, struct nodes *out)
{
    if (!*segs) {
        out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
        out->v[out->n++] = n;
        return;
    }
    for (const xmlNode *c = n->children; c; c = c->next)
        if (is_named(c, *segs))
            collect(c, segs + 1, out);
}

/* The trimmed text of n, or NULL when there is none. */
static char *
text_of(const xmlNode *n)
{
    if (!n)
        return NULL;
    xmlChar *raw = xmlNodeGetContent(n);
    if (!raw)
        return NULL;
    const char *s = (const char *)raw;
    s += strspn(s, " \t\r\n");
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    char *r = len ? xstrndup(s, len) : NULL;
    xmlFree(raw);
    return r;
}

/* ---- filling structs from the table ---- */

static void parse_item(const xmlNode *n, const struct spec *spec, void *item);
static void free_item(const struct spec *spec, void *item);

static void
parse_tags(const xmlNode *set, struct aws_tags *tags)
{
    for (const xmlNode *c = set ? set->children : NULL; c; c = c->next) {
        if (!is_named(c, "item"))
            continue;
        char *key = text_of(child(c, "key"));
        if (!key)
            continue;
        tags->v = xreallocarray(tags->v, tags->n + 1, sizeof(*tags->v));
        tags->v[tags->n++] = (struct aws_tag){ key, text_of(child(c, "value")) };
    }
}

static char **
parse_strv(const xmlNode *set, const char *sub)
{
    char **l = NULL;
    for (const xmlNode *c = set ? set->children : NULL; c; c = c->next) {
        char *s = is_named(c, "item") ? text_of(child(c, sub)) : NULL;
        if (s)
            strv_push(&l, s);
    }
    return l;
}

static void
parse_list(const xmlNode *set, const struct field *f, void *item)
{
    char *v = NULL;
    size_t n = 0;
    for (const xmlNode *c = set ? set->children : NULL; c; c = c->next) {
        if (!is_named(c, "item"))
            continue;
        v = xreallocarray(v, n + 1, f->list->size);
        memset(v + n * f->list->size, 0, f->list->size);
        parse_item(c, f->list, v + n * f->list->size);
        n++;
    }
    *(void **)((char *)item + f->offset) = v;
    *(size_t *)((char *)item + f->count_offset) = n;
}

static void
parse_field(const xmlNode *n, const struct field *f, void *item)
{
    const xmlNode *at = walk(n, f->path);
    void *dst = (char *)item + f->offset;
    _cleanup_free_ char *t = NULL;
    int64_t num = 0;
    switch (f->kind) {
    case K_STR:
        *(char **)dst = text_of(at);
        break;
    case K_BOOL:
        t = text_of(at);
        *(bool *)dst = t && streq(t, "true");
        break;
    case K_INT:
        t = text_of(at);
        *(long long *)dst = t && mc_parse_int64(t, &num) == 0 ? num : 0;
        break;
    case K_TAGS:
        parse_tags(at, dst);
        break;
    case K_STRV:
        *(char ***)dst = parse_strv(at, f->sub);
        break;
    case K_LIST:
        parse_list(at, f, item);
        break;
    }
}

static void
parse_item(const xmlNode *n, const struct spec *spec, void *item)
{
    for (const struct field *f = spec->fields; f->path; f++)
        parse_field(n, f, item);
}

static void
free_tags(struct aws_tags *tags)
{
    for (size_t i = 0; i < tags->n; i++) {
        free(tags->v[i].key);
        free(tags->v[i].value);
    }
    free(tags->v);
    memset(tags, 0, sizeof(*tags));
}

static void
free_field(const struct field *f, void *item)
{
    void *dst = (char *)item + f->offset;
    switch (f->kind) {
    case K_STR:
        free(*(char **)dst);
        break;
    case K_TAGS:
        free_tags(dst);
        break;
    case K_STRV:
        strv_free(*(char ***)dst);
        break;
    case K_LIST: {
        char *v = *(char **)dst;
        size_t n = *(size_t *)((char *)item + f->count_offset);
        for (size_t i = 0; i < n; i++)
            free_item(f->list, v + i * f->list->size);
        free(v);
        break;
    }
    case K_BOOL:
    case K_INT:
        break;
    }
}

static void
free_item(const struct spec *spec, void *item)
{
    for (const struct field *f = spec->fields; f->path; f++)
        free_field(f, item);
}

static void
free_items(const struct spec *spec, void *v, size_t n, char *next_token)
{
    for (size_t i = 0; i < n; i++)
        free_item(spec, (char *)v + i * spec->size);
    free(v);
    free(next_token);
}

/* ---- documents ---- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

/* libxml2's global state, once per process, before any thread parses. */
static void
xml_init_once(void)
{
    xmlInitParser();
}

static xmlDoc *
read_doc(const char *xml, size_t len)
{
    pthread_once(&xml_once, xml_init_once);
    if (len == 0 || len > AWS_XML_MAX)
        return NULL;
    /* No network, no entity substitution, no DTD loading, and no messages on stderr. */
    return xmlReadMemory(xml, (int)len, "ec2-answer.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                                 XML_PARSE_NOCDATA);
}

static const xmlNode *
find_element(const xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (is_named(n, name))
            return n;
        const xmlNode *r = find_element(n->children, name);
        if (r)
            return r;
    }
    return NULL;
}

int
aws_xml_parse_error(const char *xml, size_t len, struct aws_error_info *ret)
{
    _cleanup_(xmlFreeDocp) xmlDoc *doc = read_doc(xml, len);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || !(is_named(root, "Response") || is_named(root, "ErrorResponse")))
        return -1;
    const xmlNode *e = find_element(root, "Error");
    char *code = e ? text_of(child(e, "Code")) : NULL;
    if (!code)
        return -1;
    ret->code = code;
    ret->message = text_of(child(e, "Message"));
    const xmlNode *rid = find_element(root, "RequestID");
    ret->request_id = text_of(rid ? rid : find_element(root, "RequestId"));
    return 0;
}

void
aws_error_info_clear(struct aws_error_info *e)
{
    free(e->code);
    free(e->message);
    free(e->request_id);
    memset(e, 0, sizeof(*e));
}

const char *
aws_tags_get(const struct aws_tags *tags, const char *key)
{
    for (size_t i = 0; i < tags->n; i++)
        if (streq(tags->v[i].key, key))
            return tags->v[i].value ? tags->v[i].value : "";
    return NULL;
}

/* Parses the document and checks that its root is <ACTIONResponse>. */
static xmlDoc *
read_answer(const char *action, const char *xml, size_t len, struct mc_error **err)
{
    if (len > AWS_XML_MAX) {
        mc_error_set(err, MC_ERR_INVALID,
                     "EC2 answered %s with %zu bytes, more than the %u allowed", action, len,
                     AWS_XML_MAX);
        return NULL;
    }
    xmlDoc *doc = read_doc(xml, len);
    if (!doc) {
        mc_error_set(err, MC_ERR_INVALID, "EC2 answered %s with a document that is not XML",
                     action);
        return NULL;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    _cleanup_free_ char *want = xasprintf("%sResponse", action);
    if (!root || !is_named(root, want)) {
        mc_error_set(err, MC_ERR_INVALID, "EC2 answered %s with <%s> instead of <%s>", action,
                     root ? (const char *)root->name : "", want);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

static int
parse_items(const char *action, const char *xml, size_t len, const char *const *paths,
            const struct spec *spec, void **ret_v, size_t *ret_n, char **ret_next,
            struct mc_error **err)
{
    _cleanup_(xmlFreeDocp) xmlDoc *doc = read_answer(action, xml, len, err);
    if (!doc)
        return -1;
    const xmlNode *root = xmlDocGetRootElement(doc);
    struct nodes found = { 0 };
    for (size_t i = 0; paths[i]; i++) {
        _cleanup_strv_ char **segs = strv_split(paths[i], "/");
        collect(root, segs, &found);
    }
    char *v = found.n ? xcalloc(found.n, spec->size) : NULL;
    for (size_t i = 0; i < found.n; i++)
        parse_item(found.v[i], spec, v + i * spec->size);
    free(found.v);
    *ret_v = v;
    *ret_n = found.n;
    *ret_next = text_of(child(root, "nextToken"));
    return 0;
}

#define PARSE_LIST(action, paths, spec, ret)                                                      \
    parse_items(action, xml, len, paths, spec, (void **)&(ret)->v, &(ret)->n, &(ret)->next_token, \
                err)

int
aws_parse_vpcs(const char *xml, size_t len, struct aws_vpc_list *ret, struct mc_error **err)
{
    static const char *const paths[] = { "vpcSet/item", NULL };
    return PARSE_LIST("DescribeVpcs", paths, &vpc_spec, ret);
}

int
aws_parse_subnets(const char *xml, size_t len, struct aws_subnet_list *ret, struct mc_error **err)
{
    static const char *const paths[] = { "subnetSet/item", NULL };
    return PARSE_LIST("DescribeSubnets", paths, &subnet_spec, ret);
}

int
aws_parse_images(const char *xml, size_t len, struct aws_image_list *ret, struct mc_error **err)
{
    static const char *const paths[] = { "imagesSet/item", NULL };
    return PARSE_LIST("DescribeImages", paths, &image_spec, ret);
}

int
aws_parse_key_pairs(const char *action, const char *xml, size_t len, struct aws_key_pair_list *ret,
                    struct mc_error **err)
{
    static const char *const described[] = { "keySet/item", NULL };
    static const char *const imported[] = { "", NULL };
    return PARSE_LIST(action, streq(action, "DescribeKeyPairs") ? described : imported,
                      &key_pair_spec, ret);
}

int
aws_parse_security_groups(const char *xml, size_t len, struct aws_security_group_list *ret,
                          struct mc_error **err)
{
    static const char *const paths[] = { "securityGroupInfo/item", NULL };
    return PARSE_LIST("DescribeSecurityGroups", paths, &group_spec, ret);
}

int
aws_parse_group_id(const char *xml, size_t len, char **ret, struct mc_error **err)
{
    _cleanup_(xmlFreeDocp) xmlDoc *doc = read_answer("CreateSecurityGroup", xml, len, err);
    if (!doc)
        return -1;
    char *id = text_of(child(xmlDocGetRootElement(doc), "groupId"));
    if (!id)
        return mc_error_set(err, MC_ERR_INVALID,
                            "EC2 answered CreateSecurityGroup without a groupId");
    *ret = id;
    return 0;
}

int
aws_parse_instances(const char *action, const char *xml, size_t len, struct aws_instance_list *ret,
                    struct mc_error **err)
{
    static const char *const paths[] = { "reservationSet/item/instancesSet/item",
                                         "instancesSet/item", NULL };
    return PARSE_LIST(action, paths, &instance_spec, ret);
}

int
aws_parse_network_interfaces(const char *xml, size_t len, struct aws_network_interface_list *ret,
                             struct mc_error **err)
{
    static const char *const paths[] = { "networkInterfaceSet/item", NULL };
    return PARSE_LIST("DescribeNetworkInterfaces", paths, &eni_spec, ret);
}

int
aws_parse_ok(const char *action, const char *xml, size_t len, struct mc_error **err)
{
    _cleanup_(xmlFreeDocp) xmlDoc *doc = read_answer(action, xml, len, err);
    return doc ? 0 : -1;
}

#define LIST_FREE(fn, type, spec)                    \
    void fn(type *l)                                 \
    {                                                \
        free_items(spec, l->v, l->n, l->next_token); \
        memset(l, 0, sizeof(*l));                    \
    }

LIST_FREE(aws_vpc_list_free, struct aws_vpc_list, &vpc_spec)
LIST_FREE(aws_subnet_list_free, struct aws_subnet_list, &subnet_spec)
LIST_FREE(aws_image_list_free, struct aws_image_list, &image_spec)
LIST_FREE(aws_key_pair_list_free, struct aws_key_pair_list, &key_pair_spec)
LIST_FREE(aws_security_group_list_free, struct aws_security_group_list, &group_spec)
LIST_FREE(aws_instance_list_free, struct aws_instance_list, &instance_spec)
LIST_FREE(aws_network_interface_list_free, struct aws_network_interface_list, &eni_spec)
