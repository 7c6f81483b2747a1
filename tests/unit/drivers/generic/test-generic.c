/* The generic driver: its checks before anything is made, what create records, and the SSH
 * target it hands the provisioner. */
#include <string.h>
#include <sys/stat.h>

#include "driver.h"
#include "fs.h"
#include "json.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static int
saved(struct driver_ctx *ctx, struct mc_error **err)
{
    (*(int *)ctx->userdata)++;
    return 0;
}

static struct driver_ctx
make_ctx(json_t *options, json_t *state, int *saves)
{
    return (struct driver_ctx){ .name = "h1",
                                .dir = tap_tmpdir(),
                                .options = options,
                                .state = state,
                                .save = saved,
                                .userdata = saves };
}

static void
precreate_refuses(const char *json, const char *needle, const char *name)
{
    struct mc_error *err = NULL;
    _cleanup_json_ json_t *o = mc_json_parse(json, strlen(json), "options", &err);
    _cleanup_json_ json_t *state = json_object();
    int saves = 0;
    struct driver_ctx ctx = make_ctx(o, state, &saves);
    const struct machine_driver *d = driver_find("generic");
    ok(driver_precreate_check(d, &ctx, &err) < 0 && err && err->code == MC_ERR_PRECREATE &&
               strstr(err->message, needle),
       "%s: %s", name, err ? err->message : "(accepted)");
    mc_error_free(err);
}

int
main(void)
{
    const struct machine_driver *d = driver_find("generic");
    ok(d && d->available && d->provisions, "generic is available and provisions");
    ok(!driver_has_start(d) && !driver_has_stop(d) && !driver_has_remove(d),
       "start, stop and remove are the provisioner's");

    precreate_refuses("{}", "--generic-ip-address", "no address");
    precreate_refuses("{\"ip-address\":\"10.0.0.2\",\"ssh-port\":70000,\"ssh-key\":\"/x\"}",
                      "not a TCP port", "bad port");
    precreate_refuses("{\"ip-address\":\"10.0.0.2\",\"ssh-key\":\"/nonexistent/key\"}",
                      "No such file", "missing key");
    _cleanup_free_ char *rsa = mc_path_join(tap_tmpdir(), "id_rsa");
    struct mc_error *e = NULL;
    const char *rsatext = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
    mc_write_file_atomic(rsa, rsatext, strlen(rsatext), 0600, &e);
    _cleanup_free_ char *rsaopts =
            xasprintf("{\"ip-address\":\"10.0.0.2\",\"ssh-key\":\"%s\"}", rsa);
    precreate_refuses(rsaopts, "OpenSSH 8.8", "an RSA key, before anything is made");

    _cleanup_free_ char *src = mc_path_join(tap_tmpdir(), "user-key");
    struct mc_error *err = NULL;
    /* An OpenSSH ed25519 key file (only its public part is read by the check). */
    const char *keytext =
            "-----BEGIN OPENSSH PRIVATE KEY-----\n"
            "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAADwAAAAtzc2gtZWQyNTUxOQ==\n"
            "-----END OPENSSH PRIVATE KEY-----\n";
    ok(mc_write_file_atomic(src, keytext, strlen(keytext), 0600, &err) == 0, "user key written");
    _cleanup_json_ json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "ip-address", "10.0.0.2",
                                         "ssh-user", "alice", "ssh-key", src, "ssh-port", 2222);
    _cleanup_json_ json_t *state = json_object();
    int saves = 0;
    struct driver_ctx ctx = make_ctx(o, state, &saves);
    ok(driver_precreate_check(d, &ctx, &err) == 0, "a complete set of options passes");
    ok(driver_create(d, &ctx, &err) == 0 && saves == 1, "create records and saves");
    is_str(mc_json_str(state, "ip"), "10.0.0.2", "address recorded");
    is_int(mc_json_int(state, "port", 0), 2222, "port recorded");
    _cleanup_free_ char *copy = mc_path_join(tap_tmpdir(), "id_key");
    _cleanup_free_ char *got = NULL;
    ok(mc_read_file(copy, 4096, &got, NULL, &err) == 0 && streq(got, keytext),
       "the key is copied into the driver's folder");
    struct stat st;
    ok(stat(copy, &st) == 0 && (st.st_mode & 0777) == 0600, "the copy is 0600");

    struct driver_ssh_target t = { 0 };
    ok(driver_get_ssh_target(d, &ctx, &t, &err) == 0 && streq(t.host, "10.0.0.2") &&
               t.port == 2222 && streq(t.user, "alice") && streq(t.identity, copy),
       "SSH target: address, port, user and the copied key");
    driver_ssh_target_clear(&t);
    _cleanup_free_ char *ip = driver_get_ip(d, &ctx, &err);
    is_str(ip, "10.0.0.2", "get_ip");

    _cleanup_json_ json_t *empty = json_object();
    struct driver_ctx fresh = make_ctx(o, empty, &saves);
    ok(!driver_get_ip(d, &fresh, &err) && strstr(err->message, "no address recorded"),
       "a machine whose create did not finish has no address");
    mc_error_free(err);
    return tap_done();
}
