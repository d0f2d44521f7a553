#!/usr/bin/env bash
# The real-client tests of /prometheus and /alertmanager run Debian's promtool, prometheus (2.42)
# and amtool (0.25); install them when missing. Their services are not started: the Debian
# packages' init scripts are left alone and the tests start their own Prometheus.
set -euo pipefail
if command -v promtool >/dev/null && command -v prometheus >/dev/null && command -v amtool >/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then echo "warning: promtool/prometheus/amtool missing and not root; their tests will be skipped" >&2; exit 0; fi
echo "Installing prometheus and prometheus-alertmanager for the protocol client tests…"
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager
