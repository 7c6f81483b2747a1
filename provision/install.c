#include <string.h>

#include <jansson.h>

#include "fs.h"
#include "install.h"
#include "json.h"
#include "remote.h"
#include "render.h"
#include "strbuf.h"
#include "strv.h"
#include "templates.h"
#include "util.h"
#include "xalloc.h"

static const char *const owned_keys[] = { "hosts",  "tlscacert", "tlscert",
                                          "tlskey", "tlsverify", "tls" };

static json_t *
opt_value(const char *v)
{
    int64_t n;
    if (streq(v, "true") || streq(v, "false"))
        return json_boolean(streq(v, "true"));
    if (mc_parse_int64(v, &n) == 0)
        return json_integer(n);
    return json_string(v);
}

static int
apply_opts(json_t *cfg, char *const *opts, struct mc_error **err)
{
    for (size_t i = 0; opts && opts[i]; i++) {
        const char *eq = strchr(opts[i], '=');
        if (!eq || eq == opts[i])
            return mc_error_set(err, MC_ERR_USAGE,
                                "--engine-opt '%s' is not KEY=VALUE (a key of machined's "
                                "config.json, such as data-root=/srv/machined)",
                                opts[i]);
        _cleanup_free_ char *key = xstrndup(opts[i], (size_t)(eq - opts[i]));
        for (size_t k = 0; k < ELEMENTSOF(owned_keys); k++)
            if (streq(key, owned_keys[k]))
                return mc_error_set(err, MC_ERR_USAGE,
                                    "--engine-opt '%s': machine sets '%s' itself (use "
                                    "--engine-port and --tls-san)",
                                    opts[i], key);
        json_object_set_new(cfg, key, opt_value(eq + 1));
    }
    return 0;
}

char *
prov_engine_config(const struct prov_engine_cfg *c, struct mc_error **err)
{
    _cleanup_json_ json_t *labels = json_array();
    for (size_t i = 0; c->labels && c->labels[i]; i++) {
        if (!strchr(c->labels[i], '='))
            return mc_error_set(err, MC_ERR_USAGE, "--engine-label '%s' is not KEY=VALUE",
                                c->labels[i]),
                   NULL;
        json_array_append_new(labels, json_string(c->labels[i]));
    }
    _cleanup_free_ char *tcp = xasprintf("tcp://0.0.0.0:%d", c->port);
    _cleanup_json_ json_t *cfg = json_pack(
            "{s:[s,s], s:s, s:s, s:s, s:s, s:O, s:s, s:b}", "hosts", tcp,
            "unix://" PROV_ENGINE_SOCKET, "tlscacert", PROV_ENGINE_CA, "tlscert", PROV_ENGINE_CERT,
            "tlskey", PROV_ENGINE_KEY, "data-root", PROV_ENGINE_DATA_ROOT, "labels", labels,
            "pidfile", PROV_ENGINE_PIDFILE, "live-restore", 0);
    if (apply_opts(cfg, c->opts, err) < 0)
        return NULL;
    char *s = json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    char *r = xasprintf("%s\n", s);
    free(s);
    return r;
}

const char *
prov_engine_data_root(const struct prov_engine_cfg *c)
{
    const char *root = PROV_ENGINE_DATA_ROOT;
    for (size_t i = 0; c->opts && c->opts[i]; i++) {
        const char *v = startswith(c->opts[i], "data-root=");
        if (v && *v)
            root = v;
    }
    return root;
}

static bool
is_shell_name(const char *s, size_t n)
{
    if (n == 0 || !(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

char *
prov_engine_env_file(char *const *env, struct mc_error **err)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "# Written by machine (--engine-env); read by the engine's service.\n");
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || !is_shell_name(env[i], (size_t)(eq - env[i])))
            return mc_error_set(err, MC_ERR_USAGE,
                                "--engine-env '%s' is not NAME=VALUE with a shell variable name",
                                env[i]),
                   NULL;
        if (strpbrk(eq + 1, "'\n\r\\"))
            return mc_error_set(err, MC_ERR_USAGE,
                                "--engine-env '%s': the value may not contain a quote, a "
                                "backslash or a newline",
                                env[i]),
                   NULL;
        mc_buf_printf(&b, "%.*s='%s'\n", (int)(eq - env[i]), env[i], eq + 1);
    }
    return mc_buf_steal(&b);
}

/* The installer's helper: "text FILE N" copies the next N lines of stdin to FILE with the
 * shell's own read (byte by byte from a pipe, so no more than those lines is consumed). */
static const char text_function[] =
        "text() {\n"
        "    i=0\n"
        "    while [ $i -lt $2 ]; do\n"
        "        IFS= read -r l || { echo \"the input for $1 ended early\" >&2; exit 1; }\n"
        "        printf '%s\\n' \"$l\"\n"
        "        i=$((i + 1))\n"
        "    done >\"$1\"\n"
        "}\n";

/* Lines of a text the shell's read and printf copy byte for byte (ends with a newline, no
 * NUL), or -1. */
static ssize_t
text_lines(const char *data, size_t len)
{
    if (len == 0 || data[len - 1] != '\n' || memchr(data, '\0', len))
        return -1;
    ssize_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += data[i] == '\n';
    return n;
}

static char *
temp_path(const char *path)
{
    _cleanup_free_ char *dir = mc_dirname(path);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    return xasprintf("%s/.%s.machine-new", dir, base);
}

/* Writes one file's bytes from stdin to its temporary name, created with its mode. */
static void
put_file(struct mc_buf *b, const struct prov_file *f)
{
    unsigned mode = f->mode & 0777;
    _cleanup_free_ char *tmp = temp_path(f->path);
    _cleanup_free_ char *qt = prov_shell_quote(tmp);
    /* Created with its mode through the umask; a mode with execute bits is set afterwards. */
    mc_buf_printf(b, "umask %03o\nn=\"$n \"%s\n", (mode & 0111) ? 077U : (~mode & 0777), qt);
    ssize_t lines = text_lines(f->data, f->len);
    if (lines >= 0)
        mc_buf_printf(b, "text %s %zd\n", qt, lines);
    else /* dd with one-byte blocks reads exactly len bytes from a pipe, busybox's too */
        mc_buf_printf(b, "dd bs=1 count=%zu of=%s 2>/dev/null\n", f->len, qt);
}

static void
move_file(struct mc_buf *b, const struct prov_file *f)
{
    _cleanup_free_ char *tmp = temp_path(f->path);
    _cleanup_free_ char *qt = prov_shell_quote(tmp);
    _cleanup_free_ char *qp = prov_shell_quote(f->path);
    if (f->mode & 0111)
        mc_buf_printf(b, "chmod %04o %s\n", f->mode & 07777, qt);
    /* kept: unit_was says what became of it (new, same or replaced) */
    if (f->keep_same)
        mc_buf_printf(b,
                      "if [ -f %s ] && command -v cmp >/dev/null 2>&1 && cmp -s %s %s; then\n"
                      "    rm -f %s\n"
                      "    unit_was=same\n"
                      "else\n"
                      "    unit_was=new\n"
                      "    [ ! -e %s ] || unit_was=replaced\n"
                      "    mv -f %s %s\n"
                      "fi\n",
                      qp, qt, qp, qt, qp, qt, qp);
    else
        mc_buf_printf(b, "mv -f %s %s\n", qt, qp);
}

char *
prov_script_install_files(const struct prov_file *files, size_t n)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    _cleanup_strv_ char **dirs = strv_new();
    mc_buf_puts(&b, "set -e\n"
                    "n= unit_was=\n"
                    "trap '[ -z \"$n\" ] || rm -f $n' EXIT\n");
    mc_buf_puts(&b, text_function);
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *dir = mc_dirname(files[i].path);
        if (strv_contains(dirs, dir))
            continue;
        _cleanup_free_ char *q = prov_shell_quote(dir);
        mc_buf_printf(&b, "[ -d %s ] || mkdir -p %s\n", q, q);
        strv_add(&dirs, dir);
    }
    for (size_t i = 0; i < n; i++)
        put_file(&b, &files[i]);
    /* The end mark: input that ended early, or went on, is refused before anything moves. */
    mc_buf_puts(&b, "l=\n"
                    "IFS= read -r l || :\n"
                    "if [ \"$l\" != " PROV_INSTALL_END " ]; then\n"
                    "    echo 'the files sent do not have the announced sizes' >&2\n"
                    "    exit 1\n"
                    "fi\n");
    for (size_t i = 0; i < n; i++)
        move_file(&b, &files[i]);
    mc_buf_puts(&b, "n=\numask 022\n");
    return mc_buf_steal(&b);
}

char *
prov_script_install_binary(const char *sum_hex, bool gzipped)
{
    /* A fixed temporary name: /usr/local/bin is root's, and every process counts on a slow
     * guest. */
    return xasprintf("set -e\n"
                     "[ -d /usr/local/bin ] || mkdir -p /usr/local/bin\n"
                     "t=/usr/local/bin/.machined.machine-new\n"
                     "trap 'rm -f \"$t\"' EXIT\n"
                     "umask 077\n"
                     /* the sum is taken as the file is written (2 CPUs: together); a tee that
                      * fails changes it */
                     "sum=$( (%stee \"$t\" || echo tee-failed) | sha256sum)\n"
                     "sum=${sum%%%% *}\n"
                     "if [ \"$sum\" != %s ]; then\n"
                     "    echo \"the upload arrived damaged: its sha256 on the host is $sum, "
                     "machine sent %s\" >&2\n"
                     "    exit 65\n"
                     "fi\n"
                     "chmod 0755 \"$t\"\n"
                     "mv -f \"$t\" " PROV_ENGINE_BIN "\n"
                     "trap - EXIT\n",
                     gzipped ? "gzip -dc | " : "", sum_hex, sum_hex);
}

char *
prov_script_hostname(const char *name)
{
    /* name is an RFC 1123 label: safe unquoted. A 127.0.1.1 line that lists the name among
     * others (cloud-init writes "127.0.1.1 FQDN NAME") is kept. */
    return xasprintf(
            "set -e\n"
            "h=%s\n"
            "x=\n"
            "[ ! -r /proc/sys/kernel/hostname ] || read -r x </proc/sys/kernel/hostname || :\n"
            "[ \"$x\" = \"$h\" ] || hostname \"$h\"\n"
            "x=\n"
            "[ ! -r /etc/hostname ] || read -r x </etc/hostname || :\n"
            "[ \"$x\" = \"$h\" ] || echo \"$h\" >/etc/hostname\n"
            "line= listed=\n"
            "if [ -r /etc/hosts ]; then\n"
            "    while read -r a b; do\n"
            "        [ \"$a\" = 127.0.1.1 ] || continue\n"
            "        line=1\n"
            "        for n in $b; do [ \"$n\" != \"$h\" ] || listed=1; done\n"
            "    done </etc/hosts\n"
            "fi\n"
            "if [ -z \"$line\" ]; then\n"
            "    echo \"127.0.1.1 $h\" >>/etc/hosts\n"
            "elif [ -z \"$listed\" ]; then\n"
            "    sed -i \"s/^127\\.0\\.1\\.1[[:space:]].*/127.0.1.1 $h/\" /etc/hosts\n"
            "fi\n",
            name);
}

/* Per init system: where the service goes, its template, and its commands. */
struct init_desc {
    const char *path;
    const char *template_name;
    const char *mode;
    const char *enable;  /* after the file is written */
    const char *disable; /* before it is removed */
    const char *actions[PROV_SERVICE__MAX];
};

static const struct init_desc inits[PROV_INIT__MAX] = {
    [PROV_INIT_SYSTEMD] = {
        .path = "/etc/systemd/system/machined.service",
        .template_name = "machined.service",
        .mode = "0644",
        /* A daemon-reload reruns every generator: seconds on a slow guest, so only when
         * systemd's copy of the unit is stale (a first start loads the new file by itself). The
         * link is what `systemctl enable` makes for the unit's WantedBy=multi-user.target, made
         * without starting systemctl (a big program to start on a slow guest). */
        .enable = "w=/etc/systemd/system/multi-user.target.wants\n"
                  "[ -d $w ] || mkdir -p $w\n"
                  "[ -L $w/machined.service ] || ln -sf /etc/systemd/system/machined.service "
                  "$w/machined.service\n"
                  /* A new unit that never ran in this boot is read by its first start (systemd
                   * 246 and later look for unit files that appeared since the last reload):
                   * no systemctl before the start. A replaced one needs the reload; one kept
                   * as it was, only when systemd's copy is stale. */
                  "if [ \"$unit_was\" = replaced ]; then\n"
                  "    systemctl daemon-reload\n"
                  "elif [ \"$unit_was\" != new ] || "
                  "[ -e /run/systemd/units/invocation:machined.service ]; then\n"
                  "    [ \"$(systemctl show -p NeedDaemonReload machined 2>/dev/null)\" = "
                  "NeedDaemonReload=no ] ||\n"
                  "        systemctl daemon-reload\n"
                  "fi\n",
        .disable = "systemctl disable --quiet --no-reload machined 2>/dev/null || true\n",
        .actions = { "systemctl start machined", "systemctl stop machined",
                     "systemctl restart machined", "systemctl is-active --quiet machined" },
    },
    [PROV_INIT_OPENRC] = {
        .path = "/etc/init.d/machined",
        .template_name = "machined.openrc",
        .mode = "0755",
        .enable = "rc-update add machined default >/dev/null\n",
        .disable = "rc-update del machined default >/dev/null 2>&1 || true\n",
        .actions = { "rc-service machined start", "rc-service machined stop",
                     "rc-service machined restart", "rc-service machined status >/dev/null" },
    },
    [PROV_INIT_SYSVINIT] = {
        .path = "/etc/init.d/machined",
        .template_name = "machined.sysvinit",
        .mode = "0755",
        .enable = "if command -v update-rc.d >/dev/null 2>&1; then update-rc.d machined "
                  "defaults >/dev/null; elif command -v chkconfig >/dev/null 2>&1; then "
                  "chkconfig --add machined; fi\n",
        .disable = "if command -v update-rc.d >/dev/null 2>&1; then update-rc.d -f machined "
                   "remove >/dev/null; elif command -v chkconfig >/dev/null 2>&1; then "
                   "chkconfig --del machined; fi\n",
        .actions = { "/etc/init.d/machined start", "/etc/init.d/machined stop",
                     "/etc/init.d/machined restart", "/etc/init.d/machined status" },
    },
    [PROV_INIT_NONE] = {
        .path = "/etc/init.d/machined",
        .template_name = "machined.sysvinit",
        .mode = "0755",
        .enable = "",
        .disable = "",
        .actions = { "/etc/init.d/machined start", "/etc/init.d/machined stop",
                     "/etc/init.d/machined restart", "/etc/init.d/machined status" },
    },
};

static const char *const action_names[] = { "start", "stop", "restart", "status" };

const char *
prov_service_action_name(enum prov_service_action a)
{
    return action_names[a];
}

const char *
prov_service_path(enum prov_init init)
{
    return inits[init].path;
}

char *
prov_service_text(enum prov_init init, struct mc_error **err)
{
    const char *t = template_get(inits[init].template_name);
    if (!t)
        return mc_error_set(err, MC_ERR_FAILED, "The template '%s' is missing from this build",
                            inits[init].template_name),
               NULL;
    static const char *const no_vars[] = { NULL };
    return mc_render(t, no_vars, err);
}

char *
prov_script_service_enable_restart(enum prov_init init)
{
    return xasprintf("set -e\n%s%s\n", inits[init].enable,
                     inits[init].actions[PROV_SERVICE_RESTART]);
}

char *
prov_script_service(enum prov_init init, enum prov_service_action a)
{
    return xasprintf("%s\n", inits[init].actions[a]);
}

char *
prov_script_firewall(int port)
{
    return xasprintf(
            "if command -v ufw >/dev/null 2>&1 && ufw status 2>/dev/null | grep -q 'Status: "
            "active'; then\n"
            "    ufw allow %d/tcp >/dev/null\n"
            "    echo ufw\n"
            "elif command -v firewall-cmd >/dev/null 2>&1 && firewall-cmd --state >/dev/null "
            "2>&1; then\n"
            "    firewall-cmd --quiet --permanent --add-port=%d/tcp\n"
            "    firewall-cmd --quiet --reload\n"
            "    echo firewalld\n"
            "else\n"
            "    echo none\n"
            "fi\n",
            port, port);
}

char *
prov_script_uninstall(enum prov_init init, const char *data_root, bool purge)
{
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    const struct init_desc *d = &inits[init];
    /* Stop through the service if it is there, then make sure no engine is left running. */
    mc_buf_printf(&b,
                  "if [ -e %s ]; then %s >/dev/null 2>&1 || true; fi\n"
                  "%s",
                  d->path, d->actions[PROV_SERVICE_STOP], d->disable);
    mc_buf_puts(&b, "for p in $(cat " PROV_ENGINE_PIDFILE " 2>/dev/null); do\n"
                    "    case \"$(readlink /proc/$p/exe 2>/dev/null)\" in\n"
                    "    " PROV_ENGINE_BIN "*) kill $p; i=0; while kill -0 $p 2>/dev/null && "
                    "[ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done; kill -9 $p 2>/dev/null "
                    "|| true ;;\n"
                    "    esac\n"
                    "done\n");
    mc_buf_printf(
            &b,
            "for f in %s " PROV_ENGINE_BIN " " PROV_ENGINE_ETC " " PROV_ENGINE_LOG
            " " PROV_ENGINE_PIDFILE " " PROV_ENGINE_SOCKET "; do\n"
            "    if [ -e \"$f\" ] || [ -L \"$f\" ]; then rm -rf \"$f\" && echo \"removed $f\"; fi\n"
            "done\n",
            d->path);
    if (purge) {
        /* Mounts the engine left under its data root go first, so rm stays on this disk. */
        _cleanup_free_ char *q = prov_shell_quote(data_root);
        _cleanup_free_ char *prefix = xasprintf("%s/", data_root);
        _cleanup_free_ char *qp = prov_shell_quote(prefix);
        mc_buf_printf(&b,
                      "awk -v r=%s 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r |\n"
                      "    while read -r m; do umount -l \"$m\" 2>/dev/null || true; done\n"
                      "if [ -e %s ]; then rm -rf %s && echo \"removed \"%s; fi\n",
                      qp, q, q, q);
    }
    if (init == PROV_INIT_SYSTEMD)
        mc_buf_puts(&b, "systemctl daemon-reload\n");
    return mc_buf_steal(&b);
}
