/* Minimal template rendering: "{{name}}" placeholders replaced from a key/value list. */
#ifndef MC_RENDER_H
#define MC_RENDER_H

#include "error.h"

/* Renders tmpl with vars, a NULL-terminated list of alternating names and values. A placeholder
 * with no value is an error naming it (a template never ships with a hole in it). */
char *mc_render(const char *tmpl, const char *const *vars, struct mc_error **err);

#endif
