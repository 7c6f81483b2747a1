#!/bin/bash
# Done-when 6 of issue 2: the generated CA, client and server certificates complete a mutual-TLS
# handshake between `openssl s_server -Verify` and `openssl s_client` (TLS 1.3 and 1.2); a client
# without a certificate is refused; and machine's own engine client (ls, version, -H NAME,
# DOCKER_* from env) speaks mutual TLS to the same server. Port: 23800-23899 (foundation's).
CERTGEN=${1:?usage: cli-tls.sh CERTGEN}
. "$(dirname "$0")/lib.sh"

store="$MACHINE_STORAGE_PATH"
"$CERTGEN" "$store" tls1 127.0.0.1 || { fail "certgen"; finish; exit 1; }
S="$store/machines/tls1"
mkdir -p "$T/www"
printf '{"Version":"9.9.9-test","ApiVersion":"1.44","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"}' >"$T/www/version"
printf 'OK' >"$T/www/_ping"

srv=""
stop_server() { [ -n "$srv" ] && kill "$srv" 2>/dev/null; wait 2>/dev/null; }
cleanup_hooks="stop_server"
port=""
for _ in $(seq 30); do
    p=$((23800 + RANDOM % 100))
    (cd "$T/www" && exec openssl s_server -accept "127.0.0.1:$p" -cert "$S/server.pem" \
        -key "$S/server-key.pem" -CAfile "$store/certs/ca.pem" -Verify 1 -verify_return_error \
        -WWW) >"$T/srv.out" 2>&1 &
    srv=$!
    for _ in $(seq 100); do
        grep -q ACCEPT "$T/srv.out" && break
        kill -0 "$srv" 2>/dev/null || break
        sleep 0.05
    done
    if grep -q ACCEPT "$T/srv.out"; then port=$p; break; fi
    stop_server; srv=""
done
check "openssl s_server listens with the server certificate (port $port)" [ -n "$port" ]

client() { # client [s_client options...]
    echo Q | openssl s_client -connect "127.0.0.1:$port" -CAfile "$S/certs/ca.pem" \
        -verify_return_error -verify_ip 127.0.0.1 "$@" >"$T/cli.out" 2>&1
}
for v in -tls1_3 -tls1_2; do
    rc=0; client "$v" -cert "$S/certs/cert.pem" -key "$S/certs/key.pem" || rc=$?
    check_sh "mutual TLS handshake ($v) succeeds" '[ "$rc" -eq 0 ] && contains "$T/cli.out" "Verify return code: 0 (ok)"'
    check "the server presented CN=tls1 ($v)" contains "$T/cli.out" "subject=O = machine, CN = tls1"
done
check "TLS 1.2 uses ECDHE with ECDSA and AES-GCM" contains "$T/cli.out" "ECDHE-ECDSA-AES.*GCM"
# In TLS 1.2 the server refuses during the handshake; in 1.3 after it (the client sees the
# alert when it reads), so the 1.3 case asks for a page over HTTP with curl.
rc=0; client -tls1_2 || rc=$?
check_sh "a client without a certificate is refused (TLS 1.2)" '[ "$rc" -ne 0 ] && contains "$T/cli.out" "alert"'
rc=0; curl -sS --tlsv1.3 --cacert "$S/certs/ca.pem" "https://127.0.0.1:$port/version" >"$T/curl.out" 2>&1 || rc=$?
check_sh "a client without a certificate is refused (TLS 1.3)" '[ "$rc" -ne 0 ] && ! contains "$T/curl.out" "9.9.9-test"'
rc=0; curl -sS --tlsv1.3 --cacert "$S/certs/ca.pem" --cert "$S/certs/cert.pem" --key "$S/certs/key.pem" "https://127.0.0.1:$port/version" >"$T/curl.out" 2>&1 || rc=$?
check_sh "with the client certificate curl gets the page (TLS 1.3)" '[ "$rc" -eq 0 ] && contains "$T/curl.out" "9.9.9-test"'
rc=0; echo Q | openssl s_client -connect "127.0.0.1:$port" -CAfile "$S/certs/ca.pem" \
    -verify_return_error -verify_hostname wrong.example >"$T/cli.out" 2>&1 || rc=$?
check "the server certificate does not claim other names" [ "$rc" -ne 0 ]

# machine's client: a none machine pointing at the server with the store's client files.
run_m create --driver none --url "tcp://127.0.0.1:$port" --tls-ca-cert "$store/certs/ca.pem" \
    --tls-client-cert "$store/certs/cert.pem" --tls-client-key "$store/certs/key.pem" eng
check "a none machine with TLS files" [ "$rc" -eq 0 ]
run_m ls --timeout 5 --format '{{.Name}}|{{.DockerVersion}}|{{.Error}}' --filter name=eng
check "ls reads the engine version over mutual TLS" [ "$(cat "$T/out")" = "eng|v9.9.9-test|" ]
run_m -H eng version
check "-H NAME: version shows the engine over mutual TLS" contains "$T/out" "Engine: 9.9.9-test at tcp://127.0.0.1:$port"
MACHINE_LOG=client:debug run_m -H eng version
check "MACHINE_LOG=client:debug logs each request and its status" \
    contains "$T/err" "debug: GET /.*version at 'tcp://127.0.0.1:$port': 200"
out=$(eval "$("$M" env eng)"; "$M" version --format '{{.Server.Version}} {{.Server.ApiVersion}}')
check "eval machine env: version follows DOCKER_HOST and friends" [ "$out" = "9.9.9-test 1.44" ]
# The stock docker CLI with the flags of `machine config` (it unquotes --tlscacert="..." as
# Docker Machine's users rely on); API 1.44 pinned, since s_server serves files by path.
mkdir -p "$T/www/v1.44"
cp "$T/www/version" "$T/www/v1.44/version"
out=$(DOCKER_CONFIG="$T/docker" DOCKER_API_VERSION=1.44 docker $("$M" config eng) version \
    --format '{{.Server.Version}}' 2>&1)
check "docker \$(machine config eng) version reaches the engine over mutual TLS" [ "$out" = "9.9.9-test" ]
[ "$out" = "9.9.9-test" ] || echo "# docker said: $out"
out=$(eval "$("$M" env eng)"; unset DOCKER_CERT_PATH; HOME="$T" "$M" version 2>&1)
check "without the client files the engine is unreachable, and version says why" \
    bash -c "echo \"\$1\" | grep -q 'did not answer\|cannot reach'" _ "$out"
finish
