#!/usr/bin/env bash
# Connector benchmarks in one run, each against servers it starts on free loopback ports:
# MQTT -> sensor-alarm -> NATS latency at a fixed rate (publish to alarm received, HdrHistogram),
# JetStream sink and spout throughput, PostgreSQL sink rows/s. Medians of REPS runs.
# Usage: benches/run-connectors.sh [REPS=3] [RATE=20000] [SECS=10] [N=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
rate=${2:-20000}
secs=${3:-10}
n=${4:-1000000}
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p squall-benches --bin live_latency --bin connector_throughput
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
field() { grep -o "$1=[0-9.]*" | cut -d= -f2; }

echo "## Connectors ($(date -u +%F))"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| MQTT -> sensor-alarm -> NATS, $rate readings/s for ${secs}s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | alarms |"
echo "|---|---:|---:|---:|---:|---:|---:|"
lines=()
for _ in $(seq "$reps"); do
  line=$(target/release/live_latency "$rate" "$secs" 2>/dev/null | tail -1)
  lines+=("$line")
  echo "| run: achieved $(echo "$line" | field achieved)/s | $(echo "$line" | field p50_ms) | $(echo "$line" | field p90_ms) | $(echo "$line" | field p99_ms) | $(echo "$line" | field p999_ms) | $(echo "$line" | field max_ms) | $(echo "$line" | field alarms) |"
done
med() { printf '%s\n' "${lines[@]}" | field "$1" | median; }
echo "| **median of $reps** | $(med p50_ms) | $(med p90_ms) | $(med p99_ms) | $(med p999_ms) | $(med max_ms) | |"
echo
echo "| throughput, $n messages | median per second | runs |"
echo "|---|---:|---|"
for what in jetstream-sink jetstream-spout postgres-sink; do
  runs=()
  for _ in $(seq "$reps"); do
    runs+=("$(target/release/connector_throughput "$what" "$n" 2>/dev/null | field per_s)")
  done
  echo "| \`connector_throughput $what $n\` | $(printf '%s\n' "${runs[@]}" | median) | ${runs[*]} |"
done
