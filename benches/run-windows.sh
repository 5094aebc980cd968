#!/usr/bin/env bash
# Window benchmarks, side by side in one run, REPS repetitions in rotated order.
#
# Usage: benches/run-windows.sh [REPS]   (from anywhere inside the repository)
# Environment: REPS (default 5), TUPLES (default 20000000), SAMPLES (sensor readings per
#              sensor, default 500000), SKIP_BUILD=1 to reuse the binaries.
#
# 1. Tumbling event-time window count over TUPLES generated tuples (10 per ms, 1,000 keys,
#    10 s windows): Squall with the window API (watermarks from the spouts, a Windowed bolt),
#    the same topology without windows (a word-count style bolt keyed by window and key,
#    emitting at the end), and the same job on timely-dataflow 0.32 (window index as the
#    timestamp, closed when the frontier passes it). Every run's checksum must agree.
# 2. The sensor alarm demo's pipeline plain, and with watermarks from its spout and a tick
#    every 10 ms on its alarm bolt (`sensor_time`); event counts must agree.
# Prints the median wall seconds and tuples/s of each, and the ratios.
set -uo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-5}}"
TUPLES="${TUPLES:-20000000}"
SAMPLES="${SAMPLES:-500000}"
BIN=target/release
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-benches --features peers \
        --bin window_count --bin window_timely --bin sensor_time || exit 1
fi
SYSTEMS=(
    "squall windows (at-most-once)|$BIN/window_count --tuples $TUPLES --mode windows"
    "squall no windows (at-most-once)|$BIN/window_count --tuples $TUPLES --mode plain"
    "squall windows (exactly-once)|$BIN/window_count --tuples $TUPLES --mode windows --guarantee exactly-once"
    "squall no windows (exactly-once)|$BIN/window_count --tuples $TUPLES --mode plain --guarantee exactly-once"
    "timely 0.32, 2 workers|$BIN/window_timely --tuples $TUPLES"
    "sensor demo plain|$BIN/sensor_time --samples $SAMPLES --mode plain"
    "sensor demo watermarks + ticks|$BIN/sensor_time --samples $SAMPLES --mode timed"
)
WORK=.bench/windows
mkdir -p "$WORK"
rm -f "$WORK"/*.txt
n=${#SYSTEMS[@]}
for ((rep = 0; rep < REPS; rep++)); do
    for ((k = 0; k < n; k++)); do
        i=$(((k + rep) % n))
        IFS='|' read -r name cmd <<<"${SYSTEMS[$i]}"
        out=$($cmd 2>"$WORK/err") || { echo "$name failed: $(cat "$WORK/err")" >&2; continue; }
        echo "$out" >>"$WORK/check-$i.txt"
        cat "$WORK/err" >>"$WORK/time-$i.txt"
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $REPS runs each, order rotated"
printf '| %-34s | %9s | %14s | %s |\n' system "median s" "tuples/s" checksum
for ((i = 0; i < n; i++)); do
    IFS='|' read -r name _ <<<"${SYSTEMS[$i]}"
    med=$(sort -n "$WORK/time-$i.txt" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
    sums=$(sort -u "$WORK/check-$i.txt" | tr '\n' ' ')
    printf '| %-34s | %9s | %14s | %s |\n' "$name" "${med% *}" "${med#* }" "$sums"
done
