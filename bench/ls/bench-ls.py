#!/usr/bin/env python3
"""ls at 1000 hosts: the median wall time of `machine ls --timeout 0` over a store of 1000
machines (made with `machine create --driver none`, four at a time). Target: <= 100 ms, else
the benchmark fails.

Anchors, measured in the same run: the same command over an empty store (the cost of starting
machine), and `cat` of the 1000 config.json files (the cost of reading them).

usage: bench-ls.py MACHINE_BIN     (MACHINE_BENCH_SHORT=1: fewer repetitions)"""
import concurrent.futures
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_MS = 100.0
HOSTS = 1000


def run(cmd, env):
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def median_ms(cmd, env, reps):
    run(cmd, env)  # warm the page cache
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        run(cmd, env)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    machine = sys.argv[1]
    reps = 7 if os.environ.get("MACHINE_BENCH_SHORT") == "1" else 21
    root = tempfile.mkdtemp(prefix="foundation-bench-ls.")
    try:
        env = dict(os.environ, MACHINE_STORAGE_PATH=os.path.join(root, "store"))
        empty = dict(os.environ, MACHINE_STORAGE_PATH=os.path.join(root, "empty"))
        for k in ("DOCKER_HOST", "MACHINE_NAME"):
            env.pop(k, None)
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: run([machine, "-q", "create", "--driver", "none", "--url",
                                         "tcp://127.0.0.1:23760", "m%04d" % i], env),
                          range(HOSTS)))
        print("# made %d machines in %.1f s (4 creates at a time)" % (HOSTS, time.perf_counter() - t))
        out = subprocess.run([machine, "ls", "--timeout", "0", "-q"], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        if len(out) != HOSTS:
            print("FAIL: ls listed %d machines, not %d" % (len(out), HOSTS))
            return 1
        configs = sorted(glob.glob(os.path.join(root, "store", "machines", "*", "config.json")))
        ls_ms = median_ms([machine, "ls", "--timeout", "0"], env, reps)
        start_ms = median_ms([machine, "ls", "--timeout", "0"], empty, reps)
        cat_ms = median_ms(["cat"] + configs, env, reps)
        print("anchor: machine ls --timeout 0, empty store: median %.1f ms" % start_ms)
        print("anchor: cat of the %d config.json files: median %.1f ms" % (len(configs), cat_ms))
        print("machine ls --timeout 0, %d machines: median %.1f ms over %d runs (target <= %.0f ms)"
              % (HOSTS, ls_ms, reps, TARGET_MS))
        if ls_ms > TARGET_MS:
            print("FAIL: the median is above the target")
            return 1
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
