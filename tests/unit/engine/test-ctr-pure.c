/* The pure rules of engine/containers: states and status text, restart policies, config merge,
 * command, names, binds, HostConfig, environment, list filters, json-file lines and frames. */
#include <string.h>

#include "caps.h"
#include "ctr-pure.h"
#include "json.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

#define SEC INT64_C(1000000000)

static void
check_status(enum eng_ctr_state st, int code, int64_t started, int64_t finished, int64_t now,
             const char *want)
{
    struct eng_ctr_state_info s = { st, code, started, finished };
    _cleanup_free_ char *t = eng_ctr_status_text(&s, now);
    is_str(t, want, "status text '%s'", want);
}

static void
test_status(void)
{
    int64_t t0 = 1700000000 * SEC;
    check_status(ENG_CTR_CREATED, 0, 0, 0, t0, "Created");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 3 * SEC, "Up 3 seconds");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + SEC / 2, "Up Less than a second");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 1 * SEC, "Up 1 second");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 90 * SEC, "Up About a minute");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 45 * 60 * SEC, "Up 45 minutes");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 3600 * SEC, "Up About an hour");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 5 * 3600 * SEC, "Up 5 hours");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 3 * 86400 * SEC, "Up 3 days");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 20 * 86400 * SEC, "Up 2 weeks");
    check_status(ENG_CTR_RUNNING, 0, t0, 0, t0 + 70 * 86400 * SEC, "Up 2 months");
    check_status(ENG_CTR_PAUSED, 0, t0, 0, t0 + 2 * SEC, "Up 2 seconds (Paused)");
    check_status(ENG_CTR_EXITED, 0, t0, t0 + SEC, t0 + 3 * SEC, "Exited (0) 2 seconds ago");
    check_status(ENG_CTR_EXITED, 137, t0, t0, t0 + 120 * SEC, "Exited (137) 2 minutes ago");
    check_status(ENG_CTR_EXITED, 0, 0, 0, t0, "Created");
    check_status(ENG_CTR_RESTARTING, 1, t0, t0, t0 + 5 * SEC, "Restarting (1) 5 seconds ago");
    check_status(ENG_CTR_DEAD, 0, t0, t0, t0, "Dead");
    check_status(ENG_CTR_REMOVING, 0, t0, t0, t0, "Removal In Progress");
    is_int(eng_ctr_state_from_name("paused"), ENG_CTR_PAUSED, "state from name");
    is_int(eng_ctr_state_from_name("zombie"), -1, "unknown state");
}

static struct eng_ctr_restart
policy(const char *json)
{
    struct eng_ctr_restart r = { 99, 99 };
    _cleanup_json_ json_t *j = json_loads(json, 0, NULL);
    struct mc_error *err = NULL;
    if (eng_ctr_restart_parse(j, &r, &err) < 0) {
        tap_diag("%s", err->message);
        mc_error_free(err);
        r.policy = 99;
    }
    return r;
}

static void
test_restart(void)
{
    struct eng_ctr_restart no = policy("{\"Name\":\"no\"}"), empty = policy("{}");
    struct eng_ctr_restart always = policy("{\"Name\":\"always\"}");
    struct eng_ctr_restart unless = policy("{\"Name\":\"unless-stopped\"}");
    struct eng_ctr_restart fail3 = policy("{\"Name\":\"on-failure\",\"MaximumRetryCount\":3}");
    struct eng_ctr_restart fail = policy("{\"Name\":\"on-failure\"}");
    ok(no.policy == ENG_CTR_RESTART_NO && empty.policy == ENG_CTR_RESTART_NO, "no and empty");
    ok(!eng_ctr_should_restart(&no, 1, false, 0), "no: never");
    ok(eng_ctr_should_restart(&always, 0, true, 50), "always: even after a manual stop");
    ok(eng_ctr_should_restart(&unless, 0, false, 0), "unless-stopped: restarts");
    ok(!eng_ctr_should_restart(&unless, 0, true, 0), "unless-stopped: not after a manual stop");
    ok(!eng_ctr_should_restart(&fail3, 0, false, 0), "on-failure: not on success");
    ok(eng_ctr_should_restart(&fail3, 2, false, 2), "on-failure:3: third retry allowed");
    ok(!eng_ctr_should_restart(&fail3, 2, false, 3), "on-failure:3: no fourth");
    ok(eng_ctr_should_restart(&fail, 1, false, 1000), "on-failure: no limit");
    is_int(policy("{\"Name\":\"sometimes\"}").policy, 99, "unknown policy refused");
    is_int(policy("{\"Name\":\"always\",\"MaximumRetryCount\":2}").policy, 99,
           "retry count only with on-failure");
    is_int(eng_ctr_restart_delay_ms(0, 0), 100, "first delay 100 ms");
    is_int(eng_ctr_restart_delay_ms(100, 50), 200, "doubles");
    is_int(eng_ctr_restart_delay_ms(51200, 50), 60000, "capped at a minute");
    is_int(eng_ctr_restart_delay_ms(6400, 15000), 100, "reset after a 10 s run");
}

static json_t *
J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        tap_bail("bad test json: %s", e.text);
    return j;
}

static void
test_merge_and_command(void)
{
    _cleanup_json_ json_t *img = J("{\"Env\":[\"PATH=/bin\",\"A=img\"],\"Cmd\":[\"sh\"],"
                                   "\"WorkingDir\":\"/w\",\"User\":\"app\",\"Labels\":{\"l\":\"i\","
                                   "\"m\":\"i\"},\"Entrypoint\":null}");
    _cleanup_json_ json_t *c1 = J("{\"Env\":[\"A=user\",\"B=1\"],\"Cmd\":null,"
                                  "\"Entrypoint\":null,\"Labels\":{\"l\":\"u\"},\"User\":\"\"}");
    eng_ctr_merge_config(c1, img);
    _cleanup_free_ char *env = mc_json_dumps(json_object_get(c1, "Env"), false);
    is_str(env, "[\"A=user\",\"B=1\",\"PATH=/bin\"]", "user env first, image extras appended");
    is_str(mc_json_str(c1, "User"), "app", "user inherited");
    is_str(mc_json_str(c1, "WorkingDir"), "/w", "working dir inherited");
    is_str(mc_json_str(json_object_get(c1, "Labels"), "l"), "u", "user label wins");
    is_str(mc_json_str(json_object_get(c1, "Labels"), "m"), "i", "image label added");
    char *path = NULL, **args = NULL;
    ok(eng_ctr_command(c1, &path, &args, NULL) == 0 && streq(path, "sh") && !args[0],
       "image Cmd used when the user gave none");
    free(path);
    strv_free(args);

    _cleanup_json_ json_t *img2 = J("{\"Entrypoint\":[\"/entry\"],\"Cmd\":[\"default\"]}");
    _cleanup_json_ json_t *c2 = J("{\"Cmd\":[\"x\",\"y\"]}");
    eng_ctr_merge_config(c2, img2);
    ok(eng_ctr_command(c2, &path, &args, NULL) == 0 && streq(path, "/entry") &&
               strv_length(args) == 2 && streq(args[0], "x"),
       "image entrypoint + user cmd");
    free(path);
    strv_free(args);
    _cleanup_json_ json_t *c3 = J("{\"Entrypoint\":[\"/mine\"],\"Cmd\":null}");
    eng_ctr_merge_config(c3, img2);
    ok(eng_ctr_command(c3, &path, &args, NULL) == 0 && streq(path, "/mine") &&
               strv_length(args) == 0,
       "a user entrypoint drops the image's Cmd");
    free(path);
    strv_free(args);
    _cleanup_json_ json_t *c4 = J("{\"Entrypoint\":[\"\"],\"Cmd\":null}");
    struct mc_error *err = NULL;
    ok(eng_ctr_command(c4, &path, &args, &err) < 0 && streq(err->message, "No command specified"),
       "no command");
    mc_error_free(err);
}

static void
test_names_binds(void)
{
    char *n = NULL;
    struct mc_error *err = NULL;
    ok(eng_ctr_name_normalize("web_1.x-y", &n, NULL) == 0 && streq(n, "/web_1.x-y"),
       "name gets a slash");
    free(n);
    ok(eng_ctr_name_normalize("/s1", &n, NULL) == 0 && streq(n, "/s1"), "slash kept once");
    free(n);
    ok(eng_ctr_name_normalize("a", &n, &err) < 0 && strstr(err->message, "Invalid container name"),
       "one character refused (docker's regex)");
    mc_error_free(err);
    err = NULL;
    ok(eng_ctr_name_normalize("-x", &n, &err) < 0, "leading dash refused");
    mc_error_free(err);
    err = NULL;
    _cleanup_free_ char *r1 = eng_ctr_name_random(7), *r2 = eng_ctr_name_random(7);
    ok(streq(r1, r2) && strchr(r1, '_'), "random names are adjective_surname (%s)", r1);

    _cleanup_json_ json_t *b = J("[\"/tmp:/data\",\"/etc/hosts:/h:ro\",\"/x:/y:rw,z\"]");
    struct eng_ctr_bind *binds = NULL;
    size_t nb = 0;
    ok(eng_ctr_binds_parse(b, &binds, &nb, NULL) == 0 && nb == 3, "three binds");
    ok(binds && streq(binds[0].source, "/tmp") && streq(binds[0].destination, "/data") &&
               !binds[0].readonly && binds[1].readonly && !binds[2].readonly,
       "sources, destinations and ro");
    eng_ctr_binds_free(binds, nb);
    _cleanup_json_ json_t *vol = J("[\"myvol:/data\"]");
    ok(eng_ctr_binds_parse(vol, &binds, &nb, &err) < 0 && err->code == MC_ERR_UNSUPPORTED,
       "named volumes refused");
    mc_error_free(err);
    err = NULL;
    _cleanup_json_ json_t *bad = J("[\"/a:relative\"]");
    ok(eng_ctr_binds_parse(bad, &binds, &nb, &err) < 0 && err->code == MC_ERR_INVALID,
       "relative destination refused");
    mc_error_free(err);
}

/* SecurityOpt's no-new-privileges in moby's spellings: on by default, off only when asked. */
static void
test_no_new_privs(void)
{
    static const struct {
        const char *hc;
        bool want;
    } cases[] = {
        { "{}", true },
        { "{\"SecurityOpt\":[]}", true },
        { "{\"SecurityOpt\":[\"no-new-privileges\"]}", true },
        { "{\"SecurityOpt\":[\"no-new-privileges=true\"]}", true },
        { "{\"SecurityOpt\":[\"no-new-privileges:true\"]}", true },
        { "{\"SecurityOpt\":[\"no-new-privileges=false\"]}", false },
        { "{\"SecurityOpt\":[\"no-new-privileges:false\"]}", false },
        { "{\"SecurityOpt\":[\"seccomp=unconfined\",\"no-new-privileges=false\"]}", false },
        { "{\"Privileged\":true}", true },
        { "{\"Privileged\":true,\"SecurityOpt\":[\"no-new-privileges:false\"]}", false },
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        _cleanup_json_ json_t *hc = J(cases[i].hc);
        struct eng_ctr_host_opts o;
        ok(eng_ctr_host_opts_parse(hc, &o, NULL) == 0 && o.no_new_privs == cases[i].want,
           "%s: no_new_privs %s", cases[i].hc, cases[i].want ? "on" : "off");
        eng_ctr_host_opts_clear(&o);
    }
    _cleanup_json_ json_t *bad = J("{\"SecurityOpt\":[\"no-new-privileges=maybe\"]}");
    struct eng_ctr_host_opts o;
    struct mc_error *err = NULL;
    ok(eng_ctr_host_opts_parse(bad, &o, &err) < 0 && err &&
               streq(err->message, "invalid --security-opt 2: \"no-new-privileges=maybe\""),
       "a value that is not a boolean is refused with dockerd's message");
    mc_error_free(err);
}

static void
test_host_opts(void)
{
    struct eng_ctr_host_opts o;
    struct mc_error *err = NULL;
    ok(eng_ctr_host_opts_parse(NULL, &o, NULL) == 0 && o.net == ENG_RT_NET_PRIVATE &&
               o.net_default && o.caps == ENG_CAPS_DEFAULT && !o.privileged,
       "defaults: private network (bridge to come), docker's capabilities");
    ok(o.no_new_privs, "defaults: no_new_privs on (DESIGN.md section 7)");
    eng_ctr_host_opts_clear(&o);
    test_no_new_privs();
    _cleanup_json_ json_t *hc =
            J("{\"NetworkMode\":\"host\",\"Memory\":67108864,\"NanoCpus\":500000000,"
              "\"PidsLimit\":50,\"CapAdd\":[\"NET_ADMIN\"],\"CapDrop\":[\"CHOWN\"],"
              "\"SecurityOpt\":[\"seccomp=unconfined\",\"no-new-privileges\"],"
              "\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1024,\"Hard\":2048}],"
              "\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":2},"
              "\"ReadonlyRootfs\":true}");
    ok(eng_ctr_host_opts_parse(hc, &o, &err) == 0, "a full HostConfig parses");
    ok(o.net == ENG_RT_NET_HOST && !o.net_default, "host network");
    ok(o.limits.memory == 67108864 && o.limits.nano_cpus == 500000000 && o.limits.pids_limit == 50,
       "limits");
    ok(o.caps == ((ENG_CAPS_DEFAULT | (1u << 12)) & ~UINT64_C(1)), "caps added and dropped");
    ok(o.seccomp_unconfined && o.no_new_privs && o.readonly_rootfs, "security options");
    ok(o.nrlimits == 1 && o.rlimits[0].limit.rlim_cur == 1024, "ulimits");
    ok(o.restart.policy == ENG_CTR_RESTART_ON_FAILURE && o.restart.max_retries == 2, "restart");
    eng_ctr_host_opts_clear(&o);

    const char *bad[] = { "{\"NetworkMode\":\"container:x\"}",
                          "{\"NetworkMode\":\"mynet\"}",
                          "{\"SecurityOpt\":[\"seccomp=/p.json\"]}",
                          "{\"CapAdd\":[\"FLY\"]}",
                          "{\"Memory\":1000}",
                          "{\"AutoRemove\":true,\"RestartPolicy\":{\"Name\":\"always\"}}",
                          "{\"Ulimits\":[{\"Name\":\"bogus\"}]}" };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        _cleanup_json_ json_t *b = J(bad[i]);
        ok(eng_ctr_host_opts_parse(b, &o, &err) < 0, "refused: %s (%s)", bad[i],
           err ? err->message : "");
        mc_error_free(err);
        err = NULL;
    }
    _cleanup_json_ json_t *priv = J("{\"Privileged\":true}");
    ok(eng_ctr_host_opts_parse(priv, &o, NULL) == 0 && o.caps == ENG_CAPS_ALL &&
               o.seccomp_unconfined,
       "privileged: every capability, no seccomp");
    eng_ctr_host_opts_clear(&o);

    _cleanup_json_ json_t *env = J("[\"A=1\",\"HOME=/h\"]");
    _cleanup_strv_ char **e = eng_ctr_process_env(env, "abc", true, "/root");
    _cleanup_free_ char *joined = strv_join(e, " ");
    ok(strstr(joined, "PATH=/usr/local/sbin:") && strstr(joined, "HOSTNAME=abc") &&
               strstr(joined, "TERM=xterm") && strstr(joined, "A=1") && strstr(joined, "HOME=/h") &&
               !strstr(joined, "HOME=/root"),
       "process env: %s", joined);
}

static void
check_filter(const char *filters, const struct eng_ctr_view *v, bool want)
{
    _cleanup_json_ json_t *f = J(filters);
    ok(eng_ctr_filters_match(f, v) == want, "filter %s %s", filters,
       want ? "matches" : "does not match");
}

static void
test_filters(void)
{
    _cleanup_json_ json_t *labels = J("{\"tier\":\"web\",\"x\":\"\"}");
    struct eng_ctr_view v = {
        .id = "abcdef0123",
        .name = "/c10",
        .image = "busybox",
        .image_id = "sha256:1234567890abcdef",
        .labels = labels,
        .state = { ENG_CTR_EXITED, 3, 1, 2 },
    };
    check_filter("{}", &v, true);
    check_filter("{\"id\":{\"abc\":true}}", &v, true);
    check_filter("{\"id\":{\"abd\":true}}", &v, false);
    check_filter("{\"name\":{\"c1\":true}}", &v, true);
    check_filter("{\"name\":{\"^c1$\":true}}", &v, false);
    check_filter("{\"name\":{\"^/c10$\":true}}", &v, true);
    check_filter("{\"status\":{\"exited\":true}}", &v, true);
    check_filter("{\"status\":{\"running\":true,\"exited\":true}}", &v, true);
    check_filter("{\"status\":{\"running\":true}}", &v, false);
    check_filter("{\"exited\":{\"3\":true}}", &v, true);
    check_filter("{\"exited\":{\"0\":true}}", &v, false);
    check_filter("{\"label\":{\"tier\":true}}", &v, true);
    check_filter("{\"label\":{\"tier=web\":true,\"x\":true}}", &v, true);
    check_filter("{\"label\":{\"tier=db\":true}}", &v, false);
    check_filter("{\"ancestor\":{\"busybox:latest\":true}}", &v, true);
    check_filter("{\"ancestor\":{\"12345678\":true}}", &v, true);
    check_filter("{\"ancestor\":{\"alpine\":true}}", &v, false);
    check_filter("{\"status\":{\"exited\":true},\"name\":{\"nope\":true}}", &v, false);
    struct mc_error *err = NULL;
    _cleanup_json_ json_t *bad = J("{\"colour\":{\"red\":true}}");
    ok(eng_ctr_filters_check(bad, &err) < 0 && strstr(err->message, "invalid filter 'colour'"),
       "unknown filter refused");
    mc_error_free(err);
    err = NULL;
    _cleanup_json_ json_t *bad2 = J("{\"status\":{\"sleepy\":true}}");
    ok(eng_ctr_filters_check(bad2, &err) < 0, "unknown status refused");
    mc_error_free(err);
}

static void
test_logs(void)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    eng_ctr_log_encode(&b, "stdout", "hi \"q\"\t<\x01\xff\n", 11, 1700000000 * SEC + 5);
    is_str(b.data,
           "{\"log\":\"hi \\\"q\\\"\\t\\u003c\\u0001\\ufffd\\n\",\"stream\":\"stdout\","
           "\"time\":\"2023-11-14T22:13:20.000000005Z\"}\n",
           "json-file line as Go writes it");
    struct eng_ctr_log_entry e;
    ok(eng_ctr_log_decode(b.data, b.len, &e, NULL) == 0 && !e.is_stderr &&
               e.time_ns == 1700000000 * SEC + 5 && e.len == 13,
       "decoded back (invalid UTF-8 became U+FFFD)");
    eng_ctr_log_entry_clear(&e);
    ok(eng_ctr_log_decode("{\"log\":1}", 9, &e, NULL) < 0, "malformed line refused");
    int64_t ns;
    ok(eng_ctr_parse_log_time("1700000000.5", &ns, NULL) == 0 && ns == 1700000000 * SEC + SEC / 2,
       "since with a fraction");
    ok(eng_ctr_parse_log_time("2023-11-14T22:13:20Z", &ns, NULL) == 0 && ns == 1700000000 * SEC,
       "RFC 3339");
    ok(eng_ctr_parse_log_time("", &ns, NULL) == 0 && ns == 0, "empty is 0");
    ok(eng_ctr_parse_log_time("soon", &ns, NULL) < 0, "garbage refused");
    _cleanup_buf_ struct mc_buf f = MC_BUF_INIT;
    eng_ctr_frame(&f, 1, "hi\n", 3);
    ok(f.len == 11 && memcmp(f.data, "\x01\0\0\0\0\0\0\x03hi\n", 11) == 0,
       "frame 01 00 00 00 00 00 00 03 hi\\n");
}

static void
test_stats(void)
{
    uint64_t u, k;
    ok(eng_ctr_parse_proc_stat_times("42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 "
                                     "250 30 7 3 20 0 1 0 123 4096 10",
                                     &u, &k) &&
               u == 257 && k == 33,
       "/proc/PID/stat: utime+cutime, stime+cstime, a comm with ') ' inside");
    ok(!eng_ctr_parse_proc_stat_times("42 (sh) S 1 2", &u, &k), "a short stat line refused");
    ok(!eng_ctr_parse_proc_stat_times("nothing", &u, &k), "no ')' refused");
    uint64_t t;
    ok(eng_ctr_parse_system_cpu("cpu  10 1 5 100 2 3 4 9 0 0\ncpu0 1 1 1 1 1 1 1\n", &t) &&
               t == 125,
       "/proc/stat: the first 7 fields of the cpu line");
    ok(!eng_ctr_parse_system_cpu("intr 1 2\n", &t), "no cpu line refused");
    _cleanup_json_ json_t *kv = eng_ctr_parse_keyed_values("cache 4096\nrss 8192\nbad line x\n"
                                                           "total_inactive_file 12\nnokey\n");
    ok(json_object_size(kv) == 3 && mc_json_int(kv, "rss", 0) == 8192 &&
               mc_json_int(kv, "total_inactive_file", 0) == 12,
       "memory.stat: key value lines, others left out");
    _cleanup_json_ json_t *net = eng_ctr_parse_net_dev(
            "Inter-|   Receive                            |  Transmit\n"
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes ...\n"
            "    lo:     100       1    0    0    0     0          0         0      100       1"
            "    0    0    0     0       0          0\n"
            "  eth0:    2000      20    1    2    0     0          0         0     3000      30"
            "    3    4    0     0       0          0\n");
    json_t *eth0 = json_object_get(net, "eth0");
    ok(json_object_size(net) == 1 && mc_json_int(eth0, "rx_bytes", 0) == 2000 &&
               mc_json_int(eth0, "rx_errors", 0) == 1 && mc_json_int(eth0, "rx_dropped", 0) == 2 &&
               mc_json_int(eth0, "tx_bytes", 0) == 3000 &&
               mc_json_int(eth0, "tx_packets", 0) == 30 && mc_json_int(eth0, "tx_dropped", 0) == 4,
       "/proc/net/dev: per interface counters, loopback left out");
}

int
main(void)
{
    test_status();
    test_restart();
    test_merge_and_command();
    test_names_binds();
    test_host_opts();
    test_filters();
    test_logs();
    test_stats();
    return tap_done();
}
