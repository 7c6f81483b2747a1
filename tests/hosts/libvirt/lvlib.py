"""Helpers for the libvirt driver's tests against a real libvirtd.

A test calls run_inside(tag, main): the first call builds the test cloud image (once, cached:
build-image.sh, which needs the apt mirror, so it runs out here), starts a private libvirtd
(lvns.sh: its own network and mount namespaces, state under /tmp/libvirt-<tag>-<pid>), re-runs
the same script inside those namespaces, then stops everything it started, whatever happened
(a meson timeout included), and checks that nothing outlived it. Inside, `machine` and
`qemu:///system` are that libvirtd's, and the guests' addresses exist only there.

Images: image() is the built image's path; Server serves a folder over HTTP on the namespace's
loopback (with byte ranges) so the driver's download path runs."""
import atexit
import os
import re
import shutil
import signal
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
IMAGE_ENV = 'MACHINE_LIBVIRT_TEST_IMAGE'
IMAGE_NAME = 'debian-12-genericcloud-amd64.qcow2'


def require():
    if os.geteuid() != 0:
        skip_all('a private libvirtd needs root (namespaces, libvirtd, qemu)')
    for tool in ('libvirtd', 'virtlogd', 'qemu-system-x86_64', 'dnsmasq', 'unshare', 'nsenter',
                 'virsh'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            skip_all('%s is not installed (scripts/install-deps installs it)' % tool)


def run_inside(tag, main, with_image=True):
    """Runs main() inside a private libvirtd's namespaces; exits with its status.

    with_image: the test image is built (or found in the cache) first, out here: building it
    needs the apt mirror, which the namespace (loopback only) cannot reach. After the private
    libvirtd is stopped, TAP lines check that nothing it started outlived it (no process left in
    its network namespace, its folder gone, no libvirt bridge, file or folder new on the host),
    appended to the inner test's own."""
    if os.environ.get(INSIDE):
        main()
        return
    require()
    env = dict(os.environ)
    if with_image:
        env[IMAGE_ENV] = _build_image()
    ns = '/tmp/libvirt-%s-%d' % (tag, os.getpid())
    before = _host_traces()
    r = subprocess.run([LVNS, 'start', ns], capture_output=True, text=True)
    if r.returncode != 0:
        bail('the private libvirtd did not start: %s' % r.stderr.strip())
    netns = _netns_of(ns)
    # meson ends a test past its timeout with SIGTERM to its process group and SIGKILL half a
    # second later: the teardown then runs in a session of its own, so that it finishes.
    signal.signal(signal.SIGTERM, lambda *_: (subprocess.Popen(
        [LVNS, 'stop', ns], start_new_session=True, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL), os._exit(1)))
    plan = None
    try:
        env[INSIDE] = ns
        p = subprocess.Popen([LVNS, 'exec', ns, sys.executable] + sys.argv, env=env,
                             stdout=subprocess.PIPE, text=True)
        for line in p.stdout:
            if re.fullmatch(r'1\.\.\d+\n?', line):
                plan = int(line.strip()[3:])
                continue
            sys.stdout.write(line)
            sys.stdout.flush()
        code = p.wait()
    finally:
        subprocess.call([LVNS, 'stop', ns])
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    leaks = _leak_checks(ns, netns, before)
    if plan is None:
        for desc, good, detail in leaks:
            if not good:
                print('# leaked after the test: %s: %s' % (desc, detail))
        sys.exit(code or (0 if all(g for _, g, _ in leaks) else 1))
    for i, (desc, good, detail) in enumerate(leaks, plan + 1):
        print('%s %d - %s' % ('ok' if good else 'not ok', i, desc))
        if not good:
            print('# %s' % detail)
    print('1..%d' % (plan + len(leaks)))
    sys.exit(code or (0 if all(g for _, g, _ in leaks) else 1))


def _netns_of(ns):
    """The inode of the private libvirtd's network namespace (from its holder process)."""
    with open(os.path.join(ns, 'holder.pid')) as f:
        holder = f.read().strip()
    return os.stat('/proc/%s/ns/net' % holder).st_ino


def _processes_in(netns):
    found = []
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            if os.stat('/proc/%s/ns/net' % pid).st_ino == netns:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    found.append('%s %s' % (pid, f.read().replace(b'\0', b' ').decode()[:80]))
        except OSError:
            pass
    return found


# What a libvirtd on the host itself would leave: its bridges and taps, its run, state and
# configuration files. The private one must leave none of them.
HOST_DIRS = ('/run/libvirt', '/var/lib/libvirt', '/etc/libvirt', '/var/log/libvirt')


def _host_traces():
    links = subprocess.run(['ip', '-o', 'link', 'show'], capture_output=True, text=True).stdout
    names = {line.split(':')[1].strip().split('@')[0] for line in links.splitlines()}
    traces = {'link ' + n for n in names if n.startswith(('virbr', 'vnet', 'macvtap'))}
    for d in HOST_DIRS:
        traces |= {'file ' + f for f in files_under(d)}
    return traces


def _leak_checks(ns, netns, before):
    """(description, good, detail) of each check that the private libvirtd left nothing."""
    deadline = time.monotonic() + 10
    procs = _processes_in(netns)
    while procs and time.monotonic() < deadline:
        time.sleep(0.2)
        procs = _processes_in(netns)
    new = sorted(_host_traces() - before)
    return [
        ('after the private libvirtd stopped, no process is left in its network namespace '
         '(libvirtd, virtlogd, dnsmasq, qemu)', not procs, procs),
        ("its folder '%s' is removed" % ns, not os.path.exists(ns), ns),
        ('no libvirt bridge, tap, file or folder appeared on the host', not new, new),
    ]


def _build_image():
    r = subprocess.run([os.path.join(HERE, 'build-image.sh')], capture_output=True, text=True)
    if r.returncode == 77:
        skip_all(r.stderr.strip())
    if r.returncode != 0:
        bail('building the test image failed: %s' % r.stderr.strip()[-2000:])
    return r.stdout.strip().splitlines()[-1]


def image():
    """The cached test image's path (run_inside built it, outside the namespaces)."""
    path = os.environ.get(IMAGE_ENV)
    if not path:
        bail('no test image: run the test through run_inside(tag, main, with_image=True)')
    return path


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
