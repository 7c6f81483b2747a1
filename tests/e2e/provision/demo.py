#!/usr/bin/env python3
"""The README's main job (issue 4, done-when 7): scripts/demo brings up a test host, creates a
machine on it, imports busybox with `machine image import`, and `machine run` prints hello from
a container; then it lists machines and cleans up (the machine and the test host)."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts'))
import hostlib  # noqa: E402
from hostlib import ok, diag  # noqa: E402

hostlib.require_root()
src = os.environ.get('MACHINE_TEST_SRCDIR', '.')
env = dict(os.environ, MACHINE_BUILDDIR=os.environ.get('MACHINE_TEST_BUILDDIR', 'build'))
# One stream, as a terminal shows it: each command line, then what that command printed.
r = subprocess.run([os.path.join(src, 'scripts', 'demo')], stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, text=True, env=env, timeout=280)
diag(r.stdout)
said = re.sub(r'\x1b\[[0-9;]*m', '', r.stdout)


def output_of(command):
    """What the demo printed after it showed `$ command` and before its next command."""
    parts = said.split('\n$ ' + command + '\n', 1)
    return parts[1].split('\n$ ', 1)[0] if len(parts) == 2 else None


ok(r.returncode == 0, 'scripts/demo exits 0')
ok(re.search(r'\(8/8\) wait for engine .*mutual TLS', said) is not None,
   'machine create provisioned the test host (8 steps)')
ok(output_of('machine image import busybox.tar busybox    # made from Debian\'s busybox-static')
   is not None and 'sha256:' in said, 'machine image import loaded the busybox image')
run = output_of('machine run --rm busybox echo hello')
ok(run is not None and 'hello' in run.splitlines(),
   'the hello came from `machine run --rm busybox echo hello`', run)
ok(re.search(r'^\$ docker ', said, re.M) is None, 'no step fell back to the docker CLI')
ls = output_of('machine ls') or ''
ok(re.search(r'^demo\s+\*\s+generic\s+Running\s+tcp://', ls, re.M) is not None,
   'machine ls showed the machine, active and running', ls)
ok("Removed 'demo'" in said, 'the demo removed its machine')
hosts_dir = os.environ.get('MACHINE_TEST_HOSTS_DIR', '/tmp/machine-test-hosts')
demo_pid_prefix = re.search(r'--prefix (demo-\d+)', said)
left = [n for n in os.listdir(hosts_dir) if demo_pid_prefix and
        n.startswith(demo_pid_prefix.group(1) + '-')] if os.path.isdir(hosts_dir) else []
ok(demo_pid_prefix is not None and left == [], 'and its test host', left)
hostlib.done()
