/* Host facts: the parser over real and typical outputs of the facts script; ELF architectures. */
#include <elf.h>
#include <string.h>

#include "facts.h"
#include "fs.h"
#include "tap.h"
#include "util.h"
#include "xalloc.h"

static int
parse_file(const char *name, struct prov_facts *f, struct mc_error **err)
{
    _cleanup_free_ char *rel = xasprintf("provision/%s", name);
    _cleanup_free_ char *path = tap_data_path(rel);
    _cleanup_free_ char *text = NULL;
    if (mc_read_file(path, 65536, &text, NULL, err) < 0)
        return -1;
    return prov_facts_parse(text, f, err);
}

static void
test_testhost(void)
{
    struct prov_facts f = { 0 };
    struct mc_error *err = NULL;
    ok(parse_file("facts-testhost-root.txt", &f, &err) == 0, "test host facts (root) parsed");
    is_str(f.os_id, "debian", "os id");
    is_str(f.os_version, "12", "quoted VERSION_ID unquoted");
    is_str(f.arch, "x86_64", "arch");
    is_str(prov_init_name(f.init), "none", "sshd as pid 1 is no init system");
    is_str(prov_cgroup_name(f.cgroup), "hybrid", "tmpfs + unified is hybrid");
    is_str(prov_overlay_name(f.overlay), "yes", "overlay loaded");
    is_int(f.uid, 0, "root");
    ok(f.engine_sum == NULL, "no engine installed");
    _cleanup_free_ char *s = prov_facts_summary(&f);
    is_str(s,
           "Debian GNU/Linux 12 (bookworm), x86_64, kernel 6.18.44-fc-v669, init none, cgroup "
           "hybrid, overlay yes",
           "summary line");
    prov_facts_clear(&f);

    ok(parse_file("facts-testhost-nosudo.txt", &f, &err) == 0, "non-root facts parsed");
    ok(f.uid == 1000 && !f.sudo_ok, "a user without passwordless sudo");
    is_str(f.sudo_said, "sudo: a password is required", "what sudo said is kept");
    prov_facts_clear(&f);
}

static void
test_others(void)
{
    struct prov_facts f = { 0 };
    struct mc_error *err = NULL;
    ok(parse_file("facts-ubuntu-systemd.txt", &f, &err) == 0, "Ubuntu facts parsed");
    ok(f.init == PROV_INIT_SYSTEMD && f.cgroup == PROV_CGROUP_V2 &&
               f.overlay == PROV_OVERLAY_MODULE && f.sudo_ok,
       "systemd, cgroup v2, overlay as a module, passwordless sudo");
    is_str(f.arch, "aarch64", "arm64 host");
    is_str(f.engine_sum, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
           "installed engine's checksum");
    prov_facts_clear(&f);
    ok(parse_file("facts-alpine-openrc.txt", &f, &err) == 0, "Alpine facts parsed");
    ok(f.init == PROV_INIT_OPENRC && f.cgroup == PROV_CGROUP_V1 && f.overlay == PROV_OVERLAY_NO,
       "openrc, cgroup v1, no overlay");
    is_str(f.os_pretty, "Alpine Linux v3.19", "single-quoted PRETTY_NAME");
    prov_facts_clear(&f);
    ok(prov_facts_parse("@@init\ninit\ninittab\n@@arch\nx86_64\n@@uid\n0\n", &f, &err) == 0 &&
               f.init == PROV_INIT_SYSVINIT,
       "init with an inittab is sysvinit");
    prov_facts_clear(&f);
    ok(prov_facts_parse("Welcome to my host!\n", &f, &err) < 0 && err &&
               strstr(err->message, "incomplete"),
       "output that is not the script's is refused");
    mc_error_free(err);
}

static void
test_hostname_and_tools(void)
{
    struct prov_facts f = { 0 };
    struct mc_error *err = NULL;
    ok(prov_facts_parse("@@arch\nx86_64\n@@uid\n0\n@@hostname\nh1\n@@etc-hostname\nh1\n"
                        "@@hosts-127.0.1.1\nh1.example.org h1\n@@cgroup\ncgroup2\n@@tools\n"
                        "gzip\nfirewall-cmd\n",
                        &f, &err) == 0,
       "host name, /etc/hosts and tools sections parsed");
    ok(prov_hostname_is_set(&f, "h1"), "a 127.0.1.1 line listing the name among others is kept");
    ok(!prov_hostname_is_set(&f, "h2"), "another name is not set");
    ok(f.cgroup == PROV_CGROUP_V2, "cgroup2 (from /proc/self/mounts) is v2");
    ok(f.has_gzip && f.has_firewalld && !f.has_ufw && !prov_no_firewall_tool(&f),
       "gzip and firewall-cmd found, ufw not");
    prov_facts_clear(&f);
    ok(prov_facts_parse("@@arch\nx86_64\n@@uid\n0\n@@hostname\nh1\n@@etc-hostname\nh1\n"
                        "@@hosts-127.0.1.1\n@@tools\n",
                        &f, &err) == 0 &&
               !prov_hostname_is_set(&f, "h1") && prov_no_firewall_tool(&f),
       "no 127.0.1.1 line: the name is to be set; no tools: no firewall step");
    prov_facts_clear(&f);
    ok(prov_facts_parse("@@arch\nx86_64\n@@uid\n0\n", &f, &err) == 0 &&
               !prov_no_firewall_tool(&f) && !prov_hostname_is_set(&f, "h1"),
       "facts without those sections (an older script) change nothing");
    prov_facts_clear(&f);
}

static void
test_elf(void)
{
    unsigned char h[64] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, 1 };
    h[18] = EM_X86_64;
    is_str(prov_elf_arch(h, sizeof(h)), "x86_64", "x86_64 ELF");
    h[18] = EM_AARCH64;
    is_str(prov_elf_arch(h, sizeof(h)), "aarch64", "aarch64 ELF");
    ok(prov_elf_arch((const unsigned char *)"#!/bin/sh\n", 10) == NULL, "a script is not ELF");
    ok(prov_arch_compatible("x86_64", "x86_64") && prov_arch_compatible("aarch64", "arm64"),
       "same architectures match");
    ok(!prov_arch_compatible("x86_64", "aarch64"), "x86_64 engine does not run on aarch64");
    _cleanup_free_ char *self = NULL;
    struct mc_error *err = NULL;
    ok(mc_read_file("/proc/self/exe", 1 << 26, &self, NULL, &err) == 0 &&
               streq(prov_elf_arch((unsigned char *)self, 64), "x86_64"),
       "this test binary is x86_64");
    mc_error_free(err);
}

int
main(void)
{
    test_testhost();
    test_others();
    test_hostname_and_tools();
    test_elf();
    return tap_done();
}
