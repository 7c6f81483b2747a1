#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fs.h"
#include "log.h"
#include "steps.h"
#include "strbuf.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

int
prov_step_facts(struct prov_remote *r, const struct prov_plan *p, struct prov_facts *ret,
                char **ret_detail, struct mc_error **err)
{
    _cleanup_free_ char *out = NULL;
    if (prov_remote_check(r, "Reading the host's facts", prov_facts_script(), false, NULL,
                          p->deadline_ms, &out, err) < 0)
        return -1;
    _cleanup_(prov_facts_clear) struct prov_facts f = { 0 };
    if (prov_facts_parse(out, &f, err) < 0)
        return -1;
    if (f.uid != 0 && !f.sudo_ok)
        return mc_error_set(err, MC_ERR_PERMISSION,
                            "The user cannot run commands as root without a password (sudo -n "
                            "said: '%s'). Nothing was changed on the host. Give the user "
                            "passwordless sudo (a line 'USER ALL=(ALL) NOPASSWD: ALL' in "
                            "/etc/sudoers.d/) or provision as root.",
                            f.sudo_said ? f.sudo_said : "nothing");
    unsigned char hdr[64] = { 0 };
    _cleanup_close_ int fd = open(p->engine_binary, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mc_error_sys(err, errno, "Cannot open the engine binary '%s'", p->engine_binary);
    ssize_t n = read(fd, hdr, sizeof(hdr));
    const char *elf = prov_elf_arch(hdr, n > 0 ? (size_t)n : 0);
    if (!elf)
        return mc_error_set(err, MC_ERR_INVALID, "'%s' is not an executable machined for Linux",
                            p->engine_binary);
    if (!prov_arch_compatible(elf, f.arch))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "The host's architecture is %s, but the engine binary '%s' is for "
                            "%s. Nothing was changed on the host. Build machined for %s and pass "
                            "it with --engine-binary.",
                            f.arch, p->engine_binary, elf, f.arch);
    *ret_detail = prov_facts_summary(&f);
    *ret = f;
    f = (struct prov_facts){ 0 };
    return 0;
}

int
prov_step_hostname(struct prov_remote *r, const struct prov_plan *p, char **ret_detail,
                   struct mc_error **err)
{
    _cleanup_free_ char *script = prov_script_hostname(p->name);
    if (prov_remote_check(r, "Setting the host name", script, true, NULL, p->deadline_ms, NULL,
                          err) < 0)
        return -1;
    *ret_detail = xasprintf("'%s'", p->name);
    return 0;
}

struct upload_progress {
    const struct prov_plan *p;
    uint64_t total;
};

static void
upload_progress(void *userdata, uint64_t sent)
{
    struct upload_progress *u = userdata;
    if (u->p->upload_progress)
        u->p->upload_progress(u->p->userdata, sent, u->total);
}

int
prov_step_upload(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                 char **ret_detail, struct mc_error **err)
{
    char sum[MC_SHA256_HEX_LEN + 1];
    if (mc_sha256_file_hex(p->engine_binary, sum, err) < 0)
        return -1;
    struct stat st;
    if (stat(p->engine_binary, &st) < 0)
        return mc_error_sys(err, errno, "Cannot stat '%s'", p->engine_binary);
    if (!p->force_upload && f->engine_sum && streq(f->engine_sum, sum)) {
        *ret_detail = xasprintf("the host has this machined already (sha256 %.12s)", sum);
        return 0;
    }
    _cleanup_free_ char *script = prov_script_install_binary(sum);
    struct upload_progress u = { p, (uint64_t)st.st_size };
    struct prov_input in = { .path = p->engine_binary,
                             .progress = upload_progress,
                             .userdata = &u };
    if (prov_remote_check(r, "Uploading machined", script, true, &in, p->deadline_ms, NULL, err) <
        0)
        return -1;
    char size[32];
    *ret_detail = xasprintf("%s to " PROV_ENGINE_BIN ", sha256 %.12s verified on the host",
                            mc_format_size((uint64_t)st.st_size, size, sizeof(size)), sum);
    return 0;
}

static int
install_text(struct prov_remote *r, const char *what, const char *path, const char *mode,
             const char *text, int64_t deadline, struct mc_error **err)
{
    _cleanup_free_ char *script = prov_script_install_file(path, mode);
    struct prov_input in = { .data = text, .len = strlen(text) };
    return prov_remote_check(r, what, script, true, &in, deadline, NULL, err);
}

static int
install_local(struct prov_remote *r, const char *what, const char *local, const char *path,
              const char *mode, int64_t deadline, struct mc_error **err)
{
    _cleanup_free_ char *script = prov_script_install_file(path, mode);
    struct prov_input in = { .path = local };
    return prov_remote_check(r, what, script, true, &in, deadline, NULL, err);
}

int
prov_step_certs(struct prov_remote *r, const struct prov_plan *p, char **ret_detail,
                struct mc_error **err)
{
    if (install_local(r, "Uploading the CA certificate", p->ca_path, PROV_ENGINE_CA, "0644",
                      p->deadline_ms, err) < 0 ||
        install_local(r, "Uploading the server certificate", p->cert_path, PROV_ENGINE_CERT, "0644",
                      p->deadline_ms, err) < 0 ||
        install_local(r, "Uploading the server key", p->key_path, PROV_ENGINE_KEY, "0600",
                      p->deadline_ms, err) < 0)
        return -1;
    *ret_detail = xstrdup("ca.pem, server.pem, server-key.pem in " PROV_ENGINE_ETC);
    return 0;
}

int
prov_engine_log_attach(struct prov_remote *r, enum prov_init init, struct mc_error **err)
{
    if (!err || !*err)
        return -1;
    /* A time of its own: the step that failed may have used all of its own. */
    _cleanup_free_ char *tail = prov_engine_log_tail(r, init, mc_now_ms() + 5000);
    if (!tail)
        return -1;
    char *m = xasprintf("%s; the engine's log ends with: %s", (*err)->message, tail);
    free((*err)->message);
    (*err)->message = m;
    return -1;
}

int
prov_step_service(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                  char **ret_detail, struct mc_error **err)
{
    _cleanup_free_ char *config = prov_engine_config(&p->engine, err);
    _cleanup_free_ char *env = config ? prov_engine_env_file(p->engine.env, err) : NULL;
    _cleanup_free_ char *unit = env ? prov_service_text(f->init, err) : NULL;
    if (!unit)
        return -1;
    _cleanup_free_ char *enable = prov_script_service_enable_restart(f->init);
    if (install_text(r, "Writing the engine's configuration", PROV_ENGINE_CONFIG, "0644", config,
                     p->deadline_ms, err) < 0 ||
        install_text(r, "Writing the engine's environment", PROV_ENGINE_ENV, "0600", env,
                     p->deadline_ms, err) < 0 ||
        install_text(r, "Writing the engine's service", prov_service_path(f->init),
                     f->init == PROV_INIT_SYSTEMD ? "0644" : "0755", unit, p->deadline_ms, err) < 0)
        return -1;
    if (prov_remote_check(r, "Starting the engine", enable, true, NULL, p->deadline_ms, NULL, err) <
        0)
        return prov_engine_log_attach(r, f->init, err);
    *ret_detail =
            xasprintf("%s service %s, port %d",
                      f->init == PROV_INIT_NONE ? "self-daemonising" : prov_init_name(f->init),
                      prov_service_path(f->init), p->engine.port);
    return 0;
}

int
prov_step_firewall(struct prov_remote *r, const struct prov_plan *p, char **ret_detail,
                   struct mc_error **err)
{
    _cleanup_free_ char *script = prov_script_firewall(p->engine.port);
    _cleanup_free_ char *out = NULL;
    if (prov_remote_check(r, "Opening the engine port in the host firewall", script, true, NULL,
                          p->deadline_ms, &out, err) < 0)
        return -1;
    out[strcspn(out, "\n")] = '\0';
    if (streq(out, "none"))
        *ret_detail = xstrdup("no active host firewall (ufw, firewalld)");
    else
        *ret_detail = xasprintf("opened %d/tcp in %s", p->engine.port, out);
    return 0;
}

int
prov_engine_action(struct prov_remote *r, enum prov_init init, enum prov_service_action a,
                   int64_t deadline_ms, struct mc_error **err)
{
    _cleanup_free_ char *script = prov_script_service(init, a);
    _cleanup_free_ char *what = xasprintf("Engine %s", prov_service_action_name(a));
    if (a == PROV_SERVICE_STATUS) {
        _cleanup_(prov_ssh_result_clear) struct prov_ssh_result res = { .status = -1 };
        if (prov_remote_run(r, script, true, NULL, deadline_ms, &res, err) < 0)
            return -1;
        return res.status == 0 ? 1 : 0;
    }
    return prov_remote_check(r, what, script, true, NULL, deadline_ms, NULL, err);
}

int
prov_engine_uninstall(struct prov_remote *r, enum prov_init init, const char *data_root, bool purge,
                      int64_t deadline_ms, char **ret_removed, struct mc_error **err)
{
    if (purge && (isempty(data_root) || data_root[0] != '/' || streq(data_root, "/")))
        return mc_error_set(err, MC_ERR_INVALID, "Refusing to purge the data root '%s'",
                            data_root ? data_root : "");
    _cleanup_free_ char *script = prov_script_uninstall(init, data_root, purge);
    return prov_remote_check(r, "Removing the engine", script, true, NULL, deadline_ms, ret_removed,
                             err);
}

char *
prov_engine_log_tail(struct prov_remote *r, enum prov_init init, int64_t deadline_ms)
{
    const char *script = init == PROV_INIT_SYSTEMD
                                 ? "journalctl -u machined -n 5 --no-pager -o cat 2>/dev/null"
                                 : "tail -n 5 " PROV_ENGINE_LOG " 2>/dev/null";
    _cleanup_(prov_ssh_result_clear) struct prov_ssh_result res = { .status = -1 };
    if (prov_remote_run(r, script, true, NULL, deadline_ms, &res, NULL) < 0 || isempty(res.out))
        return NULL;
    for (char *s = res.out; *s; s++)
        if (*s == '\n')
            *s = ' ';
    return TAKE_PTR(res.out);
}
