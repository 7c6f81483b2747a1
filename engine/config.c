/* machined's configuration file (/etc/machined/config.json): see engine.h. */
#include <string.h>

#include "engine.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "strv.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

#define MAX_CONFIG_SIZE (1 << 20)

void
eng_config_clear(struct eng_config *cfg)
{
    strv_free(cfg->hosts);
    strv_free(cfg->labels);
    free(cfg->tlscacert);
    free(cfg->tlscert);
    free(cfg->tlskey);
    free(cfg->data_root);
    free(cfg->log_level);
    free(cfg->log_format);
    free(cfg->log_file);
    free(cfg->pidfile);
    free(cfg->cgroup_parent);
    memset(cfg, 0, sizeof(*cfg));
}

static int
set_string(char **dst, json_t *v, const char *key, const char *what, struct mc_error **err)
{
    if (!json_is_string(v))
        return mc_error_set(err, MC_ERR_INVALID, "%s: \"%s\" must be a string.", what, key);
    free(*dst);
    *dst = xstrdup(json_string_value(v));
    return 0;
}

static int
set_strv(char ***dst, json_t *v, const char *key, const char *what, struct mc_error **err)
{
    if (!json_is_array(v))
        return mc_error_set(err, MC_ERR_INVALID, "%s: \"%s\" must be an array of strings.", what,
                            key);
    size_t i;
    json_t *item;
    json_array_foreach (v, i, item) {
        if (!json_is_string(item))
            return mc_error_set(err, MC_ERR_INVALID, "%s: \"%s\" must be an array of strings.",
                                what, key);
    }
    strv_free(*dst);
    *dst = mc_json_to_strv(v);
    return 0;
}

static int
set_bool(bool *dst, json_t *v, const char *key, const char *what, struct mc_error **err)
{
    if (!json_is_boolean(v))
        return mc_error_set(err, MC_ERR_INVALID, "%s: \"%s\" must be true or false.", what, key);
    *dst = json_is_true(v);
    return 0;
}

static int
set_log_format(struct eng_config *cfg, json_t *v, const char *what, struct mc_error **err)
{
    const char *s = json_string_value(v);
    if (!s || (!streq(s, "json") && !streq(s, "text")))
        return mc_error_set(err, MC_ERR_INVALID, "%s: \"log-format\" must be \"json\" or \"text\".",
                            what);
    free(cfg->log_format);
    cfg->log_format = xstrdup(s);
    return 0;
}

static int
apply_key(struct eng_config *cfg, const char *key, json_t *v, const char *what,
          struct mc_error **err)
{
    if (streq(key, "hosts"))
        return set_strv(&cfg->hosts, v, key, what, err);
    if (streq(key, "labels"))
        return set_strv(&cfg->labels, v, key, what, err);
    if (streq(key, "tlscacert"))
        return set_string(&cfg->tlscacert, v, key, what, err);
    if (streq(key, "tlscert"))
        return set_string(&cfg->tlscert, v, key, what, err);
    if (streq(key, "tlskey"))
        return set_string(&cfg->tlskey, v, key, what, err);
    if (streq(key, "data-root"))
        return set_string(&cfg->data_root, v, key, what, err);
    if (streq(key, "pidfile"))
        return set_string(&cfg->pidfile, v, key, what, err);
    if (streq(key, "cgroup-parent"))
        return set_string(&cfg->cgroup_parent, v, key, what, err);
    if (streq(key, "log-level"))
        return set_string(&cfg->log_level, v, key, what, err);
    if (streq(key, "log-file"))
        return set_string(&cfg->log_file, v, key, what, err);
    if (streq(key, "log-format"))
        return set_log_format(cfg, v, what, err);
    if (streq(key, "live-restore"))
        return set_bool(&cfg->live_restore, v, key, what, err);
    if (streq(key, "tlsverify") || streq(key, "tls"))
        return set_bool(&(bool){ false }, v, key, what, err); /* always on for tcp */
    return mc_error_set(err, MC_ERR_INVALID, "%s: unknown key \"%s\".", what, key);
}

int
eng_config_load_json(struct eng_config *cfg, const char *text, size_t len, const char *what,
                     struct mc_error **err)
{
    _cleanup_json_ json_t *j = mc_json_parse(text, len, what, err);
    if (!j)
        return -1;
    if (!json_is_object(j))
        return mc_error_set(err, MC_ERR_INVALID, "%s must hold a JSON object.", what);
    const char *key;
    json_t *v;
    json_object_foreach (j, key, v) {
        if (apply_key(cfg, key, v, what, err) < 0)
            return -1;
    }
    return 0;
}

int
eng_config_load_file(struct eng_config *cfg, const char *path, struct mc_error **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    if (mc_read_file(path, MAX_CONFIG_SIZE, &data, &len, err) < 0)
        return mc_error_prefix(err, "Cannot read the configuration: ");
    _cleanup_free_ char *what = xasprintf("The configuration '%s'", path);
    return eng_config_load_json(cfg, data, len, what, err);
}

static int
check_host(const struct eng_config *cfg, const char *h, struct mc_error **err)
{
    struct mc_url u = { 0 };
    if (mc_url_parse(h, 2376, &u, err) < 0)
        return -1;
    int r = 0;
    if (streq(u.scheme, "tcp")) {
        if (isempty(cfg->tlscacert) || isempty(cfg->tlscert) || isempty(cfg->tlskey))
            r = mc_error_set(err, MC_ERR_INVALID,
                             "Listening on '%s' needs --tlscacert, --tlscert and --tlskey: "
                             "machined serves TCP only with mutual TLS.",
                             h);
    } else if (!streq(u.scheme, "unix")) {
        r = mc_error_set(err, MC_ERR_INVALID,
                         "Cannot listen on '%s': use tcp://ADDRESS:PORT or unix:///PATH.", h);
    }
    mc_url_clear(&u);
    return r;
}

int
eng_config_finish(struct eng_config *cfg, struct mc_error **err)
{
    if (strv_length(cfg->hosts) == 0)
        strv_add(&cfg->hosts, "unix:///run/machined.sock");
    if (isempty(cfg->data_root)) {
        free(cfg->data_root);
        cfg->data_root = xstrdup(ENG_DEFAULT_DATA_ROOT);
    }
    if (cfg->data_root[0] != '/')
        return mc_error_set(err, MC_ERR_INVALID, "The data root '%s' must be an absolute path.",
                            cfg->data_root);
    if (cfg->log_format && !streq(cfg->log_format, "json") && !streq(cfg->log_format, "text"))
        return mc_error_set(err, MC_ERR_INVALID, "The log format '%s' is not json or text.",
                            cfg->log_format);
    if (!cfg->log_format)
        cfg->log_format = xstrdup("json");
    if (cfg->log_level && mc_log_level_from_string(cfg->log_level) < 0)
        return mc_error_set(err, MC_ERR_INVALID,
                            "The log level '%s' is not one of debug, info, warn, error.",
                            cfg->log_level);
    STRV_FOREACH (h, cfg->hosts) {
        if (check_host(cfg, *h, err) < 0)
            return -1;
    }
    return 0;
}
