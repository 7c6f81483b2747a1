#!/usr/bin/env python3
"""Bad inputs to machine create --driver libvirt, against a private libvirtd: an unreachable URI,
a missing image, an image URL that is not there, a checksum mismatch, a malformed checksum, more
memory than the host has, and a name that exists in libvirt already (a domain, or a volume
named like the machine's disk). Each is a clear error, and afterwards the test lists the
domains, the volumes and the files: nothing of the failed machine is left (a failed create's
record stays for `machine rm`, as for every driver; rm then leaves nothing either)."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts',
                                'libvirt'))
import lvlib  # noqa: E402
from hostlib import Machine, done, ok  # noqa: E402

ZEROS = 'sha256:' + '0' * 64
FOREIGN = """<domain type='qemu'><name>taken</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64'>hvm</type></os></domain>"""


def nothing_left(m, name, what):
    """Checks that no domain, volume, partial download or store folder of name is left."""
    ok(name not in lvlib.domains(), '%s: no domain is left' % what, lvlib.domains())
    vols = [v for v in lvlib.volumes() if v.startswith(name)]
    ok(not vols, '%s: no volume is left' % what, vols)
    parts = lvlib.files_under(os.path.join(m.store, 'cache'), '.part')
    ok(not parts, '%s: no partial download is left' % what, parts)
    if os.path.exists(os.path.join(m.store, 'machines', name)):
        rc, _, err, _ = m.run('rm', '-y', name)
        ok(rc == 0, '%s: machine rm -y forgets the failed record' % what, err)
    ok(not os.path.exists(os.path.join(m.store, 'machines', name)),
       '%s: nothing of it is left in the store' % what)


def foreign_volume(m, url):
    """A volume named like the machine's disk that someone else made: create stops there, and
    neither it nor rm touches that volume."""
    for cmd in (('pool-define-as', 'machine', 'dir', '--target', '/var/lib/libvirt/machine'),
                ('pool-build', 'machine'), ('pool-start', 'machine'),
                ('vol-create-as', 'machine', 'vtaken.qcow2', '1M', '--format', 'raw')):
        rc, _, err = lvlib.virsh(*cmd)
        ok(rc == 0, 'someone else: virsh %s' % ' '.join(cmd), err)
    rc, out, err, _ = create(m, 'vtaken', '--libvirt-image', url)
    ok(rc == 1 and "the pool 'machine' already holds a volume 'vtaken.qcow2' that this machine "
       'did not make' in err, 'a volume of the disk\'s name in the pool already fails the create',
       err)
    ok('vtaken' not in lvlib.domains(), 'vtaken: no domain was defined')
    rc, _, err, _ = m.run('rm', '-y', 'vtaken')
    ok(rc == 0, 'machine rm -y forgets the failed machine', err)
    ok(sorted(v for v in lvlib.volumes() if v.startswith('vtaken')) == ['vtaken.qcow2'],
       'and the foreign volume is left alone, with nothing else of the machine', lvlib.volumes())
    lvlib.virsh('vol-delete', '--pool', 'machine', 'vtaken.qcow2')


def create(m, name, *flags):
    return m.run('create', '--driver', 'libvirt', '--libvirt-accel', 'tcg', *flags, name,
                 timeout=300)


def main():
    m = Machine('libvirt-bad')
    srv = lvlib.Server()
    url = srv.add_image(lvlib.image())

    rc, out, err, _ = create(m, 'bad-uri', '--libvirt-uri', 'qemu+tcp://127.0.0.1:1/system')
    ok(rc == 3 and "cannot connect to libvirt at 'qemu+tcp://127.0.0.1:1/system'" in err,
       'an unreachable URI fails the pre-create check, naming the URI', err)
    nothing_left(m, 'bad-uri', 'unreachable URI')

    rc, out, err, _ = create(m, 'bad-path', '--libvirt-image', '/nonexistent/disk.qcow2')
    ok(rc == 3 and "the image '/nonexistent/disk.qcow2' cannot be read" in err,
       'a missing image file fails the pre-create check', err)
    nothing_left(m, 'bad-path', 'missing image file')

    rc, out, err, _ = create(m, 'bad-url', '--libvirt-image', srv.url('nope.qcow2'),
                             '--libvirt-image-checksum', ZEROS)
    ok(rc == 1 and 'the server answered HTTP 404' in err and 'nope.qcow2' in err,
       'an image URL that is not there fails with the HTTP status', err)
    nothing_left(m, 'bad-url', 'missing image URL')

    rc, out, err, _ = create(m, 'bad-sum', '--libvirt-image', url,
                             '--libvirt-image-checksum', ZEROS)
    ok(rc == 1 and 'does not match its checksum (expected ' + ZEROS in err
       and 'the download was deleted' in err,
       'a checksum mismatch fails, says so and deletes the download', err)
    ok(not lvlib.files_under(os.path.join(m.store, 'cache', 'images', 'sha256')),
       'checksum mismatch: nothing was cached')
    nothing_left(m, 'bad-sum', 'checksum mismatch')

    rc, out, err, _ = create(m, 'bad-spec', '--libvirt-image', url,
                             '--libvirt-image-checksum', 'md5:d41d8cd98f00b204e9800998ecf8427e')
    ok(rc == 2 and "--libvirt-image-checksum: the checksum 'md5:" in err
       and "'sha256:HEX' (64 digits)" in err,
       'a checksum that is not sha256:HEX or sha512:HEX is a usage error saying what is accepted',
       err)
    nothing_left(m, 'bad-spec', 'malformed checksum')

    rc, out, err, _ = create(m, 'bad-mem', '--libvirt-memory', '16000000')
    ok(rc == 3 and '--libvirt-memory 16000000 MiB is more than the host of' in err,
       'more memory than the host has fails the pre-create check', err)
    nothing_left(m, 'bad-mem', 'too much memory')

    path = os.path.join(m.tmp, 'taken.xml')
    with open(path, 'w') as f:
        f.write(FOREIGN)
    ok(lvlib.virsh('define', path)[0] == 0, 'someone else defines a domain named taken')
    rc, out, err, _ = create(m, 'taken')
    ok(rc == 3 and "a libvirt domain named 'taken' exists already" in err,
       'a name that exists in libvirt already fails the pre-create check', err)
    ok('taken' in lvlib.domains(), 'and that domain is left alone')
    vols = [v for v in lvlib.volumes() if v.startswith('taken')]
    ok(not vols, 'taken: no volume was made', vols)
    ok(not os.path.exists(os.path.join(m.store, 'machines', 'taken')) or
       m.run('rm', '-y', 'taken')[0] == 0, 'taken: nothing of it is left in the store')
    ok('taken' in lvlib.domains(), 'rm of the failed machine did not touch the foreign domain')
    lvlib.virsh('undefine', 'taken')
    foreign_volume(m, url)
    done()


lvlib.run_inside('bad', main)
