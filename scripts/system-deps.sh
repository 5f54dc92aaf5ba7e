#!/usr/bin/env bash
# Debian packages the tests use for real: redis-server (cache tests) and chromium (playground tests).
# Tests that need one skip with a reason when it cannot be installed.
set -uo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
echo "==> installing ${need[*]} with apt"
if ! ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null); then
  echo "WARNING: could not install ${need[*]}; the tests that need them will be skipped" >&2
fi
exit 0
