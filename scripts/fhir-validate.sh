#!/usr/bin/env bash
# Every FHIR resource the facade serves for the demo people, validated with an independent FHIR
# library (fhir.resources from PyPI, its R4B models; pinned in tests/tools/requirements.txt) and
# checked against the UK Core rules the service promises (tests/tools/fhir_validate.py), against
# a live `ucp serve` on a fresh database with demo data. Exits non-zero on any error.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$(scripts/python-tools.sh)
source scripts/lib/live-server.sh
export UCP_JWT_SECRET=fhir-validate-secret-0123456789
live_server_start ucp_fhir_validate --seed 20 UCP_RATE_LIMIT=0 UCP_RATE_LIMIT_ANONYMOUS=0
token=$("$ucp" token --role clinician --org F84001 --name "FHIR validator" --ttl 1h)
"$bin/python" tests/tools/fhir_validate.py "$UCP_BASE_URL" "$token"
