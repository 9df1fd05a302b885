#!/usr/bin/env bash
# Run benchmark: a generated Credicorp world of CHAINS stories (default 4,000) served on 127.0.0.1
# by reconcile-world; times ingest, the nightly run, a second run (nothing to repair) and a dry run
# of the release build, each with GNU time (wall, user+sys CPU, peak RSS), and prints the read-API
# requests each run made. Usage: benchmarks/run.sh [CHAINS] [SEED] [PROGRESS_UPDATES]
# PROGRESS_UPDATES gives each enquiry that many more events: CHAINS=66000 with 11 is about 187,000
# resources and 976,000 events for the window.
# RECONCILE_BIN=path times another build of reconcile (an older one, for a before/after) instead.
set -euo pipefail
chains="${1:-4000}"
seed="${2:-53}"
progress="${3:-0}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
cd "$here"
if [ -z "${RECONCILE_BIN:-}" ]; then swift build -c release --product reconcile >/dev/null; fi
bin="${RECONCILE_BIN:-.build/release/reconcile}"
swift build -c release --product reconcile-world >/dev/null
# shellcheck source=benchmarks/start-world.sh
source benchmarks/start-world.sh
echo "capture: $(wc -l <"$work/captures.ndjson") lines, $(du -h "$work/captures.ndjson" | cut -f1)"
step() {
    local name="$1"; shift
    /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
        "$bin" "$@" --log-level warning >"$work/$name.out" 2>"$work/$name.err" || true
    tail -n 1 "$work/$name.err"
    if [ -f "$work/$name.json" ]; then
        python3 - "$work/$name.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
requests = sum(p.get("api_requests", 0) for p in report["providers"])
print(f"  findings {len(report['findings'])}, repairs {report['repairs']}, read-API requests {requests}")
PY
    fi
}
step ingest ingest "$work/job.yml" "$work/captures.ndjson"
step run run "$work/job.yml" --report-json "$work/run.json"
step second-run run "$work/job.yml" --report-json "$work/second-run.json"
step dry-run run "$work/job.yml" --dry-run --report-json "$work/dry-run.json"
echo "store: $(du -h "$work/reconcile.sqlite" | cut -f1)"
