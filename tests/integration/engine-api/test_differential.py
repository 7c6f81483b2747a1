#!/usr/bin/env python3
"""The same image journeys with the stock docker CLI against Debian's dockerd 20.10 and against
machined, both pinned to API 1.41 (DOCKER_API_VERSION=1.41): outputs and exit codes must match
once image IDs, times and sizes are masked. dockerd runs in its own network and mount
namespaces with its own data root, exec root, pid file and socket, and is stopped by pid."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from enginelib import (DOCKER, Dockerd, Machined, Tap, busybox_rootfs_tar, differential_env,
                       docker_save_tar, image_config, make_certs, make_tmp, need_root)

tap = Tap()
need_root(tap)
if not os.path.exists("/usr/sbin/dockerd"):
    tap.skip_all("Debian's dockerd (docker.io) is not installed: run scripts/install-deps")

T = make_tmp("engine-api-diff-")
CERTS = os.path.join(T, "certs")
make_certs(CERTS)
m = Machined(T, CERTS)
d = Dockerd(T)


def base_env(host):
    return differential_env(T, host)


MASKS = [
    (re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<ID>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<SHORTID>"),
    (re.compile(r"\d+(\.\d+)?\s?[kMG]?B\b"), "<SIZE>"),
    (re.compile(r"(Less than a second|About a minute|About an hour|\d+ \w+) ago"), "<AGO>"),
    (re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z"), "<TIME>"),
]


def mask(s):
    for rx, rep in MASKS:
        s = rx.sub(rep, s)
    return s


def run(env, args, stdin=None):
    p = subprocess.run([DOCKER] + args, env=env, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


ROOTFS = busybox_rootfs_tar()
SAVE = docker_save_tar([(["busybox:latest", "busybox:1"], [ROOTFS], image_config([ROOTFS]))])
with open(os.path.join(T, "rootfs.tar"), "wb") as f:
    f.write(ROOTFS)

# (description, argv, stdin, compare stdout unmasked too). "IMAGEID(ref)" is replaced by the
# engine's ID for ref. For "image inspect" of a missing image, dockerd 20.10 wraps the message
# ("no such image: X: No such image: X:latest", a 20.10 quirk that moby 23 dropped); there
# machined's message must be the inner part of dockerd's.
JOURNEY = [
    ("load a docker-save archive", ["load"], SAVE, False),
    ("list tags", ["images", "--format", "{{.Repository}}:{{.Tag}}"], None, False),
    ("import a root filesystem", ["import", os.path.join(T, "rootfs.tar"), "imp:1"], None, False),
    ("import with changes", ["import", "-c", "CMD [\"/bin/sh\"]", "-c", "ENV A=1", "-c",
                             "WORKDIR /tmp", os.path.join(T, "rootfs.tar"), "imp:2"], None, False),
    ("inspect the import's config",
     ["image", "inspect", "-f", "{{json .Config.Cmd}} {{json .Config.Env}} {{.Config.WorkingDir}} "
      "{{.Os}} {{.Architecture}} {{.RootFS.Type}} {{len .RootFS.Layers}}", "imp:2"], None, False),
    ("the loaded image's ID is its config digest", ["image", "inspect", "-f", "{{.Id}}",
                                                    "busybox"], None, True),
    ("tag", ["tag", "busybox", "localhost:5000/x/y:z"], None, False),
    ("images with a reference filter", ["images", "localhost:5000/x/y",
                                        "--format", "{{.Repository}} {{.Tag}}"], None, False),
    ("images with a wildcard reference", ["images", "--filter", "reference=imp:*",
                                          "--format", "{{.Repository}} {{.Tag}}"], None, False),
    ("history", ["history", "--format", "{{.CreatedBy}}|{{.Comment}}", "busybox"], None, False),
    ("rmi one of several tags", ["rmi", "localhost:5000/x/y:z"], None, False),
    ("rmi by ID of an image with two tags", ["rmi", "IMAGEID(busybox)"], None, False),
    ("rmi -f by ID", ["rmi", "-f", "IMAGEID(busybox)"], None, False),
    ("rmi of a missing image", ["rmi", "nope"], None, False),
    ("inspect a missing object", ["inspect", "nothing-here"], None, False),
    ("image inspect of a missing image", ["image", "inspect", "nothing-here"], None, False),
    ("bad reference", ["tag", "imp:1", "Bad/Name"], None, False),
    ("load it back", ["load"], SAVE, False),
    ("dangling images", ["images", "-q", "--filter", "dangling=true"], None, False),
    ("untag both, image deleted", ["rmi", "busybox:latest", "busybox:1"], None, False),
    ("final list", ["images", "--format", "{{.Repository}}:{{.Tag}}"], None, False),
]


def journey(env):
    results = []
    for desc, argv, stdin, exact in JOURNEY:
        args = []
        for a in argv:
            if a.startswith("IMAGEID("):
                rc, out, err = run(env, ["image", "inspect", "-f", "{{.Id}}", a[8:-1]])
                a = out.strip()
            args.append(a)
        rc, out, err = run(env, args, stdin)
        if "images" in args and "--format" in args:
            out = "\n".join(sorted(out.splitlines())) + "\n"
        results.append((rc, out if exact else mask(out), mask(err)))
    return results


def cross_save_load(denv, menv):
    """An image saved by one engine loads into the other with the same ID."""
    for src, dst, name in ((denv, menv, "dockerd to machined"), (menv, denv, "machined to dockerd")):
        tag = "cross-" + name.split()[0]
        rc, out, err = run(src, ["import", "-c", "CMD [\"/bin/sh\"]",
                                 os.path.join(T, "rootfs.tar"), tag + ":1"])
        rc, out, err = run(src, ["image", "inspect", "-f", "{{.Id}}", tag + ":1"])
        want_id = out.strip()
        p = subprocess.run([DOCKER, "save", tag + ":1"], env=src, capture_output=True)
        rc, out, err = run(dst, ["load"], p.stdout)
        rc2, out2, err2 = run(dst, ["image", "inspect", "-f", "{{.Id}} {{json .Config.Cmd}}",
                                    tag + ":1"])
        tap.ok(p.returncode == 0 and rc == 0 and "Loaded image: %s:1" % tag in out and
               out2.strip() == want_id + ' ["/bin/sh"]',
               "docker save from %s, docker load: same ID and config" % name,
               "save rc=%d %s\nload rc=%d %s%s\ninspect %s%s" % (
                   p.returncode, p.stderr.decode()[-500:], rc, out, err, out2, err2))


try:
    denv = base_env("unix://" + d.sock)
    d.start(denv)
    m.start()
    menv = base_env("unix://" + m.sock)
    cross_save_load(denv, menv)
    want = journey(denv)
    got = journey(menv)
    for (desc, argv, *_), w, g in zip(JOURNEY, want, got):
        same = w == g
        if not same and argv[:2] == ["image", "inspect"] and w[0] == g[0] and w[1] == g[1]:
            inner = g[2].replace("Error response from daemon: ", "").strip()
            same = inner != "" and inner in w[2]
        tap.ok(same, "%s: same output and exit code as dockerd" % desc,
               None if same else "dockerd: rc=%d\n%s%s\nmachined: rc=%d\n%s%s" % (
                   w[0], w[1], w[2], g[0], g[1], g[2]))
except Exception as e:
    import traceback
    tap.ok(False, "unexpected exception: %r" % e, traceback.format_exc() + m.read_log())
finally:
    m.stop()
    d.stop()
    if os.environ.get("MACHINE_TEST_KEEP") != "1":
        shutil.rmtree(T, ignore_errors=True)
tap.done()
