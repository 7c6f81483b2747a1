#!/bin/sh
# `docker run --rm IMAGE true` with the stock docker CLI against machined and against Debian's
# dockerd, in the same run, with the same busybox image imported into both; rounds alternate
# (this machine is shared). dockerd runs with its default configuration (its bridge and
# iptables, inside its own network namespace), so `run --rm bb true` there gets a veth on the
# bridge, while machined's default is a private namespace with loopback (no bridge yet); both
# again with --network none, where they do the same work. Target: machined's median <= 1/5
# of dockerd's, in both comparisons.
set -eu
B=$1
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-runtime-run
# machined leaves its cgroup parent in place (it may be shared); this run's is its own.
CGP="machined-engine-runtime-bench-$$"
trap 'eb_cleanup; for c in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done' EXIT
rounds=$(eb_reps 8 3)
per=$(eb_reps 4 2)
EB_DOCKERD_NET_ARGS="" eb_start_dockerd
eb_start_machined --cgroup-parent "$CGP"
eb_busybox_tar "$EB_WORK/bb.tar"
eb_import "$EB_DOCKERD_HOST" "$EB_WORK/bb.tar" bb
eb_import "$EB_MACHINED_HOST" "$EB_WORK/bb.tar" bb
for f in d m dn mn; do : >"$EB_WORK/$f.ms"; done
run() { # run HOST OUTFILE [ARGS...]
    h=$1 o=$2
    shift 2
    "$B/timeit" "$per" "$EB_DOCKER" -H "$h" run --rm "$@" bb true >>"$o" 2>/dev/null
}
run "$EB_DOCKERD_HOST" /dev/null
run "$EB_MACHINED_HOST" /dev/null
i=0
while [ $i -lt "$rounds" ]; do
    run "$EB_DOCKERD_HOST" "$EB_WORK/d.ms"
    run "$EB_MACHINED_HOST" "$EB_WORK/m.ms"
    run "$EB_DOCKERD_HOST" "$EB_WORK/dn.ms" --network none
    run "$EB_MACHINED_HOST" "$EB_WORK/mn.ms" --network none
    i=$((i + 1))
done
d=$(eb_median $(cat "$EB_WORK/d.ms"))
m=$(eb_median $(cat "$EB_WORK/m.ms"))
dn=$(eb_median $(cat "$EB_WORK/dn.ms"))
mn=$(eb_median $(cat "$EB_WORK/mn.ms"))
n=$(wc -l <"$EB_WORK/m.ms")
eb_result "dockerd (its bridge): docker run --rm bb true (anchor, same run, median of $n)" "$d" ms
eb_result "machined: docker run --rm bb true (median of $n)" "$m" ms
eb_result "dockerd: docker run --rm --network none bb true (anchor)" "$dn" ms
eb_result "machined: docker run --rm --network none bb true" "$mn" ms
eb_check "machined's median <= 1/5 of dockerd's ($m vs $d ms)" \
    "awk 'BEGIN { exit !($m * 5 <= $d) }'"
eb_check "with --network none too ($mn vs $dn ms)" "awk 'BEGIN { exit !($mn * 5 <= $dn) }'"
eb_finish
