/* Routing: the optional /vX.Y prefix, and matching a method and path against the modules'
 * const route tables. Pure functions (unit-tested and fuzzed). */
#ifndef ENG_API_ROUTER_H
#define ENG_API_ROUTER_H

#include <stdbool.h>

#include "api-handler.h"
#include "engine.h"
#include "error.h"

#define ENG_ROUTE_MAX_PARAMS 4

/* API versions as major*100+minor. */
#define ENG_API_VERSION_NUM     144
#define ENG_API_MIN_VERSION_NUM 124

struct eng_route_match {
    const struct eng_route *route;
    size_t n_params;
    char *names[ENG_ROUTE_MAX_PARAMS];  /* owned */
    char *values[ENG_ROUTE_MAX_PARAMS]; /* owned, decoded */
};

/* Splits "/v1.44/images/json" into the version (144) and the rest ("/images/json"). A path
 * without a prefix gives version 0 and itself. *ret_version_text points into path (length
 * *ret_version_len) for error messages. */
void eng_api_version_split(const char *path, const char **ret_rest, int *ret_version,
                           const char **ret_version_text, size_t *ret_version_len);

/* Checks a prefix version against [1.24, 1.44]: -1 with MC_ERR_INVALID and dockerd's wording
 * ("client version 1.50 is too new. Maximum supported API version is 1.44") when outside. */
int eng_api_version_check(int version, const char *text, size_t len, struct mc_error **err);

/* Matches one pattern; fills m's params on success. */
bool eng_route_matches(const struct eng_route *r, const char *method, const char *path,
                       struct eng_route_match *m);

/* Finds the first route of the modules (in order) for method and path. Returns false when
 * none matches (the caller answers 404; a known path with another method is also 404). */
bool eng_router_find(const struct eng_module *const *modules, const char *method, const char *path,
                     struct eng_route_match *ret);

const char *eng_route_match_param(const struct eng_route_match *m, const char *name);
void eng_route_match_clear(struct eng_route_match *m);

#endif
