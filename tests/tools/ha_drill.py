"""The HA drill (`make test-ha`): a live `ucp serve` on the pg_auto_failover cluster of
scripts/ha.sh, under concurrent writers, readers and a feed follower, while the primary is
SIGKILLed, the old primary rejoins and is switched back to primary, and the standby is
restarted. Then it checks, against the new primary's log and read models:

- zero acknowledged writes lost: every 2xx write is in the log and in the read model;
- zero writes applied twice: each write is retried with its Idempotency-Key until it is
  acknowledged, and each lands once;
- no read that presented its write's UCP-Consistency token saw an older plan;
- the feed, followed across the failover by one reader that keeps its cursor, has every event of
  the log exactly once, each plan in version order;
- every request was answered within 10 s (no hang), and every 503 carried Retry-After;

and prints the failover time (from the kill to the first acknowledged write), the switchover's
write gap, and the counts. Exits 1 when any check fails.

    python3 ha_drill.py BASE_URL CLINICIAN_TOKEN DISPATCH_TOKEN HA_SCRIPT DATABASE_URL

Standard library only. Every wait has a deadline."""

import json
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

BASE, CLINICIAN, DISPATCH, HA, DB = sys.argv[1:6]
WRITERS, READERS = 4, 2
lock = threading.Lock()
stop = threading.Event()
acked = []            # (at, kind, plan_id, version, key, token)
statuses = {}         # status -> count, for every answer seen
ryw = {"checks": 0, "violations": [], "replica": 0, "primary": 0}
feed = {"events": [], "errors": 0}
failures = []
unknown = [0]         # updates whose answer was lost, and whose retry met their own change


def count(status):
    with lock:
        statuses[status] = statuses.get(status, 0) + 1


def call(method, path, token, body=None, headers=None, timeout=10):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + token)
    # Professionals state why they read (the service refuses a read without it).
    req.add_header("X-Purpose-Of-Use", "direct-care")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            count(res.status)
            return res.status, dict(res.headers), json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        count(e.code)
        if e.code == 503 and not e.headers.get("Retry-After"):
            count("503 without Retry-After")
        return e.code, dict(e.headers), None
    except Exception:  # connection refused, reset, timed out: the server or its database went away
        count("no answer")
        return None, {}, None


def nhs_numbers(seed):
    stem = 999_500_000 + seed * 100_000
    while True:
        digits = str(stem)
        total = sum(int(digits[i]) * (10 - i) for i in range(9))
        check = 11 - total % 11
        check = 0 if check == 11 else check
        if check != 10:
            yield digits + str(check)
        stem += 1


def until_acked(method, path, body, headers, deadline_s=120, settled=()):
    """The same request (the same Idempotency-Key, or the same If-Match) until it is
    acknowledged; None at the deadline, or when it answers one of `settled` (a retried update
    whose lost first attempt went through meets its own change: 412)."""
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        started = time.time()
        status, h, doc = call(method, path, CLINICIAN, body, headers)
        if status is not None and 200 <= status < 300:
            h["started"] = started
            return h, doc
        if status in settled:
            with lock:
                unknown[0] += 1
            return None
        if status is not None and status not in (408, 429, 500, 502, 503, 504):
            failures.append(f"{method} {path}: {status} is not an answer to retry")
            return None
        time.sleep(0.05)
    failures.append(f"{method} {path}: not acknowledged within {deadline_s} s")
    return None


def writer(n):
    numbers = nhs_numbers(n)
    while not stop.is_set():
        nhs = next(numbers)
        key = str(uuid.uuid4())
        body = {
            "personalInformation": {"nhsNumber": nhs, "familyName": "Drill", "givenName": f"W{n}",
                                    "birthDate": "1950-01-01",
                                    "address": {"lines": ["1 Drill Road"], "postcode": "SE1 7EH"}},
            "consentToShare": {"basis": "person-agreed", "date": "2026-11-01"},
        }
        got = until_acked("POST", "/v1/care-plans", body, {"Idempotency-Key": key})
        if got is None:
            continue
        h, doc = got
        plan, version = doc["id"], doc["version"]
        with lock:
            acked.append((time.time(), "create", plan, version, key, h.get("ucp-consistency") or h.get("UCP-Consistency"), h["started"]))
        for i in range(2):
            if stop.is_set():
                break
            key = str(uuid.uuid4())
            # Updates are made safe to retry by If-Match: a second attempt of a write that went
            # through is refused (412), never applied again. Each text is unique, so a write
            # applied twice would show as two events with the same words.
            got = until_acked("PUT", f"/v1/care-plans/{plan}/sections/what-matters",
                              {"inTheirOwnWords": f"Update {i} by writer {n}: {key}."},
                              {"If-Match": f'"plan.{version}"'}, settled=(412,))
            if got is None:
                break
            h, doc = got
            version = int(str(doc.get("version", version + 1)))
            with lock:
                acked.append((time.time(), "update", plan, version, key, h.get("ucp-consistency") or h.get("UCP-Consistency"), h["started"]))


def reader():
    while not stop.is_set():
        with lock:
            pick = random.choice(acked) if acked else None
        if pick is None or not pick[5]:
            time.sleep(0.05)
            continue
        _, _, plan, version, _, token, _ = pick
        status, h, doc = call("GET", f"/v1/care-plans/{plan}", CLINICIAN, headers={"UCP-Consistency": token})
        if status == 200:
            with lock:
                ryw["checks"] += 1
                served = (h.get("ucp-read-from") or h.get("UCP-Read-From") or "primary")
                ryw[served] = ryw.get(served, 0) + 1
                if doc["version"] < version:
                    ryw["violations"].append((plan, version, doc["version"], served))
        time.sleep(0.01)


def follower():
    cursor = ""
    while not stop.is_set() or time.time() < follow_until[0]:
        status, _, page = call("GET", f"/v1/feed?after={cursor}&limit=200&waitSeconds=1", DISPATCH, timeout=15)
        if status != 200:
            with lock:
                feed["errors"] += 1
            time.sleep(0.1)
            continue
        for c in page["changes"]:
            feed["events"].append((c["planId"], c["planVersion"], c["changeId"]))
        cursor = page["next"]


follow_until = [float("inf")]


def ha(*args):
    out = subprocess.run([HA, *args], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        failures.append(f"ha.sh {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout.strip()


def first_ack_after(t):
    """Seconds from `t` to the first acknowledgement of a request sent after `t` (a request
    already in flight at `t` may have committed before it)."""
    with lock:
        later = [a[0] for a in acked if a[6] > t]
    return min(later) - t if later else None


def longest_pause(start, end):
    """The longest time without an acknowledged write between `start` and `end`."""
    with lock:
        times = sorted(a[0] for a in acked if start <= a[0] <= end)
    points = [start] + times + [end]
    return max(b - a for a, b in zip(points, points[1:]))


def wait_for_ack_after(t, deadline_s=120):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        gap = first_ack_after(t)
        if gap is not None:
            return gap
        time.sleep(0.05)
    failures.append(f"no write acknowledged within {deadline_s} s")
    return None


threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
threads += [threading.Thread(target=reader) for _ in range(READERS)]
follow = threading.Thread(target=follower)
for t in threads + [follow]:
    t.start()

figures = {}
time.sleep(5)
primary = ha("primary")
print(f"ha-drill: {len(acked)} writes acknowledged; killing the primary, {primary}, with SIGKILL", flush=True)
# The clock starts once the kill has been delivered and every process of the old primary is
# gone (ha.sh kill returns only then, and fails if one outlives it): a write acknowledged
# before this could have been the old primary's.
ha("kill", primary)
t_kill = time.time()
if failures:
    print(f"ha-drill: the old primary did not die: {failures[-1]}", flush=True)
figures["failover"] = wait_for_ack_after(t_kill)
print(f"ha-drill: failover: first acknowledged write {figures['failover']:.2f} s after the kill" if figures["failover"] else "ha-drill: no failover", flush=True)
time.sleep(5)
ha("start", primary)
ha("wait", "primary", "secondary")
print(f"ha-drill: {primary} rejoined as the standby; switching over back to it", flush=True)
t_switch = time.time()
ha("switchover")
ha("wait", "primary", "secondary")
time.sleep(3)
figures["switchover"] = longest_pause(t_switch, time.time())
standby = "node2" if ha("primary") == "node1" else "node1"
print(f"ha-drill: restarting the standby, {standby}", flush=True)
ha("stop", standby)
time.sleep(2)
ha("start", standby)
ha("wait", "primary", "secondary")
time.sleep(5)
stop.set()
for t in threads:
    t.join(timeout=180)

# The follower reads to the end of the log as it now stands.
log_count = int(subprocess.run(["psql", "-X", "-At", DB, "-c", "SELECT count(*) FROM events"],
                               capture_output=True, text=True, timeout=60).stdout.strip() or 0)
follow_until[0] = time.time() + 60
while len(feed["events"]) < log_count and time.time() < follow_until[0]:
    time.sleep(0.2)
follow_until[0] = 0
follow.join(timeout=30)


def sql(query):
    out = subprocess.run(["psql", "-X", "-At", "-F", "|", DB, "-c", query], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        failures.append(f"psql: {out.stderr.strip()}")
    return [line.split("|") for line in out.stdout.splitlines() if line]


# Every acknowledged write is in the log and the read model.
events = {(r[0], int(r[1])) for r in sql("SELECT stream_id, stream_version FROM events")}
views = {r[0]: int(r[1]) for r in sql("SELECT plan_id, version FROM care_plan_view")}
lost = [(a[2], a[3]) for a in acked if (a[2], a[3]) not in events or views.get(a[2], 0) < a[3]]
# Each acknowledged write landed once: one plan per NHS number, one What Matters event per
# acknowledged update.
twice = sql("SELECT nhs_number, count(*) FROM care_plan_view GROUP BY 1 HAVING count(*) > 1")
extra = sql("SELECT stream_id, data->>'inTheirOwnWords', count(*) FROM events "
            "WHERE event_type = 'WhatMattersUpdated' GROUP BY 1, 2 HAVING count(*) > 1")
# The feed: every event of the log exactly once, each plan in version order.
seen = [(p, v) for p, v, _ in feed["events"]]
dups = len(seen) - len(set(seen))
missing = events - set(seen)
order_ok = True
last = {}
for p, v in seen:
    if v <= last.get(p, 0):
        order_ok = False
    last[p] = v

print(f"ha-drill: {len(acked)} writes acknowledged ({sum(1 for a in acked if a[1] == 'create')} creates, "
      f"{sum(1 for a in acked if a[1] == 'update')} updates; {unknown[0]} updates whose answer was lost "
      f"met their own change on retry); answers seen: "
      + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=lambda kv: str(kv[0]))))
print(f"ha-drill: failover {figures.get('failover') or float('nan'):.2f} s (kill to first acknowledged write); "
      f"switchover: longest pause in acknowledged writes {figures.get('switchover') or float('nan'):.2f} s")
print(f"ha-drill: lost {len(lost)}, applied twice {len(twice) + len(extra)}, read-your-writes checks {ryw['checks']} "
      f"({ryw.get('replica', 0)} from the replica) with {len(ryw['violations'])} violations; "
      f"feed: {len(seen)} events for {len(events)} in the log, {dups} repeated, {len(missing)} missing, "
      f"order {'kept' if order_ok else 'BROKEN'}, {feed['errors']} failed polls")
if lost:
    failures.append(f"acknowledged writes lost: {lost[:10]}")
if twice or extra:
    failures.append(f"writes applied twice: {twice[:5]} {extra[:5]}")
if ryw["violations"]:
    failures.append(f"read-your-writes violated: {ryw['violations'][:5]}")
if dups or missing or not order_ok:
    failures.append("the feed was not gapless and ordered for the follower")
if statuses.get("503 without Retry-After"):
    failures.append(f"{statuses['503 without Retry-After']} answers 503 came without Retry-After")
if statuses.get("no answer"):
    failures.append(f"{statuses['no answer']} requests got no answer within 10 s (a hang or a reset)")
if len(acked) < 50:
    failures.append(f"only {len(acked)} writes were acknowledged")
for f in failures:
    print("  FAIL " + f)
sys.exit(1 if failures else 0)
