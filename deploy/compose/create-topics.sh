#!/usr/bin/env bash
# Creates the broadcast topics on the compose Kafka (run by the `topics` one-shot service with the
# apache/kafka image). Waits for the broker, then creates each topic if it is missing; safe to rerun.
# Production clusters get the same topics from deploy/strimzi/topics.yaml (or your own tooling).
set -euo pipefail

BOOTSTRAP="${BOOTSTRAP:-kafka:9092}"
PREFIX="${BROADCAST_TOPIC_PREFIX:-}"
PARTITIONS="${PARTITIONS:-12}"
REPLICATION="${REPLICATION:-1}"
TOPICS_SH="${TOPICS_SH:-/opt/kafka/bin/kafka-topics.sh}"

for attempt in $(seq 1 60); do
  if "$TOPICS_SH" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; then break; fi
  if [ "$attempt" -eq 60 ]; then echo "create-topics: Kafka at $BOOTSTRAP did not answer in 120 s" >&2; exit 1; fi
  echo "create-topics: waiting for Kafka at $BOOTSTRAP ($attempt)"
  sleep 2
done

create() { # name partitions config...
  local name="$PREFIX$1" partitions="$2"; shift 2
  local configs=()
  for c in "$@"; do configs+=(--config "$c"); done
  "$TOPICS_SH" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$REPLICATION" ${configs[@]+"${configs[@]}"}
  echo "create-topics: $name ready ($partitions partitions${*:+, $*})"
}

# Work and its results: partitions >= the most workers you will run (a worker without a partition idles).
create broadcast.messages "$PARTITIONS" retention.ms=604800000
create broadcast.status   "$PARTITIONS" retention.ms=604800000
create broadcast.dlq      "$PARTITIONS" retention.ms=2592000000
create broadcast.inbound  "$PARTITIONS" retention.ms=2592000000
# Tables: the latest record per key is what counts.
create broadcast.optouts  "$PARTITIONS" cleanup.policy=compact
create broadcast.control  3             cleanup.policy=compact
# Each device's safety state (caps, warm-up, pauses, last send, operator status), key = device id.
create broadcast.devices  "$PARTITIONS" cleanup.policy=compact

"$TOPICS_SH" --bootstrap-server "$BOOTSTRAP" --describe --topic "${PREFIX}broadcast\\..*" | grep -v 'Partition: ' || true
