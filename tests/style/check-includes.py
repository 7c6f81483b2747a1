#!/usr/bin/env python3
"""Checks the include rules of DESIGN.md §2 on a source tree.

usage: check-includes.py ROOT

- every quoted include resolves, by base name, to exactly one header in the tree;
- a folder includes only its own headers and those of the folders below it;
- third-party headers appear only in the folders that link that library.
Prints each violation as FILE:LINE: message and exits 1 when there is any."""
import os
import re
import sys

LAYERS = ('cli', 'provision', 'drivers', 'store', 'client', 'engine', 'common', 'templates')
ALLOWED = {
    'common': {'common'},
    'templates': {'templates'},
    'store': {'store', 'common'},
    'drivers': {'drivers', 'common', 'templates'},
    'provision': {'provision', 'drivers', 'store', 'common', 'templates'},
    'client': {'client', 'common'},
    'cli': {'cli', 'provision', 'drivers', 'store', 'client', 'common'},
    'engine': {'engine', 'common'},
}
# Third-party headers by the prefix of their include path, and the folders that may use them.
LIBRARIES = {
    'curl/': {'client', 'drivers', 'provision', 'cli'},
    'libssh2': {'provision', 'cli'},
    'libvirt/': {'drivers', 'cli'},
    'libxml/': {'drivers', 'cli'},
    'archive': {'drivers', 'cli'},
    'seccomp.h': {'engine'},
    'zlib.h': {'engine', 'provision'},
}
GENERATED = {'templates.h': 'templates'}
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(rel):
    top = rel.split(os.sep)[0]
    return top if top in LAYERS else None


def sources(root):
    for top in LAYERS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if n.endswith(('.c', '.h')):
                    yield os.path.relpath(os.path.join(dirpath, n), root)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    files = list(sources(root))
    headers = {}
    problems = []
    for rel in files:
        if rel.endswith('.h'):
            headers.setdefault(os.path.basename(rel), []).append(rel)
    for name, where in sorted(headers.items()):
        if len(where) > 1:
            problems.append('%s: header name %s is not unique: %s' % (where[0], name, ', '.join(where)))

    for rel in files:
        layer = layer_of(rel)
        with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, inc = m.groups()
                if kind == '<':
                    for prefix, users in LIBRARIES.items():
                        if inc.startswith(prefix) and layer not in users:
                            problems.append('%s:%d: %s may not use <%s> (only %s)' % (
                                rel, lineno, layer, inc, ', '.join(sorted(users))))
                    continue
                base = os.path.basename(inc)
                if base in GENERATED:
                    target = GENERATED[base]
                elif base in headers:
                    target = layer_of(headers[base][0])
                else:
                    problems.append('%s:%d: "%s" is not a header of this tree' % (rel, lineno, inc))
                    continue
                if target not in ALLOWED[layer]:
                    problems.append('%s:%d: %s may not include "%s" from %s/ (DESIGN.md §2)' % (
                        rel, lineno, layer, inc, target))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
