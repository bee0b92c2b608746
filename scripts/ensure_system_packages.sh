#!/usr/bin/env bash
# System packages the tests need: gettext (compilemessages), Debian's chromium for the
# browser tests (Playwright's own browser download cannot run here) and a Japanese font
# so screenshots show text rather than boxes. Installed only when missing, as root.
set -euo pipefail
missing=()
command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list 2>/dev/null | grep -qiE 'ipa|noto.*cjk|takao|vl gothic' || missing+=(fonts-ipafont-gothic)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "missing system packages: ${missing[*]} (install with: sudo apt-get install ${missing[*]});" >&2
  echo "without chromium the browser tests are skipped." >&2
fi
