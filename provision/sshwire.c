#include <string.h>

#include "sshwire.h"
#include "xalloc.h"

void
prov_wire_put_u32(struct mc_buf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    mc_buf_append(b, x, 4);
}

void
prov_wire_put_string(struct mc_buf *b, const void *data, size_t len)
{
    prov_wire_put_u32(b, (uint32_t)len);
    mc_buf_append(b, data, len);
}

void
prov_kexinit_clear(struct prov_kexinit *k)
{
    free(k->kex);
    free(k->hostkeys);
    k->kex = k->hostkeys = NULL;
}

static char *
get_namelist(struct mc_wire *w)
{
    const uint8_t *p;
    size_t n;
    if (!mc_wire_string(w, &p, &n) || memchr(p, '\0', n))
        return NULL;
    return xstrndup((const char *)p, n);
}

int
prov_kexinit_parse(const uint8_t *pkt, size_t len, struct prov_kexinit *ret, struct mc_error **err)
{
    struct mc_wire w = { pkt, len, false };
    uint32_t plen;
    if (!mc_wire_u32(&w, &plen) || plen > 35000 || plen > w.left || plen < 1 + 1 + 16)
        return mc_error_set(err, MC_ERR_INVALID, "The server's first packet has a bad length.");
    uint8_t padding = w.p[0];
    if ((size_t)padding + 1 + 1 + 16 > plen)
        return mc_error_set(err, MC_ERR_INVALID, "The server's first packet has bad padding.");
    if (w.p[1] != 20)
        return mc_error_set(err, MC_ERR_INVALID,
                            "The server's first packet is message %u, not KEXINIT (20).", w.p[1]);
    struct mc_wire body = { w.p + 2 + 16, plen - padding - 2 - 16, false };
    _cleanup_free_ char *kex = get_namelist(&body);
    _cleanup_free_ char *hostkeys = get_namelist(&body);
    if (!kex || !hostkeys)
        return mc_error_set(err, MC_ERR_INVALID, "The server's KEXINIT is truncated.");
    ret->kex = TAKE_PTR(kex);
    ret->hostkeys = TAKE_PTR(hostkeys);
    return 0;
}

bool
prov_namelist_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p = comma ? comma + 1 : NULL;
    }
    return false;
}
