#!/usr/bin/env python3
"""Runs a C test of the driver (argv[1]: test-lvdrv-probe, test-lvdrv-stop) inside a private
libvirtd, where qemu:///system is the test's own."""
import os
import sys

sys.path.insert(0, os.path.join(os.environ.get('MACHINE_TEST_SRCDIR', '.'), 'tests', 'hosts',
                                'libvirt'))
import lvlib  # noqa: E402


def main():
    sys.stdout.flush()
    os.execv(sys.argv[1], [sys.argv[1]])


lvlib.run_inside(os.path.basename(sys.argv[1]), main, with_image=False)
