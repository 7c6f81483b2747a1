#!/bin/bash
# The CLI as a user meets it, with the none and fake drivers: help on every verb, usage errors
# (exit 2, did you mean), pre-create failures (exit 3), driver flags from flags and variables,
# a failed create shown by ls and resumed, power actions, multi-name rm, a corrupt record, and
# the completion scripts in bash and fish (zsh: syntax only).
. "$(dirname "$0")/lib.sh"

# --help everywhere
run_m --help
check "machine --help exits 0 and lists the commands" contains "$T/out" "^Commands:"
verbs=$(sed -n '/^Commands:/,/^$/p' "$T/out" | awk 'NF >= 2 {print $1}' | grep -v Commands:)
for v in active completion config create env help inspect ip kill ls provision regenerate-certs \
    restart rm scp ssh start status stop upgrade url version; do
    echo "$verbs" | grep -qx "$v" || fail "machine --help lists '$v'"
done
for v in $verbs; do
    run_m "$v" --help
    check_sh "machine $v --help" '[ "$rc" -eq 0 ] && contains "$T/out" "^Usage: machine $v "'
done
run_m
check_sh "machine alone prints the usage" '[ "$rc" -eq 0 ] && contains "$T/out" "^Usage: machine"'
run_m help create
check "machine help create lists driver flags" contains "$T/out" "--fake-fail-at"
check "with their variables" contains "$T/out" 'MACHINE_FAKE_FAIL_AT'

# usage errors
run_m craete x
check_sh "an unknown verb: exit 2, did you mean" '[ "$rc" -eq 2 ] && contains "$T/err" "did you mean .create."'
check "with the usage" contains "$T/err" "^Usage: machine"
run_m ls --filtr driver=none
check_sh "an unknown flag: exit 2, did you mean" '[ "$rc" -eq 2 ] && contains "$T/err" "did you mean .--filter."'
check "with the verb's usage" contains "$T/err" "^Usage: machine ls "
run_m create --driver none --url tcp://127.0.0.1:1 a_b
check_sh "an invalid name names the rule (exit 2)" '[ "$rc" -eq 2 ] && contains "$T/err" "RFC 1123"'
run_m create --driver libvrt x
check_sh "an unknown driver: exit 2, did you mean" '[ "$rc" -eq 2 ] && contains "$T/err" "did you mean .libvirt."'
run_m create --driver azure x
check_sh "a known driver not built yet: not yet available" '[ "$rc" -eq 1 ] && contains "$T/err" "not yet available"'
run_m create --driver none --url tcp://127.0.0.1:1 --fake-ip 1.2.3.4 x
check_sh "a flag of another driver: exit 2" '[ "$rc" -eq 2 ] && contains "$T/err" "belongs to the .fake. driver"'

# pre-create check: exit 3, nothing left
run_m create --driver none n1
check_sh "a failed pre-create check exits 3" '[ "$rc" -eq 3 ] && contains "$T/err" "--url"'
check "and leaves nothing" [ ! -e "$MACHINE_STORAGE_PATH/machines/n1" ]

# a failed create, shown by ls, then resumed with its first flags
run_m create --driver fake --fake-fail-at create-step-2 --fake-ip 192.0.2.5 f1
check "a failing driver create exits 1" [ "$rc" -eq 1 ]
run_m ls
check "ls shows the half-made machine as failed" contains "$T/out" "^f1 .* fake .*failed"
check "with its step and cause" contains "$T/out" "driver-create failed: .*create-step-2"
run_m inspect --format '{{.CreateState}} {{.CreateStep}}' f1
check "inspect has the create state and step" [ "$(cat "$T/out")" = "failed driver-create" ]
run_m create f1
check "create again resumes (no flags needed)" [ "$rc" -eq 0 ]
check "and says so" contains "$T/err" "Resuming the create"
run_m ip f1
check "with the flags first given (--fake-ip)" [ "$(cat "$T/out")" = "192.0.2.5" ]
run_m create f1
check_sh "create on a ready machine is refused" '[ "$rc" -eq 1 ] && contains "$T/err" "exists already"'

# driver options from variables; a flag beats its variable
MACHINE_FAKE_IP=192.0.2.7 "$M" -q create --driver fake f2 2>/dev/null
MACHINE_FAKE_IP=192.0.2.7 "$M" -q create --driver fake --fake-ip 192.0.2.8 f3 2>/dev/null
check "MACHINE_FAKE_IP reaches the driver" [ "$("$M" ip f2)" = "192.0.2.7" ]
check "--fake-ip beats MACHINE_FAKE_IP" [ "$("$M" ip f3)" = "192.0.2.8" ]
MACHINE_DRIVER=fake "$M" -q create f4 2>/dev/null
check "MACHINE_DRIVER picks the driver" [ "$("$M" inspect --format '{{.DriverName}}' f4)" = "fake" ]

# power actions, persisted across processes in the fake driver's state
"$M" -q stop f1; check "stop" [ "$("$M" status f1)" = "Stopped" ]
"$M" -q start f1; check "start" [ "$("$M" status f1)" = "Running" ]
"$M" -q kill f1; check "kill" [ "$("$M" status f1)" = "Stopped" ]
"$M" -q restart f1; check "restart" [ "$("$M" status f1)" = "Running" ]
run_m status --format '{{.Name}}={{.State}}' f1
check "status --format" [ "$(cat "$T/out")" = "f1=Running" ]
run_m --debug status f1
check "--debug logs the driver calls" contains "$T/err" "debug: driver 'fake': get_state of 'f1'"
run_m url f1
check "url asks the driver" [ "$(cat "$T/out")" = "tcp://192.0.2.5:2376" ]
run_m ls --timeout 0 --filter driver=fake --format '{{.Name}}'
check "ls --filter driver=fake" [ "$(tr '\n' ' ' <"$T/out")" = "f1 f2 f3 f4 " ]

# none machines are not provisioned and have no SSH
"$M" -q create --driver none --url tcp://127.0.0.1:23760 nn 2>/dev/null
run_m provision nn
check_sh "provision of a none machine is refused" '[ "$rc" -eq 1 ] && contains "$T/err" "not provisioned"'
run_m regenerate-certs nn
check "regenerate-certs of a none machine is refused" [ "$rc" -eq 1 ]
run_m ssh nn
check_sh "ssh to a none machine says why not" '[ "$rc" -eq 1 ] && contains "$T/err" "none"'
run_m ssh f1
check_sh "ssh to a fake machine: not provisioned, so no pinned host key" '[ "$rc" -eq 1 ] && contains "$T/err" "are not provisioned"'
run_m stop nn
check_sh "stop of a none machine: the driver cannot" '[ "$rc" -eq 1 ] && contains "$T/err" "cannot stop"'

# a corrupt record lists with its error; rm needs -f
echo '{"version": 1, "dri' >"$MACHINE_STORAGE_PATH/machines/f3/config.json"
run_m ls --timeout 0
check "ls still lists the others" [ "$(grep -c '^f[124] ' "$T/out")" -eq 3 ]
check "and the corrupt one with its error" contains "$T/out" "^f3 .*not valid JSON"
run_m rm -y f3
check "rm -y of a corrupt record fails" [ "$rc" -eq 1 ]
run_m rm -f f3
check_sh "rm -f removes it" '[ "$rc" -eq 0 ] && [ ! -e "$MACHINE_STORAGE_PATH/machines/f3" ]'

# rm: several names, one missing; no confirmation without a terminal
run_m rm f2 </dev/null
check_sh "rm without -y and without a terminal refuses" '[ "$rc" -eq 2 ] && [ -d "$MACHINE_STORAGE_PATH/machines/f2" ]'
run_m rm -y f2 nope f4
check_sh "rm of several names goes on past a missing one" '[ "$rc" -eq 1 ] && contains "$T/err" "nope"'
check_sh "and removes the others" '[ ! -e "$MACHINE_STORAGE_PATH/machines/f2" ] && [ ! -e "$MACHINE_STORAGE_PATH/machines/f4" ]'

run_m active
check_sh "active without DOCKER_HOST: exit 1" '[ "$rc" -eq 1 ] && contains "$T/err" "DOCKER_HOST"'
run_m version
check "version prints the client" contains "$T/out" "^machine version "
run_m version --format json
check "version --format json" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["Client"]["Version"]' "$T/out"

# parallel creates: of one name, exactly one succeeds; of many names, all do
for i in $(seq 6); do "$M" -q create --driver fake --fake-delay 100ms same >"$T/par.$i" 2>&1 & done
wait
ok_count=0; exists=0
for i in $(seq 6); do
    if [ ! -s "$T/par.$i" ]; then ok_count=$((ok_count + 1)); fi
    grep -q "exists already" "$T/par.$i" && exists=$((exists + 1))
done
check_sh "6 parallel creates of one name: one succeeds, 5 are told it exists ($ok_count, $exists)" \
    '[ "$ok_count" -eq 1 ] && [ "$exists" -eq 5 ]'
pids=""
for i in $(seq 8); do "$M" -q create --driver fake "many$i" 2>/dev/null & pids="$pids $!"; done
fails=0; for p in $pids; do wait "$p" || fails=$((fails + 1)); done
run_m ls --timeout 0 --filter 'name=many*' -q
check_sh "8 parallel creates of different names all succeed" '[ "$fails" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 8 ]'

# completion scripts
"$M" completion bash >"$T/c.bash"
out=$(bash -c 'source "$1"; COMP_WORDS=(machine insp); COMP_CWORD=1; _machine; echo "${COMPREPLY[*]}"' _ "$T/c.bash")
check "bash completes verbs" [ "$out" = "inspect" ]
out=$(PATH="$(dirname "$M"):$PATH" bash -c 'source "$1"; COMP_WORDS=(machine rm f); COMP_CWORD=2; _machine; echo "${COMPREPLY[*]}"' _ "$T/c.bash")
check "bash completes machine names from the store" [ "$out" = "f1" ]
out=$(bash -c 'source "$1"; COMP_WORDS=(machine ls --fi); COMP_CWORD=2; _machine; echo "${COMPREPLY[*]}"' _ "$T/c.bash")
check "bash completes a verb's flags" [ "$out" = "--filter" ]
if command -v fish >/dev/null; then
    out=$("$M" completion fish | PATH="$(dirname "$M"):$PATH" fish -c 'source; complete -C "machine rm f"' | cut -f1 | tr '\n' ' ')
    check "fish completes machine names" [ "$out" = "f1 " ]
    out=$("$M" completion fish | fish -c 'source; complete -C "machine ins"' | cut -f1)
    check "fish completes verbs" [ "$out" = "inspect" ]
fi
"$M" completion zsh >"$T/c.zsh"
check "the zsh script parses (zsh -n)" zsh -n "$T/c.zsh"
run_m completion tcsh
check "completion for an unknown shell: exit 2" [ "$rc" -eq 2 ]
finish
