#!/usr/bin/env bash
# Failure amplification: what `--chaos-panic-rate` costs the sensor alarm pipeline.
#
# Usage: benches/run-chaos.sh [REPS]   (from anywhere inside the repository)
# Environment: REPS (default 7), SAMPLES (readings per sensor, default 20000), RATE (default
#              0.01), ALO_REPS (at-least-once chaos runs, default 3: each takes tens of
#              seconds), SKIP_BUILD=1 to reuse target/release/squall.
# For each guarantee: the failure-free run and the chaos run (seeds 1..REPS), wall time from
# outside the process (start to exit), median of the repetitions; the ratio chaos / failure-free
# of the medians; for at-least-once the lines written per line of the failure-free output, and
# whether every failure-free event is among them; for exactly-once whether the output is
# identical to the failure-free one.
set -uo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-7}}"
SAMPLES="${SAMPLES:-20000}"
RATE="${RATE:-0.01}"
ALO_REPS="${ALO_REPS:-3}"
SQUALL=target/release/squall
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-topologies --bin squall || exit 1
fi
WORK=$(mktemp -d /tmp/squall-chaos-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# run GUARANTEE RATE SEED OUT: prints the wall seconds and peak RSS (MB) of one run.
run() {
    local chaos=()
    [[ "$2" != 0 ]] && chaos=(--chaos-panic-rate "$2")
    local t0
    t0=$(date +%s.%N)
    /usr/bin/time -f "%M" -o "$WORK/time" "$SQUALL" run sensor-alarm --samples "$SAMPLES" \
        --seed "$3" --guarantee "$1" "${chaos[@]}" --output "$4" 2>"$WORK/stderr" >/dev/null ||
        { echo "run failed: $1 $2 $3" >&2; cat "$WORK/stderr" >&2; exit 1; }
    awk -v t0="$t0" -v t1="$(date +%s.%N)" '{printf "%.3f %.0f\n", t1 - t0, $1 / 1024}' "$WORK/time"
}
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB; samples $SAMPLES per sensor (16 sensors), rate $RATE"
for g in exactly-once at-least-once; do
    reps=$REPS
    [[ $g == at-least-once ]] && reps=$ALO_REPS
    [[ $reps == 0 ]] && continue
    : >"$WORK/free.txt"
    : >"$WORK/chaos.txt"
    for seed in $(seq "$reps"); do
        run "$g" 0 "$seed" "$WORK/free.jsonl" >>"$WORK/free.txt"
        run "$g" "$RATE" "$seed" "$WORK/chaos.jsonl" >>"$WORK/chaos.txt"
        replayed=$(grep -o '[0-9]* tuples replayed' "$WORK/stderr")
        free_lines=$(wc -l <"$WORK/free.jsonl")
        chaos_lines=$(wc -l <"$WORK/chaos.jsonl")
        if [[ $g == exactly-once ]]; then
            cmp -s <(sort "$WORK/free.jsonl") <(sort "$WORK/chaos.jsonl") && same=identical || same=DIFFERENT
            echo "  $g seed $seed: output $same ($chaos_lines lines), $replayed"
        else
            missing=$(comm -23 <(sort -u "$WORK/free.jsonl") <(sort -u "$WORK/chaos.jsonl") | wc -l)
            echo "  $g seed $seed: $chaos_lines lines for $free_lines events ($(awk -v a="$chaos_lines" -v b="$free_lines" 'BEGIN {printf "%.2f", a / b}') writes per event), $missing missing, $replayed"
        fi
    done
    f=$(awk '{print $1}' "$WORK/free.txt" | median)
    c=$(awk '{print $1}' "$WORK/chaos.txt" | median)
    rss=$(awk '{print $2}' "$WORK/chaos.txt" | sort -g | tail -1)
    echo "$g: failure-free median ${f}s, chaos median ${c}s (runs: $(awk '{printf "%s ", $1}' "$WORK/chaos.txt")), ratio $(awk -v a="$c" -v b="$f" 'BEGIN {printf "%.1f", a / b}')x, chaos peak RSS ${rss} MB"
done
