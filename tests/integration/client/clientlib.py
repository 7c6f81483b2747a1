"""Helpers for the engine client's integration tests: machine (or the stock docker CLI) run
against a machined started here, Debian's dockerd in its own namespaces for differential
tests, output masks, and commands under a pseudo-terminal. The machined, its CA and the offline
busybox images come from tests/integration/engine-api/enginelib.py. State lives under
/tmp/engine-client-*."""
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engine-api"))
from enginelib import (DOCKER, Dockerd, Machined, Tap, busybox_rootfs_tar,  # noqa: E402
                       docker_save_tar, image_config, make_certs, make_tmp, need_root)

MACHINE = os.environ.get("MACHINE_BIN", "machine")

__all__ = ["DOCKER", "MACHINE", "Machined", "Tap", "busybox_rootfs_tar", "docker_save_tar",
           "image_config", "make_certs", "make_tmp", "need_root", "Dockerd", "clean_env",
           "run", "run_pty", "mask", "keep_or_remove", "SkipTap"]


class SkipTap(Tap):
    """A Tap that can skip subtests with a reason (counted as skips, never as passes).

    skip_all prints the TAP plan "1..0 # SKIP why" and exits 0: under meson's TAP protocol the
    plan is what makes the test a skip, and any other exit status (77 too) is an error."""

    def __init__(self):
        super().__init__()
        self.skips = 0

    def todo(self, cond, desc, why, diag=None):
        """A known difference, still checked: "not ok ... # TODO why" is an expected failure
        for meson, and "ok ... # TODO" an unexpected pass that fails the run until the TODO
        is removed."""
        self.n += 1
        print("%s %d - %s # TODO %s" % ("ok" if cond else "not ok", self.n, desc, why),
              flush=True)
        if not cond and diag:
            for line in str(diag).splitlines()[:40]:
                print("# " + line, flush=True)
        return cond

    def skip_all(self, why):
        print("1..0 # SKIP " + why, flush=True)
        sys.exit(0)

    def skip(self, desc, why):
        self.n += 1
        self.skips += 1
        print("ok %d - %s # SKIP %s" % (self.n, desc, why), flush=True)


def clean_env(tmp, host, api_version=None, tls_dir=None):
    """The environment of a client pointed at host (DOCKER_* set, nothing inherited)."""
    env = dict(os.environ)
    for k in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT",
              "DOCKER_API_VERSION", "MACHINE_NAME", "DOCKER_MACHINE_NAME"):
        env.pop(k, None)
    env["DOCKER_HOST"] = host
    env["DOCKER_CONFIG"] = os.path.join(tmp, "docker-config")
    env["MACHINE_STORAGE_PATH"] = os.path.join(tmp, "store")
    if api_version:
        env["DOCKER_API_VERSION"] = api_version
    if tls_dir:
        env["DOCKER_TLS_VERIFY"] = "1"
        env["DOCKER_CERT_PATH"] = tls_dir
    return env


def run(argv, env, stdin=None, timeout=60):
    """Runs argv; returns (rc, stdout, stderr) as text (stdin may be bytes or str)."""
    if isinstance(stdin, str):
        stdin = stdin.encode()
    p = subprocess.run(argv, env=env, input=stdin, capture_output=True, timeout=timeout,
                       stdin=None if stdin is not None else subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def run_pty(argv, env, keys=b"", rows=30, cols=100, timeout=30, key_delay=0.5, winch=None):
    """Runs argv with a new pseudo-terminal as its stdin, stdout and stderr (sized rows x cols),
    types keys after key_delay (first resizing the terminal to winch=(rows, cols) if given,
    which sends SIGWINCH; a list of byte strings is typed key_delay apart), and returns (rc,
    everything written to the terminal, the terminal's settings before and after)."""
    import fcntl
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    before = termios.tcgetattr(slave)
    p = subprocess.Popen(argv, env=env, stdin=slave, stdout=slave, stderr=slave,
                         start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    out = b""
    deadline = time.time() + timeout
    pending = list(keys) if isinstance(keys, list) else ([keys] if keys else [])
    start = time.time()
    while time.time() < deadline:
        if pending and time.time() - start >= key_delay:
            if winch:
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", winch[0], winch[1],
                                                                   0, 0))
                winch = None
                time.sleep(0.3)
            os.write(master, pending.pop(0))
            start = time.time()
        r, _, _ = select.select([master], [], [], 0.05)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            out += data
        if p.poll() is not None and not r:
            break
    if p.poll() is None:
        p.kill()
    rc = p.wait()
    after = termios.tcgetattr(slave)
    os.close(slave)
    os.close(master)
    return rc, out, before, after


# Ids, times, sizes and names the engines choose differ; masks make the rest comparable.
MASKS = [
    (re.compile(r"sha256:[0-9a-f]{64}"), "sha256:<ID>"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "<ID>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<SHORTID>"),
    (re.compile(r"\d+(\.\d+)?\s?[kMG]?B\b"), "<SIZE>"),
    (re.compile(r"(Less than a second|About a minute|About an hour|"
                r"\d+ (second|minute|hour|day|week|month|year)s?)( ago)?\b"), "<TIME>"),
    (re.compile(r"\d{4}-\d\d-\d\dT[0-9:.]+Z"), "<TIME>"),
]


def mask(s):
    for rx, rep in MASKS:
        s = rx.sub(rep, s)
    return s


def keep_or_remove(tmp):
    if os.environ.get("MACHINE_TEST_KEEP") != "1":
        shutil.rmtree(tmp, ignore_errors=True)
