#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"
#include "xalloc.h"

void
mc_url_clear(struct mc_url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->path);
    memset(u, 0, sizeof(*u));
}

static int
parse_port(const char *s, size_t n, int *ret)
{
    if (n == 0 || n > 5)
        return -1;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *ret = v;
    return 0;
}

int
mc_url_parse(const char *s, int default_port, struct mc_url *ret, struct mc_error **err)
{
    struct mc_url u = { 0 };
    const char *sep = strstr(s, "://");
    if (!sep || sep == s)
        return mc_error_set(err, MC_ERR_INVALID,
                            "'%s' is not a URL: expected SCHEME://ADDRESS such as "
                            "tcp://192.0.2.10:2376 or unix:///run/machined.sock",
                            s);
    u.scheme = xstrndup(s, (size_t)(sep - s));
    for (char *c = u.scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    const char *rest = sep + 3;

    if (streq(u.scheme, "unix")) {
        if (*rest != '/') {
            mc_url_clear(&u);
            return mc_error_set(err, MC_ERR_INVALID, "'%s' needs an absolute socket path", s);
        }
        u.path = xstrdup(rest);
        *ret = u;
        return 0;
    }

    size_t hp_len = strcspn(rest, "/?#");
    const char *hp = rest, *port = NULL;
    size_t host_len;
    if (*hp == '[') {
        const char *close = memchr(hp, ']', hp_len);
        if (!close)
            goto bad;
        u.host = xstrndup(hp + 1, (size_t)(close - hp - 1));
        if (close + 1 < hp + hp_len) {
            if (close[1] != ':')
                goto bad;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(hp, ':', hp_len);
        host_len = colon ? (size_t)(colon - hp) : hp_len;
        u.host = xstrndup(hp, host_len);
        if (colon)
            port = colon + 1;
    }
    if (isempty(u.host))
        goto bad;
    if (port) {
        if (parse_port(port, (size_t)(hp + hp_len - port), &u.port) < 0)
            goto bad;
    } else {
        u.port = default_port;
    }
    u.path = xstrdup(hp + hp_len);
    *ret = u;
    return 0;
bad:
    mc_url_clear(&u);
    return mc_error_set(err, MC_ERR_INVALID, "'%s' is not a valid URL: bad host or port", s);
}

char *
mc_url_hostport(const struct mc_url *u)
{
    bool v6 = u->host && strchr(u->host, ':');
    if (u->port)
        return xasprintf(v6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    return xasprintf(v6 ? "[%s]" : "%s", u->host);
}
