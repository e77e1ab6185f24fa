#!/usr/bin/env bash
# The fault suite (test/chaos): a Kafka broker and a store of its own on free ports, the services
# as processes, steady load, one fault at a time. `--short` runs the broker, store and routing faults.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
source scripts/test-infra.sh
# The suite restarts the pair itself after killing it, so it must be ours.
unset KAFKA_BROKERS MONGODB_URI KEEP_INFRA
start_test_infra
# The services run as bundles (scripts/build-services.ts): a restart then does not wait for tsx.
node --import tsx scripts/build-services.ts
node --import tsx test/chaos/chaos.ts "$@"
