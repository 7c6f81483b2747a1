/* The json-file log format and the 8-byte stream frames (pure). */
#include <stdio.h>
#include <string.h>

#include "ctr-pure.h"
#include "json.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

/* JSON string escaping of arbitrary bytes, as Go's encoder writes them (invalid UTF-8 is
 * replaced by U+FFFD). */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* One byte that cannot go out as is: its escape. */
static void
escape_byte(struct mc_buf *out, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    switch (c) {
    case '"':
        mc_buf_append(out, "\\\"", 2);
        break;
    case '\\':
        mc_buf_append(out, "\\\\", 2);
        break;
    case '\n':
        mc_buf_append(out, "\\n", 2);
        break;
    case '\r':
        mc_buf_append(out, "\\r", 2);
        break;
    case '\t':
        mc_buf_append(out, "\\t", 2);
        break;
    default:
        if (c >= 0x80) { /* not valid UTF-8 */
            mc_buf_append(out, "\\ufffd", 6);
        } else {
            char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            mc_buf_append(out, u, sizeof(u));
        }
    }
}

static bool
plain_ascii(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

void
eng_ctr_json_escape(struct mc_buf *out, const char *data, size_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t run = 0, i = 0;
    mc_buf_reserve(out, n + 2);
    while (i < n) {
        size_t l = plain_ascii(p[i]) ? 1 : p[i] >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (l > 0) {
            i += l;
            continue;
        }
        /* copy the run of bytes that need nothing, then escape this one */
        mc_buf_append(out, p + run, i - run);
        escape_byte(out, p[i]);
        run = ++i;
    }
    mc_buf_append(out, p + run, i - run);
}

void
eng_ctr_log_encode(struct mc_buf *out, const char *stream, const char *data, size_t n,
                   int64_t time_ns)
{
    char ts[64];
    mc_buf_puts(out, "{\"log\":\"");
    eng_ctr_json_escape(out, data, n);
    mc_buf_printf(out, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream,
                  mc_format_rfc3339(time_ns, true, ts, sizeof(ts)));
}

int
eng_ctr_log_decode(const char *line, size_t n, struct eng_ctr_log_entry *ret, struct mc_error **err)
{
    json_error_t je;
    _cleanup_json_ json_t *j = json_loadb(line, n, JSON_ALLOW_NUL, &je);
    if (!json_is_object(j))
        return mc_error_set(err, MC_ERR_INVALID, "Malformed log line: %s.", je.text);
    json_t *log = json_object_get(j, "log");
    const char *stream = mc_json_str(j, "stream");
    const char *time = mc_json_str(j, "time");
    int64_t ns = 0;
    if (!json_is_string(log) || !stream || !time || mc_parse_rfc3339(time, &ns) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "Log line without log, stream or time.");
    ret->len = json_string_length(log);
    ret->log = xmemdup(json_string_value(log), ret->len + 1);
    ret->is_stderr = streq(stream, "stderr");
    ret->time_ns = ns;
    return 0;
}

void
eng_ctr_log_entry_clear(struct eng_ctr_log_entry *e)
{
    free(e->log);
    e->log = NULL;
    e->len = 0;
}

int
eng_ctr_parse_log_time(const char *s, int64_t *ret_ns, struct mc_error **err)
{
    if (isempty(s)) {
        *ret_ns = 0;
        return 0;
    }
    if (mc_parse_unix_time(s, ret_ns) < 0)
        return mc_error_set(err, MC_ERR_INVALID, "invalid value for time: '%s'", s);
    return 0;
}

void
eng_ctr_frame(struct mc_buf *out, int type, const void *data, size_t n)
{
    unsigned char h[8] = { (unsigned char)type,
                           0,
                           0,
                           0,
                           (unsigned char)(n >> 24),
                           (unsigned char)(n >> 16),
                           (unsigned char)(n >> 8),
                           (unsigned char)n };
    mc_buf_append(out, h, sizeof(h));
    mc_buf_append(out, data, n);
}
