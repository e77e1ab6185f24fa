#!/usr/bin/env bash
# The test command: set up, start the local infrastructure if it is not running, check the
# protobuf schemas and the types, run every test. Infrastructure this run started is stopped after.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
# The browser tests drive Debian's Chromium.
bash scripts/install-browser.sh >&2
before=$(bash scripts/infra.sh status)
bash scripts/infra.sh up
if [[ $before != *running* ]] && [[ -z ${KEEP_INFRA:-} ]]; then
  trap 'bash scripts/infra.sh down' EXIT
fi
bash scripts/proto.sh check
echo "[test] type-checking" >&2
npx tsc -p .
echo "[test] running vitest" >&2
npx vitest run "$@"
