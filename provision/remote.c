#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"
#include "util.h"
#include "xalloc.h"

char *
prov_shell_quote(const char *text)
{
    struct mc_buf b = MC_BUF_INIT;
    mc_buf_putc(&b, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'')
            mc_buf_puts(&b, "'\\''");
        else
            mc_buf_putc(&b, *p);
    }
    mc_buf_putc(&b, '\'');
    return mc_buf_steal(&b);
}

static int
ssh_run(struct prov_remote *r, const char *script, bool as_root, const struct prov_input *in,
        int64_t deadline_ms, struct prov_ssh_result *res, struct mc_error **err)
{
    _cleanup_free_ char *q = prov_shell_quote(script);
    _cleanup_free_ char *cmd = xasprintf("%ssh -c %s", as_root && r->sudo ? "sudo -n " : "", q);
    _cleanup_close_ int fd = -1;
    struct prov_ssh_io io = PROV_SSH_IO_INIT;
    io.deadline_ms = deadline_ms;
    if (in && in->path) {
        fd = open(in->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return mc_error_sys(err, errno, "Cannot open '%s'", in->path);
        io.in_fd = fd;
    } else if (in) {
        io.in = in->data;
        io.in_len = in->len;
    }
    if (in) {
        io.progress = in->progress;
        io.userdata = in->userdata;
    }
    return prov_ssh_exec(r->ssh, cmd, &io, res, err);
}

static const struct prov_remote_ops ssh_ops = { .run = ssh_run };

void
prov_remote_init_ssh(struct prov_remote *r, struct prov_ssh *ssh, bool sudo)
{
    *r = (struct prov_remote){ .ops = &ssh_ops, .ssh = ssh, .sudo = sudo };
}

static int
record_run(struct prov_remote *r, const char *script, bool as_root, const struct prov_input *in,
           int64_t deadline_ms, struct prov_ssh_result *res, struct mc_error **err)
{
    mc_buf_printf(&r->transcript, "$ %s", as_root ? "[root] " : "");
    if (in && in->path)
        mc_buf_printf(&r->transcript, "< %s\n", in->path);
    else if (in)
        mc_buf_printf(&r->transcript, "<<< %zu bytes\n", in->len);
    else
        mc_buf_puts(&r->transcript, "\n");
    mc_buf_puts(&r->transcript, script);
    if (!endswith(script, "\n"))
        mc_buf_puts(&r->transcript, "\n");
    *res = (struct prov_ssh_result){ .status = 0 };
    for (const struct prov_canned *c = r->canned; c && c->match; c++) {
        if (strstr(script, c->match)) {
            res->status = c->status;
            res->out = xstrdup(c->out ? c->out : "");
            res->err = xstrdup(c->err ? c->err : "");
            break;
        }
    }
    if (!res->out)
        res->out = xstrdup("");
    if (!res->err)
        res->err = xstrdup("");
    res->out_len = strlen(res->out);
    res->err_len = strlen(res->err);
    return 0;
}

static const struct prov_remote_ops record_ops = { .run = record_run };

void
prov_remote_init_recorder(struct prov_remote *r, const struct prov_canned *canned)
{
    *r = (struct prov_remote){ .ops = &record_ops, .canned = canned };
}

void
prov_remote_clear(struct prov_remote *r)
{
    mc_buf_free(&r->transcript);
}

int
prov_remote_run(struct prov_remote *r, const char *script, bool as_root,
                const struct prov_input *in, int64_t deadline_ms, struct prov_ssh_result *res,
                struct mc_error **err)
{
    return r->ops->run(r, script, as_root, in, deadline_ms, res, err);
}

/* The last non-empty line of s, trimmed: what a failing command said last. */
static char *
last_words(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    size_t start = n;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    /* Keep up to 3 lines: the real cause is often one line above the last. */
    for (int lines = 1; lines < 3 && start > 1; lines++) {
        start--;
        while (start > 0 && s[start - 1] != '\n')
            start--;
    }
    _cleanup_free_ char *t = xstrndup(s + start, n - start);
    for (char *p = t; *p; p++)
        if (*p == '\n')
            *p = ' ';
    return TAKE_PTR(t);
}

int
prov_remote_check(struct prov_remote *r, const char *what, const char *script, bool as_root,
                  const struct prov_input *in, int64_t deadline_ms, char **ret_out,
                  struct mc_error **err)
{
    _cleanup_(prov_ssh_result_clear) struct prov_ssh_result res = { .status = -1 };
    if (prov_remote_run(r, script, as_root, in, deadline_ms, &res, err) < 0)
        return mc_error_prefix(err, "%s: ", what);
    if (res.status != 0) {
        _cleanup_free_ char *said = last_words(!isempty(res.err) ? res.err
                                               : res.out         ? res.out
                                                                 : "");
        return mc_error_set(err, MC_ERR_REMOTE, "%s failed on the host (exit %d)%s%s", what,
                            res.status, isempty(said) ? "" : ": ", said);
    }
    if (ret_out)
        *ret_out = TAKE_PTR(res.out);
    return 0;
}
