/* Provisioning steps through a recording remote: the exact scripts each step runs, compared
 * with golden files (MACHINE_TEST_REGENERATE=1 rewrites them), and the refusals that must
 * happen before anything changes on the host. */
#include <elf.h>
#include <string.h>

#include "crypto.h"
#include "fs.h"
#include "install.h"
#include "steps.h"
#include "strbuf.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static const char *tmp;

/* The transcript with the temporary folder replaced, so golden files are stable. */
static char *
stable(const struct mc_buf *t)
{
    struct mc_buf b = MC_BUF_INIT;
    size_t n = strlen(tmp);
    for (const char *p = t->data ? t->data : ""; *p;) {
        if (strncmp(p, tmp, n) == 0) {
            mc_buf_puts(&b, "$TMP");
            p += n;
        } else {
            mc_buf_putc(&b, *p++);
        }
    }
    return mc_buf_steal(&b);
}

static char *
write_tmp(const char *name, const void *data, size_t len)
{
    char *p = mc_path_join(tmp, name);
    struct mc_error *err = NULL;
    if (mc_write_file_atomic(p, data, len, 0600, &err) < 0)
        tap_bail("cannot write '%s': %s", p, err->message);
    return p;
}

static struct prov_plan
make_plan(char **bin, char **ca, char **cert, char **key)
{
    unsigned char elf[128] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, 1 };
    elf[18] = EM_X86_64;
    *bin = write_tmp("machined", elf, sizeof(elf));
    *ca = write_tmp("ca.pem", "CA\n", 3);
    *cert = write_tmp("server.pem", "CERT\n", 5);
    *key = write_tmp("server-key.pem", "KEY\n", 4);
    static char *labels[] = { "env=test", "team=infra", NULL };
    static char *opts[] = { "log-format=json", "live-restore=true", NULL };
    static char *env[] = { "HTTP_PROXY=http://127.0.0.1:3128", NULL };
    return (struct prov_plan){
        .name = "h1",
        .engine_binary = *bin,
        .engine = { .port = 2376, .labels = labels, .opts = opts, .env = env },
        .ca_path = *ca,
        .cert_path = *cert,
        .key_path = *key
    };
}

static int
run_all(struct prov_remote *r, const struct prov_plan *p, struct mc_error **err)
{
    _cleanup_(prov_facts_clear) struct prov_facts f = { 0 };
    _cleanup_free_ char *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL, *d5 = NULL, *d6 = NULL;
    if (prov_step_facts(r, p, &f, &d1, err) < 0 || prov_step_hostname(r, p, &f, &d2, err) < 0 ||
        prov_step_upload(r, p, &f, &d3, err) < 0 || prov_step_certs(r, p, &d4, err) < 0 ||
        prov_step_service(r, p, &f, &d5, err) < 0 || prov_step_firewall(r, p, &f, &d6, err) < 0)
        return -1;
    mc_buf_printf(&r->transcript,
                  "# facts: %s\n# hostname: %s\n# upload: %s\n# certs: %s\n"
                  "# service: %s\n# firewall: %s\n",
                  d1, d2, d3, d4, d5, d6);
    return 0;
}

static const char facts_root_noinit[] = "@@os-release\nID=debian\nVERSION_ID=\"12\"\n"
                                        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                        "@@arch\nx86_64\n@@kernel\n6.1.0\n@@init\nsshd\n"
                                        "@@cgroup\ntmpfs\nunified-dir\n@@overlay\nloaded\n"
                                        "@@uid\n0\n@@sudo\n@@engine-sum\n";

static void
test_root_noinit(void)
{
    _cleanup_free_ char *bin = NULL, *ca = NULL, *cert = NULL, *key = NULL;
    struct prov_plan p = make_plan(&bin, &ca, &cert, &key);
    const struct prov_canned canned[] = {
        { "@@os-release", 0, facts_root_noinit, NULL },
        { "ufw", 0, "none\n", NULL },
        { NULL },
    };
    struct prov_remote r;
    prov_remote_init_recorder(&r, canned);
    struct mc_error *err = NULL;
    ok(run_all(&r, &p, &err) == 0, "all steps succeed on a root host without init: %s",
       err ? err->message : "");
    _cleanup_free_ char *t = stable(&r.transcript);
    is_golden(t, "provision-steps-root-noinit.txt");
    prov_remote_clear(&r);
    mc_error_free(err);
}

static void
test_sudo_systemd_same_binary(void)
{
    _cleanup_free_ char *bin = NULL, *ca = NULL, *cert = NULL, *key = NULL;
    struct prov_plan p = make_plan(&bin, &ca, &cert, &key);
    char sum[65];
    struct mc_error *err = NULL;
    mc_sha256_file_hex(bin, sum, &err);
    _cleanup_free_ char *facts = xasprintf("@@arch\nx86_64\n@@init\nsystemd\nsystemd-booted\n"
                                           "@@cgroup\ncgroup2fs\n@@uid\n1000\n@@sudo\nsudo-ok\n"
                                           "@@engine-sum\n%s  /usr/local/bin/machined\n",
                                           sum);
    const struct prov_canned canned[] = {
        { "@@arch", 0, facts, NULL },
        { "ufw", 0, "ufw\n", NULL },
        { NULL },
    };
    struct prov_remote r;
    prov_remote_init_recorder(&r, canned);
    ok(run_all(&r, &p, &err) == 0, "all steps succeed on a systemd host with sudo");
    _cleanup_free_ char *t = stable(&r.transcript);
    is_golden(t, "provision-steps-systemd-same-binary.txt");
    ok(strstr(t, "# upload: the host has this machined already"), "identical binary not sent");
    ok(strstr(t, "opened 2376/tcp in ufw"), "firewall opened");
    prov_remote_clear(&r);
    mc_error_free(err);
}

/* A fresh cloud guest, provisioned as create does (the certificates with the service's
 * files): cloud-init named it (and its 127.0.1.1 line), gzip is there, no firewall tool: three
 * commands in all, the binary gzipped. */
static void
test_fresh_guest(void)
{
    _cleanup_free_ char *bin = NULL, *ca = NULL, *cert = NULL, *key = NULL;
    struct prov_plan p = make_plan(&bin, &ca, &cert, &key);
    p.certs_with_service = true;
    static const char facts[] = "@@arch\nx86_64\n@@hostname\nh1\n@@etc-hostname\nh1\n"
                                "@@hosts-127.0.1.1\nh1.example h1\n@@init\nsystemd\n"
                                "systemd-booted\n@@cgroup\ncgroup2\n@@uid\n1000\n@@sudo\n"
                                "sudo-ok\n@@tools\ngzip\n@@engine-sum\n";
    const struct prov_canned canned[] = { { "@@arch", 0, facts, NULL }, { NULL } };
    struct prov_remote r;
    prov_remote_init_recorder(&r, canned);
    struct mc_error *err = NULL;
    ok(run_all(&r, &p, &err) == 0, "all steps succeed on a fresh guest");
    _cleanup_free_ char *t = stable(&r.transcript);
    is_golden(t, "provision-steps-fresh-guest.txt");
    int commands = 0;
    for (const char *c = t; (c = strstr(c, "$ ")); c++)
        commands += c == t || c[-1] == '\n';
    is_int(commands, 3, "three commands: facts, upload, the service with the certificates");
    ok(strstr(t, "# certs: ca.pem, server.pem, server-key.pem go to /etc/machined with the engine "
                 "service") &&
               strstr(t, "; the certificates in /etc/machined"),
       "the certificates travel with the service's files");
    const char *svc = strstr(t, "text '/etc/machined/.ca.pem.machine-new'");
    ok(svc && strstr(svc, "text '/etc/machined/.server-key.pem.machine-new'") &&
               strstr(svc, "systemctl restart machined") &&
               strstr(svc, "if [ \"$unit_was\" = replaced ]"),
       "one command installs the certificates and the service, and (re)starts it");
    ok(strstr(t, "# hostname: 'h1' (set already)") && !strstr(t, "hostname \"$h\""),
       "the host name is not set again");
    ok(strstr(t, "# firewall: no host firewall (neither ufw nor firewalld is installed)") &&
               !strstr(t, "ufw status"),
       "no firewall command without a firewall tool");
    ok(strstr(t, "gzip -dc | tee \"$t\"") && strstr(t, "gzipped) to /usr/local/bin/machined"),
       "the binary travels gzipped");
    prov_remote_clear(&r);
    mc_error_free(err);
}

static void
refused_before_changes(const char *facts, const char *needle, const char *name)
{
    _cleanup_free_ char *bin = NULL, *ca = NULL, *cert = NULL, *key = NULL;
    struct prov_plan p = make_plan(&bin, &ca, &cert, &key);
    const struct prov_canned canned[] = { { "@@", 0, facts, NULL }, { NULL } };
    struct prov_remote r;
    prov_remote_init_recorder(&r, canned);
    struct mc_error *err = NULL;
    ok(run_all(&r, &p, &err) < 0 && err && strstr(err->message, needle) &&
               strstr(err->message, "Nothing was changed"),
       "%s refused: %s", name, err ? err->message : "(accepted)");
    /* Only the facts script ran: it is the first and last command of the transcript. */
    const char *second = r.transcript.data ? strstr(r.transcript.data + 1, "\n$ ") : NULL;
    ok(r.transcript.data && !second, "%s: nothing but the facts script ran", name);
    prov_remote_clear(&r);
    mc_error_free(err);
}

static void
test_refusals(void)
{
    refused_before_changes("@@arch\nx86_64\n@@uid\n1000\n@@sudo\nsudo: a password is required\n",
                           "sudo -n said: 'sudo: a password is required'", "no passwordless sudo");
    refused_before_changes("@@arch\naarch64\n@@uid\n0\n", "architecture is aarch64",
                           "another architecture");
}

static void
test_config_and_uninstall(void)
{
    static char *opts[] = { "data-root=/srv/machined", "max-concurrent=3", NULL };
    static char *labels[] = { "a=b", NULL };
    struct prov_engine_cfg c = { .port = 2377, .labels = labels, .opts = opts };
    struct mc_error *err = NULL;
    _cleanup_free_ char *cfg = prov_engine_config(&c, &err);
    is_golden(cfg, "provision-config.json");
    is_str(prov_engine_data_root(&c), "/srv/machined", "data root from --engine-opt");
    static char *bad[] = { "tlscert=/x", NULL };
    c.opts = bad;
    ok(!prov_engine_config(&c, &err) && strstr(err->message, "machine sets 'tlscert' itself"),
       "TLS keys cannot be overridden");
    mc_error_free(err);
    err = NULL;
    static char *badenv[] = { "X=it's", NULL };
    ok(!prov_engine_env_file(badenv, &err) && strstr(err->message, "quote"),
       "a quote in an --engine-env value is refused");
    mc_error_free(err);
    err = NULL;
    static char *badname[] = { "1X=y", NULL };
    ok(!prov_engine_env_file(badname, &err), "a bad variable name is refused");
    mc_error_free(err);
    err = NULL;

    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    for (int i = 0; i < PROV_INIT__MAX; i++) {
        for (int purge = 0; purge < 2; purge++) {
            _cleanup_free_ char *s = prov_script_uninstall(i, "/var/lib/machined", purge);
            mc_buf_printf(&b, "### %s%s\n%s", prov_init_name(i), purge ? " --purge" : "", s);
        }
        for (int a = 0; a < PROV_SERVICE__MAX; a++) {
            _cleanup_free_ char *s = prov_script_service(i, a);
            mc_buf_printf(&b, "### %s %s\n%s", prov_init_name(i), prov_service_action_name(a), s);
        }
    }
    is_golden(b.data, "provision-service-scripts.txt");
    struct prov_remote r;
    prov_remote_init_recorder(&r, NULL);
    ok(prov_engine_uninstall(&r, PROV_INIT_NONE, "/", true, 0, NULL, &err) < 0,
       "purging / is refused");
    prov_remote_clear(&r);
    mc_error_free(err);
}

int
main(void)
{
    tmp = tap_tmpdir();
    test_root_noinit();
    test_sudo_systemd_same_binary();
    test_fresh_guest();
    test_refusals();
    test_config_and_uninstall();
    return tap_done();
}
