#!/usr/bin/env python3
"""The generic driver's whole journey (issue 4, done-when 1): a test host with sshd and nothing
else -> machine create --driver generic -> eval "$(machine env)" -> the stock docker CLI over
the generated TLS certificates (docker load and docker run of busybox, and
machine run) -> upgrade and regenerate-certs -> machine stop (the engine no longer answers) ->
machine start -> machine rm -y leaves only the data root on the host; rm --purge on a second
host removes that too."""
import datetime
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts'))
import hostlib  # noqa: E402
from hostlib import ok, diag  # noqa: E402

hostlib.require_root()
hosts = hostlib.Hosts('journey')
m = hostlib.Machine('journey')
h1, h2 = hosts.up(2)
SRC = os.environ.get('MACHINE_TEST_SRCDIR', '.')

LEFTOVERS = ('/usr/local/bin/machined', '/etc/machined', '/etc/init.d/machined',
             '/etc/systemd/system/machined.service', '/var/log/machined.log',
             '/run/machined.pid', '/run/machined.sock')


def engine_processes(host):
    _, out = hosts.exec(host, 'for p in /proc/[0-9]*; do '
                              'case "$(readlink $p/exe)" in */machined*) echo ${p#/proc/};; esac; '
                              'done')
    return out.split()


def leftovers(host):
    _, out = hosts.exec(host, 'for f in %s; do [ -e "$f" ] && echo "$f"; done; true'
                        % ' '.join(LEFTOVERS))
    return out.split()


def cert_days(path):
    """The validity of a PEM certificate in days (notAfter - notBefore), read by openssl."""
    out = subprocess.run(['openssl', 'x509', '-noout', '-startdate', '-enddate', '-in', path],
                         capture_output=True, text=True, check=True).stdout
    dates = dict(line.split('=', 1) for line in out.splitlines())
    fmt = '%b %d %H:%M:%S %Y %Z'
    start = datetime.datetime.strptime(' '.join(dates['notBefore'].split()), fmt)
    end = datetime.datetime.strptime(' '.join(dates['notAfter'].split()), fmt)
    return (end - start).total_seconds() / 86400 - 300 / 86400  # notBefore is backdated 5 min


def create_and_use():
    rc, out, err, secs = m.create_generic('h1', h1, '--engine-label', 'team=provision',
                                          '--engine-env', 'MACHINE_JOURNEY=1',
                                          '--engine-opt', 'log-format=text',
                                          '--tls-validity-days', '30')
    ok(rc == 0, 'machine create --driver generic on a fresh host (%.2f s)' % secs, err)
    diag(err)
    for step in ('wait for SSH', 'host facts', 'host name', 'upload machined', 'certificates',
                 'engine service', 'host firewall', 'wait for engine'):
        ok(re.search(r'\(\d/8\) %s .*\[\d+\.\d\d s\]' % step, err),
           "progress line with a duration for '%s'" % step)
    ok(m.record('h1')['create']['state'] == 'ready', "the machine is 'ready'")
    days = cert_days(os.path.join(m.store, 'machines', 'h1', 'server.pem'))
    ok(abs(days - 30) < 0.01, '--tls-validity-days 30 gives a 30-day server certificate (%.3f)'
       % days)
    _, hn = hosts.exec(h1, 'hostname')
    ok(hn.strip() == 'h1', 'the host name is the machine name', hn)
    _, cfg = hosts.exec(h1, 'cat /etc/machined/config.json')
    ok('"team=provision"' in cfg and '"log-format": "text"' in cfg,
       '--engine-label and --engine-opt are in the engine\'s config.json', cfg)
    _, envs = hosts.exec(h1, 'tr "\\0" "\\n" < /proc/$(cat /run/machined.pid)/environ')
    ok('MACHINE_JOURNEY=1' in envs.split(), '--engine-env reaches the engine\'s environment')
    rc, out, err = m.docker('h1', 'version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}')
    ok(rc == 0 and '1.44' in out, 'the stock docker CLI reaches the engine with the generated '
       'TLS certificates (%s)' % out.strip(), err)
    env = m.docker_env('h1')
    ok(env.get('DOCKER_HOST') == 'tcp://%s:2376' % h1['ip'] and env.get('DOCKER_TLS_VERIFY') == '1',
       'machine env points DOCKER_HOST at the host over TLS', str(env.get('DOCKER_HOST')))


def containers():
    tar = os.path.join(m.tmp, 'bb.tar')
    rc = os.spawnv(os.P_WAIT, sys.executable, [sys.executable, os.path.join(SRC, 'tests', 'hosts',
                                                                          'busybox-image'),
                                               'save', tar, 'bb'])
    ok(rc == 0, 'busybox image made offline from busybox-static')
    rc, out, err = m.docker('h1', 'load', '-i', tar)
    ok(rc == 0 and 'bb:latest' in out, 'docker load of the busybox image', out + err)
    rc, out, err = m.docker('h1', 'run', '--rm', 'bb', 'echo', 'hi')
    ok(rc == 0 and out.strip() == 'hi', 'docker run --rm bb echo hi (the stock CLI)', out + err)
    rc, out, err, _ = m.run('run', '--rm', 'bb', 'echo', 'hi', env=m.docker_env('h1'))
    ok(rc == 0 and out.strip() == 'hi', 'machine run --rm bb echo hi', out + err)
    rc, out, err = m.docker('h1', 'ps', '-aq')
    ok(rc == 0 and out.strip() == '', 'both --rm containers are gone', out + err)


def upgrade_and_certs():
    hosts.exec(h1, 'echo kept > /var/lib/machined/provision-test-marker')
    _, images_before = m.docker('h1', 'images', '-q')[:2]
    _, before = hosts.exec(h1, 'cat /run/machined.pid')
    rc, out, err, _ = m.run('upgrade', 'h1')
    _, after = hosts.exec(h1, 'cat /run/machined.pid; cat /var/lib/machined/provision-test-marker')
    ok(rc == 0 and before.strip() != after.split()[0] and 'kept' in after,
       'upgrade replaces and restarts machined, keeping its data root', err + after)
    ok(all(re.search(r'\(%d/5\) %s .*\[\d+\.\d\d s\]' % (i + 1, step), err) for i, step in
           enumerate(('wait for SSH', 'host facts', 'upload machined', 'restart engine',
                      'wait for engine'))) and 'verified on the host' in err,
       'upgrade shows its five steps with their durations (the upload checked on the host)', err)
    _, images_after = m.docker('h1', 'images', '-q')[:2]
    ok(images_after == images_before, 'and its images (%s)' % images_after.split(),
       images_before + ' vs ' + images_after)
    cert = os.path.join(m.store, 'machines', 'h1', 'server.pem')
    with open(cert) as f:
        old = f.read()
    rc, out, err, _ = m.run('regenerate-certs', 'h1')
    with open(cert) as f:
        new = f.read()
    _, onhost = hosts.exec(h1, 'cat /etc/machined/server.pem')
    ok(rc == 0 and new != old and onhost == new, 'regenerate-certs issues and uploads a new '
       'server certificate', err)
    days = cert_days(cert)
    ok(abs(days - 30) < 0.01, 'the new certificate keeps the 30 days of --tls-validity-days '
       '(%.3f)' % days)
    ok(all(re.search(r'\(%d/4\) %s .*\[\d+\.\d\d s\]' % (i + 1, step), err) for i, step in
           enumerate(('wait for SSH', 'certificates', 'restart engine', 'wait for engine'))),
       'regenerate-certs shows its four steps with their durations', err)
    rc, out, err = m.docker('h1', 'version', '--format', '{{.Server.Version}}')
    ok(rc == 0, 'the docker CLI still reaches the engine after regenerate-certs', err)


def stop_start():
    rc, out, err, _ = m.run('stop', 'h1')
    ok(rc == 0, 'machine stop', err)
    rc, out, err = m.docker('h1', 'version', timeout=30)
    ok(rc != 0, 'the engine no longer answers after stop', out)
    ok(engine_processes(h1) == [], 'no engine process on the host after stop')
    rc, out, err, _ = m.run('status', 'h1')
    ok(out.strip() == 'Stopped', 'status asks the engine: Stopped', out + err)
    rc, out, err, _ = m.run('start', 'h1')
    ok(rc == 0, 'machine start', err)
    rc, out, err, _ = m.run('status', 'h1')
    ok(out.strip() == 'Running', 'status: Running', out + err)
    rc, out, err = m.docker('h1', 'version')
    ok(rc == 0, 'the engine answers again after start', err)


def remove():
    rc, out, err, _ = m.run('rm', '-y', 'h1')
    ok(rc == 0, 'machine rm -y', err)
    ok(engine_processes(h1) == [], 'no engine process left on the host')
    ok(leftovers(h1) == [], 'no unit, binary, certificate or configuration left', leftovers(h1))
    code, _ = hosts.exec(h1, 'test -d /var/lib/machined')
    ok(code == 0, 'the data root is kept')
    ok(not os.path.exists(os.path.join(m.store, 'machines', 'h1')), 'the machine is forgotten')

    rc, out, err, _ = m.create_generic('h2', h2)
    ok(rc == 0, 'create on a second host', err)
    rc, out, err, _ = m.run('rm', '-y', '--purge', 'h2')
    ok(rc == 0, 'machine rm -y --purge', err)
    code, _ = hosts.exec(h2, 'test -e /var/lib/machined')
    ok(code != 0 and leftovers(h2) == [] and engine_processes(h2) == [],
       'rm --purge removes the data root too')


create_and_use()
containers()
upgrade_and_certs()
stop_start()
remove()
hostlib.done()
