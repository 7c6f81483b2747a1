#include <string.h>

#include "render.h"
#include "strbuf.h"
#include "xalloc.h"

static const char *
lookup(const char *const *vars, const char *name, size_t n)
{
    for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
        if (strlen(vars[i]) == n && strncmp(vars[i], name, n) == 0)
            return vars[i + 1];
    return NULL;
}

char *
mc_render(const char *tmpl, const char *const *vars, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    const char *p = tmpl;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            mc_buf_puts(&b, p);
            break;
        }
        const char *close = strstr(open + 2, "}}");
        if (!close) {
            mc_error_set(err, MC_ERR_INVALID, "template has an unclosed '{{' placeholder");
            return NULL;
        }
        mc_buf_append(&b, p, (size_t)(open - p));
        const char *name = open + 2;
        size_t n = (size_t)(close - name);
        const char *v = lookup(vars, name, n);
        if (!v) {
            mc_error_set(err, MC_ERR_INVALID, "template placeholder '%.*s' has no value", (int)n,
                         name);
            return NULL;
        }
        mc_buf_puts(&b, v);
        p = close + 2;
    }
    return mc_buf_steal(&b);
}
