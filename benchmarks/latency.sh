#!/usr/bin/env bash
# A provider far away: dry runs of one generated Credicorp world while reconcile-world answers each
# request MS milliseconds late, at the job's rate limit RATE (default 25 requests/s, a real
# provider's). Prints, per latency, the run's wall and CPU time, how long the reading took (the log's
# provider.start to provider.read) and the read-API requests. RECONCILE_BIN runs another build.
# Usage: benchmarks/latency.sh [CHAINS] [RATE] [MS…]   (default: 1000 25 0 50 100)
set -euo pipefail
chains="${1:-1000}"
rate="${2:-25}"
shift $(( $# > 2 ? 2 : $# ))
latencies=("$@")
[ "${#latencies[@]}" -gt 0 ] || latencies=(0 50 100)
progress=11
seed=53
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
cd "$here"
swift build -c release --product reconcile >/dev/null
swift build -c release --product reconcile-world >/dev/null
product="${RECONCILE_BIN:-.build/release/reconcile}"
# shellcheck source=benchmarks/start-world.sh
source benchmarks/start-world.sh
sed -i "s/^    rate_limit: .*/    rate_limit: $rate/" "$work/job.yml"
"$product" ingest "$work/job.yml" "$work/captures.ndjson" --log-level warning >/dev/null
cp "$work/reconcile.sqlite" "$work/ingested.sqlite"
echo "world: $(wc -l <"$work/captures.ndjson") deliveries, rate_limit $rate"
for latency in "${latencies[@]}"; do
    echo "latency $latency" >&3
    for _ in $(seq 1 100); do grep -q "^latency $latency\$" "$work/world.out" && break; sleep 0.1; done
    cp "$work/ingested.sqlite" "$work/reconcile.sqlite"
    rm -f "$work/reconcile.sqlite-wal" "$work/reconcile.sqlite-shm"
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$product" run "$work/job.yml" --dry-run \
        --report-json "$work/dry.json" --log-format json >/dev/null 2>"$work/run.err" || true
    python3 - "$latency" "$work/run.err" "$work/dry.json" <<'PY'
import datetime, json, sys
times, last = {}, ""
for line in open(sys.argv[2]):
    try:
        entry = json.loads(line)
        times[entry["message"]] = datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00"))
    except ValueError:
        last = line.strip()
report = json.load(open(sys.argv[3]))
reading = (times["provider.read"] - times["provider.start"]).total_seconds()
requests = sum(p.get("api_requests", 0) for p in report["providers"])
print(f"latency {sys.argv[1]} ms: {last}; reading {reading:.2f} s, {requests} requests, "
      f"{len(report['findings'])} findings")
PY
done
