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
# Token key pairs (one per issuer) are made by scripts/run-services.ts in .local/keys. The desk's and
# the console's sessions each have a secret of their own for their CSRF tokens; one per clone, kept out of git.
secret() {
  [[ -s $1 ]] || (umask 077 && node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' >"$1")
  cat "$1"
}
export AGENT_DESK_SESSION_SECRET=${AGENT_DESK_SESSION_SECRET:-$(secret .local/agent-desk-session-secret)}
export OPS_CONSOLE_SESSION_SECRET=${OPS_CONSOLE_SESSION_SECRET:-$(secret .local/ops-console-session-secret)}
chat_file=.local/chat-token-secret
[[ -s $chat_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64url"))' >"$chat_file"
export CHAT_TOKEN_SECRET=${CHAT_TOKEN_SECRET:-$(cat "$chat_file")}
# Without a Twilio account, webhooks are checked against a local token (sign test requests with it).
twilio_file=.local/twilio-dev-token
[[ -s $twilio_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(16).toString("hex"))' >"$twilio_file"
export TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN:-$(cat "$twilio_file")}
export TWILIO_ACCOUNT_SID=${TWILIO_ACCOUNT_SID:-AC00000000000000000000000000000000}
# The desk mints its agents' softphone tokens with an API key of that account (a local one here).
export TWILIO_API_KEY_SID=${TWILIO_API_KEY_SID:-SK00000000000000000000000000000000}
export TWILIO_API_KEY_SECRET=${TWILIO_API_KEY_SECRET:-$(secret .local/twilio-dev-api-key-secret)}
# customer-record names erased customers on cc.erasure.v1 by hashes under this key.
export ERASURE_KEY=${ERASURE_KEY:-$(secret .local/customer-record-erasure-key)}
# Survey mails carry signed score links, served by the email service on 8107.
export EMAIL_SURVEY_LINK_KEY=${EMAIL_SURVEY_LINK_KEY:-$(secret .local/email-survey-link-key)}
# The number conversations the company starts are texted from (a test number of the outbox).
export SMS_COMPANY_NUMBER=${SMS_COMPANY_NUMBER:-+14155550100}
# /metrics on the public ports (desk, console, chat, webhooks) answers only with this bearer token.
metrics_file=.local/metrics-token
[[ -s $metrics_file ]] || node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' >"$metrics_file"
export METRICS_TOKEN=${METRICS_TOKEN:-$(cat "$metrics_file")}
# Where services reach each other's gRPC APIs on this machine.
export CUSTOMER_RECORD_GRPC_ADDR=${CUSTOMER_RECORD_GRPC_ADDR:-127.0.0.1:50051}
export ROUTING_GRPC_ADDR=${ROUTING_GRPC_ADDR:-127.0.0.1:50052}
node --import tsx scripts/run-services.ts
