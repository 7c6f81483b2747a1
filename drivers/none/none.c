/* The none driver: an engine that already runs at a URL. Nothing is created, started or
 * stopped; the TLS files given at create are copied into the machine's certs folder. */
#include <string.h>

#include "driver.h"
#include "fs.h"
#include "json.h"
#include "url.h"
#include "util.h"
#include "xalloc.h"

/* Certificates and keys are small; anything larger is not one. */
#define TLS_FILE_MAX (256 * 1024)

static const struct driver_option none_options[] = {
    { .name = "url",
      .flag = "url",
      .metavar = "URL",
      .help = "the engine's URL: tcp://HOST:PORT or unix:///PATH" },
    { .name = "tls-ca-cert",
      .flag = "tls-ca-cert",
      .metavar = "PATH",
      .help = "the CA certificate that signed the engine's certificate" },
    { .name = "tls-client-cert",
      .flag = "tls-client-cert",
      .metavar = "PATH",
      .help = "the client certificate to present to the engine" },
    { .name = "tls-client-key",
      .flag = "tls-client-key",
      .metavar = "PATH",
      .help = "the client certificate's private key" },
    { 0 },
};

/* The TLS options and the file each becomes in the certs folder. */
static const struct {
    const char *option;
    const char *file;
    mode_t mode;
} tls_files[] = {
    { "tls-ca-cert", "ca.pem", 0644 },
    { "tls-client-cert", "cert.pem", 0644 },
    { "tls-client-key", "key.pem", 0600 },
};

static int
check_url(const char *url, struct mc_error **err)
{
    if (isempty(url))
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "the none driver needs --url (the engine's tcp:// or unix:// URL)");
    struct mc_url u = { 0 };
    if (mc_url_parse(url, 0, &u, err) < 0)
        return mc_error_prefix(err, "--url: ");
    bool ok = (streq(u.scheme, "tcp") && u.port > 0) || streq(u.scheme, "unix");
    mc_url_clear(&u);
    if (!ok)
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "--url '%s' must be tcp://HOST:PORT or unix:///PATH", url);
    return 0;
}

static int
none_precreate_check(struct driver_ctx *ctx, struct mc_error **err)
{
    if (check_url(driver_opt_str(ctx, "url"), err) < 0) {
        /* A malformed URL found before anything is made is a failed pre-create check. */
        if (err && *err)
            (*err)->code = MC_ERR_PRECREATE;
        return -1;
    }
    size_t given = 0;
    for (size_t i = 0; i < ELEMENTSOF(tls_files); i++) {
        const char *path = driver_opt_str(ctx, tls_files[i].option);
        if (isempty(path))
            continue;
        given++;
        if (!mc_path_exists(path))
            return mc_error_set(err, MC_ERR_PRECREATE, "--%s '%s' does not exist",
                                tls_files[i].option, path);
    }
    if (given != 0 && given != ELEMENTSOF(tls_files))
        return mc_error_set(err, MC_ERR_PRECREATE,
                            "TLS needs all three of --tls-ca-cert, --tls-client-cert and "
                            "--tls-client-key");
    return 0;
}

static int
copy_tls_file(const char *from, const char *dir, const char *file, mode_t mode,
              struct mc_error **err)
{
    char *data = NULL;
    size_t len = 0;
    if (mc_read_file(from, TLS_FILE_MAX, &data, &len, err) < 0)
        return -1;
    _cleanup_free_ char *to = mc_path_join(dir, file);
    int r = mc_write_file_atomic(to, data, len, mode, err);
    mc_free_secret(data, len);
    return r;
}

static int
none_create(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *url = driver_opt_str(ctx, "url");
    if (check_url(url, err) < 0)
        return -1;
    bool tls = false;
    for (size_t i = 0; i < ELEMENTSOF(tls_files); i++) {
        const char *path = driver_opt_str(ctx, tls_files[i].option);
        if (isempty(path))
            continue;
        if (!ctx->certs_dir)
            return mc_error_set(err, MC_ERR_FAILED, "no certs folder was given to the driver");
        if (copy_tls_file(path, ctx->certs_dir, tls_files[i].file, tls_files[i].mode, err) < 0)
            return mc_error_prefix(err, "--%s: ", tls_files[i].option);
        tls = true;
    }
    json_object_set_new(ctx->state, "url", json_string(url));
    json_object_set_new(ctx->state, "tls", json_boolean(tls));
    return driver_save(ctx, err);
}

static int
none_remove(struct driver_ctx *ctx, bool force, struct mc_error **err)
{
    return 0; /* nothing was made */
}

static int
none_get_state(struct driver_ctx *ctx, enum driver_state *ret, struct mc_error **err)
{
    /* There is no VM: the engine's own answer (ls's ENGINE column) tells the rest. */
    *ret = DRIVER_STATE_RUNNING;
    return 0;
}

static const char *
state_url(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *url = mc_json_str(ctx->state, "url");
    if (!url)
        url = driver_opt_str(ctx, "url");
    if (isempty(url))
        mc_error_set(err, MC_ERR_INVALID, "machine '%s' has no engine URL", ctx->name);
    return isempty(url) ? NULL : url;
}

static char *
none_get_url(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *url = state_url(ctx, err);
    return url ? xstrdup(url) : NULL;
}

static char *
none_get_ip(struct driver_ctx *ctx, struct mc_error **err)
{
    const char *url = state_url(ctx, err);
    if (!url)
        return NULL;
    struct mc_url u = { 0 };
    if (mc_url_parse(url, 0, &u, err) < 0)
        return NULL;
    char *host = TAKE_PTR(u.host);
    mc_url_clear(&u);
    if (!host)
        mc_error_set(err, MC_ERR_UNSUPPORTED, "machine '%s' is a unix socket; it has no IP",
                     ctx->name);
    return host;
}

const struct machine_driver none_driver = {
    .name = "none",
    .description = "an existing engine at a URL; nothing is created",
    .available = true,
    .provisions = false,
    .options = none_options,
    .precreate_check = none_precreate_check,
    .create = none_create,
    .remove = none_remove,
    .get_state = none_get_state,
    .get_ip = none_get_ip,
    .get_url = none_get_url,
};
