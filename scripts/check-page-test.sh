#!/usr/bin/env bash
# The printed-copy check page (GET /check/{code}) in a real browser: headless Chromium (Debian's
# `chromium` package, installed here as root when missing) driven by Playwright from PyPI, with
# axe-core from npm for the accessibility check (tests/tools/check_page.py). Against a live
# `ucp serve` with the demo people: a current, a superseded and a not-current copy, each at phone
# width (390 px) and desktop width. Screenshots go to target/check-page/; with UPDATE_DOCS=1 the
# phone ones, and page 1 of an active and a withdrawn plan's PDF, are copied into docs/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'check-page: %s\n' "$*" >&2; }

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
  else
    say "chromium is needed (Debian: apt-get install chromium)"
    exit 1
  fi
fi
scripts/test-tools.sh
bin=$(scripts/python-tools.sh)
(cd tests/tools/browser && npm ci --no-audit --no-fund --loglevel=error >&2)
axe=$root/tests/tools/browser/node_modules/axe-core/axe.min.js

source scripts/lib/live-server.sh
export UCP_JWT_SECRET=check-page-secret-0123456789abcdef
live_server_start ucp_check_page --seed 20 UCP_RATE_LIMIT=0 UCP_CHECK_RATE_LIMIT=0
token=$("$ucp" token --role clinician --org F84001 --name "Check page tester" --ttl 1h)
out=${CARGO_TARGET_DIR:-$root/target}/check-page
# Page 1 of a demo plan and of a withdrawn one, as printed before the browser test changes any.
if [ "${UPDATE_DOCS:-}" = 1 ]; then
  mkdir -p "$out"
  for nhs in 9990000018 9990000913; do
    id=$(curl -sf "$UCP_BASE_URL/v1/patients/$nhs/care-plan" -H "Authorization: Bearer $token" \
      -H "X-Purpose-Of-Use: direct-care" | "$bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    curl -sf -o "$out/$nhs.pdf" "$UCP_BASE_URL/v1/care-plans/$id/document" \
      -H "Authorization: Bearer $token" -H "X-Purpose-Of-Use: direct-care"
    pdftoppm -r 80 -png -f 1 -l 1 -singlefile "$out/$nhs.pdf" "$out/$nhs-page-1"
  done
  cp "$out/9990000018-page-1.png" docs/printed-plan-page-1.png
  cp "$out/9990000913-page-1.png" docs/printed-plan-withdrawn-page-1.png
fi
"$bin/python" tests/tools/check_page.py "$UCP_BASE_URL" "$token" "$axe" "$out"

if [ "${UPDATE_DOCS:-}" = 1 ]; then
  for state in current superseded superseded-unchanged not-current; do
    cp "$out/check-page-$state-phone.png" "docs/check-page-$state.png"
  done
  say "screenshots copied into docs/"
fi
