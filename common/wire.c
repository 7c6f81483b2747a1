#include <string.h>

#include "wire.h"

bool
mc_wire_u32(struct mc_wire *w, uint32_t *ret)
{
    if (w->failed || w->left < 4)
        return !(w->failed = true);
    *ret = (uint32_t)w->p[0] << 24 | (uint32_t)w->p[1] << 16 | (uint32_t)w->p[2] << 8 | w->p[3];
    w->p += 4;
    w->left -= 4;
    return true;
}

bool
mc_wire_string(struct mc_wire *w, const uint8_t **ret, size_t *ret_len)
{
    uint32_t n;
    if (!mc_wire_u32(w, &n))
        return false;
    if (n > w->left)
        return !(w->failed = true);
    *ret = w->p;
    *ret_len = n;
    w->p += n;
    w->left -= n;
    return true;
}

bool
mc_wire_string_eq(struct mc_wire *w, const char *s)
{
    const uint8_t *p;
    size_t n;
    return mc_wire_string(w, &p, &n) && n == strlen(s) && memcmp(p, s, n) == 0;
}
