"""Concurrent writers and readers against a live `ucp serve`, for scripts/fault-test.sh.

Writers create plans (with an Idempotency-Key, retried with the same key until answered) and
replace their What Matters section again and again (with the If-Match last acknowledged; after
an unknown outcome, the plan is read again). Readers read emergency summaries. Every answer is
recorded; the script stops when the file named by STOP_FILE appears, then writes a JSON report:

- acknowledged: every 2xx write with what it wrote (plan id, version, text), to be found later;
- violations: any 5xx other than 503, any 503 without Retry-After, any other surprise;
- outages: counts of 503s and connection failures (expected while the database restarts or the
  server is killed).

Only the standard library: it runs in the project's virtual environment or any python3.
"""

import http.client
import json
import os
import sys
import threading
import time
import uuid

BASE = os.environ["UCP_BASE_URL"].removeprefix("http://")
HOST, PORT = BASE.split(":")
CLINICIAN = os.environ["UCP_TOKEN_CLINICIAN"]
CREW = os.environ["UCP_TOKEN_AMBULANCE"]
STOP_FILE = os.environ["STOP_FILE"]
REPORT = os.environ["REPORT_FILE"]
WRITERS = int(os.environ.get("WRITERS", "4"))
READERS = int(os.environ.get("READERS", "2"))

lock = threading.Lock()
acknowledged = []   # {"kind", "planId", "version", "text", "nhs"}
violations = []
counts = {"ok": 0, "503": 0, "connection": 0, "412": 0, "other4xx": 0}


def nhs_number(n):
    """A valid NHS number from the 999 test range, the n-th with a check digit."""
    stem = 999_300_000 + n
    while True:
        digits = [int(c) for c in f"{stem:09d}"]
        total = sum(d * w for d, w in zip(digits, range(10, 1, -1)))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return f"{stem:09d}{check}", stem
        stem += 1


def call(method, path, token, body=None, headers=None):
    """(status, headers, json) or (None, None, None) when the connection failed."""
    conn = http.client.HTTPConnection(HOST, int(PORT), timeout=30)
    hdrs = {"Authorization": f"Bearer {token}", "X-Purpose-Of-Use": "emergency"}
    if body is not None:
        hdrs["Content-Type"] = "application/json"
    hdrs.update(headers or {})
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=hdrs)
        res = conn.getresponse()
        raw = res.read()
        data = json.loads(raw) if raw else None
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data
    except (OSError, http.client.HTTPException, json.JSONDecodeError):
        with lock:
            counts["connection"] += 1
        return None, None, None
    finally:
        conn.close()


def note(status, headers, what):
    with lock:
        if status is None:
            return
        if 200 <= status < 300 or status == 304:
            counts["ok"] += 1
        elif status == 503:
            counts["503"] += 1
            if "retry-after" not in headers:
                violations.append(f"{what}: 503 without Retry-After")
        elif status == 412:
            counts["412"] += 1
        elif 400 <= status < 500:
            counts["other4xx"] += 1
            violations.append(f"{what}: unexpected {status}")
        else:
            violations.append(f"{what}: {status}")


def stopping():
    return os.path.exists(STOP_FILE)


def writer(index):
    n = index * 100_000
    while not stopping():
        nhs, stem = nhs_number(n)
        n = stem - 999_300_000 + 1
        key = str(uuid.uuid4())
        text = f"writer {index} plan {nhs} v1"
        body = {
            "personalInformation": {"nhsNumber": nhs, "familyName": "Fault", "givenName": f"W{index}",
                                    "birthDate": "1950-01-01",
                                    "address": {"lines": ["1 Test Street"], "postcode": "SE1 7EH"}},
            "consentToShare": {"basis": "person-agreed", "date": "2026-11-01"},
            "whatMatters": {"inTheirOwnWords": text},
        }
        plan = None
        while plan is None and not stopping():
            status, headers, data = call("POST", "/v1/care-plans", CLINICIAN, body, {"Idempotency-Key": key})
            note(status, headers, f"create {nhs}")
            if status == 201:
                plan = data
                with lock:
                    acknowledged.append({"kind": "create", "planId": plan["id"], "nhs": nhs,
                                         "version": plan["sections"]["what-matters"]["version"],
                                         "text": text, "key": key})
            elif status is None or status == 503:
                time.sleep(0.2)
            else:
                break
        if plan is None:
            continue
        etag = plan["sections"]["what-matters"]["etag"]
        for v in range(2, 30):
            if stopping():
                break
            text = f"writer {index} plan {nhs} v{v}"
            status, headers, data = call("PUT", f"/v1/care-plans/{plan['id']}/sections/what-matters",
                                         CLINICIAN, {"inTheirOwnWords": text}, {"If-Match": etag})
            note(status, headers, f"put {plan['id']}")
            if status == 200:
                etag = data["etag"]
                with lock:
                    acknowledged.append({"kind": "put", "planId": plan["id"], "nhs": nhs,
                                         "version": data["version"], "text": text})
            else:
                if status is None or status == 503:
                    time.sleep(0.2)
                # The outcome is unknown (or stale): read the section as it is, and go on.
                while not stopping():
                    s2, h2, d2 = call("GET", f"/v1/care-plans/{plan['id']}/sections/what-matters", CLINICIAN)
                    note(s2, h2, f"get section {plan['id']}")
                    if s2 == 200:
                        etag = d2["etag"]
                        break
                    time.sleep(0.2)


def reader(index):
    while not stopping():
        with lock:
            known = [a["nhs"] for a in acknowledged[-50:]]
        if not known:
            time.sleep(0.05)
            continue
        for nhs in known[:10]:
            status, headers, data = call("GET", f"/v1/patients/{nhs}/emergency-summary", CREW)
            note(status, headers, f"summary {nhs}")
            if status is None or status == 503:
                time.sleep(0.1)


threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
threads += [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(REPORT, "w") as f:
    json.dump({"acknowledged": acknowledged, "violations": violations, "counts": counts}, f)
print(json.dumps(counts), file=sys.stderr)
