#!/usr/bin/env python3
"""Writes the tar fuzzer's seed corpus: small archives of every kind the extractor meets
(files, directories, symlinks, hard links, FIFOs, whiteouts, PAX and GNU long names, xattrs,
gzip) and the hostile shapes it must refuse. The first byte of each seed selects extractor
options (see fuzz-tar.c); the rest is the archive.

usage: make-tar-seeds.py OUTDIR"""
import gzip
import io
import os
import sys
import tarfile


def tar(entries, fmt=tarfile.PAX_FORMAT):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as t:
        for e in entries:
            kind, name = e[0], e[1]
            ti = tarfile.TarInfo(name)
            data = None
            if kind == "f":
                data = e[2] if len(e) > 2 else b"data\n"
                ti.size = len(data)
            elif kind == "d":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
            elif kind == "l":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e[2]
            elif kind == "h":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e[2]
            elif kind == "p":
                ti.type = tarfile.FIFOTYPE
            elif kind == "x":
                data = b"v"
                ti.size = 1
                ti.pax_headers = {"SCHILY.xattr.user.k": "v", "SCHILY.xattr.trusted.overlay.opaque": "y"}
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    # tarfile pads to a 10 KiB record; keep just the two end-of-archive blocks
    return trim(bio.getvalue())


def trim(data):
    end = len(data)
    while end >= 512 and data[end - 512:end] == b"\0" * 512:
        end -= 512
    return data[:end] + b"\0" * 1024


SEEDS = {
    "rootfs": tar([("d", "bin/"), ("f", "bin/busybox", b"\x7fELF"), ("l", "bin/sh", "busybox"),
                   ("h", "bin/ash", "bin/busybox"), ("d", "etc/"), ("f", "etc/passwd"),
                   ("p", "run/fifo")]),
    "whiteouts": tar([("f", "a/b"), ("f", "a/.wh.b", b""), ("f", "a/.wh..wh..opq", b""),
                      ("f", ".wh.gone", b"")]),
    "longname-pax": tar([("f", "d/" + "n" * 200), ("l", "s", "t" * 150)]),
    "longname-gnu": tar([("f", "d/" + "g" * 200), ("l", "s", "u" * 150)], tarfile.GNU_FORMAT),
    "ustar": tar([("f", "p" * 120 + "/short")], tarfile.USTAR_FORMAT),
    "xattrs": tar([("x", "withattrs")]),
    "escape-dotdot": tar([("f", "../x")]),
    "escape-abs": tar([("f", "/tmp/x")]),
    "escape-symlink": tar([("l", "lnk", "../outside"), ("f", "lnk/victim", b"pwned")]),
    "escape-symlink-abs": tar([("l", "lnk", "/tmp"), ("f", "lnk/x")]),
    "escape-hardlink": tar([("h", "hl", "../outside/victim")]),
    "symlink-then-file": tar([("l", "f", "../outside/victim"), ("f", "f", b"pwned")]),
    "symlink-chain": tar([("l", "a", "b"), ("l", "b", "../.."), ("d", "a/x/")]),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        for flags in (0, 1, 3):
            with open(os.path.join(out, "%s-%d" % (name, flags)), "wb") as f:
                f.write(bytes([flags]) + data)
        with open(os.path.join(out, name + "-gz"), "wb") as f:
            f.write(bytes([1]) + gzip.compress(data))


if __name__ == "__main__":
    main()
