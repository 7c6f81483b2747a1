#!/usr/bin/env python3
"""Provisioning against real sshds: a changed host key is refused by `machine ssh` and
`machine provision` (issue 4, done-when 2); a non-root user with passwordless sudo provisions,
one without is stopped before anything changes (3); a host offering only RSA host keys and an
RSA user key are refused with the reason."""
import os
import pty
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts'))
import hostlib  # noqa: E402
from hostlib import ok, diag  # noqa: E402

hostlib.require_root()
hosts = hostlib.Hosts('keys')
m = hostlib.Machine('keys')


def interactive_shell():
    """`machine ssh hk` with no command, on a terminal: a login shell with a terminal of its
    own on the host, and the shell's exit code back."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(m.bin, [m.bin, 'ssh', 'hk'], dict(m.env, TERM='xterm'))
    said = b''
    deadline = time.monotonic() + 30
    sent = False
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side is closed
                break
            if not chunk:
                break
            said += chunk
        if not sent and b'# ' in said:  # root's prompt
            os.write(fd, b'tty; echo "term=$TERM"; exit 4\n')
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = said.decode(errors='replace')
    ok(sent and re.search(r'/dev/pts/\d+\r?\n', text) and 'term=xterm' in text,
       'machine ssh NAME without a command is an interactive shell with a terminal', text)
    ok(os.waitstatus_to_exitcode(status) == 4, 'and the shell\'s exit code comes back (4)',
       str(status))


def scp_round_trips():
    src = os.path.join(m.tmp, 'up.txt')
    with open(src, 'w') as f:
        f.write('scp-round-trip\n')
    rc, out, err, _ = m.run('scp', src, 'hk:/tmp/up.txt')
    back = os.path.join(m.tmp, 'back.txt')
    rc2, out, err2, _ = m.run('scp', 'hk:/tmp/up.txt', back)
    ok(rc == 0 and rc2 == 0 and open(back).read() == 'scp-round-trip\n',
       'machine scp copies a file there and back', err + err2)
    tree = os.path.join(m.tmp, 'tree')
    os.makedirs(os.path.join(tree, 'sub'))
    with open(os.path.join(tree, 'sub', 'f'), 'w') as f:
        f.write('deep\n')
    rc, out, err, _ = m.run('scp', tree, 'hk:/tmp/')
    ok(rc != 0, 'machine scp of a folder without -r fails (scp says why)', err)
    rc, out, err, _ = m.run('scp', '-r', tree, 'hk:/tmp/')
    code, there = hosts.exec(hosts_by_name['hk'], 'cat /tmp/tree/sub/f')
    ok(rc == 0 and there == 'deep\n', 'machine scp -r copies a folder to the host', err)
    rc, out, err, _ = m.run('scp', '-r', 'hk:/tmp/tree', os.path.join(m.tmp, 'tree-back'))
    copied = os.path.join(m.tmp, 'tree-back', 'sub', 'f')
    ok(rc == 0 and os.path.isfile(copied) and open(copied).read() == 'deep\n',
       'and back from it', err)


hosts_by_name = {}


def changed_host_key():
    h, = hosts.up(1, '-k')
    hosts_by_name['hk'] = h
    rc, out, err, secs = m.create_generic('hk', h)
    ok(rc == 0, 'create on a fresh host', err)
    rc, out, err, _ = m.run('ssh', 'hk', 'echo', 'through-ssh')
    ok(rc == 0 and 'through-ssh' in out, 'machine ssh runs a command with the pinned key', err)
    rc, out, err, _ = m.run('ssh', 'hk', 'exit 7')
    ok(rc == 7, 'machine ssh passes the exit code back (7)', 'rc=%d %s' % (rc, err))
    rc, out, err, _ = m.run('ssh', 'hk', '--', 'sh', '-c', '"echo dashed; exit 3"')
    ok(rc == 3 and out == 'dashed\n', 'machine ssh NAME -- COMMAND (exit 3)',
       'rc=%d %s' % (rc, err))
    interactive_shell()
    scp_round_trips()
    hosts.run('sshd', h['name'], 'rekey')
    rc, out, err, _ = m.run('ssh', 'hk', 'true')
    ok(rc != 0 and 'has changed' in err and 'known_hosts' in err and 'deliberately' in err,
       'machine ssh refuses a changed host key, saying what changed and how to accept it', err)
    rc, out, err, _ = m.run('provision', 'hk')
    ok(rc != 0 and 'has changed' in err and "'wait for SSH'" in err,
       'machine provision refuses it too, naming the step', err)
    kh = os.path.join(m.store, 'machines', 'hk', 'known_hosts')
    os.unlink(kh)
    rc, out, err, _ = m.run('provision', 'hk')
    ok(rc == 0, 'after deleting the pinned key deliberately, provision pins the new one', err)
    rc, out, err, _ = m.run('rm', '-y', 'hk')
    ok(rc == 0, 'rm', err)


def sudo_users():
    good, = hosts.up(1, '-s', user='alice', sudo='nopasswd')
    bad, = hosts.up(1, '-n', user='bob', sudo='password')
    rc, out, err, _ = m.create_generic('alice', good, user='alice')
    ok(rc == 0, 'a non-root user with passwordless sudo provisions', err)
    code, ps = hosts.exec(good, 'ps -eo user,comm | grep machined')
    ok(code == 0 and ps.split()[0] == 'root', 'the engine runs as root', ps)
    rc, out, err, _ = m.run('rm', '-y', 'alice')
    ok(rc == 0, 'rm through sudo', err)
    code, left = hosts.exec(good, 'ls /usr/local/bin/machined /etc/machined 2>/dev/null')
    ok(left.strip() == '', 'rm through sudo removed the engine', left)

    rc, out, err, _ = m.create_generic('bob', bad, user='bob')
    ok(rc != 0 and 'without a password' in err and 'Nothing was changed' in err and
       "'host facts'" in err, 'a user without passwordless sudo is stopped at the facts', err)
    code, state = hosts.exec(bad, 'hostname; test ! -e /usr/local/bin/machined && '
                                  'test ! -e /etc/machined && echo untouched')
    ok(state.split() == [bad['name'], 'untouched'],
       'nothing changed on the host (host name, engine files)', state)
    rec = m.record('bob')
    ok(rec['create']['state'] == 'failed' if 'create' in rec else False,
       "the machine is left 'failed'", str(rec.get('create')))
    rc, out, err, _ = m.run('rm', '-y', 'bob')
    ok(rc == 0 and 'Nothing of machine' in err, 'rm forgets it without touching the host', err)


def rsa():
    h, = hosts.up(1, '-r', rsa_only=True)
    rc, out, err, secs = m.create_generic('rsahost', h, '--ssh-timeout', '20s')
    ok(rc != 0 and 'offers only these host key types' in err and 'SHA-1' in err,
       'a host offering only RSA host keys is refused with the reason', err)
    ok(secs < 10, 'refused at once, not retried until the timeout (%.1f s)' % secs)
    m.run('rm', '-y', 'rsahost')
    key = os.path.join(m.tmp, 'id_rsa')
    subprocess.run(['ssh-keygen', '-q', '-t', 'rsa', '-N', '', '-f', key], check=True)
    h2, = hosts.up(1, '-q')
    rc, out, err, _ = m.run('create', '--driver', 'generic', '--generic-ip-address', h2['ip'],
                            '--generic-ssh-key', key, 'rsakey')
    ok(rc == 3 and 'RSA key' in err and 'OpenSSH 8.8' in err,
       'an RSA user key is refused with the reason by the pre-create check (exit 3)', err)
    ok(not os.path.exists(os.path.join(m.store, 'machines', 'rsakey')),
       'and nothing is left behind')


def unauthorised_key():
    """A key the host does not accept is retried (cloud-init may install it late) until
    --ssh-timeout, not longer and not much shorter, and the error says what the host said."""
    h, = hosts.up(1, '-u')
    key = os.path.join(m.tmp, 'id_other')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', key], check=True)
    rc, out, err, secs = m.create_generic('other', dict(h, key=key), '--ssh-timeout', '3s')
    ok(rc == 1 and "step 1/8 'wait for SSH'" in err and 'refused the ed25519 key' in err,
       'a key the host refuses fails the wait for SSH with the cause', err)
    ok(2.7 <= secs < 5, 'after retrying for the whole --ssh-timeout 3s (%.2f s)' % secs)
    m.run('rm', '-y', 'other')


def ecdsa_key():
    """--generic-ssh-key takes an ECDSA key (OpenSSH's own format, as ssh-keygen writes it) for
    provisioning (libssh2) and for machine ssh (OpenSSH)."""
    key = os.path.join(m.tmp, 'id_ecdsa')
    subprocess.run(['ssh-keygen', '-q', '-t', 'ecdsa', '-N', '', '-f', key], check=True)
    h, = hosts.up(1, '-e', authorized_key=key + '.pub')
    rc, out, err, _ = m.create_generic('ec', dict(h, key=key))
    ok(rc == 0, 'an ECDSA user key provisions', err)
    rc, out, err, _ = m.run('ssh', 'ec', 'echo', 'ecdsa-ok')
    ok(rc == 0 and out == 'ecdsa-ok\n', 'and machine ssh logs in with it', err)
    m.run('rm', '-y', 'ec')


def step_timeout():
    """A step that outlives --provision-timeout fails on time, naming the step and the limit."""
    h, = hosts.up(1, '-t')
    # `hostname NAME` (step 3) hangs; the facts' plain `hostname` (step 2) answers.
    hosts.exec(h, "printf '#!/bin/sh\\n[ $# -gt 0 ] && sleep 60\\nexec /bin/hostname \"$@\"\\n' "
                  ">/usr/local/bin/hostname; chmod 755 /usr/local/bin/hostname")
    rc, out, err, secs = m.create_generic('hang', h, '--provision-timeout', '2s')
    ok(rc == 1 and "step 3/8 'host name' failed after 2." in err and
       'its limit (--provision-timeout 2s)' in err and 'timed out' in err,
       'a hanging step fails naming the step, the limit and the cause', err)
    ok(secs < 6, 'on time (%.2f s)' % secs)
    m.run('rm', '-y', 'hang')


def engine_unreachable():
    """An engine that starts but cannot be reached (its port dropped by the host's packet
    filter): step 8 fails within --provision-timeout, with the cause and the engine's words."""
    h, = hosts.up(1, '-d')
    hosts.exec(h, 'iptables -A INPUT -p tcp --dport 2376 -j DROP')
    rc, out, err, secs = m.create_generic('dropped', h, '--provision-timeout', '3s')
    ok(rc == 1 and "step 8/8 'wait for engine' failed after 3." in err and
       'its limit (--provision-timeout 3s)' in err and '/_ping failed' in err and
       "the engine's log ends with" in err and 'listening on tcp://0.0.0.0:2376' in err,
       'an engine nobody can reach fails the last step with the cause and its own log', err)
    ok(secs < 8, 'on time (%.2f s)' % secs)
    m.run('rm', '-y', 'dropped')


def failing_engine():
    h, = hosts.up(1, '-f')
    # A static binary that is not an engine: the service cannot start, and the error says so.
    rc, out, err, _ = m.create_generic('broken', h, '--engine-binary', '/bin/busybox',
                                       '--provision-timeout', '10s')
    ok(rc != 0 and "step 6/8 'engine service' failed" in err and 'applet not found' in err,
       "a failing engine names the step and quotes the engine's own words", err)
    ok(m.record('broken')['create']['state'] == 'failed', "the machine is left 'failed'")
    rc, out, err, _ = m.run('rm', '-y', 'broken')
    code, left = hosts.exec(h, 'ls /usr/local/bin/machined /etc/machined 2>/dev/null')
    ok(rc == 0 and left.strip() == '', 'rm removes what the failed provisioning installed', err)


def firewall():
    h, = hosts.up(1, '-w')
    # The host firewall step's detection and commands, against a stand-in ufw that reports
    # itself active and records what it is asked (the real ufw needs python3 and iptables
    # rules that a test host does not have).
    hosts.exec(h, "cat > /usr/sbin/ufw <<'EOF'\n#!/bin/sh\n"
                  "echo \"$*\" >> /var/log/ufw-calls\n"
                  "[ \"$1\" = status ] && echo 'Status: active'\nexit 0\nEOF\n"
                  "chmod 755 /usr/sbin/ufw")
    rc, out, err, _ = m.create_generic('fw', h, '--engine-port', '2377')
    _, calls = hosts.exec(h, 'cat /var/log/ufw-calls')
    ok(rc == 0 and 'allow 2377/tcp' in calls and 'opened 2377/tcp in ufw' in err,
       'an active ufw gets the engine port opened (--engine-port 2377)', err + calls)
    ok(m.docker('fw', 'version')[0] == 0, 'the engine answers on port 2377')
    m.run('rm', '-y', 'fw')


changed_host_key()
unauthorised_key()
ecdsa_key()
step_timeout()
engine_unreachable()
failing_engine()
firewall()
sudo_users()
rsa()
hostlib.done()
