#!/bin/sh
# Debian's dockerd as the anchor of differential tests and benchmarks, in its own mount and
# network namespaces, with everything under DIR:
#   dockerd.sh start DIR    -> prints the socket path once `docker version` answers
#   dockerd.sh stop DIR     -> stops it by its pid (SIGTERM, then SIGKILL after 20 s)
# Exits 77 when dockerd or unshare is missing or we are not root.
set -eu
cmd=$1
dir=$2
if [ "$(id -u)" -ne 0 ] || ! command -v dockerd >/dev/null || ! command -v unshare >/dev/null; then
    echo "dockerd.sh: needs root, dockerd (docker.io) and unshare" >&2
    exit 77
fi
case "$cmd" in
start)
    mkdir -p "$dir/data" "$dir/exec"
    rm -f "$dir/docker.sock" "$dir/dockerd.pid"
    # The wrapper shell becomes dockerd (exec), so the pid file names dockerd itself.
    unshare --mount --net --propagation private sh -c '
        ip link set lo up
        echo $$ > "$1/wrapper.pid"
        exec dockerd --data-root "$1/data" --exec-root "$1/exec" --pidfile "$1/dockerd.pid" \
            -H "unix://$1/docker.sock" --iptables=true --log-level warn >"$1/dockerd.log" 2>&1
    ' sh "$dir" &
    i=0
    while ! DOCKER_HOST="unix://$dir/docker.sock" docker version >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 300 ]; then
            echo "dockerd.sh: dockerd did not answer within 30 s; its log:" >&2
            tail -20 "$dir/dockerd.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "$dir/docker.sock"
    ;;
stop)
    pid=$(cat "$dir/wrapper.pid" 2>/dev/null || true)
    [ -n "$pid" ] || exit 0
    kill -TERM "$pid" 2>/dev/null || exit 0
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ "$i" -gt 200 ]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    rm -f "$dir/wrapper.pid"
    ;;
*)
    echo "usage: dockerd.sh start|stop DIR" >&2
    exit 2
    ;;
esac
