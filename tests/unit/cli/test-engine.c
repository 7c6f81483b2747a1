/* The engine verbs' pure helpers and run's create body. */
#include <string.h>

#include "cli-engine-pure.h"
#include "cli-format.h"
#include "cli-run.h"
#include "json.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static void
test_formats(void)
{
    _cleanup_free_ char *a = cli_short_id("sha256:0123456789abcdef0123");
    is_str(a, "0123456789ab", "short IDs drop sha256:");
    _cleanup_free_ char *b = cli_human_ago(1000, 1000 + 3 * 60 + 5);
    is_str(b, "3 minutes ago", "minutes ago");
    _cleanup_free_ char *c = cli_human_ago(1000, 999);
    is_str(c, "Less than a second ago", "a time in the future is now");
    static const struct {
        int64_t n;
        const char *want;
    } sizes[] = {
        { 0, "0B" }, { 999, "999B" }, { 1234, "1.23kB" }, { 4261550, "4.26MB" }, { 100000, "100kB" }
    };
    for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
        _cleanup_free_ char *s = cli_human_size(sizes[i].n);
        is_str(s, sizes[i].want, "size %lld", (long long)sizes[i].n);
    }
    _cleanup_free_ char *q1 = cli_quote_command("echo hi", false);
    is_str(q1, "\"echo hi\"", "a short command is quoted whole");
    _cleanup_free_ char *q2 = cli_quote_command("sh -c 'sleep 100; echo \"done\"'", false);
    is_str(q2, "\"sh -c 'sleep 100; e\xe2\x80\xa6\"", "a long command is cut at 20 characters");
    _cleanup_free_ char *q3 = cli_quote_command("say \"hi\"", true);
    is_str(q3, "\"say \\\"hi\\\"\"", "quotes inside are escaped");
}

static void
test_filters(void)
{
    _cleanup_strv_ char **f = strv_new();
    strv_add(&f, "status=exited");
    strv_add(&f, "name=c1");
    strv_add(&f, "status=created");
    _cleanup_free_ char *json = NULL;
    _cleanup_error_ struct mc_error *err = NULL;
    ok(cli_filters_json(f, &json, &err) == 0, "filters parse");
    is_str(json, "{\"status\":{\"exited\":true,\"created\":true},\"name\":{\"c1\":true}}",
           "filters are the engine's JSON, values of one key together");
    _cleanup_free_ char *none = NULL;
    ok(cli_filters_json(NULL, &none, &err) == 0 && !none, "no filters, no parameter");
    _cleanup_strv_ char **bad = strv_new();
    strv_add(&bad, "status");
    _cleanup_free_ char *x = NULL;
    ok(cli_filters_json(bad, &x, &err) < 0 && err->code == MC_ERR_USAGE,
       "a filter without '=' is a usage error");
}

static void
test_times(void)
{
    int64_t now = 1700000000LL * 1000000000LL + 5;
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    ok(cli_parse_time_arg("10m", now, &a, &err) == 0, "a duration");
    is_str(a, "1699999400.000000005", "10m before now");
    ok(cli_parse_time_arg("2023-11-14T22:13:20Z", now, &b, &err) == 0, "an RFC 3339 time");
    is_str(b, "1700000000.000000000", "as unix seconds");
    ok(cli_parse_time_arg("1700000000.5", now, &c, &err) == 0, "unix seconds");
    is_str(c, "1700000000.5", "passed as they are");
    ok(cli_parse_time_arg("yesterday", now, &d, &err) < 0 && err->code == MC_ERR_USAGE,
       "anything else is a usage error");
}

static void
reference(const char *ref, const char *repo, const char *tag)
{
    _cleanup_free_ char *r = NULL, *t = NULL;
    cli_split_reference(ref, &r, &t);
    ok(streq(r, repo) && streq_ptr(t, tag), "'%s' is '%s' tag '%s'", ref, repo, tag ? tag : "-");
}

static void
message(const char *json, const char *text, const char *error)
{
    _cleanup_json_ json_t *j = json_loads(json, 0, NULL);
    _cleanup_free_ char *t = NULL, *e = NULL;
    cli_json_message_text(j, &t, &e);
    ok(streq_ptr(t, text) && streq_ptr(e, error), "message %s", json);
}

static void
test_misc(void)
{
    reference("busybox", "busybox", NULL);
    reference("bb:1.36", "bb", "1.36");
    reference("localhost:5000/bb", "localhost:5000/bb", NULL);
    reference("localhost:5000/bb:1", "localhost:5000/bb", "1");
    reference("bb@sha256:abc", "bb@sha256:abc", NULL);
    message("{\"stream\":\"Loaded image: bb:latest\\n\"}", "Loaded image: bb:latest\n", NULL);
    message("{\"status\":\"sha256:abc\"}", "sha256:abc\n", NULL);
    message("{\"status\":\"Loading layer\",\"id\":\"0123\",\"progress\":\"[==> ]\"}",
            "0123: Loading layer [==> ]\n", NULL);
    message("{\"aux\":{\"ID\":\"x\"}}", NULL, NULL);
    message("{\"errorDetail\":{\"message\":\"bad tar\"},\"error\":\"bad tar\"}", NULL, "bad tar");
    is_int(cli_run_error_exit_code("exec: \"nope\": executable file not found in $PATH"), 127,
           "not found is 127");
    is_int(cli_run_error_exit_code("cannot start '/etc': permission denied"), 126,
           "permission denied is 126");
    is_int(cli_run_error_exit_code("No such image: bb"), 125, "anything else is 125");
}

static void
test_detach_keys(void)
{
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    ok(cli_parse_detach_keys(CLI_DETACH_KEYS, &a, &err) == 0 && streq(a, "\x10\x11"),
       "ctrl-p,ctrl-q");
    ok(cli_parse_detach_keys("ctrl-[,x,ctrl-_", &b, &err) == 0 && streq(b, "\x1bx\x1f"),
       "ctrl-[, a character, ctrl-_");
    ok(cli_parse_detach_keys("", &c, &err) == 0 && streq(c, ""), "none");
    ok(cli_parse_detach_keys("ctrl-1", &d, &err) < 0 && err->code == MC_ERR_USAGE,
       "ctrl-1 is refused");
}

static const char *
env_get(const char *name)
{
    return streq(name, "FROM_HOST") ? "yes" : NULL;
}

static void
test_create_body(void)
{
    char *cmd[] = { "sh", "-c", "exit 3", NULL };
    char *env[] = { "A=1", "FROM_HOST", "UNSET_HERE", NULL };
    char *vols[] = { "/tmp:/data:ro", NULL };
    char *labels[] = { "a=b", "flag", NULL };
    char *caps[] = { "NET_ADMIN", NULL };
    char *secopt[] = { "seccomp=unconfined", NULL };
    struct cli_run_opts o = {
        .image = "bb",
        .cmd = cmd,
        .rm = true,
        .interactive = true,
        .tty = true,
        .name = "c1",
        .workdir = "/tmp",
        .user = "app",
        .network = "none",
        .memory = "64m",
        .cpus = "1.5",
        .pids_limit = "20",
        .hostname = "box",
        .entrypoint = "/bin/sh",
        .env = env,
        .volumes = vols,
        .labels = labels,
        .cap_add = caps,
        .cap_drop = caps,
        .security_opt = secopt,
        .read_only = true,
        .console_rows = 24,
        .console_cols = 80,
    };
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_json_ json_t *body = cli_run_create_body(&o, env_get, &err);
    _cleanup_free_ char *text = body ? mc_json_dumps(body, true) : NULL;
    _cleanup_free_ char *with_nl = xasprintf("%s\n", text ? text : "");
    is_golden(with_nl, "run-create-body.json");

    char *none[] = { NULL };
    struct cli_run_opts plain = { .image = "bb", .cmd = none, .detach = true };
    _cleanup_json_ json_t *p = cli_run_create_body(&plain, env_get, &err);
    ok(p && json_is_null(json_object_get(p, "Cmd")) && json_is_null(json_object_get(p, "Env")) &&
               !mc_json_bool(p, "AttachStdout", true) &&
               streq(mc_json_str(json_object_get(p, "HostConfig"), "NetworkMode"), "default"),
       "no command: Cmd null (the image's), Env null, detached: nothing attached");

    static const struct {
        const char *flag, *value, *want;
    } bad[] = {
        { "memory", "lots", "--memory" },
        { "cpus", "-1", "--cpus" },
        { "cpus", "0.0000000001", "--cpus" },
        { "restart", "sometimes", "restart policy" },
        { "restart", "always:3", "only on-failure" },
        { "pids", "x", "--pids-limit" },
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        struct cli_run_opts b = { .image = "bb", .cmd = none };
        if (streq(bad[i].flag, "memory"))
            b.memory = bad[i].value;
        else if (streq(bad[i].flag, "cpus"))
            b.cpus = bad[i].value;
        else if (streq(bad[i].flag, "restart"))
            b.restart = bad[i].value;
        else
            b.pids_limit = bad[i].value;
        _cleanup_error_ struct mc_error *e = NULL;
        _cleanup_json_ json_t *j = cli_run_create_body(&b, NULL, &e);
        ok(!j && e && e->code == MC_ERR_USAGE && strstr(e->message, bad[i].want),
           "--%s %s is refused: %s", bad[i].flag, bad[i].value, e ? e->message : "accepted");
    }
    struct cli_run_opts conflict = { .image = "bb", .cmd = none, .rm = true, .restart = "always" };
    _cleanup_error_ struct mc_error *e = NULL;
    _cleanup_json_ json_t *j = cli_run_create_body(&conflict, NULL, &e);
    ok(!j && e && strstr(e->message, "--restart and --rm"), "--rm with a restart policy");
    int64_t n;
    ok(cli_parse_cpus("2", &n) == 0 && n == 2000000000, "--cpus 2");
    ok(cli_parse_cpus(".5", &n) == 0 && n == 500000000, "--cpus .5");
}

static void
test_table_width(void)
{
    static const char *const head[] = { "COMMAND", "NAMES" };
    static const char *const row[] = { "\"sh -c 'echo started\xe2\x80\xa6\"", "s1" };
    struct cli_table t;
    cli_table_init(&t, head, 2);
    cli_table_add(&t, row);
    _cleanup_free_ char *out = cli_table_render(&t);
    cli_table_clear(&t);
    is_str(out, "COMMAND                  NAMES\n\"sh -c 'echo started\xe2\x80\xa6\"   s1\n",
           "an ellipsis takes one column");
}

int
main(void)
{
    test_table_width();
    test_formats();
    test_filters();
    test_times();
    test_misc();
    test_create_body();
    test_detach_keys();
    return tap_done();
}
