#!/usr/bin/env bash
# Browser tests drive Debian's Chromium through Playwright; install it when missing.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" -ne 0 ]; then echo "warning: /usr/bin/chromium missing and not root; browser tests will be skipped" >&2; exit 0; fi
echo "Installing Chromium for the browser tests…"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
