#!/usr/bin/env bash
# Side-by-side sensor-alarm benchmark: Squall against a one-thread loop and peer engines.
#
# Usage: benches/run-sensor.sh [REPS]        (from anywhere inside the repository)
# Environment: REPS (default 5), CSV_SENSORS (64), CSV_SAMPLES (250000: 16 M readings),
#              SIM_SENSORS (32), SIM_SAMPLES (500000: 16 M readings), FAULTY (45), SEED (42),
#              WORKERS (timely/renoir threads, default 2), SKIP_BUILD=1 to reuse binaries,
#              ONLY (a grep -E pattern on system names; the two loops always run).
#
# Two groups, each against its own one-thread loop (`sensor_loop`), whose output (sorted) is the
# reference every other output of the group must equal:
# - CSV: `squall run sensor-alarm --input FILE` (without --sensors: N is found by the run) at
#   at-most-once and exactly-once, on a file made by gen_readings (bench-data/, kept);
# - simulated sensors: `squall run sensor-alarm --sensors N --samples S` (the demo) at
#   at-most-once and exactly-once, the same detection on timely-dataflow and renoir.
# Every command runs REPS times, the order rotated each repetition, timed with /usr/bin/time
# (wall seconds, max RSS). Prints a markdown table (median wall, M readings/s, ratio of
# readings/s to the group's loop, max RSS), also saved under .bench/.
set -uo pipefail

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-5}}"
CSV_SENSORS="${CSV_SENSORS:-64}"
CSV_SAMPLES="${CSV_SAMPLES:-250000}"
SIM_SENSORS="${SIM_SENSORS:-32}"
SIM_SAMPLES="${SIM_SAMPLES:-500000}"
FAULTY="${FAULTY:-45}"
SEED="${SEED:-42}"
WORKERS="${WORKERS:-2}"
BIN=target/release
CSV="bench-data/readings-${CSV_SENSORS}x${CSV_SAMPLES}-s${SEED}.csv"
WORK=".bench/sensor"
mkdir -p bench-data "$WORK"
rm -f "$WORK"/*.out "$WORK"/*.err "$WORK"/*.time "$WORK"/*.sorted

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-benches --features peers --bin sensor_loop --bin gen_readings \
        --bin sensor_timely --bin sensor_renoir || { echo "building the sensor benches failed" >&2; exit 1; }
    cargo build --release -p squall-topologies --bin squall || { echo "building squall failed" >&2; exit 1; }
fi
if [[ ! -s "$CSV" ]]; then
    "$BIN/gen_readings" "$CSV" "$CSV_SENSORS" "$CSV_SAMPLES" "$SEED" "$FAULTY" || exit 1
fi
CSV_READINGS=$((CSV_SENSORS * CSV_SAMPLES))
SIM_READINGS=$((SIM_SENSORS * SIM_SAMPLES))
SIM="--sensors $SIM_SENSORS --samples $SIM_SAMPLES --faulty-pct $FAULTY --seed $SEED"

# group|name|command (OUT is replaced by the output file). The first of each group is its loop.
SYSTEMS=(
    "csv|sensor_loop, CSV (1 thread)|$BIN/sensor_loop --input $CSV --output OUT"
    "csv|squall sensor-alarm --input, at-most-once|$BIN/squall run sensor-alarm --input $CSV --guarantee at-most-once --output OUT"
    "csv|squall sensor-alarm --input, exactly-once|$BIN/squall run sensor-alarm --input $CSV --guarantee exactly-once --output OUT"
    "sim|sensor_loop, simulated (1 thread)|$BIN/sensor_loop $SIM --output OUT"
    "sim|squall sensor-alarm (demo), at-most-once|$BIN/squall run sensor-alarm $SIM --guarantee at-most-once --output OUT"
    "sim|squall sensor-alarm (demo), exactly-once|$BIN/squall run sensor-alarm $SIM --guarantee exactly-once --output OUT"
    "sim|timely 0.32, $WORKERS workers|$BIN/sensor_timely --workers $WORKERS $SIM --output OUT"
    "sim|renoir 0.6, $WORKERS workers|$BIN/sensor_renoir --workers $WORKERS $SIM --output OUT"
)
if [[ -n "${ONLY:-}" ]]; then
    kept=()
    for s in "${SYSTEMS[@]}"; do
        name="${s#*|}"; name="${name%%|*}"
        [[ "$name" == sensor_loop* ]] || grep -qE -- "$ONLY" <<<"$name" && kept+=("$s")
    done
    SYSTEMS=("${kept[@]}")
fi
N=${#SYSTEMS[@]}
declare -A status reference
for ((i = 0; i < N; i++)); do
    g="${SYSTEMS[$i]%%|*}"
    [[ -n "${reference[$g]:-}" ]] || reference[$g]=$i
done

run_one() { # index rep
    local i=$1 rep=$2 rest name cmd out err tf rc g ref
    g="${SYSTEMS[$i]%%|*}"; rest="${SYSTEMS[$i]#*|}"; name="${rest%%|*}"; cmd="${rest#*|}"
    out="$WORK/$i.$rep.out"; err="$WORK/$i.$rep.err"; tf="$WORK/$i.$rep.time"
    cmd="${cmd//OUT/$out}"
    if [[ ! -x "${cmd%% *}" ]]; then status[$i]="not built"; return; fi
    /usr/bin/time -f "%e %M" -o "$tf" $cmd 2>"$err" >/dev/null
    rc=$?
    ref="$WORK/${reference[$g]}.sorted"
    if ((rc != 0)); then
        status[$i]="failed (exit $rc): $(grep -v '^Command exited' "$err" | tail -n 1)"
    elif [[ ! -f "$out" ]]; then
        status[$i]="wrote no output"
    else
        sort "$out" >"$WORK/$i.$rep.sorted"
        if [[ "$i" == "${reference[$g]}" ]]; then
            [[ -f "$ref" ]] || cp "$WORK/$i.$rep.sorted" "$ref"
        elif [[ -f "$ref" ]] && ! cmp -s "$WORK/$i.$rep.sorted" "$ref"; then
            status[$i]="WRONG OUTPUT (differs from the loop's)"
        fi
        rm -f "$out"
    fi
    echo "  rep $rep: $name: $(cut -d' ' -f1 "$tf" 2>/dev/null) s${status[$i]:+ [${status[$i]}]}" >&2
}

# The loops run first in repetition 1 (their outputs are the references); then the order
# rotates by one system per repetition.
for ((rep = 1; rep <= REPS; rep++)); do
    if ((rep == 1)); then
        for g in csv sim; do [[ -n "${reference[$g]:-}" ]] && run_one "${reference[$g]}" 1; done
    fi
    for ((k = 0; k < N; k++)); do
        i=$(((k + rep - 1) % N))
        if ((rep == 1)) && [[ "$i" == "${reference[csv]:-x}" || "$i" == "${reference[sim]:-x}" ]]; then
            continue
        fi
        run_one "$i" "$rep"
    done
done

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')
report=".bench/sensor-$(date +%Y%m%d-%H%M%S).md"
{
    echo "## Sensor alarm, $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD 2>/dev/null || echo 'no commit'))"
    echo
    echo "CSV: \`$CSV\` ($(($(stat -c %s "$CSV") / 1048576)) MiB, $CSV_READINGS readings, $CSV_SENSORS sensors, seed $SEED)."
    echo "Simulated: $SIM_SENSORS sensors x $SIM_SAMPLES readings ($SIM_READINGS), $FAULTY % faulty, seed $SEED."
    echo "Median of $REPS runs each, order rotated every repetition; wall time of the whole process."
    echo "Ratio: readings/s relative to the group's one-thread loop."
    echo
    echo "| system | median wall s | M readings/s | ratio to loop | max RSS MB | output | runs (s) |"
    echo "|---|---:|---:|---:|---:|---|---|"
    for g in csv sim; do
        [[ -n "${reference[$g]:-}" ]] || continue
        r="${reference[$g]}"
        loop_wall=$(for f in "$WORK"/$r.*.time; do cut -d' ' -f1 "$f"; done | median)
        if [[ $g == csv ]]; then readings=$CSV_READINGS; else readings=$SIM_READINGS; fi
        for ((i = 0; i < N; i++)); do
            [[ "${SYSTEMS[$i]%%|*}" == "$g" ]] || continue
            rest="${SYSTEMS[$i]#*|}"; name="${rest%%|*}"
            if [[ "${status[$i]:-}" == "not built"* || "${status[$i]:-}" == failed* || "${status[$i]:-}" == "wrote no"* ]]; then
                echo "| $name | - | - | - | - | ${status[$i]} | |"
                continue
            fi
            runs=$(for f in "$WORK"/$i.*.time; do cut -d' ' -f1 "$f"; done | tr '\n' ' ')
            wall=$(for f in "$WORK"/$i.*.time; do cut -d' ' -f1 "$f"; done | median)
            rss=$(for f in "$WORK"/$i.*.time; do cut -d' ' -f2 "$f"; done | sort -n | tail -n 1)
            awk -v n="$name" -v w="$wall" -v lw="$loop_wall" -v r="$readings" -v rss="$rss" \
                -v st="${status[$i]:-same as the loop}" -v runs="$runs" 'BEGIN {
                    if (w <= 0) w = 0.001
                    printf "| %s | %.2f | %.1f | %.2f | %.0f | %s | %s |\n", n, w, r / w / 1e6, lw / w, rss / 1024, st, runs }'
        done
    done
    echo
    echo "Machine: $(nproc) cores ($cpu), $mem, $(uname -sr); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Command: \`benches/run-sensor.sh $REPS\`."
    echo
    echo "Commands run:"
    echo
    for ((i = 0; i < N; i++)); do rest="${SYSTEMS[$i]#*|}"; echo "- \`${rest#*|}\`"; done
} | tee "$report"
echo >&2
echo "saved to $report" >&2
