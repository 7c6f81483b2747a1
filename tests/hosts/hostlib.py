"""Helpers for tests that provision test hosts: TAP output, test hosts brought up and torn down
with tests/hosts/testhost, and the machine CLI run against a private store.

Each test makes its own store under /tmp/provision-test-*, its own docker config, and its own
hosts (prefix pv-<name>-<pid>), so tests run in parallel without touching each other. Hosts are
torn down at exit by their recorded pids, whatever happened."""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRCDIR = os.environ.get('MACHINE_TEST_SRCDIR', os.path.join(os.path.dirname(__file__), '..', '..'))
TESTHOST = os.path.join(SRCDIR, 'tests', 'hosts', 'testhost')

_count = 0
_failed = 0


def ok(cond, desc, detail=None):
    """One TAP line; returns cond."""
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
        print('not ok %d - %s' % (_count, desc))
        if detail:
            for line in str(detail).rstrip().splitlines():
                print('# ' + line)
    else:
        print('ok %d - %s' % (_count, desc))
    sys.stdout.flush()
    return cond


def skip(desc, why):
    """A subtest that cannot run here, with the reason (TAP's SKIP directive: never a pass)."""
    global _count
    _count += 1
    print('ok %d - %s # SKIP %s' % (_count, desc, why))
    sys.stdout.flush()


def diag(msg):
    for line in str(msg).rstrip().splitlines():
        print('# ' + line)
    sys.stdout.flush()


def skip_all(why):
    """The whole test cannot run here. Under meson's TAP protocol the plan '1..0 # SKIP' makes
    it a skip (an exit status of 77 would be read as an error there)."""
    print('1..0 # SKIP ' + why)
    sys.exit(0)


def bail(why):
    print('Bail out! ' + why)
    sys.exit(1)


def done():
    print('1..%d' % _count)
    sys.exit(1 if _failed else 0)


def require_root():
    if os.geteuid() != 0:
        skip_all('test hosts need root (namespaces, veth pairs, cgroups)')
    for tool in ('debootstrap', 'unshare', 'nsenter', 'ip', 'ssh-keygen'):
        if not shutil.which(tool):
            skip_all('%s is not installed (scripts/install-deps installs it)' % tool)


class Hosts:
    """Test hosts named PREFIX-N; all are torn down at exit."""

    def __init__(self, name):
        self.prefix = 'pv-%s-%d' % (name, os.getpid() % 100000)
        self.env = dict(os.environ, TESTHOST_QUIET='1')
        atexit.register(self.down_all)
        # meson ends a test past its timeout with SIGTERM: exit normally so atexit runs.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    def up(self, count, tag='', **opts):
        prefix = self.prefix + tag
        argv = [sys.executable, TESTHOST, 'up', str(count), '--prefix', prefix,
                '--owner', str(os.getpid())]
        for k, v in opts.items():
            flag = '--' + k.replace('_', '-')
            argv += [flag] if v is True else [flag, str(v)]
        r = subprocess.run(argv, capture_output=True, text=True, env=self.env)
        if r.returncode != 0:
            bail('testhost up failed: %s' % r.stderr.strip())
        hosts = []
        for line in r.stdout.splitlines():
            name, ip, key = line.split()
            hosts.append({'name': name, 'ip': ip, 'key': key})
        return hosts

    def run(self, *args, check=True):
        r = subprocess.run([sys.executable, TESTHOST] + list(args), capture_output=True,
                           text=True, env=self.env)
        if check and r.returncode != 0:
            bail('testhost %s failed: %s' % (' '.join(args), r.stderr.strip()))
        return r

    def exec(self, host, script):
        """Runs a shell script inside the host; returns (exit code, stdout)."""
        r = subprocess.run([sys.executable, TESTHOST, 'exec', host['name'], '--', 'sh', '-c',
                            script], capture_output=True, text=True, env=self.env)
        return r.returncode, r.stdout

    def down_all(self):
        subprocess.run([sys.executable, TESTHOST, 'down', '--prefix', self.prefix],
                       capture_output=True, env=self.env)
        # Hosts brought up with a tag have a longer prefix.
        d = os.environ.get('MACHINE_TEST_HOSTS_DIR', '/tmp/machine-test-hosts')
        if os.path.isdir(d):
            names = [n for n in os.listdir(d) if n.startswith(self.prefix)]
            if names:
                subprocess.run([sys.executable, TESTHOST, 'down'] + names, capture_output=True,
                               env=self.env)


class Machine:
    """The machine CLI with a private store and docker config."""

    def __init__(self, name):
        self.bin = os.environ.get('MACHINE_BIN') or os.path.join(SRCDIR, 'build', 'cli', 'machine')
        self.tmp = tempfile.mkdtemp(prefix='provision-test-%s-' % name)
        self.store = os.path.join(self.tmp, 'store')
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith('DOCKER_') and k not in ('MACHINE_NAME',)}
        self.env['MACHINE_STORAGE_PATH'] = self.store
        self.env['DOCKER_CONFIG'] = os.path.join(self.tmp, 'docker')
        self.env['HOME'] = self.tmp
        # No MACHINE_ENGINE_BINARY: machine finds the build tree's engine/machined next to
        # cli/machine by itself, as it finds an installed one.
        atexit.register(self.cleanup)

    def cleanup(self):
        if os.environ.get('MACHINE_TEST_KEEP') != '1':
            shutil.rmtree(self.tmp, ignore_errors=True)

    def run(self, *args, env=None, timeout=300):
        """Runs machine; returns (exit code, stdout, stderr, seconds)."""
        t0 = time.monotonic()
        r = subprocess.run([self.bin] + list(args), capture_output=True, text=True,
                           env=dict(self.env, **(env or {})), timeout=timeout)
        return r.returncode, r.stdout, r.stderr, time.monotonic() - t0

    def popen(self, *args):
        return subprocess.Popen([self.bin] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)

    def create_generic(self, name, host, *extra, user=None):
        args = ['create', '--driver', 'generic', '--generic-ip-address', host['ip'],
                '--generic-ssh-key', host['key']]
        if user:
            args += ['--generic-ssh-user', user]
        return self.run(*(args + list(extra) + [name]))

    def docker_env(self, name):
        """The environment `eval "$(machine env NAME)"` gives, for subprocesses."""
        rc, out, err, _ = self.run('env', '--shell', 'bash', name)
        if rc != 0:
            bail('machine env %s failed: %s' % (name, err))
        env = dict(self.env)
        for line in out.splitlines():
            if line.startswith('export '):
                k, v = line[len('export '):].split('=', 1)
                env[k] = v.strip('"')
        return env

    def docker(self, name, *args, timeout=120, input=None):
        r = subprocess.run(['docker'] + list(args), capture_output=True, text=True,
                           env=self.docker_env(name), timeout=timeout, input=input)
        return r.returncode, r.stdout, r.stderr

    def record(self, name):
        with open(os.path.join(self.store, 'machines', name, 'config.json')) as f:
            return json.load(f)
