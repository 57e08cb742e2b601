"""make bench's Python eventsourcing peer (eventsourcing 9.5.6 with psycopg 3, pinned in
requirements.txt): the same two operations as the Emmett peer, on the same PostgreSQL.

  append: one 2 KB event to a stream (an aggregate's sequence) of its own per client, the
          version checked by the recorder's unique key, 8 clients (threads)
  read:   a whole 10-event stream, 32 clients (threads), streams chosen at random

The library's application recorder is used: like the service's log, it numbers every event in
one global sequence. Prints one JSON object like the Emmett peer's; latencies in ms.

  python bench.py DATABASE_URL SECONDS WARMUP
"""

import json
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


def drive(clients: int, op, seconds: float, warmup: float) -> dict:
    start = time.perf_counter()
    measure_from = start + warmup
    end = measure_from + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop(client: int) -> None:
        mine: list[float] = []
        while True:
            t0 = time.perf_counter()
            if t0 >= end:
                break
            try:
                op(client)
            except Exception as e:  # noqa: BLE001 - counted and reported, as the Emmett peer does
                with lock:
                    errors[0] += 1
                    if errors[0] == 1:
                        print(f"eventsourcing peer: {e!r}", file=sys.stderr)
            t1 = time.perf_counter()
            if t0 >= measure_from:
                mine.append((t1 - t0) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=loop, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {
        "ops": len(latencies) / seconds,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "errors": errors[0],
    }


def main() -> None:
    url, seconds, warmup = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    store = datastore(url, 32)
    recorder = PostgresApplicationRecorder(store)
    recorder.create_table()

    streams = [uuid.uuid4() for _ in range(8)]
    versions = [0] * 8

    def append(client: int) -> None:
        versions[client] += 1
        recorder.insert_events(
            [StoredEvent(streams[client], versions[client], TOPIC, STATE)]
        )

    appended = drive(8, append, seconds, warmup)

    readable = [uuid.uuid4() for _ in range(READ_STREAMS)]
    for stream in readable:
        recorder.insert_events(
            [StoredEvent(stream, v, TOPIC, STATE) for v in range(1, 11)]
        )

    def read(_: int) -> None:
        events = recorder.select_events(random.choice(readable))
        if len(events) != 10:
            raise RuntimeError(f"read {len(events)} events of 10")

    read_result = drive(32, read, seconds, warmup)
    store.close()
    print(json.dumps({"append": appended, "read": read_result}))


if __name__ == "__main__":
    main()
