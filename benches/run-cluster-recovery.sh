#!/usr/bin/env bash
# Recovery of a deployment over two `squall worker` processes after one of them is SIGKILLed:
# the time from the kill to the survivor running the next incarnation, and to the deployment
# making progress again (new events committed to its JetStream output after that start).
#
# Usage: benches/run-cluster-recovery.sh [REPS]   (from anywhere inside the repository)
# Environment: REPS (default 5), SAMPLES (readings per sensor, default 3000000), SKIP_BUILD=1
#              to reuse target/release/squall.
# Each repetition starts its own nats-server and two workers, submits sensor-alarm (exactly
# once, 16 sensors, parallelism 2, events to a JetStream stream), waits until events arrive,
# then SIGKILLs the worker that does not lead (odd repetitions) or the leader (even ones).
# "Progress" is the stream holding more events than it did when the survivor started the new
# incarnation: an event is stored when the checkpoint after it completes, so this needs the
# restored tasks to run and a whole checkpoint to complete across both processes' tasks.
# The lease TTL is 10 s: the target is kill-to-progress <= TTL + 2 s = 12 s.
set -uo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-5}}"
SAMPLES="${SAMPLES:-3000000}"
SQUALL=target/release/squall
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-topologies --bin squall || exit 1
fi
WORK=$(mktemp -d /tmp/squall-recovery-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
# Each stderr line of a worker, prefixed with the time it was written.
stamp() { while IFS= read -r line; do echo "$(now) $line"; done; }
# The events stream $1 holds.
stream_messages() {
    curl -s "http://127.0.0.1:$MPORT/jsz?streams=true" |
        jq --arg s "$1" '[.account_details[].stream_detail[]? | select(.name == $s) | .state.messages] | add // 0'
}
# Waits up to $2 seconds for a line matching $1 in log $3; prints the line.
wait_line() {
    local deadline=$(($(date +%s) + $2))
    while (($(date +%s) < deadline)); do
        grep -m1 -E "$1" "$3" && return 0
        sleep 0.05
    done
    return 1
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB; lease TTL 10 s"
printf '| %3s | %-10s | %18s | %18s |\n' rep killed "kill -> restart s" "kill -> progress s"
for ((rep = 1; rep <= REPS; rep++)); do
    dir="$WORK/$rep"
    mkdir -p "$dir"
    PORT=$(free_port)
    MPORT=$(free_port)
    nats-server -a 127.0.0.1 -p "$PORT" -m "$MPORT" -js -sd "$dir/js" >/dev/null 2>&1 &
    nats=$!
    URL="nats://127.0.0.1:$PORT"
    for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.1; done
    "$SQUALL" worker --cluster "$URL" --name w1 2> >(stamp >"$dir/w1.log") &
    w1=$!
    "$SQUALL" worker --cluster "$URL" --name w2 2> >(stamp >"$dir/w2.log") &
    w2=$!
    sleep 1
    "$SQUALL" submit --cluster "$URL" --name rec sensor-alarm --sensors 16 --samples "$SAMPLES" \
        --seed 3 --parallelism 2 --output "$URL/events?stream=EV" 2>"$dir/submit.log" ||
        { echo "submit failed: $(cat "$dir/submit.log")" >&2; exit 1; }
    for w in w1 w2; do
        wait_line "runs incarnation 1" 30 "$dir/$w.log" >/dev/null ||
            { echo "rep $rep: $w did not start" >&2; exit 1; }
    done
    deadline=$(($(date +%s) + 30))
    while (($(stream_messages EV) == 0)); do
        (($(date +%s) < deadline)) || { echo "rep $rep: no events within 30 s" >&2; exit 1; }
        sleep 0.1
    done
    sleep 2
    leader=w1
    grep -q "(leader)" "$dir/w2.log" && leader=w2
    if ((rep % 2 == 0)); then victim=$leader; else victim=$([[ $leader == w1 ]] && echo w2 || echo w1); fi
    survivor=$([[ $victim == w1 ]] && echo w2 || echo w1)
    pid=$([[ $victim == w1 ]] && echo $w1 || echo $w2)
    killed=$(now)
    kill -9 "$pid"
    line=$(wait_line "runs incarnation [2-9]" 60 "$dir/$survivor.log") ||
        { echo "rep $rep: $survivor never ran a new incarnation" >&2; exit 1; }
    restarted=${line%% *}
    base=$(stream_messages EV)
    deadline=$(($(date +%s) + 60))
    while (($(stream_messages EV) <= base)); do
        (($(date +%s) < deadline)) || { echo "rep $rep: no progress within 60 s" >&2; exit 1; }
        sleep 0.05
    done
    progressed=$(now)
    restart_s=$(echo "$restarted - $killed" | bc -l)
    progress_s=$(echo "$progressed - $killed" | bc -l)
    echo "$progress_s" >>"$WORK/progress.txt"
    echo "$restart_s" >>"$WORK/restart.txt"
    what=$([[ $victim == "$leader" ]] && echo leader || echo "non-leader")
    printf '| %3d | %-10s | %18.2f | %18.2f |\n' "$rep" "$what" "$restart_s" "$progress_s"
    # The workers first: one stopping hands its parts over through the server.
    kill "$w1" "$w2" 2>/dev/null
    wait "$w1" "$w2" 2>/dev/null
    kill "$nats" 2>/dev/null
    wait "$nats" 2>/dev/null
done
median() { sort -n "$1" | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
echo "median kill -> restart: $(median "$WORK/restart.txt") s; median kill -> progress: $(median "$WORK/progress.txt") s"
