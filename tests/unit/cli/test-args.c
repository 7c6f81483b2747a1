/* Command-line parsing, did-you-mean, and driver flags (generation and resolution). */
#include <string.h>

#include "cli-args.h"
#include "cli-drivers.h"
#include "json.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const struct cli_flag flags[] = {
    { .name = "force", .short_name = 'f', .type = CLI_BOOL },
    { .name = "yes", .short_name = 'y', .type = CLI_BOOL },
    { .name = "format", .type = CLI_STRING, .env = "T_FORMAT", .dflt = "table" },
    { .name = "filter", .type = CLI_STRINGS },
    { .name = "timeout", .short_name = 't', .type = CLI_STRING },
    { 0 },
};

static const char *
fake_env(const char *name)
{
    static const char *const vars[][2] = {
        { "T_FORMAT", "from-env" },
        { "MACHINE_FAKE_IP", "192.0.2.7" },
        { "MACHINE_FAKE_STEPS", "5" },
        { "MACHINE_FAKE_FAIL_AT", "start,stop" },
    };
    for (size_t i = 0; i < ELEMENTSOF(vars); i++)
        if (streq(vars[i][0], name))
            return vars[i][1];
    return NULL;
}

static int
parse(const char *line, bool stop, struct cli_args *a, struct mc_error **err)
{
    static struct cli_flagset set;
    cli_flagset_clear(&set);
    cli_flagset_add(&set, flags);
    _cleanup_strv_ char **argv = strv_split(line, " ");
    return cli_args_parse(&set, (int)strv_length(argv), argv, stop, "machine t", a, err);
}

static void
test_basic(void)
{
    struct cli_args a = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    ok(parse("-fy --filter a=1 n1 --filter=b=2 --timeout 3s n2 -t4", false, &a, &err) == 0,
       "parses mixed flags and names");
    ok(cli_args_bool(&a, "force", NULL) && cli_args_bool(&a, "yes", NULL), "grouped booleans");
    char *const *f = cli_args_get_all(&a, "filter");
    ok(f && strv_length(f) == 2 && streq(f[0], "a=1") && streq(f[1], "b=2"),
       "repeatable flag keeps each value, with = or a space");
    is_str(cli_args_get(&a, "timeout", NULL), "4", "the last value wins; -tVALUE works");
    _cleanup_free_ char *pos = strv_join(a.positional, ",");
    is_str(pos, "n1,n2", "positionals in order");
    is_str(cli_args_get(&a, "format", fake_env), "from-env", "absent flag falls back to env");
    is_str(cli_args_get(&a, "format", NULL), NULL, "no env getter: absent");
    cli_args_clear(&a);

    ok(parse("--format json --force=false", false, &a, &err) == 0, "parses --flag=false");
    is_str(cli_args_get(&a, "format", fake_env), "json", "a flag beats its env variable");
    ok(!cli_args_bool(&a, "force", NULL), "--force=false is false");
    cli_args_clear(&a);

    ok(parse("web1 ls -l --force", true, &a, &err) == 0, "stop at the first positional");
    is_int(a.rest_index, 0, "rest starts at the first positional");
    ok(!cli_args_has(&a, "force"), "flags after it are not ours");
    is_int(strv_length(a.positional), 4, "everything after is positional");
    cli_args_clear(&a);

    ok(parse("-- -f", false, &a, &err) == 0 && streq(a.positional[0], "-f"), "-- ends flags");
    cli_args_clear(&a);
}

static void
expect_usage(const char *line, const char *want, const char *what)
{
    struct cli_args a = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    ok(parse(line, false, &a, &err) < 0 && err->code == MC_ERR_USAGE && strstr(err->message, want),
       "%s: %s", what, err ? err->message : "accepted");
}

static void
test_errors(void)
{
    expect_usage("--fromat json", "did you mean '--format'?", "misspelt flag");
    expect_usage("--zzzzzzzzz", "unknown flag '--zzzzzzzzz' for 'machine t'", "unknown flag");
    expect_usage("-x", "unknown flag '-x'", "unknown short flag");
    expect_usage("--timeout", "needs a value", "missing value");
    expect_usage("--force=maybe", "true or false", "bad boolean");
    const char *cands[] = { "create", "ls", "rm", "inspect", NULL };
    is_str(cli_did_you_mean("lss", cands), "ls", "did you mean ls");
    is_str(cli_did_you_mean("craete", cands), "create", "did you mean create");
    is_str(cli_did_you_mean("frobnicate", cands), NULL, "nothing close");
    struct cli_args a = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    int64_t ms = 0;
    ok(parse("--timeout 0", false, &a, &err) == 0 &&
               cli_args_duration_ms(&a, "timeout", 10000, &ms, &err) == 0 && ms == 0,
       "--timeout 0 is zero");
    cli_args_clear(&a);
    ok(parse("--timeout soon", false, &a, &err) == 0 &&
               cli_args_duration_ms(&a, "timeout", 10000, &ms, &err) < 0 &&
               err->code == MC_ERR_USAGE,
       "a bad duration is a usage error");
    cli_args_clear(&a);
}

static void
test_driver_flags(void)
{
    struct cli_flagset set = { 0 };
    cli_driver_flags(&set);
    const struct cli_flag *url = cli_flagset_find(&set, "url");
    const struct cli_flag *fip = cli_flagset_find(&set, "fake-ip");
    ok(url && streq(url->env, "MACHINE_NONE_URL"), "none's url is --url, $MACHINE_NONE_URL");
    ok(fip && streq(fip->env, "MACHINE_FAKE_IP"), "fake's ip is --fake-ip, $MACHINE_FAKE_IP");
    ok(cli_flagset_find(&set, "fake-fail-at") &&
               cli_flagset_find(&set, "fake-fail-at")->type == CLI_STRINGS,
       "a STRINGS option is repeatable");
    ok(!cli_flagset_find(&set, "azure-subscription-id"), "unavailable drivers add no flags");

    _cleanup_strv_ char **argv = strv_split("--fake-state Stopped --fake-fail-at create", " ");
    struct cli_args a = { 0 };
    _cleanup_error_ struct mc_error *err = NULL;
    ok(cli_args_parse(&set, (int)strv_length(argv), argv, false, "machine create", &a, &err) == 0,
       "parses driver flags");
    const struct machine_driver *fake = NULL;
    ok(cli_driver_lookup("fake", &fake, &err) == 0, "finds the fake driver");
    json_t *opts = NULL;
    ok(cli_driver_resolve(fake, &a, fake_env, &opts, &err) == 0, "resolves fake's options");
    is_str(mc_json_str(opts, "state"), "Stopped", "flag value");
    is_str(mc_json_str(opts, "ip"), "192.0.2.7", "env value when no flag");
    is_int(mc_json_int(opts, "steps", 0), 5, "INT options become integers");
    is_int(json_array_size(json_object_get(opts, "fail-at")), 1, "flags beat env for lists");
    is_int(mc_json_int(opts, "ssh-port", 0), 22, "defaults fill the rest");
    ok(!json_object_get(opts, "cloud"), "an option without value or default is absent");
    json_decref(opts);

    const struct machine_driver *none = NULL;
    cli_driver_lookup("none", &none, &err);
    _cleanup_error_ struct mc_error *e2 = NULL;
    ok(cli_driver_resolve(none, &a, NULL, &opts, &e2) < 0 && e2->code == MC_ERR_USAGE &&
               strstr(e2->message, "belongs to the 'fake' driver"),
       "another driver's flag is a usage error");
    cli_args_clear(&a);

    _cleanup_error_ struct mc_error *e3 = NULL, *e4 = NULL, *e5 = NULL;
    const struct machine_driver *d = NULL;
    ok(cli_driver_lookup("libvrt", &d, &e3) < 0 && e3->code == MC_ERR_USAGE &&
               strstr(e3->message, "did you mean 'libvirt'"),
       "unknown driver with did-you-mean");
    ok(cli_driver_lookup("azure", &d, &e4) < 0 && e4->code == MC_ERR_UNSUPPORTED &&
               strstr(e4->message, "not yet available"),
       "a known driver that is not built is 'not yet available'");
    ok(cli_driver_lookup("AMAZONEC2", &d, &e5) < 0 || d != NULL, "aliases are looked up");
    cli_flagset_clear(&set);
}

int
main(void)
{
    test_basic();
    test_errors();
    test_driver_flags();
    return tap_done();
}
