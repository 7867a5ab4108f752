#!/bin/bash
# kafka-init: the topics, one SCRAM-SHA-512 user per principal and the ACLs of acls.tsv, then
# exits. It runs in the kafka container's network namespace (`network_mode: service:kafka`)
# and talks to the broker's loopback listener 127.0.0.1:9091, where the client is the super
# user ANONYMOUS: nothing outside that container can reach it, so the setup needs no admin
# password. Every other client connects over SASL_PLAINTEXT with its own SCRAM user.
#
# Environment: TOPICS, TOPIC_PARTITIONS, TOPIC_REPLICATION_FACTOR, TOPIC_MIN_INSYNC_REPLICAS,
# and KAFKA_<PRINCIPAL>_PASSWORD for every principal of acls.tsv (`-` as `_`, upper case).
set -euo pipefail

bootstrap=127.0.0.1:9091
bin=/opt/kafka/bin
acls=/etc/comanda/kafka/acls.tsv

for topic in $TOPICS; do
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$topic" --partitions "$TOPIC_PARTITIONS" \
    --replication-factor "$TOPIC_REPLICATION_FACTOR" \
    --config min.insync.replicas="$TOPIC_MIN_INSYNC_REPLICAS"
done

# The grants, without comments and blank lines.
grants=$(grep -v '^[[:space:]]*\(#\|$\)' "$acls")

# One user per principal; its password is set again on every start, so a changed .env
# takes effect on the next `docker compose up`.
for principal in $(awk '{ print $1 }' <<<"$grants" | sort -u); do
  variable="KAFKA_$(tr 'a-z-' 'A-Z_' <<<"$principal")_PASSWORD"
  password="${!variable:?$variable is not set: set it in .env (see .env.example)}"
  "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --alter \
    --add-config "SCRAM-SHA-512=[iterations=8192,password=$password]" \
    --entity-type users --entity-name "$principal"
done

# `kafka-acls.sh --add` of an ACL that exists changes nothing, so this is idempotent.
while read -r principal operation resource; do
  case "$resource" in
    topic:@catalogue) targets=() ; for topic in $TOPICS; do targets+=(--topic "$topic"); done ;;
    topic:*) targets=(--topic "${resource#topic:}") ;;
    group:*) targets=(--group "${resource#group:}") ;;
    cluster) targets=(--cluster) ;;
    *) echo "acls.tsv: unknown resource $resource" >&2; exit 1 ;;
  esac
  "$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --add \
    --allow-principal "User:$principal" --operation "$operation" "${targets[@]}"
done <<<"$grants"

"$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --list
"$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --list
