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

static void
escape(struct mc_buf *out, const char *data, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)data;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            mc_buf_putc(out, '\\');
            mc_buf_putc(out, (char)c);
        } else if (c == '\n') {
            mc_buf_puts(out, "\\n");
        } else if (c == '\r') {
            mc_buf_puts(out, "\\r");
        } else if (c == '\t') {
            mc_buf_puts(out, "\\t");
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
            mc_buf_puts(out, u);
        } else if (c < 0x80) {
            mc_buf_putc(out, (char)c);
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                mc_buf_puts(out, "\\ufffd");
                i++;
                continue;
            }
            mc_buf_append(out, p + i, l);
            i += l;
            continue;
        }
        i++;
    }
}

void
eng_ctr_log_encode(struct mc_buf *out, const char *stream, const char *data, size_t n,
                   int64_t time_ns)
{
    char ts[64];
    mc_buf_puts(out, "{\"log\":\"");
    escape(out, data, n);
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
    if (mc_parse_rfc3339(s, ret_ns) == 0)
        return 0;
    /* seconds[.fraction] since the epoch, as the CLI sends them */
    char secs[32], frac[16] = "000000000";
    const char *dot = strchr(s, '.');
    size_t sl = dot ? (size_t)(dot - s) : strlen(s);
    size_t fl = dot ? strlen(dot + 1) : 0;
    int64_t sv, fv = 0;
    if (sl == 0 || sl >= sizeof(secs) || fl > 9)
        return mc_error_set(err, MC_ERR_INVALID, "invalid value for time: '%s'", s);
    memcpy(secs, s, sl);
    secs[sl] = '\0';
    if (dot)
        memcpy(frac, dot + 1, fl);
    if (mc_parse_int64(secs, &sv) < 0 || (fl && mc_parse_int64(frac, &fv) < 0))
        return mc_error_set(err, MC_ERR_INVALID, "invalid value for time: '%s'", s);
    *ret_ns = sv * 1000000000 + fv;
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
