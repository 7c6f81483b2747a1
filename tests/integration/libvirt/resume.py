#!/usr/bin/env python3
"""Resumable create against a private libvirtd: a create that dies right after making a volume
(before marking it complete) or right after defining the domain (before recording its UUID) is
finished by the next `machine create`, which replaces the half-made volume and adopts the
domain; rm then leaves no domain, volume or file of the machine behind."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts',
                                'libvirt'))
import lvlib  # noqa: E402
from hostlib import Machine, diag, done, ok  # noqa: E402

NAME = 'lvr1'


def crash_then_resume(m, url, point):
    rc, out, err, _ = m.run('create', '--driver', 'libvirt', '--libvirt-accel', 'tcg',
                            '--no-provision', '--libvirt-image', url, NAME,
                            env={'MACHINE_TEST_CRASH_AT': point})
    ok(rc == -9, "a create killed at '%s'" % point, err)
    state = m.record(NAME).get('driver_state', {})
    diag('driver state after the crash: %s' % state)
    return state


def main():
    srv = lvlib.Server()
    url = srv.add_image(lvlib.image())
    m = Machine('libvirt-resume')

    state = crash_then_resume(m, url, 'libvirt-volume-made')
    ok(state.get('disk_volume') == NAME + '.qcow2' and not state.get('disk_volume_complete')
       and NAME + '.qcow2' in lvlib.volumes(),
       'left a disk volume recorded but not marked complete')
    rc, out, err, _ = m.run('create', NAME, env={'MACHINE_TEST_CRASH_AT': 'libvirt-domain-defined'})
    ok(rc == -9 and NAME in lvlib.domains(), 'the resumed create replaced it, then died right '
       'after defining the domain', err)
    state = m.record(NAME).get('driver_state', {})
    ok(state.get('disk_volume_complete') and state.get('seed_volume_complete')
       and 'domain_uuid' not in state, 'with both volumes complete and the domain not yet '
       'recorded complete', state)

    rc, out, err, secs = m.run('create', NAME, timeout=900)
    ok(rc == 0, 'the next create finishes it (%.0f s)' % secs, err)
    ok('defining the domain' not in err, 'adopting the domain it had defined (its metadata '
       'carries the instance id)', err)
    ok(m.record(NAME)['create']['state'] == 'provisioning',
       "the machine waits for 'machine provision' (--no-provision)", m.record(NAME)['create'])
    ok(lvlib.virsh('domstate', NAME)[1].strip() == 'running', 'its domain runs')

    rc, out, err, _ = m.run('rm', '-y', NAME, timeout=300)
    ok(rc == 0, 'machine rm -y', err)
    ok(NAME not in lvlib.domains(), 'no domain is left', lvlib.domains())
    vols = [v for v in lvlib.volumes() if v.startswith(NAME)]
    ok(not vols, 'no volume of the machine is left', vols)
    ok(not os.path.exists(os.path.join(m.store, 'machines', NAME)), 'no file is left')
    done()


lvlib.run_inside('resume', main)
