#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "util.h"
#include "xalloc.h"

const char *
startswith(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool
endswith(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

int
mc_parse_int64(const char *s, int64_t *ret)
{
    if (isempty(s) || isspace((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end)
        return -1;
    *ret = v;
    return 0;
}

int
mc_parse_uint64(const char *s, uint64_t *ret)
{
    if (isempty(s) || !isdigit((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !end || *end)
        return -1;
    *ret = v;
    return 0;
}

int
mc_parse_int(const char *s, int *ret)
{
    int64_t v;
    if (mc_parse_int64(s, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *ret = (int)v;
    return 0;
}

int
mc_parse_bool(const char *s, bool *ret)
{
    static const char *const yes[] = { "1", "true", "yes", "on", "y" };
    static const char *const no[] = { "0", "false", "no", "off", "n" };
    for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -1;
}

static int
unit_ms(const char *u, size_t n, int64_t *ret)
{
    static const struct {
        const char *name;
        int64_t ms;
    } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
    };
    for (size_t i = 0; i < ELEMENTSOF(units); i++)
        if (strlen(units[i].name) == n && strncmp(u, units[i].name, n) == 0) {
            *ret = units[i].ms;
            return 0;
        }
    return -1;
}

int
mc_parse_duration_ms(const char *s, int64_t *ret_ms)
{
    if (isempty(s))
        return -1;
    if (mc_parse_int64(s, ret_ms) == 0) {
        if (*ret_ms < 0 || *ret_ms > INT64_MAX / 1000)
            return -1;
        *ret_ms *= 1000;
        return 0;
    }
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || end == p)
            return -1;
        size_t n = 0;
        while (isalpha((unsigned char)end[n]))
            n++;
        int64_t mult;
        if (n == 0 || unit_ms(end, n, &mult) < 0 || v > (unsigned long long)(INT64_MAX / mult))
            return -1;
        total += (int64_t)v * mult;
        p = end + n;
    }
    *ret_ms = total;
    return 0;
}

int
mc_parse_size(const char *s, uint64_t *ret)
{
    if (isempty(s) || !isdigit((unsigned char)*s))
        return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    uint64_t mult = 1;
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'b':
        break;
    case 'k':
        mult = 1ULL << 10;
        break;
    case 'm':
        mult = 1ULL << 20;
        break;
    case 'g':
        mult = 1ULL << 30;
        break;
    case 't':
        mult = 1ULL << 40;
        break;
    default:
        return -1;
    }
    if (*end) {
        end++;
        if ((*end == 'b' || *end == 'B') && mult != 1)
            end++;
        if (*end)
            return -1;
    }
    if (v > UINT64_MAX / mult)
        return -1;
    *ret = v * mult;
    return 0;
}

const char *
mc_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ELEMENTSOF(units)) {
        v /= 1000.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%" PRIu64 "B", bytes);
    else
        snprintf(buf, len, "%.3g%s", v, units[u]);
    return buf;
}

void
mc_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

int
mc_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
mc_hex_decode(const char *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi = mc_hex_digit(in[2 * i]), lo = hi < 0 ? -1 : mc_hex_digit(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return in[2 * n] == '\0' ? 0 : -1;
}

bool
mc_is_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (mc_hex_digit(s[i]) < 0)
            return false;
    return true;
}

size_t
mc_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    _cleanup_free_ size_t *row = xcalloc(lb + 1, sizeof(size_t));
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

bool
mc_name_is_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(name[i] >= 'a' && name[i] <= 'z') && !(name[i] >= 'A' && name[i] <= 'Z') &&
            !(name[i] >= '0' && name[i] <= '9') && name[i] != '-')
            return false;
    return true;
}
