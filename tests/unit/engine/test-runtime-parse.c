/* Pure parsers of engine/runtime: mountinfo, /proc/self/cgroup, capabilities, passwd/group. */
#include <string.h>

#include "caps.h"
#include "mountinfo.h"
#include "passwd.h"
#include "strv.h"
#include "tap.h"
#include "util.h"

static const char mountinfo[] =
        "23 1 259:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
        "50 23 0:40 /data /mnt/with\\040space rw master:3 shared:7 - overlay overlay rw,x=1\n";

static void
test_mountinfo(void)
{
    struct eng_mountinfo mi;
    struct mc_error *err = NULL;
    ok(eng_mountinfo_parse(mountinfo, &mi, &err) == 0, "mountinfo parses");
    is_int(mi.n, 6, "six mounts");
    is_int(mi.entries[0].id, 23, "id");
    is_int(mi.entries[1].parent_id, 23, "parent id");
    is_int(mi.entries[0].major, 259, "major");
    is_str(mi.entries[2].fstype, "cgroup", "fstype");
    ok(eng_option_has(mi.entries[3].super_options, "cpuacct"), "super options split");
    ok(!eng_option_has(mi.entries[3].super_options, "cpuac"), "no prefix match");
    is_str(mi.entries[5].mount_point, "/mnt/with space", "octal escape decoded");
    is_str(mi.entries[5].root, "/data", "root");
    is_str(mi.entries[5].fstype, "overlay", "optional fields skipped");
    eng_mountinfo_free(&mi);

    ok(eng_mountinfo_parse("1 2 3\n", &mi, &err) < 0 && err && strstr(err->message, "line 1"),
       "short line refused with its number");
    mc_error_free(err);
    err = NULL;
    ok(eng_mountinfo_parse("1 2 x:y / / rw - ext4 a b\n", &mi, &err) < 0, "bad devno refused");
    mc_error_free(err);
}

static void
test_proc_cgroup(void)
{
    struct eng_proc_cgroups c;
    struct mc_error *err = NULL;
    const char *text = "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/u\n";
    ok(eng_proc_cgroup_parse(text, &c, &err) == 0, "cgroup file parses");
    is_int(c.n, 4, "four hierarchies");
    is_str(eng_proc_cgroup_path(&c, "memory"), "/process_api/abc", "memory path");
    is_str(eng_proc_cgroup_path(&c, "cpuacct"), "/x", "co-mounted controller");
    is_str(eng_proc_cgroup_path(&c, NULL), "/u", "unified path");
    ok(eng_proc_cgroup_path(&c, "pids") == NULL, "absent controller");
    eng_proc_cgroups_free(&c);
    ok(eng_proc_cgroup_parse("4:memory\n", &c, &err) < 0, "missing path refused");
    mc_error_free(err);
}

static void
test_caps(void)
{
    struct mc_error *err = NULL;
    is_int(eng_cap_from_name("NET_ADMIN"), 12, "name without prefix");
    is_int(eng_cap_from_name("cap_sys_admin"), 21, "lower case with prefix");
    is_int(eng_cap_from_name("NOPE"), -1, "unknown");
    is_str(eng_cap_name(31), "CAP_SETFCAP", "name of 31");
    _cleanup_strv_ char **names = eng_caps_names(ENG_CAPS_DEFAULT);
    is_int(strv_length(names), 14, "docker's default set has 14 capabilities");
    ok(strv_contains(names, "CAP_AUDIT_WRITE") && !strv_contains(names, "CAP_SYS_ADMIN"),
       "default set members");

    uint64_t caps;
    char *add[] = { "NET_ADMIN", NULL }, *drop[] = { "CAP_CHOWN", NULL };
    ok(eng_caps_compute(ENG_CAPS_DEFAULT, add, drop, &caps, &err) == 0, "add and drop");
    is_int(caps, (ENG_CAPS_DEFAULT | (1u << 12)) & ~UINT64_C(1), "mask after add and drop");
    char *all[] = { "ALL", NULL }, *kill[] = { "KILL", NULL };
    ok(eng_caps_compute(ENG_CAPS_DEFAULT, all, kill, &caps, &err) == 0 &&
               caps == (ENG_CAPS_ALL & ~(UINT64_C(1) << 5)),
       "add ALL keeps the drops");
    ok(eng_caps_compute(ENG_CAPS_DEFAULT, kill, all, &caps, &err) == 0 &&
               caps == (UINT64_C(1) << 5),
       "drop ALL keeps only the adds");
    char *bad[] = { "FLY", NULL };
    ok(eng_caps_compute(ENG_CAPS_DEFAULT, bad, NULL, &caps, &err) < 0 &&
               strstr(err->message, "'FLY'"),
       "unknown capability named");
    mc_error_free(err);
}

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "# comment\n"
                             "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                             "app:x:1000:1000:App,,,:/home/app:/bin/sh\n"
                             "broken line\n";
static const char group[] = "root:x:0:\n"
                            "wheel:x:10:app,other\n"
                            "app:x:1000:\n"
                            "audio:x:29:other,app\n";

static void
check_user(const char *spec, uid_t uid, gid_t gid, size_t ngroups, const char *home)
{
    struct eng_exec_user u;
    struct mc_error *err = NULL;
    if (!ok(eng_exec_user_resolve(spec, passwd, group, &u, &err) == 0, "user '%s' resolves",
            spec)) {
        tap_diag("%s", err->message);
        mc_error_free(err);
        return;
    }
    ok(u.uid == uid && u.gid == gid, "user '%s' is %u:%u (got %u:%u)", spec, uid, gid, u.uid,
       u.gid);
    is_int(u.ngroups, ngroups, "user '%s' supplementary groups", spec);
    is_str(u.home, home, "user '%s' home", spec);
    eng_exec_user_clear(&u);
}

static void
test_users(void)
{
    check_user("", 0, 0, 0, "/root");
    check_user("root", 0, 0, 0, "/root");
    check_user("app", 1000, 1000, 2, "/home/app");
    check_user("1000", 1000, 1000, 2, "/home/app");
    check_user("4242", 4242, 0, 0, "/");
    check_user("4242:77", 4242, 77, 0, "/");
    check_user("app:wheel", 1000, 10, 0, "/home/app");
    check_user("daemon:1000", 1, 1000, 0, "/usr/sbin");

    struct eng_exec_user u;
    struct mc_error *err = NULL;
    ok(eng_exec_user_resolve("nobody", passwd, group, &u, &err) < 0 &&
               err->code == MC_ERR_NOT_FOUND && strstr(err->message, "passwd"),
       "unknown user name refused");
    mc_error_free(err);
    err = NULL;
    ok(eng_exec_user_resolve("app:staff", passwd, group, &u, &err) < 0 &&
               strstr(err->message, "group"),
       "unknown group name refused");
    mc_error_free(err);
    err = NULL;
    ok(eng_exec_user_resolve("app", NULL, NULL, &u, &err) < 0, "no passwd file: names fail");
    mc_error_free(err);
    err = NULL;
    ok(eng_exec_user_resolve("7:8", NULL, NULL, &u, &err) == 0 && u.uid == 7 && u.gid == 8,
       "no passwd file: numbers work");
    eng_exec_user_clear(&u);
    ok(eng_exec_user_resolve("app:", passwd, group, &u, &err) < 0, "empty group refused");
    mc_error_free(err);
}

int
main(void)
{
    test_mountinfo();
    test_proc_cgroup();
    test_caps();
    test_users();
    return tap_done();
}
