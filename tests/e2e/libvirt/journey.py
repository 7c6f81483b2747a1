#!/usr/bin/env python3
"""The libvirt driver's whole journey (issue 5) against a real libvirtd and qemu started by the
test in namespaces of its own: the test cloud image served over loopback HTTP -> machine create
--driver libvirt (the KVM probe, the TCG warning, download, overlay, seed, boot), killed while
the guest boots and resumed by a second create (provisioning) -> eval "$(machine env)" -> machine image import busybox -> machine run --rm busybox echo hi ->
a container with --memory 64m --pids-limit 20 whose limits are read back inside it (its own
cgroup namespace, read-only) and from the guest -> machine restart (a
reboot: machined active again, a --restart always container running again) -> stop -> start ->
rm, which leaves no domain, volume or file of the machine behind. Under TCG, within 12 minutes.
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts',
                                'libvirt'))
import lvlib  # noqa: E402
from hostlib import Machine, diag, done, ok, skip  # noqa: E402

NAME = 'lvj1'
BUDGET_S = 12 * 60


def create(m, url):
    first = lvlib.Timed(m, 'create', '--driver', 'libvirt', '--libvirt-image', url, NAME,
                        kill_at='waiting for the address')
    diag(first.transcript())
    ok(first.rc == -9 and m.record(NAME)['create']['state'] in ('creating', 'failed'),
       'a create killed while the guest boots leaves the machine half-made')
    kvm = re.search(r"defining the domain '%s' \(KVM" % NAME, first.err)
    if kvm:
        skip('create prints the TCG warning', 'KVM guests run on this host')
    else:
        ok(re.search(r'warn: KVM .*using TCG \(software emulation\)', first.err),
           'create prints the TCG warning, saying why')
    probe, after = first.at('checking whether KVM guests run'), first.at('uploading the image')
    if probe is not None and after is not None:
        ok(after - probe < 20, 'the KVM probe ends within its 10 s deadline (%.1f s with the '
           'image upload that follows)' % (after - probe))
    else:
        ok(first.at('defining the domain') is not None,
           'no KVM probe ran (the host offers no KVM, or its answer was remembered)')
    c = lvlib.Timed(m, 'create', NAME)
    diag(c.transcript())
    ok(c.rc == 0, 'machine create again resumes it (%.0f s more)' % c.secs, c.out)
    ok(c.at('defining the domain') is None and c.at('uploading the image') is None and
       c.at('starting the domain') is None,
       'adopting the running domain and the volumes made before')
    ok(m.record(NAME)['create']['state'] == 'ready', "the machine is 'ready'")
    return first.secs + c.secs


def engine(m, env):
    rc, out, err, _ = m.run('version', env=env)
    ok(rc == 0 and 'API version: 1.44' in out,
       'eval "$(machine env)"; machine version reaches the engine', out + err)
    rc, out, err, _ = m.run('ssh', NAME, '--', 'stat -fc %T /sys/fs/cgroup; hostname')
    ok(rc == 0 and out.split() == ['cgroup2fs', NAME],
       'the guest is pure cgroup v2 and its host name is the machine name', out + err)
    tar = os.path.join(m.tmp, 'busybox.tar')
    r = os.spawnv(os.P_WAIT, sys.executable, [sys.executable, os.path.join(
        lvlib.SRCDIR, 'tests', 'hosts', 'busybox-image'), 'rootfs', tar])
    rc, out, err, _ = m.run('image', 'import', tar, 'busybox', env=env)
    ok(r == 0 and rc == 0, 'machine image import busybox', err)
    rc, out, err, _ = m.run('run', '--rm', 'busybox', 'echo', 'hi', env=env)
    ok(rc == 0 and out.strip() == 'hi', 'machine run --rm busybox echo hi', out + err)


def limits(m, env):
    rc, out, err, _ = m.run('run', '--rm', '--memory', '64m', '--pids-limit', '20', 'busybox',
                            'sh', '-c', 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max',
                            env=env)
    ok(rc == 0 and out.split() == ['67108864', '20'],
       '--memory 64m --pids-limit 20 read back inside the container', out + err)
    rc, out, err, _ = m.run('run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c',
                            'cat /proc/self/cgroup; echo 30 > /sys/fs/cgroup/pids.max || echo ro; '
                            'cat /sys/fs/cgroup/pids.max', env=env)
    ok(rc == 0 and out.split() == ['0::/', 'ro', '20'],
       'the container is at the root of its own cgroup namespace, and cannot change its limits',
       out + err)
    # The same limits seen from the guest, in the container's own cgroup.
    rc, out, err, _ = m.run('run', '-d', '--memory', '64m', '--pids-limit', '20', 'busybox',
                            'sleep', '4242', env=env)
    cid = out.strip()
    rc2, out2, err2, _ = m.run('ssh', NAME, '--', 'p=$(pgrep -f "^sleep 4242"); '
                               'g=$(cut -d: -f3 /proc/$p/cgroup); '
                               'cat /sys/fs/cgroup$g/memory.max /sys/fs/cgroup$g/pids.max')
    ok(rc == 0 and rc2 == 0 and out2.split() == ['67108864', '20'],
       'the guest enforces them in the container\'s cgroup v2', out2 + err + err2)
    m.run('container', 'rm', '-f', cid, env=env)


def restart(m, env):
    rc, out, err, _ = m.run('run', '-d', '--restart', 'always', '--name', 'keeper', 'busybox',
                            'sleep', '100000', env=env)
    ok(rc == 0, 'a --restart always container runs', err)
    rc, out, err, secs = m.run('restart', NAME, timeout=600)
    ok(rc == 0, 'machine restart (%.0f s)' % secs, err)
    rc, out, err, _ = m.run('ssh', NAME, '--', 'cat /proc/sys/kernel/random/boot_id; '
                            'systemctl is-active machined')
    ok(rc == 0 and out.split()[-1:] == ['active'], 'after the reboot machined is active',
       out + err)
    rc, out, err, _ = m.run('ps', '--format', '{{.Names}} {{.Status}}', env=env)
    ok(rc == 0 and re.search(r'^keeper Up', out, re.M),
       'and the --restart always container is running again', out + err)
    return out


def stop_start(m, env):
    rc, out, err, secs = m.run('stop', NAME, timeout=600)
    ok(rc == 0, 'machine stop (%.0f s)' % secs, err)
    rc, out, err, _ = m.run('status', NAME)
    ok(out.strip() == 'Stopped', 'status: Stopped', out + err)
    ok(lvlib.virsh('domstate', NAME)[1].strip() == 'shut off', 'the domain is shut off')
    rc, out, err, secs = m.run('start', NAME, timeout=600)
    ok(rc == 0, 'machine start (%.0f s)' % secs, err)
    rc, out, err, _ = m.run('status', NAME)
    ok(out.strip() == 'Running', 'status: Running', out + err)
    rc, out, err, _ = m.run('run', '--rm', 'busybox', 'echo', 'again', env=env)
    ok(rc == 0 and out.strip() == 'again', 'the engine runs containers after start', out + err)


def remove(m, bases):
    rc, out, err, _ = m.run('rm', '-y', NAME, timeout=300)
    ok(rc == 0, 'machine rm -y', err)
    ok(NAME not in lvlib.domains(), 'no domain is left', lvlib.domains())
    vols = lvlib.volumes()
    ok(not [v for v in vols if v.startswith(NAME)], 'no disk or seed volume is left', vols)
    ok(sorted(v for v in vols if v.startswith('base-')) == bases,
       'the cached base image stays in the pool', vols)
    ok(not os.path.exists(os.path.join(m.store, 'machines', NAME)),
       'no file of the machine is left in the store')
    # libvirt's own files of the domain (its definition, runtime state, disk files of the pool);
    # its log in /var/log/libvirt/qemu/ is libvirt's record, kept after undefine as for any domain.
    left = [f for d in ('/etc/libvirt', '/run/libvirt', '/var/lib/libvirt')
            for f in lvlib.files_under(d) if NAME in os.path.basename(f)]
    ok(not left, "no file of the domain is left in libvirt's folders", left)
    cache = os.path.join(m.store, 'cache', 'images')
    ok(not lvlib.files_under(cache, '.part'), 'no partial download is left')


def main():
    image = lvlib.image()
    srv = lvlib.Server()
    url = srv.add_image(image)
    m = Machine('libvirt')
    t0 = time.monotonic()
    create(m, url)
    ok(any('GET /SHA512SUMS' in r for r in srv.requests()),
       "the image's checksum came from the publisher's SHA512SUMS", srv.requests())
    bases = sorted(v for v in lvlib.volumes() if v.startswith('base-'))
    env = m.docker_env(NAME)
    engine(m, env)
    limits(m, env)
    restart(m, env)
    stop_start(m, env)
    remove(m, bases)
    total = time.monotonic() - t0
    ok(total <= BUDGET_S, 'the whole journey took %.0f s (budget %d s)' % (total, BUDGET_S))
    done()


lvlib.run_inside('e2e', main)
