/* The pure half of docker stats: the kernel's text files (/proc/PID/stat, /proc/stat,
 * memory.stat, cpu.stat, /proc/PID/net/dev) to numbers and JSON (ctr-pure.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctr-pure.h"
#include "util.h"

/* The unsigned decimal at *p (after spaces); advances *p. False when there is none. */
static bool
next_u64(const char **p, uint64_t *ret)
{
    const char *s = *p + strspn(*p, " \t");
    if (*s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *ret = v;
    *p = s;
    return true;
}

/* Skips n space-separated fields. */
static const char *
skip_fields(const char *p, int n)
{
    for (int i = 0; i < n && p; i++) {
        p += strspn(p, " ");
        p = strchr(p, ' ');
    }
    return p;
}

bool
eng_ctr_parse_proc_stat_times(const char *text, uint64_t *ret_user, uint64_t *ret_sys)
{
    /* "pid (comm) state ppid ... utime stime cutime cstime ...": comm may hold spaces and
     * parentheses, so count from the last ')'. utime is the 12th field after it. */
    const char *p = strrchr(text, ')');
    p = p ? skip_fields(p + 1, 11) : NULL;
    uint64_t v[4];
    for (int i = 0; i < 4; i++)
        if (!p || !next_u64(&p, &v[i]))
            return false;
    *ret_user = v[0] + v[2];
    *ret_sys = v[1] + v[3];
    return true;
}

bool
eng_ctr_parse_system_cpu(const char *text, uint64_t *ret_ticks)
{
    /* "cpu  user nice system idle iowait irq softirq steal ...": dockerd adds the first 7. */
    const char *p = startswith(text, "cpu ");
    uint64_t sum = 0, v;
    for (int i = 0; i < 7; i++) {
        if (!p || !next_u64(&p, &v))
            return false;
        sum += v;
    }
    *ret_ticks = sum;
    return true;
}

/* Calls fn for each line of text (without its newline). */
static void
each_line(const char *text, void (*fn)(const char *line, size_t len, json_t *out), json_t *out)
{
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        fn(line, nl ? (size_t)(nl - line) : strlen(line), out);
        line = nl ? nl + 1 : NULL;
    }
}

static void
keyed_line(const char *line, size_t len, json_t *out)
{
    const char *sp = memchr(line, ' ', len);
    const char *p = sp;
    uint64_t v;
    if (!sp || sp == line || (size_t)(sp - line) >= 128 || !next_u64(&p, &v) || p != line + len)
        return;
    char key[128];
    snprintf(key, sizeof(key), "%.*s", (int)(sp - line), line);
    json_object_set_new(out, key, json_integer((json_int_t)v));
}

json_t *
eng_ctr_parse_keyed_values(const char *text)
{
    json_t *o = json_object();
    each_line(text, keyed_line, o);
    return o;
}

/* "  eth0: rx_bytes rx_packets rx_errs rx_drop fifo frame compressed multicast tx_bytes
 * tx_packets tx_errs tx_drop ..." */
static void
net_dev_line(const char *line, size_t len, json_t *out)
{
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    const char *name = line + strspn(line, " ");
    size_t nlen = (size_t)(colon - name);
    if (colon < name || nlen == 0 || nlen >= 64 || (nlen == 2 && !strncmp(name, "lo", 2)))
        return;
    uint64_t v[12];
    const char *p = colon + 1;
    for (int i = 0; i < 12; i++)
        if (!next_u64(&p, &v[i]))
            return;
    char key[64];
    snprintf(key, sizeof(key), "%.*s", (int)nlen, name);
    json_object_set_new(out, key,
                        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "rx_bytes", (json_int_t)v[0],
                                  "rx_packets", (json_int_t)v[1], "rx_errors", (json_int_t)v[2],
                                  "rx_dropped", (json_int_t)v[3], "tx_bytes", (json_int_t)v[8],
                                  "tx_packets", (json_int_t)v[9], "tx_errors", (json_int_t)v[10],
                                  "tx_dropped", (json_int_t)v[11]));
}

json_t *
eng_ctr_parse_net_dev(const char *text)
{
    json_t *o = json_object();
    each_line(text, net_dev_line, o);
    return o;
}
