#!/usr/bin/env bash
# Side by side: `reconcile` on a SQLite file and on PostgreSQL, one generated Credicorp world served
# by reconcile-world on 127.0.0.1, same sitting. Each engine's store ingests the capture, then runs
# a dry run, the nightly run and a second run; GNU time gives the client's wall and CPU time and peak
# RSS, and each report's findings are printed (they must be the same on both).
# Run through .ci/with-postgres (make bench-engines does): it names the server in
# RECONCILE_TEST_POSTGRES_URL and its password in RECONCILE_TEST_POSTGRES_PASSWORD; the benchmark
# makes a database of its own there. The server's CPU is not in the client's figures.
# Usage: benchmarks/engines.sh [CHAINS] [PROGRESS_UPDATES]; the default is the issue's world (#10).
set -euo pipefail
chains="${1:-6600}"
progress="${2:-11}"
seed=53
: "${RECONCILE_TEST_POSTGRES_URL:?run it through .ci/with-postgres (make bench-engines)}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
cd "$here"
swift build -c release --product reconcile >/dev/null
swift build -c release --product reconcile-world >/dev/null
# shellcheck source=benchmarks/start-world.sh
source benchmarks/start-world.sh
database="bench_$$"
# The password in the environment (PGPASSWORD), never on a command line.
PGPASSWORD="$RECONCILE_TEST_POSTGRES_PASSWORD" psql "$RECONCILE_TEST_POSTGRES_URL" -q -v ON_ERROR_STOP=1 \
    -c "CREATE DATABASE $database" >/dev/null
server_url="${RECONCILE_TEST_POSTGRES_URL%/*}"
sed "s|^store: .*|store: $server_url/$database\nstore_password_env: RECONCILE_TEST_POSTGRES_PASSWORD|" \
    "$work/job.yml" >"$work/pg.yml"
sed -i "s|^reports: .*|reports: $work/pg-reports|" "$work/pg.yml"
echo "capture: $(wc -l <"$work/captures.ndjson") lines, $(du -h "$work/captures.ndjson" | cut -f1); PostgreSQL at $server_url/$database"
# shellcheck source=benchmarks/step.sh
source benchmarks/step.sh
product=(.build/release/reconcile)
for engine in sqlite postgres; do
    job="$work/job.yml"
    [ "$engine" = postgres ] && job="$work/pg.yml"
    step "$engine ingest" "" "${product[@]}" ingest "$job" "$work/captures.ndjson" --log-level warning
done
for kind in "dry run" "run" "second run"; do
    for engine in sqlite postgres; do
        job="$work/job.yml"
        [ "$engine" = postgres ] && job="$work/pg.yml"
        extra=()
        [ "$kind" = "dry run" ] && extra=(--dry-run)
        step "$engine $kind" "$work/$engine-$kind.json" "${product[@]}" run "$job" "${extra[@]}" \
            --report-json "$work/$engine-$kind.json" --log-level warning
    done
done
PGPASSWORD="$RECONCILE_TEST_POSTGRES_PASSWORD" psql "$RECONCILE_TEST_POSTGRES_URL" -q \
    -c "DROP DATABASE $database WITH (FORCE)" >/dev/null || true
