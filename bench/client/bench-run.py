#!/usr/bin/env python3
"""Container start as a user sees it: `machine run --rm --network none IMAGE true` against a
local machined, vs `crun run` of the same root filesystem (an OCI bundle of the image's tar),
both measured in the same run, interleaved. Target: machine's median at most twice crun's.
Also reported: the bare namespace + exec floor, `unshare -mpfui --fork true`.

crun refuses this machine's hybrid cgroup layout while the v2 mount holds a controller, so the
measurements run in a private mount namespace without /sys/fs/cgroup/unified: crun then sees
pure cgroup v1, creates its cgroups there as machined does, and nothing outside changes.

usage: bench-run.py MACHINE_BIN     (root; MACHINED_BIN, MACHINE_TEST_SRCDIR from meson;
                                     MACHINE_BENCH_SHORT=1 for fewer repetitions)"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

SRCDIR = os.environ.get("MACHINE_TEST_SRCDIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(SRCDIR, "tests", "integration", "engine-api"))
from enginelib import Machined, busybox_rootfs_tar, make_certs, make_tmp  # noqa: E402

CRUN = shutil.which("crun") or "/usr/bin/crun"
TARGET = 2.0


def timed(argv, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - t0) * 1000
    if p.returncode != 0:
        raise RuntimeError("%s exited %d: %s" % (" ".join(argv), p.returncode,
                                                 p.stderr.decode(errors="replace")[-500:]))
    return ms


def inner(args):
    """In the private mount namespace: drop the v2 mount, then time the three sides."""
    machine, sock, image, bundle, reps = args[0], args[1], args[2], args[3], int(args[4])
    if os.path.ismount("/sys/fs/cgroup/unified"):
        subprocess.run(["umount", "/sys/fs/cgroup/unified"], check=True)
    env = dict(os.environ, DOCKER_HOST="unix://" + sock)
    for k in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_API_VERSION"):
        env.pop(k, None)
    sides = {
        "machine": lambda i: timed([machine, "run", "--rm", "--network", "none", image, "true"],
                                   env),
        "crun": lambda i: timed([CRUN, "run", "--bundle", bundle,
                                 "engine-client-bench-%d-%d" % (os.getpid(), i)]),
        "floor": lambda i: timed(["unshare", "-mpfui", "--fork", "true"]),
    }
    times = {k: [] for k in sides}
    for i in range(-2, reps):  # two warm-up rounds
        for name, fn in sides.items():
            ms = fn(i + 2)
            if i >= 0:
                times[name].append(ms)
    print(json.dumps(times))


def make_bundle(tmp, rootfs_tar):
    bundle = os.path.join(tmp, "bundle")
    root = os.path.join(bundle, "rootfs")
    os.makedirs(root)
    with tarfile.open(rootfs_tar) as t:
        t.extractall(root)
    for d in ("proc", "sys", "dev"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    subprocess.run([CRUN, "spec"], cwd=bundle, check=True)
    with open(os.path.join(bundle, "config.json")) as f:
        spec = json.load(f)
    spec["process"]["args"] = ["true"]
    spec["process"]["terminal"] = False
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(spec, f)
    return bundle


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        return inner(sys.argv[2:])
    if os.geteuid() != 0:
        print("SKIP: the run benchmark needs root (machined, crun, namespaces)")
        return 77
    if not os.path.exists(CRUN):
        print("SKIP: crun is not installed (scripts/install-deps)")
        return 77
    machine = sys.argv[1]
    reps = 9 if os.environ.get("MACHINE_BENCH_SHORT") == "1" else 25
    tmp = make_tmp("engine-client-bench-")
    m = Machined(tmp, os.path.join(tmp, "certs"))
    try:
        make_certs(os.path.join(tmp, "certs"))
        m.start()
        rootfs = os.path.join(tmp, "rootfs.tar")
        with open(rootfs, "wb") as f:
            f.write(busybox_rootfs_tar())
        env = dict(os.environ, DOCKER_HOST="unix://" + m.sock)
        subprocess.run([machine, "image", "import", rootfs, "bench-bb:1"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        bundle = make_bundle(tmp, rootfs)
        out = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                              os.path.abspath(__file__), "--inner", machine, m.sock,
                              "bench-bb:1", bundle, str(reps)],
                             check=True, stdout=subprocess.PIPE).stdout
        times = json.loads(out)
    finally:
        m.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print("runs per side: %d (interleaved, after 2 warm-up rounds)" % reps)
    print("machine run --rm --network none IMAGE true: median %.1f ms (min %.1f, max %.1f)" %
          (med["machine"], min(times["machine"]), max(times["machine"])))
    print("crun run, same root filesystem (anchor, same run): median %.1f ms (min %.1f, max %.1f)"
          % (med["crun"], min(times["crun"]), max(times["crun"])))
    print("floor, unshare -mpfui --fork true: median %.1f ms" % med["floor"])
    ratio = med["machine"] / med["crun"]
    ok = ratio <= TARGET
    print("%s: machine's median is %.2fx crun's (target <= %.1fx)" %
          ("PASS" if ok else "FAIL", ratio, TARGET))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
