/* docker top: the container's processes as `ps -ef` shows them (UID PID PPID C STIME TTY TIME
 * CMD), read from /proc without running ps. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctr-internal.h"
#include "fs.h"
#include "json.h"
#include "passwd.h"
#include "strv.h"
#include "util.h"
#include "xalloc.h"

struct proc_stat {
    int ppid;
    int tty_nr;
    uint64_t utime;
    uint64_t stime;
    uint64_t start; /* clock ticks after boot */
    char comm[64];
};

/* /proc/PID/stat: "pid (comm) state ppid pgrp session tty_nr ... utime stime ... starttime". */
static int
read_stat(pid_t pid, struct proc_stat *st)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    _cleanup_free_ char *data = NULL;
    if (mc_read_file(path, 4096, &data, NULL, NULL) < 0)
        return -1;
    char *open = strchr(data, '('), *close = strrchr(data, ')');
    if (!open || !close || close < open)
        return -1;
    snprintf(st->comm, sizeof(st->comm), "%.*s", (int)(close - open - 1), open + 1);
    _cleanup_strv_ char **f = strv_split(close + 1, " ");
    if (strv_length(f) < 20)
        return -1;
    int64_t v[5];
    /* fields after ')': state(0) ppid(1) pgrp session tty_nr(4) ... utime(11) stime(12) ...
     * starttime(19) */
    if (mc_parse_int64(f[1], &v[0]) < 0 || mc_parse_int64(f[4], &v[1]) < 0 ||
        mc_parse_int64(f[11], &v[2]) < 0 || mc_parse_int64(f[12], &v[3]) < 0 ||
        mc_parse_int64(f[19], &v[4]) < 0)
        return -1;
    st->ppid = (int)v[0];
    st->tty_nr = (int)v[1];
    st->utime = (uint64_t)v[2];
    st->stime = (uint64_t)v[3];
    st->start = (uint64_t)v[4];
    return 0;
}

static char *
cmdline(pid_t pid, const char *comm)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
    char *data = NULL;
    size_t n = 0;
    if (mc_read_file(path, 64 * 1024, &data, &n, NULL) < 0 || n == 0) {
        free(data);
        return xasprintf("[%s]", comm);
    }
    for (size_t i = 0; i + 1 < n; i++)
        if (data[i] == '\0')
            data[i] = ' ';
    return data;
}

static uid_t
proc_uid(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    _cleanup_free_ char *data = NULL;
    if (mc_read_file(path, 64 * 1024, &data, NULL, NULL) < 0)
        return 0;
    const char *u = strstr(data, "\nUid:");
    unsigned int uid = 0;
    if (u)
        sscanf(u + 5, "%u", &uid);
    return uid;
}

static char *
tty_name(int tty_nr)
{
    if (tty_nr == 0)
        return xstrdup("?");
    unsigned int major = ((unsigned)tty_nr >> 8) & 0xfff;
    unsigned int minor = ((unsigned)tty_nr & 0xff) | (((unsigned)tty_nr >> 12) & 0xfff00);
    if (major >= 136 && major <= 143)
        return xasprintf("pts/%u", (major - 136) * 256 + minor);
    return xasprintf("%u:%u", major, minor);
}

static char *
stime_text(uint64_t start_ticks, int64_t boot_s)
{
    time_t t = (time_t)(boot_s + (int64_t)(start_ticks / (uint64_t)sysconf(_SC_CLK_TCK)));
    struct tm tm, now_tm;
    time_t now = time(NULL);
    localtime_r(&t, &tm);
    localtime_r(&now, &now_tm);
    char buf[32];
    strftime(buf, sizeof(buf),
             tm.tm_yday == now_tm.tm_yday && tm.tm_year == now_tm.tm_year ? "%H:%M" : "%b%d", &tm);
    return xstrdup(buf);
}

static int64_t
boot_time(void)
{
    _cleanup_free_ char *data = NULL;
    int64_t bt = 0;
    if (mc_read_file("/proc/stat", 1 << 20, &data, NULL, NULL) == 0) {
        const char *b = strstr(data, "\nbtime ");
        long long v;
        if (b && sscanf(b + 7, "%lld", &v) == 1)
            bt = v;
    }
    return bt;
}

static json_t *
process_row(pid_t pid, const char *passwd, int64_t boot_s)
{
    struct proc_stat st;
    if (read_stat(pid, &st) < 0)
        return NULL;
    uid_t uid = proc_uid(pid);
    _cleanup_free_ char *user = eng_passwd_name(passwd, uid);
    _cleanup_free_ char *tty = tty_name(st.tty_nr);
    _cleanup_free_ char *stime = stime_text(st.start, boot_s);
    _cleanup_free_ char *cmd = cmdline(pid, st.comm);
    uint64_t secs = (st.utime + st.stime) / (uint64_t)sysconf(_SC_CLK_TCK);
    char pidbuf[16], ppid[16], timebuf[32];
    snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
    snprintf(ppid, sizeof(ppid), "%d", st.ppid);
    snprintf(timebuf, sizeof(timebuf), "%02llu:%02llu:%02llu", (unsigned long long)(secs / 3600),
             (unsigned long long)(secs / 60 % 60), (unsigned long long)(secs % 60));
    return json_pack("[s, s, s, s, s, s, s, s]", user, pidbuf, ppid, "0", stime, tty, timebuf, cmd);
}

json_t *
ctr_top_json(const pid_t *pids, size_t n, struct mc_error **err)
{
    _cleanup_free_ char *passwd = NULL;
    mc_read_file("/etc/passwd", 4 << 20, &passwd, NULL, NULL);
    int64_t boot_s = boot_time();
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = process_row(pids[i], passwd, boot_s);
        if (row)
            json_array_append_new(rows, row);
    }
    return json_pack("{s:[s, s, s, s, s, s, s, s], s:o}", "Titles", "UID", "PID", "PPID", "C",
                     "STIME", "TTY", "TIME", "CMD", "Processes", rows);
}
