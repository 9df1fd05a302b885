# Sourced by run.sh and naive.sh: serves a generated Credicorp world from "$work" with
# reconcile-world (built) until the script exits, and exports the job's environment (its env file).
# Needs $work, $chains, $seed and $progress (and $accounts and $rate for many accounts); sets $world and the EXIT trap, which also removes "$work".
mkfifo "$work/hold"
.build/release/reconcile-world "$work" "$chains" "$seed" "$progress" "${accounts:-0}" "${rate:-25}" <"$work/hold" >"$work/world.out" &
world=$!
exec 3>"$work/hold"
trap 'exec 3>&-; wait "$world" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q '^ready' "$work/world.out" 2>/dev/null && break; sleep 0.5; done
grep '^ready' "$work/world.out" || { echo "the world did not start"; exit 1; }
while IFS='=' read -r key value; do [ -n "$key" ] && export "$key=$value"; done <"$work/env"
