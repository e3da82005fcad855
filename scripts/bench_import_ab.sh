#!/bin/bash
# The person import of two trees, alternated, with medians: the A/B for issue 12's import figure.
#
#   scripts/bench_import_ab.sh BEFORE_TREE AFTER_TREE [ROUNDS] [bench_import.py options...]
#   scripts/bench_import_ab.sh /work/wt/base0a3 /work/main 9 --db sqlite --persons 100000
#
# Each tree needs its own virtualenv (.venv, as /work/wt/mkwt.sh makes one) and runs its own
# scripts/bench_import.py from its own directory (its bench-out/), before, after, before, after, ...
# so that a change of load on the machine falls on both alike. Prints each run's figures, then per tree the
# min / median / max of the import's wall and CPU seconds, the write floor and the raw baseline, and the
# median ratio after/before. Run it on a quiet machine: the difference looked for is a few per cent.
set -euo pipefail
if [ $# -lt 2 ]; then
    sed -n '2,11p' "$0"
    exit 2
fi
before=$(cd "$1" && pwd)
after=$(cd "$2" && pwd)
rounds=${3:-5}
shift $(($# < 3 ? $# : 3))
[ $# -gt 0 ] || set -- --db sqlite --persons 100000
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for ((i = 1; i <= rounds; i++)); do
    for side in before after; do
        tree=$before
        [ "$side" = after ] && tree=$after
        json=$(cd "$tree" && .venv/bin/python scripts/bench_import.py "$@" | tr -d '\n')
        echo "$side $json" >>"$log"
        echo "round $i $side: $json" | cut -c1-240
    done
done
python3 - "$log" "$before" "$after" "$*" <<'EOF'
import json
import statistics
import sys

log, before, after, args = sys.argv[1:]
runs = {"before": [], "after": []}
for line in open(log, encoding="utf-8"):
    side, _, payload = line.partition(" ")
    runs[side].append(json.loads(payload))
keys = ("import_s", "import_cpu_s", "write_floor_s", "write_floor_cpu_s", "baseline_s")
print(f"\nbench_import.py {args}; {len(runs['before'])} runs each, alternated")
print(f"before: {before}\nafter:  {after}")
print(f"{'':20} {'before min / median / max':>28} {'after min / median / max':>28} {'after/before':>13}")
for key in keys:
    a = [r[key] for r in runs["before"] if key in r]
    b = [r[key] for r in runs["after"] if key in r]
    if not a or not b:
        continue
    fa = f"{min(a):.2f} / {statistics.median(a):.2f} / {max(a):.2f}"
    fb = f"{min(b):.2f} / {statistics.median(b):.2f} / {max(b):.2f}"
    print(f"{key:20} {fa:>28} {fb:>28} {statistics.median(b) / statistics.median(a):>13.3f}")
EOF
