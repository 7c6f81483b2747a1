"""Helpers for the libvirt driver's tests against a real libvirtd.

A test calls run_inside(main): the first call starts a private libvirtd (lvns.sh: its own
network and mount namespaces, state under /tmp/libvirt-<tag>-<pid>), re-runs the same script
inside those namespaces, then stops everything it started, whatever happened. Inside, `machine`
and `qemu:///system` are that libvirtd's, and the guests' addresses exist only there.

Images: image() builds (once, cached) the test cloud image; Server serves a folder over HTTP on
the namespace's loopback (with byte ranges) so the driver's download path runs."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import hostlib  # noqa: E402
from hostlib import bail, skip_all  # noqa: E402

SRCDIR = hostlib.SRCDIR
LVNS = os.path.join(HERE, 'lvns.sh')
INSIDE = 'MACHINE_LIBVIRT_TEST_INSIDE'
IMAGE_NAME = 'debian-12-genericcloud-amd64.qcow2'


def require():
    if os.geteuid() != 0:
        skip_all('a private libvirtd needs root (namespaces, libvirtd, qemu)')
    for tool in ('libvirtd', 'virtlogd', 'qemu-system-x86_64', 'dnsmasq', 'unshare', 'nsenter',
                 'virsh'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            skip_all('%s is not installed (scripts/install-deps installs it)' % tool)


def run_inside(tag, main):
    """Runs main() inside a private libvirtd's namespaces; exits with its status."""
    if os.environ.get(INSIDE):
        main()
        return
    require()
    ns = '/tmp/libvirt-%s-%d' % (tag, os.getpid())
    r = subprocess.run([LVNS, 'start', ns], capture_output=True, text=True)
    if r.returncode != 0:
        bail('the private libvirtd did not start: %s' % r.stderr.strip())
    try:
        env = dict(os.environ, **{INSIDE: ns})
        code = subprocess.call([LVNS, 'exec', ns, sys.executable] + sys.argv, env=env)
    finally:
        subprocess.call([LVNS, 'stop', ns])
    sys.exit(code)


def image():
    """The cached test image's path (built on first use)."""
    r = subprocess.run([os.path.join(HERE, 'build-image.sh')], capture_output=True, text=True)
    if r.returncode == 77:
        skip_all(r.stderr.strip())
    if r.returncode != 0:
        bail('building the test image failed: %s' % r.stderr.strip()[-2000:])
    return r.stdout.strip().splitlines()[-1]


def virsh(*args):
    """virsh against the private libvirtd (for checks only: the driver never uses it)."""
    r = subprocess.run(['virsh', '-q', '-c', 'qemu:///system'] + list(args), capture_output=True,
                       text=True)
    return r.returncode, r.stdout, r.stderr


def domains():
    return virsh('list', '--all', '--name')[1].split()


def volumes(pool='machine'):
    rc, out, _ = virsh('vol-list', pool)
    return [line.split()[0] for line in out.splitlines() if line.strip()] if rc == 0 else []


def files_under(root, suffix=''):
    found = []
    for d, _, names in os.walk(root):
        found += [os.path.join(d, n) for n in names if n.endswith(suffix)]
    return sorted(found)


class Server:
    """serve.py over a folder on the loopback of the namespace we run in."""

    def __init__(self, *opts):
        self.root = tempfile.mkdtemp(prefix='libvirt-www-')
        self.log = os.path.join(self.root, '.log')
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'serve.py'), self.root]
                                     + list(opts), stdout=subprocess.PIPE,
                                     stderr=open(self.log, 'w'), text=True)
        self.port = int(self.proc.stdout.readline())
        atexit.register(self.stop)

    def add_image(self, src, name=IMAGE_NAME, sums=True):
        """Publishes src as name (a hard link when it can), with a SHA512SUMS next to it."""
        dst = os.path.join(self.root, name)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        if sums:
            digest = subprocess.run(['sha512sum', name], cwd=self.root, capture_output=True,
                                    text=True, check=True).stdout
            with open(os.path.join(self.root, 'SHA512SUMS'), 'a') as f:
                f.write(digest)
        return self.url(name)

    def url(self, name):
        return 'http://127.0.0.1:%d/%s' % (self.port, name)

    def requests(self):
        with open(self.log) as f:
            return f.read().splitlines()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


class Timed:
    """Runs machine with stderr read line by line, each line stamped with the seconds since the
    start: the progress of a create, step by step. kill_at: SIGKILL it at the first line that
    starts with that text (an interrupted create)."""

    def __init__(self, m, *args, env=None, timeout=900, kill_at=None):
        t0 = time.monotonic()
        p = subprocess.Popen([m.bin] + list(args), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(m.env, **(env or {})))
        self.lines = []
        for line in p.stderr:
            self.lines.append((time.monotonic() - t0, line.rstrip('\n')))
            if time.monotonic() - t0 > timeout or (kill_at and line.strip().startswith(kill_at)):
                p.kill()
                break
        self.out = p.stdout.read()
        self.rc = p.wait()
        self.secs = time.monotonic() - t0
        self.err = '\n'.join(line for _, line in self.lines)

    def at(self, prefix):
        """The time of the first line that starts with prefix (after stripping), or None."""
        for t, line in self.lines:
            if line.strip().startswith(prefix):
                return t
        return None

    def transcript(self):
        return '\n'.join('[%7.2f] %s' % (t, line) for t, line in self.lines)
