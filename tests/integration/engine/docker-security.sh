#!/bin/bash
# Isolation through the stock docker CLI: capabilities, seccomp, masked and read-only paths,
# namespaces, device nodes, pids and memory limits (with OOM detection), sessions.
. "$(dirname "$0")/lib-engine.sh"
start_machined
make_image bb

d run --rm bb grep -E '^Cap(Eff|Bnd|Prm)' /proc/self/status
check "CapEff, CapPrm and CapBnd are Docker's default set (00000000a80425fb)" \
    [ "$(awk '{print $2}' "$E/out" | sort -u)" = "00000000a80425fb" ]
d run --rm bb grep -E '^(CapInh|CapAmb)' /proc/self/status
check "no inheritable or ambient capabilities" [ "$(awk '{print $2}' "$E/out" | sort -u)" = "0000000000000000" ]
d run --rm --cap-add NET_ADMIN --cap-drop CHOWN bb grep CapEff /proc/self/status
check "--cap-add NET_ADMIN --cap-drop CHOWN" out_is "$(printf 'CapEff:\t00000000a80435fa')"
d run --rm --cap-drop ALL bb grep CapEff /proc/self/status
check "--cap-drop ALL" out_is "$(printf 'CapEff:\t0000000000000000')"
d run --rm -u app bb grep CapEff /proc/self/status
check "a non-root user has no effective capabilities" out_is "$(printf 'CapEff:\t0000000000000000')"
# no_new_privs is on by default (DESIGN.md §7; dockerd's default is off: ADR 0012).
d run --rm bb grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
check "seccomp filter on, NoNewPrivs: 1 by default" out_is "$(printf 'NoNewPrivs:\t1\nSeccomp:\t2')"
d run --rm -u app bb grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
check "NoNewPrivs: 1 and the filter on for a non-root user" out_is "$(printf 'NoNewPrivs:\t1\nSeccomp:\t2')"
d run --rm --security-opt no-new-privileges bb grep NoNewPrivs /proc/self/status
check "--security-opt no-new-privileges" out_is "$(printf 'NoNewPrivs:\t1')"
d run --rm --security-opt no-new-privileges=false bb grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
check "--security-opt no-new-privileges=false: NoNewPrivs: 0, the filter still on" \
    out_is "$(printf 'NoNewPrivs:\t0\nSeccomp:\t2')"
d run --rm -u app --security-opt no-new-privileges:false bb grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
check "--security-opt no-new-privileges:false (moby's other spelling), a non-root user" \
    out_is "$(printf 'NoNewPrivs:\t0\nSeccomp:\t2')"
d run --rm --security-opt no-new-privileges=maybe bb true
check "--security-opt no-new-privileges=maybe is refused" [ "$rc" -eq 125 ] && err_has 'invalid --security-opt 2'
d run --rm --privileged bb grep NoNewPrivs /proc/self/status
check "--privileged keeps no_new_privs on" out_is "$(printf 'NoNewPrivs:\t1')"
d run --rm --privileged --security-opt no-new-privileges=false bb grep NoNewPrivs /proc/self/status
check "--privileged --security-opt no-new-privileges=false turns it off" out_is "$(printf 'NoNewPrivs:\t0')"
cid=$(docker run -d bb sleep 100 2>/dev/null)
d exec -u app "$cid" grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
check "exec: NoNewPrivs: 1 and the filter on" out_is "$(printf 'NoNewPrivs:\t1\nSeccomp:\t2')"
docker rm -f "$cid" >/dev/null
cid=$(docker run -d --security-opt no-new-privileges=false bb sleep 100 2>/dev/null)
d exec "$cid" grep NoNewPrivs /proc/self/status
check "exec in a container that opted out: NoNewPrivs: 0" out_is "$(printf 'NoNewPrivs:\t0')"
docker rm -f "$cid" >/dev/null
# What no_new_privs is for: a set-uid program started by a user grants nothing.
setuid='cp /bin/probe /tmp/p && chmod 4755 /tmp/p && su app -c "/tmp/p ids"'
d run --rm bb sh -c "$setuid"
check "with no_new_privs a set-uid root program runs as the user (uid=1000 euid=1000)" \
    out_is "uid=1000 euid=1000"
d run --rm --security-opt no-new-privileges=false bb sh -c "$setuid"
check "without it the set-uid bit takes effect (uid=1000 euid=0)" out_is "uid=1000 euid=0"
d run --rm --security-opt seccomp=unconfined bb grep Seccomp: /proc/self/status
check "--security-opt seccomp=unconfined" out_is "$(printf 'Seccomp:\t0')"
d run --rm --privileged bb sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; ls /dev | wc -l'
check "--privileged: every capability, no seccomp, the host's devices" \
    out_has "Seccomp:.0" && [ "$(tail -1 "$E/out")" -gt 20 ] && ! out_has "CapEff:.00000000a80425fb"

d run --rm bb probe syscalls
for want in keyctl=EPERM unshare=EPERM unshare_user=EPERM mount=EPERM init_module=EPERM \
    finit_module=EPERM vsock=EPERM clone3=ENOSYS reboot=EPERM swapoff=EPERM; do
    check "seccomp/caps: $want" out_has "^$want$"
done
d run --rm bb sh -c 'mount -t tmpfs none /mnt 2>/dev/null || echo denied'
check "mount is denied" out_is "denied"
d run --rm bb sh -c 'ls /proc | grep -c "^[0-9]"'
check "host processes are invisible (sh, ls, grep only)" out_is "3"
d run --rm bb sh -c "test -e /proc/$$ && echo visible || echo hidden"
check "the test shell's pid is not in the container" out_is "hidden"
d run --rm bb sh -c 'echo $$'
check "the command is pid 1" out_is "1"
if [ -e /proc/kcore ]; then
    d run --rm bb sh -c 'wc -c < /proc/kcore'
    check "/proc/kcore masked" out_is "0"
else
    d run --rm bb sh -c 'test -e /proc/kcore && wc -c < /proc/kcore || echo absent'
    check "/proc/kcore masked (absent on this kernel)" out_is "absent"
fi
d run --rm bb sh -c 'cat /proc/keys /proc/timer_list /proc/interrupts | wc -c; ls /sys/firmware | wc -l'
check "/proc/keys, timer_list, interrupts and /sys/firmware masked" out_is "$(printf '0\n0')"
d run --rm bb sh -c 'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo ro; touch /sys/x 2>/dev/null || echo ro'
check "/proc/sys and /sys read-only" out_is "$(printf 'ro\nro')"
d run --rm bb sh -c 'ls /dev | tr "\n" " "'
check "a minimal /dev" out_is "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "
maj=$(stat -c %d / | awk '{printf "%d %d", int($1/256), $1%256}')
d run --rm bb probe mknod $maj
check "mknod works (CAP_MKNOD, as Docker)" out_has "^mknod/tmp/blk=ok$"
check "but the node cannot be opened anywhere writable" out_lacks "^open/.*=ok$"
d run --rm bb sh -c 'kill -9 0; echo survived'
check "kill(0) in the container stays in the container (own session)" kill -0 "$MACHINED_PID"

d run --rm --pids-limit 20 bb probe forks 200
n=$(sed -n 's/^forked=//p' "$E/out")
check "a fork bomb stays under --pids-limit 20 (forked $n)" [ -n "$n" ] && [ "$n" -lt 20 ]
d run --name hog --memory 32m bb probe hog 200
check "a memory hog under --memory 32m is killed (137)" [ "$rc" -eq 137 ]
d inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' hog
check "inspect says OOMKilled" out_is "true 137"
d run --name ok1 --memory 64m bb probe hog 8
d inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}}' ok1
check "a process under its limit is not OOM-killed" out_is "false 0"
# The engine uses v1 where a v1 hierarchy holds memory (this hybrid host), else v2.
if grep -q ' - cgroup cgroup .*[,]memory' /proc/self/mountinfo; then
    memfile=/sys/fs/cgroup/memory/memory.limit_in_bytes pidsfile=/sys/fs/cgroup/pids/pids.max
    newdir=/sys/fs/cgroup/memory/x cpufiles="/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares"
    cpuwant=$(printf '50000\n512')
else
    memfile=/sys/fs/cgroup/memory.max pidsfile=/sys/fs/cgroup/pids.max newdir=/sys/fs/cgroup/x
    cpufiles="/sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight" cpuwant=$(printf '50000 100000\n20')
fi
d run --rm --cpus 0.5 --cpu-shares 512 bb cat $cpufiles
check "--cpus 0.5 --cpu-shares 512 read back inside the container" out_is "$cpuwant"
cid=$(docker run -d --cpus 0.5 --cpu-shares 512 --memory 48m --pids-limit 33 bb sleep 100 2>/dev/null)
cg=$(ls -d /sys/fs/cgroup/cpu/"$CGPARENT"/"$cid" 2>/dev/null || ls -d /sys/fs/cgroup/"$CGPARENT"/"$cid")
if [ -f "$cg/cpu.cfs_quota_us" ]; then
    check "cgroup v1: cpu quota/period and shares" [ "$(cat "$cg/cpu.cfs_quota_us") $(cat "$cg/cpu.cfs_period_us") $(cat "$cg/cpu.shares")" = "50000 100000 512" ]
    check "cgroup v1: memory limit" [ "$(cat /sys/fs/cgroup/memory/"$CGPARENT"/"$cid"/memory.limit_in_bytes)" = "50331648" ]
    check "cgroup v1: pids limit" [ "$(cat /sys/fs/cgroup/pids/"$CGPARENT"/"$cid"/pids.max)" = "33" ]
else
    check "cgroup v2: cpu.max, memory.max, pids.max" [ "$(cat "$cg/cpu.max") $(cat "$cg/memory.max") $(cat "$cg/pids.max")" = "50000 100000 50331648 33" ]
fi
docker rm -f "$cid" >/dev/null
check "the container's cgroup is removed with it" [ ! -e "$cg" ]

# /sys/fs/cgroup inside shows the container's own cgroup, read-only (writable when
# privileged): Docker's v1 layout on v1 and hybrid hosts, a cgroup namespace and cgroup2 on v2.
d run --rm --memory 64m --pids-limit 20 bb cat "$memfile" "$pidsfile"
check "cat $memfile $pidsfile shows --memory 64m --pids-limit 20" out_is "$(printf '67108864\n20')"
d run --rm --pids-limit 20 bb sh -c "echo 100 > $pidsfile || echo ro; mkdir $newdir || echo ro; touch /sys/fs/cgroup/y || echo ro; cat $pidsfile"
check "the container cannot write there (read-only)" out_is "$(printf 'ro\nro\nro\n20')" && err_has 'Read-only file system'
d run --rm --pids-limit 20 -u app bb sh -c "echo 100 > $pidsfile 2>/dev/null || echo denied; cat $pidsfile"
check "nor can a non-root user" out_is "$(printf 'denied\n20')"
d run --rm --privileged --pids-limit 20 bb sh -c "echo 30 > $pidsfile && cat $pidsfile"
check "a privileged container can (read-write, as Docker)" out_is "30"
cid=$(docker run -d --pids-limit 21 bb sleep 100 2>/dev/null)
d exec "$cid" cat "$pidsfile"
check "exec sees the same cgroup" out_is "21"
docker rm -f "$cid" >/dev/null
if [ "$memfile" = /sys/fs/cgroup/memory.max ]; then
    d run --rm bb cat /proc/self/cgroup
    check "cgroup v2: the container is at the root of its own cgroup namespace" out_is "0::/"
fi
finish
