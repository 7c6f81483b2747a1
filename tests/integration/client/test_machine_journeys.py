#!/usr/bin/env python3
"""Issue 3's journeys with machine itself as the client of a machined started here, over the
unix socket and over mutual TLS: version, info, import and load of a busybox image, run --rm
echo, exit codes (3, 125, 126, 127), run -i with stdin's end passed on (and a megabyte of it),
run -d then ps, logs, exec, stop, rm; run -t and -it on a pseudo-terminal (raw mode restored,
window size followed); signals forwarded; start, restart, kill, rename, pause, unpause,
exec -d -u, logs -f; images, rmi, save | load; --format json; -H URL, -H NAME and
`machine env` for a stored machine."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (MACHINE, Machined, SkipTap, busybox_rootfs_tar, clean_env,  # noqa: E402
                       docker_save_tar, image_config, keep_or_remove, make_certs, make_tmp,
                       need_root, run, run_pty)

tap = SkipTap()
need_root(tap)
T = make_tmp("engine-client-it-")
CERTS = os.path.join(T, "certs")
CLIENT = make_certs(CERTS)
ROOTFS = busybox_rootfs_tar()
SAVE = docker_save_tar([(["bb:latest"], [ROOTFS], image_config([ROOTFS]))])
m = Machined(T, CERTS)


def M(env, *args, stdin=None, timeout=60):
    return run([MACHINE] + list(args), env, stdin=stdin, timeout=timeout)


def check(cond, desc, res=None):
    diag = None
    if res is not None and not cond:
        diag = "rc=%s\nstdout:\n%s\nstderr:\n%s" % res
    return tap.ok(cond, desc, diag)


def images_journey(env, how):
    rc, out, err = res = M(env, "version")
    check(rc == 0 and out.startswith("machine version ") and "Engine: machined" in out and
          "API version: 1.44" in out, "version prints the client, then the engine (%s)" % how,
          res)
    rc, out, err = res = M(env, "info")
    check(rc == 0 and "Server Version: " in out and "Images: " in out and "Docker Root Dir: " +
          m.data_root in out, "info (%s)" % how, res)
    rc, out, err = res = M(env, "info", "--format", "{{.ServerVersion}}")
    check(rc == 0 and out.strip() == "0.1.0", "info --format (%s)" % how, res)
    rootfs = os.path.join(T, "rootfs.tar")
    with open(rootfs, "wb") as f:
        f.write(ROOTFS)
    rc, out, err = res = M(env, "image", "import", "-c", "ENV IMPORTED=1", "-m", "by machine",
                           rootfs, "bb-imp:" + how)
    check(rc == 0 and out.startswith("sha256:"), "image import of a root filesystem (%s)" % how,
          res)
    rc, out, err = res = M(env, "image", "inspect", "-f", "{{.Comment}} {{json .Config.Env}}",
                           "bb-imp:" + how)
    check(rc == 0 and out.startswith("by machine ") and "IMPORTED=1" in out,
          "the import's changes and message arrived (%s)" % how, res)
    save = os.path.join(T, "save.tar")
    with open(save, "wb") as f:
        f.write(SAVE)
    rc, out, err = res = M(env, "image", "load", "-i", save)
    check(rc == 0 and out == "Loaded image: bb:latest\n", "image load -i FILE (%s)" % how, res)
    rc, out, err = res = M(env, "image", "load", stdin=SAVE)
    check(rc == 0 and "Loaded image: bb:latest" in out, "image load from stdin (%s)" % how, res)
    rc, out, err = res = M(env, "images")
    lines = out.splitlines()
    check(rc == 0 and lines and lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID",
                                                     "CREATED", "SIZE"] and
          any(l.split()[:2] == ["bb", "latest"] for l in lines[1:]),
          "images prints docker's table (%s)" % how, res)
    rc, out, err = res = M(env, "images", "--format", "json")
    try:
        items = json.loads(out)
    except ValueError:
        items = None
    check(rc == 0 and isinstance(items, list) and
          {"Repository": "bb", "Tag": "latest"}.items() <= next(
              (i for i in items if i.get("Repository") == "bb"), {}).items(),
          "images --format json (%s)" % how, res)
    rc, out, err = res = M(env, "images", "-q", "bb")
    check(rc == 0 and len(out.split()) == 1 and len(out.strip()) == 12,
          "images -q REPOSITORY (%s)" % how, res)


def save_load_journey(env, how):
    p = subprocess.Popen([MACHINE, "image", "save", "bb"], env=env, stdout=subprocess.PIPE)
    rc2, out, err = res = run([MACHINE, "image", "load"], env, stdin=p.stdout.read())
    rc1 = p.wait()
    check(rc1 == 0 and rc2 == 0 and out == "Loaded image: bb:latest\n",
          "image save | image load round trip (%s)" % how, res)
    rc, out, err = res = M(env, "image", "tag", "bb", "bb-copy:" + how)
    check(rc == 0, "image tag (%s)" % how, res)
    rc, out, err = res = M(env, "rmi", "bb-copy:" + how, "bb-imp:" + how)
    check(rc == 0 and "Untagged: bb-copy:%s\n" % how in out and "Untagged: bb-imp:%s\n" % how
          in out and "Deleted: sha256:" in out, "rmi of two images (%s)" % how, res)
    rc, out, err = res = M(env, "image", "rm", "nope")
    check(rc == 1 and "No such image" in err, "image rm of a missing image fails (%s)" % how, res)
    rc, out, err = res = M(env, "image", "history", "bb")
    check(rc == 0 and out.split("\n")[0].split()[:2] == ["IMAGE", "CREATED"],
          "image history (%s)" % how, res)


def run_journey(env, how):
    rc, out, err = res = M(env, "run", "--rm", "bb", "echo", "hi")
    check(rc == 0 and out == "hi\n", "run --rm bb echo hi prints hi (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--name", "ex3-" + how, "bb", "sh", "-c",
                           "echo out; echo err >&2; exit 3")
    check(rc == 3 and out == "out\n" and "err\n" in err,
          "run exits with the container's code, stdout and stderr apart (%s)" % how, res)
    rc, out, err = res = M(env, "container", "rm", "ex3-" + how)
    check(rc == 0 and out == "ex3-%s\n" % how, "container rm (%s)" % how, res)
    rc, out, err = res = M(env, "run", "-i", "--rm", "bb", "cat", stdin="x\n")
    check(rc == 0 and out == "x\n", "echo x | run -i --rm bb cat prints x (%s)" % how, res)
    big = os.urandom(1 << 20)
    rc, out, err = res = M(env, "run", "-i", "--rm", "bb", "sh", "-c",
                           "md5sum; echo after-eof", stdin=big)
    check(rc == 0 and out == "%s  -\nafter-eof\n" % hashlib.md5(big).hexdigest(),
          "a megabyte of stdin, then its end; output goes on after it (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "--network", "none", "-e", "A=1", "-w", "/tmp",
                           "-u", "nobody", "--hostname", "box", "--label", "k=v", "bb", "sh",
                           "-c", "echo $A $(pwd) $(id -u) $(hostname)")
    check(rc == 0 and out == "1 /tmp 65534 box\n", "run -e -w -u --hostname (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "--entrypoint", "echo", "bb", "from", "entry")
    check(rc == 0 and out == "from entry\n", "run --entrypoint (%s)" % how, res)
    exit_codes(env, how)


def limits_journey(env, how):
    """-v, --memory, --cpus, --pids-limit and --restart reach the engine and take effect."""
    host = os.path.join(T, "host-" + how)
    os.makedirs(host, exist_ok=True)
    with open(os.path.join(host, "f"), "w") as f:
        f.write("hello\n")
    rc, out, err = res = M(env, "run", "--rm", "-v", host + ":/data:ro", "bb", "sh", "-c",
                           "cat /data/f; touch /data/x 2>/dev/null || echo ro")
    check(rc == 0 and out == "hello\nro\n", "run -v SRC:DST:ro (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "-v", host + ":/data", "bb", "sh", "-c",
                           "echo w > /data/w")
    check(rc == 0 and open(os.path.join(host, "w")).read() == "w\n",
          "run -v SRC:DST writes to the host (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "--memory", "16m", "bb", "sh", "-c",
                           "x=$(head -c 64000000 /dev/zero | tr '\\0' a); echo survived")
    check(rc == 137 and "survived" not in out, "run --memory 16m: a hog is killed, 137 (%s)" % how,
          res)
    rc, out, err = res = M(env, "run", "--rm", "--pids-limit", "5", "bb", "sh", "-c",
                           "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait")
    check("can't fork" in err, "run --pids-limit 5: the sixth process cannot fork (%s)" % how,
          res)
    name = "rp-" + how
    rc, out, err = res = M(env, "run", "-d", "--name", name, "--restart", "on-failure:2",
                           "--cpus", "0.5", "--memory", "32m", "--pids-limit", "30", "bb", "sh",
                           "-c", "exit 1")
    fmt = ("{{.RestartCount}} {{.State.Status}} {{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}"
           " {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}")
    deadline = time.time() + 15
    while time.time() < deadline:
        rc, out, err = res = M(env, "container", "inspect", "-f", fmt, name)
        if out.startswith("2 exited"):
            break
        time.sleep(0.1)
    check(out == "2 exited 33554432 500000000 30 on-failure\n",
          "run --restart on-failure:2 --cpus --memory --pids-limit (%s)" % how, res)
    M(env, "container", "rm", "-f", name)


def exit_codes(env, how):
    rc, out, err = res = M(env, "run", "--rm", "nosuchimage")
    check(rc == 125 and "No such image" in err, "a missing image exits 125 (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "bb", "nosuchcommand")
    check(rc == 127, "a command not found exits 127 (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "bb", "/etc")
    check(rc == 126, "a command that cannot be executed exits 126 (%s)" % how, res)
    rc, out, err = res = M(env, "run", "--rm", "--restart", "always", "bb", "true")
    check(rc == 125 and "--restart and --rm" in err, "a bad option exits 125 (%s)" % how, res)


def detached_journey(env, how):
    name = "s-" + how
    rc, out, err = res = M(env, "run", "-d", "--name", name, "bb", "sh", "-c",
                           "echo started; echo warn >&2; exec sleep 100")
    check(rc == 0 and len(out.strip()) == 64, "run -d prints the container's ID (%s)" % how, res)
    cid = out.strip()
    rc, out, err = res = M(env, "ps")
    row = [l for l in out.splitlines() if l.endswith(name)]
    check(rc == 0 and out.startswith("CONTAINER ID") and row and row[0].startswith(cid[:12]) and
          " Up " in row[0], "ps lists it as Up (%s)" % how, res)
    rc, out, err = res = M(env, "ps", "-q", "--filter", "name=" + name)
    check(rc == 0 and out == cid[:12] + "\n", "ps -q --filter name= (%s)" % how, res)
    rc, out, err = res = M(env, "ps", "--format", "{{.Names}} {{.State}} {{.Image}}",
                           "-f", "name=" + name)
    check(rc == 0 and out == "%s running bb\n" % name, "ps --format (%s)" % how, res)
    deadline = time.time() + 10
    while time.time() < deadline:
        rc, out, err = res = M(env, "logs", name)
        if "started" in out:
            break
        time.sleep(0.1)
    check(rc == 0 and out == "started\n" and err == "warn\n",
          "logs: stdout and stderr apart (%s)" % how, res)
    rc, out, err = res = M(env, "logs", "-t", "--tail", "1", name)
    check(rc == 0 and (out + err).count("\n") == 1 and "T" in (out + err).split(" ")[0],
          "logs -t --tail 1 (%s)" % how, res)
    rc, out, err = res = M(env, "exec", name, "echo", "ok")
    check(rc == 0 and out == "ok\n", "exec s echo ok (%s)" % how, res)
    rc, out, err = res = M(env, "exec", "-e", "B=2", "-w", "/tmp", name, "sh", "-c",
                           "echo $B $(pwd); exit 4")
    check(rc == 4 and out == "2 /tmp\n", "exec exits with the command's code (%s)" % how, res)
    rc, out, err = res = M(env, "exec", "-i", name, "cat", stdin="through exec\n")
    check(rc == 0 and out == "through exec\n", "exec -i (%s)" % how, res)
    rc, out, err = res = M(env, "container", "top", name)
    check(rc == 0 and "PID" in out.splitlines()[0] and "sleep 100" in out,
          "container top (%s)" % how, res)
    rc, out, err = res = M(env, "container", "inspect", "-f", "{{.State.Status}}", name)
    check(rc == 0 and out == "running\n", "container inspect --format (%s)" % how, res)
    rc, out, err = res = M(env, "container", "stop", "-t", "1", name)
    check(rc == 0 and out == name + "\n", "container stop (%s)" % how, res)
    rc, out, err = res = M(env, "container", "wait", name)
    check(rc == 0 and out == "137\n", "container wait prints the exit code (%s)" % how, res)
    rc, out, err = res = M(env, "container", "rm", name, "nope-" + how)
    check(rc == 1 and out == name + "\n" and "No such container: nope-" + how in err,
          "container rm of two, one missing: one done, the other reported (%s)" % how, res)
    rc, out, err = res = M(env, "ps", "-a", "-q", "--filter", "name=" + name)
    check(rc == 0 and out == "", "it is gone (%s)" % how, res)


def lifecycle_journey(env, how):
    name = "life-" + how
    rc, out, err = res = M(env, "run", "--name", name, "bb", "sh", "-c", "echo run")
    check(rc == 0 and out == "run\n", "a container that ran once (%s)" % how, res)
    rc, out, err = res = M(env, "container", "start", name)
    check(rc == 0 and out == name + "\n", "container start (%s)" % how, res)
    rc, out, err = res = M(env, "container", "wait", name)
    check(rc == 0 and out == "0\n", "container wait (%s)" % how, res)
    rc, out, err = res = M(env, "logs", name)
    check(rc == 0 and out == "run\nrun\n", "logs holds both runs (%s)" % how, res)
    rc, out, err = res = M(env, "container", "rename", name, name + "-b")
    check(rc == 0, "container rename (%s)" % how, res)
    name += "-b"
    M(env, "container", "rm", name)
    rc, out, err = res = M(env, "run", "-d", "--name", name, "bb", "sh", "-c",
                           "trap 'exit 9' HUP; while true; do sleep 0.1; done")
    check(rc == 0, "run -d a container that traps HUP (%s)" % how, res)
    rc, out, err = res = M(env, "container", "pause", name)
    rc2, st, _ = M(env, "container", "inspect", "-f", "{{.State.Status}}", name)
    check(rc == 0 and out == name + "\n" and st == "paused\n", "container pause (%s)" % how, res)
    rc, out, err = res = M(env, "container", "unpause", name)
    rc2, st, _ = M(env, "container", "inspect", "-f", "{{.State.Status}}", name)
    check(rc == 0 and st == "running\n", "container unpause (%s)" % how, res)
    rc, out, err = res = M(env, "container", "restart", "-t", "1", name)
    rc2, st, _ = M(env, "container", "inspect", "-f", "{{.State.Status}} {{.RestartCount}}",
                   name)
    check(rc == 0 and out == name + "\n" and st.startswith("running"),
          "container restart (%s)" % how, res)
    rc, out, err = res = M(env, "exec", "-d", "-u", "nobody", name, "sh", "-c",
                           "id -u > /tmp/who")
    time.sleep(0.3)
    rc2, who, _ = M(env, "exec", name, "cat", "/tmp/who")
    check(rc == 0 and out == "" and who == "65534\n", "exec -d -u (%s)" % how, res)
    rc, out, err = res = M(env, "container", "kill", "-s", "HUP", name)
    rc2, code, _ = M(env, "container", "wait", name)
    check(rc == 0 and code == "9\n", "container kill -s HUP: the trap's code (%s)" % how, res)
    M(env, "container", "rm", name)
    p = subprocess.Popen([MACHINE, "run", "-d", "--name", "f-" + how, "bb", "sh", "-c",
                          "for i in 1 2 3; do echo line$i; sleep 0.3; done"],
                         env=env, stdout=subprocess.PIPE)
    p.communicate()
    rc, out, err = res = M(env, "logs", "-f", "f-" + how, timeout=20)
    check(rc == 0 and out == "line1\nline2\nline3\n",
          "logs -f follows until the container stops (%s)" % how, res)
    M(env, "container", "rm", "f-" + how)


def stored_machine_journey():
    """-H NAME and `machine env NAME` reach the engine with the machine's own TLS files."""
    env = clean_env(T, "")
    env.pop("DOCKER_HOST")
    rc, out, err = res = M(env, "create", "--driver", "none", "--url",
                           "tcp://127.0.0.1:%d" % m.port, "--tls-ca-cert",
                           os.path.join(CLIENT, "ca.pem"), "--tls-client-cert",
                           os.path.join(CLIENT, "cert.pem"), "--tls-client-key",
                           os.path.join(CLIENT, "key.pem"), "eng")
    check(rc == 0, "a none machine for the engine's TLS port", res)
    rc, out, err = res = M(env, "-H", "eng", "images", "-q", "bb")
    check(rc == 0 and len(out.strip()) == 12, "-H NAME: the stored machine's engine over TLS",
          res)
    rc, out, err = res = M(env, "env", "--shell", "bash", "eng")
    script = out + "\n%s images -q bb\n" % MACHINE
    p = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    check(rc == 0 and p.returncode == 0 and len(p.stdout.strip()) == 12,
          "eval $(machine env NAME), then machine images", (p.returncode, p.stdout, p.stderr))
    rc, out, err = res = M(env, "-H", "eng", "run", "--rm", "bb", "echo", "via-name")
    check(rc == 0 and out == "via-name\n", "-H NAME run", res)


def signal_journey(env, how):
    p = subprocess.Popen([MACHINE, "run", "--rm", "bb", "sh", "-c",
                          "trap 'echo got-term; exit 7' TERM; echo ready; "
                          "while true; do sleep 0.1; done"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = p.stdout.readline()
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    check(first == b"ready\n" and p.returncode == 7 and out == b"got-term\n",
          "SIGTERM to machine run reaches the container, which exits 7 (%s)" % how,
          (p.returncode, (first + out).decode(), err.decode()))


def tty_journey(env, how):
    rc, out, before, after = run_pty([MACHINE, "run", "--rm", "-t", "bb", "sh", "-c",
                                      "tty; stty size"], env)
    check(rc == 0 and b"/dev/pts/" in out and b"30 100\r" in out,
          "run -t: a terminal of the caller's size (%s)" % how,
          (rc, repr(out), ""))
    rc, out, before, after = run_pty([MACHINE, "run", "--rm", "-it", "bb", "sh"], env,
                                     keys=b"echo typed-$((1+2))\rexit 5\r")
    check(rc == 5 and b"typed-3" in out, "run -it: keys typed reach the shell, its code is "
          "the exit code (%s)" % how, (rc, repr(out[-400:]), ""))
    check(before == after, "the terminal's settings are restored (%s)" % how)
    rc, out, before, after = run_pty([MACHINE, "run", "--rm", "-it", "bb", "sh"], env,
                                     keys=b"stty size\rexit\r", winch=(40, 120))
    check(rc == 0 and b"40 120" in out, "a window size change reaches the container (%s)" % how,
          (rc, repr(out[-400:]), ""))
    rc, out, before, after = run_pty([MACHINE, "run", "-it", "--name", "det-" + how, "bb", "sh"],
                                     env, keys=[b"echo before-detach\r", b"\x10\x11"])
    rc2, st, _ = M(env, "container", "inspect", "-f", "{{.State.Status}}", "det-" + how)
    check(rc == 0 and b"before-detach" in out and st == "running\n" and before == after,
          "run -it: ctrl-p ctrl-q leaves the container running and returns 0 (%s)" % how,
          (rc, repr(out[-300:]), st))
    M(env, "container", "rm", "-f", "det-" + how)
    M(env, "run", "-d", "--name", "tty-" + how, "bb", "sleep", "100")
    rc, out, before, after = run_pty([MACHINE, "exec", "-it", "tty-" + how, "sh"], env,
                                     keys=b"echo in-exec; stty size; exit 6\r")
    check(rc == 6 and b"in-exec" in out and b"30 100" in out and before == after,
          "exec -it: a terminal of the caller's size, its exit code, settings restored (%s)" %
          how, (rc, repr(out[-400:]), ""))
    M(env, "container", "rm", "-f", "tty-" + how)


def other_checks(env):
    for verb in (["run"], ["exec"], ["ps"], ["images"], ["logs"], ["info"], ["rmi"],
                 ["container"], ["image"], ["container", "stop"], ["image", "load"]):
        rc, out, err = res = M(env, *verb, "--help")
        check(rc == 0 and out.startswith("Usage: machine " + " ".join(verb)),
              "machine %s --help" % " ".join(verb), res)
    rc, out, err = res = M(env, "container", "stop", "--bogus", "x")
    check(rc == 2 and "unknown flag '--bogus'" in err and
          "Usage: machine container stop [OPTIONS] CONTAINER..." in err,
          "a usage error in a group's command shows that command's usage", res)
    bad = dict(env, DOCKER_HOST="unix://" + os.path.join(T, "nobody.sock"))
    rc, out, err = res = M(bad, "ps")
    check(rc == 1 and "cannot reach the engine" in err, "no engine: a clear error", res)
    rc, out, err = res = M(bad, "run", "--rm", "bb", "true")
    check(rc == 125, "run without an engine exits 125", res)
    other = dict(bad)
    rc, out, err = res = M(other, "-H", "unix://" + m.sock, "images", "-q", "bb")
    check(rc == 0 and out.strip() != "", "-H URL overrides DOCKER_HOST", res)


try:
    m.start()
    unix = clean_env(T, "unix://" + m.sock)
    tls = clean_env(T, "tcp://127.0.0.1:%d" % m.port, tls_dir=CLIENT)
    images_journey(unix, "unix")
    run_journey(unix, "unix")
    detached_journey(unix, "unix")
    limits_journey(unix, "unix")
    lifecycle_journey(unix, "unix")
    signal_journey(unix, "unix")
    tty_journey(unix, "unix")
    save_load_journey(unix, "unix")
    images_journey(tls, "tls")
    run_journey(tls, "tls")
    detached_journey(tls, "tls")
    tty_journey(tls, "tls")
    save_load_journey(tls, "tls")
    stored_machine_journey()
    other_checks(unix)
except Exception as e:  # a crash of the test itself is a failure, with machined's log
    import traceback
    tap.ok(False, "unexpected exception: %r" % e, traceback.format_exc() + m.read_log())
finally:
    m.stop()
    keep_or_remove(T)
tap.done()
