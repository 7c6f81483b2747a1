#!/bin/sh
# machined must stay within its size budget (DESIGN.md §1: at most 8 MB).
set -eu
bin=$1
size=$(stat -c %s "$bin")
limit=$((8 * 1024 * 1024))
echo "machined is $size bytes (budget $limit)"
[ "$size" -le "$limit" ] || { echo "FAIL: machined is over its 8 MB budget" >&2; exit 1; }
