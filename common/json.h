/* jansson at its boundary: cleanup, checked loads, typed getters and atomic saves. */
#ifndef MC_JSON_H
#define MC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "error.h"

/* jansson provides json_decrefp(). */
#define _cleanup_json_ _cleanup_(json_decrefp)

/* Parses len bytes; errors name what (a file path or "request body") and the position. */
json_t *mc_json_parse(const char *data, size_t len, const char *what, struct mc_error **err);
/* Loads a file of at most max bytes. */
json_t *mc_json_load_file(const char *path, size_t max, struct mc_error **err);
/* Writes compact or indented JSON atomically (see mc_write_file_atomic). */
int mc_json_save_file(const char *path, const json_t *j, bool pretty, mode_t mode,
                      struct mc_error **err);
/* Serialises to a string owned by the caller (compact, or indented by 4 when pretty). */
char *mc_json_dumps(const json_t *j, bool pretty);

/* Typed getters: NULL / the default when the key is missing or of another type. */
const char *mc_json_str(const json_t *obj, const char *key);
int64_t mc_json_int(const json_t *obj, const char *key, int64_t dflt);
bool mc_json_bool(const json_t *obj, const char *key, bool dflt);
/* Sets obj[key] to a string, or removes the key when s is NULL. */
void mc_json_set_str(json_t *obj, const char *key, const char *s);
/* A new JSON array of strings from a NULL-terminated vector (NULL gives []). */
json_t *mc_json_from_strv(char *const *l);
/* A new vector from a JSON array of strings (NULL or a non-array gives an empty vector);
 * non-string items are skipped. */
char **mc_json_to_strv(const json_t *arr);

#endif
