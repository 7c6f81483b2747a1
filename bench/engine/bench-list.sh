#!/bin/sh
# GET /containers/json?all=1 with 100 containers (created, not started), machined vs Debian's
# dockerd in the same run, with bench/engine/getbench (a connection per request, read to the
# end; alternating 2-second rounds). Target: machined answers at least 5x as many per second (dockerd needs
# ~146 us per container per list here; performance.md §5).
set -eu
B=$1
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-runtime-list
# machined leaves its cgroup parent in place (it may be shared); this run's is its own.
CGP="machined-engine-runtime-bench-$$"
trap 'eb_cleanup; for c in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done' EXIT
rounds=$(eb_reps 5 2)
eb_start_dockerd
eb_start_machined --cgroup-parent "$CGP"
eb_busybox_tar "$EB_WORK/bb.tar"
eb_import "$EB_DOCKERD_HOST" "$EB_WORK/bb.tar" bb
eb_import "$EB_MACHINED_HOST" "$EB_WORK/bb.tar" bb
i=0
while [ $i -lt 100 ]; do
    for h in "$EB_DOCKERD_HOST" "$EB_MACHINED_HOST"; do
        "$EB_DOCKER" -H "$h" create --label n=$i bb sleep 1000 >/dev/null 2>&1
    done
    i=$((i + 1))
done
path=/containers/json?all=1 # unversioned: dockerd 20.10 refuses /v1.44
d_rps="" m_rps="" d_p50="" m_p50=""
i=0
while [ $i -lt "$rounds" ]; do
    out=$("$B/getbench" "$EB_DOCKERD_SOCK" 2 "$path")
    d_rps="$d_rps $(echo "$out" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')"
    d_p50="$d_p50 $(echo "$out" | sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p')"
    out=$("$B/getbench" "$EB_MACHINED_SOCK" 2 "$path")
    m_rps="$m_rps $(echo "$out" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')"
    m_p50="$m_p50 $(echo "$out" | sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p')"
    i=$((i + 1))
done
d=$(eb_median $d_rps)
m=$(eb_median $m_rps)
eb_result "dockerd: GET /containers/json?all=1 with 100 containers (anchor)" "$d req/s, p50 $(eb_median $d_p50)" us
eb_result "machined: GET /containers/json?all=1 with 100 containers" "$m req/s, p50 $(eb_median $m_p50)" us
eb_check "machined lists 100 containers >= 5x as often as dockerd ($m vs $d req/s)" \
    "awk 'BEGIN { exit !($m >= 5 * $d) }'"
eb_finish
