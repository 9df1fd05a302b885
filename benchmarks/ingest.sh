#!/usr/bin/env bash
# Ingest benchmark: N signed capture lines (default 1,000,000) into a fresh store, release build.
# Prints wall time, CPU time and peak resident memory (GNU time). Needs python3 and /usr/bin/time.
set -euo pipefail
lines="${1:-1000000}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$here"
swift build -c release --product reconcile >/dev/null
python3 benchmarks/make-capture.py "$lines" "$work/capture.ndjson"
cat >"$work/job.yml" <<JOB
name: bench
store: $work/bench.sqlite
lookback: 8d
reports: $work/reports
providers:
  - name: credicorp
    kind: credicorp
    base_url: http://127.0.0.1:9
    api_key_env: BENCH_API_KEY
    signing_secrets_env: [BENCH_WHSEC]
JOB
echo "capture: $lines lines, $(du -h "$work/capture.ndjson" | cut -f1)"
BENCH_API_KEY=unused BENCH_WHSEC=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
    .build/release/reconcile ingest "$work/job.yml" "$work/capture.ndjson" --log-level warning
echo "store: $(du -h "$work/bench.sqlite" | cut -f1)"
