#!/bin/sh
# machined's memory: its idle RSS after 10 mutual-TLS handshakes and 10 containers run and
# removed (target <= 8 MB), and what each running container adds to it (20 detached `sleep`
# containers; target <= 512 KB each, where a containerd shim alone costs 6-13 MB). Anchor in
# the same run: dockerd's and its containerd's RSS after the same 10 containers, and each
# running container's containerd-shim.
set -eu
B=$1
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-runtime-mem
# machined leaves its cgroup parent in place (it may be shared); this run's is its own.
CGP="machined-engine-runtime-bench-$$"
trap 'eb_cleanup; for c in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/"$CGP"; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done' EXIT
eb_start_dockerd
eb_start_machined --cgroup-parent "$CGP"
eb_busybox_tar "$EB_WORK/bb.tar"
eb_import "$EB_DOCKERD_HOST" "$EB_WORK/bb.tar" bb
eb_import "$EB_MACHINED_HOST" "$EB_WORK/bb.tar" bb
c=$EB_CERTS
i=0
while [ $i -lt 10 ]; do
    curl -sf --cacert "$c/ca.pem" --cert "$c/cert.pem" --key "$c/key.pem" \
        "https://127.0.0.1:$EB_MACHINED_PORT/_ping" >/dev/null
    "$EB_DOCKER" -H "$EB_MACHINED_HOST" run --rm bb true 2>/dev/null
    "$EB_DOCKER" -H "$EB_DOCKERD_HOST" run --rm bb true 2>/dev/null
    i=$((i + 1))
done
sleep 1
idle=$(eb_rss_kb "$EB_MACHINED_PID")
cpid=$(cat "$EB_WORK/dockerd/exec/containerd/containerd.pid" 2>/dev/null || echo "")
d_idle=$(eb_rss_kb "$EB_DOCKERD_PID")
c_idle=0
[ -n "$cpid" ] && c_idle=$(eb_rss_kb "$cpid" || echo 0)
n=20
i=0
while [ $i -lt $n ]; do
    "$EB_DOCKER" -H "$EB_MACHINED_HOST" run -d bb sleep 1000 >/dev/null 2>&1
    "$EB_DOCKER" -H "$EB_DOCKERD_HOST" run -d bb sleep 1000 >/dev/null 2>&1
    i=$((i + 1))
done
sleep 1
busy=$(eb_rss_kb "$EB_MACHINED_PID")
per=$(( (busy - idle) / n ))
shims=0
for p in $(pgrep -f containerd-shim || true); do
    grep -q "$EB_WORK" "/proc/$p/cmdline" 2>/dev/null && shims=$((shims + $(eb_rss_kb "$p")))
done
d_busy=$(eb_rss_kb "$EB_DOCKERD_PID")
c_busy=0
[ -n "$cpid" ] && c_busy=$(eb_rss_kb "$cpid" || echo 0)
d_per=$(( (d_busy + c_busy - d_idle - c_idle + shims) / n ))
"$EB_DOCKER" -H "$EB_MACHINED_HOST" rm -f $("$EB_DOCKER" -H "$EB_MACHINED_HOST" ps -aq) >/dev/null
"$EB_DOCKER" -H "$EB_DOCKERD_HOST" rm -f $("$EB_DOCKER" -H "$EB_DOCKERD_HOST" ps -aq) >/dev/null
eb_result "machined idle RSS after 10 TLS handshakes and 10 containers run and removed" "$idle" kB
eb_result "dockerd + containerd idle RSS after the same (anchor)" "$((d_idle + c_idle))" kB
eb_result "machined RSS with $n running containers" "$busy" kB
eb_result "machined: added memory per running container" "$per" kB
eb_result "dockerd + containerd + shims: added memory per running container (anchor)" "$d_per" kB
eb_check "machined idle RSS <= 8 MB ($idle kB)" "[ $idle -le 8192 ]"
eb_check "added memory per running container <= 512 KB ($per kB)" "[ $per -le 512 ]"
eb_finish
