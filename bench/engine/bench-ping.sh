#!/bin/sh
# GET /_ping requests per second, machined vs Debian's dockerd in the same run: the same load
# generator (bench/engine/pingbench, 4 keep-alive connections on each engine's unix socket).
# Target: machined serves at least 3x dockerd's rate.
set -eu
PINGBENCH=$1
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-api-ping
secs=$(eb_reps 5 2)
eb_start_dockerd
eb_start_machined
for side in dockerd machined; do
    if [ $side = dockerd ]; then sock=$EB_DOCKERD_SOCK; else sock=$EB_MACHINED_SOCK; fi
    "$PINGBENCH" "$sock" 4 1 >/dev/null # warm up
    out=$("$PINGBENCH" "$sock" 4 "$secs")
    echo "$side: $out"
    eval "${side}_rps=$(echo "$out" | sed -n 's/.*rps=\([0-9]*\).*/\1/p')"
done
eb_result "machined /_ping" "$machined_rps" "req/s"
eb_result "dockerd /_ping (anchor, same run)" "$dockerd_rps" "req/s"
ratio=$(awk -v a="$machined_rps" -v b="$dockerd_rps" 'BEGIN { printf "%.1f", a / b }')
eb_result "ratio" "$ratio" "x"
eb_check "machined /_ping rate >= 3x dockerd's ($ratio x)" \
    "awk -v a=$machined_rps -v b=$dockerd_rps 'BEGIN { exit !(a >= 3 * b) }'"
eb_finish
