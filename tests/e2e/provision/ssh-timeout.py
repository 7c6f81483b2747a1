#!/usr/bin/env python3
"""A host whose sshd accepts connections and never answers (issue 4, done-when 4): create fails
within --ssh-timeout with the cause and leaves the machine 'failed'; create again resumes it
once sshd answers; rm forgets a failed machine without needing its host."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts'))
import hostlib  # noqa: E402
from hostlib import ok, diag  # noqa: E402

hostlib.require_root()
hosts = hostlib.Hosts('timeout')
m = hostlib.Machine('timeout')
h, h2 = hosts.up(2, sshd_stopped=True)

rc, out, err, secs = m.create_generic('slow', h, '--ssh-timeout', '3s')
diag(err)
ok(rc != 0, 'create fails while sshd never answers')
ok(3.0 <= secs < 6.0, 'it fails within --ssh-timeout 3s (took %.2f s)' % secs)
ok("'wait for SSH'" in err and 'its limit (--ssh-timeout 3s)' in err and
   'sent no SSH identification' in err, 'the error names the step, its limit and the real cause',
   err)
rec = m.record('slow')
ok(rec['create']['state'] == 'failed' and rec['create']['step'] == 'provision',
   "the machine is left 'failed' at the provision step", str(rec['create']))
rc, out, err, _ = m.run('ls')
ok(rc == 0 and 'slow' in out and 'sent no SSH identification' in out,
   'ls shows the failed machine and its error', out + err)

hosts.run('sshd', h['name'], 'cont')
rc, out, err, secs = m.run('create', 'slow')
ok(rc == 0 and 'Resuming' in err, 'create again resumes the machine once sshd answers '
   '(%.2f s)' % secs, err)
ok(m.record('slow')['create']['state'] == 'ready', "the machine is 'ready'")
ok(m.docker('slow', 'version')[0] == 0, 'its engine answers')
rc, out, err, _ = m.run('rm', '-y', 'slow')
ok(rc == 0, 'rm', err)

rc, out, err, secs = m.create_generic('never', h2, '--ssh-timeout', '2s')
ok(rc != 0, 'a second host that never answers fails too (%.2f s)' % secs)
rc, out, err, secs = m.run('rm', '-y', 'never')
ok(rc == 0 and secs < 2.0, 'rm cleans a failed machine without waiting for its host '
   '(%.2f s)' % secs, err)
ok(not os.path.exists(os.path.join(m.store, 'machines', 'never')), 'the machine is gone')
hostlib.done()
