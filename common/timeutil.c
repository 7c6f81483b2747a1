#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"
#include "util.h"

int64_t
mc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mc_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const char *
mc_format_rfc3339(int64_t ns, bool nanos, char *buf, size_t len)
{
    time_t secs = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (nanos)
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    else
        snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

static int
digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *ret = v;
    return 0;
}

static int
expect(const char **p, char c)
{
    if (**p != c && !(c == 'T' && (**p == 't' || **p == ' ')))
        return -1;
    (*p)++;
    return 0;
}

int
mc_parse_rfc3339(const char *s, int64_t *ret_ns)
{
    const char *p = s;
    int Y, M, D, h, m, sec;
    if (digits(&p, 4, &Y) < 0 || expect(&p, '-') < 0 || digits(&p, 2, &M) < 0 ||
        expect(&p, '-') < 0 || digits(&p, 2, &D) < 0 || expect(&p, 'T') < 0 ||
        digits(&p, 2, &h) < 0 || expect(&p, ':') < 0 || digits(&p, 2, &m) < 0 ||
        expect(&p, ':') < 0 || digits(&p, 2, &sec) < 0)
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
        return -1;

    int64_t frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 9) {
                frac = frac * 10 + (*p - '0');
                n++;
            }
            p++;
        }
        if (n == 0)
            return -1;
        while (n++ < 9)
            frac *= 10;
    }

    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) < 0 || expect(&p, ':') < 0 || digits(&p, 2, &om) < 0)
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (*p)
        return -1;

    struct tm tm = {
        .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec
    };
    time_t t = timegm(&tm);
    *ret_ns = ((int64_t)t - offset) * 1000000000LL + frac;
    return 0;
}

const char *
mc_human_duration(int64_t ns, char *buf, size_t len)
{
    int64_t s = ns / 1000000000;
    int64_t hours = (ns + 1800000000000LL) / 3600000000000LL; /* rounded, as go-units */
    if (s < 1)
        snprintf(buf, len, "Less than a second");
    else if (s == 1)
        snprintf(buf, len, "1 second");
    else if (s < 60)
        snprintf(buf, len, "%lld seconds", (long long)s);
    else if (s / 60 == 1)
        snprintf(buf, len, "About a minute");
    else if (s / 60 < 60)
        snprintf(buf, len, "%lld minutes", (long long)(s / 60));
    else if (hours == 1)
        snprintf(buf, len, "About an hour");
    else if (hours < 48)
        snprintf(buf, len, "%lld hours", (long long)hours);
    else if (hours < 24 * 7 * 2)
        snprintf(buf, len, "%lld days", (long long)(hours / 24));
    else if (hours < 24 * 30 * 2)
        snprintf(buf, len, "%lld weeks", (long long)(hours / 24 / 7));
    else if (hours < 24 * 365 * 2)
        snprintf(buf, len, "%lld months", (long long)(hours / 24 / 30));
    else
        snprintf(buf, len, "%lld years", (long long)(s / 3600 / 24 / 365));
    return buf;
}

void
mc_sleep_ms(int64_t ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

int
mc_parse_unix_time(const char *s, int64_t *ret_ns)
{
    if (mc_parse_rfc3339(s, ret_ns) == 0)
        return 0;
    char secs[32], frac[16] = "000000000";
    const char *dot = strchr(s, '.');
    size_t sl = dot ? (size_t)(dot - s) : strlen(s);
    size_t fl = dot ? strlen(dot + 1) : 0;
    int64_t sv, fv = 0;
    if (sl == 0 || sl >= sizeof(secs) || fl > 9 || (dot && fl == 0))
        return -1;
    memcpy(secs, s, sl);
    secs[sl] = '\0';
    if (dot)
        memcpy(frac, dot + 1, fl);
    if (mc_parse_int64(secs, &sv) < 0 || (fl && mc_parse_int64(frac, &fv) < 0) || fv < 0 ||
        sv < 0 || sv > INT64_MAX / 1000000000 - 1)
        return -1;
    *ret_ns = sv * 1000000000 + fv;
    return 0;
}
