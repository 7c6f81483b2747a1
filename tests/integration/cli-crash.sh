#!/bin/bash
# Done-when 4 of issue 2: `machine` kills itself (MACHINE_TEST_CRASH_AT=N, common/fs.h) after
# each write, rename and fsync of a create and of an rm with the fake driver. After every one:
# no partial config.json, no stray temporary file, `ls` and `rm -f` work, and nothing the fake
# driver "made in the cloud" is left behind; an interrupted create also resumes to ready.
. "$(dirname "$0")/lib.sh"

cloud="$T/cloud"
mkdir -p "$cloud"
store="$MACHINE_STORAGE_PATH"
fake_flags=(--driver fake --fake-cloud "$cloud" --fake-steps 3)

crash_points() { # crash_points TRACEFILE COMMAND...: how many points the command passes
    local trace=$1; shift
    rm -f "$trace"
    MACHINE_TEST_CRASH_TRACE=$trace "$M" "$@" >/dev/null 2>&1
    wc -l <"$trace"
}

# The store's invariants after a crash, for machine $1.
invariants() {
    local name=$1 at=$2 cfg="$store/machines/$1/config.json" ok=1
    if [ -e "$cfg" ] && ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"] >= 1' "$cfg" 2>/dev/null; then
        echo "# $at: partial or invalid config.json"; ok=0
    fi
    run_m ls --timeout 0
    if [ "$rc" -ne 0 ]; then echo "# $at: ls failed: $(cat "$T/err")"; ok=0; fi
    local listed=0
    grep -q "^$name " "$T/out" && listed=1
    if [ -d "$store/machines/$name" ] && [ $listed = 0 ]; then echo "# $at: not listed"; ok=0; fi
    local stray
    stray=$(find "$store" -name '.*.tmp-*' | head -3)
    if [ -n "$stray" ]; then echo "# $at: stray temporary files after ls: $stray"; ok=0; fi
    if [ -n "$(ls -A "$store/trash" 2>/dev/null)" ]; then echo "# $at: trash not emptied"; ok=0; fi
    if [ $listed = 1 ]; then
        run_m rm -f "$name"
        if [ "$rc" -ne 0 ]; then echo "# $at: rm -f failed: $(cat "$T/err")"; ok=0; fi
    fi
    if [ -e "$store/machines/$name" ]; then echo "# $at: machine folder left"; ok=0; fi
    if [ -n "$(ls -A "$cloud" | grep "$name-")" ]; then echo "# $at: cloud resources left: $(ls -A "$cloud")"; ok=0; fi
    [ $ok = 1 ]
}

n_create=$(crash_points "$T/trace-create" create "${fake_flags[@]}" probe)
"$M" rm -f probe >/dev/null 2>&1
echo "# create passes $n_create crash points"
check "create has crash points to test" [ "$n_create" -ge 10 ]

for k in $(seq "$n_create"); do
    name="c$k"
    rc=0
    MACHINE_TEST_CRASH_AT=$k "$M" create "${fake_flags[@]}" "$name" >/dev/null 2>&1 || rc=$?
    label=$(sed -n "${k}p" "$T/trace-create" | cut -d' ' -f2)
    if [ "$rc" -ne 137 ]; then fail "create crash at $k ($label): killed (rc $rc)"; continue; fi
    check "create crash at $k ($label): store consistent, ls and rm -f work, nothing left" invariants "$name" "create@$k"

    # The same crash, then create again: it resumes to ready with exactly the resources.
    MACHINE_TEST_CRASH_AT=$k "$M" create "${fake_flags[@]}" "r$k" >/dev/null 2>&1
    run_m create "${fake_flags[@]}" "r$k"
    made=$(ls "$cloud" | grep -c "^r$k-[0-9]*$")
    run_m inspect --format '{{.CreateState}}' "r$k"
    state=$(cat "$T/out")
    check_sh "create crash at $k ($label): create again resumes to ready with 3 resources" \
        '[ "$state" = ready ] && [ "$made" -eq 3 ]'
    "$M" rm -y "r$k" >/dev/null 2>&1
done

"$M" create "${fake_flags[@]}" probe >/dev/null 2>&1
n_rm=$(crash_points "$T/trace-rm" rm -y probe)
echo "# rm passes $n_rm crash points"
check "rm has crash points to test" [ "$n_rm" -ge 3 ]
for k in $(seq "$n_rm"); do
    name="d$k"
    "$M" create "${fake_flags[@]}" "$name" >/dev/null 2>&1 || fail "create $name"
    rc=0
    MACHINE_TEST_CRASH_AT=$k "$M" rm -y "$name" >/dev/null 2>&1 || rc=$?
    label=$(sed -n "${k}p" "$T/trace-rm" | cut -d' ' -f2)
    if [ "$rc" -ne 137 ]; then fail "rm crash at $k ($label): killed (rc $rc)"; continue; fi
    check "rm crash at $k ($label): store consistent, ls and rm -f work, nothing left" invariants "$name" "rm@$k"
done
check "the cloud is empty at the end" [ -z "$(ls -A "$cloud")" ]
finish
