#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fs.h"
#include "gzip.h"
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
prov_step_hostname(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                   char **ret_detail, struct mc_error **err)
{
    if (prov_hostname_is_set(f, p->name)) {
        *ret_detail = xasprintf("'%s' (set already)", p->name);
        return 0;
    }
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

/* The gzipped binary is kept in the store's cache, by the binary's sha256, so that only the
 * first upload of a binary pays for compressing it. */
static char *
gz_cache_path(const struct prov_plan *p, const char *sum)
{
    if (!p->cache_dir)
        return NULL;
    _cleanup_free_ char *dir = mc_path_join(p->cache_dir, "engine");
    _cleanup_free_ char *name = xasprintf("machined-%s.gz", sum);
    return mc_path_join(dir, name);
}

/* Keeps one gzipped binary, this one (a cache: failures only cost a compression later). */
static void
gz_cache_store(const char *path, const struct mc_buf *gz)
{
    struct mc_error *e = NULL;
    _cleanup_free_ char *dir = mc_dirname(path);
    if (mc_mkdir_p(dir, 0700, &e) < 0 || mc_rm_rf(dir, &e) < 0 || mc_mkdir_p(dir, 0700, &e) < 0 ||
        mc_write_file_atomic(path, gz->data, gz->len, 0600, &e) < 0)
        log_debug("not caching the gzipped machined in '%s': %s", path, e->message);
    mc_error_free(e);
}

/* The binary as it travels: gzipped at level 6 (0.44 of the bytes; level 1 left 0.48, level 9
 * saves 0.5% more for three times the time) when the host can unpack it, else as it is. *ret_cached: the cache file it came from, if any. */
static int
upload_payload(const struct prov_plan *p, const struct prov_facts *f, const char *bin, size_t len,
               const char *sum, struct mc_buf *ret, char **ret_cached, struct mc_error **err)
{
    if (!f->has_gzip) {
        mc_buf_append(ret, bin, len);
        return 0;
    }
    _cleanup_free_ char *cached = gz_cache_path(p, sum);
    char *data = NULL;
    size_t n = 0;
    if (cached && mc_read_file(cached, PROV_ENGINE_MAX, &data, &n, NULL) == 0) {
        *ret = (struct mc_buf){ .data = data, .len = n, .cap = n + 1 };
        *ret_cached = TAKE_PTR(cached);
        return 0;
    }
    if (prov_gzip(bin, len, 6, ret, err) < 0)
        return mc_error_prefix(err, "Compressing '%s': ", p->engine_binary);
    if (cached)
        gz_cache_store(cached, ret);
    return 0;
}

int
prov_step_upload(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                 char **ret_detail, struct mc_error **err)
{
    _cleanup_free_ char *bin = NULL;
    size_t len = 0;
    if (mc_read_file(p->engine_binary, PROV_ENGINE_MAX, &bin, &len, err) < 0)
        return -1;
    char sum[MC_SHA256_HEX_LEN + 1];
    mc_sha256_hex(bin, len, sum);
    if (!p->force_upload && f->engine_sum && streq(f->engine_sum, sum)) {
        *ret_detail = xasprintf("the host has this machined already (sha256 %.12s)", sum);
        return 0;
    }
    _cleanup_buf_ struct mc_buf payload = MC_BUF_INIT;
    _cleanup_free_ char *cached = NULL;
    if (upload_payload(p, f, bin, len, sum, &payload, &cached, err) < 0)
        return -1;
    _cleanup_free_ char *script = prov_script_install_binary(sum, f->has_gzip);
    struct upload_progress u = { p, (uint64_t)payload.len };
    struct prov_input in = {
        .data = payload.data, .len = payload.len, .progress = upload_progress, .userdata = &u
    };
    if (prov_remote_check(r, "Uploading machined", script, true, &in, p->deadline_ms, NULL, err) <
        0) {
        if (cached) /* should it be damaged, the next upload compresses the binary again */
            unlink(cached);
        return -1;
    }
    char size[32], sent[32];
    mc_format_size((uint64_t)len, size, sizeof(size));
    if (f->has_gzip)
        *ret_detail = xasprintf(
                "%s (%s gzipped) to " PROV_ENGINE_BIN ", sha256 %.12s verified on the host", size,
                mc_format_size((uint64_t)payload.len, sent, sizeof(sent)), sum);
    else
        *ret_detail = xasprintf("%s to " PROV_ENGINE_BIN ", sha256 %.12s verified on the host",
                                size, sum);
    return 0;
}

/* The files' bytes one after the other: the stdin of prov_script_install_files. It may
 * hold a private key: the caller wipes it (wipe_input). */
static void
join_files(const struct prov_file *files, size_t n, struct mc_buf *ret)
{
    for (size_t i = 0; i < n; i++)
        mc_buf_append(ret, files[i].data, files[i].len);
    mc_buf_puts(ret, PROV_INSTALL_END "\n");
}

static void
wipe_input(struct mc_buf *b)
{
    mc_free_secret(b->data, b->cap);
    *b = (struct mc_buf)MC_BUF_INIT;
}

/* Installs the files with one command (each command costs a login shell and a sudo), then
 * runs then_script, if any, in the same command. */
static int
install_files(struct prov_remote *r, const char *what, const struct prov_file *files, size_t n,
              const char *then_script, int64_t deadline, struct mc_error **err)
{
    _cleanup_free_ char *put = prov_script_install_files(files, n);
    _cleanup_free_ char *script = xasprintf("%s%s", put, then_script ? then_script : "");
    _cleanup_(wipe_input) struct mc_buf in_buf = MC_BUF_INIT;
    join_files(files, n, &in_buf);
    struct prov_input in = { .data = in_buf.data ? in_buf.data : "", .len = in_buf.len };
    return prov_remote_check(r, what, script, true, &in, deadline, NULL, err);
}

/* Reads a local file for prov_file (certificates and keys: small). */
static int
read_local(const char *path, char **ret_data, size_t *ret_len, struct mc_error **err)
{
    return mc_read_file(path, 1024 * 1024, ret_data, ret_len, err);
}

/* The CA, the server certificate and its key, read for prov_file (small). The key is wiped
 * by certs_clear. */
struct certs {
    char *ca, *cert, *key;
    size_t ca_len, cert_len, key_len;
};

static void
certs_clear(struct certs *c)
{
    free(c->ca);
    free(c->cert);
    if (c->key)
        mc_free_secret(c->key, c->key_len);
    *c = (struct certs){ 0 };
}

static int
certs_read(const struct prov_plan *p, struct certs *c, struct mc_error **err)
{
    if (!p->ca_path || !p->cert_path || !p->key_path)
        return mc_error_set(err, MC_ERR_FAILED, "No certificates to install (internal error)");
    if (read_local(p->ca_path, &c->ca, &c->ca_len, err) < 0 ||
        read_local(p->cert_path, &c->cert, &c->cert_len, err) < 0 ||
        read_local(p->key_path, &c->key, &c->key_len, err) < 0)
        return -1;
    return 0;
}

/* Appends the three files to files (room for three). */
static size_t
certs_files(const struct certs *c, struct prov_file *files)
{
    files[0] = (struct prov_file){ PROV_ENGINE_CA, 0644, c->ca, c->ca_len };
    files[1] = (struct prov_file){ PROV_ENGINE_CERT, 0644, c->cert, c->cert_len };
    files[2] = (struct prov_file){ PROV_ENGINE_KEY, 0600, c->key, c->key_len };
    return 3;
}

int
prov_step_certs(struct prov_remote *r, const struct prov_plan *p, char **ret_detail,
                struct mc_error **err)
{
    _cleanup_(certs_clear) struct certs c = { 0 };
    if (certs_read(p, &c, err) < 0)
        return -1;
    if (p->certs_with_service) {
        *ret_detail = xstrdup("ca.pem, server.pem, server-key.pem go to " PROV_ENGINE_ETC
                              " with the engine service");
        return 0;
    }
    struct prov_file files[3];
    size_t n = certs_files(&c, files);
    if (install_files(r, "Uploading the certificates and the server key", files, n, NULL,
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
    _cleanup_(certs_clear) struct certs c = { 0 };
    struct prov_file files[6];
    size_t n = 0;
    if (p->certs_with_service) {
        if (certs_read(p, &c, err) < 0)
            return -1;
        n = certs_files(&c, files);
    }
    files[n++] = (struct prov_file){ PROV_ENGINE_CONFIG, 0644, config, strlen(config) };
    files[n++] = (struct prov_file){ PROV_ENGINE_ENV, 0600, env, strlen(env) };
    /* kept when unchanged: systemd then needs no daemon-reload */
    files[n++] = (struct prov_file){ prov_service_path(f->init),
                                     f->init == PROV_INIT_SYSTEMD ? 0644 : 0755, unit, strlen(unit),
                                     true };
    _cleanup_free_ char *enable = prov_script_service_enable_restart(f->init);
    if (install_files(r, "Installing and starting the engine's service", files, n, enable,
                      p->deadline_ms, err) < 0)
        return prov_engine_log_attach(r, f->init, err);
    *ret_detail =
            xasprintf("%s service %s, port %d%s",
                      f->init == PROV_INIT_NONE ? "self-daemonising" : prov_init_name(f->init),
                      prov_service_path(f->init), p->engine.port,
                      p->certs_with_service ? "; the certificates in " PROV_ENGINE_ETC : "");
    return 0;
}

int
prov_step_firewall(struct prov_remote *r, const struct prov_plan *p, const struct prov_facts *f,
                   char **ret_detail, struct mc_error **err)
{
    if (prov_no_firewall_tool(f)) {
        *ret_detail = xstrdup("no host firewall (neither ufw nor firewalld is installed)");
        return 0;
    }
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
