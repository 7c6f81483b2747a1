#!/bin/bash
# The container journeys over mutual TLS (tcp://127.0.0.1, as Docker Machine set hosts up):
# hijacked attach and exec streams through TLS, stdin half-closed with close_notify, the stock
# docker CLI, then docker-py's journeys (docker-py.py) over the same TLS port.
. "$(dirname "$0")/lib-engine.sh"
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_machined
make_image bb
export DOCKER_HOST="tcp://127.0.0.1:$TLS_PORT" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$E/certs"
d version --format '{{.Server.APIVersion}}'
check "docker version over mutual TLS" out_is "1.44"
d run --rm bb echo hi
check "run --rm bb echo hi over TLS" out_is "hi" && [ "$rc" -eq 0 ]
d run --rm bb sh -c 'exit 3'
check "exit code over TLS" [ "$rc" -eq 3 ]
rc=0
printf 'x\n' | docker run -i --rm bb cat >"$E/out" 2>"$E/err" || rc=$?
check "echo x | run -i --rm bb cat over TLS (stdin EOF is a close_notify)" out_is "x"
rc=0
seq 1 50000 | docker run -i --rm bb wc -l >"$E/out" 2>"$E/err" || rc=$?
check "a larger stdin over TLS" out_is "50000"
d run -t --rm bb echo tty
check "run -t over TLS" [ "$(tr -d '\r' <"$E/out")" = "tty" ]
d run -d --name t1 bb sh -c 'echo started; while true; do sleep 0.1; done'
d exec t1 echo ok
check "exec over TLS" out_is "ok"
rc=0
printf 'in\n' | docker exec -i t1 cat >"$E/out" 2>"$E/err" || rc=$?
check "exec -i over TLS" out_is "in"
d logs t1
check "logs over TLS" out_is "started"
d ps --format '{{.Names}} {{.Status}}'
check "ps over TLS" out_has "^t1 Up "
d stop -t 1 t1
check "stop over TLS" out_is "t1" && [ "$rc" -eq 0 ]
d rm t1
check "rm over TLS" out_is "t1" && [ "$rc" -eq 0 ]
d run -d --name t2 bb sleep 100
d rm -f t2
check "rm -f over TLS" [ "$rc" -eq 0 ]
if python3 -c 'import docker' 2>/dev/null; then
    echo "# docker-py over mutual TLS (docker-py.py):"
    python3 "$(dirname "$0")/docker-py.py" | sed -e 's/^ok /ok-py /' -e 's/^not ok /not-ok-py /' \
        >"$E/py"
    while read -r line; do
        case $line in
        ok-py*) pass "docker-py over TLS: ${line#ok-py [0-9]* - }" ;;
        not-ok-py*) fail "docker-py over TLS: ${line#not-ok-py [0-9]* - }" ;;
        1..*) ;;
        *) echo "# $line" ;;
        esac
    done <"$E/py"
    check "docker-py.py ran to its end over TLS" grep -q '^1\.\.' "$E/py"
else
    echo "# docker-py is not importable by $(command -v python3): its TLS journeys are not run"
fi
finish
