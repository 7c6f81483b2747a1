# Shared by the engine benchmarks (sourced; POSIX sh). Starts Debian's dockerd and machined side
# by side for same-run comparisons, each with its own data root, exec root, pid file and unix
# socket under one work folder; dockerd runs in its own network and mount namespaces
# (unshare -n -m) so it touches nothing else. Both are stopped by pid at exit.
#
#   . "$MACHINE_TEST_SRCDIR/bench/engine/lib.sh"
#   eb_init engine-api-ping          # work folder /tmp/engine-api-ping.XXXXXX, cleaned at exit
#   eb_start_dockerd                 # EB_DOCKERD_SOCK, EB_DOCKERD_PID, EB_DOCKERD_HOST
#                                    # (EB_DOCKERD_NET_ARGS="" keeps dockerd's own bridge and
#                                    # iptables, inside its network namespace)
#   eb_start_machined [ARGS...]      # EB_MACHINED_SOCK, EB_MACHINED_PID, EB_MACHINED_HOST,
#                                    # EB_MACHINED_PORT (mutual TLS on 127.0.0.1), EB_CERTS
#   eb_busybox_tar FILE              # a busybox root filesystem tar (busybox-static)
#   eb_import HOST FILE NAME         # docker import into the engine at HOST (unix://...)
#   eb_rss_kb PID                    # VmRSS of PID in kB
#   eb_median N...                   # median of numbers
#   eb_reps FULL SHORT               # FULL, or SHORT when MACHINE_BENCH_SHORT=1
#   eb_result NAME VALUE UNIT        # prints "NAME: VALUE UNIT" (parsed by nothing; for people)
#   eb_check DESCRIPTION CONDITION   # prints PASS/FAIL, remembers failures; eb_finish exits 1
# Needs root (dockerd, unshare). MACHINED_BIN and MACHINE_TEST_SRCDIR come from meson.

EB_DOCKER=${EB_DOCKER:-/usr/local/bin/docker}
EB_FAILED=0
EB_DOCKERD_PID=""
EB_MACHINED_PID=""

eb_init() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: the engine benchmarks need root (dockerd, namespaces)"
        exit 77
    fi
    EB_WORK=$(mktemp -d "/tmp/${1:-engine-bench}.XXXXXX")
    export DOCKER_CONFIG="$EB_WORK/docker-config"
    unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT DOCKER_API_VERSION
    trap eb_cleanup EXIT
    trap 'exit 1' INT TERM
}

# Waits up to $2 seconds for "docker -H $1 version" to answer.
eb_wait_engine() {
    i=0
    while [ "$i" -lt $(($2 * 10)) ]; do
        if "$EB_DOCKER" -H "$1" version >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

eb_stop_pid() { # eb_stop_pid PID SECONDS
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ "$i" -lt $(($2 * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

eb_start_dockerd() {
    d=$EB_WORK/dockerd
    mkdir -p "$d"
    EB_DOCKERD_SOCK=$d/docker.sock
    EB_DOCKERD_HOST=unix://$EB_DOCKERD_SOCK
    eb_net=${EB_DOCKERD_NET_ARGS-"--iptables=false --ip6tables=false --bridge=none"}
    # unshare execs dockerd in place: $! is dockerd's pid.
    unshare --net --mount --propagation private /usr/sbin/dockerd \
        --data-root "$d/root" --exec-root "$d/exec" --pidfile "$d/dockerd.pid" \
        -H "$EB_DOCKERD_HOST" $eb_net \
        --storage-driver=overlay2 --log-level=warn >"$d/log" 2>&1 &
    EB_DOCKERD_PID=$!
    if ! eb_wait_engine "$EB_DOCKERD_HOST" 60; then
        echo "dockerd did not start:"
        tail -n 20 "$d/log"
        return 1
    fi
}

eb_start_machined() {
    m=$EB_WORK/machined
    mkdir -p "$m"
    EB_CERTS=$EB_WORK/certs
    [ -f "$EB_CERTS/ca.pem" ] || sh "$MACHINE_TEST_SRCDIR/tests/lib/make-test-certs.sh" "$EB_CERTS"
    EB_MACHINED_SOCK=$m/machined.sock
    EB_MACHINED_HOST=unix://$EB_MACHINED_SOCK
    EB_MACHINED_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "$MACHINED_BIN" -H "$EB_MACHINED_HOST" -H "tcp://127.0.0.1:$EB_MACHINED_PORT" \
        --tlscacert "$EB_CERTS/ca.pem" --tlscert "$EB_CERTS/server.pem" \
        --tlskey "$EB_CERTS/server-key.pem" --data-root "$m/root" --pidfile "$m/machined.pid" \
        --log-file "$m/log" "$@" &
    EB_MACHINED_PID=$!
    if ! eb_wait_engine "$EB_MACHINED_HOST" 20; then
        echo "machined did not start:"
        tail -n 20 "$m/log"
        return 1
    fi
}

eb_cleanup() {
    eb_stop_pid "$EB_MACHINED_PID" 10
    if [ -n "$EB_DOCKERD_PID" ]; then
        eb_stop_pid "$EB_DOCKERD_PID" 30
        # dockerd's own containerd, if dockerd could not stop it
        cpid=$(cat "$EB_WORK/dockerd/exec/containerd/containerd.pid" 2>/dev/null || true)
        [ -n "$cpid" ] && eb_stop_pid "$cpid" 10
    fi
    [ "${MACHINE_TEST_KEEP:-0}" = 1 ] || rm -rf "$EB_WORK"
}

eb_busybox_tar() {
    r=$EB_WORK/busybox-rootfs
    rm -rf "$r"
    mkdir -p "$r/bin" "$r/etc" "$r/tmp"
    cp /bin/busybox "$r/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
    printf 'root:x:0:\n' >"$r/etc/group"
    tar -C "$r" -cf "$1" .
}

eb_import() {
    "$EB_DOCKER" -H "$1" import "$2" "$3" >/dev/null
}

eb_rss_kb() {
    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

eb_median() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

eb_reps() {
    if [ "${MACHINE_BENCH_SHORT:-0}" = 1 ]; then echo "$2"; else echo "$1"; fi
}

eb_result() {
    echo "$1: $2 $3"
}

eb_check() {
    if eval "$2"; then
        echo "PASS: $1"
    else
        echo "FAIL: $1"
        EB_FAILED=1
    fi
}

eb_finish() {
    exit "$EB_FAILED"
}
