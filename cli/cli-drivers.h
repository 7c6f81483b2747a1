/* Driver flags: `--<driver>-<option>` flags and MACHINE_<DRIVER>_<OPTION> variables generated
 * from each driver's option table (driver.h), and their resolution into the JSON object a
 * driver receives (flag beats variable beats default). */
#ifndef MC_CLI_DRIVERS_H
#define MC_CLI_DRIVERS_H

#include <jansson.h>

#include "cli-args.h"
#include "driver.h"
#include "error.h"

/* What a generated flag's tag points at. */
struct cli_driver_flag {
    const struct machine_driver *driver;
    const struct driver_option *option;
};

/* "--none-url" style name (without dashes): option->flag, else "<driver>-<name>". New. */
char *cli_driver_flag_name(const struct machine_driver *d, const struct driver_option *o);
/* "MACHINE_FAKE_FAIL_AT". New. */
char *cli_driver_env_name(const struct machine_driver *d, const struct driver_option *o);

/* Adds the flags of every available driver to set (built once, kept for the process). */
void cli_driver_flags(struct cli_flagset *set);

/* The driver for --driver: "unknown driver" (MC_ERR_USAGE, with did-you-mean) or
 * "not yet available" (MC_ERR_UNSUPPORTED). */
int cli_driver_lookup(const char *name, const struct machine_driver **ret, struct mc_error **err);

/* Resolves d's options from the parsed flags and the environment (through get). Flags of
 * another driver are a usage error. *ret is a new JSON object keyed by option name. */
int cli_driver_resolve(const struct machine_driver *d, const struct cli_args *args,
                       cli_getenv_fn get, json_t **ret, struct mc_error **err);

#endif
