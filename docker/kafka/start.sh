#!/bin/sh
# One Kafka node in KRaft mode: TLS on every listener, SASL/SCRAM for the brokers and the
# platform's services (a user each), mutual TLS between controllers. The SCRAM users are
# written into the metadata when the node's storage is formatted, before its first start.
set -eu

node=${KAFKA_NODE_ID:?set KAFKA_NODE_ID}
secrets=/run/secrets
conf=/tmp/kafka
mkdir -p "$conf"
umask 077

secret() { tr -d '\n' < "$secrets/$1"; }

cat > "$conf/server.properties" <<PROPERTIES
node.id=$node
process.roles=broker,controller
controller.quorum.voters=1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093
listeners=CLIENT://:9092,CONTROLLER://:9093,BROKER://:9094
advertised.listeners=CLIENT://kafka-$node:9092,BROKER://kafka-$node:9094
listener.security.protocol.map=CLIENT:SASL_SSL,BROKER:SASL_SSL,CONTROLLER:SSL
inter.broker.listener.name=BROKER
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.broker.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(secret kafka_broker_password)";
listener.name.controller.ssl.client.auth=required
ssl.keystore.type=PEM
ssl.keystore.location=$secrets/kafka_node_$node
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/kafka_ca
ssl.endpoint.identification.algorithm=https
log.dirs=/var/lib/kafka/data
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
auto.create.topics.enable=false
PROPERTIES

# What the health check logs in with: the brokers' own user, over TLS.
cat > "$conf/health.properties" <<PROPERTIES
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(secret kafka_broker_password)";
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/kafka_ca
PROPERTIES

/opt/kafka/bin/kafka-storage.sh format --ignore-formatted \
    --cluster-id "${CLUSTER_ID:?set CLUSTER_ID}" --config "$conf/server.properties" \
    --add-scram "SCRAM-SHA-512=[name=broker,password=$(secret kafka_broker_password)]" \
    --add-scram "SCRAM-SHA-512=[name=api,password=$(secret kafka_api_password)]" \
    --add-scram "SCRAM-SHA-512=[name=worker,password=$(secret kafka_worker_password)]"

exec /opt/kafka/bin/kafka-server-start.sh "$conf/server.properties"
