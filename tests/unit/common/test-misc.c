#include <signal.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "json.h"
#include "render.h"
#include "spawn.h"
#include "strbuf.h"
#include "strv.h"
#include "tap.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static void
test_errors(void)
{
    struct mc_error *err = NULL;
    ok(mc_error_set(&err, MC_ERR_NOT_FOUND, "machine '%s' does not exist", "nope") == -1,
       "set returns -1");
    mc_error_prefix(&err, "inspect: ");
    is_str(err->message, "inspect: machine 'nope' does not exist", "prefix added");
    is_str(mc_error_code_name(err->code), "not-found", "code name");
    mc_error_set(&err, MC_ERR_IO, "second");
    is_str(err->message, "inspect: machine 'nope' does not exist", "first error wins");
    mc_error_free(err);
    err = NULL;
    mc_error_sys(&err, ENOENT, "cannot open '%s'", "x");
    ok(err->code == MC_ERR_NOT_FOUND && strstr(err->message, "No such file"),
       "errno mapped and described");
    mc_error_free(err);
}

static void
test_strings(void)
{
    _cleanup_strv_ char **l = strv_split("a, b,,c", ", ");
    is_int(strv_length(l), 3, "split drops empty fields");
    _cleanup_free_ char *j = strv_join(l, "+");
    is_str(j, "a+b+c", "join");
    ok(strv_contains(l, "b") && !strv_contains(l, "d"), "contains");
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_printf(&b, "%d-%s", 7, "x");
    mc_buf_consume(&b, 2);
    is_str(b.data, "x", "buffer printf and consume");
    struct mc_error *err = NULL;
    _cleanup_free_ char *r =
            mc_render("host {{name}} key {{key}}",
                      (const char *const[]){ "name", "h1", "key", "k", NULL }, &err);
    is_str(r, "host h1 key k", "template rendered");
    ok(!mc_render("{{missing}}", NULL, &err) && err && strstr(err->message, "'missing'"),
       "missing placeholder named");
    mc_error_free(err);
}

static void
test_time_json_crypto(void)
{
    int64_t ns = 0;
    ok(mc_parse_rfc3339("2026-11-30T09:17:00.5+01:00", &ns) == 0, "RFC 3339 with offset");
    char buf[64];
    is_str(mc_format_rfc3339(ns, true, buf, sizeof(buf)), "2026-11-30T08:17:00.500000000Z",
           "formatted in UTC with nanoseconds");
    ok(mc_parse_rfc3339("2026-13-01T00:00:00Z", &ns) < 0, "bad month refused");
    ok(mc_parse_unix_time("1700000000.000000005", &ns) == 0 && ns == 1700000000000000005LL,
       "unix time with nanoseconds");
    ok(mc_parse_unix_time("1700000000.5", &ns) == 0 && ns == 1700000000500000000LL,
       "unix time with a short fraction");
    ok(mc_parse_unix_time("2023-11-14T22:13:20Z", &ns) == 0 && ns == 1700000000000000000LL,
       "RFC 3339 as a unix time");
    ok(mc_parse_unix_time("soon", &ns) < 0 && mc_parse_unix_time("1.", &ns) < 0 &&
               mc_parse_unix_time("-5", &ns) < 0 && mc_parse_unix_time("1.1234567890", &ns) < 0,
       "not a unix time: refused");
    is_str(mc_human_duration(90 * 1000000000LL, buf, sizeof(buf)), "About a minute",
           "human duration");

    struct mc_error *err = NULL;
    _cleanup_json_ json_t *j = mc_json_parse("{\"a\":\"x\",\"n\":3}", 15, "test", &err);
    ok(j && streq(mc_json_str(j, "a"), "x") && mc_json_int(j, "n", 0) == 3, "json getters");
    ok(!mc_json_parse("{\"a\":1,\"a\":2}", 13, "dup", &err), "duplicate keys refused");
    mc_error_free(err);

    char hex[65];
    mc_sha256_hex("abc", 3, hex);
    is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256");
}

static void
test_spawn(void)
{
    struct mc_spawn_result r;
    struct mc_error *err = NULL;
    /* As spawn.h asks of callers that pass input: "sh -c 'exit 3'" may exit before reading it. */
    signal(SIGPIPE, SIG_IGN);
    struct mc_spawn_opts o = { .input = "hello",
                               .input_len = 5,
                               .capture = MC_SPAWN_CAPTURE_OUT | MC_SPAWN_CAPTURE_ERR };
    ok(mc_spawn((char *[]){ "cat", NULL }, &o, &r, &err) == 0 && streq(r.out, "hello"),
       "spawn pipes input and output");
    mc_spawn_result_free(&r);
    ok(mc_spawn((char *[]){ "sh", "-c", "exit 3", NULL }, &o, &r, &err) == 0 && r.status == 3,
       "exit status reported");
    mc_spawn_result_free(&r);
    ok(mc_spawn((char *[]){ "/nonexistent/prog", NULL }, NULL, &r, &err) < 0 &&
               err->code == MC_ERR_NOT_FOUND,
       "missing program is an error");
    mc_error_free(err);
    err = NULL;
    struct mc_spawn_opts t = { .timeout_ms = 200 };
    int64_t start = mc_now_ms();
    ok(mc_spawn((char *[]){ "sleep", "5", NULL }, &t, &r, &err) < 0 &&
               err->code == MC_ERR_TIMEOUT && mc_now_ms() - start < 2000,
       "timeout kills the child");
    mc_error_free(err);
}

int
main(void)
{
    test_errors();
    test_strings();
    test_time_json_crypto();
    test_spawn();
    return tap_done();
}
