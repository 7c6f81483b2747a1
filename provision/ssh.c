#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

#include "fs.h"
#include "log.h"
#include "ssh.h"
#include "sshkey.h"
#include "sshwire.h"
#include "strbuf.h"
#include "timeutil.h"
#include "util.h"
#include "xalloc.h"

#define IO_BUF        (256 * 1024)
#define KNOWN_MAX     (64 * 1024)
#define KEX_PREF      "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256"
#define HOSTKEY_PREF  "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"
#define CIPHER_PREF   "aes128-ctr,aes256-ctr"
#define MAC_PREF      "hmac-sha2-256,hmac-sha2-512"
#define POLL_SLICE_MS 1000

struct prov_ssh {
    int fd;
    LIBSSH2_SESSION *session;
    char *peer; /* host:port */
    char *user;
    int keepalive_s;
    int64_t next_keepalive;
};

MC_DEFINE_CLEANUP(LIBSSH2_CHANNEL, libssh2_channel_free)

static void
ssh_global_init(void)
{
    static bool done;
    if (!done) {
        libssh2_init(0);
        done = true;
    }
}

/* The one conversion of libssh2's last error into ours. */
static int
ssh_error(struct prov_ssh *s, struct mc_error **err, enum mc_error_code code, const char *what)
{
    char *msg = NULL;
    int rc = s->session ? libssh2_session_last_error(s->session, &msg, NULL, 0) : 0;
    return mc_error_set(err, code, "%s with %s failed: %s (libssh2 error %d)", what, s->peer,
                        msg && *msg ? msg : "unknown error", rc);
}

const char *
prov_ssh_peer(const struct prov_ssh *s)
{
    return s->peer;
}

const char *
prov_ssh_user(const struct prov_ssh *s)
{
    return s->user;
}

void
prov_ssh_free(struct prov_ssh *s)
{
    if (!s)
        return;
    if (s->session) {
        /* Best effort and bounded: a dead peer must not hold us here. */
        libssh2_session_set_blocking(s->session, 0);
        libssh2_session_disconnect(s->session, "bye");
        libssh2_session_free(s->session);
    }
    mc_closep(&s->fd);
    free(s->peer);
    free(s->user);
    free(s);
}

static int
remaining_ms(int64_t deadline)
{
    if (deadline <= 0)
        return POLL_SLICE_MS;
    int64_t left = deadline - mc_now_ms();
    if (left <= 0)
        return 0;
    return left > POLL_SLICE_MS ? POLL_SLICE_MS : (int)left;
}

static void
keepalive(struct prov_ssh *s)
{
    if (!s->session || mc_now_ms() < s->next_keepalive)
        return;
    int next = 0;
    libssh2_keepalive_send(s->session, &next);
    s->next_keepalive = mc_now_ms() + (next > 0 ? next : s->keepalive_s) * 1000;
}

/* Waits until the socket is ready in the directions libssh2 is blocked on (or extra_fd is
 * readable), sending keepalives. Returns 1 when extra_fd is readable, 0 otherwise. */
static int
wait_socket(struct prov_ssh *s, int extra_fd, int64_t deadline, const char *what,
            struct mc_error **err)
{
    for (;;) {
        int dirs = s->session ? libssh2_session_block_directions(s->session) : 0;
        struct pollfd p[2] = { { .fd = s->fd, .events = 0 }, { .fd = extra_fd, .events = POLLIN } };
        if (dirs & LIBSSH2_SESSION_BLOCK_INBOUND || dirs == 0)
            p[0].events |= POLLIN;
        if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
            p[0].events |= POLLOUT;
        int t = remaining_ms(deadline);
        if (t == 0)
            return mc_error_set(err, MC_ERR_TIMEOUT, "%s with %s timed out", what, s->peer);
        int n = poll(p, extra_fd >= 0 ? 2 : 1, t);
        if (n < 0 && errno != EINTR)
            return mc_error_sys(err, errno, "poll on the SSH connection to %s", s->peer);
        keepalive(s);
        if (n > 0)
            return extra_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
        if (n < 0) /* EINTR: the caller may have a SIGWINCH to handle */
            return 0;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* TCP */

static int
tcp_connect_addr(const struct addrinfo *ai, int64_t deadline, int *ret_fd, int *ret_errno)
{
    _cleanup_close_ int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0)
        return *ret_errno = errno, -1;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
        return *ret_errno = errno, -1;
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    for (;;) {
        int t = remaining_ms(deadline);
        if (t == 0)
            return *ret_errno = ETIMEDOUT, -1;
        int n = poll(&p, 1, t);
        if (n < 0 && errno != EINTR)
            return *ret_errno = errno, -1;
        if (n > 0)
            break;
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
    if (soerr)
        return *ret_errno = soerr, -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *ret_fd = TAKE_FD(fd);
    return 0;
}

static int
tcp_connect(const char *host, int port, int64_t deadline, int *ret_fd, struct mc_error **err)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    int r = getaddrinfo(host, portstr, &hints, &res);
    if (r != 0)
        return mc_error_set(err, MC_ERR_IO, "Cannot resolve '%s': %s", host, gai_strerror(r));
    int e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (tcp_connect_addr(ai, deadline, ret_fd, &e) == 0) {
            freeaddrinfo(res);
            return 0;
        }
    freeaddrinfo(res);
    if (e == ETIMEDOUT)
        return mc_error_set(err, MC_ERR_TIMEOUT,
                            "TCP connection to %s:%d timed out (nothing answered)", host, port);
    return mc_error_sys(err, e, "TCP connection to %s:%d", host, port);
}

/* The server speaks first: wait for its identification line so that a silent sshd is told
 * apart from a failed key exchange. */
static int
wait_banner(struct prov_ssh *s, int64_t deadline, struct mc_error **err)
{
    struct pollfd p = { .fd = s->fd, .events = POLLIN };
    int64_t start = mc_now_ms();
    for (;;) {
        int t = remaining_ms(deadline);
        if (t == 0)
            return mc_error_set(err, MC_ERR_TIMEOUT,
                                "%s accepted the TCP connection but sent no SSH identification "
                                "within %.1f s (sshd is hung, overloaded, or not an SSH server)",
                                s->peer, (double)(mc_now_ms() - start) / 1000.0);
        int n = poll(&p, 1, t);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return mc_error_sys(err, errno, "poll on %s", s->peer);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Host key pinning */

static const char *
hostkey_type_name(int t)
{
    switch (t) {
    case LIBSSH2_HOSTKEY_TYPE_ED25519:
        return "ssh-ed25519";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256:
        return "ecdsa-sha2-nistp256";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384:
        return "ecdsa-sha2-nistp384";
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521:
        return "ecdsa-sha2-nistp521";
    case LIBSSH2_HOSTKEY_TYPE_RSA:
        return "ssh-rsa";
    default:
        return "unknown";
    }
}

/* The pinned key (if any), read before the handshake so its type can be preferred. */
static int
read_pinned(const char *path, struct prov_hostkey *ret, struct mc_error **err)
{
    if (!path || !mc_path_exists(path))
        return 0;
    _cleanup_free_ char *text = NULL;
    if (mc_read_file(path, KNOWN_MAX, &text, NULL, err) < 0)
        return -1;
    int r = prov_knownhosts_find(text, NULL, ret, err);
    if (r < 0)
        return mc_error_prefix(err, "'%s': ", path);
    return r;
}

static int
check_hostkey(struct prov_ssh *s, const struct prov_ssh_config *c, const struct prov_hostkey *pin,
              struct mc_error **err)
{
    size_t len = 0;
    int type = 0;
    const char *blob = libssh2_session_hostkey(s->session, &len, &type);
    if (!blob)
        return ssh_error(s, err, MC_ERR_IO, "Reading the host key");
    struct prov_hostkey got = { .type = (char *)hostkey_type_name(type),
                                .blob = (uint8_t *)blob,
                                .len = len };
    if (pin->type) {
        if (streq(pin->type, got.type) && pin->len == len && memcmp(pin->blob, blob, len) == 0)
            return 0;
        _cleanup_free_ char *was = prov_hostkey_fingerprint(pin->blob, pin->len);
        _cleanup_free_ char *now = prov_hostkey_fingerprint(got.blob, got.len);
        return mc_error_set(err, MC_ERR_CONFLICT,
                            "The host key of %s has changed: pinned %s %s (in '%s'), offered "
                            "now %s %s. The host may have been reinstalled, or something is "
                            "intercepting the connection. If you know why it changed, accept the "
                            "new key deliberately by deleting '%s': the next contact pins the "
                            "key the host offers then.",
                            s->peer, pin->type, was, c->known_hosts, got.type, now, c->known_hosts);
    }
    if (!c->known_hosts)
        return 0;
    _cleanup_free_ char *line = prov_knownhosts_line(c->host, c->port ? c->port : 22, &got);
    if (mc_write_file_atomic(c->known_hosts, line, strlen(line), 0600, err) < 0)
        return mc_error_prefix(err, "Pinning the host key of %s: ", s->peer);
    _cleanup_free_ char *fp = prov_hostkey_fingerprint(got.blob, got.len);
    log_info("pinned the host key of %s: %s %s", s->peer, got.type, fp);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Handshake and authentication */

static int
set_prefs(struct prov_ssh *s, const struct prov_hostkey *pin)
{
    _cleanup_free_ char *hostkeys = pin->type && !streq(pin->type, "ssh-rsa")
                                            ? xasprintf("%s,%s", pin->type, HOSTKEY_PREF)
                                            : xstrdup(HOSTKEY_PREF);
    if (libssh2_session_method_pref(s->session, LIBSSH2_METHOD_KEX, KEX_PREF) < 0 ||
        libssh2_session_method_pref(s->session, LIBSSH2_METHOD_HOSTKEY, hostkeys) < 0 ||
        libssh2_session_method_pref(s->session, LIBSSH2_METHOD_CRYPT_CS, CIPHER_PREF) < 0 ||
        libssh2_session_method_pref(s->session, LIBSSH2_METHOD_CRYPT_SC, CIPHER_PREF) < 0 ||
        libssh2_session_method_pref(s->session, LIBSSH2_METHOD_MAC_CS, MAC_PREF) < 0 ||
        libssh2_session_method_pref(s->session, LIBSSH2_METHOD_MAC_SC, MAC_PREF) < 0)
        return -1;
    return 0;
}

/* A failed key exchange: find out what the server offered and say why we cannot use it. */
static int
explain_kex_failure(struct prov_ssh *s, const struct prov_ssh_config *c, int64_t deadline,
                    struct mc_error **err)
{
    _cleanup_error_ struct mc_error *perr = NULL;
    int64_t probe_deadline = mc_now_ms() + 5000;
    if (deadline > 0 && deadline < probe_deadline)
        probe_deadline = deadline;
    _cleanup_free_ char *offer =
            prov_ssh_probe_hostkeys(c->host, c->port ? c->port : 22, probe_deadline, &perr);
    if (offer && !prov_namelist_has(offer, "ssh-ed25519") &&
        !prov_namelist_has(offer, "ecdsa-sha2-nistp256") &&
        !prov_namelist_has(offer, "ecdsa-sha2-nistp384") &&
        !prov_namelist_has(offer, "ecdsa-sha2-nistp521"))
        return mc_error_set(err, MC_ERR_UNSUPPORTED,
                            "%s offers only these host key types: %s. machine refuses RSA host "
                            "keys: libssh2 1.10 verifies them only with ssh-rsa (SHA-1), which "
                            "OpenSSH 8.8 and later reject. Give the host an ed25519 host key "
                            "(ssh-keygen -A on the host, then reload sshd).",
                            s->peer, offer);
    return ssh_error(s, err, MC_ERR_IO, offer ? "Key exchange" : "Key exchange (offer unknown)");
}

static int
handshake(struct prov_ssh *s, const struct prov_ssh_config *c, int64_t deadline,
          struct mc_error **err)
{
    int rc;
    while ((rc = libssh2_session_handshake(s->session, s->fd)) == LIBSSH2_ERROR_EAGAIN)
        if (wait_socket(s, -1, deadline, "SSH handshake", err) < 0)
            return -1;
    if (rc == LIBSSH2_ERROR_KEX_FAILURE)
        return explain_kex_failure(s, c, deadline, err);
    if (rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_RECV ||
        rc == LIBSSH2_ERROR_BANNER_RECV)
        return ssh_error(s, err, MC_ERR_IO, "SSH handshake");
    if (rc < 0)
        return ssh_error(s, err, MC_ERR_FAILED, "SSH handshake");
    return 0;
}

static int
authenticate(struct prov_ssh *s, const struct prov_ssh_config *c, int64_t deadline,
             struct mc_error **err)
{
    enum mc_key_type kt = MC_KEY_UNKNOWN;
    mc_sshkey_check_file(c->identity, &kt, NULL);
    int rc;
    while ((rc = libssh2_userauth_publickey_fromfile_ex(s->session, s->user, strlen(s->user), NULL,
                                                        c->identity, NULL)) == LIBSSH2_ERROR_EAGAIN)
        if (wait_socket(s, -1, deadline, "SSH authentication", err) < 0)
            return -1;
    if (rc == LIBSSH2_ERROR_AUTHENTICATION_FAILED || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED)
        return mc_error_set(err, MC_ERR_AUTH,
                            "%s refused the %s key '%s' for user '%s' (is its public key in "
                            "~%s/.ssh/authorized_keys on the host?)",
                            s->peer, mc_key_type_name(kt), c->identity, s->user, s->user);
    if (rc == LIBSSH2_ERROR_FILE)
        return ssh_error(s, err, MC_ERR_INVALID, "Loading the key for authentication");
    if (rc < 0)
        return ssh_error(s, err, MC_ERR_AUTH, "SSH authentication");
    return 0;
}

int
prov_ssh_connect(const struct prov_ssh_config *c, int64_t deadline_ms, struct prov_ssh **ret,
                 struct mc_error **err)
{
    ssh_global_init();
    int port = c->port ? c->port : 22;
    enum mc_key_type kt;
    if (mc_sshkey_check_file(c->identity, &kt, err) < 0)
        return -1;
    _cleanup_(prov_hostkey_clear) struct prov_hostkey pin = { 0 };
    if (read_pinned(c->known_hosts, &pin, err) < 0)
        return -1;
    _cleanup_ssh_ struct prov_ssh *s = xzalloc(sizeof(*s));
    s->fd = -1;
    s->peer = strchr(c->host, ':') ? xasprintf("[%s]:%d", c->host, port)
                                   : xasprintf("%s:%d", c->host, port);
    s->user = xstrdup(c->user ? c->user : "root");
    s->keepalive_s = c->keepalive_s > 0 ? c->keepalive_s : 15;
    if (tcp_connect(c->host, port, deadline_ms, &s->fd, err) < 0 ||
        wait_banner(s, deadline_ms, err) < 0)
        return -1;
    s->session = libssh2_session_init();
    if (!s->session)
        return mc_error_set(err, MC_ERR_FAILED, "libssh2 cannot make a session");
    libssh2_session_set_blocking(s->session, 0);
    if (set_prefs(s, &pin) < 0)
        return ssh_error(s, err, MC_ERR_FAILED, "Setting SSH algorithm preferences");
    if (handshake(s, c, deadline_ms, err) < 0 || check_hostkey(s, c, &pin, err) < 0 ||
        authenticate(s, c, deadline_ms, err) < 0)
        return -1;
    libssh2_keepalive_config(s->session, 1, (unsigned)s->keepalive_s);
    s->next_keepalive = mc_now_ms() + s->keepalive_s * 1000;
    *ret = TAKE_PTR(s);
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Exec channels */

void
prov_ssh_result_clear(struct prov_ssh_result *r)
{
    free(r->signal);
    free(r->out);
    free(r->err);
    *r = (struct prov_ssh_result){ .status = -1 };
}

struct exec_state {
    struct prov_ssh *s;
    LIBSSH2_CHANNEL *ch;
    const struct prov_ssh_io *io;
    struct mc_buf out, errb;
    uint8_t *inbuf; /* pending stdin bytes from in_fd */
    size_t in_have, in_off;
    size_t mem_off; /* of io->in */
    uint64_t sent;
    bool in_eof, eof_sent;
};

static int
channel_open(struct prov_ssh *s, int64_t deadline, LIBSSH2_CHANNEL **ret, struct mc_error **err)
{
    LIBSSH2_CHANNEL *ch;
    while (!(ch = libssh2_channel_open_session(s->session))) {
        if (libssh2_session_last_errno(s->session) != LIBSSH2_ERROR_EAGAIN)
            return ssh_error(s, err, MC_ERR_IO, "Opening an SSH channel");
        if (wait_socket(s, -1, deadline, "Opening an SSH channel", err) < 0)
            return -1;
    }
    *ret = ch;
    return 0;
}

#define RETRY(s, call, deadline, what, err)                            \
    __extension__({                                                    \
        int _rc;                                                       \
        while ((_rc = (call)) == LIBSSH2_ERROR_EAGAIN)                 \
            if (wait_socket((s), -1, (deadline), (what), (err)) < 0) { \
                _rc = INT32_MIN;                                       \
                break;                                                 \
            }                                                          \
        _rc;                                                           \
    })

static int
start_channel(struct exec_state *st, const char *cmd, struct mc_error **err)
{
    const struct prov_ssh_io *io = st->io;
    int64_t dl = io->deadline_ms;
    int rc;
    if (io->pty) {
        const char *term = io->term ? io->term : "xterm";
        rc = RETRY(st->s,
                   libssh2_channel_request_pty_ex(st->ch, term, strlen(term), NULL, 0,
                                                  io->cols > 0 ? io->cols : 80,
                                                  io->rows > 0 ? io->rows : 24, 0, 0),
                   dl, "Requesting a terminal", err);
        if (rc == INT32_MIN)
            return -1;
        if (rc < 0)
            return ssh_error(st->s, err, MC_ERR_IO, "Requesting a terminal");
    }
    if (cmd)
        rc = RETRY(st->s, libssh2_channel_process_startup(st->ch, "exec", 4, cmd, strlen(cmd)), dl,
                   "Starting a command", err);
    else
        rc = RETRY(st->s, libssh2_channel_process_startup(st->ch, "shell", 5, NULL, 0), dl,
                   "Starting a shell", err);
    if (rc == INT32_MIN)
        return -1;
    if (rc < 0)
        return ssh_error(st->s, err, MC_ERR_IO, cmd ? "Starting a command" : "Starting a shell");
    return 0;
}

static int
deliver(struct exec_state *st, int stream, const char *buf, size_t n, struct mc_error **err)
{
    int fd = stream == 0 ? st->io->out_fd : st->io->err_fd;
    if (fd < 0) {
        mc_buf_append(stream == 0 ? &st->out : &st->errb, buf, n);
        return 0;
    }
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            poll(&p, 1, 1000);
            continue;
        }
        if (w < 0)
            return mc_error_sys(err, errno, "Writing the remote command's output");
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads what is available on both streams. Returns 1 when something was read, 0 when nothing
 * was, -1 on error. */
static int
pump_out(struct exec_state *st, char *buf, struct mc_error **err)
{
    int progress = 0;
    for (int stream = 0; stream < 2; stream++) {
        for (;;) {
            ssize_t n = libssh2_channel_read_ex(st->ch, stream, buf, IO_BUF);
            if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
                break;
            if (n < 0)
                return ssh_error(st->s, err, MC_ERR_IO, "Reading the command's output");
            if (deliver(st, stream, buf, (size_t)n, err) < 0)
                return -1;
            progress = 1;
        }
    }
    return progress;
}

/* Fills the stdin buffer from in_fd when it is empty and readable now. */
static int
fill_input(struct exec_state *st, struct mc_error **err)
{
    if (st->io->in_fd < 0 || st->in_eof || st->in_off < st->in_have)
        return 0;
    ssize_t n = read(st->io->in_fd, st->inbuf, IO_BUF);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n < 0)
        return mc_error_sys(err, errno, "Reading the input for the remote command");
    if (n == 0)
        st->in_eof = true;
    st->in_have = (size_t)n;
    st->in_off = 0;
    return 0;
}

/* The stdin bytes not sent yet. */
static size_t
pending_input(struct exec_state *st, const char **ret)
{
    const struct prov_ssh_io *io = st->io;
    if (io->in_fd >= 0) {
        *ret = (const char *)st->inbuf + st->in_off;
        return st->in_have - st->in_off;
    }
    *ret = io->in ? (const char *)io->in + st->mem_off : NULL;
    size_t n = io->in ? io->in_len - st->mem_off : 0;
    st->in_eof = (n == 0);
    return n;
}

/* Writes pending stdin, packet after packet until the buffer is sent or the channel would
 * block (one packet per pass would add a poll and two reads per 32 KB). Returns 1 on progress,
 * 0 when blocked, -1 on error. */
static int
pump_in(struct exec_state *st, struct mc_error **err)
{
    const struct prov_ssh_io *io = st->io;
    int progress = 0;
    for (;;) {
        const char *p;
        size_t n = pending_input(st, &p);
        if (n == 0)
            return progress;
        ssize_t w = libssh2_channel_write(st->ch, p, n);
        if (w == LIBSSH2_ERROR_EAGAIN)
            return progress;
        if (w < 0)
            return ssh_error(st->s, err, MC_ERR_IO, "Sending input to the command");
        if (io->in_fd >= 0)
            st->in_off += (size_t)w;
        else
            st->mem_off += (size_t)w;
        st->sent += (uint64_t)w;
        if (io->progress)
            io->progress(io->userdata, st->sent);
        progress = 1;
    }
}

static int
maybe_send_eof(struct exec_state *st, struct mc_error **err)
{
    bool drained = st->io->in_fd >= 0 ? st->in_off >= st->in_have : true;
    if (st->eof_sent || !st->in_eof || !drained || st->io->pty)
        return 0;
    int rc = libssh2_channel_send_eof(st->ch);
    if (rc == LIBSSH2_ERROR_EAGAIN)
        return 0;
    if (rc < 0)
        return ssh_error(st->s, err, MC_ERR_IO, "Closing the command's input");
    st->eof_sent = true;
    return 1;
}

static void
resize_if_asked(struct exec_state *st)
{
    const struct prov_ssh_io *io = st->io;
    if (!io->pty || !io->winch || !*io->winch || !io->get_size)
        return;
    *io->winch = 0;
    int cols = 80, rows = 24;
    io->get_size(&cols, &rows);
    /* A lost resize only leaves the terminal size stale: not worth failing over. */
    while (libssh2_channel_request_pty_size(st->ch, cols, rows) == LIBSSH2_ERROR_EAGAIN)
        if (wait_socket(st->s, -1, mc_now_ms() + 2000, "Resizing the terminal", NULL) < 0)
            break;
}

static int
run_loop(struct exec_state *st, struct mc_error **err)
{
    _cleanup_free_ char *buf = xmalloc(IO_BUF);
    for (;;) {
        resize_if_asked(st);
        if (fill_input(st, err) < 0)
            return -1;
        int a = pump_in(st, err), b = maybe_send_eof(st, err), c = pump_out(st, buf, err);
        if (a < 0 || b < 0 || c < 0)
            return -1;
        if (libssh2_channel_eof(st->ch) && c == 0)
            return 0;
        if (a > 0 || b > 0 || c > 0)
            continue;
        bool want_input = st->io->in_fd >= 0 && !st->in_eof && st->in_off >= st->in_have;
        if (wait_socket(st->s, want_input ? st->io->in_fd : -1, st->io->deadline_ms,
                        "Running a command", err) < 0)
            return -1;
    }
}

static int
finish_channel(struct exec_state *st, struct prov_ssh_result *res, struct mc_error **err)
{
    int64_t dl = st->io->deadline_ms;
    int rc = RETRY(st->s, libssh2_channel_close(st->ch), dl, "Closing the channel", err);
    if (rc == INT32_MIN)
        return -1;
    rc = RETRY(st->s, libssh2_channel_wait_closed(st->ch), dl, "Closing the channel", err);
    if (rc == INT32_MIN)
        return -1;
    char *sig = NULL;
    size_t siglen = 0;
    libssh2_channel_get_exit_signal(st->ch, &sig, &siglen, NULL, NULL, NULL, NULL);
    res->status = libssh2_channel_get_exit_status(st->ch);
    if (sig) {
        res->signal = xstrndup(sig, siglen);
        libssh2_free(st->s->session, sig);
        res->status = 128 + 9; /* the number is not sent; KILL is what timeouts use */
        static const char *const names[] = { "",     "HUP",  "INT",  "QUIT", "ILL",  "TRAP",
                                             "ABRT", "BUS",  "FPE",  "KILL", "USR1", "SEGV",
                                             "USR2", "PIPE", "ALRM", "TERM" };
        for (size_t i = 1; i < ELEMENTSOF(names); i++)
            if (streq(res->signal, names[i]))
                res->status = 128 + (int)i;
    }
    return 0;
}

int
prov_ssh_exec(struct prov_ssh *s, const char *cmd, const struct prov_ssh_io *io,
              struct prov_ssh_result *res, struct mc_error **err)
{
    *res = (struct prov_ssh_result){ .status = -1 };
    struct exec_state st = { .s = s, .io = io };
    _cleanup_(libssh2_channel_freep) LIBSSH2_CHANNEL *ch = NULL;
    _cleanup_free_ uint8_t *inbuf = io->in_fd >= 0 ? xmalloc(IO_BUF) : NULL;
    _cleanup_buf_ struct mc_buf out = MC_BUF_INIT;
    _cleanup_buf_ struct mc_buf errb = MC_BUF_INIT;
    if (channel_open(s, io->deadline_ms, &ch, err) < 0)
        return -1;
    st.ch = ch;
    st.inbuf = inbuf;
    log_debug("exec on %s: %s", s->peer, cmd ? cmd : "(shell)");
    int r = 0;
    if (start_channel(&st, cmd, err) < 0 || run_loop(&st, err) < 0 ||
        finish_channel(&st, res, err) < 0)
        r = -1;
    out = st.out;
    errb = st.errb;
    if (r < 0)
        return -1;
    if (io->out_fd < 0) {
        res->out_len = out.len;
        res->out = out.data ? mc_buf_steal(&out) : xstrdup("");
    }
    if (io->err_fd < 0) {
        res->err_len = errb.len;
        res->err = errb.data ? mc_buf_steal(&errb) : xstrdup("");
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Probe of the server's offer */

static int
recv_some(int fd, struct mc_buf *b, int64_t deadline, struct mc_error **err)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    int t = remaining_ms(deadline);
    if (t == 0)
        return mc_error_set(err, MC_ERR_TIMEOUT, "The server sent no KEXINIT in time");
    if (poll(&p, 1, t) <= 0)
        return 0;
    char tmp[4096];
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0)
        return mc_error_set(err, MC_ERR_IO, "The server closed the connection before KEXINIT");
    mc_buf_append(b, tmp, (size_t)n);
    return 0;
}

char *
prov_ssh_probe_hostkeys(const char *host, int port, int64_t deadline_ms, struct mc_error **err)
{
    _cleanup_close_ int fd = -1;
    if (tcp_connect(host, port, deadline_ms, &fd, err) < 0)
        return NULL;
    static const char ident[] = "SSH-2.0-machine_probe\r\n";
    if (send(fd, ident, sizeof(ident) - 1, MSG_NOSIGNAL) < 0) {
        mc_error_sys(err, errno, "Sending to %s", host);
        return NULL;
    }
    _cleanup_buf_ struct mc_buf b = MC_BUF_INIT;
    for (;;) {
        if (recv_some(fd, &b, deadline_ms, err) < 0)
            return NULL;
        /* Skip the identification line (and any lines before it). */
        const char *id = b.data ? memmem(b.data, b.len, "SSH-", 4) : NULL;
        const char *nl = id ? memchr(id, '\n', b.len - (size_t)(id - b.data)) : NULL;
        if (!nl)
            continue;
        size_t off = (size_t)(nl + 1 - b.data);
        if (b.len - off < 5)
            continue;
        const uint8_t *pkt = (const uint8_t *)b.data + off;
        uint32_t plen =
                (uint32_t)pkt[0] << 24 | (uint32_t)pkt[1] << 16 | (uint32_t)pkt[2] << 8 | pkt[3];
        if (plen > 35000 || b.len - off >= plen + 4) {
            _cleanup_(prov_kexinit_clear) struct prov_kexinit k = { 0 };
            if (prov_kexinit_parse(pkt, b.len - off, &k, err) < 0)
                return NULL;
            return TAKE_PTR(k.hostkeys);
        }
    }
}
