#!/bin/bash
# Done-when 3 of issue 2: `machine env` output evaluated by the real bash, zsh, fish and tcsh
# (the shell detected from the parent process), variables checked set, `machine active` prints
# the machine, then --unset clears them; powershell, cmd and emacs outputs match golden files.
. "$(dirname "$0")/lib.sh"

# A store path with a space and a quote exercises each shell's quoting.
export MACHINE_STORAGE_PATH="$T/my st'ore"
mkdir -p "$T/tls"
for f in ca cert key; do echo "$f" >"$T/tls/$f.pem"; done
run_m create --driver none --url tcp://127.0.0.1:23761 --tls-ca-cert "$T/tls/ca.pem" \
    --tls-client-cert "$T/tls/cert.pem" --tls-client-key "$T/tls/key.pem" a
check "creates a none machine with TLS files" [ "$rc" -eq 0 ]
certs="$MACHINE_STORAGE_PATH/machines/a/certs"
want_set="H=tcp://127.0.0.1:23761|V=1|C=$certs|N=a|D=a|active=a"
want_unset="H=|V=|C=|N=|D=|active=none"

bin_dir=$(dirname "$M")
export PATH="$bin_dir:$PATH"

for sh in bash zsh; do
    if ! command -v $sh >/dev/null; then fail "$sh is installed (scripts/install-deps)"; continue; fi
    out=$($sh -c '
        eval "$(machine env a)"
        printf "H=%s|V=%s|C=%s|N=%s|D=%s|active=%s\n" "$DOCKER_HOST" "$DOCKER_TLS_VERIFY" \
            "$DOCKER_CERT_PATH" "$MACHINE_NAME" "$DOCKER_MACHINE_NAME" "$(machine active 2>/dev/null || echo none)"
        eval "$(machine env --unset)"
        printf "H=%s|V=%s|C=%s|N=%s|D=%s|active=%s\n" "${DOCKER_HOST-}" "${DOCKER_TLS_VERIFY-}" \
            "${DOCKER_CERT_PATH-}" "${MACHINE_NAME-}" "${DOCKER_MACHINE_NAME-}" "$(machine active 2>/dev/null || echo none)"
    ' 2>"$T/err.$sh")
    check "$sh: set" [ "$(echo "$out" | sed -n 1p)" = "$want_set" ]
    check "$sh: unset" [ "$(echo "$out" | sed -n 2p)" = "$want_unset" ]
    [ "$(echo "$out" | sed -n 1p)" = "$want_set" ] || echo "# $sh printed: $out"
done

if command -v fish >/dev/null; then
    out=$(fish -c '
        machine env a | source
        set -l act (machine active 2>/dev/null; or echo none)
        printf "H=%s|V=%s|C=%s|N=%s|D=%s|active=%s\n" "$DOCKER_HOST" "$DOCKER_TLS_VERIFY" "$DOCKER_CERT_PATH" "$MACHINE_NAME" "$DOCKER_MACHINE_NAME" "$act"
        eval (machine env --unset)
        set -l act2 (machine active 2>/dev/null; or echo none)
        printf "H=%s|V=%s|C=%s|N=%s|D=%s|active=%s\n" "$DOCKER_HOST" "$DOCKER_TLS_VERIFY" "$DOCKER_CERT_PATH" "$MACHINE_NAME" "$DOCKER_MACHINE_NAME" "$act2"
    ' 2>"$T/err.fish")
    check "fish: set (| source)" [ "$(echo "$out" | sed -n 1p)" = "$want_set" ]
    check "fish: unset (eval)" [ "$(echo "$out" | sed -n 2p)" = "$want_unset" ]
    [ "$(echo "$out" | sed -n 1p)" = "$want_set" ] || echo "# fish printed: $out"
else
    fail "fish is installed (scripts/install-deps)"
fi

if command -v tcsh >/dev/null; then
    cat >"$T/check.tcsh" <<'TCSH'
eval `machine env a`
set act = `machine active || echo none`
printf "H=%s|V=%s|C=%s|N=%s|D=%s|active=%s\n" "$DOCKER_HOST" "$DOCKER_TLS_VERIFY" "$DOCKER_CERT_PATH" "$MACHINE_NAME" "$DOCKER_MACHINE_NAME" "$act"
eval `machine env --unset`
set act = `machine active || echo none`
foreach v (DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH MACHINE_NAME DOCKER_MACHINE_NAME)
    if (`printenv $v` != "") echo "still set: $v"
end
printf "H=|V=|C=|N=|D=|active=%s\n" "$act"
TCSH
    out=$(tcsh -f "$T/check.tcsh" 2>"$T/err.tcsh")
    check "tcsh: set" [ "$(echo "$out" | sed -n 1p)" = "$want_set" ]
    check "tcsh: unset" [ "$(echo "$out" | sed -n 2p)" = "$want_unset" ]
    [ "$out" = "$(printf '%s\n%s' "$want_set" "$want_unset")" ] || echo "# tcsh printed: $out"
else
    fail "tcsh is installed (scripts/install-deps)"
fi

# --no-proxy adds the address to NO_PROXY, keeping what was there.
out=$(NO_PROXY=example.com bash -c 'eval "$(machine env --no-proxy a)"; echo "$NO_PROXY"')
check "--no-proxy appends the host to NO_PROXY" [ "$out" = "example.com,127.0.0.1" ]
out=$("$M" env --no-proxy a | tail -n 1)
check "the usage hint keeps --no-proxy" [ "$out" = '# eval "$(machine env --no-proxy a)"' ]

# A none machine without TLS material sets DOCKER_HOST and unsets the TLS variables.
run_m create --driver none --url tcp://127.0.0.1:23762 plain
out=$(DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/x bash -c 'eval "$(machine env plain)"; echo "$DOCKER_HOST|${DOCKER_TLS_VERIFY-unset}|${DOCKER_CERT_PATH-unset}"')
check "no TLS: DOCKER_HOST set, TLS variables unset" [ "$out" = "tcp://127.0.0.1:23762|unset|unset" ]

# Golden files for the shells we cannot run here.
for sh in powershell cmd emacs; do
    "$M" env --shell $sh a >"$T/g.$sh" 2>&1
    "$M" env --shell $sh --unset a >>"$T/g.$sh" 2>&1
    sed -i "s|$MACHINE_STORAGE_PATH|@STORE@|g" "$T/g.$sh"
    golden="$MACHINE_TEST_SRCDIR/tests/data/golden/cli-env-$sh.txt"
    if [ "${MACHINE_TEST_REGENERATE:-0}" = 1 ]; then cp "$T/g.$sh" "$golden"; fi
    check "$sh output matches $golden" cmp -s "$T/g.$sh" "$golden"
    cmp -s "$T/g.$sh" "$golden" || diff "$golden" "$T/g.$sh" | sed 's/^/# /'
done
run_m env --shell klingon a
check_sh "an unknown shell is a usage error" '[ "$rc" -eq 2 ] && contains "$T/err" "unknown shell .klingon."'
run_m env nope
check_sh "env of a missing machine exits 1 naming it" '[ "$rc" -eq 1 ] && contains "$T/err" "nope"'
finish
