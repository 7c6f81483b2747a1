#!/usr/bin/env python3
"""Runs test-ssh-session (the SSH layer's TAP test) against a fresh test host."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts'))
import hostlib  # noqa: E402

hostlib.require_root()
hosts = hostlib.Hosts('sess')
h, = hosts.up(1)
r = subprocess.run([sys.argv[1]], env=dict(os.environ, SSH_HOST=h['ip'], SSH_KEY=h['key']))
sys.exit(r.returncode)
