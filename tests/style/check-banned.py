#!/usr/bin/env python3
"""Fails on calls that STYLE.md bans, in the C sources of a tree.

usage: check-banned.py ROOT

Banned everywhere: strcpy, strcat, sprintf, vsprintf, strtok, atoi, atol, atoll, gets, system,
popen. exit() only in a file named main.c (and _exit in forked children is fine). strtol and
friends only in common/util.c, where their results are checked."""
import os
import re
import sys

FOLDERS = ('cli', 'provision', 'drivers', 'store', 'client', 'engine', 'common', 'tests', 'bench')
BANNED = ['strcpy', 'strcat', 'sprintf', 'vsprintf', 'strtok', 'atoi', 'atol', 'atoll', 'gets',
          'system', 'popen']
STRTOL = ['strtol', 'strtoul', 'strtoll', 'strtoull', 'strtoimax', 'strtoumax']
CALL = re.compile(r'(?<![\w.>])(%s)\s*\(' % '|'.join(BANNED + STRTOL + ['exit']))
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def strip(text):
    text = COMMENT.sub(lambda m: '\n' * m.group(0).count('\n'), text)
    return STRING.sub('""', text)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '.'
    problems = []
    for top in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for n in sorted(names):
                if not n.endswith(('.c', '.h')):
                    continue
                path = os.path.join(dirpath, n)
                rel = os.path.relpath(path, root)
                if rel.startswith(os.path.join('tests', 'style')):
                    continue
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = strip(f.read())
                for lineno, line in enumerate(text.split('\n'), 1):
                    for m in CALL.finditer(line):
                        fn = m.group(1)
                        if fn == 'exit' and (n == 'main.c' or rel.startswith('tests')):
                            continue
                        if fn in STRTOL and rel == os.path.join('common', 'util.c'):
                            continue
                        why = 'exit() outside main.c' if fn == 'exit' else 'banned call %s()' % fn
                        problems.append('%s:%d: %s (STYLE.md)' % (rel, lineno, why))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
