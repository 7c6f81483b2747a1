#!/bin/sh
# Makes a throwaway CA, a server certificate (SANs IP:127.0.0.1, DNS:localhost) and a client
# certificate signed by it, plus a second CA's client certificate (which must be refused), like
# Docker Machine's layout: DIR/{ca,ca-key,server,server-key,cert,key,foreign-cert,foreign-key}.pem
# usage: make-test-certs.sh DIR
set -eu
d=$1
mkdir -p "$d"
cd "$d"
ossl() { openssl "$@" 2>/dev/null; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
    -keyout ca-key.pem -out ca.pem
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout server-key.pem -out server.csr
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
ossl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=client \
    -keyout key.pem -out client.csr
printf 'extendedKeyUsage=clientAuth\n' >client.ext
ossl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile client.ext -out cert.pem
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=foreign \
    -keyout foreign-key.pem -out foreign-cert.pem
rm -f server.csr client.csr server.ext client.ext ca.srl
chmod 600 ./*key.pem
