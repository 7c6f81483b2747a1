/* --format templates, JSON output and tables. */
#include <string.h>

#include "cli-format.h"
#include "json.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static json_t *
item(const char *name, const char *state)
{
    return json_pack("{s:s, s:s, s:s, s:n, s:{s:i}, s:b}", "Name", name, "DriverName", "none",
                     "State", state, "Error", "Engine", "Port", 2376, "ActiveHost", 0);
}

static void
render_one(const char *tmpl, const char *want)
{
    _cleanup_json_ json_t *it = item("web1", "Running");
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_free_ char *out = cli_format_output(tmpl, it, false, &err);
    is_str(out, want, "template '%s'", tmpl);
}

static void
expect_error(const char *tmpl, const char *want)
{
    _cleanup_json_ json_t *it = item("web1", "Running");
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_free_ char *out = cli_format_output(tmpl, it, false, &err);
    ok(!out && err && err->code == MC_ERR_USAGE && strstr(err->message, want),
       "template '%s' is refused: %s", tmpl, err ? err->message : "accepted");
}

int
main(void)
{
    render_one("{{.Name}}", "web1\n");
    render_one("{{.Name}} is {{.State}} ({{.DriverName}})", "web1 is Running (none)\n");
    render_one("{{.Engine.Port}}", "2376\n");
    render_one("{{.Error}}|{{.ActiveHost}}", "|false\n");
    render_one("{{json .Engine}}", "{\"Port\":2376}\n");
    render_one("{{upper .State}} {{lower .Name}}", "RUNNING web1\n");
    render_one("{{.Name}}\\t{{.State}}", "web1\tRunning\n");
    render_one("{{ .Name }}", "web1\n");
    expect_error("{{.Nme}}", "no field '.Nme'");
    expect_error("{{.Name", "without '}}'");
    expect_error("{{frob .Name}}", "unknown function 'frob'");
    expect_error("{{Name}}", "start with a dot");

    _cleanup_json_ json_t *list = json_array();
    json_array_append_new(list, item("a", "Running"));
    json_array_append_new(list, item("bbbbbb", "Stopped"));
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_free_ char *lines = cli_format_output("{{.Name}}", list, true, &err);
    is_str(lines, "a\nbbbbbb\n", "a list renders one line per item");
    _cleanup_free_ char *table =
            cli_format_output("table {{.Name}}\\t{{.State}}", list, true, &err);
    is_str(table, "NAME     STATE\na        Running\nbbbbbb   Stopped\n",
           "a table template has a header and aligned columns");
    _cleanup_free_ char *js = cli_format_output("json", list, true, &err);
    _cleanup_json_ json_t *back = json_loads(js, 0, NULL);
    ok(back && json_equal(back, list), "json output parses back to the same value");
    _cleanup_json_ json_t *one = item("x", "y");
    _cleanup_free_ char *whole = cli_format_output("{{json .}}", one, false, &err);
    _cleanup_json_ json_t *back1 = whole ? json_loads(whole, 0, NULL) : NULL;
    ok(back1 && json_equal(back1, one), "{{json .}} is the whole item");

    struct cli_table t;
    const char *h[] = { "A", "BB" };
    const char *r[] = { "xxxx", NULL };
    cli_table_init(&t, h, 2);
    cli_table_add(&t, r);
    _cleanup_free_ char *tt = cli_table_render(&t);
    is_str(tt, "A      BB\nxxxx\n", "table pads to the widest cell plus three, no trailing blanks");
    cli_table_clear(&t);
    return tap_done();
}
