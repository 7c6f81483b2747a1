#!/bin/sh
# The container start path, both sides in the same run on the same busybox root filesystem:
#   - crun run (OCI bundle: pid, network, ipc, uts and mount namespaces, no seccomp; in a mount
#     namespace where only the v1 cgroup hierarchies are visible, since crun 1.8 refuses this
#     hybrid host's layout), the anchor;
#   - `machine run --rm --network none bb true` against machined (the whole client included);
#   - machined's start path through a raw API client (bench/engine/apirun: create with
#     AutoRemove, wait?condition=removed, start, the wait's answer; --network none), which is
#     what machine run asks of the engine;
#   - the same through the stock docker CLI;
#   - the engine's runtime alone and the bare namespace+exec floor (bench/engine/rt-bench).
# The sides take turns run by run (this machine is shared). Target: machine run's median
# <= 2x crun's median (and the raw API's too).
set -eu
B=$1
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-runtime-start
# machined leaves its cgroup parent in place (it may be shared); this run's is its own.
CGP="machined-engine-runtime-bench-$$"
trap 'eb_cleanup; for c in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done' EXIT
rounds=$(eb_reps 10 4)
per=$(eb_reps 10 5)
eb_start_machined --cgroup-parent "$CGP"
eb_busybox_tar "$EB_WORK/bb.tar"
eb_import "$EB_MACHINED_HOST" "$EB_WORK/bb.tar" bb
bundle=$EB_WORK/bundle
mkdir -p "$bundle/rootfs"
tar -C "$bundle/rootfs" -xf "$EB_WORK/bb.tar"
(cd "$bundle" && crun spec)
python3 - "$bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["root"] = {"path": "rootfs", "readonly": False}
json.dump(c, open(sys.argv[1], "w"))
PY
# Each iteration runs every side once, so that load from elsewhere falls on all of them alike.
crun_once() { # v1 cgroups only: hide the unified mount in a private mount namespace
    unshare -m --propagation private sh -c \
        "umount /sys/fs/cgroup/unified 2>/dev/null; exec \"$B/timeit\" 1 crun run -b \"$bundle\" bench-$$-\$0" "$1"
}
: >"$EB_WORK/crun.ms"
: >"$EB_WORK/api.ms"
: >"$EB_WORK/cli.ms"
: >"$EB_WORK/mrun.ms"
export MACHINE_STORAGE_PATH="$EB_WORK/store"
"$B/apirun" "$EB_MACHINED_SOCK" bb none 2 /bin/true >/dev/null # warm up
i=0
while [ $i -lt $((rounds * per)) ]; do
    crun_once "$i" >>"$EB_WORK/crun.ms"
    "$B/apirun" "$EB_MACHINED_SOCK" bb none 1 /bin/true >>"$EB_WORK/api.ms"
    "$B/timeit" 1 "$MACHINE_BIN" -H "$EB_MACHINED_HOST" run --rm --network none bb true \
        >>"$EB_WORK/mrun.ms" 2>/dev/null
    if [ $((i % 5)) -eq 0 ]; then
        "$B/timeit" 1 "$EB_DOCKER" -H "$EB_MACHINED_HOST" run --rm --network none bb true \
            >>"$EB_WORK/cli.ms" 2>/dev/null
    fi
    i=$((i + 1))
done
crun_ms=$(eb_median $(cat "$EB_WORK/crun.ms"))
api_ms=$(eb_median $(cat "$EB_WORK/api.ms"))
cli_ms=$(eb_median $(cat "$EB_WORK/cli.ms"))
mrun_ms=$(eb_median $(cat "$EB_WORK/mrun.ms"))
eb_result "crun run, busybox true (anchor, same run, median of $(wc -l <"$EB_WORK/crun.ms"))" "$crun_ms" ms
eb_result "machine run --rm --network none bb true (median of $(wc -l <"$EB_WORK/mrun.ms"))" "$mrun_ms" ms
eb_result "machined start path via the raw API, --network none (median of $(wc -l <"$EB_WORK/api.ms"))" "$api_ms" ms
eb_result "machined via the docker CLI, run --rm --network none (median of $(wc -l <"$EB_WORK/cli.ms"))" "$cli_ms" ms
mkdir -p "$EB_WORK/ov"
"$B/rt-bench" "$bundle/rootfs" "$(eb_reps 30 10)" "$EB_WORK/ov" | while read -r line; do
    echo "runtime: $line ms"
done
eb_check "machine run <= 2x crun's median ($mrun_ms vs $crun_ms ms)" \
    "awk 'BEGIN { exit !($mrun_ms <= 2 * $crun_ms) }'"
eb_check "machined's raw-API start path <= 2x crun's median ($api_ms vs $crun_ms ms)" \
    "awk 'BEGIN { exit !($api_ms <= 2 * $crun_ms) }'"
eb_finish
