#!/usr/bin/env bash
# Browser tests drive Debian's chromium (Playwright's own browser download cannot run here).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and cannot be installed here (needs root and apt-get);" >&2
  echo "browser tests will be skipped. Install it with: sudo apt-get install chromium" >&2
fi
