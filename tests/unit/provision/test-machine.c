/* Machine operations with the fake and none drivers: record-first create, failures recorded
 * with their step, resume with the first flags, refusal of a ready machine, power actions
 * persisted in the driver state, rm (also forced, of corrupt records and unknown drivers). */
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "json.h"
#include "machine-ops.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const char *cloud;

static int
count_files(const char *dir)
{
    _cleanup_closedir_ DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        n += de->d_name[0] != '.';
    return n;
}

static json_t *
fake_options(const char *fail_at)
{
    json_t *o = json_pack("{s:s, s:i, s:s}", "cloud", cloud, "steps", 3, "state", "Running");
    if (fail_at)
        json_object_set_new(o, "fail-at", json_pack("[s]", fail_at));
    return o;
}

static int
create(struct store *s, const char *name, const char *driver, json_t *opts, struct mc_error **err)
{
    struct machine_create_opts o = {
        .name = name,
        .driver = driver,
        .options = opts,
        .engine_port = 2376,
    };
    return machine_create(s, &o, err);
}

static struct store_machine *
load(struct store *s, const char *name)
{
    struct store_machine *m = NULL;
    _cleanup_error_ struct mc_error *err = NULL;
    return store_machine_load(s, name, &m, &err) == 0 ? m : NULL;
}

static void
test_create_resume(struct store *s)
{
    _cleanup_error_ struct mc_error *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
    _cleanup_json_ json_t *bad = fake_options("precreate");
    ok(create(s, "f0", "fake", bad, &e1) < 0 && e1->code == MC_ERR_PRECREATE,
       "a failed pre-create check is MC_ERR_PRECREATE");
    ok(e1 && strstr(e1->message, "create 'f0': fake: "), "with context (%s)",
       e1 ? e1->message : "");
    ok(!store_machine_exists(s, "f0"), "and leaves nothing behind");

    _cleanup_json_ json_t *opts = fake_options("create-step-2");
    ok(create(s, "f1", "fake", opts, &e2) < 0 && e2->code == MC_ERR_FAILED,
       "create fails at step 2");
    _cleanup_store_machine_ struct store_machine *m = load(s, "f1");
    ok(m && m->create_state == STORE_CREATE_FAILED, "the record says failed");
    is_str(m ? m->create_step : NULL, MACHINE_STEP_DRIVER_CREATE, "at the driver's create");
    ok(m && m->create_error && strstr(m->create_error, "create-step-2"), "with its cause");
    is_int(count_files(cloud), 2, "two resources exist");
    is_int(json_array_size(
                   json_object_get(store_machine_get_section(m, "driver_state"), "resources")),
           2, "and were saved in the driver state as they were made");

    /* Resume: different options given now are ignored; the recorded ones are used. */
    _cleanup_json_ json_t *other = json_pack("{s:s}", "state", "Stopped");
    ok(create(s, "f1", "fake", other, &e3) == 0, "create again resumes and succeeds");
    _cleanup_store_machine_ struct store_machine *m2 = load(s, "f1");
    ok(m2 && m2->create_state == STORE_CREATE_READY, "the record says ready");
    is_int(count_files(cloud), 3, "the third resource was made, none twice");
    is_str(mc_json_str(store_machine_get_section(m2, "driver_state"), "state"), "Running",
           "with the flags it was first given");
    is_str(store_machine_url(m2), "tcp://127.0.0.1:2376", "the engine URL is recorded");
    ok(create(s, "f1", "fake", opts, &e4) < 0 && e4->code == MC_ERR_EXISTS,
       "create on a ready machine is refused");
}

static const char *
driver_state_of(struct store *s, const char *name)
{
    static char buf[64];
    _cleanup_store_machine_ struct store_machine *m = load(s, name);
    const char *st = m ? mc_json_str(store_machine_get_section(m, "driver_state"), "state") : NULL;
    snprintf(buf, sizeof(buf), "%s", st ? st : "");
    return buf;
}

static void
test_power(struct store *s)
{
    _cleanup_error_ struct mc_error *err = NULL;
    ok(machine_act(s, "f1", MACHINE_STOP, NULL, NULL, &err) == 0, "stop");
    is_str(driver_state_of(s, "f1"), "Stopped", "stop is saved in the driver state");
    ok(machine_act(s, "f1", MACHINE_START, NULL, NULL, &err) == 0, "start");
    is_str(driver_state_of(s, "f1"), "Running", "start is saved");
    ok(machine_act(s, "f1", MACHINE_KILL, NULL, NULL, &err) == 0, "kill");
    is_str(driver_state_of(s, "f1"), "Stopped", "kill is saved");

    _cleanup_machine_ struct machine_handle *h = NULL;
    ok(machine_open(s, "f1", false, &h, &err) == 0, "opens without the lock");
    enum driver_state st = DRIVER_STATE_NONE;
    ok(h && machine_get_state(h, 0, &st, &err) == 0 && st == DRIVER_STATE_STOPPED,
       "the live state comes from the driver");
    _cleanup_error_ struct mc_error *e2 = NULL;
    ok(h && machine_save(h, &e2) < 0, "a handle without the lock cannot save");
}

static void
test_none(struct store *s, const char *tmp)
{
    _cleanup_free_ char *ca = mc_path_join(tmp, "ca.pem");
    _cleanup_free_ char *cert = mc_path_join(tmp, "cert.pem");
    _cleanup_free_ char *key = mc_path_join(tmp, "key.pem");
    mc_write_file_atomic(ca, "CA", 2, 0644, NULL);
    mc_write_file_atomic(cert, "CERT", 4, 0644, NULL);
    mc_write_file_atomic(key, "KEY", 3, 0600, NULL);
    _cleanup_error_ struct mc_error *e1 = NULL, *e2 = NULL, *e3 = NULL;
    _cleanup_json_ json_t *two = json_pack("{s:s, s:s, s:s}", "url", "tcp://127.0.0.1:1",
                                           "tls-ca-cert", ca, "tls-client-cert", cert);
    ok(create(s, "n0", "none", two, &e1) < 0 && e1->code == MC_ERR_PRECREATE &&
               strstr(e1->message, "all three"),
       "two of the three TLS files is a pre-create failure");
    _cleanup_json_ json_t *nourl = json_object();
    ok(create(s, "n0", "none", nourl, &e2) < 0 && e2->code == MC_ERR_PRECREATE &&
               strstr(e2->message, "--url"),
       "no URL is a pre-create failure");
    _cleanup_json_ json_t *tls =
            json_pack("{s:s, s:s, s:s, s:s}", "url", "tcp://127.0.0.1:1", "tls-ca-cert", ca,
                      "tls-client-cert", cert, "tls-client-key", key);
    ok(create(s, "n1", "none", tls, &e3) == 0, "creates a none machine with TLS");
    ok(store_machine_has_tls(s, "n1"), "its TLS files are in machines/n1/certs");
}

static void
test_remove(struct store *s)
{
    _cleanup_error_ struct mc_error *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL;
    ok(machine_remove(s, "f1", false, NULL, NULL, &e1) == 0, "rm");
    ok(!store_machine_exists(s, "f1"), "the record is gone");
    is_int(count_files(cloud), 0, "and so are its resources");

    _cleanup_json_ json_t *opts = fake_options("remove");
    ok(create(s, "f2", "fake", opts, &e1) == 0, "creates f2");
    ok(machine_remove(s, "f2", false, NULL, NULL, &e2) < 0 && store_machine_exists(s, "f2"),
       "a failed driver remove keeps the record");
    json_decref(opts);
    opts = json_pack("{s:[s], s:b, s:s}", "fail-at", "remove", "fail-always", 1, "cloud", cloud);
    ok(create(s, "f3", "fake", opts, &e3) == 0, "creates f3 (fails to remove, always)");
    ok(machine_remove(s, "f3", true, NULL, NULL, &e3) == 0 && !store_machine_exists(s, "f3"),
       "rm -f removes the record anyway");

    _cleanup_free_ char *cfg = store_machine_path(s, "f2", "config.json");
    mc_write_file_atomic(cfg, "{not json", 9, 0600, NULL);
    _cleanup_error_ struct mc_error *e5 = NULL, *e6 = NULL;
    ok(machine_remove(s, "f2", false, NULL, NULL, &e5) < 0 && e5->code == MC_ERR_INVALID,
       "rm of a corrupt record needs -f");
    ok(machine_remove(s, "f2", true, NULL, NULL, &e6) == 0 && !store_machine_exists(s, "f2"),
       "rm -f removes a corrupt record");

    _cleanup_store_machine_ struct store_machine *m = store_machine_new("odd", "no-such-driver");
    store_machine_save(s, m, NULL);
    _cleanup_machine_ struct machine_handle *h = NULL;
    _cleanup_error_ struct mc_error *e7 = NULL, *e8 = NULL;
    ok(machine_open(s, "odd", false, &h, &e7) < 0 && e7->code == MC_ERR_UNSUPPORTED &&
               strstr(e7->message, "no-such-driver"),
       "a record of an unknown driver cannot be opened");
    ok(machine_remove(s, "odd", true, NULL, NULL, &e8) == 0, "but rm -f removes it");
    ok(machine_remove(s, "gone", true, NULL, NULL, &e4) < 0 && e4->code == MC_ERR_NOT_FOUND,
       "rm of a missing machine is not-found, even with -f");
}

int
main(void)
{
    const char *tmp = tap_tmpdir();
    _cleanup_free_ char *root = mc_path_join(tmp, "store");
    _cleanup_free_ char *cl = mc_path_join(tmp, "cloud");
    mc_mkdir_p(cl, 0700, NULL);
    cloud = cl;
    struct store *s = NULL;
    if (store_open(root, &s, NULL) < 0)
        tap_bail("cannot open the store");
    test_create_resume(s);
    test_power(s);
    test_none(s, tmp);
    test_remove(s);
    store_free(s);
    return tap_done();
}
