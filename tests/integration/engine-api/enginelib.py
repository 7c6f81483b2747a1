"""Helpers for machined integration tests: TAP output, a throwaway CA, a running machined,
the stock docker CLI and docker-py pointed at it, and images built offline (a busybox root
filesystem from Debian's busybox-static, docker-save archives written here)."""
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time

SRCDIR = os.environ.get("MACHINE_TEST_SRCDIR", os.path.join(os.path.dirname(__file__), "../../.."))
MACHINED = os.environ.get("MACHINED_BIN", "machined")
DOCKER = "/usr/local/bin/docker"
BUSYBOX = "/bin/busybox"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, desc, diag=None):
        self.n += 1
        print(("ok %d - %s" if cond else "not ok %d - %s") % (self.n, desc), flush=True)
        if not cond:
            self.failed += 1
            if diag:
                for line in str(diag).splitlines()[:40]:
                    print("# " + line, flush=True)
        return cond

    def diag(self, msg):
        for line in str(msg).splitlines():
            print("# " + line, flush=True)

    def skip_all(self, why):
        print("1..0 # SKIP " + why, flush=True)
        sys.exit(77)

    def done(self):
        print("1..%d" % self.n, flush=True)
        sys.exit(1 if self.failed else 0)


def need_root(tap):
    if os.geteuid() != 0:
        tap.skip_all("machined runs as root (mounts, chown, unix socket owned by root)")


def make_tmp(prefix="engine-api-it-"):
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp")


def make_certs(d):
    script = os.path.join(SRCDIR, "tests/lib/make-test-certs.sh")
    subprocess.run(["sh", script, d], check=True)
    client = os.path.join(d, "client")
    os.makedirs(client, exist_ok=True)
    for src, dst in (("ca.pem", "ca.pem"), ("cert.pem", "cert.pem"), ("key.pem", "key.pem")):
        shutil.copy(os.path.join(d, src), os.path.join(client, dst))
    return client


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Machined:
    """A machined on a unix socket and a loopback TLS port, in its own data root."""

    def __init__(self, tmp, certs, extra=None, data_root=None):
        self.tmp = tmp
        self.certs = certs
        self.sock = os.path.join(tmp, "machined.sock")
        self.port = free_port()
        self.data_root = data_root or os.path.join(tmp, "root")
        self.log = os.path.join(tmp, "machined.log")
        self.pidfile = os.path.join(tmp, "machined.pid")
        self.extra = extra or []
        self.proc = None

    def argv(self):
        return [MACHINED, "-H", "unix://" + self.sock, "-H", "tcp://127.0.0.1:%d" % self.port,
                "--tlscacert", os.path.join(self.certs, "ca.pem"),
                "--tlscert", os.path.join(self.certs, "server.pem"),
                "--tlskey", os.path.join(self.certs, "server-key.pem"),
                "--data-root", self.data_root, "--log-file", self.log,
                "--pidfile", self.pidfile] + self.extra

    def start(self, env=None):
        self.proc = subprocess.Popen(self.argv(), env=env)
        self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("machined exited with %d:\n%s" % (self.proc.returncode,
                                                                      self.read_log()))
            try:
                if unix_request(self.sock, b"GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n").startswith(
                        b"HTTP/1.1 200"):
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("machined did not answer /_ping:\n" + self.read_log())

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def unix_env(self, tmp):
        env = dict(os.environ)
        for k in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT", "DOCKER_API_VERSION"):
            env.pop(k, None)
        env["DOCKER_HOST"] = "unix://" + self.sock
        env["DOCKER_CONFIG"] = os.path.join(tmp, "docker-config")
        return env

    def tls_env(self, tmp, client_dir):
        env = self.unix_env(tmp)
        env["DOCKER_HOST"] = "tcp://127.0.0.1:%d" % self.port
        env["DOCKER_TLS_VERIFY"] = "1"
        env["DOCKER_CERT_PATH"] = client_dir
        return env


def unix_request(path, data, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(data)
        return read_response(s)
    finally:
        s.close()


def read_response(s):
    """Reads one response whose body has a Content-Length (or up to EOF)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = None
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    if head.startswith(b"HEAD") or length is None:
        return buf
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def tls_context(client_dir, with_cert=True, max_version=None, ciphers=None):
    ctx = ssl.create_default_context(cafile=os.path.join(client_dir, "ca.pem"))
    if with_cert:
        ctx.load_cert_chain(os.path.join(client_dir, "cert.pem"), os.path.join(client_dir, "key.pem"))
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def tls_request(port, ctx, data, timeout=5):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    try:
        s.sendall(data)
        return read_response(s)
    finally:
        s.close()


def docker(env, *args, stdin=None, timeout=60):
    p = subprocess.run([DOCKER] + list(args), env=env, input=stdin, capture_output=True,
                       timeout=timeout)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


# ---- images built offline ----

def busybox_rootfs_tar(extra_files=None):
    """A root filesystem tar: /bin/busybox (Debian's busybox-static) and a symlink per applet."""
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, check=True).stdout.split()
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=tarfile.PAX_FORMAT) as t:
        for d in ("bin", "etc", "tmp"):
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o1777 if d == "tmp" else 0o755
            t.addfile(ti)
        with open(BUSYBOX, "rb") as f:
            data = f.read()
        ti = tarfile.TarInfo("bin/busybox")
        ti.size = len(data)
        ti.mode = 0o755
        t.addfile(ti, io.BytesIO(data))
        for a in applets:
            a = a.decode()
            if a == "busybox":
                continue
            ti = tarfile.TarInfo("bin/" + a)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "busybox"
            t.addfile(ti)
        files = {"etc/passwd": b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n",
                 "etc/group": b"root:x:0:\nnogroup:x:65534:\n"}
        files.update(extra_files or {})
        for name, content in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(content)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(content))
    return bio.getvalue()


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def image_config(layers, cmd=("sh",), created="2024-01-01T00:00:00Z", labels=None):
    cfg = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
           "Cmd": list(cmd)}
    if labels:
        cfg["Labels"] = labels
    return {"architecture": "amd64", "os": "linux", "created": created, "config": cfg,
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha256(l) for l in layers]},
            "history": [{"created": created, "created_by": "test layer %d" % i}
                        for i in range(len(layers))]}


def _add_bytes(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))


def docker_save_tar(images):
    """A legacy docker-save archive. images: [(tags, [layer tar bytes], config dict)]."""
    bio = io.BytesIO()
    manifest = []
    repos = {}
    with tarfile.open(fileobj=bio, mode="w") as t:
        for tags, layers, config in images:
            cfgb = json.dumps(config).encode()
            cid = sha256(cfgb)
            _add_bytes(t, cid + ".json", cfgb)
            paths = []
            for layer in layers:
                lid = sha256(layer + cfgb)  # the legacy per-image layer directory name
                _add_bytes(t, lid + "/layer.tar", layer)
                _add_bytes(t, lid + "/VERSION", b"1.0")
                paths.append(lid + "/layer.tar")
            manifest.append({"Config": cid + ".json", "RepoTags": tags, "Layers": paths})
            for tag in tags:
                name, _, tg = tag.rpartition(":")
                repos.setdefault(name, {})[tg] = cid
        _add_bytes(t, "manifest.json", json.dumps(manifest).encode())
        _add_bytes(t, "repositories", json.dumps(repos).encode())
    return bio.getvalue()


def oci_layout_tar(name, layers, config, gzip_layers=True):
    """An OCI image layout only (no manifest.json), layers gzip-compressed."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as t:
        blobs = {}
        descs = []
        for layer in layers:
            data = gzip.compress(layer) if gzip_layers else layer
            d = sha256(data)
            blobs[d] = data
            descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar" +
                          ("+gzip" if gzip_layers else ""), "digest": "sha256:" + d,
                          "size": len(data)})
        cfgb = json.dumps(config).encode()
        blobs[sha256(cfgb)] = cfgb
        manifest = json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                          "digest": "sha256:" + sha256(cfgb), "size": len(cfgb)},
                               "layers": descs}).encode()
        blobs[sha256(manifest)] = manifest
        for d, data in blobs.items():
            _add_bytes(t, "blobs/sha256/" + d, data)
        index = {"schemaVersion": 2, "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": "sha256:" + sha256(manifest), "size": len(manifest),
             "annotations": {"io.containerd.image.name": name,
                             "org.opencontainers.image.ref.name": name.rpartition(":")[2]}}]}
        _add_bytes(t, "index.json", json.dumps(index).encode())
        _add_bytes(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    return bio.getvalue(), "sha256:" + sha256(cfgb)


DOCKERD = "/usr/sbin/dockerd"


class Dockerd:
    """Debian's dockerd (docker.io) in its own network and mount namespaces, with its own data
    root, exec root, pid file and unix socket under tmp; stopped by pid. The anchor of the
    differential tests."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "dockerd")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.proc = None

    def start(self, env):
        """Starts it and waits until `docker version` answers with env (which points at
        unix://self.sock)."""
        os.makedirs(self.dir, exist_ok=True)
        log = open(os.path.join(self.dir, "log"), "w")
        # unshare execs dockerd in place, so the Popen pid is dockerd's.
        self.proc = subprocess.Popen(
            ["unshare", "--net", "--mount", "--propagation", "private", DOCKERD,
             "--data-root", os.path.join(self.dir, "root"),
             "--exec-root", os.path.join(self.dir, "exec"),
             "--pidfile", os.path.join(self.dir, "pid"), "-H", "unix://" + self.sock,
             "--iptables=false", "--ip6tables=false", "--bridge=none",
             "--storage-driver=overlay2", "--log-level=warn"],
            stdout=log, stderr=log)
        for _ in range(600):
            if subprocess.run([DOCKER, "version"], env=env, capture_output=True).returncode == 0:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("dockerd did not start: " + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        p = self.proc
        if p and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        # dockerd started its containerd; it is ours too, and ends by its pid file.
        try:
            with open(os.path.join(self.dir, "exec", "containerd", "containerd.pid")) as f:
                os.kill(int(f.read()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def differential_env(tmp, host):
    """The environment of a differential run: the stock CLI at host, speaking dockerd 20.10's
    API version (1.41), with its own config folder under tmp and no TLS settings inherited."""
    env = dict(os.environ)
    for k in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        env.pop(k, None)
    env["DOCKER_HOST"] = host
    env["DOCKER_API_VERSION"] = "1.41"
    env["DOCKER_CONFIG"] = os.path.join(tmp, "docker-config")
    return env
