#!/usr/bin/env bash
# What watching a run costs: the sensor demo (`squall demo`, 32 simulated sensors) without
# --ui, and with --ui while headless Chromium keeps the page open (it polls the JSON twice a
# second and redraws the graph, tables and plots), interleaved, REPS runs each. Prints the
# readings/s of every run, the medians and their ratio, and the browser's CPU time.
# Usage: benches/run-ui.sh [REPS=5] [SAMPLES=500000]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
samples=${2:-500000}
[ "${SKIP_BUILD:-0}" = 1 ] || cargo build --release -q -p squall-topologies
bin=target/release/squall
command -v chromium >/dev/null || {
  echo "run-ui.sh needs headless Chromium: install the Debian package chromium" >&2
  exit 1
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# "sensor-alarm: N readings in Xs (Y M readings/s); ..." -> Y
rate_of() { grep -o '([0-9.]* M readings/s)' | tr -d '(' | cut -d' ' -f1; }
# CPU seconds used so far by every process of session $1 (Chromium and its children).
cpu_of_session() {
  local ticks=0 pid
  for pid in $(ps -o pid= -s "$1" 2>/dev/null); do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

plain=()
watched=()
browser=()
for i in $(seq "$reps"); do
  plain+=("$($bin demo --samples "$samples" 2>/dev/null | rate_of)")

  $bin demo --samples "$samples" --ui 127.0.0.1:0 >"$work/out" 2>"$work/err" &
  run=$!
  for _ in $(seq 400); do
    grep -q 'ui: serving the run on' "$work/err" && break
    sleep 0.005
  done
  url=$(grep -o 'http://[^ ]*' "$work/err")
  setsid chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/profile-$i" --remote-debugging-port=0 "$url" >/dev/null 2>&1 &
  chrome=$!
  wait "$run"
  browser+=("$(cpu_of_session "$chrome")")
  kill -- -"$chrome" 2>/dev/null || kill "$chrome" 2>/dev/null || true
  wait "$chrome" 2>/dev/null || true
  watched+=("$(rate_of <"$work/out")")
done

# Each watched run against the plain run just before it: the machine's load drifts between
# pairs, far less within one.
ratios=()
for i in "${!plain[@]}"; do
  ratios+=("$(awk -v a="${watched[$i]}" -v b="${plain[$i]}" 'BEGIN {printf "%.3f", a / b}')")
done
mp=$(printf '%s\n' "${plain[@]}" | median)
mw=$(printf '%s\n' "${watched[@]}" | median)
echo "## Web UI cost: sensor demo with and without a browser watching ($(date -u +%F))"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo
echo "| \`squall demo --samples $samples\` | median M readings/s | runs | ratio |"
echo "|---|---:|---|---:|"
echo "| without --ui | $mp | ${plain[*]} | 1.000 |"
echo "| --ui, page open in headless Chromium | $mw | ${watched[*]} | $(awk -v a="$mw" -v b="$mp" 'BEGIN {printf "%.3f", a / b}') |"
echo "| median of the pairwise ratios (watched / plain run before it) | | ${ratios[*]} | $(printf '%s\n' "${ratios[@]}" | median) |"
echo
echo "Chromium CPU seconds per watched run (all its processes): ${browser[*]}"
