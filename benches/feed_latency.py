"""Follows the feed (long polls) while writes go on, and prints commit-to-consumer latency:
for each change, the time it arrived here minus the change's `at` (when its event was recorded,
just before its commit). Stops after BENCH_SECONDS; prints one JSON line. Standard library only."""

import http.client
import json
import os
import sys
import time
from datetime import datetime

host, port = os.environ["BENCH_API"].split(":")
token = os.environ["BENCH_TOKEN"]
seconds = float(os.environ.get("BENCH_SECONDS", "15"))
conn = http.client.HTTPConnection(host, int(port), timeout=30)


def get(path):
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    res = conn.getresponse()
    return res.status, json.loads(res.read() or b"null")


# Start at the head: the snapshot's cursor, then follow.
status, page = get("/v1/feed/snapshot?limit=1")
if status != 200:
    print(f"snapshot answered {status}", file=sys.stderr)
    sys.exit(1)
cursor = page["cursor"]

latencies = []
end = time.time() + seconds
while time.time() < end:
    status, page = get(f"/v1/feed?after={cursor}&limit=1000&waitSeconds=5")
    now = time.time()
    if status != 200:
        print(f"feed answered {status}", file=sys.stderr)
        sys.exit(1)
    for change in page.get("changes", []):
        at = datetime.fromisoformat(change["at"].replace("Z", "+00:00")).timestamp()
        latencies.append((now - at) * 1000)
    cursor = page.get("next", cursor)

latencies.sort()
def pct(p):
    return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else 0.0
print("BENCH " + json.dumps({"changes": len(latencies), "rps": len(latencies) / seconds,
                             "p50_ms": round(pct(50), 2), "p99_ms": round(pct(99), 2)}))
