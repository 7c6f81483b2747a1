/* The only list of drivers. A driver not built yet is listed with available = false, so that
 * `--driver azure` answers "not yet available" rather than "unknown". When a driver lands, its
 * placeholder here is replaced by the extern of its const struct machine_driver. */
#include <strings.h>

#include "aws.h"
#include "driver.h"
#include "lvdrv.h"

#define PLACEHOLDER(var, drv_name, desc, ...)                                              \
    static const struct machine_driver var = { .name = drv_name,                           \
                                               .description = desc " (not yet available)", \
                                               .available = false,                         \
                                               __VA_ARGS__ }

PLACEHOLDER(azure_driver, "azure", "Microsoft Azure virtual machines");
extern const struct machine_driver generic_driver;
extern const struct machine_driver none_driver;
extern const struct machine_driver fake_driver;

static const struct machine_driver *const drivers[] = {
    &libvirt_driver, &aws_driver, &azure_driver, &generic_driver, &none_driver, &fake_driver, NULL,
};

const struct machine_driver *const *
driver_list(void)
{
    return drivers;
}

const struct machine_driver *
driver_find(const char *name)
{
    for (size_t i = 0; drivers[i]; i++) {
        const struct machine_driver *d = drivers[i];
        if (strcasecmp(d->name, name) == 0)
            return d;
        for (size_t j = 0; d->aliases && d->aliases[j]; j++)
            if (strcasecmp(d->aliases[j], name) == 0)
                return d;
    }
    return NULL;
}
