#!/usr/bin/env bash
# Runs the README's "Try it" block literally, as a reader would paste it after `make run`, against
# a live `ucp serve` on a fresh database with the same demo data. Any request that fails stops it
# (the block's own `curl --fail-with-body`), and the run must show the stale write refused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'readme-walkthrough: %s\n' "$*" >&2; }

# The first ```sh block after a heading of a file, exactly as written.
block_after() { awk -v h="$1" 'index($0, h) == 1 {found=1} found && /^```sh$/{inside=1; next} inside && /^```$/{exit} inside{print}' "$2"; }
block=$(block_after "## Try it" README.md)
[ -n "$block" ] || { say "no sh block under '## Try it' in README.md"; exit 1; }
fhir_block=$(block_after "## FHIR R4" docs/api.md)
[ -n "$fhir_block" ] || { say "no sh block under '## FHIR R4' in docs/api.md"; exit 1; }

source scripts/lib/live-server.sh
secret=ucp-development-secret-do-not-use-in-production
live_server_start ucp_readme --seed 20 UCP_JWT_SECRET="$secret"

out=$(mktemp); trap 'rm -f "$out"; live_server_stop' EXIT
for pass in 1 2; do
  say "pass $pass of the 'Try it' block against $UCP_BASE_URL"
  if ! API="$UCP_BASE_URL" bash -euo pipefail -c "$block" >"$out" 2>&1; then
    cat "$out" >&2
    say "the README's 'Try it' block failed on pass $pass (output above)"
    exit 1
  fi
  for expected in '^HTTP/1.1 201' '^Created plan [0-9a-f-]\{36\}$' '^412 on a stale If-Match$' \
    '"status":"voided"'; do
    grep -q -- "$expected" "$out" || { cat "$out" >&2; say "pass $pass: no line matching $expected"; exit 1; }
  done
done
# The FHIR block: each request must answer, and the answers must be what docs/api.md says.
say "the FHIR block against $UCP_BASE_URL"
if ! API="$UCP_BASE_URL" bash -euo pipefail -c "$fhir_block" >"$out" 2>&1; then
  cat "$out" >&2
  say "the README's FHIR block failed (output above)"
  exit 1
fi
for expected in '"resourceType":"CapabilityStatement"' '"total":1' '"resourceType":"Bundle"' \
  '"id":"[0-9a-f-]\{36\}-cpr"' '"system":"http://snomed.info/sct"'; do
  grep -q -- "$expected" "$out" || { cat "$out" >&2; say "FHIR block: no output matching $expected"; exit 1; }
done
say "ok: both passes ran as written, and the FHIR block"
