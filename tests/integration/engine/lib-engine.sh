# Helpers for the engine's shell tests (sourced, bash): a machined of our own on a unix
# socket, its data root and cgroup parent under names unique to this run
# (/tmp/engine-runtime-*, machined-engine-runtime-*), a busybox image made offline, TAP output.
# Everything is stopped by pid and removed at exit unless MACHINE_TEST_KEEP=1.
set -u
: "${MACHINED_BIN:?run through meson test}"
: "${MACHINE_TEST_SRCDIR:?run through meson test}"
: "${MACHINE_TEST_BUILDDIR:?run through meson test}"
if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root (namespaces, mounts, cgroups)"
    exit 77
fi
if ! command -v docker >/dev/null; then
    echo "1..0 # SKIP the docker CLI is not installed"
    exit 77
fi
E=$(mktemp -d /tmp/engine-runtime-test.XXXXXX)
chmod 755 "$E"
CGPARENT="machined-engine-runtime-$$"
SOCK="$E/machined.sock"
export DOCKER_HOST="unix://$SOCK"
unset DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT DOCKER_API_VERSION
export DOCKER_CONFIG="$E/docker-config"
mkdir -p "$DOCKER_CONFIG"
MACHINED_PID=""
failures=0
count=0

pass() { count=$((count + 1)); echo "ok $count - $*"; }
fail() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $*"; }
check() { # check DESCRIPTION COMMAND...
    desc=$1; shift
    if "$@"; then pass "$desc"; else fail "$desc"; diag_last; fi
}
diag_last() {
    sed 's/^/# out: /' "$E/out" 2>/dev/null | head -20
    sed 's/^/# err: /' "$E/err" 2>/dev/null | head -20
}
# d ARGS: runs the docker CLI; stdout in $E/out, stderr in $E/err, the exit code in $rc.
d() {
    rc=0
    docker "$@" >"$E/out" 2>"$E/err" || rc=$?
}
out_is() { [ "$(cat "$E/out")" = "$1" ]; }
out_has() { grep -q -- "$1" "$E/out"; }
out_lacks() { ! grep -q -- "$1" "$E/out"; }
gone() { # gone PID: the process has exited (a zombie that nobody reaped yet counts as gone)
    for _ in $(seq 1 40); do
        state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo X)
        [ "$state" = X ] || [ "$state" = Z ] && return 0
        sleep 0.05
    done
    return 1
}
err_has() { grep -q -- "$1" "$E/err"; }
finish() {
    echo "1..$count"
    [ "$failures" -eq 0 ]
}

make_image() { # make_image NAME: imports a busybox rootfs (with the probe helper) as NAME
    if [ ! -f "$E/bb.tar" ]; then
        rc=0
        sh "$MACHINE_TEST_SRCDIR/tests/integration/engine/make-rootfs.sh" "$E/rootfs" \
            "$MACHINE_TEST_BUILDDIR/tests/integration/engine/probe" || rc=$?
        if [ "$rc" -eq 77 ]; then
            echo "1..0 # SKIP busybox-static is not installed"
            exit 77
        fi
        tar -C "$E/rootfs" -cf "$E/bb.tar" .
    fi
    docker import "$E/bb.tar" "$1" >/dev/null
}

# With TLS_PORT set, machined also listens on tcp://127.0.0.1:$TLS_PORT with mutual TLS and
# the certificates of tests/lib/make-test-certs.sh in $E/certs.
start_machined() {
    set -- -H "unix://$SOCK"
    if [ -n "${TLS_PORT:-}" ]; then
        [ -f "$E/certs/ca.pem" ] || sh "$MACHINE_TEST_SRCDIR/tests/lib/make-test-certs.sh" "$E/certs"
        set -- "$@" -H "tcp://127.0.0.1:$TLS_PORT" --tlscacert "$E/certs/ca.pem" \
            --tlscert "$E/certs/server.pem" --tlskey "$E/certs/server-key.pem"
    fi
    "$MACHINED_BIN" "$@" --data-root "$E/data" --cgroup-parent "$CGPARENT" \
        --log-format json --log-level info >>"$E/machined.log" 2>&1 &
    MACHINED_PID=$!
    for _ in $(seq 1 200); do
        if docker version >"$E/version.out" 2>&1; then
            return 0
        fi
        if ! kill -0 "$MACHINED_PID" 2>/dev/null; then
            st=0
            wait "$MACHINED_PID" || st=$?
            echo "# machined exited with status $st"
            break
        fi
        sleep 0.05
    done
    echo "Bail out! machined did not start; docker version said:"
    ls -la "$E" | sed 's/^/# ls: /'
    ss -xlp 2>/dev/null | grep -F "$SOCK" | sed 's/^/# ss: /'
    for t in /proc/"$MACHINED_PID"/task/*; do
        echo "# task $t: $(cat "$t/comm") $(awk '{print $3}' "$t/stat") $(cat "$t/wchan" 2>/dev/null)"
    done
    ls -l /proc/"$MACHINED_PID"/fd 2>/dev/null | sed 's/^/# fd: /' 
    sed 's/^/# /' "$E/version.out"
    echo "# its log:"
    sed 's/^/# /' "$E/machined.log"
    exit 1
}

stop_machined() { # stop_machined [SIGNAL]: stops it by pid and waits for it
    [ -n "$MACHINED_PID" ] || return 0
    kill "-${1:-TERM}" "$MACHINED_PID" 2>/dev/null || true
    wait "$MACHINED_PID" 2>/dev/null || true
    MACHINED_PID=""
}

cleanup() {
    if [ -n "$MACHINED_PID" ]; then
        ids=$(docker ps -aq 2>/dev/null || true)
        [ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
        stop_machined TERM
    fi
    for c in /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/"$CGPARENT"; do
        [ -d "$c" ] || continue
        for sub in "$c"/*/; do [ -d "$sub" ] && rmdir "$sub" 2>/dev/null; done
        rmdir "$c" 2>/dev/null || true
    done
    if [ "${MACHINE_TEST_KEEP:-0}" = 1 ]; then
        echo "# kept $E"
    else
        rm -rf "$E"
    fi
}
trap cleanup EXIT
