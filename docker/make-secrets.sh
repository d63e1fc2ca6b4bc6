#!/bin/sh
# Makes every secret compose.yaml needs, in docker/secrets/, once: passwords and tokens,
# the platform's signing key, and a private certificate authority with a certificate for
# each Kafka node. Run it from anywhere; it never overwrites a secret that exists, so it
# is safe to run again (delete a file to make a new one). Needs openssl.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
cd secrets

random() { [ -e "$1" ] || openssl rand -hex 32 > "$1"; }

for name in admin_token postgres_password postgres_api_password postgres_worker_password \
    kafka_broker_password kafka_api_password kafka_worker_password; do
    random "$name"
done

# The key that signs bid receipts and the transparency log: keep a copy with the backups,
# since a new key cannot vouch for anything the old one signed.
[ -e platform_signing_key ] || openssl genpkey -algorithm ed25519 -out platform_signing_key

# Kafka's own authority: the platform's clients trust it and nothing else for the brokers.
if [ ! -e kafka_ca ]; then
    openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=procurement Kafka CA" \
        -keyout kafka_ca.key -out kafka_ca
fi
for node in 1 2 3; do
    [ -e "kafka_node_$node" ] && continue
    openssl req -newkey rsa:3072 -nodes -subj "/CN=kafka-$node" \
        -keyout "kafka-$node.key" -out "kafka-$node.csr"
    printf 'subjectAltName=DNS:kafka-%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$node" \
        > "kafka-$node.ext"
    openssl x509 -req -in "kafka-$node.csr" -CA kafka_ca -CAkey kafka_ca.key \
        -CAcreateserial -days 825 -extfile "kafka-$node.ext" -out "kafka-$node.crt"
    # Kafka's PEM keystore: the certificate, then its unencrypted PKCS#8 key.
    openssl pkcs8 -topk8 -nocrypt -in "kafka-$node.key" | cat "kafka-$node.crt" - \
        > "kafka_node_$node"
    rm "kafka-$node.key" "kafka-$node.csr" "kafka-$node.ext" "kafka-$node.crt"
done

# The containers run as users of their own (Kafka, PostgreSQL, the platform), which must
# read the files that compose mounts for them; the directory keeps everyone else out.
chmod 0644 -- *
chmod 0600 kafka_ca.key
chmod 0700 .
echo "secrets are in $(pwd)"
