#!/usr/bin/env python3
"""Writes the HTTP fuzzer's seed corpus from the recorded docker CLI transcript
(../shared/reference/docker-cli-calls-api1.44.txt): one raw request per distinct recorded call,
with the headers the CLI sent ([req ...] annotations), a JSON body where it sent JSON and a
small chunked body where it streamed a tar.

usage: make-http-seeds.py TRANSCRIPT OUTDIR"""
import hashlib
import os
import re
import sys
import urllib.parse

CALL = re.compile(r"^\s+(GET|POST|HEAD|DELETE|PUT)\s+(\S+) -> \d+(?:\s+\[req (.*)\])?")
KNOWN_HEADERS = ("Content-Type", "Connection", "Upgrade", "Transfer-Encoding", "X-Registry-Auth",
                 "X-Registry-Config")


def encode_target(path):
    base, _, query = path.partition("?")
    if not query:
        return base
    pairs = []
    for part in query.split("&"):
        k, _, v = part.partition("=")
        pairs.append(k + "=" + urllib.parse.quote(v, safe=""))
    return base + "?" + "&".join(pairs)


def headers_of(note):
    out = []
    if not note:
        return out
    # "Content-Type: text/plain; Connection: Upgrade" -> split only before known header names
    parts = re.split(r";\s+(?=(?:%s):)" % "|".join(KNOWN_HEADERS), note)
    for p in parts:
        k, _, v = p.partition(":")
        out.append((k.strip(), v.strip()))
    return out


def request(method, path, note):
    hdrs = [("Host", "api.moby.localhost"), ("User-Agent", "Docker-Client/28.2.2 (linux)")]
    hdrs += headers_of(note)
    names = {k.lower() for k, _ in hdrs}
    body = b""
    if "transfer-encoding" in names:
        body = b"5\r\nhello\r\n0\r\n\r\n"
    elif method == "POST" and ("application/json", ) == tuple(v for k, v in hdrs
                                                            if k == "Content-Type")[:1]:
        body = b'{"Image":"busybox","Cmd":["echo","hi"],"Tty":false}'
        hdrs.append(("Content-Length", str(len(body))))
    elif method == "POST":
        hdrs.append(("Content-Length", "0"))
    head = "%s %s HTTP/1.1\r\n" % (method, encode_target(path))
    head += "".join("%s: %s\r\n" % kv for kv in hdrs)
    return head.encode() + b"\r\n" + body


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    seen = set()
    with open(src, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = CALL.match(line)
            if not m:
                continue
            req = request(*m.groups())
            digest = hashlib.sha1(req).hexdigest()[:16]
            if digest in seen:
                continue
            seen.add(digest)
            with open(os.path.join(out, "cli-" + digest), "wb") as g:
                g.write(req)
    # Two pipelined requests and a keep-alive pair, as the CLI's connection reuse produces.
    with open(os.path.join(out, "pipelined"), "wb") as g:
        g.write(b"HEAD /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /v1.44/version HTTP/1.1\r\nHost: x\r\n\r\n")
    print("%d seeds" % len(seen))


if __name__ == "__main__":
    main()
