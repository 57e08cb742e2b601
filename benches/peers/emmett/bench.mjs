// make bench's Emmett peer (@event-driven-io/emmett-postgresql, pinned in package.json): the
// same two operations the issue compares, on the same PostgreSQL, in the same run.
//   append: one 2 KB event to a stream of its own per client, with the expected version
//           checked (as the service's If-Match does), 8 clients
//   read:   a whole 10-event stream (2 KB events), 32 clients, streams chosen at random
// Prints one JSON object: {"append": {ops, p50, p99, errors}, "read": {...}}, latencies in ms.
//
//   node bench.mjs DATABASE_URL SECONDS WARMUP
import pg from 'pg';
import { getPostgreSQLEventStore } from '@event-driven-io/emmett-postgresql';

const [url, secondsArg, warmupArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: node bench.mjs DATABASE_URL SECONDS WARMUP');
  process.exit(2);
}
const seconds = Number(secondsArg ?? 15);
const warmup = Number(warmupArg ?? 3);
const run = `${process.pid}-${Date.now()}`;
const payload = { text: 'x'.repeat(2000) };
const READ_STREAMS = 1000;

const pool = new pg.Pool({ connectionString: url, max: 32 });
const store = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
await store.schema.migrate();

const percentile = (sorted, p) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

// `clients` loops, each calling `op(client)` until the deadline; latencies after the warm-up.
async function drive(clients, op) {
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  const latencies = [];
  let errors = 0;
  let reported = false;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (;;) {
        const t0 = performance.now();
        if (t0 >= end) return;
        try {
          await op(client);
        } catch (e) {
          // Counted, and not timed: a peer that failed fast must not look fast.
          if (t0 >= measureFrom) errors += 1;
          if (!reported) console.error(`emmett peer: ${e}`);
          reported = true;
          continue;
        }
        const t1 = performance.now();
        if (t0 >= measureFrom) latencies.push(t1 - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
  };
}

const versions = new Map();
const append = await drive(8, async (client) => {
  const stream = `append-${run}-${client}`;
  const expected = versions.get(stream) ?? 0n;
  try {
    const result = await store.appendToStream(
      stream,
      [{ type: 'SectionUpdated', data: payload }],
      { expectedStreamVersion: expected === 0n ? 'STREAM_DOES_NOT_EXIST' : expected },
    );
    versions.set(stream, result.nextExpectedStreamVersion);
  } catch (e) {
    // The next try expects the version the stream is really at.
    const read = await store.readStream(stream);
    versions.set(stream, read.currentStreamVersion ?? 0n);
    throw e;
  }
});

for (let i = 0; i < READ_STREAMS; i += 1) {
  await store.appendToStream(
    `read-${run}-${i}`,
    Array.from({ length: 10 }, (_, n) => ({ type: 'SectionUpdated', data: { n, ...payload } })),
  );
}
const read = await drive(32, async () => {
  const stream = `read-${run}-${Math.floor(Math.random() * READ_STREAMS)}`;
  const result = await store.readStream(stream);
  if (result.events.length !== 10) throw new Error(`read ${result.events.length} events of 10`);
});

await store.close();
await pool.end().catch(() => {});
console.log(JSON.stringify({ append, read }));
