#!/bin/bash
# Done-when 2 of issue 2: 10 machines on a peer that accepts and never answers; `ls --timeout 2`
# takes about one timeout (under 4 s) and every row says why.
. "$(dirname "$0")/lib.sh"

python3 "$MACHINE_TEST_SRCDIR/tests/integration/silent-peer.py" "$T/port" &
peer=$!
stop_peer() { kill "$peer" 2>/dev/null; wait "$peer" 2>/dev/null; }
cleanup_hooks="stop_peer"
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
port=$(cat "$T/port")
check "the silent peer listens" [ -n "$port" ]

for i in $(seq 10); do
    "$M" create --driver none --url "tcp://127.0.0.1:$port" "silent$i" 2>/dev/null || fail "create silent$i"
done
start=$(date +%s%N)
run_m ls --timeout 2
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "# ls --timeout 2 over 10 silent hosts took $ms ms"
check "ls exits 0" [ "$rc" -eq 0 ]
check "ls finished in under 4 s ($ms ms)" [ "$ms" -lt 4000 ]
check "ls waited about one timeout, not less ($ms ms)" [ "$ms" -ge 1900 ]
rows=$(grep -c "^silent" "$T/out")
check "10 rows" [ "$rows" -eq 10 ]
why=$(grep "^silent" "$T/out" | grep -c "did not answer within\|no answer within")
check "every row says why ($why of 10)" [ "$why" -eq 10 ]
run_m ls --timeout 2 --format '{{.Name}}={{.Error}}'
check "the JSON/template rows carry the error too" [ "$(grep -c 'answer within' "$T/out")" -eq 10 ]

# The two lists above made one connection per host each: wait until the peer counted all 20,
# list from the store, and give a connection that ls might have made half a second to show.
for _ in $(seq 100); do [ "$(cat "$T/port.count")" -ge 20 ] && break; sleep 0.05; done
before=$(cat "$T/port.count")
run_m ls --timeout 0
check "ls --timeout 0 exits 0" [ "$rc" -eq 0 ]
for _ in $(seq 10); do [ "$(cat "$T/port.count")" != "$before" ] && break; sleep 0.05; done
after=$(cat "$T/port.count")
check "ls --timeout 2 contacted each host once per list ($before connections)" [ "$before" -eq 20 ]
check "ls --timeout 0 contacts no host (connections: $before, then $after)" [ "$before" = "$after" ]
check "ls --timeout 0 shows the create state" [ "$(grep -c '^silent.* ready ' "$T/out")" -eq 10 ]
# env, active, config and inspect read the store only (DESIGN.md §6): no connection either.
env_out=$("$M" env silent3) && eval "$env_out" && active=$("$M" active) &&
    "$M" config silent3 >/dev/null && "$M" inspect silent3 >/dev/null
rc=$?
unset DOCKER_HOST MACHINE_NAME DOCKER_MACHINE_NAME DOCKER_TLS_VERIFY DOCKER_CERT_PATH
check_sh "env, active, config and inspect answer from the store" '[ "$rc" -eq 0 ] && [ "$active" = silent3 ]'
for _ in $(seq 10); do [ "$(cat "$T/port.count")" != "$before" ] && break; sleep 0.05; done
check "and contact no host (connections: $before, then $(cat "$T/port.count"))" [ "$before" = "$(cat "$T/port.count")" ]
run_m ls --timeout 0 --filter name='silent1*' --filter driver=none --format '{{.Name}}'
check "filters: name glob AND driver" [ "$(tr '\n' ' ' <"$T/out")" = "silent1 silent10 " ]
run_m ls --timeout 0 --filter state=ready --filter state=failed -q
check "filters: values of one key OR" [ "$(wc -l <"$T/out")" -eq 10 ]
run_m ls --filter color=red
check "an unknown filter is a usage error" [ "$rc" -eq 2 ]
finish
