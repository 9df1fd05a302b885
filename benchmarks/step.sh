# Sourced by naive.sh and engines.sh (needs $work): `step NAME REPORT COMMAND…` runs one timed step.
# GNU time gives its wall, user and system CPU and peak RSS; REPORT is the report.json the step
# writes, or "" for none, and its findings by kind, repairs and read-API requests are printed.
step() {
    local name="$1" report="$2"; shift 2
    if [ -n "$report" ]; then rm -f "$report"; fi
    /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$@" >"$work/step.out" 2>"$work/step.err" || true
    tail -n 1 "$work/step.err"
    if [ -n "$report" ] && [ -f "$report" ]; then
        python3 - "$report" <<'PY'
import collections, json, sys
report = json.load(open(sys.argv[1]))
kinds = collections.Counter(f["kind"] for f in report["findings"])
requests = sum(p.get("api_requests", 0) for p in report["providers"])
print(f"  {len(report['findings'])} findings ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}), "
      f"{report.get('repairs', 0)} repairs, read-API requests {requests}")
PY
    fi
}
