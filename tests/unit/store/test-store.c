/* The store: folders and modes, names, records (parse, save, load, corrupt), listing, removal,
 * locks and stale temporary files. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "json.h"
#include "store.h"
#include "strv.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static int
mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static void
write_text(const char *path, const char *text)
{
    struct mc_error *err = NULL;
    if (mc_write_file_atomic(path, text, strlen(text), 0600, &err) < 0)
        tap_bail("cannot write '%s': %s", path, err->message);
}

static void
test_open(const char *root)
{
    struct store *s = NULL;
    _cleanup_error_ struct mc_error *err = NULL;
    ok(store_open(root, &s, &err) == 0, "opens (and creates) a store");
    is_int(mode_of(root), 0700, "the store's root is 0700");
    is_int(mode_of(s->machines_dir), 0700, "machines/ is 0700");
    is_int(mode_of(s->certs_dir), 0700, "certs/ is 0700");
    is_int(mode_of(s->locks_dir), 0700, "locks/ is 0700");
    is_int(mode_of(s->trash_dir), 0700, "trash/ is 0700");
    store_free(s);
}

static void
test_names(void)
{
    const char *good[] = { "a", "web1", "a-b-c", "A9",
                           "x23456789012345678901234567890123456789012345678901234567890123" };
    const char *bad[] = {
        "",    "-a",  "a-", "a_b",
        "a.b", "a b", "ä",  "x234567890123456789012345678901234567890123456789012345678901234"
    };
    for (size_t i = 0; i < ELEMENTSOF(good); i++) {
        _cleanup_error_ struct mc_error *err = NULL;
        ok(store_check_name(good[i], &err) == 0, "name '%s' is valid", good[i]);
    }
    for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
        _cleanup_error_ struct mc_error *err = NULL;
        ok(store_check_name(bad[i], &err) < 0 && err->code == MC_ERR_USAGE &&
                   strstr(err->message, "RFC 1123") && strstr(err->message, "hyphen"),
           "name '%s' is refused with the rule", bad[i]);
    }
}

static void
test_record_roundtrip(struct store *s)
{
    _cleanup_error_ struct mc_error *err = NULL;
    _cleanup_store_machine_ struct store_machine *m = store_machine_new("web1", "fake");
    is_int(m->create_state, STORE_CREATE_CREATING, "a new record is creating");
    json_object_set_new(store_machine_section(m, "driver_state"), "id", json_string("i-1"));
    store_machine_set_create_state(m, STORE_CREATE_FAILED, "driver-create", "boom");
    ok(store_machine_save(s, m, &err) == 0, "saves");
    _cleanup_free_ char *cfg = store_machine_path(s, "web1", "config.json");
    _cleanup_free_ char *dir = store_machine_dir(s, "web1");
    is_int(mode_of(cfg), 0600, "config.json is 0600");
    is_int(mode_of(dir), 0700, "the machine's folder is 0700");

    _cleanup_store_machine_ struct store_machine *back = NULL;
    ok(store_machine_load(s, "web1", &back, &err) == 0, "loads");
    is_str(back->driver, "fake", "driver survives");
    is_int(back->create_state, STORE_CREATE_FAILED, "create state survives");
    is_str(back->create_step, "driver-create", "failed step survives");
    is_str(back->create_error, "boom", "cause survives");
    is_str(mc_json_str(store_machine_get_section(back, "driver_state"), "id"), "i-1",
           "driver state survives");
    is_int(mc_json_int(back->config, "version", 0), STORE_CONFIG_VERSION, "version is written");
    ok(store_machine_exists(s, "web1"), "exists");
}

static void
expect_parse_error(const char *json, const char *want, const char *what)
{
    _cleanup_error_ struct mc_error *err = NULL;
    struct store_machine *m = NULL;
    json_t *doc = json_loads(json, 0, NULL);
    ok(doc && store_machine_parse("m1", doc, &m, &err) < 0 && err->code == MC_ERR_INVALID &&
               strstr(err->message, want) && strstr(err->message, "m1"),
       "parse refuses %s (%s)", what, err ? err->message : "accepted");
    store_machine_free(m);
}

static void
test_parse(void)
{
    expect_parse_error("[]", "not a JSON object", "a non-object");
    expect_parse_error("{\"driver\":\"none\"}", "no integer \"version\"", "a missing version");
    expect_parse_error("{\"version\":99,\"driver\":\"none\",\"create\":{\"state\":\"ready\"}}",
                       "newer", "a newer version");
    expect_parse_error("{\"version\":1,\"create\":{\"state\":\"ready\"}}", "no \"driver\"",
                       "a missing driver");
    expect_parse_error("{\"version\":1,\"driver\":\"none\",\"create\":{\"state\":\"odd\"}}",
                       "create", "an unknown create state");
    expect_parse_error("{\"version\":1,\"name\":\"other\",\"driver\":\"none\",\"create\":{"
                       "\"state\":\"ready\"}}",
                       "other", "a record of another machine");
    _cleanup_error_ struct mc_error *err = NULL;
    struct store_machine *m = NULL;
    json_t *doc = json_loads("{\"version\":1,\"driver\":\"none\",\"create\":{\"state\":"
                             "\"ready\"},\"future\":{\"x\":1}}",
                             0, NULL);
    ok(store_machine_parse("m1", doc, &m, &err) == 0 && m->create_state == STORE_CREATE_READY,
       "parses a minimal record");
    ok(m && json_object_get(m->config, "future"), "unknown keys are kept");
    store_machine_free(m);
    for (int i = 0; i < STORE_CREATE__MAX; i++)
        is_int(store_create_state_from_string(store_create_state_to_string(i)), i,
               "state name '%s' round-trips", store_create_state_to_string(i));
}

static void
test_broken_records(struct store *s)
{
    _cleanup_free_ char *dir = store_machine_dir(s, "bad");
    _cleanup_free_ char *cfg = mc_path_join(dir, "config.json");
    _cleanup_error_ struct mc_error *e1 = NULL, *e2 = NULL, *e3 = NULL;
    struct store_machine *m = NULL;
    mc_mkdir_p(dir, 0700, NULL);
    ok(store_machine_load(s, "bad", &m, &e1) < 0 && e1->code == MC_ERR_INVALID &&
               strstr(e1->message, "no config.json") && strstr(e1->message, "rm -f"),
       "a folder without config.json is an error that says how to remove it");
    write_text(cfg, "{\"version\": 1, \"driv");
    ok(store_machine_load(s, "bad", &m, &e2) < 0 && e2->code == MC_ERR_INVALID &&
               strstr(e2->message, "'bad'"),
       "a corrupt config.json is an error naming the machine (%s)", e2 ? e2->message : "");
    ok(store_machine_load(s, "nope", &m, &e3) < 0 && e3->code == MC_ERR_NOT_FOUND &&
               strstr(e3->message, "'nope'"),
       "a missing machine is not-found, naming it");
}

static void
test_list_and_remove(struct store *s)
{
    _cleanup_free_ char *dotdir = mc_path_join(s->machines_dir, ".hidden");
    _cleanup_free_ char *file = mc_path_join(s->machines_dir, "stray-file");
    mc_mkdir_p(dotdir, 0700, NULL);
    write_text(file, "x");
    _cleanup_strv_ char **names = NULL;
    _cleanup_error_ struct mc_error *err = NULL;
    ok(store_list_names(s, &names, &err) == 0, "lists");
    _cleanup_free_ char *joined = strv_join(names, ",");
    is_str(joined, "bad,web1", "sorted folders only, broken ones included");

    int fd = store_lock_machine(s, "web1", 0, &err);
    ok(fd >= 0, "locks web1");
    ok(store_machine_remove(s, "web1", &err) == 0, "removes web1");
    store_unlock_machine(s, "web1", fd);
    ok(!store_machine_exists(s, "web1"), "web1 is gone");
    _cleanup_error_ struct mc_error *e2 = NULL;
    ok(store_machine_remove(s, "web1", &e2) < 0 && e2->code == MC_ERR_NOT_FOUND,
       "removing it again is not-found");
    _cleanup_closedir_ DIR *d = opendir(s->trash_dir);
    int entries = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        entries += de->d_name[0] != '.';
    is_int(entries, 0, "nothing is left in trash/");
}

static void
test_locks_and_tidy(struct store *s)
{
    _cleanup_error_ struct mc_error *err = NULL, *e2 = NULL;
    _cleanup_store_machine_ struct store_machine *m = store_machine_new("lk", "fake");
    ok(store_machine_save(s, m, &err) == 0, "saves lk");
    _cleanup_free_ char *tmp = store_machine_path(s, "lk", ".config.json.tmp-abc123");
    _cleanup_free_ char *marker = mc_path_join(s->locks_dir, "machine.lk.dirty");

    int fd = store_lock_machine(s, "lk", 0, &err);
    ok(fd >= 0, "takes lk's lock");
    ok(mc_path_exists(marker), "a dirty marker exists while the lock is held");
    ok(store_lock_machine(s, "lk", 50, &e2) < 0 && e2->code == MC_ERR_TIMEOUT,
       "a second lock waits, then times out");
    write_text(tmp, "partial");
    store_tidy(s);
    ok(mc_path_exists(tmp), "tidy leaves a locked machine's temporary files alone");
    close(fd); /* the writer "crashes": its marker stays */
    ok(mc_path_exists(marker), "a crashed writer leaves its marker");
    store_tidy(s);
    ok(!mc_path_exists(tmp), "tidy removes a crashed writer's temporary files");
    ok(!mc_path_exists(marker), "and its marker");

    fd = store_lock_machine(s, "lk", 0, &err);
    write_text(tmp, "partial");
    close(fd); /* crash again */
    fd = store_lock_machine(s, "lk", 0, &err);
    ok(fd >= 0 && !mc_path_exists(tmp), "the next writer removes them when it takes the lock");
    store_unlock_machine(s, "lk", fd);
    ok(!mc_path_exists(marker), "a clean unlock removes the marker");
    write_text(tmp, "not ours");
    store_tidy(s);
    ok(mc_path_exists(tmp), "without a marker, tidy does not even look (no writer crashed)");
    unlink(tmp);

    int ca = store_lock_ca(s, 0, &err);
    ok(ca >= 0, "the CA lock is separate from machine locks");
    close(ca);
}

int
main(void)
{
    const char *tmp = tap_tmpdir();
    _cleanup_free_ char *root = mc_path_join(tmp, "store");
    test_open(root);
    test_names();
    test_parse();
    struct store *s = NULL;
    if (store_open(root, &s, NULL) < 0)
        tap_bail("cannot open the store");
    test_record_roundtrip(s);
    test_broken_records(s);
    test_list_and_remove(s);
    test_locks_and_tidy(s);
    store_free(s);
    return tap_done();
}
