#!/bin/bash
# The stock docker CLI against a real machined (unix socket): the container journeys of issue 3
# (Done-when 1) and the rest of the container and exec routes.
. "$(dirname "$0")/lib-engine.sh"
start_machined
make_image bb

# ---- run ----
d run --rm bb echo hi
check "run --rm bb echo hi prints hi" out_is "hi"
check "run --rm exits 0" [ "$rc" -eq 0 ]
check "the create answer warns that there is no bridge yet" err_has "bridge network is not built yet"
d ps -aq
check "--rm removed the container" out_is ""
d run --name e3 bb sh -c 'exit 3'
check "run bb sh -c 'exit 3' exits 3" [ "$rc" -eq 3 ]
rc=0
printf 'x\n' | docker run -i --rm bb cat >"$E/out" 2>"$E/err" || rc=$?
check "echo x | run -i --rm bb cat prints x" out_is "x"
rc=0
seq 1 20000 | docker run -i --rm bb wc -l >"$E/out" 2>"$E/err" || rc=$?
check "a larger stdin arrives whole" out_is "20000"
rc=0
docker run --rm bb head -c 30000000 /dev/zero 2>/dev/null | (sleep 2; wc -c) >"$E/out" || rc=$?
check "30 MB to a client that reads late: all of it arrives" out_is "30000000"
rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$MACHINED_PID/status")
check "and machined's memory stays bounded meanwhile (peak RSS $rss kB < 24 MB)" [ "$rss" -lt 24576 ]
d run --rm bb sh -c 'echo out; echo err >&2'
check "stdout and stderr are framed apart" out_is "out" && err_has "^err$"
d run -t --rm bb sh -c 'tty; echo t'
check "run -t: a pty, raw output with \\r\\n" [ "$(tr -d '\r' <"$E/out")" = "$(printf '/dev/pts/0\nt')" ]
check "run -t: output is raw (\\r present)" grep -q $'\r' "$E/out"
if command -v script >/dev/null; then
    # A real terminal (script's pty): -it sends ConsoleSize and resizes; keystrokes go raw.
    script -qec "stty rows 30 cols 100; docker run -it --rm bb stty size" /dev/null >"$E/out" 2>&1
    check "run -it on a terminal: the container's tty has the terminal's size" out_has "30 100"
    rc=0
    printf 'echo hello\nexit 4\n' | script -qec "docker run -it --rm bb sh" /dev/null >"$E/out" 2>&1 || rc=$?
    check "run -it: an interactive shell" [ "$(tr -d '\r' <"$E/out" | grep -c '^hello$')" -eq 1 ]
fi
d run --rm bb nope
check "a missing command exits 127" [ "$rc" -eq 127 ]
check "with docker's wording" err_has 'exec: "nope": executable file not found in $PATH'
d run --rm bb /etc/passwd
check "a file that cannot execute exits 126" [ "$rc" -eq 126 ]
d run --rm -e A=1 -e B=two -w /tmp/work -u app bb sh -c 'echo $A $B; pwd; id -u; id -g; echo $HOME'
check "-e, -w (created), -u app with its home" out_is "$(printf '1 two\n/tmp/work\n1000\n1000\n/home/app')"
d run --rm -u 4242:77 bb id
check "-u uid:gid not in passwd" out_has "uid=4242 gid=77"
d run --rm --hostname box bb hostname
check "--hostname" out_is "box"
d run --rm --entrypoint /bin/echo bb a b
check "--entrypoint with args" out_is "a b"

# ---- detached: ps, logs, exec, top, stop, rm ----
d run -d --name s1 bb sh -c 'echo started; sleep 100'
check "run -d prints the id" [ "$rc" -eq 0 ] && [ "$(wc -c <"$E/out")" -eq 65 ]
sid=$(cat "$E/out")
d ps
check "ps shows s1 up" out_has " Up .* s1$"
d ps --no-trunc --format '{{.ID}} {{.Image}} {{.Command}} {{.Names}}'
check "ps columns (args with spaces quoted, as dockerd)" out_is "$sid bb \"sh -c 'echo started; sleep 100'\" s1"
for _ in $(seq 1 50); do docker logs s1 2>/dev/null | grep -q started && break; sleep 0.05; done
d logs s1
check "logs s1" out_is "started"
d exec s1 echo ok
check "exec s1 echo ok" out_is "ok" && [ "$rc" -eq 0 ]
d exec s1 sh -c 'exit 5'
check "exec exit code 5" [ "$rc" -eq 5 ]
d exec s1 nope
check "exec of a missing command exits 126 (as dockerd)" [ "$rc" -eq 126 ]
d exec -e A=1 -w /tmp -u app s1 sh -c 'echo $A; pwd; id -u'
check "exec -e -w -u" out_is "$(printf '1\n/tmp\n1000')"
rc=0
printf 'in\n' | docker exec -i s1 cat >"$E/out" 2>"$E/err" || rc=$?
check "exec -i feeds stdin" out_is "in"
if command -v script >/dev/null; then
    script -qec "stty rows 31 cols 101; docker exec -it s1 stty size" /dev/null >"$E/out" 2>&1
    check "exec -it on a terminal: sized pty" out_has "31 101"
fi
d exec -t s1 tty
check "exec -t gets a pty" [ "$(tr -d '\r' <"$E/out")" = "/dev/pts/0" ]
d exec -d s1 sh -c 'echo bg > /tmp/bg'
sleep 0.2
d exec s1 cat /tmp/bg
check "exec -d ran detached" out_is "bg"
d exec s1 sh -c 'echo $$'
check "exec runs in the container's pid namespace (not pid 1)" [ "$(cat "$E/out")" -gt 1 ]
d top s1
check "top lists the container's processes" out_has "sleep 100" && out_has "^UID *PID *PPID"
d inspect -f '{{.State.Status}} {{.State.Running}} {{.Config.Tty}} {{.Name}} {{.Path}}' s1
check "inspect fields" out_is "running true false /s1 sh"
d inspect -f '{{.State.Pid}}' s1
check "inspect State.Pid is the host pid" [ -d "/proc/$(cat "$E/out")" ]
d rm s1
check "rm of a running container is refused (409)" [ "$rc" -eq 1 ] && err_has "cannot remove a running"
d stop -t 1 s1
check "stop -t 1" out_is "s1" && [ "$rc" -eq 0 ]
d inspect -f '{{.State.Status}} {{.State.ExitCode}}' s1
check "stopped: exited 137 (sh ignores TERM as pid 1)" out_is "exited 137"
d ps -a --format '{{.Names}} {{.Status}}' --filter name=s1
check "ps -a Status text" grep -Eq '^s1 Exited \(137\) (Less than a second|[0-9]+ seconds?) ago$' "$E/out"
d stop s1
check "stop of a stopped container succeeds (304)" [ "$rc" -eq 0 ]
d kill s1
check "kill of a stopped container fails (409)" [ "$rc" -eq 1 ] && err_has "is not running"
d rm s1
check "rm s1" [ "$rc" -eq 0 ]
d ps -a --format '{{.Names}}'
check "s1 is gone" out_lacks "^s1$"
d logs nope
check "logs of an unknown container: 404 wording" [ "$rc" -eq 1 ] && err_has "No such container: nope"

# ---- lifecycle: wait, restart, pause, rename, kill, rm -f ----
d run -d --name w1 bb sh -c 'sleep 0.3; exit 4'
d wait w1
check "wait prints the exit code" out_is "4"
d run -d --name p1 bb sleep 100
d pause p1
d inspect -f '{{.State.Status}} {{.State.Paused}}' p1
check "pause" out_is "paused true"
d ps --format '{{.Status}}' --filter name=p1
check "paused Status text" out_has "(Paused)"
d unpause p1
d inspect -f '{{.State.Status}}' p1
check "unpause" out_is "running"
pid1=$(docker inspect -f '{{.State.Pid}}' p1)
d restart -t 0 p1
d inspect -f '{{.State.Status}} {{.State.Pid}}' p1
check "restart gives a new process" [ "$rc" -eq 0 ] && out_has "^running " && out_lacks " $pid1$"
d rename p1 p2
d inspect -f '{{.Name}}' p2
check "rename" out_is "/p2"
d run -d --name p3 bb sleep 100
d rename p2 p3
check "rename to a taken name: 409" [ "$rc" -eq 1 ] && err_has "already in use"
d run -d --name k1 bb sh -c 'trap "exit 9" USR1; while true; do sleep 0.05; done'
sleep 0.2
d kill -s USR1 k1
for _ in $(seq 1 40); do
    [ "$(docker inspect -f '{{.State.Status}}' k1)" = exited ] && break
    sleep 0.05
done
d inspect -f '{{.State.Status}} {{.State.ExitCode}}' k1
check "kill -s USR1 reaches the process (its trap exits 9)" out_is "exited 9"
d rm -f p2 p3
check "rm -f of a running container" [ "$rc" -eq 0 ]
d run --name n1 bb true
d run --name n1 bb true
check "a second container with the same name: 409" [ "$rc" -eq 125 ] && err_has "is already in use"

# ---- logs ----
d run --name l1 bb sh -c 'for i in 1 2 3; do echo line$i; done; echo oops >&2'
d logs l1
check "logs: stdout" out_is "$(printf 'line1\nline2\nline3')" && err_has "^oops$"
d logs --tail 1 l1
check "logs --tail 1" [ "$(cat "$E/out")" = "" ] && err_has "^oops$"
d logs --tail 2 l1
check "logs --tail 2" out_is "line3"
d logs -t l1
check "logs -t: RFC 3339 nanosecond timestamps" grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z line1$' "$E/out"
d logs --since 2000-01-01T00:00:00Z --until 2000-01-02T00:00:00Z l1
check "logs --until before anything: empty" out_is ""
d run -d --name l2 bb sh -c 'echo a; sleep 0.5; echo b'
d logs -f l2
check "logs -f follows until the container exits" out_is "$(printf 'a\nb')" && [ "$rc" -eq 0 ]
d run -t --name l3 bb echo tty
d logs l3
check "logs of a tty container are raw" [ "$(tr -d '\r' <"$E/out")" = "tty" ]

# ---- filters ----
d run -d --name f1 --label tier=web bb sleep 100
d ps -a --filter status=exited --format '{{.Names}}'
check "filter status=exited" out_has "^e3$" && out_lacks "^f1$"
d ps --filter label=tier=web --format '{{.Names}}'
check "filter label" out_is "f1"
d ps -a --filter exited=3 --format '{{.Names}}'
check "filter exited=3" out_is "e3"
d ps -a --filter name=^l --format '{{.Names}}'
check "filter name" [ "$(sort "$E/out" | tr '\n' ' ')" = "l1 l2 l3 " ]
d ps -a --filter "id=${sid:0:6}" -q
check "filter id (removed container)" out_is ""
d ps -a -n 1 --format '{{.Names}}'
check "ps -n 1: the newest" out_is "f1"
d ps --filter colour=red
check "an unknown filter is refused" [ "$rc" -eq 1 ] && err_has "invalid filter 'colour'"
d rm -f f1

# ---- stats ----
d run -d --name st1 --memory 48m --pids-limit 20 bb sh -c 'sleep 1000 & while true; do :; done'
d stats --no-stream --format '{{.Name}}|{{.MemUsage}}|{{.PIDs}}|{{.CPUPerc}}' st1
check "stats --no-stream: the memory limit, 2 processes, a busy loop's CPU" \
    grep -Eq '^st1\|[0-9.]+[KMG]?i?B / 48MiB\|2\|([1-9][0-9]*|0\.[1-9][0-9]*)\.?[0-9]*%$' "$E/out"
d stats --no-stream --format '{{.Name}}'
check "stats --no-stream of every running container" out_has "^st1$"
python3 - <<'PY' >"$E/out" 2>"$E/err"
import docker, os, sys
c = docker.DockerClient(base_url=os.environ["DOCKER_HOST"]).containers.get("st1")
s = c.stats(stream=False)
m, p = s["memory_stats"], s["pids_stats"]
assert m["limit"] == 48 << 20 and 0 < m["usage"] < 48 << 20, m
assert p == {"current": 2, "limit": 20}, p
assert s["cpu_stats"]["cpu_usage"]["total_usage"] > s["precpu_stats"]["cpu_usage"]["total_usage"]
assert s["cpu_stats"]["system_cpu_usage"] > s["precpu_stats"]["system_cpu_usage"] > 0
assert s["name"] == "/st1" and s["id"] == c.id
PY
check "docker-py stats(stream=False): limits, usage, two CPU samples" [ $? -eq 0 ]
rc=0
timeout -s KILL 3 docker stats --format '{{.Name}} {{.PIDs}}' >"$E/out" 2>"$E/err" || rc=$?
check "docker stats (streaming, every container) runs until stopped" \
    [ "$rc" -eq 137 ] && out_has "st1 2" && [ ! -s "$E/err" ]
d rm -f st1
d stats --no-stream nope
check "stats of an unknown container: 404" [ "$rc" -eq 1 ] && err_has "No such container: nope"

# ---- events ----
t0=$(date +%s.%N)
d run --rm --name ev1 --label tier=web bb sh -c 'exit 2'
d tag bb bb:ev
d rmi bb:ev
d events --since "$t0" --until "$(date +%s.%N)" --format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
check "events --since --until: a --rm container's life, then the tag and untag" out_is "$(printf \
    'container create ev1\ncontainer start ev1\ncontainer die ev1\ncontainer destroy ev1\nimage tag bb:ev\nimage untag bb:ev')"
d events --since "$t0" --until "$(date +%s.%N)" --filter event=die --filter label=tier=web \
    --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'
check "events filtered by event and label; die has the exit code" out_is "ev1 2"
# Followed: since covers a follower that connects late; the container's end comes a second
# after its start, when the follower listens.
t1=$(date +%s.%N)
timeout 20 docker events --since "$t1" --filter container=ev2 --format '{{.Action}}' \
    >"$E/ev" 2>&1 &
evpid=$!
d run --rm --name ev2 bb sleep 1
for _ in $(seq 1 100); do [ "$(wc -l <"$E/ev")" -ge 4 ] && break; sleep 0.05; done
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null
check "events followed as they happen" [ "$(tr '\n' ' ' <"$E/ev")" = "create start die destroy " ]
d events --since 1s --until 2s
check "events --since 1s --until 2s ends at once" [ "$rc" -eq 0 ]

# ---- mounts and options ----
mkdir -p "$E/host"
echo hello >"$E/host/f"
d run --rm -v "$E/host:/data:ro" bb sh -c 'cat /data/f; touch /data/x 2>/dev/null || echo ro'
check "-v src:dst:ro" out_is "$(printf 'hello\nro')"
d run --rm -v "$E/host:/data" bb sh -c 'echo w > /data/w'
check "-v src:dst writes to the host" [ "$(cat "$E/host/w")" = "w" ]
d run --rm --read-only bb sh -c 'touch /x 2>/dev/null || echo ro'
check "--read-only" out_is "ro"
d run --rm bb sh -c 'touch /x && echo rw'
check "the root is writable otherwise" out_is "rw"
d run --rm bb cat /etc/hostname /etc/hosts
check "/etc/hostname and /etc/hosts are the container's" out_has "localhost"
# The mount points come from the engine's init layer: a container that only ran leaves its
# writable layer empty (nothing made or copied up there for /proc, /sys, /dev or /etc).
d run --name il bb sh -c 'cat /etc/hostname; ls -d /proc/1 /sys/kernel /dev/null'
ilid=$(docker inspect -f '{{.Id}}' il)
check "the init layer's mount points are mounted on" out_has "^${ilid:0:12}$" && out_has "/proc/1"
check "and the writable layer stays empty" [ -d "$E/data/containers/$ilid/upper" ] &&
    [ -z "$(ls -A "$E/data/containers/$ilid/upper")" ]
d run --rm bb sh -c 'echo 1.2.3.4 extra >> /etc/hosts; grep -c extra /etc/hosts'
check "/etc/hosts stays writable (the engine's file, bound over the init layer's)" out_is "1"
d rm il
d run --rm --network none bb ls /sys/class/net
check "--network none: loopback only" out_is "lo"
d run --rm --network host bb ls /sys/class/net
check "--network host: the host's interfaces" [ "$(wc -l <"$E/out")" -gt 1 ]
d run --rm --network nosuchnet bb true
check "an unknown network: refused" [ "$rc" -eq 125 ]
d run --rm --ulimit nofile=100:200 bb sh -c 'ulimit -n; ulimit -Hn'
check "--ulimit" out_is "$(printf '100\n200')"
d run --rm -v myvolume:/data bb true
check "named volumes: refused with a message" [ "$rc" -eq 125 ] && err_has "named volumes"

# ---- inspect and info ----
d inspect e3
check "inspect e3 is JSON with State, Config, HostConfig, Mounts, NetworkSettings" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))[0]
s = c["State"]
assert s["Status"] == "exited" and s["ExitCode"] == 3 and s["Running"] is False
for k in ("Paused", "Restarting", "OOMKilled", "Dead", "Pid", "Error", "StartedAt", "FinishedAt"):
    assert k in s, k
assert c["Name"] == "/e3" and c["Path"] == "sh" and c["Args"] == ["-c", "exit 3"]
assert c["Config"]["Image"] == "bb" and "HostConfig" in c and c["Image"].startswith("sha256:")
assert c["Mounts"] == [] and "Networks" in c["NetworkSettings"]
' "$E/out"
d info --format '{{.Containers}} {{.CgroupDriver}}'
check "info counts containers" grep -Eq '^[0-9]+ cgroupfs$' "$E/out"
d container prune -f
check "container prune" [ "$rc" -eq 0 ] && out_has "e3"
d ps -aq
check "nothing left after prune" out_is ""

finish
