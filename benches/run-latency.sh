#!/usr/bin/env bash
# Latency benchmarks in one run: sensor-alarm fed open-loop at fixed rates (`squall bench`,
# latency from each reading's intended send time), the median of REPS runs per rate, the
# latency-versus-throughput plot, and what recording latency and metrics costs (`latency_cost`).
# Usage: benches/run-latency.sh [REPS=3] [DURATION=10] [RATES="10000 100000 1000000 ..."]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
secs=${2:-10}
rates=${3:-"10000 100000 1000000 2000000 4000000 6000000 8000000"}
runs=${RUNS_DIR:-target/latency-runs}
plot=${PLOT:-benches/results/latency-vs-throughput.svg}
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p squall-topologies -p squall-benches \
  --bin squall --bin latency_curve --bin latency_cost
rm -rf "$runs"
mkdir -p "$runs" "$(dirname "$plot")"

echo "## Latency runs ($(date -u '+%F %H:%M') UTC)"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for rate in $rates; do
  for rep in $(seq "$reps"); do
    dir="$runs/$rate-$rep"
    target/release/squall bench sensor-alarm --rate "$rate" --duration "$secs" --warmup 2 \
      --report "$dir" > "$dir.txt" 2>/dev/null
    echo "rate=$rate rep=$rep load=$(cut -d' ' -f1 /proc/loadavg) $(head -1 "$dir.txt" | cut -d: -f2-)"
  done
done
echo
target/release/latency_curve "$plot" "$runs"/*/summary.json
echo
echo "plot: $plot"
echo
echo "recording cost (\`latency_cost 8000000 $((reps * 2 + 1))\`):"
target/release/latency_cost 8000000 $((reps * 2 + 1)) | tail -2 | sed 's/^/    /'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
