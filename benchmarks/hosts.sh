#!/usr/bin/env bash
# Many hosts, one job (#12): 1, 2 and 4 `reconcile run --shard I/N` processes, started together,
# share a job of ACCOUNTS Credicorp accounts on one PostgreSQL store. reconcile-world serves one
# generated world for every account (each account its own base URL, so requests are counted per
# account) and the job reads each at RATE requests/s. A real provider allows 25/s, but a real
# account's night is ~11,600 requests (7.7 min) against ~100 s of our CPU; these small worlds are
# read at a lower rate so that, as there, the provider's time outweighs the CPU. Each configuration gets a
# fresh database (so each does the same work: every resource missing locally, found and repaired).
# It prints each process's wall and CPU time (GNU time), the round's wall time, the requests per
# account (each account must be read exactly once: every count equal to one reading's), and the
# round's report (`report --job-wide`).
# Run through .ci/with-postgres (make bench-hosts does). The server's CPU is not in the figures.
# Usage: benchmarks/hosts.sh [ACCOUNTS] [CHAINS] [RATE]
set -euo pipefail
accounts="${1:-40}"
chains="${2:-100}"
rate="${3:-5}"
seed=53
progress=0
: "${RECONCILE_TEST_POSTGRES_URL:?run it through .ci/with-postgres (make bench-hosts)}"
here="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
cd "$here"
swift build -c release --product reconcile >/dev/null
swift build -c release --product reconcile-world >/dev/null
# shellcheck source=benchmarks/start-world.sh
source benchmarks/start-world.sh
server_url="${RECONCILE_TEST_POSTGRES_URL%/*}"
export PGPASSWORD="$RECONCILE_TEST_POSTGRES_PASSWORD"
echo "$accounts accounts, $chains chains each, read at $rate requests/s; machine: $(nproc) cores; PostgreSQL at $server_url"
requests_per_account() {
    echo counts >&3
    for _ in $(seq 1 100); do
        line="$(grep '^counts' "$work/world.out" | tail -n 1 || true)"
        [ "$(grep -c '^counts' "$work/world.out" || true)" -ge "$1" ] && break
        sleep 0.1
    done
    echo "$line"
}
asked=0
for processes in 1 2 4; do
    database="bench_hosts_${processes}_$$"
    psql "$RECONCILE_TEST_POSTGRES_URL" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $database" >/dev/null
    sed "s|^store: .*|store: $server_url/$database\nstore_password_env: RECONCILE_TEST_POSTGRES_PASSWORD|" \
        "$work/job.yml" >"$work/hosts.yml"
    sed -i "s|^reports: .*|reports: $work/reports-$processes|" "$work/hosts.yml"
    # The tables first (a dry run of one account), so that the hosts start together on a store that is there.
    .build/release/reconcile run "$work/hosts.yml" --provider acct-01 --dry-run --create-store \
        --log-level error >/dev/null 2>&1 || true
    asked=$((asked + 1))
    requests_per_account "$asked" >/dev/null
    start=$(date +%s.%N)
    pids=()
    for index in $(seq 1 "$processes"); do
        /usr/bin/time -f "  host $index/$processes: wall %e s, user %U s, sys %S s, peak RSS %M KiB" \
            .build/release/reconcile run "$work/hosts.yml" --shard "$index/$processes" --log-level warning \
            --report-json "$work/host-$processes-$index.json" >"$work/host-$index.out" 2>"$work/host-$index.err" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || true; done
    end=$(date +%s.%N)
    echo "$processes process(es): round wall $(python3 -c "print(f'{$end - $start:.1f}')") s"
    for index in $(seq 1 "$processes"); do tail -n 1 "$work/host-$index.err"; done
    asked=$((asked + 1))
    python3 - "$(requests_per_account "$asked")" "$work" "$processes" <<'PY'
import json, sys
counts = dict(item.split("=") for item in sys.argv[1].split()[1:])
values = sorted(int(v) for k, v in counts.items() if k != "-")
work, processes = sys.argv[2], int(sys.argv[3])
read = []
for index in range(1, processes + 1):
    try:
        report = json.load(open(f"{work}/host-{processes}-{index}.json"))
    except OSError:
        continue
    names = [p["name"] for p in report["providers"]]
    read += names
    print(f"  host {index}: {len(names)} accounts, {len(report['findings'])} findings, {report['repairs']} repairs")
print(f"  requests per account: min {values[0]}, max {values[-1]} over {len(values)} accounts; "
      f"accounts in the hosts' reports: {len(read)} ({len(set(read))} distinct)")
PY
    .build/release/reconcile report "$work/hosts.yml" --job-wide --format summary --log-level error | head -n 3 || true
    psql "$RECONCILE_TEST_POSTGRES_URL" -q -c "DROP DATABASE $database WITH (FORCE)" >/dev/null || true
done
