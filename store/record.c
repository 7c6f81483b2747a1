/* config.json: the versioned record of one machine (docs/store-format.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "json.h"
#include "store.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

static const char *const create_state_names[STORE_CREATE__MAX] = {
    [STORE_CREATE_CREATING] = "creating",
    [STORE_CREATE_PROVISIONING] = "provisioning",
    [STORE_CREATE_READY] = "ready",
    [STORE_CREATE_FAILED] = "failed",
};

const char *
store_create_state_to_string(enum store_create_state s)
{
    return (unsigned)s < STORE_CREATE__MAX ? create_state_names[s] : "unknown";
}

int
store_create_state_from_string(const char *s)
{
    for (int i = 0; i < STORE_CREATE__MAX; i++)
        if (streq(s, create_state_names[i]))
            return i;
    return -1;
}

static void
now_rfc3339(char *buf, size_t len)
{
    mc_format_rfc3339(mc_realtime_ns(), false, buf, len);
}

void
store_machine_free(struct store_machine *m)
{
    if (!m)
        return;
    free(m->name);
    json_decref(m->config);
    free(m);
}

/* Points the fields at the document again (after a parse or a setter). */
static void
sync_fields(struct store_machine *m)
{
    const json_t *create = json_object_get(m->config, "create");
    m->driver = mc_json_str(m->config, "driver");
    const char *state = mc_json_str(create, "state");
    int st = state ? store_create_state_from_string(state) : -1;
    m->create_state = st < 0 ? STORE_CREATE_FAILED : (enum store_create_state)st;
    m->create_step = mc_json_str(create, "step");
    m->create_error = mc_json_str(create, "error");
}

struct store_machine *
store_machine_new(const char *name, const char *driver)
{
    char now[64];
    now_rfc3339(now, sizeof(now));
    struct store_machine *m = xzalloc(sizeof(*m));
    m->name = xstrdup(name);
    m->config = json_pack("{s:i, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:{}, s:{}, s:{}, s:{}}",
                          "version", STORE_CONFIG_VERSION, "name", name, "driver", driver,
                          "created_at", now, "create", "state", "creating", "step", "record",
                          "updated_at", now, "options", "flags", "driver_state", "engine");
    if (!m->config)
        abort(); /* json_pack fails only on allocation failure with a constant format */
    sync_fields(m);
    return m;
}

/* Version 0 (never released) had no "version"; nothing to migrate yet. Each future version
 * gets one step here, applied in order. */
static int
migrate(const char *name, json_t *doc, struct mc_error **err)
{
    json_t *v = json_object_get(doc, "version");
    if (!json_is_integer(v))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json of machine '%s' has no integer \"version\"", name);
    json_int_t ver = json_integer_value(v);
    if (ver > STORE_CONFIG_VERSION)
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json of machine '%s' has version %lld, newer than this "
                            "machine understands (%d): upgrade machine",
                            name, (long long)ver, STORE_CONFIG_VERSION);
    if (ver < 1)
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json of machine '%s' has an invalid version %lld", name,
                            (long long)ver);
    return 0;
}

int
store_machine_parse(const char *name, json_t *doc, struct store_machine **ret,
                    struct mc_error **err)
{
    _cleanup_json_ json_t *owned = doc;
    if (!json_is_object(doc))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json of machine '%s' is not a JSON object", name);
    if (migrate(name, doc, err) < 0)
        return -1;
    const char *driver = mc_json_str(doc, "driver");
    if (isempty(driver))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json of machine '%s' names no \"driver\"", name);
    const char *state = mc_json_str(json_object_get(doc, "create"), "state");
    if (!state || store_create_state_from_string(state) < 0)
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json of machine '%s' has no valid \"create\".\"state\"",
                            name);
    const char *recorded = mc_json_str(doc, "name");
    if (recorded && !streq(recorded, name))
        return mc_error_set(err, MC_ERR_INVALID,
                            "the config.json in folder '%s' is for machine '%s'", name, recorded);
    struct store_machine *m = xzalloc(sizeof(*m));
    m->name = xstrdup(name);
    m->config = TAKE_PTR(owned);
    sync_fields(m);
    *ret = m;
    return 0;
}

int
store_machine_load(const struct store *s, const char *name, struct store_machine **ret,
                   struct mc_error **err)
{
    if (store_check_name(name, err) < 0)
        return -1;
    _cleanup_free_ char *rel = xasprintf("%s/config.json", name);
    _cleanup_free_ char *data = NULL;
    size_t len = 0;
    _cleanup_error_ struct mc_error *rerr = NULL;
    if (mc_read_file_at(s->machines_fd, rel, STORE_CONFIG_MAX, &data, &len, &rerr) < 0) {
        if (rerr->errnum == ENOENT && !store_machine_exists(s, name))
            return mc_error_set(err, MC_ERR_NOT_FOUND, "machine '%s' does not exist", name);
        if (rerr->errnum == ENOENT)
            return mc_error_set(err, MC_ERR_INVALID,
                                "machine '%s' has no config.json (an interrupted create or "
                                "remove left its folder; 'machine rm -f %s' removes it)",
                                name, name);
        mc_error_prefix(&rerr, "machine '%s': ", name);
        return mc_error_propagate(err, TAKE_PTR(rerr));
    }
    _cleanup_free_ char *what = xasprintf("the config.json of machine '%s'", name);
    json_t *doc = mc_json_parse(data, len, what, err);
    if (!doc)
        return -1;
    return store_machine_parse(name, doc, ret, err);
}

int
store_machine_save(const struct store *s, const struct store_machine *m, struct mc_error **err)
{
    _cleanup_free_ char *dir = store_machine_dir(s, m->name);
    if (!mc_is_dir(dir)) {
        if (mc_mkdir_p(dir, 0700, err) < 0)
            return -1;
        if (mc_fsync_dir(s->machines_dir, err) < 0)
            return -1;
        mc_crashpoint("store-mkdir");
    }
    _cleanup_free_ char *path = mc_path_join(dir, "config.json");
    if (mc_json_save_file(path, m->config, true, 0600, err) < 0)
        return mc_error_prefix(err, "save machine '%s': ", m->name);
    return 0;
}

void
store_machine_set_create_state(struct store_machine *m, enum store_create_state state,
                               const char *step, const char *error)
{
    char now[64];
    now_rfc3339(now, sizeof(now));
    json_t *create = store_machine_section(m, "create");
    json_object_set_new(create, "state", json_string(store_create_state_to_string(state)));
    mc_json_set_str(create, "step", step);
    mc_json_set_str(create, "error", error);
    json_object_set_new(create, "updated_at", json_string(now));
    sync_fields(m);
}

json_t *
store_machine_section(struct store_machine *m, const char *key)
{
    json_t *v = json_object_get(m->config, key);
    if (json_is_object(v))
        return v;
    v = json_object();
    json_object_set_new(m->config, key, v);
    return v;
}

const json_t *
store_machine_get_section(const struct store_machine *m, const char *key)
{
    const json_t *v = json_object_get(m->config, key);
    return json_is_object(v) ? v : NULL;
}

void
store_machine_set_section(struct store_machine *m, const char *key, json_t *value)
{
    json_object_set(m->config, key, value);
    sync_fields(m);
}

const char *
store_machine_url(const struct store_machine *m)
{
    return mc_json_str(json_object_get(m->config, "engine"), "url");
}
