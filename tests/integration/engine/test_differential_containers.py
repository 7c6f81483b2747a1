#!/usr/bin/env python3
"""The container journeys of issue 3's Done-when 1 with the stock docker CLI against Debian's
dockerd 20.10 and against machined, both pinned to API 1.41 (DOCKER_API_VERSION=1.41): each
step's exit code and output must match once IDs, times and sizes are masked. Then the same
journeys through docker-py 7.1 (version="1.41"): each step's result must be equal. Standard error is
compared too, except machined's own warning that the bridge network is not built yet, and the
runtime's wording of a failed exec (dockerd adds its containerd/runc prefix). dockerd runs in
its own network and mount namespaces with its own data root, exec root, pid file and socket,
and is stopped by pid. Names and folders are unique to this run (engine-runtime-*)."""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine-api"))
from enginelib import (DOCKER, Dockerd, Machined, Tap, busybox_rootfs_tar, differential_env,
                       make_certs, make_tmp, need_root)

tap = Tap()
need_root(tap)
import docker as dockerpy  # noqa: E402  (docker-py 7.1 in pyenv's python)
if not os.path.exists("/usr/sbin/dockerd"):
    tap.skip_all("Debian's dockerd (docker.io) is not installed: run scripts/install-deps")

T = make_tmp("engine-runtime-diff-")
CERTS = os.path.join(T, "certs")
make_certs(CERTS)
CGPARENT = "machined-engine-runtime-diff-%d" % os.getpid()
m = Machined(T, CERTS, extra=["--cgroup-parent", CGPARENT])
d = Dockerd(T)


def base_env(host):
    return differential_env(T, host)


MASKS = [
    (re.compile(r"\b[0-9a-f]{64}\b"), "<ID>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<SHORTID>"),
    (re.compile(r"(Less than a second|About a minute|About an hour|\d+ \w+)( ago)?$", re.M), "<DURATION>"),
    (re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z"), "<TIME>"),
]
OUR_WARNING = re.compile(r"^WARNING: machined: the default bridge network is not built yet.*\n",
                         re.M)


def mask(s):
    for rx, rep in MASKS:
        s = rx.sub(rep, s)
    return s


def run(env, args, stdin=None):
    p = subprocess.run([DOCKER] + args, env=env, input=stdin, capture_output=True, timeout=120)
    err = OUR_WARNING.sub("", p.stderr.decode(errors="replace"))
    return p.returncode, p.stdout.decode(errors="replace"), err


LOOP = "trap 'exit 0' TERM; while true; do sleep 0.1; done"
# (description, argv, stdin, what to compare: "all" = exit code, stdout and stderr; "rc" = the
# exit code only, where the message is the runtime's own: dockerd's has containerd's and runc's
# prefixes, "OCI runtime exec failed: exec failed: unable to start container process: ...")
JOURNEY = [
    ("run --rm bb echo hi", ["run", "--rm", "bb", "echo", "hi"], None, "all"),
    ("run bb sh -c 'exit 3'", ["run", "--name", "e3", "bb", "sh", "-c", "exit 3"], None, "all"),
    ("echo x | run -i --rm bb cat", ["run", "-i", "--rm", "bb", "cat"], b"x\n", "all"),
    ("run -t --rm", ["run", "-t", "--rm", "bb", "sh", "-c", "echo tty; tty"], None, "all"),
    ("stdout and stderr", ["run", "--rm", "bb", "sh", "-c", "echo out; echo err >&2"], None, "all"),
    ("env, workdir, user", ["run", "--rm", "-e", "A=1", "-w", "/tmp", "-u", "nobody", "bb", "sh",
                            "-c", "echo $A; pwd; id -u"], None, "all"),
    ("a missing command exits 127", ["run", "--rm", "bb", "nope"], None, "rc"),
    ("run -d --name s1", ["run", "-d", "--name", "s1", "bb", "sh", "-c", "echo started; " + LOOP],
     None, "all"),
    ("ps", ["ps", "--format", "{{.Names}} {{.Image}} {{.Command}} {{.Status}}"], None, "all"),
    ("logs", ["logs", "s1"], None, "all"),
    ("exec s1 echo ok", ["exec", "s1", "echo", "ok"], None, "all"),
    ("exec exit code", ["exec", "s1", "sh", "-c", "exit 5"], None, "all"),
    ("exec -i", ["exec", "-i", "s1", "cat"], b"in\n", "all"),
    ("exec of a missing command", ["exec", "s1", "nope"], None, "rc"),
    ("rm of a running container", ["rm", "s1"], None, "all"),
    ("inspect running", ["inspect", "-f", "{{.State.Status}} {{.State.Running}} {{.Config.Tty}} "
                         "{{.Name}} {{.Path}} {{len .Args}}", "s1"], None, "all"),
    ("stop", ["stop", "s1"], None, "all"),
    ("stop again", ["stop", "s1"], None, "all"),
    ("kill of a stopped container", ["kill", "s1"], None, "all"),
    ("exec in a stopped container", ["exec", "s1", "true"], None, "all"),
    ("inspect stopped", ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} "
                         "{{.State.OOMKilled}}", "s1"], None, "all"),
    ("ps -a", ["ps", "-a", "--format", "{{.Names}} {{.Status}}"], None, "all"),
    ("ps -a filters", ["ps", "-a", "--filter", "status=exited", "--filter", "exited=3",
                       "--format", "{{.Names}}"], None, "all"),
    ("wait", ["wait", "e3"], None, "all"),
    ("rm", ["rm", "s1"], None, "all"),
    ("logs of a missing container", ["logs", "s1"], None, "all"),
    ("a name in use", ["run", "--name", "e3", "bb", "true"], None, "all"),
    ("rmi of the image a container uses", ["rmi", "bb"], None, "all"),
    ("rm -f", ["rm", "-f", "e3"], None, "all"),
    ("nothing left", ["ps", "-aq"], None, "all"),
]


def py_read_frames(sock):
    """A multiplexed attach stream until EOF: (stdout, stderr)."""
    out, err, buf = b"", b"", b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 8 and len(buf) >= 8 + int.from_bytes(buf[4:8], "big"):
            size = int.from_bytes(buf[4:8], "big")
            if buf[0] == 1:
                out += buf[8:8 + size]
            elif buf[0] == 2:
                err += buf[8:8 + size]
            buf = buf[8 + size:]
    return out, err


def py_error(fn):
    """What a docker-py call raised, as comparable text: the class and HTTP status."""
    try:
        fn()
        return "no error"
    except dockerpy.errors.APIError as e:
        return "%s %s" % (e.__class__.__name__, e.status_code)


def py_journey(host):
    """The journeys of Done-when 1 through docker-py 7.1 (API 1.41): [(description, result)]."""
    c = dockerpy.DockerClient(base_url=host, version="1.41")
    api, r = c.api, []
    r.append(("run echo hi, removed", c.containers.run("bb", ["echo", "hi"], remove=True)))
    try:
        c.containers.run("bb", ["sh", "-c", "echo oops >&2; exit 3"], name="py-e3")
        r.append(("run exit 3", "no error"))
    except dockerpy.errors.ContainerError as e:
        r.append(("run exit 3: ContainerError", (e.exit_status, e.stderr)))
    cfg = api.create_container_config("bb", ["cat"], stdin_open=True,
                                      host_config=api.create_host_config(auto_remove=True))
    cfg["StdinOnce"] = True
    cid = api.create_container_from_config(cfg)["Id"]
    sock = api.attach_socket(cid, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
    api.start(cid)
    sock._sock.sendall(b"x\n")
    sock._sock.shutdown(socket.SHUT_WR)
    r.append(("run -i --rm cat: the attach stream", py_read_frames(sock._sock)))
    for _ in range(100):
        if not api.containers(all=True, filters={"id": cid}):
            break
        time.sleep(0.05)
    r.append(("AutoRemove: gone", api.containers(all=True, filters={"id": cid})))
    r.append(("missing image", py_error(lambda: api.create_container("nosuchimage:1", "true"))))
    s = c.containers.run("bb", ["sh", "-c", "echo started; " + LOOP], detach=True, name="py-s1")
    for _ in range(100):
        if b"started" in s.logs():
            break
        time.sleep(0.05)
    r.append(("ps", [(x.name, x.status) for x in c.containers.list()]))
    r.append(("logs", s.logs()))
    e = s.exec_run(["echo", "ok"])
    r.append(("exec_run echo ok", (e.exit_code, e.output)))
    e = s.exec_run(["sh", "-c", "echo out; echo err >&2; exit 5"], demux=True)
    r.append(("exec_run exit 5, demuxed", (e.exit_code, e.output)))
    eid = api.exec_create(s.id, ["sh", "-c", "exit 7"])["Id"]
    api.exec_start(eid)
    x = api.exec_inspect(eid)
    r.append(("exec_inspect", (x["ExitCode"], x["Running"])))
    r.append(("rm of a running container", py_error(lambda: s.remove())))
    s.stop(timeout=1)
    s.reload()
    st = s.attrs["State"]
    r.append(("stopped", (s.status, st["Running"], st["ExitCode"], st["OOMKilled"],
                          s.attrs["Config"]["Tty"], s.attrs["Name"], s.attrs["Path"],
                          s.attrs["Args"])))
    r.append(("wait", s.wait()))
    r.append(("stop again", py_error(lambda: s.stop(timeout=1))))
    r.append(("kill of a stopped container", py_error(lambda: s.kill())))
    r.append(("ps -a filters", [x.name for x in c.containers.list(
        all=True, filters={"status": "exited", "exited": 3})]))
    s.remove()
    r.append(("removed", py_error(lambda: c.containers.get("py-s1"))))
    r.append(("run -t", c.containers.run("bb", ["sh", "-c", "echo tty; tty"], tty=True,
                                         remove=True)))
    r.append(("images", sorted(t for i in c.images.list() for t in i.tags)))
    img = c.images.get("bb")
    c.images.get("bb").tag("bb", "py-copy")
    data = b"".join(img.save(named=True))
    r.append(("rmi one of two tags", c.api.remove_image("bb:py-copy")))
    loaded = c.images.load(data)
    r.append(("save | load: the same image", [i.id == img.id for i in loaded]))
    c.containers.get("py-e3").remove()
    r.append(("nothing left", c.containers.list(all=True)))
    c.close()
    return r


def wait_logged(env, name, text, secs=5):
    """run -d returns once the process runs, not once it has written: waits (bounded) until
    the container's log holds text, as the docker-py part does, before logs is compared."""
    deadline = time.time() + secs
    while time.time() < deadline and text not in run(env, ["logs", name])[1]:
        time.sleep(0.05)


def journey(env):
    results = []
    for desc, argv, stdin, what in JOURNEY:
        if desc == "logs":
            wait_logged(env, "s1", "started")
        rc, out, err = run(env, argv, stdin)
        results.append((rc, mask(out) if what == "all" else "", mask(err) if what == "all" else ""))
    return results


try:
    denv = base_env("unix://" + d.sock)
    d.start(denv)
    m.start()
    menv = base_env("unix://" + m.sock)
    rootfs = os.path.join(T, "rootfs.tar")
    with open(rootfs, "wb") as f:
        f.write(busybox_rootfs_tar())
    for env in (denv, menv):
        rc, out, err = run(env, ["import", rootfs, "bb"])
        if rc != 0:
            raise RuntimeError("import failed: " + err)
    want = journey(denv)
    got = journey(menv)
    for (desc, *_), w, g in zip(JOURNEY, want, got):
        tap.ok(w == g, "%s: same exit code and output as dockerd" % desc,
               None if w == g else "dockerd: rc=%d\n%s%s\nmachined: rc=%d\n%s%s" % (
                   w[0], w[1], w[2], g[0], g[1], g[2]))
    for (desc, w), (_, g) in zip(py_journey(denv["DOCKER_HOST"]), py_journey(menv["DOCKER_HOST"])):
        tap.ok(w == g, "docker-py, %s: the same as with dockerd" % desc,
               None if w == g else "dockerd:  %r\nmachined: %r" % (w, g))
except Exception as e:
    import traceback
    tap.ok(False, "unexpected exception: %r" % e, traceback.format_exc() + m.read_log())
finally:
    m.stop()
    d.stop()
    for root in ["/sys/fs/cgroup"] + [os.path.join("/sys/fs/cgroup", c)
                                       for c in os.listdir("/sys/fs/cgroup")]:
        d = os.path.join(root, CGPARENT)
        for sub, dirs, files in sorted(os.walk(d, topdown=False)):
            try:
                os.rmdir(sub)
            except OSError:
                pass
    if os.environ.get("MACHINE_TEST_KEEP") != "1":
        shutil.rmtree(T, ignore_errors=True)
tap.done()
