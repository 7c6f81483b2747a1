#!/bin/bash
# The container journeys over mutual TLS (tcp://127.0.0.1, as Docker Machine set hosts up):
# hijacked attach and exec streams through TLS, stdin half-closed with close_notify, the stock
# docker CLI and docker-py.
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
d rm -f t1
check "rm -f over TLS" [ "$rc" -eq 0 ]
python3 - "$TLS_PORT" "$E/certs" >"$E/out" 2>"$E/err" <<'PY'
import os, sys, docker
# requests prefers these over the client's CA: not ours to use here.
for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
    os.environ.pop(k, None)
port, certs = sys.argv[1], sys.argv[2]
tls = docker.tls.TLSConfig(client_cert=(certs + "/cert.pem", certs + "/key.pem"),
                           ca_cert=certs + "/ca.pem", verify=True)
c = docker.DockerClient(base_url="https://127.0.0.1:%s" % port, tls=tls, version="1.44")
print(c.containers.run("bb", ["echo", "py"], remove=True).decode().strip())
x = c.containers.run("bb", ["sleep", "100"], detach=True)
print(x.exec_run(["echo", "exec"]).output.decode().strip())
x.remove(force=True)
PY
check "docker-py over TLS: run and exec_run" out_is "$(printf 'py\nexec')"
finish
