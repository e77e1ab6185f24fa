#!/usr/bin/env bash
# Installs schemathesis (PyPI) into a virtual environment in the cache shared by every clone on
# the machine, once, and prints the path of its `st` command. The integration API's property-based
# test runs it (services/integration-api/test/schemathesis.integration.test.ts).
set -euo pipefail
VERSION=4.32.5
CACHE=${CC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/contact-center}
VENV=$CACHE/schemathesis-$VERSION
# Written last: a venv without it is a half-finished install, made again.
DONE=$VENV/.installed
if [[ ! -f $DONE ]]; then
  command -v python3 >/dev/null || { echo "python3 (3.9+) is needed for schemathesis" >&2; exit 1; }
  echo "installing schemathesis $VERSION into $VENV" >&2
  rm -rf "$VENV"
  mkdir -p "$CACHE"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION" >&2
  touch "$DONE"
fi
echo "$VENV/bin/st"
