#!/bin/sh
# A private libvirtd for tests, so that the NAT network, its dnsmasq and the guests exist only
# inside the test: its own network namespace (loopback, plus what libvirt makes there) and mount
# namespace (private /run, /etc/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt,
# all kept under DIR). Nothing it starts outlives `stop`, and nothing is written outside DIR.
#
# usage: lvns.sh start DIR           DIR must be a new folder path under /tmp/libvirt-*
#        lvns.sh exec DIR CMD [ARG]  runs CMD inside both namespaces (qemu:///system is ours there)
#        lvns.sh stop DIR            ends what start started (by pid) and removes DIR
#
# libvirt's cache of qemu's capabilities (seconds to make) is kept between runs in
# $MACHINE_TEST_CACHE/libvirt/libvirt-cache, as a host keeps it in /var/cache/libvirt.
#
# /dev/kvm is shown inside as root:kvm 0660, as udev makes it on a normal Debian host (here the
# node is root-only, which makes libvirt probe qemu's capabilities again on every call).
set -eu

shared_cache=${MACHINE_TEST_CACHE:-/var/cache/machine-tests}/libvirt/libvirt-cache

die() {
    echo "lvns: $*" >&2
    exit 1
}

inner() {
    dir=$1
    ip link set lo up
    mount -t tmpfs -o mode=0755 tmpfs /run
    mkdir -p /run/libvirt /run/lock
    if [ -c /dev/kvm ]; then
        mknod -m 0660 /run/kvm c 10 232
        chgrp kvm /run/kvm
        mount --bind /run/kvm /dev/kvm
    fi
    for pair in etc:/etc/libvirt varlib:/var/lib/libvirt log:/var/log/libvirt \
        cache:/var/cache/libvirt; do
        mount --bind "$dir/${pair%%:*}" "${pair#*:}"
    done
    virtlogd --daemon
    libvirtd --daemon
    i=0
    while [ ! -S /run/libvirt/libvirt-sock ]; do
        i=$((i + 1))
        [ $i -lt 300 ] || { echo "libvirtd did not start" >"$dir/failed"; exit 1; }
        sleep 0.1
    done
    : >"$dir/ready"
    exec sleep infinity
}

start() {
    dir=$1
    case "$dir" in /tmp/libvirt-*) ;; *) die "DIR must be under /tmp/libvirt-*" ;; esac
    [ "$(id -u)" -eq 0 ] || die "needs root"
    [ ! -e "$dir" ] || die "'$dir' exists already"
    mkdir -p "$dir/etc" "$dir/varlib/images" "$dir/log/qemu" "$dir/cache"
    cp -a /etc/libvirt/. "$dir/etc/"
    # Start with no networks: the driver makes the ones it needs.
    rm -rf "$dir/etc/qemu/networks"
    mkdir -p "$dir/etc/qemu/networks/autostart"
    if [ -d "$shared_cache" ]; then
        cp -a "$shared_cache/." "$dir/cache/"
    fi
    # No cgroups for guests: they would be made in the host's cgroup tree.
    echo 'cgroup_controllers = [ ]' >>"$dir/etc/qemu.conf"
    setsid unshare --net --mount --propagation private "$(readlink -f "$0")" __inner "$dir" \
        </dev/null >"$dir/inner.log" 2>&1 &
    echo $! >"$dir/holder.pid"
    i=0
    while [ ! -e "$dir/ready" ]; do
        i=$((i + 1))
        if [ -e "$dir/failed" ] || [ $i -ge 400 ]; then
            cat "$dir/inner.log" >&2
            stop "$dir"
            die "the private libvirtd did not start"
        fi
        sleep 0.1
    done
}

# Kills the processes listed in the pid files matching a pattern inside the namespaces, then
# waits (at most 10 s) for them to go.
kill_pidfiles() {
    holder=$1
    pattern=$2
    nsenter -t "$holder" -m sh -c '
        pids=
        for f in '"$pattern"'; do
            [ -f "$f" ] || continue
            p=$(cat "$f" 2>/dev/null) || continue
            [ -n "$p" ] && kill "$p" 2>/dev/null && pids="$pids $p"
        done
        for p in $pids; do
            i=0
            while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
            kill -9 "$p" 2>/dev/null || true
        done' || true
}

stop() {
    dir=$1
    [ -f "$dir/holder.pid" ] || { rm -rf "$dir"; return 0; }
    holder=$(cat "$dir/holder.pid")
    if kill -0 "$holder" 2>/dev/null; then
        kill_pidfiles "$holder" '/run/libvirt/qemu/*.pid /run/libvirt/network/*.pid'
        kill_pidfiles "$holder" '/run/libvirtd.pid'
        kill_pidfiles "$holder" '/run/virtlogd.pid'
        kill "$holder" 2>/dev/null || true
        while kill -0 "$holder" 2>/dev/null; do sleep 0.1; done
    fi
    if [ -d "$dir/cache/qemu" ]; then
        mkdir -p "$shared_cache"
        cp -a "$dir/cache/." "$shared_cache/" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

cmd=${1:-}
[ $# -ge 2 ] || die "usage: lvns.sh start|exec|stop DIR [CMD...]"
dir=$2
shift 2
case "$cmd" in
__inner) inner "$dir" ;;
start) start "$dir" ;;
stop) stop "$dir" ;;
exec)
    holder=$(cat "$dir/holder.pid") || die "'$dir' is not running"
    exec nsenter -t "$holder" -n -m --wd="$(pwd)" -- "$@"
    ;;
*) die "unknown command '$cmd'" ;;
esac
