/* Command-line parsing for `machine`: flag tables in, parsed values out. Pure (no I/O), so
 * unit tests call it directly. */
#ifndef MC_CLI_ARGS_H
#define MC_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum cli_flag_type {
    CLI_BOOL,    /* --flag, --flag=true|false */
    CLI_STRING,  /* --flag VALUE, --flag=VALUE; the last one given wins */
    CLI_STRINGS, /* repeatable */
};

struct cli_flag {
    const char *name; /* long name, without "--"; NULL ends a table */
    char short_name;  /* 0: none */
    enum cli_flag_type type;
    const char *metavar; /* "NAME", "DURATION" */
    const char *help;
    const char *env;  /* environment variable used when the flag is absent, or NULL */
    const char *dflt; /* default shown in help (and used by cli_args_get_or) */
    bool hidden;      /* parsed but not listed in help */
    const void *tag;  /* opaque: create's driver flags point at their driver option */
};

/* A flag table assembled from pieces (a verb's static table plus generated flags). */
struct cli_flagset {
    const struct cli_flag **flags;
    size_t n;
};
void cli_flagset_add(struct cli_flagset *set, const struct cli_flag *table);
void cli_flagset_add_one(struct cli_flagset *set, const struct cli_flag *flag);
void cli_flagset_clear(struct cli_flagset *set);
const struct cli_flag *cli_flagset_find(const struct cli_flagset *set, const char *name);

struct cli_args {
    const struct cli_flagset *set; /* borrowed */
    char ***values;                /* per flag of set: the values given, or NULL */
    char **positional;             /* never NULL */
    int rest_index; /* with stop_at_positional: argv index of the first positional, else argc */
};

/* Parses argv[0..argc) against set. Flags and positionals may mix unless stop_at_positional,
 * where parsing stops at the first positional (the rest are positionals: `ssh NAME ls -l`,
 * and the verb after the global flags). "--" ends the flags. Unknown flags and missing values
 * are MC_ERR_USAGE errors with a "did you mean" when a flag is close. cmd names the command
 * in messages ("machine ls"). */
int cli_args_parse(const struct cli_flagset *set, int argc, char **argv, bool stop_at_positional,
                   const char *cmd, struct cli_args *ret, struct mc_error **err);
void cli_args_clear(struct cli_args *a);

/* True when the flag was given on the command line. */
bool cli_args_has(const struct cli_args *a, const char *name);
/* The last value given, else the flag's environment variable (through get, may be NULL),
 * else NULL. */
typedef const char *(*cli_getenv_fn)(const char *name);
const char *cli_args_get(const struct cli_args *a, const char *name, cli_getenv_fn get);
/* The same, falling back to the flag's dflt. */
const char *cli_args_get_or_default(const struct cli_args *a, const char *name, cli_getenv_fn get);
/* All values of a repeatable flag (borrowed; NULL when absent). */
char *const *cli_args_get_all(const struct cli_args *a, const char *name);
/* A boolean flag: given (and not =false), else its environment variable, else false. */
bool cli_args_bool(const struct cli_args *a, const char *name, cli_getenv_fn get);
/* A duration flag ("2s", "500ms", a bare number of seconds) in ms, or the default. */
int cli_args_duration_ms(const struct cli_args *a, const char *name, int64_t dflt, int64_t *ret,
                         struct mc_error **err);

/* The closest of candidates (NULL-terminated) to word within a small edit distance, or NULL. */
const char *cli_did_you_mean(const char *word, const char *const *candidates);

#endif
