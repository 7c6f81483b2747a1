/* Output: aligned tables, JSON, and the go-template-like --format renderer. Pure: each function
 * returns a string that the verb prints.
 *
 * Templates (docs/man/machine.1, "FORMAT TEMPLATES"):
 *   {{.Name}}          a field of the item (nested: {{.Engine.URL}}); strings print raw, other
 *                      values as JSON, null as nothing; an unknown field is an error
 *   {{.}}              the whole item, as JSON
 *   {{json .X}}        a value as compact JSON ({{json .}}: the whole item)
 *   {{upper .X}}       {{lower .X}}   a string in upper / lower case
 *   \t \n              a tab, a newline (as typed in a shell: backslash and letter)
 *   table TEMPLATE     a header row (the field names in upper case), then one aligned row
 *                      per item, columns split at tabs */
#ifndef MC_CLI_FORMAT_H
#define MC_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "error.h"

struct cli_template;

/* Parses a template; errors are MC_ERR_USAGE and name the problem. */
int cli_template_parse(const char *src, struct cli_template **ret, struct mc_error **err);
void cli_template_free(struct cli_template *t);
MC_DEFINE_CLEANUP(struct cli_template, cli_template_free)
#define _cleanup_template_ _cleanup_(cli_template_freep)
/* True for a "table ..." template. */
bool cli_template_is_table(const struct cli_template *t);
/* Renders one item (no newline added). */
char *cli_template_render(const struct cli_template *t, const json_t *item, struct mc_error **err);
/* Renders a list: one line per item, or for a table template a header and aligned rows. */
char *cli_template_render_list(const struct cli_template *t, const json_t *items,
                               struct mc_error **err);

/* An aligned table: columns padded to their widest cell plus three spaces. */
struct cli_table {
    size_t ncols;
    char **cells; /* row-major, ncols per row */
    size_t nrows;
};
void cli_table_init(struct cli_table *t, const char *const *headers, size_t ncols);
/* Adds a row of ncols cells (copied; NULL is printed as ""). */
void cli_table_add(struct cli_table *t, const char *const *cells);
char *cli_table_render(const struct cli_table *t);
void cli_table_clear(struct cli_table *t);

/* --format handling shared by verbs: "json" prints JSON (pretty), anything else is a template.
 * For a single item (list == false) items is the object itself. Returns the text to print
 * (ending with a newline), or NULL with an error. */
char *cli_format_output(const char *format, const json_t *items, bool list, struct mc_error **err);

#endif
