/* The pure helpers of the engine verbs (cli-engine-pure.h): docker's human formats, filters, times,
 * references and JSON messages. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-engine-pure.h"
#include "json.h"
#include "strbuf.h"
#include "strv.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define COMMAND_WIDTH 20

char *
cli_short_id(const char *id)
{
    const char *hex = startswith(id, "sha256:");
    return xstrndup(hex ? hex : id, 12);
}

char *
cli_human_ago(int64_t then_s, int64_t now_s)
{
    char buf[64];
    int64_t d = now_s > then_s ? now_s - then_s : 0;
    return xasprintf("%s ago", mc_human_duration(d * 1000000000LL, buf, sizeof(buf)));
}

char *
cli_human_size(int64_t bytes)
{
    char buf[32];
    return xstrdup(mc_format_size(bytes > 0 ? (uint64_t)bytes : 0, buf, sizeof(buf)));
}

/* The byte length of the first n UTF-8 characters of s (all of it when shorter). */
static size_t
utf8_prefix(const char *s, size_t n, bool *ret_cut)
{
    size_t i = 0, chars = 0;
    while (s[i] && chars < n) {
        i++;
        while ((s[i] & 0xc0) == 0x80)
            i++;
        chars++;
    }
    *ret_cut = s[i] != '\0';
    return i;
}

char *
cli_quote_command(const char *cmd, bool no_trunc)
{
    bool cut = false;
    size_t len = strlen(cmd);
    if (!no_trunc) {
        utf8_prefix(cmd, COMMAND_WIDTH, &cut);
        if (cut)
            len = utf8_prefix(cmd, COMMAND_WIDTH - 1, &(bool){ false });
    }
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_putc(&b, '"');
    for (size_t i = 0; i < len; i++) {
        if (cmd[i] == '"' || cmd[i] == '\\')
            mc_buf_putc(&b, '\\');
        mc_buf_putc(&b, cmd[i]);
    }
    if (cut)
        mc_buf_puts(&b, "\xe2\x80\xa6"); /* … */
    mc_buf_putc(&b, '"');
    return mc_buf_steal(&b);
}

int
cli_filters_json(char *const *filters, char **ret, struct mc_error **err)
{
    *ret = NULL;
    if (!filters || !filters[0])
        return 0;
    _cleanup_json_ json_t *j = json_object();
    STRV_FOREACH (f, (char **)filters) {
        const char *eq = strchr(*f, '=');
        if (!eq || eq == *f)
            return mc_error_set(err, MC_ERR_USAGE, "bad filter '%s': expected KEY=VALUE", *f);
        _cleanup_free_ char *key = xstrndup(*f, (size_t)(eq - *f));
        json_t *values = json_object_get(j, key);
        if (!values) {
            values = json_object();
            json_object_set_new(j, key, values);
        }
        json_object_set_new(values, eq + 1, json_true());
    }
    *ret = mc_json_dumps(j, false);
    return 0;
}

int
cli_parse_time_arg(const char *s, int64_t now_ns, char **ret, struct mc_error **err)
{
    int64_t ms, ns;
    if (isempty(s))
        return mc_error_set(err, MC_ERR_USAGE, "an empty time is not a time");
    if (strspn(s, "0123456789.") == strlen(s)) {
        *ret = xstrdup(s);
        return 0;
    }
    if (mc_parse_duration_ms(s, &ms) == 0)
        ns = now_ns - ms * 1000000;
    else if (mc_parse_rfc3339(s, &ns) < 0)
        return mc_error_set(err, MC_ERR_USAGE,
                            "'%s' is neither a duration (10m), an RFC 3339 time nor a unix time",
                            s);
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        sec--;
        frac += 1000000000;
    }
    *ret = xasprintf("%lld.%09lld", (long long)sec, (long long)frac);
    return 0;
}

void
cli_split_reference(const char *ref, char **ret_repo, char **ret_tag)
{
    const char *at = strchr(ref, '@');
    const char *slash = strrchr(ref, '/');
    const char *colon = strrchr(ref, ':');
    if (at || !colon || (slash && colon < slash)) {
        *ret_repo = xstrdup(ref);
        *ret_tag = NULL;
        return;
    }
    *ret_repo = xstrndup(ref, (size_t)(colon - ref));
    *ret_tag = xstrdup(colon + 1);
}

void
cli_json_message_text(const json_t *msg, char **ret_text, char **ret_error)
{
    *ret_text = NULL;
    *ret_error = NULL;
    const json_t *detail = json_object_get(msg, "errorDetail");
    const char *error = mc_json_str(msg, "error");
    if (detail || error) {
        const char *m = mc_json_str(detail, "message");
        *ret_error = xstrdup(m ? m : error ? error : "the engine reported an error");
        return;
    }
    const char *stream = mc_json_str(msg, "stream");
    if (stream) {
        *ret_text = xstrdup(stream);
        return;
    }
    const char *status = mc_json_str(msg, "status");
    if (!status)
        return;
    const char *id = mc_json_str(msg, "id");
    const char *progress = mc_json_str(msg, "progress");
    *ret_text = xasprintf("%s%s%s%s%s\n", id ? id : "", id ? ": " : "", status, progress ? " " : "",
                          progress ? progress : "");
}

/* One key of --detach-keys: ctrl-X, or a single character. */
static int
detach_key(const char *k, size_t n, char *ret)
{
    const char *c = n == 6 ? startswith(k, "ctrl-") : NULL;
    if (c) {
        if (*c >= 'a' && *c <= 'z')
            *ret = (char)(*c - 'a' + 1);
        else if (strchr("@[\\]^_", *c))
            *ret = (char)(*c == '@' ? 0 : *c - '[' + 27);
        else
            return -1;
        return *ret ? 0 : -1; /* NUL cannot be matched in a C string */
    }
    if (n != 1)
        return -1;
    *ret = k[0];
    return 0;
}

int
cli_parse_detach_keys(const char *s, char **ret, struct mc_error **err)
{
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_puts(&b, "");
    for (const char *p = s; *s && p;) {
        size_t n = strcspn(p, ",");
        char key;
        if (detach_key(p, n, &key) < 0) {
            mc_buf_free(&b);
            return mc_error_set(err, MC_ERR_USAGE,
                                "invalid detach keys '%s': use ctrl-a..ctrl-z, ctrl-[, ctrl-\\, "
                                "ctrl-], ctrl-^, ctrl-_ or single characters, comma-separated",
                                s);
        }
        mc_buf_putc(&b, key);
        p = p[n] ? p + n + 1 : NULL;
    }
    *ret = mc_buf_steal(&b);
    return 0;
}

static const char *const not_found_words[] = {
    "executable file not found",
    "no such file or directory",
    "not found in $PATH",
    "system cannot find the file specified",
};
static const char *const cannot_exec_words[] = {
    "permission denied",
    "is a directory",
    "exec format error",
};

int
cli_run_error_exit_code(const char *message)
{
    for (size_t i = 0; i < ELEMENTSOF(not_found_words); i++)
        if (strstr(message, not_found_words[i]))
            return 127;
    for (size_t i = 0; i < ELEMENTSOF(cannot_exec_words); i++)
        if (strstr(message, cannot_exec_words[i]))
            return 126;
    return 125;
}
