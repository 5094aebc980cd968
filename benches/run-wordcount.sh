#!/usr/bin/env bash
# Side-by-side word-count benchmark: Squall against the COST baseline and peer engines.
#
# Usage: benches/run-wordcount.sh [REPS]        (from anywhere inside the repository)
# Environment: REPS (default 5), CORPUS_MB (default 64, at least 50), SEED (default 42),
#              WORKERS (timely/renoir worker threads, default 2), SKIP_BUILD=1 to reuse binaries,
#              ONLY (a grep -E pattern: run only the systems whose name matches, wc_loop always).
#
# 1. Builds the release binaries: `squall` (squall-topologies) and the word-count binaries of
#    squall-benches with the `peers` feature (timely-dataflow, renoir).
# 2. Generates bench-data/corpus-<MB>m-s<SEED>.txt with gen_corpus unless it exists.
# 3. Runs every system REPS times, the order rotated each repetition, timing each command with
#    /usr/bin/time (wall seconds, max RSS), and checks every output equals wc_loop's (cmp).
# 4. Prints a markdown table (median wall, M words/s from the word count wc_loop reports, ratio
#    of words/s to wc_loop, max RSS) with the machine and the command, also saved under .bench/.
# A system that is missing or fails is reported as such; the others still run.
set -uo pipefail

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-5}}"
CORPUS_MB="${CORPUS_MB:-64}"
SEED="${SEED:-42}"
WORKERS="${WORKERS:-2}"
if ((CORPUS_MB < 50)); then
    echo "CORPUS_MB must be at least 50 (got $CORPUS_MB)" >&2
    exit 2
fi
BIN=target/release
CORPUS="bench-data/corpus-${CORPUS_MB}m-s${SEED}.txt"
WORK=".bench/wordcount"
mkdir -p bench-data "$WORK"
rm -f "$WORK"/*.out "$WORK"/*.err "$WORK"/*.time

# --- 1. build -------------------------------------------------------------------------------
squall_note=""
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-benches --features peers || { echo "building squall-benches failed" >&2; exit 1; }
    if ! cargo build --release -p squall-topologies --bin squall; then
        squall_note="cargo build of squall failed"
        echo "warning: $squall_note; going on without it" >&2
    fi
fi

# --- 2. corpus ------------------------------------------------------------------------------
if [[ ! -s "$CORPUS" ]]; then
    "$BIN/gen_corpus" "$CORPUS" "$CORPUS_MB" "$SEED" || exit 1
fi

# --- 3. runs --------------------------------------------------------------------------------
# name|command line (OUT is replaced by the output file)
SYSTEMS=(
    "wc_loop (1 thread)|$BIN/wc_loop --output OUT $CORPUS"
    "squall word-count (at-most-once)|$BIN/squall run word-count --guarantee at-most-once --input $CORPUS --output OUT"
    "squall word-count (exactly-once, 1 s checkpoints)|$BIN/squall run word-count --guarantee exactly-once --input $CORPUS --output OUT"
    "squall word-count (at-least-once, acking)|$BIN/squall run word-count --guarantee at-least-once --input $CORPUS --output OUT"
    "timely 0.32, $WORKERS workers|$BIN/wc_timely --workers $WORKERS --output OUT $CORPUS"
    "timely 0.32, $WORKERS workers, pre-aggregating|$BIN/wc_timely --workers $WORKERS --mode preagg --output OUT $CORPUS"
    "renoir 0.6, $WORKERS workers (group_by + fold)|$BIN/wc_renoir --workers $WORKERS --output OUT $CORPUS"
    "renoir 0.6, $WORKERS workers (group_by_count)|$BIN/wc_renoir --workers $WORKERS --mode preagg --output OUT $CORPUS"
)
if [[ -n "${ONLY:-}" ]]; then
    kept=("${SYSTEMS[0]}")
    for s in "${SYSTEMS[@]:1}"; do
        grep -qE -- "$ONLY" <<<"${s%%|*}" && kept+=("$s")
    done
    SYSTEMS=("${kept[@]}")
fi
N=${#SYSTEMS[@]}
declare -A status
if [[ -x /usr/bin/time ]]; then HAVE_TIME=1; else HAVE_TIME=0; fi

run_one() { # index rep
    local i=$1 rep=$2 cmd out err tf rc start end
    cmd="${SYSTEMS[$i]#*|}"
    out="$WORK/$i.$rep.out"; err="$WORK/$i.$rep.err"; tf="$WORK/$i.$rep.time"
    cmd="${cmd//OUT/$out}"
    if [[ ! -x "${cmd%% *}" ]]; then
        status[$i]="not built${squall_note:+ ($squall_note)}"
        return
    fi
    if ((HAVE_TIME)); then
        /usr/bin/time -f "%e %M" -o "$tf" $cmd 2>"$err"
        rc=$?
    else
        start=$(date +%s.%N)
        $cmd 2>"$err"
        rc=$?
        end=$(date +%s.%N)
        awk -v a="$start" -v b="$end" 'BEGIN { print b - a, 0 }' >"$tf"
    fi
    if ((rc != 0)); then
        status[$i]="failed (exit $rc): $(grep -v '^Command exited' "$err" | tail -n 1)"
    elif [[ ! -f "$out" ]]; then
        status[$i]="wrote no output (exit 0)"
    elif [[ -f "$WORK/0.1.out" ]] && ! cmp -s "$out" "$WORK/0.1.out"; then
        status[$i]="WRONG OUTPUT (differs from wc_loop)"
    fi
    echo "  rep $rep: ${SYSTEMS[$i]%%|*}: $(cut -d' ' -f1 "$tf" 2>/dev/null) s${status[$i]:+ [${status[$i]}]}" >&2
}

# The order rotates by one system per repetition; repetition 1 starts with wc_loop, whose output
# ($WORK/0.1.out) is the reference and whose stderr gives the word count.
for ((rep = 1; rep <= REPS; rep++)); do
    for ((k = 0; k < N; k++)); do
        run_one $(((k + rep - 1) % N)) "$rep"
    done
done

WORDS=$(sed -n 's/.*words=\([0-9]*\) .*/\1/p' "$WORK/0.1.err" | tail -n 1)
[[ -n "$WORDS" ]] || { echo "wc_loop printed no word count" >&2; exit 1; }

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

loop_wall=$(for f in "$WORK"/0.*.time; do cut -d' ' -f1 "$f"; done | median)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')
report=".bench/wordcount-$(date +%Y%m%d-%H%M%S).md"
{
    echo "## Word count, $(date -u +%Y-%m-%d) ($(git rev-parse --short HEAD 2>/dev/null || echo 'no commit'))"
    echo
    echo "Corpus: \`$CORPUS\` ($(($(stat -c %s "$CORPUS") / 1048576)) MiB, $WORDS words, seed $SEED)."
    echo "Median of $REPS runs each, order rotated every repetition; wall time of the whole process"
    echo "(reading, counting, writing the sorted counts). Ratio: words/s relative to wc_loop."
    echo
    echo "| system | median wall s | M words/s | ratio to wc_loop | max RSS MB | output |"
    echo "|---|---:|---:|---:|---:|---|"
    for ((i = 0; i < N; i++)); do
        name="${SYSTEMS[$i]%%|*}"
        if [[ "${status[$i]:-}" == "not built"* || "${status[$i]:-}" == failed* || "${status[$i]:-}" == "wrote no"* ]]; then
            echo "| $name | - | - | - | - | ${status[$i]} |"
            continue
        fi
        wall=$(for f in "$WORK"/$i.*.time; do cut -d' ' -f1 "$f"; done | median)
        rss=$(for f in "$WORK"/$i.*.time; do cut -d' ' -f2 "$f"; done | sort -n | tail -n 1)
        awk -v n="$name" -v w="$wall" -v lw="$loop_wall" -v words="$WORDS" -v rss="$rss" \
            -v st="${status[$i]:-same as wc_loop}" -v ht="$HAVE_TIME" 'BEGIN {
                if (w <= 0) w = 0.001
                printf "| %s | %.2f | %.1f | %.2f | %s | %s |\n", n, w, words / w / 1e6, lw / w,
                    (ht ? sprintf("%.0f", rss / 1024) : "-"), st }'
    done
    echo
    echo "Machine: $(nproc) cores ($cpu), $mem, $(uname -sr)."
    echo "Command: \`benches/run-wordcount.sh $REPS\` (CORPUS_MB=$CORPUS_MB SEED=$SEED WORKERS=$WORKERS)."
    echo
    echo "Commands run:"
    echo
    for ((i = 0; i < N; i++)); do echo "- \`${SYSTEMS[$i]#*|}\`"; done
} | tee "$report"
echo >&2
echo "saved to $report" >&2
