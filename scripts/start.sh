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
chat_file=.local/chat-token-secret
[[ -s $chat_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' >"$chat_file"
export CHAT_TOKEN_SECRET=${CHAT_TOKEN_SECRET:-$(cat "$chat_file")}
# Without a Twilio account, webhooks are checked against a local token (sign test requests with it).
twilio_file=.local/twilio-dev-token
[[ -s $twilio_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(16).toString("hex"))' >"$twilio_file"
export TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-$(cat "$twilio_file")}
export TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000000000}
# /metrics on the public ports (desk, console, chat, webhooks) answers only with this bearer token.
metrics_file=.local/metrics-token
[[ -s $metrics_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' >"$metrics_file"
export METRICS_TOKEN=${METRICS_TOKEN:-$(cat "$metrics_file")}
# Where services reach each other's gRPC APIs on this machine.
export CUSTOMER_RECORD_GRPC_ADDR=${CUSTOMER_RECORD_GRPC_ADDR:-127.0.0.1:50051}
export ROUTING_GRPC_ADDR=${ROUTING_GRPC_ADDR:-127.0.0.1:50052}
node --import tsx scripts/run-services.ts
