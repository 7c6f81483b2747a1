#include <elf.h>
#include <string.h>

#include "facts.h"
#include "strbuf.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

static const char *const init_names[] = {
    [PROV_INIT_NONE] = "none",
    [PROV_INIT_SYSTEMD] = "systemd",
    [PROV_INIT_OPENRC] = "openrc",
    [PROV_INIT_SYSVINIT] = "sysvinit",
};
static const char *const cgroup_names[] = {
    [PROV_CGROUP_UNKNOWN] = "unknown",
    [PROV_CGROUP_V1] = "v1",
    [PROV_CGROUP_HYBRID] = "hybrid",
    [PROV_CGROUP_V2] = "v2",
};
static const char *const overlay_names[] = {
    [PROV_OVERLAY_NO] = "no",
    [PROV_OVERLAY_YES] = "yes",
    [PROV_OVERLAY_MODULE] = "module",
};

const char *
prov_init_name(enum prov_init i)
{
    return init_names[i];
}

const char *
prov_cgroup_name(enum prov_cgroup c)
{
    return cgroup_names[c];
}

const char *
prov_overlay_name(enum prov_overlay o)
{
    return overlay_names[o];
}

/* Each section is independent; nothing here needs root, and nothing changes the host. Shell
 * builtins where they do: on a slow guest (TCG) each process costs tens of milliseconds, and
 * only cat, uname, id, sudo and sha256sum run. */
static const char facts_script[] =
        "echo @@os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release "
        "2>/dev/null\n"
        "u=$(uname -r -m)\n"
        "echo @@arch; echo \"${u##* }\"\n"
        "echo @@kernel; echo \"${u% *}\"\n"
        "echo @@hostname; if [ -r /proc/sys/kernel/hostname ]; then read -r x "
        "</proc/sys/kernel/hostname; echo \"$x\"; else hostname 2>/dev/null; fi\n"
        "echo @@etc-hostname; x=; [ -r /etc/hostname ] && read -r x </etc/hostname; echo \"$x\"\n"
        "echo @@hosts-127.0.1.1\n"
        "if [ -r /etc/hosts ]; then\n"
        "    while read -r a b; do [ \"$a\" = 127.0.1.1 ] && echo \"$b\"; done </etc/hosts\n"
        "fi\n"
        "echo @@init; x=; [ -r /proc/1/comm ] && read -r x </proc/1/comm; echo \"$x\"\n"
        "[ -d /run/systemd/system ] && echo systemd-booted\n"
        "[ -d /run/openrc ] && command -v openrc-run >/dev/null 2>&1 && echo openrc-running\n"
        "[ -f /etc/inittab ] && echo inittab\n"
        "echo @@cgroup; t=\n"
        "while read -r a b c d; do [ \"$b\" = /sys/fs/cgroup ] && t=$c; done </proc/self/mounts\n"
        "echo \"$t\"\n"
        "[ -d /sys/fs/cgroup/unified ] && echo unified-dir\n"
        "echo @@overlay\n"
        "while read -r a b; do [ \"$a\" = overlay ] || [ \"$b\" = overlay ] && echo loaded; done "
        "</proc/filesystems\n"
        "[ -e /sys/module/overlay ] && echo loaded\n"
        "for m in /lib/modules/\"${u% *}\"/kernel/fs/overlayfs/overlay.ko*; do\n"
        "    [ -e \"$m\" ] && echo module; break\n"
        "done\n"
        "echo @@uid; i=$(id -u); echo \"$i\"\n"
        "echo @@sudo; if [ \"$i\" != 0 ]; then sudo -n true 2>&1 && echo sudo-ok; fi\n"
        "echo @@tools; PATH=\"$PATH:/usr/local/sbin:/usr/sbin:/sbin\"\n"
        "for t in ufw firewall-cmd gzip; do command -v $t >/dev/null 2>&1 && echo $t; done\n"
        "echo @@engine-sum\n"
        "[ -f /usr/local/bin/machined ] && sha256sum /usr/local/bin/machined 2>/dev/null\n"
        "exit 0\n";

const char *
prov_facts_script(void)
{
    return facts_script;
}

void
prov_facts_clear(struct prov_facts *f)
{
    free(f->os_id);
    free(f->os_version);
    free(f->os_pretty);
    free(f->arch);
    free(f->kernel);
    free(f->hostname);
    free(f->etc_hostname);
    strv_free(f->hosts_local);
    free(f->sudo_said);
    free(f->engine_sum);
    *f = (struct prov_facts){ 0 };
}

/* os-release values may be quoted: VERSION_ID="12". */
static char *
os_release_value(const char *line, const char *key)
{
    const char *v = startswith(line, key);
    if (!v || *v != '=')
        return NULL;
    v++;
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
        return xstrndup(v + 1, n - 2);
    return xstrdup(v);
}

static void
parse_os_release(struct prov_facts *f, char **lines)
{
    STRV_FOREACH (l, lines) {
        char *v;
        if ((v = os_release_value(*l, "ID")))
            free(f->os_id), f->os_id = v;
        else if ((v = os_release_value(*l, "VERSION_ID")))
            free(f->os_version), f->os_version = v;
        else if ((v = os_release_value(*l, "PRETTY_NAME")))
            free(f->os_pretty), f->os_pretty = v;
    }
}

static enum prov_init
parse_init(char **lines)
{
    if (strv_contains(lines, "systemd-booted"))
        return PROV_INIT_SYSTEMD;
    if (strv_contains(lines, "openrc-running"))
        return PROV_INIT_OPENRC;
    if (lines && lines[0] && streq(lines[0], "init") && strv_contains(lines, "inittab"))
        return PROV_INIT_SYSVINIT;
    return PROV_INIT_NONE;
}

static enum prov_cgroup
parse_cgroup(char **lines)
{
    if (!lines || !lines[0])
        return PROV_CGROUP_UNKNOWN;
    if (streq(lines[0], "cgroup2fs") || streq(lines[0], "cgroup2")) /* stat -f; mounts */
        return PROV_CGROUP_V2;
    if (streq(lines[0], "tmpfs"))
        return strv_contains(lines, "unified-dir") ? PROV_CGROUP_HYBRID : PROV_CGROUP_V1;
    return PROV_CGROUP_UNKNOWN;
}

static enum prov_overlay
parse_overlay(char **lines)
{
    if (strv_contains(lines, "loaded"))
        return PROV_OVERLAY_YES;
    if (strv_contains(lines, "module"))
        return PROV_OVERLAY_MODULE;
    return PROV_OVERLAY_NO;
}

static void
parse_sudo(struct prov_facts *f, char **lines)
{
    f->sudo_ok = strv_contains(lines, "sudo-ok");
    free(f->sudo_said); /* a repeated section replaces the first */
    f->sudo_said = !f->sudo_ok && lines && lines[0] ? strv_join(lines, " ") : NULL;
}

static void
parse_tools(struct prov_facts *f, char **lines)
{
    f->have_tools = true;
    f->has_ufw = strv_contains(lines, "ufw");
    f->has_firewalld = strv_contains(lines, "firewall-cmd");
    f->has_gzip = strv_contains(lines, "gzip");
}

static char *
first_word(char **lines)
{
    if (!lines || !lines[0])
        return NULL;
    size_t n = strcspn(lines[0], " \t");
    return n ? xstrndup(lines[0], n) : NULL;
}

static void
apply_section(struct prov_facts *f, const char *name, char **lines, bool *have_uid)
{
    if (streq(name, "os-release"))
        parse_os_release(f, lines);
    else if (streq(name, "arch"))
        free(f->arch), f->arch = first_word(lines);
    else if (streq(name, "kernel"))
        free(f->kernel), f->kernel = first_word(lines);
    else if (streq(name, "hostname"))
        free(f->hostname), f->hostname = first_word(lines);
    else if (streq(name, "etc-hostname"))
        free(f->etc_hostname), f->etc_hostname = first_word(lines);
    else if (streq(name, "hosts-127.0.1.1")) {
        strv_free(f->hosts_local);
        f->hosts_local = strv_copy(lines);
    } else if (streq(name, "tools"))
        parse_tools(f, lines);
    else if (streq(name, "init"))
        f->init = parse_init(lines);
    else if (streq(name, "cgroup"))
        f->cgroup = parse_cgroup(lines);
    else if (streq(name, "overlay"))
        f->overlay = parse_overlay(lines);
    else if (streq(name, "uid"))
        *have_uid = lines && lines[0] && mc_parse_int(lines[0], &f->uid) == 0;
    else if (streq(name, "sudo"))
        parse_sudo(f, lines);
    else if (streq(name, "engine-sum")) {
        _cleanup_free_ char *w = first_word(lines);
        if (w && strlen(w) == 64 && mc_is_hex(w, 64))
            free(f->engine_sum), f->engine_sum = TAKE_PTR(w);
    }
}

int
prov_facts_parse(const char *text, struct prov_facts *ret, struct mc_error **err)
{
    struct prov_facts f = { .uid = -1 };
    _cleanup_strv_ char **all = strv_split(text, "\n");
    bool have_uid = false;
    for (size_t i = 0; all[i];) {
        const char *name = startswith(all[i], "@@");
        if (!name) {
            i++;
            continue;
        }
        _cleanup_strv_ char **lines = strv_new();
        size_t j = i + 1;
        for (; all[j] && !startswith(all[j], "@@"); j++)
            strv_add(&lines, all[j]);
        apply_section(&f, name, lines, &have_uid);
        i = j;
    }
    if (!f.arch || !have_uid) {
        prov_facts_clear(&f);
        return mc_error_set(err, MC_ERR_INVALID,
                            "The host's facts are incomplete (no architecture or user id): the "
                            "login shell may print something, or the host is not a Linux system.");
    }
    *ret = f;
    return 0;
}

bool
prov_hostname_is_set(const struct prov_facts *f, const char *name)
{
    if (!f->hostname || !streq(f->hostname, name) || !f->etc_hostname ||
        !streq(f->etc_hostname, name))
        return false;
    STRV_FOREACH (l, f->hosts_local) {
        _cleanup_strv_ char **names = strv_split(*l, " \t");
        if (strv_contains(names, name))
            return true;
    }
    return false;
}

bool
prov_no_firewall_tool(const struct prov_facts *f)
{
    return f->have_tools && !f->has_ufw && !f->has_firewalld;
}

char *
prov_facts_summary(const struct prov_facts *f)
{
    const char *os = f->os_pretty ? f->os_pretty : f->os_id ? f->os_id : "unknown OS";
    return xasprintf("%s, %s, kernel %s, init %s, cgroup %s, overlay %s", os, f->arch,
                     f->kernel ? f->kernel : "?", prov_init_name(f->init),
                     prov_cgroup_name(f->cgroup), prov_overlay_name(f->overlay));
}

static json_t *
str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *
prov_facts_to_json(const struct prov_facts *f)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:s, s:s, s:s}", "os", str_or_null(f->os_pretty),
                     "os_id", str_or_null(f->os_id), "os_version", str_or_null(f->os_version),
                     "arch", str_or_null(f->arch), "kernel", str_or_null(f->kernel), "init",
                     prov_init_name(f->init), "cgroup", prov_cgroup_name(f->cgroup), "overlay",
                     prov_overlay_name(f->overlay));
}

const char *
prov_elf_arch(const unsigned char *hdr, size_t len)
{
    if (len < sizeof(Elf64_Ehdr) || memcmp(hdr, ELFMAG, SELFMAG) != 0)
        return NULL;
    bool le = hdr[EI_DATA] == ELFDATA2LSB;
    unsigned m = le ? (unsigned)hdr[18] | (unsigned)hdr[19] << 8
                    : (unsigned)hdr[19] | (unsigned)hdr[18] << 8;
    bool is64 = hdr[EI_CLASS] == ELFCLASS64;
    switch (m) {
    case EM_X86_64:
        return "x86_64";
    case EM_AARCH64:
        return "aarch64";
    case EM_386:
        return "i686";
    case EM_ARM:
        return "armv7l";
    case EM_RISCV:
        return is64 ? "riscv64" : NULL;
    case EM_PPC64:
        return le ? "ppc64le" : "ppc64";
    case EM_S390:
        return "s390x";
    default:
        return NULL;
    }
}

bool
prov_arch_compatible(const char *elf_arch, const char *host_arch)
{
    static const char *const same[][2] = {
        { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "i386" },
        { "i686", "i586" },    { "armv7l", "armv8l" },
    };
    if (!elf_arch || !host_arch)
        return false;
    if (streq(elf_arch, host_arch))
        return true;
    for (size_t i = 0; i < ELEMENTSOF(same); i++)
        if (streq(elf_arch, same[i][0]) && streq(host_arch, same[i][1]))
            return true;
    return false;
}
