#!/usr/bin/env bash
# schemathesis (PyPI, pinned in tests/tools/requirements.txt) against a live `ucp serve` on a
# fresh database with demo data, with every check, as a clinician, an admin and a patient
# (between them they may call every operation). Exits non-zero on any failure.
#
#   scripts/schemathesis.sh            bounded pass for `make test` (SCHEMATHESIS_EXAMPLES per
#                                      operation, default 25)
#   scripts/schemathesis.sh --long     `make fuzz-api`: SCHEMATHESIS_MAX_TIME seconds per role
#                                      (default 900), every phase, fuzzing repeated until spent
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'schemathesis: %s\n' "$*" >&2; }

bin=$(scripts/python-tools.sh)
source scripts/lib/live-server.sh
export UCP_JWT_SECRET=schemathesis-secret-0123456789
# The rate limit is tested on its own (tests/api/limits.rs); here it would only answer 429 to a
# fuzzer that sends thousands of requests a minute with one token.
live_server_start ucp_schemathesis --seed 20 UCP_RATE_LIMIT=0 UCP_RATE_LIMIT_ANONYMOUS=0 UCP_WEBHOOK_ALLOW_HTTP=false

report=${CARGO_TARGET_DIR:-$root/target}/schemathesis
mkdir -p "$report"
args=(--checks all --workers 1 --seed "${SCHEMATHESIS_SEED:-20261126}" --generation-database none
  --request-timeout 20 --no-color --warnings off)
if [ "${1:-}" = "--long" ]; then
  args+=(--max-time "${SCHEMATHESIS_MAX_TIME:-900}" --max-examples 500)
else
  args+=(--max-examples "${SCHEMATHESIS_EXAMPLES:-25}")
fi

# One worker per role: CPython 3.11 can fail compiling code in two threads at once ("AST
# constructor recursion depth mismatch", seen inside schemathesis and anyio with --workers 2).
# The roles run side by side (schemathesis is mostly single-threaded Python); each one's
# output is printed whole when it ends.
pids=()
# Each role where it can do something: the clinician everything but the admin's and the
# person's operations (where it would meet only 403), the admin those and the feed, worklists and
# probes, a patient their own plan, a care home its residents (the demo's Rosewood Care Home),
# a privacy officer the alerts (the demo day's) and the access log.
roles=(clinician admin patient care-home privacy-officer)
for role in "${roles[@]}"; do
  case $role in
    clinician)
      token=$("$ucp" token --role clinician --org F84001 --name "Schemathesis clinician" --ttl 2h)
      scope=(--exclude-tag-regex '^(subscriptions|audit|me)$') ;;
    admin)
      token=$("$ucp" token --role admin --name "Schemathesis admin" --ttl 2h)
      scope=(--include-tag-regex '^(subscriptions|audit|feed|worklists|operations|nrl|notifications)$') ;;
    patient) # a demo person with a plan
      token=$("$ucp" token --role patient --nhs-number 9990000018 --ttl 2h)
      scope=(--include-tag-regex '^me$') ;;
    care-home) # the demo care home, with residents
      token=$("$ucp" token --role care-home --org VM1A2 --org-name "Rosewood Care Home" \
        --name "Schemathesis carer" --ttl 2h)
      scope=(--include-tag-regex '^(care-homes|patients|care-plans)$') ;;
    privacy-officer)
      token=$("$ucp" token --role privacy-officer --org F84001 --name "Schemathesis privacy officer" --ttl 2h)
      scope=(--include-tag-regex '^(privacy|audit)$') ;;
  esac
  say "as $role against $UCP_BASE_URL"
  "$bin/schemathesis" --config-file tests/tools/schemathesis.toml run \
    "$UCP_BASE_URL/openapi.json" "${args[@]}" "${scope[@]}" \
    -H "Authorization: Bearer $token" -H "X-Purpose-Of-Use: direct-care" \
    --report junit --report-junit-path "$report/$role.junit.xml" >"$report/$role.log" 2>&1 &
  pids+=("$!")
done
status=0
for i in "${!roles[@]}"; do
  role=${roles[$i]}
  if wait "${pids[$i]}"; then
    tail -n 3 "$report/$role.log" >&2
  else
    cat "$report/$role.log" >&2
    status=1
    say "failures as $role (report: $report/$role.junit.xml)"
  fi
done
exit $status
