/* Provisioning over SSH is not built yet: every entry point of provision.h answers
 * MC_ERR_UNSUPPORTED, an honest error rather than a fake success. The provisioner deletes this
 * file (and its line in meson.build) when provision.c lands. */
#include "provision.h"

static int
pending(struct machine_handle *h, const char *what, struct mc_error **err)
{
    return mc_error_set(err, MC_ERR_UNSUPPORTED,
                        "provisioning over SSH is not built yet: cannot %s machine '%s'", what,
                        h->rec->name);
}

int
prov_provision_host(struct machine_handle *h, struct mc_error **err)
{
    return pending(h, "provision", err);
}

int
prov_engine_start(struct machine_handle *h, struct mc_error **err)
{
    return pending(h, "start the engine of", err);
}

int
prov_engine_stop(struct machine_handle *h, struct mc_error **err)
{
    return pending(h, "stop the engine of", err);
}

int
prov_engine_restart(struct machine_handle *h, struct mc_error **err)
{
    return pending(h, "restart the engine of", err);
}

int
prov_engine_remove(struct machine_handle *h, bool force, struct mc_error **err)
{
    return pending(h, "uninstall the engine of", err);
}

int
prov_upgrade_engine(struct machine_handle *h, struct mc_error **err)
{
    return pending(h, "upgrade the engine of", err);
}

int
prov_regenerate_certs(struct machine_handle *h, struct mc_error **err)
{
    return pending(h, "regenerate the certificates of", err);
}
