#!/bin/sh
# Fails when a C file of the tree differs from what .clang-format makes of it.
# usage: check-format.sh ROOT
set -eu
root=${1:-.}
cd "$root"
if ! command -v clang-format >/dev/null 2>&1; then
    echo "clang-format is not installed: run scripts/install-deps" >&2
    exit 1
fi
files=$(find cli provision drivers store client engine common tests bench \
    -name '*.[ch]' -not -path 'tests/style/bad/*' 2>/dev/null | sort)
[ -n "$files" ] || exit 0
# shellcheck disable=SC2086
clang-format --dry-run -Werror $files
