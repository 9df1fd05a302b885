#!/usr/bin/env bash
# Ingest benchmark: N signed capture lines (default 1,000,000) of one provider (credicorp, the default,
# credify or crezco) into a fresh store, release build. For crezco, a loopback server answers the one
# public-key request the ingest makes.
# Prints wall time, CPU time and peak resident memory (GNU time), then the storage engine's floor:
# the same rows written by SQLite alone (benchmarks/engine-floor.c, built with the C compiler against
# the system SQLite), all of them and the delivery rows only. Needs python3, /usr/bin/time and cc
# (and Python's `cryptography` for credify and crezco).
set -euo pipefail
lines="${1:-1000000}"
provider="${2:-credicorp}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
keys=""
trap '[ -z "$keys" ] || kill "$keys" 2>/dev/null; rm -rf "$work"' EXIT
cd "$here"
swift build -c release --product reconcile >/dev/null
python3 benchmarks/make-capture.py "$lines" "$work/capture.ndjson" "$provider"
case "$provider" in
credicorp)
    entry="    kind: credicorp
    base_url: http://127.0.0.1:9
    api_key_env: BENCH_API_KEY
    signing_secrets_env: [BENCH_WHSEC]"
    ;;
credify)
    entry="    kind: credify
    base_url: http://127.0.0.1:9
    api_key_env: BENCH_API_KEY
    public_key_env: BENCH_PUBLIC_KEY
    webhook_url: https://hooks.example.com/credify"
    ;;
crezco)
    mkdir -p "$work/keys/v1/webhooks/public-keys"
    python3 benchmarks/make-capture.py --crezco-key-answer >"$work/keys/v1/webhooks/public-keys/bench-key-1"
    python3 -u -c '
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
server = http.server.HTTPServer(("127.0.0.1", 0), handler)
print(server.server_address[1])
server.serve_forever()' "$work/keys" >"$work/keys.port" 2>/dev/null &
    keys=$!
    for _ in $(seq 1 100); do [ -s "$work/keys.port" ] && break; sleep 0.1; done
    [ -s "$work/keys.port" ] || { echo "the key server did not start" >&2; exit 1; }
    entry="    kind: crezco
    base_url: http://127.0.0.1:$(cat "$work/keys.port")
    api_key_env: BENCH_API_KEY"
    ;;
*)
    echo "provider must be credicorp, credify or crezco" >&2
    exit 2
    ;;
esac
cat >"$work/job.yml" <<JOB
name: bench
store: $work/bench.sqlite
lookback: 8d
reports: $work/reports
providers:
  - name: $provider
$entry
JOB
public_key=""
if [ "$provider" = credify ]; then public_key="$(python3 benchmarks/make-capture.py --credify-public-key)"; fi
echo "capture: $lines $provider lines, $(du -h "$work/capture.ndjson" | cut -f1)"
BENCH_API_KEY=unused BENCH_WHSEC=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw \
    BENCH_PUBLIC_KEY="$public_key" \
    /usr/bin/time -f "wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
    .build/release/reconcile ingest "$work/job.yml" "$work/capture.ndjson" --log-level warning
echo "store: $(du -h "$work/bench.sqlite" | cut -f1) ($(du -b "$work/bench.sqlite" | cut -f1) bytes, capture $(du -b "$work/capture.ndjson" | cut -f1) bytes)"
"${CC:-cc}" -O2 -o "$work/engine-floor" benchmarks/engine-floor.c -lsqlite3
echo -n "engine floor, every row: "
"$work/engine-floor" "$work/bench.sqlite" "$work/floor.sqlite"
rm -f "$work/floor.sqlite"
echo -n "engine floor, delivery rows only: "
FLOOR_DELIVERIES_ONLY=1 "$work/engine-floor" "$work/bench.sqlite" "$work/floor.sqlite"
