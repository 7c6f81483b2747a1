/* machined's config.json: every key, type errors, unknown keys, defaults, and the TLS rule. */
#include <string.h>

#include "engine.h"
#include "strv.h"
#include "tap.h"
#include "util.h"

static int
load(const char *json, struct eng_config *cfg, struct mc_error **err)
{
    memset(cfg, 0, sizeof(*cfg));
    if (eng_config_load_json(cfg, json, strlen(json), "test config", err) < 0)
        return -1;
    return eng_config_finish(cfg, err);
}

int
main(void)
{
    struct eng_config c;
    struct mc_error *err = NULL;
    ok(load("{\"hosts\":[\"tcp://0.0.0.0:2376\",\"unix:///run/machined.sock\"],"
            "\"tlscacert\":\"/etc/machined/ca.pem\",\"tlscert\":\"/etc/machined/server.pem\","
            "\"tlskey\":\"/etc/machined/server-key.pem\",\"data-root\":\"/srv/m\","
            "\"labels\":[\"a=b\"],\"log-format\":\"text\",\"log-level\":\"debug\","
            "\"pidfile\":\"/run/machined.pid\",\"live-restore\":true,\"tlsverify\":true}",
            &c, &err) == 0,
       "every key loads");
    ok(strv_length(c.hosts) == 2 && streq(c.hosts[0], "tcp://0.0.0.0:2376"), "hosts");
    is_str(c.data_root, "/srv/m", "data-root");
    is_str(c.log_format, "text", "log-format");
    ok(c.live_restore && strv_contains(c.labels, "a=b"), "live-restore and labels");
    eng_config_clear(&c);

    ok(load("{}", &c, &err) == 0, "an empty config is fine");
    is_str(c.hosts[0], "unix:///run/machined.sock", "default host");
    is_str(c.data_root, "/var/lib/machined", "default data root");
    is_str(c.log_format, "json", "JSON logs by default");
    eng_config_clear(&c);

    static const struct {
        const char *json, *want;
    } bad[] = {
        { "{\"debug\":true}", "unknown key \"debug\"" },
        { "{\"hosts\":\"tcp://x\"}", "\"hosts\" must be an array" },
        { "{\"labels\":[1]}", "\"labels\" must be an array of strings" },
        { "{\"live-restore\":\"yes\"}", "\"live-restore\" must be true or false" },
        { "{\"log-format\":\"xml\"}", "\"log-format\" must be" },
        { "{\"hosts\":[\"tcp://0.0.0.0:2376\"]}", "mutual TLS" },
        { "{\"hosts\":[\"http://x\"]}", "use tcp://ADDRESS:PORT or unix:///PATH" },
        { "{\"data-root\":\"relative\"}", "absolute path" },
        { "[1]", "must hold a JSON object" },
        { "{", "not valid JSON" },
    };
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        err = NULL;
        ok(load(bad[i].json, &c, &err) < 0 && err && strstr(err->message, bad[i].want),
           "refused: %s", bad[i].json);
        if (err && !strstr(err->message, bad[i].want))
            tap_diag("%s", err->message);
        mc_error_free(err);
        eng_config_clear(&c);
    }
    return tap_done();
}
