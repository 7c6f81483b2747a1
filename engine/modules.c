/* The only list of the engine's modules (engine.h). Order matters: routes are matched in this
 * order (first match wins), init() runs in it and shutdown() in reverse. */
#include <stddef.h>

#include "engine.h"
#include "log.h"

const struct eng_module *const eng_modules[] = {
    &eng_system_module, &eng_images_module,      &eng_containers_module,
    &eng_events_module, &eng_unsupported_module, NULL,
};

int
eng_modules_init(struct eng_daemon *d, struct mc_error **err)
{
    const struct eng_module *const *m = d->modules;
    for (size_t i = 0; m[i]; i++) {
        if (m[i]->init && m[i]->init(d, err) < 0) {
            mc_error_prefix(err, "Cannot start the %s module: ", m[i]->name);
            while (i-- > 0)
                if (m[i]->shutdown)
                    m[i]->shutdown(d);
            return -1;
        }
        log_debug("module '%s' started", m[i]->name);
    }
    return 0;
}

void
eng_modules_shutdown(struct eng_daemon *d)
{
    const struct eng_module *const *m = d->modules;
    size_t n = 0;
    while (m[n])
        n++;
    while (n-- > 0)
        if (m[n]->shutdown)
            m[n]->shutdown(d);
}
