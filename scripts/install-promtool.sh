#!/usr/bin/env bash
# Installs Debian's Prometheus for promtool, which checks the alert rules in deploy/monitoring.
# Idempotent: does nothing when present. Only the tool is wanted: the package's own server is
# kept from starting (policy-rc.d) and, should it run anyway, stopped and disabled.
set -euo pipefail
if [ -x /usr/bin/promtool ]; then
  echo "promtool already installed: $(/usr/bin/promtool --version 2>&1 | head -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  # Exit code 101 tells invoke-rc.d not to start any service during the install.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  own_policy=1
fi
trap '[ -n "$own_policy" ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends prometheus
if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
  $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
/usr/bin/promtool --version 2>&1 | head -n 1
