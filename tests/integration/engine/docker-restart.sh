#!/bin/bash
# Done-when 5 of issue 3: after machined restarts, images and container records are kept,
# exited containers show their real exit codes, and --restart always ones run again. Also:
# SIGTERM stops containers gracefully, and after a crash (SIGKILL) the containers left behind
# are killed through their cgroups, shown exited, and restarted by their policy.
. "$(dirname "$0")/lib-engine.sh"
start_machined
make_image bb

loop='trap "echo term; exit 0" TERM; echo up; while true; do sleep 0.1; done'
d run --name ex3 bb sh -c 'exit 3'
d run -d --name al --restart always bb sh -c "$loop"
d run -d --name un --restart unless-stopped bb sh -c "$loop"
d run -d --name plain bb sh -c "$loop"
d run -d --name fail2 --restart on-failure:2 bb sh -c 'exit 1'
d stop un
check "un stopped by hand" [ "$rc" -eq 0 ]
for _ in $(seq 1 100); do
    [ "$(docker inspect -f '{{.State.Status}} {{.RestartCount}}' fail2)" = "exited 2" ] && break
    sleep 0.05
done
d inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' fail2
check "on-failure:2 restarted twice, then stopped" out_is "exited 2 1"
sleep 0.3
al_pid=$(docker inspect -f '{{.State.Pid}}' al)
plain_pid=$(docker inspect -f '{{.State.Pid}}' plain)

t0=$(date +%s%N)
stop_machined TERM
t1=$(date +%s%N)
check "SIGTERM: machined stops within 5 s" [ $(( (t1 - t0) / 1000000 )) -lt 5000 ]
check "its containers' processes are gone" gone "$al_pid"
grep -q 'stopping 2 container' "$E/machined.log"
check "it stopped the running containers gracefully" [ $? -eq 0 ]

start_machined
d images --format '{{.Repository}}:{{.Tag}}'
check "images are kept" out_is "bb:latest"
d ps -a --format '{{.Names}}'
check "container records are kept" [ "$(sort "$E/out" | tr '\n' ' ')" = "al ex3 fail2 plain un " ]
d inspect -f '{{.State.Status}} {{.State.ExitCode}}' ex3
check "ex3 shows its real exit code" out_is "exited 3"
d inspect -f '{{.State.Status}} {{.State.ExitCode}}' plain
check "plain was stopped gracefully by SIGTERM (exit 0) and stays exited" out_is "exited 0"
d logs plain
check "plain's log has the TERM trap's line" out_has "^term$"
d inspect -f '{{.State.Status}}' al
check "--restart always: running again" out_is "running"
d inspect -f '{{.State.Status}}' un
check "--restart unless-stopped, stopped by hand: stays exited" out_is "exited"
d inspect -f '{{.State.Status}} {{.State.ExitCode}}' fail2
check "on-failure with its retries used: exited 1" out_is "exited 1"
for _ in $(seq 1 40); do [ "$(docker logs al 2>/dev/null | grep -c up)" -ge 2 ] && break; sleep 0.05; done
d logs al
check "al's log continues across the restart" [ "$(grep -c '^up$' "$E/out")" -ge 2 ]

# The same state through machine and docker-py.
"$MACHINE_BIN" ps -a --format '{{.Names}} {{.Status}}' >"$E/out" 2>"$E/err"
check "machine ps -a after the restart: ex3 exited 3, al up" \
    out_has "^ex3 Exited (3) " && out_has "^al Up "
"$MACHINE_BIN" images --format '{{.Repository}}:{{.Tag}}' >"$E/out" 2>"$E/err"
check "machine images after the restart" out_is "bb:latest"
if python3 -c 'import docker' 2>/dev/null; then
    python3 - >"$E/out" 2>"$E/err" <<'PY'
import os, docker
c = docker.DockerClient(base_url=os.environ["DOCKER_HOST"], version="1.44")
print(c.containers.get("ex3").attrs["State"]["ExitCode"], c.containers.get("al").status,
      c.containers.get("fail2").attrs["State"]["ExitCode"], c.images.get("bb").tags)
PY
    check "docker-py after the restart: exit codes, the restarted container, the image" \
        out_is "3 running 1 ['bb:latest']"
fi

# A crash: containers survive their engine, the next one cleans up and applies the policy.
old_pid=$(docker inspect -f '{{.State.Pid}}' al)
stop_machined KILL
check "after SIGKILL of machined the container's process is still there" kill -0 "$old_pid"
start_machined
check "the next machined killed what the crashed one left" gone "$old_pid"
d inspect -f '{{.State.Status}}' al
check "and started al again by its policy" out_is "running"
new_pid=$(docker inspect -f '{{.State.Pid}}' al)
check "with a new process" [ "$new_pid" != "$old_pid" ]
d run --rm bb echo still-works
check "the restarted engine runs containers" out_is "still-works"
finish
