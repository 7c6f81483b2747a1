#!/bin/sh
# machined's idle RSS after 10 mutual-TLS handshakes (each a new connection doing GET /_ping
# with a client certificate). Target: <= 8 MB. Anchor in the same run: dockerd's idle RSS
# (plus its containerd's) after the same 10 requests on its unix socket.
set -eu
. "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
eb_init engine-api-rss
eb_start_dockerd
eb_start_machined
c=$EB_CERTS
i=0
while [ $i -lt 10 ]; do
    curl -sf --cacert "$c/ca.pem" --cert "$c/cert.pem" --key "$c/key.pem" \
        "https://127.0.0.1:$EB_MACHINED_PORT/_ping" >/dev/null
    curl -sf --unix-socket "$EB_DOCKERD_SOCK" http://x/_ping >/dev/null
    i=$((i + 1))
done
sleep 1
m=$(eb_rss_kb "$EB_MACHINED_PID")
d=$(eb_rss_kb "$EB_DOCKERD_PID")
cpid=$(cat "$EB_WORK/dockerd/exec/containerd/containerd.pid" 2>/dev/null || echo "")
c_rss=0
[ -n "$cpid" ] && c_rss=$(eb_rss_kb "$cpid" || echo 0)
eb_result "machined idle RSS after 10 TLS handshakes" "$m" "kB"
eb_result "dockerd idle RSS (anchor, same run)" "$d" "kB"
eb_result "dockerd's containerd idle RSS (anchor)" "$c_rss" "kB"
eb_check "machined idle RSS <= 8 MB ($m kB)" "[ $m -le 8192 ]"
eb_finish
