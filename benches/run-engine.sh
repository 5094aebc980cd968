#!/usr/bin/env bash
# Engine benchmarks in one run: the 3-stage shuffle pipeline of trivial bolts (tuples/s, with
# and without always_serialize) and memory under overload (RSS while a spout outruns its bolt).
# Usage: benches/run-engine.sh [REPS=5] [OVERLOAD_SECONDS=30]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
secs=${2:-30}
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p squall-benches --bin pipeline --bin overload
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
rate() { grep -o 'tuples_per_s=[0-9]*' | cut -d= -f2; }

echo "## Engine benchmarks ($(date -u +%F))"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| pipeline run | median tuples/s | runs |"
echo "|---|---:|---|"
for variant in "20000000 1" "20000000 2" "5000000 1 --always-serialize"; do
  runs=()
  for _ in $(seq "$reps"); do
    # shellcheck disable=SC2086
    runs+=("$(target/release/pipeline $variant | rate)")
  done
  med=$(printf '%s\n' "${runs[@]}" | median)
  echo "| \`pipeline $variant\` | $(printf '%.1f M' "$(echo "$med / 1000000" | bc -l)") | ${runs[*]} |"
done
echo
echo "overload (\`overload $secs\`): t_s rss_mb emitted executed"
target/release/overload "$secs" | sed 's/^/    /'
