#!/usr/bin/env bash
# The start command: set up, start the local infrastructure and every service; Ctrl-C stops all.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/setup.sh
before=$(bash scripts/infra.sh status)
bash scripts/infra.sh up
if [[ $before != *running* ]]; then
  trap 'bash scripts/infra.sh down' EXIT
fi
# Services verify the tokens agent-desk issues with this secret; one per clone, kept out of git.
secret_file=.local/auth-secret
[[ -s $secret_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' >"$secret_file"
export AUTH_JWT_SECRET=${AUTH_JWT_SECRET:-$(cat "$secret_file")}
node --import tsx scripts/run-services.ts
