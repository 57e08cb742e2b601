"""make bench's Python eventsourcing peer (eventsourcing 9.5.6 with psycopg 3, pinned in
requirements.txt): the same two operations as the Emmett peer, on the same PostgreSQL.

  append: one 2 KB event to a stream (an aggregate's sequence) of its own per client, the
          version checked by the recorder's unique key, 8 clients
  read:   a whole 10-event stream, 32 clients, streams chosen at random

The library's application recorder is used: like the service's log, it numbers every event in
one global sequence. The clients are threads spread over one process per core, as a Python
service would be deployed (32 threads in one process spend their time waiting for the
interpreter's lock: a fifth of what one thread alone reads). Prints one JSON object like the
Emmett peer's; latencies in ms.

  python bench.py DATABASE_URL SECONDS WARMUP
"""

import json
import multiprocessing
import os
import random
import sys
import threading
import time
import uuid
from urllib.parse import unquote, urlparse

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

READ_STREAMS = 1000
STATE = json.dumps({"text": "x" * 2000}).encode()
TOPIC = "ucp_bench:SectionUpdated"


def datastore(url: str, pool_size: int) -> PostgresDatastore:
    u = urlparse(url)
    return PostgresDatastore(
        dbname=u.path.lstrip("/"),
        host=u.hostname or "127.0.0.1",
        port=u.port or 5432,
        user=unquote(u.username or "postgres"),
        password=unquote(u.password or ""),
        pool_size=pool_size,
    )


def percentile(sorted_values: list[float], p: int) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, len(sorted_values) * p // 100)]


def run_clients(url, kind, clients, first_client, streams, start, seconds, warmup, out):
    """One process: `clients` threads, each doing `kind` until the deadline; puts its
    latencies (after the warm-up) and its errors on `out`."""
    store = datastore(url, clients)
    recorder = PostgresApplicationRecorder(store)
    measure_from = start + warmup
    end = measure_from + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop(client: int) -> None:
        mine: list[float] = []
        version = 0
        stream = uuid.uuid5(uuid.NAMESPACE_OID, f"{start}-{client}")
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                break
            try:
                if kind == "append":
                    recorder.insert_events([StoredEvent(stream, version + 1, TOPIC, STATE)])
                    version += 1
                else:
                    events = recorder.select_events(random.choice(streams))
                    if len(events) != 10:
                        raise RuntimeError(f"read {len(events)} events of 10")
            except Exception as e:  # noqa: BLE001 - counted and reported, as the Emmett peer does
                # Counted, and not timed: a peer that failed fast must not look fast.
                with lock:
                    if t0 >= measure_from:
                        errors[0] += 1
                    if errors[0] <= 1:
                        print(f"eventsourcing peer: {e!r}", file=sys.stderr)
                if kind == "append":
                    # The next try appends after the version the stream is really at.
                    version = len(recorder.select_events(stream))
                continue
            if t0 >= measure_from:
                mine.append((time.perf_counter() - t0) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [
        threading.Thread(target=loop, args=(first_client + c,)) for c in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    out.put((latencies, errors[0]))


def drive(url, kind, clients, streams, seconds, warmup) -> dict:
    processes = max(1, min(os.cpu_count() or 1, clients))
    out = multiprocessing.Queue()
    start = time.perf_counter()
    workers = []
    for p in range(processes):
        share = clients // processes + (1 if p < clients % processes else 0)
        first = sum(clients // processes + (1 if q < clients % processes else 0) for q in range(p))
        w = multiprocessing.Process(
            target=run_clients,
            args=(url, kind, share, first, streams, start, seconds, warmup, out),
        )
        w.start()
        workers.append(w)
    latencies: list[float] = []
    errors = 0
    for _ in workers:
        # Bounded: a client process that died before it reported must not hang the bench.
        mine, failed = out.get(timeout=seconds + warmup + 60)
        latencies.extend(mine)
        errors += failed
    for w in workers:
        w.join(timeout=60)
        if w.exitcode != 0:
            raise RuntimeError(f"a client process ended with {w.exitcode}")
    latencies.sort()
    return {
        "ops": len(latencies) / seconds,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "errors": errors,
    }


def main() -> None:
    url, seconds, warmup = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    multiprocessing.set_start_method("fork")
    store = datastore(url, 1)
    recorder = PostgresApplicationRecorder(store)
    recorder.create_table()
    readable = [uuid.uuid4() for _ in range(READ_STREAMS)]
    for stream in readable:
        recorder.insert_events([StoredEvent(stream, v, TOPIC, STATE) for v in range(1, 11)])
    store.close()

    appended = drive(url, "append", 8, readable, seconds, warmup)
    read = drive(url, "read", 32, readable, seconds, warmup)
    print(json.dumps({"append": appended, "read": read}))


if __name__ == "__main__":
    main()
