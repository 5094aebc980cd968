#!/usr/bin/env bash
# Squall over processes against Squall in one, side by side in one run, REPS repetitions in
# rotated order: word count and the sensor alarm pipeline run by `squall run` (one process) and
# by `squall submit --wait` over two `squall worker` processes on this machine (same cores),
# whose tuples between tasks in different processes travel through NATS JetStream.
#
# Usage: benches/run-cluster.sh [REPS]   (from anywhere inside the repository)
# Environment: REPS (default 5), LINES (word-count input lines, default 2000000), SAMPLES
#              (sensor readings per sensor, default 200000), PARALLELISM (default 2),
#              VOCAB (distinct words of the word-count input, default 12), SKIP_BUILD=1 to
#              reuse target/release/squall.
# Every run's output is compared with the one-process run's; a difference fails the script.
# Sensor events go to a JetStream stream per run (a cluster refuses a file output, since a
# restarted task would write again what an earlier incarnation wrote; JetStream de-duplicates
# by event id): the comparison is of the number of events each stream holds, read from the
# server's monitoring endpoint.
# Prints the median wall seconds of each and the ratio of the one-process time to the
# cluster's (>= 0.5 is the target: the cluster at least half as fast on the same cores).
set -uo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-5}}"
LINES="${LINES:-2000000}"
SAMPLES="${SAMPLES:-200000}"
P="${PARALLELISM:-2}"
VOCAB="${VOCAB:-12}"
SQUALL=target/release/squall
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-topologies --bin squall || exit 1
fi
WORK=$(mktemp -d /tmp/squall-cluster-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nats-server -a 127.0.0.1 -p "$PORT" -m "$MPORT" -js -sd "$WORK/js" >/dev/null 2>&1 &
URL="nats://127.0.0.1:$PORT"
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
"$SQUALL" worker --cluster "$URL" --name w1 2>"$WORK/w1.log" &
"$SQUALL" worker --cluster "$URL" --name w2 2>"$WORK/w2.log" &
sleep 2

# Ten words a line, drawn uniformly from VOCAB words: 12 stream-processing words by default
# (the split tasks' combiners then send almost nothing between processes), or w0..wN-1.
awk -v n="$LINES" -v v="$VOCAB" -v seed=7 'BEGIN { srand(seed); split("storm squall nats stream tuple bolt spout worker alarm sensor window latency", w, " ");
  if (v != 12) for (k = 1; k <= v; k++) w[k] = "w" (k - 1);
  for (i = 0; i < n; i++) { line = ""; for (j = 0; j < 10; j++) line = line w[int(rand() * v) + 1] " "; print line } }' >"$WORK/text.txt"

SYSTEMS=(
    "word count, one process|run|word-count --input $WORK/text.txt --parallelism $P --output"
    "word count, 2 workers|submit|word-count --input $WORK/text.txt --parallelism $P --output"
    "sensor alarm, one process|run|sensor-alarm --sensors 16 --samples $SAMPLES --seed 3 --parallelism $P --output"
    "sensor alarm, 2 workers|submit|sensor-alarm --sensors 16 --samples $SAMPLES --seed 3 --parallelism $P --output"
)
# The events a JetStream stream holds.
stream_messages() {
    curl -s "http://127.0.0.1:$MPORT/jsz?streams=true" |
        jq --arg s "$1" '[.account_details[].stream_detail[] | select(.name == $s) | .state.messages] | add // 0'
}
n=${#SYSTEMS[@]}
dep=0
for ((rep = 0; rep < REPS; rep++)); do
    for ((k = 0; k < n; k++)); do
        i=$(((k + rep) % n))
        IFS='|' read -r name how args <<<"${SYSTEMS[$i]}"
        out="$WORK/out-$i-$rep"
        target="$out"
        if [[ $name == sensor* ]]; then
            target="$URL/events.$i.$rep?stream=EV$i$rep"
        fi
        start=$(date +%s.%N)
        if [[ $how == run ]]; then
            # shellcheck disable=SC2086
            "$SQUALL" run $args "$target" 2>"$WORK/err" || { echo "$name failed: $(cat "$WORK/err")" >&2; exit 1; }
        else
            dep=$((dep + 1))
            # shellcheck disable=SC2086
            "$SQUALL" submit --cluster "$URL" --name "bench$dep" --wait $args "$target" 2>"$WORK/err" ||
                { echo "$name failed: $(cat "$WORK/err")" >&2; exit 1; }
        fi
        end=$(date +%s.%N)
        echo "$end - $start" | bc >>"$WORK/time-$i.txt"
        if [[ $name == sensor* ]]; then
            stream_messages "EV$i$rep" >"$out"
        fi
        sort "$out" >"$out.sorted"
        base="$WORK/out-$((i - i % 2))-$rep.sorted"
        if [[ -f $base && $base != "$out.sorted" ]] && ! cmp -s "$base" "$out.sorted"; then
            echo "$name: output differs from the one-process run's" >&2
            exit 1
        fi
    done
done
echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; $REPS runs each, order rotated; parallelism $P; $LINES lines of $VOCAB distinct words"
printf '| %-28s | %9s | %s |\n' system "median s" runs
declare -a med
for ((i = 0; i < n; i++)); do
    IFS='|' read -r name _ <<<"${SYSTEMS[$i]}"
    med[$i]=$(sort -n "$WORK/time-$i.txt" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}')
    printf '| %-28s | %9.2f | %s |\n' "$name" "${med[$i]}" "$(tr '\n' ' ' <"$WORK/time-$i.txt")"
done
echo "word count: one-process time / cluster time = $(echo "${med[0]} / ${med[1]}" | bc -l | cut -c1-5)x"
echo "sensor alarm: one-process time / cluster time = $(echo "${med[2]} / ${med[3]}" | bc -l | cut -c1-5)x"
