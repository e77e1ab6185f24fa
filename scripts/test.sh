#!/usr/bin/env bash
# The test command: set up, start a Kafka broker and a store of the tests' own, check the
# protobuf schemas, the types, the formatting and the lint rules, run every test, stop what it
# started.
#
# The tests never share a broker or a store with a running system (`npm start` on the same
# machine keeps its topics, consumer groups and databases to itself): each run starts its own
# pair on free ports, with its data under .local/test/, and removes it afterwards.
#   KEEP_INFRA=1            keep the pair running in .local/test/kept and reuse it next time
#   KAFKA_BROKERS, MONGODB_URI   test against these instead (never a live system's)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
# The browser tests drive Debian's Chromium.
bash scripts/install-browser.sh >&2
# The alert rules are checked with promtool, from Debian's Prometheus package.
bash scripts/install-promtool.sh >&2
source scripts/test-infra.sh
start_test_infra
bash scripts/proto.sh check
echo "[test] type-checking" >&2
npx tsc -p .
echo "[test] checking formatting and lint rules" >&2
bash scripts/lint.sh
echo "[test] running vitest" >&2
npx vitest run "$@"
# The short fault suite (docs/RELIABILITY.md), on a broker and a store of its own, when the whole
# suite was asked for rather than some files.
if (($# == 0)); then
  echo "[test] the short fault suite: npm run chaos -- --short" >&2
  bash scripts/chaos.sh --short
fi
