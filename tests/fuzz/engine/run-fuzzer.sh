#!/bin/sh
# Runs a libFuzzer target for SECONDS on a copy of its seed corpus, unprivileged (as nobody),
# and fails on any finding (a crash, a sanitizer report, a broken invariant).
# usage: run-fuzzer.sh FUZZER SEED_DIR DICT SECONDS
set -eu
fuzzer=$1 seeds=$2 dict=$3 secs=$4
if [ ! -x "$fuzzer" ]; then
    echo "1..0 # SKIP $fuzzer was not built: configure with -Dfuzzing=enabled and clang with libFuzzer"
    exit 77
fi
work=$(mktemp -d /tmp/engine-api-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp "$seeds"/* "$work/corpus/"
run=""
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
    chown -R nobody "$work"
    chmod 755 "$work"
    run="setpriv --reuid=nobody --regid=nogroup --clear-groups --"
fi
rc=0
# shellcheck disable=SC2086
$run "$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -dict="$dict" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1 || rc=$?
tail -n 25 "$work/log"
if [ "$rc" -ne 0 ] || [ -n "$(ls "$work/artifacts")" ]; then
    echo "FINDING: $fuzzer exited $rc; artifacts:"
    for a in "$work"/artifacts/*; do
        [ -e "$a" ] && od -c "$a" | head -n 20
    done
    exit 1
fi
echo "ok: $fuzzer ran ${secs}s without a finding"
