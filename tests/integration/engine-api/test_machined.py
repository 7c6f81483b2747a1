#!/usr/bin/env python3
"""machined against the stock docker CLI (over mutual TLS and the unix socket) and docker-py:
version, info, import and load of a busybox image, images with filters, tag, rmi, inspect and
history, save | load round trips, the inspect fall-through 404s, malformed HTTP, TLS policy
(no client certificate, foreign CA, TLS 1.2 ciphers), SIGHUP, SIGTERM, a restart keeping the
images, --config with --daemonize, and sd_notify."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from enginelib import (Machined, Tap, busybox_rootfs_tar, docker, docker_save_tar, image_config,
                       make_certs, make_tmp, need_root, oci_layout_tar, tls_context, tls_request,
                       unix_request, MACHINED)

tap = Tap()
need_root(tap)
import docker as dockerpy  # noqa: E402  (docker-py 7.1 in pyenv's python)

T = make_tmp()
CERTS = os.path.join(T, "certs")
CLIENT = make_certs(CERTS)
ROOTFS = busybox_rootfs_tar()
m = Machined(T, CERTS)


def cleanup():
    m.stop()
    if os.environ.get("MACHINE_TEST_KEEP") != "1":
        shutil.rmtree(T, ignore_errors=True)


def check_cli_basics(env, how):
    rc, out, err = docker(env, "version")
    tap.ok(rc == 0 and "Server: machined" in out and "API version:      1.44 (minimum version 1.24)"
           in out, "docker version over %s" % how, out + err)
    rc, out, err = docker(env, "info")
    tap.ok(rc == 0 and "Server Version: 0.1.0" in out and "Swarm: inactive" in out,
           "docker info over %s" % how, out + err)
    rc, out, err = docker(env, "inspect", "nothing-here")
    tap.ok(rc == 1 and out.strip() == "[]" and "No such object: nothing-here" in err,
           "docker inspect falls through every 404 over %s" % how, out + err)


def test_cli(env, how, tag):
    bb = os.path.join(T, "bb.tar")
    with open(bb, "wb") as f:
        f.write(ROOTFS)
    rc, out, err = docker(env, "import", "-c", 'CMD ["/bin/sh"]', "-c", "ENV A=1", "-m", "msg",
                          bb, "bb-import:" + tag)
    tap.ok(rc == 0 and out.startswith("sha256:"), "docker import over %s" % how, out + err)
    rc, out, err = docker(env, "image", "inspect", "-f",
                          "{{json .Config.Cmd}} {{json .Config.Env}} {{.Comment}} {{.Os}}",
                          "bb-import:" + tag)
    tap.ok(rc == 0 and out.strip() == '["/bin/sh"] ["A=1"] msg linux',
           "import --change and --message recorded (%s)" % how, out + err)

    save = docker_save_tar([(["busybox:" + tag], [ROOTFS],
                             image_config([ROOTFS], labels={"via": tag}))])
    rc, out, err = docker(env, "load", stdin=save)
    tap.ok(rc == 0 and "Loaded image: busybox:%s" % tag in out, "docker load over %s" % how,
           out + err)
    rc, out, err = docker(env, "images", "busybox", "--format", "{{.Repository}}:{{.Tag}}")
    tap.ok(rc == 0 and out.split() == ["busybox:" + tag] or "busybox:" + tag in out.split(),
           "docker images busybox (reference filter) over %s" % how, out + err)
    rc, out, err = docker(env, "tag", "busybox:" + tag, "localhost:5000/bb:" + tag)
    tap.ok(rc == 0, "docker tag over %s" % how, out + err)
    rc, out, err = docker(env, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    lines = dict(l.split() for l in out.splitlines() if l.strip())
    tap.ok(lines.get("localhost:5000/bb:" + tag) == lines.get("busybox:" + tag) is not None,
           "the new tag names the same image", out)
    rc, out, err = docker(env, "history", "busybox:" + tag)
    tap.ok(rc == 0 and "test layer 0" in out, "docker history over %s" % how, out + err)

    # save | load round trip
    p = subprocess.run(["/usr/local/bin/docker", "save", "busybox:" + tag], env=env,
                       capture_output=True)
    tap.ok(p.returncode == 0 and len(p.stdout) > len(ROOTFS), "docker save over %s" % how,
           p.stderr.decode())
    rc, out, err = docker(env, "image", "inspect", "-f", "{{.Id}}", "busybox:" + tag)
    before = out.strip()
    rc, out, err = docker(env, "rmi", "busybox:" + tag, "localhost:5000/bb:" + tag)
    tap.ok(rc == 0 and "Untagged: busybox:%s" % tag in out and "Deleted: sha256:" in out,
           "docker rmi over %s" % how, out + err)
    rc, out, err = docker(env, "load", stdin=p.stdout)
    rc2, out2, err2 = docker(env, "image", "inspect", "-f", "{{.Id}}", "busybox:" + tag)
    tap.ok(rc == 0 and out2.strip() == before, "save | load keeps the image ID (%s)" % how,
           out + err + out2 + err2)
    dangling = os.path.join(T, "dangling-%s.tar" % tag)
    with open(dangling, "wb") as f:
        f.write(busybox_rootfs_tar({"etc/which": tag.encode()}))
    rc, out, err = docker(env, "import", dangling)
    did = out.strip()
    rc, out, err = docker(env, "images", "-q", "--no-trunc", "--filter", "dangling=true")
    tap.ok(did in out.split(), "an untagged import is dangling (%s)" % how, out + err)
    rc, out, err = docker(env, "image", "prune", "-f")
    tap.ok(rc == 0 and "deleted: " + did in out and "Total reclaimed space" in out,
           "docker image prune removes it (%s)" % how, out + err)
    rc, out, err = docker(env, "rmi", "nope-" + tag)
    tap.ok(rc == 1 and "No such image: nope-%s" % tag in err, "rmi of a missing image: 404",
           out + err)


def test_dockerpy():
    # requests prefers these over the client's CA (its trust_env rule): not ours to use here.
    for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(k, None)
    clients = [("unix socket", dockerpy.DockerClient(base_url="unix://" + m.sock)),
               ("TLS", dockerpy.DockerClient(
                   base_url="https://127.0.0.1:%d" % m.port,
                   tls=dockerpy.tls.TLSConfig(
                       client_cert=(os.path.join(CLIENT, "cert.pem"),
                                    os.path.join(CLIENT, "key.pem")),
                       ca_cert=os.path.join(CLIENT, "ca.pem"), verify=True)))]
    for how, c in clients:
        v = c.version()
        tap.ok(v["ApiVersion"] == "1.44" and v["Components"][0]["Name"] == "Engine",
               "docker-py version over %s" % how, v)
        tap.ok(c.ping(), "docker-py ping over %s" % how)
        info = c.info()
        tap.ok(info["OSType"] == "linux" and info["Images"] >= 1, "docker-py info over %s" % how)
        tag = "py" + how.split()[0].lower()
        imgs = c.images.load(docker_save_tar([(["pybox:" + tag], [ROOTFS],
                                                image_config([ROOTFS], labels={"t": tag}))]))
        tap.ok(len(imgs) == 1 and "pybox:" + tag in imgs[0].tags, "docker-py load over %s" % how,
               [i.tags for i in imgs])
        listed = c.images.list(filters={"label": "t=" + tag})
        tap.ok([i.id for i in listed] == [imgs[0].id], "images.list label filter (%s)" % how,
               [i.tags for i in listed])
        r = c.api.import_image_from_data(ROOTFS, repository="pyimp", tag=tag)
        tap.ok("sha256:" in r, "docker-py import_image_from_data over %s" % how, r)
        img = c.images.get("pyimp:" + tag)
        data = b"".join(img.save(named=True))
        c.images.remove("pyimp:" + tag)
        try:
            c.images.get("pyimp:" + tag)
            tap.ok(False, "removed image is gone (%s)" % how)
        except dockerpy.errors.ImageNotFound:
            tap.ok(True, "removed image raises ImageNotFound (%s)" % how)
        back = c.images.load(data)
        tap.ok(back and back[0].id == img.id, "docker-py save/load round trip (%s)" % how)
        tap.ok(img.tag("pyimp", "again") and "pyimp:again" in c.images.get(img.id).tags,
               "docker-py tag (%s)" % how)
        c.images.remove("pyimp:again")
        c.close()


def test_oci_load(env):
    cfg = image_config([ROOTFS], cmd=("echo", "oci"))
    data, cid = oci_layout_tar("docker.io/library/ocibox:1", [ROOTFS], cfg)
    rc, out, err = docker(env, "load", stdin=data)
    tap.ok(rc == 0 and "Loaded image: ocibox:1" in out, "load of an OCI layout with gzip layers",
           out + err)
    rc, out, err = docker(env, "image", "inspect", "-f", "{{.Id}}", "ocibox:1")
    tap.ok(out.strip() == cid, "OCI image ID is its config digest", out + err)


def test_hostile_load(env):
    import io
    import tarfile
    bio = io.BytesIO()
    outside = os.path.join(T, "outside")
    os.makedirs(outside)
    with tarfile.open(fileobj=bio, mode="w") as t:
        ti = tarfile.TarInfo("esc")
        ti.type = tarfile.SYMTYPE
        ti.linkname = outside
        t.addfile(ti)
        ti = tarfile.TarInfo("esc/pwned")
        ti.size = 1
        t.addfile(ti, io.BytesIO(b"x"))
    layer = bio.getvalue()
    save = docker_save_tar([(["evil:1"], [layer], image_config([layer]))])
    rc, out, err = docker(env, "load", stdin=save)
    tap.ok(rc != 0 and "esc/pwned" in err and not os.path.exists(os.path.join(outside, "pwned")),
           "a hostile layer is refused naming the entry, nothing written outside", out + err)
    rc, out, err = docker(env, "images", "-q", "evil")
    tap.ok(out.strip() == "", "and no image was added", out)


def test_http_robustness():
    r = unix_request(m.sock, b"GARBAGE\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 400") and b"Content-Type: application/json\r\n" in r,
           "malformed request on the unix socket: 400 JSON", r[:200])
    try:
        r = unix_request(m.sock, b"GET /_ping HTTP/1.1\r\nX: " + b"a" * 100000 + b"\r\n\r\n")
    except ConnectionResetError:
        r = b"(connection reset)"
    tap.ok(r.startswith(b"HTTP/1.1 431"), "a 100 KB header: 431, read by the client before "
           "the close (not a reset)", r[:200])
    r = unix_request(m.sock, b"GET /v1.44/nothing HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 404") and r.endswith(b'{"message":"page not found"}\n'),
           "unknown route: 404 JSON", r[:300])
    r = unix_request(m.sock, b"GET /v1.99/version HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 400") and b"is too new" in r, "API 1.99: 400", r[:300])
    r = unix_request(m.sock, b"HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 200") and b"Api-Version: 1.44\r\n" in r and
           b"Ostype: linux\r\n" in r and b"Content-Length: 0\r\n" in r, "HEAD /_ping", r)
    ctx = tls_context(CLIENT)
    r = tls_request(m.port, ctx, b"\x00\x01 nonsense\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 400"), "malformed request over TLS: 400", r[:200])
    r = tls_request(m.port, ctx, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 200") and r.endswith(b"OK"),
           "the daemon keeps serving after malformed requests", r[:200])
    # a slow client does not block others: hold 4 idle connections, then ping
    idle = []
    for _ in range(4):
        s = socket.socket(socket.AF_UNIX)
        s.connect(m.sock)
        s.sendall(b"GET /_ping HTTP/1.1\r\n")  # an unfinished head
        idle.append(s)
    r = unix_request(m.sock, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 200"), "served while 4 other connections hang mid-request")
    for s in idle:
        s.close()


# Commands the stock CLI may send that machined does not implement: each must end promptly
# with the reason (a 501 JSON message) or a true answer, never hang.
# (argv, exit code, text in stdout + stderr)
UNSUPPORTED = [
    (["network", "ls"], 1, "Networks are not implemented by machined yet"),
    (["network", "create", "n1"], 1, "Networks are not implemented by machined yet"),
    (["network", "prune", "-f"], 0, ""),
    (["volume", "ls"], 0, "DRIVER"),
    (["volume", "create", "v1"], 1, "Named volumes are not implemented by machined yet"),
    (["volume", "prune", "-f"], 0, "Total reclaimed space: 0B"),
    (["system", "df"], 1, "docker system df"),
    (["system", "prune", "-f"], 0, "Total reclaimed space"),
    (["events", "--since", "1s", "--until", "2s"], 0, ""),
    (["stats", "--no-stream"], 0, "CONTAINER ID"),
    (["pull", "busybox"], 1, "pulling images"),
    (["push", "busybox:unix"], 1, "pushing images"),
    (["search", "busybox"], 1, "Searching a registry"),
    (["plugin", "ls"], 1, "Plugins are not supported"),
    (["node", "ls"], 1, "Swarm mode is not supported"),
    (["swarm", "init"], 1, "Swarm mode is not supported"),
    (["diff", "c1"], 1, "docker diff"),
    (["commit", "c1"], 1, "Committing a container"),
    (["update", "--memory", "10m", "c1"], 1, "docker update"),
    (["cp", "c1:/etc/hostname", "-"], 1, "docker cp"),
    (["export", "c1"], 1, "Exporting a container"),
    (["builder", "prune", "-f"], 0, "Total reclaimed space: 0B"),
]


def test_unsupported(env):
    for argv, want_rc, text in UNSUPPORTED:
        t0 = time.time()
        try:
            rc, out, err = docker(env, *argv, timeout=20)
        except subprocess.TimeoutExpired:
            tap.ok(False, "docker %s ends (it hung for 20 s)" % " ".join(argv))
            continue
        took = time.time() - t0
        tap.ok(rc == want_rc and text in out + err and took < 5,
               "docker %s: exit %d%s, in %.2fs" % (" ".join(argv), want_rc,
                                                   ", '%s'" % text if text else "", took),
               "rc=%d\n%s%s" % (rc, out, err))
    # a 50 MB build context still gets the reason, over TLS too (read before answering)
    ctx = os.path.join(T, "build-ctx")
    os.makedirs(ctx)
    with open(os.path.join(ctx, "Dockerfile"), "w") as f:
        f.write("FROM busybox\nRUN true\n")
    with open(os.path.join(ctx, "big"), "wb") as f:
        f.write(os.urandom(50 << 20))
    for how, e in (("the unix socket", env), ("mutual TLS", m.tls_env(T, CLIENT))):
        rc, out, err = docker(dict(e, DOCKER_BUILDKIT="0"), "build", "-t", "x", ctx, timeout=60)
        tap.ok(rc == 1 and "Building images is not implemented by machined yet" in err,
               "DOCKER_BUILDKIT=0 docker build with a 50 MB context: the reason (%s)" % how,
               out + err)
    shutil.rmtree(ctx)
    r = unix_request(m.sock, b"DELETE /v1.44/networks/n1 HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 501") and b"Content-Type: application/json\r\n" in r and
           b'"message":"Networks are not implemented' in r, "DELETE /networks/n1: 501 JSON", r)
    r = unix_request(m.sock, b"GET /v1.44/networks/n1 HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(r.startswith(b"HTTP/1.1 404"), "GET /networks/n1 stays 404 (docker inspect)", r[:200])


def tls_refused(ctx, desc):
    try:
        r = tls_request(m.port, ctx, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
        tap.ok(not r.startswith(b"HTTP/1.1 200"), desc, r[:100])
    except (ssl.SSLError, OSError) as e:
        tap.ok(True, desc + " (%s)" % e.__class__.__name__)


def test_tls_policy():
    tls_refused(tls_context(CLIENT, with_cert=False), "a client without a certificate is refused")
    foreign = os.path.join(T, "foreign")
    os.makedirs(foreign)
    shutil.copy(os.path.join(CLIENT, "ca.pem"), foreign)
    shutil.copy(os.path.join(CERTS, "foreign-cert.pem"), os.path.join(foreign, "cert.pem"))
    shutil.copy(os.path.join(CERTS, "foreign-key.pem"), os.path.join(foreign, "key.pem"))
    tls_refused(tls_context(foreign), "a client certificate from another CA is refused")
    env = m.tls_env(T, CLIENT)
    env["DOCKER_CERT_PATH"] = os.path.join(T, "nocert")
    os.makedirs(env["DOCKER_CERT_PATH"])
    shutil.copy(os.path.join(CLIENT, "ca.pem"), env["DOCKER_CERT_PATH"])
    rc, out, err = docker(env, "version")
    tap.ok(rc != 0 and "Server:" not in out, "the docker CLI without a client certificate fails",
           out + err)
    plain = dict(env, DOCKER_HOST="tcp://127.0.0.1:%d" % m.port)
    for k in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
        plain.pop(k, None)
    rc, out, err = docker(plain, "ps")
    tap.ok(rc == 1 and "Client sent an HTTP request to an HTTPS server." in err,
           "plain HTTP to the TLS port: dockerd's 400 answer, shown by the CLI", out + err)
    for cipher, want in (("ECDHE-ECDSA-AES128-GCM-SHA256", True),
                         ("ECDHE-ECDSA-AES256-GCM-SHA384", True),
                         ("ECDHE-ECDSA-CHACHA20-POLY1305", False),
                         ("ECDHE-ECDSA-AES128-SHA256", False)):
        ctx = tls_context(CLIENT, max_version=ssl.TLSVersion.TLSv1_2, ciphers=cipher)
        try:
            r = tls_request(m.port, ctx, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
            got = r.startswith(b"HTTP/1.1 200")
        except (ssl.SSLError, OSError):
            got = False
        tap.ok(got == want, "TLS 1.2 %s %s" % (cipher, "accepted" if want else "refused"))


def test_signals():
    m.proc.send_signal(signal.SIGHUP)
    time.sleep(0.2)
    r = unix_request(m.sock, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n")
    tap.ok(m.proc.poll() is None and r.startswith(b"HTTP/1.1 200"), "SIGHUP does not stop it")
    with open(m.pidfile) as f:
        tap.ok(int(f.read()) == m.proc.pid, "pid file holds the daemon's pid")
    t0 = time.time()
    rc = m.stop()
    tap.ok(rc == 0 and time.time() - t0 < 5, "SIGTERM stops it cleanly (exit %s)" % rc,
           m.read_log())
    tap.ok(not os.path.exists(m.sock) and not os.path.exists(m.pidfile),
           "socket and pid file removed")


def test_restart_keeps_images():
    m.start()
    env = m.unix_env(T)
    rc, out, err = docker(env, "images", "--format", "{{.Repository}}:{{.Tag}}")
    tap.ok(rc == 0 and "busybox:unix" in out.split() and "ocibox:1" in out.split(),
           "images survive a restart", out + err)
    st = os.stat(m.sock)
    tap.ok(st.st_mode & 0o777 == 0o660 and st.st_uid == 0 and st.st_gid == 0,
           "the unix socket is root-only (0660 root:root)", oct(st.st_mode))
    m.stop()


def test_config_daemonize():
    cfgdir = os.path.join(T, "cfg")
    os.makedirs(cfgdir)
    sock = os.path.join(cfgdir, "d.sock")
    port = m.port
    cfg = {"hosts": ["unix://" + sock, "tcp://127.0.0.1:%d" % port],
           "tlscacert": os.path.join(CERTS, "ca.pem"),
           "tlscert": os.path.join(CERTS, "server.pem"),
           "tlskey": os.path.join(CERTS, "server-key.pem"),
           "data-root": m.data_root, "labels": ["role=test", "zone=a"], "log-format": "json",
           "log-file": os.path.join(cfgdir, "log"), "pidfile": os.path.join(cfgdir, "pid"),
           "live-restore": False}
    path = os.path.join(cfgdir, "config.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    t0 = time.time()
    p = subprocess.run([MACHINED, "--config", path, "--daemonize", "--label", "role=flag"],
                       capture_output=True, timeout=30)
    tap.ok(p.returncode == 0, "--config --daemonize returns once ready (%.2fs)" % (time.time() - t0),
           p.stderr.decode())
    pid = int(open(os.path.join(cfgdir, "pid")).read())
    try:
        env = m.tls_env(T, CLIENT)
        rc, out, err = docker(env, "info", "--format", "{{json .Labels}}")
        tap.ok(rc == 0 and json.loads(out) == ["role=flag"],
               "the config's hosts and TLS files are used; --label overrides labels", out + err)
        with open(os.path.join(cfgdir, "log")) as f:
            first = f.readline()
        tap.ok(json.loads(first).get("level") in ("info", "debug"), "JSON log lines", first)
        p = subprocess.run([MACHINED, "--config", path, "--daemonize"], capture_output=True,
                           timeout=30)
        tap.ok(p.returncode == 1 and b"Another machined" in p.stderr,
               "a second daemon on the same pid file fails with the reason", p.stderr)
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
                time.sleep(0.05)
            except ProcessLookupError:
                break
    bad = os.path.join(cfgdir, "bad.json")
    with open(bad, "w") as f:
        f.write('{"hosts": ["tcp://127.0.0.1:1"], "nosuchkey": 1}')
    p = subprocess.run([MACHINED, "--config", bad], capture_output=True, timeout=10)
    tap.ok(p.returncode == 1 and b"unknown key" in p.stderr, "unknown config keys are refused",
           p.stderr)
    p = subprocess.run([MACHINED, "-H", "tcp://127.0.0.1:1", "--data-root",
                        os.path.join(T, "x")], capture_output=True, timeout=10)
    tap.ok(p.returncode == 1 and b"mutual TLS" in p.stderr, "tcp without TLS files is refused",
           p.stderr)


def test_sd_notify():
    path = os.path.join(T, "notify.sock")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    ns.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    m.start(env=env)
    try:
        msg = ns.recv(4096).decode()
        tap.ok("READY=1" in msg and "MAINPID=%d" % m.proc.pid in msg, "sd_notify READY=1", msg)
    except socket.timeout:
        tap.ok(False, "sd_notify READY=1 (nothing received)")
    m.stop()
    ns.close()


try:
    m.start()
    unix_env = m.unix_env(T)
    tls_env = m.tls_env(T, CLIENT)
    check_cli_basics(unix_env, "the unix socket")
    check_cli_basics(tls_env, "mutual TLS")
    test_cli(unix_env, "the unix socket", "unix")
    test_cli(tls_env, "mutual TLS", "tls")
    test_dockerpy()
    test_oci_load(unix_env)
    test_hostile_load(unix_env)
    test_unsupported(unix_env)
    test_http_robustness()
    test_tls_policy()
    test_signals()
    test_restart_keeps_images()
    test_config_daemonize()
    test_sd_notify()
except Exception as e:  # a crash is a failure with its story, not a hang
    import traceback
    tap.ok(False, "unexpected exception: %r" % e, traceback.format_exc() + "\n" + m.read_log())
finally:
    cleanup()
tap.done()
