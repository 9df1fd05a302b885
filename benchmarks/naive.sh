#!/usr/bin/env bash
# Side by side: `reconcile` against the naive script (benchmarks/naive.py) on one generated Credicorp
# world served by reconcile-world on 127.0.0.1, same sitting. Each tool ingests the capture into its
# own store, then runs a dry run, the nightly run and a second run on it; GNU time gives wall, user
# and system CPU and peak RSS, and each report's findings and read-API requests are printed.
# reconcile runs with the world's `rate_limit: 10000` (the most a job allows), the script unthrottled;
# one more dry run, at `rate_limit: 1000`, shows what pacing at 1,000 requests/s costs.
# Last, it reads the same pages with nothing else done (benchmarks/pages-alone.py), which is the floor
# under both runs, and prints the CPU time the double spent serving them.
# Usage: benchmarks/naive.sh [CHAINS] [PROGRESS_UPDATES]
# The default, CHAINS=6600 with 11, is the issue's world: ~19,000 resources and ~97,000 events.
set -euo pipefail
chains="${1:-6600}"
progress="${2:-11}"
seed=53
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
cd "$here"
swift build -c release --product reconcile >/dev/null
swift build -c release --product reconcile-world >/dev/null
# shellcheck source=benchmarks/start-world.sh
source benchmarks/start-world.sh
base_url="$(sed -n 's/^ *base_url: //p' "$work/job.yml")"
echo "capture: $(wc -l <"$work/captures.ndjson") lines, $(du -h "$work/captures.ndjson" | cut -f1)"
# shellcheck source=benchmarks/step.sh
source benchmarks/step.sh
product=(.build/release/reconcile)
naive=(python3 benchmarks/naive.py)
step "reconcile ingest" "" "${product[@]}" ingest "$work/job.yml" "$work/captures.ndjson" --log-level warning
step "naive ingest" "" "${naive[@]}" ingest "$work/naive.sqlite" "$work/captures.ndjson"
store_sizes="reconcile $(du -h "$work/reconcile.sqlite" | cut -f1), naive $(du -h "$work/naive.sqlite" | cut -f1)"
step "reconcile dry run" "$work/dry.json" "${product[@]}" run "$work/job.yml" --dry-run --report-json "$work/dry.json" --log-level warning
sed "s/^    rate_limit: .*/    rate_limit: 1000/" "$work/job.yml" >"$work/job-1000.yml"
grep -q "^    rate_limit: 1000$" "$work/job-1000.yml" || { echo "the world's job has no rate_limit line to change"; exit 1; }
step "reconcile dry run at 1,000 requests/s" "$work/dry-1000.json" "${product[@]}" run "$work/job-1000.yml" --dry-run --report-json "$work/dry-1000.json" --log-level warning
step "naive dry run" "$work/naive-dry.json" "${naive[@]}" run "$work/naive.sqlite" "$base_url" --dry-run "$work/naive-dry.json"
step "reconcile run" "$work/run.json" "${product[@]}" run "$work/job.yml" --report-json "$work/run.json" --log-level warning
step "naive run" "$work/naive-run.json" "${naive[@]}" run "$work/naive.sqlite" "$base_url" "$work/naive-run.json"
step "reconcile second run" "$work/second.json" "${product[@]}" run "$work/job.yml" --report-json "$work/second.json" --log-level warning
step "naive second run" "$work/naive-second.json" "${naive[@]}" run "$work/naive.sqlite" "$base_url" "$work/naive-second.json"
echo "stores after ingest: $store_sizes"
# The floor under both tools' runs: the same pages read and nothing else done, and the double's own
# CPU time serving them (from /proc: utime + stime of reconcile-world, in clock ticks).
served() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$world/stat"; }
for slices in 1 4; do
    before="$(served)"
    printf 'pages alone, %s: ' "$([ "$slices" = 1 ] && echo "one chain per list" || echo "$slices slices per list at once")"
    python3 benchmarks/pages-alone.py "$base_url" "$slices" | tr -d '\n'
    echo ", the double's CPU $(awk -v a="$before" -v b="$(served)" 'BEGIN { printf "%.2f", b - a }') s"
done
