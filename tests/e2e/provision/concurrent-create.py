#!/usr/bin/env python3
"""Five concurrent `machine create` processes against five test hosts (issue 4, done-when 5):
all succeed, and the store stays whole: one CA, every record parses and is ready, every
machine's certificates chain to that CA, and every engine answers the stock docker CLI."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts'))
import hostlib  # noqa: E402
from hostlib import ok, diag  # noqa: E402

hostlib.require_root()
hosts = hostlib.Hosts('par')
m = hostlib.Machine('par')
N = 5
hs = hosts.up(N)
t0 = time.monotonic()
procs = []
for i, h in enumerate(hs):
    procs.append(m.popen('create', '--driver', 'generic', '--generic-ip-address', h['ip'],
                         '--generic-ssh-key', h['key'], 'par%d' % i))
results = [(p.wait(timeout=240), p.stderr.read()) for p in procs]
wall = time.monotonic() - t0
for i, (rc, err) in enumerate(results):
    ok(rc == 0, 'create par%d' % i, err)
diag('%d concurrent creates took %.2f s' % (N, wall))

certs = os.path.join(m.store, 'certs')
ok(sorted(f for f in os.listdir(certs) if f.endswith('.pem')) ==
   ['ca-key.pem', 'ca.pem', 'cert.pem', 'key.pem'], 'one CA and one client certificate')
left = [f for d, _, fs in os.walk(m.store) for f in fs if '.tmp' in f]
ok(left == [], 'no temporary files left in the store', left)
for i in range(N):
    name = 'par%d' % i
    with open(os.path.join(m.store, 'machines', name, 'config.json')) as f:
        rec = json.load(f)
    ok(rec['create']['state'] == 'ready', '%s is ready' % name)
    r = subprocess.run(['openssl', 'verify', '-CAfile', os.path.join(certs, 'ca.pem'),
                        os.path.join(m.store, 'machines', name, 'server.pem'),
                        os.path.join(m.store, 'machines', name, 'certs', 'cert.pem')],
                       capture_output=True, text=True)
    ok(r.returncode == 0, "%s's server and client certificates chain to the store CA" % name,
       r.stderr)
rc, out, err, _ = m.run('ls', '--format', '{{.Name}} {{.State}}')
ok(rc == 0 and sorted(out.split('\n')[:N]) == ['par%d Running' % i for i in range(N)],
   'ls shows five running machines', out + err)
for i in range(N):
    ok(m.docker('par%d' % i, 'version')[0] == 0, 'the engine of par%d answers' % i)
procs = [m.popen('rm', '-y', 'par%d' % i) for i in range(N)]
ok(all(p.wait(timeout=120) == 0 for p in procs), 'five concurrent rm succeed')
ok(os.listdir(os.path.join(m.store, 'machines')) == [], 'the store has no machine left')
hostlib.done()
