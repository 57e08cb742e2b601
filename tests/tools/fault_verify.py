"""Checks a fault run's report against the service after recovery (scripts/fault-test.sh):
every acknowledged write is in the log and the read models, and nothing was applied twice."""

import http.client
import json
import os
import sys

BASE = os.environ["UCP_BASE_URL"].removeprefix("http://")
HOST, PORT = BASE.split(":")
TOKEN = os.environ["UCP_TOKEN_CLINICIAN"]
report = json.load(open(os.environ["REPORT_FILE"]))


def get(path):
    conn = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}", "X-Purpose-Of-Use": "audit"})
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res.status, (json.loads(body) if body else None)


problems = list(report["violations"])
created = {}
for write in report["acknowledged"]:
    plan_id, version, text = write["planId"], write["version"], write["text"]
    status, plan = get(f"/v1/care-plans/{plan_id}?version={version}")
    if status != 200:
        problems.append(f"acknowledged {write['kind']} of {plan_id} v{version}: read back {status}")
        continue
    held = plan["sections"].get("what-matters", {}).get("content", {}).get("inTheirOwnWords")
    if held != text:
        problems.append(f"acknowledged {write['kind']} of {plan_id} v{version}: holds {held!r}, not {text!r}")
    if write["kind"] == "create":
        created.setdefault(write["nhs"], set()).add(plan_id)

# One plan per person: a retried create (same Idempotency-Key) never made a second.
for nhs, ids in created.items():
    status, plan = get(f"/v1/patients/{nhs}/care-plan")
    if status != 200 or plan["id"] not in ids or len(ids) != 1:
        problems.append(f"{nhs}: plans {sorted(ids)}, current {status} {plan and plan.get('id')}")

# Each version of a plan was written once: the history has no version twice.
for ids in created.values():
    for plan_id in ids:
        status, history = get(f"/v1/care-plans/{plan_id}/history")
        versions = [entry["version"] for entry in (history or [])]
        if status != 200 or len(versions) != len(set(versions)):
            problems.append(f"{plan_id}: history {status} with versions {versions}")

acks = len(report["acknowledged"])
print(f"fault-verify: {acks} acknowledged writes checked, {len(created)} plans, "
      f"counts {json.dumps(report['counts'])}", file=sys.stderr)
for p in problems[:50]:
    print(f"fault-verify: {p}", file=sys.stderr)
if acks < 20:
    problems.append(f"only {acks} acknowledged writes: the load did not run")
sys.exit(1 if problems else 0)
