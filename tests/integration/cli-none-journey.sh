#!/bin/bash
# Done-when 2 of issue 2: the none driver's journey against 127.0.0.1:23760, where nothing
# listens, and an unknown machine's error.
. "$(dirname "$0")/lib.sh"

run_m create --driver none --url tcp://127.0.0.1:23760 a
check "create --driver none exits 0" [ "$rc" -eq 0 ]
run_m ls
check "ls exits 0" [ "$rc" -eq 0 ]
check "ls has the header" contains "$T/out" "^NAME *ACTIVE *DRIVER *STATE *URL *ENGINE *ERRORS"
check "ls lists a with its driver and URL" contains "$T/out" "^a  *- *none .*tcp://127.0.0.1:23760"
check "ls says why the engine is unknown" contains "$T/out" "cannot reach the engine"
run_m ls --format json
check "ls --format json exits 0" [ "$rc" -eq 0 ]
check "ls --format json is valid JSON naming a" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows[0]["Name"] == "a" and rows[0]["DriverName"] == "none", rows
assert rows[0]["URL"] == "tcp://127.0.0.1:23760", rows
' "$T/out"
run_m ls --format '{{.Name}} {{.DriverName}}'
check "ls --format template" [ "$(cat "$T/out")" = "a none" ]
run_m inspect a
check "inspect a exits 0" [ "$rc" -eq 0 ]
check "inspect a is JSON with the driver" python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
assert m["Name"] == "a" and m["DriverName"] == "none" and m["CreateState"] == "ready", m
' "$T/out"
run_m inspect --format '{{.URL}}' a
check "inspect --format" [ "$(cat "$T/out")" = "tcp://127.0.0.1:23760" ]
run_m url a
check_sh "url a prints the URL" '[ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "tcp://127.0.0.1:23760" ]'
run_m ip a
check "ip a prints the host" [ "$(cat "$T/out")" = "127.0.0.1" ]
run_m status a
check "status a" [ "$(cat "$T/out")" = "Running" ]
run_m config a
check "config a gives -H (no TLS for this none machine)" [ "$(cat "$T/out")" = "-H=tcp://127.0.0.1:23760" ]
run_m inspect nope
check "inspect nope exits 1" [ "$rc" -eq 1 ]
check "inspect nope names 'nope'" contains "$T/err" "'nope'"
run_m create --driver none --url tcp://127.0.0.1:23760 a
check_sh "create on a ready machine is refused" '[ "$rc" -eq 1 ] && contains "$T/err" "exists already"'
run_m rm -y a
check "rm -y a exits 0" [ "$rc" -eq 0 ]
run_m ls --format '{{.Name}}'
check_sh "a is gone" '[ "$rc" -eq 0 ] && [ ! -s "$T/out" ]'
check "its folder is gone" [ ! -e "$MACHINE_STORAGE_PATH/machines/a" ]
finish
