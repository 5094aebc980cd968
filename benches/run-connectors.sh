#!/usr/bin/env bash
# Connector benchmarks in one run, each against servers it starts on free loopback ports:
# MQTT -> sensor-alarm -> NATS latency at a fixed rate (publish to alarm received, HdrHistogram),
# JetStream sink and spout throughput beside a raw async-nats loop (the broker's ceiling),
# PostgreSQL sink rows/s. Medians of REPS runs.
# Usage: benches/run-connectors.sh [REPS=3] [RATE=20000] [SECS=10] [N=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-3}
rate=${2:-20000}
secs=${3:-10}
n=${4:-1000000}
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p squall-benches --bin live_latency --bin connector_throughput --bin jetstream_raw
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
echo "| throughput, $n messages | median per second | runs | vs raw client |"
echo "|---|---:|---|---:|"
# Each Squall connector alternates with the raw async-nats loop it is measured against (the
# broker's ceiling on this machine, no Squall), so both see the same load.
row() { echo "| \`$1\` | $2 | $3 | $4 |"; }
for pair in "jetstream-sink:pub-ack" "jetstream-spout:sub-all" "postgres-sink:"; do
  what=${pair%%:*}
  raw=${pair#*:}
  runs=()
  raws=()
  for _ in $(seq "$reps"); do
    runs+=("$(target/release/connector_throughput "$what" "$n" 2>/dev/null | field per_s)")
    [ -z "$raw" ] || raws+=("$(target/release/jetstream_raw "$raw" "$n" 2>/dev/null | field per_s)")
  done
  med=$(printf '%s\n' "${runs[@]}" | median)
  if [ -z "$raw" ]; then
    row "connector_throughput $what $n" "$med" "${runs[*]}" ""
  else
    rmed=$(printf '%s\n' "${raws[@]}" | median)
    row "connector_throughput $what $n" "$med" "${runs[*]}" "$(awk -v a="$med" -v b="$rmed" 'BEGIN {printf "%.2fx", a / b}')"
    row "jetstream_raw $raw $n" "$rmed" "${raws[*]}" "1.00x"
  fi
done
# The server's ingest bound with de-duplication: publishes nobody waits for (not a usable sink).
bound=()
for _ in $(seq "$reps"); do
  bound+=("$(target/release/jetstream_raw pub-core "$n" 2>/dev/null | field per_s)")
done
row "jetstream_raw pub-core $n (no acks: the ingest bound)" "$(printf '%s\n' "${bound[@]}" | median)" "${bound[*]}" ""
