#!/usr/bin/env python3
"""A loopback HTTP server for image downloads in tests, with byte ranges (resume).

usage: serve.py ROOT [--cut-after N] [--ignore-range]
Listens on 127.0.0.1 on a port the kernel picks and prints the port on its first line.
--cut-after N: the first full GET of each file sends N bytes and drops the connection (to test
               resume); later requests are served whole.
--ignore-range: answers 200 with the whole file to ranged requests (a server that cannot resume).
Each request is logged on stderr as 'METHOD PATH RANGE -> STATUS'."""
import argparse
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
CUT_DONE = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def note(self, status):
        sys.stderr.write('%s %s %s -> %d\n' % (self.command, self.path,
                                               self.headers.get('Range', '-'), status))
        sys.stderr.flush()

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def serve(self, head):
        rel = self.path.split('?', 1)[0].lstrip('/')
        path = os.path.realpath(os.path.join(ARGS.root, rel))
        if not path.startswith(os.path.realpath(ARGS.root) + os.sep) or not os.path.isfile(path):
            self.note(404)
            self.send_response(404)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        size = os.path.getsize(path)
        start, status = 0, 200
        m = re.match(r'bytes=(\d+)-$', self.headers.get('Range', ''))
        if m and not ARGS.ignore_range:
            start = int(m.group(1))
            if start >= size:
                self.note(416)
                self.send_response(416)
                self.send_header('Content-Range', 'bytes */%d' % size)
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
            status = 206
        self.note(status)
        self.send_response(status)
        self.send_header('Content-Length', str(size - start))
        self.send_header('Accept-Ranges', 'bytes')
        if status == 206:
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (start, size - 1, size))
        self.end_headers()
        if head:
            return
        limit = size - start
        cut = ARGS.cut_after is not None and start == 0 and rel not in CUT_DONE
        if cut:
            CUT_DONE.add(rel)
            limit = min(limit, ARGS.cut_after)
        with open(path, 'rb') as f:
            f.seek(start)
            while limit > 0:
                chunk = f.read(min(1 << 20, limit))
                if not chunk:
                    break
                self.wfile.write(chunk)
                limit -= len(chunk)
        if cut:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument('root')
    p.add_argument('--cut-after', type=int)
    p.add_argument('--ignore-range', action='store_true')
    ARGS = p.parse_args()
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == '__main__':
    main()
