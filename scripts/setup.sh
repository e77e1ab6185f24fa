#!/usr/bin/env bash
# Installs what the project needs on a new machine: npm packages, then the local infrastructure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
command -v node >/dev/null || { echo "Node.js 20 is required" >&2; exit 1; }
major=$(node -p 'process.versions.node.split(".")[0]')
((major >= 20)) || { echo "Node.js 20 or newer is required (found $(node -v))" >&2; exit 1; }
# Installed again only when package-lock.json or a patch applied after installing
# (libs/patches) changed: compared by content, since a checkout gives files a new time
# without changing them.
install_packages() {
  local dir=$1 stamp=$1/node_modules/.installed-lock-sha256 lock
  lock=$({
    cat "$dir/package-lock.json"
    if [[ -d $dir/libs/patches ]]; then cat "$dir"/libs/patches/*.patch; fi
  } | sha256sum | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$lock" ]]; then
    echo "[setup] installing npm packages in $dir" >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    echo "$lock" >"$stamp"
  fi
}
install_packages .
# The linter and formatter have packages of their own (scripts/lint/package.json says why).
install_packages scripts/lint
bash scripts/infra.sh install
