#!/usr/bin/env python3
"""A loopback peer that accepts TCP connections and never answers.

usage: silent-peer.py PORTFILE
Listens on 127.0.0.1 at a port the kernel chooses, writes the port to PORTFILE, then accepts
and holds every connection until it is killed; PORTFILE.count holds how many it accepted."""
import os
import socket
import sys



def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen(128)
write(sys.argv[1], str(s.getsockname()[1]))
held = []
write(sys.argv[1] + ".count", "0")
while True:
    c, _ = s.accept()
    held.append(c)
    write(sys.argv[1] + ".count", str(len(held)))
