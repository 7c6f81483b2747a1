# Helpers for shell tests of the machine CLI (sourced). Each test gets its own store under
# /tmp/foundation-*, removed at exit unless MACHINE_TEST_KEEP=1.
set -u
: "${MACHINE_BIN:?run through meson test}"
M=$MACHINE_BIN
T=$(mktemp -d /tmp/foundation-test.XXXXXX)
export MACHINE_STORAGE_PATH="$T/store"
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH MACHINE_NAME DOCKER_MACHINE_NAME
failures=0
count=0
cleanup_hooks=""
on_exit() {
    for h in $cleanup_hooks; do "$h" || true; done
    [ "${MACHINE_TEST_KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap on_exit EXIT

pass() { count=$((count + 1)); echo "ok $count - $*"; }
fail() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $*"; }
check() { # check DESCRIPTION COMMAND...
    desc=$1; shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}
# check_sh DESCRIPTION 'CONDITION': a shell condition, for && and || (eval'ed in this shell).
check_sh() {
    desc=$1
    if eval "$2"; then pass "$desc"; else fail "$desc"; fi
}
# run_m: runs machine, output in $T/out and $T/err, exit code in $rc.
run_m() {
    rc=0
    "$M" "$@" >"$T/out" 2>"$T/err" || rc=$?
}
contains() { grep -q -- "$2" "$1"; }
finish() {
    echo "1..$count"
    [ "$failures" -eq 0 ]
}
