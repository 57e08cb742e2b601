#!/usr/bin/env bash
# The TypeScript SDK's checks and tests, against a real `ucp serve` on a fresh database:
# the generated code is what the checked-in OpenAPI document makes, it type-checks (strict),
# and its tests pass. Installs Node.js and npm (Debian's) as root when they are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'sdk-test: %s\n' "$*" >&2; }

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq nodejs npm >&2
  else
    say "Node.js and npm are needed (Debian: apt-get install nodejs npm)"
    exit 1
  fi
fi

source scripts/lib/live-server.sh
export UCP_JWT_SECRET=sdk-test-secret-0123456789
live_server_start ucp_sdk UCP_WEBHOOK_ALLOW_HTTP=true UCP_WEBHOOK_ALLOW=127.0.0.1

export UCP_PATIENT_NHS=9434765919
token() { "$ucp" token --ttl 1h "$@"; }
export UCP_TOKEN_CLINICIAN=$(token --role clinician --org F84001 --name "SDK Clinician")
export UCP_TOKEN_AMBULANCE=$(token --role ambulance --org RRU --name "SDK Crew")
export UCP_TOKEN_DISPATCH=$(token --role dispatch --org RRU)
export UCP_TOKEN_ADMIN=$(token --role admin --name "SDK Admin")
export UCP_TOKEN_PATIENT=$(token --role patient --nhs-number "$UCP_PATIENT_NHS")
export UCP_TOKEN_CARE_HOME=$(token --role care-home --org VM1A2 --org-name "SDK Care Home" --name "SDK Carer")
export UCP_TOKEN_PRIVACY_OFFICER=$(token --role privacy-officer --org F84001 --name "SDK Privacy Officer")

cd sdk/typescript
npm ci --no-audit --no-fund --loglevel=error
npm run --silent lint-openapi
npm run --silent check-generated
npm run --silent typecheck
npm test
