/* Image references: parsing and normalisation as Docker does it (familiar names). */
#include <ctype.h>
#include <string.h>

#include "images-internal.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

#define MAX_NAME 255
#define MAX_TAG  128

void
img_ref_clear(struct img_ref *r)
{
    free(r->name);
    free(r->tag);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

bool
img_is_full_id(const char *s)
{
    const char *h = startswith(s, "sha256:");
    h = h ? h : s;
    return strlen(h) == 64 && mc_is_hex(h, 64) && strspn(h, "0123456789abcdef") == 64;
}

static int
bad(struct mc_error **err, const char *s, const char *why)
{
    return mc_error_set(err, MC_ERR_INVALID, "invalid reference format: '%s' %s", s, why);
}

static bool
is_domain(const char *c, bool more)
{
    if (!more)
        return false;
    return strchr(c, '.') || strchr(c, ':') || streq(c, "localhost") ||
           strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(c);
}

static bool
valid_domain(const char *c)
{
    const char *colon = strrchr(c, ':');
    size_t host = colon ? (size_t)(colon - c) : strlen(c);
    if (host == 0)
        return false;
    for (size_t i = 0; i < host; i++)
        if (!isalnum((unsigned char)c[i]) && c[i] != '.' && c[i] != '-')
            return false;
    if (colon) {
        const char *port = colon + 1;
        if (!*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
            return false;
    }
    return true;
}

/* [a-z0-9]+ joined by '.', '_', '__' or runs of '-'. */
static bool
valid_component(const char *c)
{
    size_t n = strlen(c);
    if (n == 0 || !isalnum((unsigned char)c[0]) || !isalnum((unsigned char)c[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = c[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
            continue;
        if (ch == '.' || ch == '_' || ch == '-') {
            if (ch == '.' && (c[i + 1] == '.' || c[i + 1] == '_' || c[i + 1] == '-'))
                return false;
            if (ch == '_' && c[i + 1] == '_' && i + 2 < n && c[i + 2] == '_')
                return false;
            continue;
        }
        return false;
    }
    return true;
}

static bool
valid_tag(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > MAX_TAG || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
            return false;
    return true;
}

/* Docker Hub's canonical prefixes fold away: docker.io/library/x -> x, docker.io/u/x -> u/x. */
static char *
familiar(const char *name)
{
    const char *rest = startswith(name, "docker.io/");
    if (!rest)
        rest = startswith(name, "index.docker.io/");
    if (!rest)
        rest = startswith(name, "registry-1.docker.io/");
    if (!rest)
        rest = name;
    const char *lib = startswith(rest, "library/");
    if (lib && !strchr(lib, '/'))
        rest = lib;
    return xstrdup(rest);
}

static int
check_name(const char *s, const char *name, struct mc_error **err)
{
    if (strlen(name) > MAX_NAME)
        return bad(err, s, "is too long");
    _cleanup_strv_ char **parts = strv_split(name, "/");
    size_t n = strv_length(parts);
    if (n == 0 || name[0] == '/' || name[strlen(name) - 1] == '/' || strstr(name, "//"))
        return bad(err, s, "has an empty path component");
    for (size_t i = 0; i < n; i++) {
        if (i == 0 && is_domain(parts[0], n > 1)) {
            if (!valid_domain(parts[0]))
                return bad(err, s, "has an invalid registry host");
            continue;
        }
        for (const char *p = parts[i]; *p; p++)
            if (isupper((unsigned char)*p))
                return bad(err, s, "must be lowercase");
        if (!valid_component(parts[i]))
            return bad(err, s, "has an invalid path component");
    }
    return 0;
}

int
img_ref_parse(const char *s, struct img_ref *ret, struct mc_error **err)
{
    struct img_ref r = { 0 };
    if (isempty(s))
        return bad(err, "", "is empty");
    const char *at = strchr(s, '@');
    _cleanup_free_ char *head = at ? xstrndup(s, (size_t)(at - s)) : xstrdup(s);
    if (at) {
        const char *d = at + 1;
        const char *hex = startswith(d, "sha256:");
        if (!hex || strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
            return bad(err, s, "has an invalid digest");
        r.digest = xstrdup(d);
    }
    /* The tag follows the last ':' after the last '/' (a registry port comes before a '/'). */
    char *slash = strrchr(head, '/');
    char *colon = strrchr(slash ? slash : head, ':');
    if (colon) {
        *colon = '\0';
        if (!valid_tag(colon + 1)) {
            img_ref_clear(&r);
            return bad(err, s, "has an invalid tag");
        }
        r.tag = xstrdup(colon + 1);
    }
    if (check_name(s, head, err) < 0) {
        img_ref_clear(&r);
        return -1;
    }
    r.name = familiar(head);
    if (!r.tag && !r.digest)
        r.tag = xstrdup("latest");
    *ret = r;
    return 0;
}

char *
img_ref_string(const struct img_ref *r)
{
    if (r->tag)
        return xasprintf("%s:%s", r->name, r->tag);
    return xasprintf("%s@%s", r->name, r->digest ? r->digest : "");
}

char *
img_ref_full(const struct img_ref *r)
{
    _cleanup_strv_ char **parts = strv_split(r->name, "/");
    bool has_domain = strv_length(parts) > 1 && is_domain(parts[0], true);
    const char *prefix = has_domain             ? ""
                         : strchr(r->name, '/') ? "docker.io/"
                                                : "docker.io/library/";
    return xasprintf("%s%s:%s", prefix, r->name, r->tag ? r->tag : "latest");
}
