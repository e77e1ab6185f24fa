#!/usr/bin/env bash
# proto/ is the source of truth; libs/proto/gen is generated from it with buf and ts-proto.
#   scripts/proto.sh generate   regenerate libs/proto/gen
#   scripts/proto.sh check      lint, check for breaking changes against main, and check that
#                               the committed generated code matches the schemas
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT/proto"
BUF=$ROOT/node_modules/.bin/buf
case ${1:-} in
  generate)
    rm -rf "$ROOT/libs/proto/gen"
    "$BUF" generate
    ;;
  check)
    echo "[proto] buf lint" >&2
    "$BUF" lint
    if git -C "$ROOT" rev-parse --verify -q main >/dev/null && git -C "$ROOT" cat-file -e main:proto/buf.yaml 2>/dev/null; then
      echo "[proto] buf breaking against main" >&2
      "$BUF" breaking --against "$ROOT/.git#branch=main,subdir=proto"
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    sed -e "s#out: ../libs/proto/gen#out: $tmp/gen#" -e "s#local: ../node_modules#local: $ROOT/node_modules#" buf.gen.yaml >"$tmp/buf.gen.yaml"
    "$BUF" generate --template "$tmp/buf.gen.yaml"
    if ! diff -r "$tmp/gen" "$ROOT/libs/proto/gen" >&2; then
      echo "[proto] libs/proto/gen does not match proto/: run npm run proto and commit the result" >&2
      exit 1
    fi
    ;;
  *)
    echo "usage: scripts/proto.sh generate|check" >&2
    exit 2
    ;;
esac
