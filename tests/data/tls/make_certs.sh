#!/usr/bin/env bash
# Makes the test-only TLS files of the webhook receiver's tests: a CA (ca.pem) and a
# certificate for localhost / 127.0.0.1 signed by it (cert.pem, key.pem), valid 100 years.
# The keys are public test keys: never use them for anything else.
set -euo pipefail
cd "$(dirname "$0")"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
    -subj "/CN=mindee-prep test CA" -keyout "$tmp/ca.key" -out ca.pem \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=localhost" -keyout key.pem -out "$tmp/cert.csr"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/cert.csr" -CA ca.pem -CAkey "$tmp/ca.key" -CAcreateserial \
    -days 36500 -extfile "$tmp/ext" -out cert.pem
rm -f ca.srl
