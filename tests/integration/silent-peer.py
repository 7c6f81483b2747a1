#!/usr/bin/env python3
"""A loopback peer that accepts TCP connections and never answers.

usage: silent-peer.py PORTFILE
Listens on 127.0.0.1 at a port the kernel chooses, writes the port to PORTFILE, then accepts
and holds every connection until it is killed."""
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(128)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept()
    held.append(c)
