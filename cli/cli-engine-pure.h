/* The pure helpers of the engine verbs: docker's human formats (IDs, times, sizes, commands),
 * filters, time arguments, references, JSON messages and run's exit codes. No I/O; unit-tested. */
#ifndef MC_CLI_ENGINE_PURE_H
#define MC_CLI_ENGINE_PURE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

/* The 12-digit short form of an ID ("sha256:" dropped); newly allocated. */
char *cli_short_id(const char *id);
/* "3 minutes ago", as docker prints it, for a time in unix seconds. */
char *cli_human_ago(int64_t then_s, int64_t now_s);
/* docker's sizes: "4.26MB", "0B" (decimal units, three significant digits). */
char *cli_human_size(int64_t bytes);
/* docker's Command column: quoted, at most 20 characters with an ellipsis unless no_trunc. */
char *cli_quote_command(const char *cmd, bool no_trunc);
/* -f KEY=VALUE flags as the engine's filters JSON ({"KEY":{"VALUE":true}}); NULL for none. */
int cli_filters_json(char *const *filters, char **ret, struct mc_error **err);
/* --since/--until: a duration before now ("10m"), an RFC 3339 time, or unix seconds, as the
 * engine's "SECONDS.NANOSECONDS". */
int cli_parse_time_arg(const char *s, int64_t now_ns, char **ret, struct mc_error **err);
/* REPO[:TAG] split at the tag's colon (not a registry port's); tag NULL when absent. */
void cli_split_reference(const char *ref, char **ret_repo, char **ret_tag);
/* One message of a JSON stream as the line to print (NULL: nothing), or *ret_error. */
void cli_json_message_text(const json_t *msg, char **ret_text, char **ret_error);
/* The bytes of a --detach-keys value ("ctrl-p,ctrl-q": ctrl- with a-z, @, [, \\, ], ^ or _, or
 * one character each, comma-separated); "" gives "" (no keys). Usage error otherwise. */
int cli_parse_detach_keys(const char *s, char **ret, struct mc_error **err);
/* The default detach keys: ctrl-p ctrl-q. */
#define CLI_DETACH_KEYS "ctrl-p,ctrl-q"

/* docker run's exit code for a failed create or start: 127 when the command was not found,
 * 126 when it cannot be executed, else 125. */
int cli_run_error_exit_code(const char *message);

#endif
