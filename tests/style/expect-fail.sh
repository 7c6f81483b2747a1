#!/bin/sh
# Proves a checker catches a bad example: passes only when CHECKER fails on TREE and its output
# names PATTERN. usage: expect-fail.sh PATTERN CHECKER [ARGS...] TREE
set -u
pattern=$1
shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -eq 0 ]; then
    echo "FAIL: the checker accepted a bad example" >&2
    exit 1
fi
if ! printf '%s\n' "$out" | grep -q -- "$pattern"; then
    echo "FAIL: the checker failed but did not report '$pattern'" >&2
    exit 1
fi
echo "ok: the checker refused the bad example"
