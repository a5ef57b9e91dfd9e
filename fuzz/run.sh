#!/usr/bin/env bash
# Runs the atheris harnesses one after the other (one core each: the machine is shared).
#   fuzz/run.sh [SECONDS_PER_HARNESS] [HARNESS...]     defaults: 300, all three
# Logs and the final libFuzzer stats go to fuzz/.work/NAME/run.log; new corpus entries to
# fuzz/.work/NAME/corpus; crashing inputs to fuzz/.work/NAME/crash-*. Exits non-zero if any
# harness found a new crash (recorded open findings, fuzz/known.py, are ignored).
set -uo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(pgoutput convert replication)
[ -f .venv/bin/activate ] && . .venv/bin/activate
status=0
for name in "${harnesses[@]}"; do
    mkdir -p "fuzz/.work/$name"
    log="fuzz/.work/$name/run.log"
    echo "== $name: ${seconds}s, log in $log"
    python -m fuzz run "$name" --ignore-known -max_total_time="$seconds" -print_final_stats=1 -timeout=20 \
        -rss_limit_mb=4096 >"$log" 2>&1
    rc=$?
    grep -E "^(#[0-9]+ +(DONE|INITED)|stat::|Done )" "$log" | tail -8
    ls "fuzz/.work/$name"/crash-* "fuzz/.work/$name"/timeout-* "fuzz/.work/$name"/oom-* \
        2>/dev/null
    [ $rc -ne 0 ] && { echo "== $name: exit $rc (finding: see $log)"; status=1; }
done
exit $status
