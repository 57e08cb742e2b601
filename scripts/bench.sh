#!/usr/bin/env bash
# `make bench`: the service's throughput and latency against floors measured in the same run,
# on a database of its own, in release mode, with wrk as the load generator. Prints one table
# (scenario, ops/s, p50, p99, baseline, ratio, target) and writes it as JSON to
# target/bench/results.json.
#
#   BENCH_PLANS (10000)     synthetic plans loaded first (BENCH_PLANS=1000000 for the scale run)
#   BENCH_SECONDS (15)      measured seconds per scenario, after BENCH_WARMUP (3) seconds
#   BENCH_UCP               another `ucp` binary to serve and rebuild (a before/after
#                           comparison); the data is always loaded by this tree's bulk loader,
#                           so the other binary must know the same migrations (a server refuses
#                           a schema it was not built for)
#   BENCH_PEERS (1)         0 skips the peers (scripts/bench-peers.sh: Emmett and Python
#                           eventsourcing on the same PostgreSQL, installed under .local/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf 'bench: %s\n' "$*" >&2; }
plans=${BENCH_PLANS:-10000}
seconds=${BENCH_SECONDS:-15}
warmup=${BENCH_WARMUP:-3}

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's wrk"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2 ||
      { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2; }
  else
    say "wrk is needed (Debian: apt-get install wrk)"; exit 1
  fi
fi
admin_url=$(scripts/dev-db.sh)
source "$root/scripts/lib/pg-bin.sh"
bindir=$(pg_bindir pgbench || true)
[ -n "$bindir" ] || { say "pgbench not found"; exit 1; }

say "building in release mode"
target=${CARGO_TARGET_DIR:-$root/target}
# Two builds: a --bin filter would apply to both packages and leave the floor unbuilt.
cargo build --release --quiet -p ucp --bin ucp
cargo build --release --quiet -p ucp-read-floor
loader=$target/release/ucp
ucp=${BENCH_UCP:-$target/release/ucp}
floor=$target/release/ucp-read-floor
out=$target/bench
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/ucp-bench.XXXXXX")

db="ucp_bench_$$"
db_url=$(printf '%s' "$admin_url" | sed -E "s#/[^/?]+(\?|$)#/$db\1#")
psql_db() { psql -X -q -tA "$db_url" -v ON_ERROR_STOP=1 "$@"; }
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
psql -X -q "$admin_url" -c "CREATE DATABASE \"$db\"" >/dev/null
export DATABASE_URL=$db_url
"$ucp" migrate >/dev/null 2>&1

say "loading $plans plans (bulk: events copied into the log, then the read models rebuilt)"
t0=$(date +%s%N)
"$loader" seed --demo --bulk --count "$plans" >/dev/null
load_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
events=$(psql_db -c "SELECT count(*) FROM events")
say "loaded $plans plans ($events events) in $((load_ms / 1000)) s"

# What the scenarios ask for, from what was loaded.
# Plans a crew is shown: active, and still shared (consent withdrawn answers 410).
psql_db -c "SELECT nhs_number FROM emergency_summary WHERE status = 'active'
  AND summary->>'consentWithdrawn' IS NULL ORDER BY random() LIMIT 5000" >"$work/nhs.txt"
psql_db -c "SELECT plan_id FROM care_plan_view WHERE status = 'active' ORDER BY random() LIMIT 5000" >"$work/plans.txt"
psql_db -c "SELECT 'family=' || family_folded || '&birthDate=' || birth_date || '&postcode=' || replace(postcode, ' ', '%20')
  FROM patient_index WHERE status = 'active' AND family_folded ~ '^[a-z]+$' ORDER BY random() LIMIT 2000" >"$work/search.txt"
# The largest plan, by its stored document: the one that takes longest to print.
psql_db -c "SELECT plan_id FROM care_plan_view WHERE status = 'active' ORDER BY octet_length(document::text) DESC LIMIT 1" >"$work/largest.txt"
psql_db -c "SELECT plan_id || ' ' || (document #>> '{sections,what-matters,etag}') FROM care_plan_view
  WHERE status = 'active' AND document #> '{sections,what-matters}' IS NOT NULL ORDER BY random() LIMIT 8" >"$work/updates.txt"

source "$root/scripts/lib/free-port.sh"
export UCP_JWT_SECRET=bench-secret-0123456789abcdef
api_port=$(free_port); floor_port=$(free_port)
# The privacy alerts scan the access log as the bench writes it, as in production. One bench
# token stands for a whole service's readers (one "crew" reads thousands of people a minute), so
# the hourly bulk-read thresholds, which are per actor, are off here for the roles the bench
# reads as; every other rule applies, and the bench's traffic must raise no alert at all.
UCP_ALERTS_BULK_READS=ambulance=0,clinician=0 \
UCP_LISTEN="127.0.0.1:$api_port" UCP_RATE_LIMIT=0 UCP_RATE_LIMIT_ANONYMOUS=0 RUST_LOG=warn "$ucp" serve >"$work/serve.log" 2>&1 &
api_pid=$!; pids+=("$api_pid")
"$floor" "$db_url" "127.0.0.1:$floor_port" 16 >"$work/floor.log" 2>&1 &
pids+=("$!")
for url in "http://127.0.0.1:$api_port/readyz" "http://127.0.0.1:$floor_port/summary/0"; do
  deadline=$((SECONDS + 30))
  until curl -s -o /dev/null "$url"; do
    [ $SECONDS -lt $deadline ] || { cat "$work/serve.log" "$work/floor.log" >&2; say "a server did not start"; exit 1; }
    sleep 0.1
  done
done
crew=$("$ucp" token --role ambulance --org RRU --name "Bench Crew" --ttl 2h)
clinician=$("$ucp" token --role clinician --org F84001 --name "Bench Clinician" --ttl 2h)
dispatch=$("$ucp" token --role dispatch --org RRU --ttl 2h)

export BENCH_LUA=$root/benches/wrk
# wrk_run NAME CONNECTIONS THREADS URL LUA [VAR=VALUE...]: warm up, then measure; prints the
# BENCH JSON line.
wrk_run() {
  local name=$1 conns=$2 threads=$3 url=$4 lua=$5; shift 5
  env "$@" wrk -t"$threads" -c"$conns" -d"${warmup}s" -s "$BENCH_LUA/$lua" "$url" >/dev/null 2>&1 || true
  env "$@" BENCH_RUN=$((1 + RANDOM % 9)) wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout 10s -s "$BENCH_LUA/$lua" "$url" \
    >"$work/$name.wrk" 2>&1 || true
  grep '^BENCH ' "$work/$name.wrk" | sed 's/^BENCH //' || { cat "$work/$name.wrk" >&2; echo '{}'; }
}

# The write floor: pgbench inserting one 2 KB jsonb row per transaction into a table shaped like
# `events`, with the server's synchronous_commit, at the write scenarios' concurrency.
write_floor() {
  local conns=$1
  payload=$(python3 -c 'import json; print(json.dumps({"inTheirOwnWords": "x" * 2000}))')
  psql_db -c "DROP TABLE IF EXISTS bench_events; CREATE TABLE bench_events (LIKE events INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING INDEXES)" >/dev/null
  printf "INSERT INTO bench_events (event_id, stream_id, stream_version, event_type, schema_version, data, metadata) VALUES (gen_random_uuid(), gen_random_uuid(), 1, 'Bench', 1, '%s', '{\"actor\":\"bench\"}');\n" "$payload" >"$work/insert.sql"
  local url_host url_port
  url_host=$(printf '%s' "$db_url" | sed -E 's#^[a-z]+://([^@]*@)?([^:/]+).*#\2#')
  url_port=$(printf '%s' "$db_url" | sed -E 's#^[a-z]+://([^@]*@)?[^:/]+:([0-9]+).*#\2#')
  (cd "$work" && "$bindir/pgbench" -n -c "$conns" -j 2 -T "$warmup" -f insert.sql -h "$url_host" -p "$url_port" -U postgres "$db" >/dev/null 2>&1 || true)
  (cd "$work" && rm -f pgbench_log.* && "$bindir/pgbench" -n -c "$conns" -j 2 -T "$seconds" -l -f insert.sql \
    -h "$url_host" -p "$url_port" -U postgres "$db" >"$work/pgbench.out" 2>&1)
  python3 - "$work" "$seconds" <<'PY'
import glob, json, sys
lat = sorted(int(line.split()[2]) for f in glob.glob(sys.argv[1] + "/pgbench_log.*") for line in open(f))
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))] / 1000 if lat else 0
print(json.dumps({"requests": len(lat), "rps": len(lat) / float(sys.argv[2]), "p50_ms": pct(50), "p99_ms": pct(99)}))
PY
}

api="http://127.0.0.1:$api_port"
floor_url="http://127.0.0.1:$floor_port"
results=$work/results.jsonl
record() { # record SCENARIO MEASURED_JSON BASELINE_JSON TARGET_KIND TARGET_VALUE
  printf '{"scenario":"%s","measured":%s,"baseline":%s,"target":{"kind":"%s","value":%s}}\n' "$1" "$2" "$3" "$4" "$5" >>"$results"
}

say "1. emergency summary (ambulance, audited), 32 connections"
f=$(wrk_run summary-floor 32 2 "$floor_url" get.lua BENCH_LIST="$work/nhs.txt" BENCH_PATH=/summary/%s)
m=$(wrk_run summary 32 2 "$api" get.lua BENCH_LIST="$work/nhs.txt" BENCH_PATH=/v1/patients/%s/emergency-summary BENCH_TOKEN="$crew")
record "emergency summary" "$m" "$f" ratio 0.8

say "2. full plan by id (clinician), 32 connections"
f=$(wrk_run plan-floor 32 2 "$floor_url" get.lua BENCH_LIST="$work/plans.txt" BENCH_PATH=/plan/%s)
m=$(wrk_run plan 32 2 "$api" get.lua BENCH_LIST="$work/plans.txt" BENCH_PATH=/v1/care-plans/%s BENCH_TOKEN="$clinician" BENCH_PURPOSE=direct-care)
record "plan by id" "$m" "$f" ratio 0.7
plan_floor=$f

say "3. search by family name, birth date and postcode, 32 connections"
f=$(wrk_run search-floor 32 2 "$floor_url" get.lua BENCH_LIST="$work/search.txt" "BENCH_PATH=/search?%s")
m=$(wrk_run search 32 2 "$api" get.lua BENCH_LIST="$work/search.txt" "BENCH_PATH=/v1/patients?%s" BENCH_TOKEN="$crew")
record "search" "$m" "$f" ratio 0.5

say "4. section update with If-Match on distinct plans, 8 connections (and the feed followed meanwhile)"
wf=$(write_floor 8)
BENCH_API="127.0.0.1:$api_port" BENCH_TOKEN="$dispatch" BENCH_SECONDS=$((seconds + warmup)) \
  python3 benches/feed_latency.py >"$work/feed.out" 2>&1 &
feed_pid=$!
m=$(wrk_run update 8 8 "$api" update.lua BENCH_LIST="$work/updates.txt" BENCH_TOKEN="$clinician")
record "section update" "$m" "$wf" ratio 0.5
wait "$feed_pid" || true
feed=$(grep '^BENCH ' "$work/feed.out" | sed 's/^BENCH //' || echo '{}')
record "feed latency (commit to consumer, during 4)" "$feed" "null" p99_ms 50

say "5. create with an Idempotency-Key, 8 connections"
m=$(wrk_run create 8 8 "$api" create.lua BENCH_TOKEN="$clinician")
record "create" "$m" "$wf" ratio 0.4

say "6. the printed plan (PDF) of the largest plan, 2 connections: target p99 under 100 ms"
f=$(wrk_run print-floor 2 2 "$floor_url" get.lua BENCH_LIST="$work/largest.txt" BENCH_PATH=/plan/%s)
m=$(wrk_run print 2 2 "$api" get.lua BENCH_LIST="$work/largest.txt" BENCH_PATH=/v1/care-plans/%s/document BENCH_TOKEN="$clinician" BENCH_PURPOSE=direct-care)
record "printed plan (largest plan, PDF)" "$m" "$f" p99_ms 100

rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$api_pid/status")

say "7. projection rebuild of the whole log, while section updates go on (2 connections, a plan each)"
events=$(psql_db -c "SELECT count(*) FROM events")
# The writers run for the whole rebuild (about 20,000 events a second at the least).
during=$(( seconds > events / 20000 + 5 ? seconds : events / 20000 + 5 ))
BENCH_LIST="$work/updates.txt" BENCH_TOKEN="$clinician" BENCH_RUN=$((1 + RANDOM % 9)) \
  wrk -t2 -c2 -d"${during}s" --timeout 10s -s "$BENCH_LUA/update.lua" "$api" >"$work/rebuild-writes.wrk" 2>&1 &
writers=$!
sleep 1
t0=$(date +%s%N)
"$ucp" projections rebuild >"$work/rebuild.out" 2>&1 || { cat "$work/rebuild.out" >&2; exit 1; }
rebuild_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$writers" || true
# The scanner has read every entry the bench wrote (60 s at most), and raised nothing.
deadline=$((SECONDS + 60))
behind=1
while [ "$behind" != 0 ] && [ $SECONDS -lt $deadline ]; do
  behind=$(psql_db -c "SELECT count(*) FROM access_log a WHERE NOT EXISTS (SELECT 1 FROM alert_scan s
    WHERE s.scanner = 'privacy-alerts' AND (a.transaction_id, a.entry_id) <= (s.transaction_id, s.entry_id))")
  [ "$behind" = 0 ] || sleep 1
done
entries=$(psql_db -c "SELECT count(*) FROM access_log")
raised=$(psql_db -c "SELECT count(*) FROM privacy_alerts")
kill "$api_pid" 2>/dev/null || true
rebuild=$(python3 - "$work/rebuild.out" "$work/rebuild-writes.wrk" "$events" "$rebuild_ms" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"rebuilt (\d+) plans from (\d+) events in ([\d.]+) s \((\d+) events/s\); (\d+) plans written.*appends held ([\d.]+) s", text)
w = next((json.loads(l[6:]) for l in open(sys.argv[2]) if l.startswith("BENCH ")), {})
writes = {"writes_meanwhile_rps": w.get("rps"), "writes_meanwhile_non2xx": w.get("non2xx", 0)}
if m:
    figures = {"plans": int(m[1]), "events": int(m[2]), "ms": float(m[3]) * 1000, "rps": int(m[4]),
               "caught_up": int(m[5]), "appends_held_ms": float(m[6]) * 1000}
else:  # an older binary (BENCH_UCP): the command's wall time
    events, ms = int(sys.argv[3]), max(int(sys.argv[4]), 1)
    figures = {"events": events, "ms": ms, "rps": events * 1000 // ms}
print(json.dumps({**figures, **writes}))
PY
)
record "projection rebuild (while writes go on)" "$rebuild" "null" min_rps 50000

# Every write above went through the inline projection (and the rebuild's catch-up): the read
# models must equal the log, plan by plan.
say "ucp check: every read model against the log, after the writes"
if "$ucp" check >"$work/check.out" 2>&1; then clean=true; else clean=false; cat "$work/check.out" >&2; fi
checked=$(grep -oE '[0-9]+ plans' "$work/check.out" | head -n 1 | grep -oE '[0-9]+' || echo 0)
differing=$(grep -cE '^[a-z_]+ [0-9a-f-]{36}: ' "$work/check.out" || true)
record "ucp check after the writes" "{\"plans\":${checked:-0},\"differing\":${differing:-0},\"clean\":$clean}" "null" clean 0
record "privacy alerts raised by the bench's traffic" "{\"entries\":$entries,\"behind\":$behind,\"alerts\":$raised,\"clean\":$([ "$raised" = 0 ] && [ "$behind" = 0 ] && echo true || echo false)}" "null" alerts 0

if [ "${BENCH_PEERS:-1}" != 0 ]; then
  say "8. the peers (BENCH_PEERS=0 skips them): Emmett and Python eventsourcing, append and read"
  if ! "$root/scripts/bench-peers.sh" "$admin_url" "$seconds" "$warmup" >"$work/peers.jsonl"; then
    say "the peers could not run (see above): their rows are left out"
    : >"$work/peers.jsonl"
  fi
  # Each peer's append against the write floor and beside the service's section update; its
  # stream read against the read floor's plan by id and beside the service's.
  while IFS= read -r line; do
    for op in append read; do
      m=$(python3 -c 'import json,sys; p=json.loads(sys.argv[1]); o=p[sys.argv[2]]
print(json.dumps({"rps": o["ops"], "p50_ms": o["p50"], "p99_ms": o["p99"], "errors": o["errors"]}))' "$line" "$op")
      name=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["peer"])' "$line")
      if [ "$op" = append ]; then
        record "peer $name: append 2 KB, 8 clients" "$m" "$wf" peer '"section update"'
      else
        record "peer $name: read 10 events, 32 clients" "$m" "$plan_floor" peer '"plan by id"'
      fi
    done
  done <"$work/peers.jsonl"
fi
record "server peak RSS (1-6)" "{\"rss_mb\":$((rss_kb / 1024))}" "null" max_mb 200
record "load ($plans plans)" "{\"plans\":$plans,\"events\":$events,\"ms\":$load_ms,\"rps\":$(( plans * 1000 / (load_ms > 0 ? load_ms : 1) ))}" "null" none 0

python3 - "$results" "$out/results.json" "$plans" <<'PY'
import json, platform, subprocess, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
import os
machine = f"{os.cpu_count()} cores, {cpu}, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB"
print(f"\nUniversal Care Plan API, make bench: {sys.argv[3]} plans; {machine}")
print(f"{'scenario':58} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}  {'baseline ops/s (p99)':>22} {'ratio':>6}  target")
for r in rows:
    m, b, t = r["measured"], r["baseline"], r["target"]
    rps = m.get("rps"); p50 = m.get("p50_ms"); p99 = m.get("p99_ms")
    base = f"{b['rps']:.0f} ({b['p99_ms']:.1f})" if b else "-"
    ratio = (rps / b["rps"]) if (b and rps and b.get("rps")) else None
    r["ratio"] = ratio
    if t["kind"] == "ratio":
        ok = ratio is not None and ratio >= t["value"]; goal = f">= {t['value']} x floor"
    elif t["kind"] == "p99_ms":
        ok = p99 is not None and p99 <= t["value"]; goal = f"p99 <= {t['value']} ms"
    elif t["kind"] == "min_rps":
        ok = rps is not None and rps >= t["value"]; goal = f">= {t['value']} events/s"
    elif t["kind"] == "clean":
        ok = bool(m.get("clean")); goal = f"{m.get('plans', 0)} plans, {m.get('differing', 0)} rows differing from the log"; rps = None
    elif t["kind"] == "alerts":
        ok = bool(m.get("clean")); goal = f"{m.get('entries', 0)} access-log entries scanned ({m.get('behind', 0)} behind), {m.get('alerts', 0)} alerts"; rps = None
    elif t["kind"] == "max_mb":
        ok = m.get("rss_mb", 1e9) <= t["value"]; goal = f"<= {t['value']} MB"; rps = m.get("rss_mb"); 
    elif t["kind"] == "peer":
        # A library called in-process: no HTTP, token, audit or read models. Shown beside the
        # service's own figure for the same kind of work.
        ours = next((x for x in rows if x["scenario"] == t["value"]), None)
        ok = None
        if ours and rps and ours["measured"].get("rps"):
            goal = f"the service's {t['value']}: {ours['measured']['rps'] / rps:.2f} x this"
        else:
            goal = ""
    else:
        ok = None; goal = ""
    r["met"] = ok
    fmt = lambda v, f: (f.format(v) if isinstance(v, (int, float)) else "-")
    unit = " MB" if t["kind"] == "max_mb" else ""
    extra = ""
    if m.get("non2xx") or m.get("socket_errors"):
        extra = f"  ({m.get('non2xx', 0)} non-2xx, {m.get('socket_errors', 0)} socket errors)"
    if m.get("errors"):
        extra = f"  ({m['errors']} errors)"
    if "writes_meanwhile_rps" in m:
        held = f"appends held {m['appends_held_ms']:.0f} ms, " if "appends_held_ms" in m else ""
        extra = (f"  ({held}{m.get('writes_meanwhile_rps') or 0:.0f} req/s of writes meanwhile, "
                 f"{m.get('writes_meanwhile_non2xx', 0)} non-2xx, {m.get('caught_up', '?')} plans caught up)")
    print(f"{r['scenario']:58} {fmt(rps, '{:9.0f}')}{unit} {fmt(p50, '{:8.2f}')} {fmt(p99, '{:8.2f}')}  {base:>22} {fmt(ratio, '{:6.2f}')}  "
          f"{goal}{'' if ok is None else (': met' if ok else ': NOT met')}{extra}")
json.dump({"plans": int(sys.argv[3]), "machine": machine, "results": rows}, open(sys.argv[2], "w"), indent=2)
print(f"\n(written to {sys.argv[2]})")
PY
