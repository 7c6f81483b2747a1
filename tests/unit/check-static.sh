#!/bin/sh
# machined must be one static binary: no program interpreter, no shared-library dependencies.
set -eu
bin=$1
if ! command -v readelf >/dev/null 2>&1; then
    echo "readelf (binutils) is missing: run scripts/install-deps" >&2
    exit 1
fi
if readelf -l "$bin" | grep -q 'INTERP'; then
    echo "FAIL: $bin has a program interpreter (it is dynamically linked)" >&2
    exit 1
fi
if readelf -d "$bin" 2>/dev/null | grep -q 'NEEDED'; then
    echo "FAIL: $bin needs shared libraries:" >&2
    readelf -d "$bin" | grep NEEDED >&2
    exit 1
fi
size=$(stat -c %s "$bin")
echo "ok: $bin is static ($size bytes)"
