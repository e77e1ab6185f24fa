#!/usr/bin/env bash
# The project's habits, checked: Prettier's formatting, the lint rules and no unused exports
# (scripts/lint/).
#   --fix   format the files and apply the fixes the linter can make, instead of only checking
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bin=scripts/lint/node_modules/.bin
[[ -x $bin/eslint ]] || npm ci --prefix scripts/lint --no-audit --no-fund --loglevel=error
if [[ ${1:-} == --fix ]]; then
  "$bin/prettier" --log-level warn --write "**/*.{ts,js,mjs}"
  "$bin/eslint" -c scripts/lint/eslint.config.js --fix .
else
  "$bin/prettier" --log-level warn --check "**/*.{ts,js,mjs}"
  "$bin/eslint" -c scripts/lint/eslint.config.js .
fi
"$bin/knip" -c scripts/lint/knip.json --directory . --include exports,files --no-progress
