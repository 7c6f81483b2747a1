#!/usr/bin/env python3
"""Runs test-lvdrv-probe (the KVM probe's machinery, keepalive) inside a private libvirtd."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts',
                                'libvirt'))
import lvlib  # noqa: E402


def main():
    sys.stdout.flush()
    os.execv(sys.argv[1], [sys.argv[1]])


lvlib.run_inside('probe', main)
