#!/usr/bin/env bash
# MapReduce benchmark: `squall mapreduce` against the COST loop and a shell pipeline, in one run.
#
# Usage: benches/run-mapreduce.sh [REPS]        (from anywhere inside the repository)
# Environment: REPS (default 3), CORPUS_MB (default 200, at least 200 for BENCHMARKS.md),
#              COOC_MB (co-occurrence input, default 16), SEED (default 42), SKIP_BUILD=1.
#
# 1. Builds `squall`, `gen_corpus` and `wc_loop` in release mode.
# 2. Generates bench-data/corpus-<MB>m-s<SEED>.txt with gen_corpus unless it exists, and a
#    co-occurrence input (the first COOC_MB MiB of it, non-alphanumeric runs made spaces).
# 3. Word count, REPS times each, order rotated: wc_loop (1 thread), squall mapreduce wordcount
#    (defaults: a map slot and a reduce task per core, 64 MiB sort buffer, combiner), and
#    `tr -cs '[:alnum:]' '\n' | tr '[:upper:]' '[:lower:]' | sort | uniq -c` (LC_ALL=C; it
#    splits non-ASCII letters, so its output is not compared). Squall's output must equal
#    wc_loop's once its part files are concatenated and sorted.
# 4. Co-occurrence, REPS times each: --method pairs and --method stripes; outputs must be equal.
# 5. Memory: wordcount without the combiner (all 24 M records go through the sort buffer) at
#    64 and 16 MiB buffers, once each: peak RSS follows the buffer, not the data.
# Prints markdown tables with medians of wall and CPU (user+sys) time, also saved under .bench/.
set -uo pipefail

cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)" || exit 1
REPS="${1:-${REPS:-3}}"
CORPUS_MB="${CORPUS_MB:-200}"
COOC_MB="${COOC_MB:-16}"
SEED="${SEED:-42}"
BIN=target/release
CORPUS="bench-data/corpus-${CORPUS_MB}m-s${SEED}.txt"
COOC="bench-data/cooc-${COOC_MB}m-s${SEED}.txt"
WORK=".bench/mapreduce"
mkdir -p bench-data "$WORK"
rm -rf "${WORK:?}"/*
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (GNU time)" >&2; exit 1; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    cargo build --release -p squall-topologies --bin squall || exit 1
    cargo build --release -p squall-benches --bin gen_corpus --bin wc_loop || exit 1
fi
[[ -s "$CORPUS" ]] || "$BIN/gen_corpus" "$CORPUS" "$CORPUS_MB" "$SEED" || exit 1
[[ -s "$COOC" ]] || head -c "$((COOC_MB * 1048576))" "$CORPUS" | LC_ALL=C tr -cs '[:alnum:]\n' ' ' >"$COOC"

median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# timed NAME REP COMMAND...: runs COMMAND under /usr/bin/time into $WORK/NAME.REP.{time,err}.
timed() {
    local name=$1 rep=$2
    shift 2
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/$name.$rep.time" "$@" 2>"$WORK/$name.$rep.err" >"$WORK/$name.$rep.out"
    local rc=$?
    ((rc == 0)) || echo "  $name rep $rep failed (exit $rc): $(tail -n 1 "$WORK/$name.$rep.err")" >&2
    echo "  rep $rep: $name: $(cut -d' ' -f1 "$WORK/$name.$rep.time") s" >&2
    return $rc
}
wall() { for f in "$WORK/$1".*.time; do cut -d' ' -f1 "$f"; done | median; }
cpu() { for f in "$WORK/$1".*.time; do awk '{print $3 + $4}' "$f"; done | median; }
rss_mb() { for f in "$WORK/$1".*.time; do cut -d' ' -f2 "$f"; done | sort -n | tail -n 1 | awk '{printf "%.0f", $1 / 1024}'; }

shell_wc() { tr -cs '[:alnum:]' '\n' <"$1" | tr '[:upper:]' '[:lower:]' | sort | uniq -c; }
export -f shell_wc

# --- word count -------------------------------------------------------------------------------
SYSTEMS=(loop mapreduce shell)
status_mr="same as wc_loop"
for ((rep = 1; rep <= REPS; rep++)); do
    for ((k = 0; k < 3; k++)); do
        case "${SYSTEMS[$(((k + rep - 1) % 3))]}" in
        loop) timed loop "$rep" "$BIN/wc_loop" --output "$WORK/loop.out.txt" "$CORPUS" ;;
        mapreduce)
            rm -rf "$WORK/mr-out"
            timed mapreduce "$rep" "$BIN/squall" mapreduce wordcount --input "$CORPUS" --output "$WORK/mr-out"
            LC_ALL=C sort "$WORK"/mr-out/part-r-* >"$WORK/mr.sorted"
            ;;
        shell) timed shell "$rep" env LC_ALL=C bash -c 'shell_wc "$0"' "$CORPUS" ;;
        esac
    done
    cmp -s "$WORK/mr.sorted" "$WORK/loop.out.txt" || status_mr="WRONG OUTPUT (differs from wc_loop)"
done
WORDS=$(sed -n 's/.*words=\([0-9]*\) .*/\1/p' "$WORK/loop.1.err" | tail -n 1)

# --- co-occurrence ----------------------------------------------------------------------------
status_cooc="identical part files"
for ((rep = 1; rep <= REPS; rep++)); do
    for method in pairs stripes; do
        rm -rf "$WORK/$method-out"
        timed "$method" "$rep" "$BIN/squall" mapreduce cooccurrence --method "$method" --input "$COOC" --output "$WORK/$method-out"
    done
    for p in "$WORK"/pairs-out/part-r-*; do
        cmp -s "$p" "$WORK/stripes-out/$(basename "$p")" || status_cooc="DIFFERENT OUTPUTS"
    done
done
PAIRS=$(awk -F'\t' '{s += $3} END {print s}' "$WORK"/pairs-out/part-r-*)

# --- memory -----------------------------------------------------------------------------------
for mb in 64 16; do
    rm -rf "$WORK/nc-$mb-out"
    timed "nocombiner-$mb" 1 "$BIN/squall" mapreduce wordcount --no-combiner --sort-buffer-mb "$mb" --input "$CORPUS" --output "$WORK/nc-$mb-out"
    LC_ALL=C sort "$WORK/nc-$mb-out"/part-r-* | cmp -s - "$WORK/loop.out.txt" || echo "no-combiner $mb MiB: WRONG OUTPUT" >&2
done
spilled() { sed -n 's/^ *spilled records *\([0-9]*\)/\1/p' "$WORK/$1.1.err"; }

model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
lw=$(wall loop)
report=".bench/mapreduce-$(date +%Y%m%d-%H%M%S).md"
{
    echo "Word count: \`$CORPUS\` ($(($(stat -c %s "$CORPUS") / 1048576)) MiB, $WORDS words). Median of $REPS runs, order rotated; wall time of the whole process."
    echo
    echo "| system | median wall s | M words/s | ratio to wc_loop | median CPU s (user+sys) | max RSS MB | output |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    for s in loop mapreduce shell; do
        case $s in
        loop) name="wc_loop (1 thread, COST baseline)" st="reference" ;;
        mapreduce) name="squall mapreduce wordcount ($(nproc) map slots, $(nproc) reducers, combiner)" st="$status_mr" ;;
        shell) name='tr \\| tr \\| sort \\| uniq -c (LC_ALL=C)' st="not compared (splits non-ASCII)" ;;
        esac
        awk -v n="$name" -v w="$(wall $s)" -v lw="$lw" -v words="$WORDS" -v rss="$(rss_mb $s)" -v st="$st" -v c="$(cpu $s)" \
            'BEGIN { if (w <= 0) w = 0.001; printf "| %s | %.2f | %.1f | %.2f | %.2f | %s | %s |\n", n, w, words / w / 1e6, lw / w, c, rss, st }'
    done
    echo
    echo "Co-occurrence: \`$COOC\` ($(($(stat -c %s "$COOC") / 1048576)) MiB, $PAIRS pair occurrences). Median of $REPS runs."
    echo
    echo "| method | median wall s | median CPU s (user+sys) | max RSS MB |"
    echo "|---|---:|---:|---:|"
    for m in pairs stripes; do echo "| $m | $(wall $m) | $(cpu $m) | $(rss_mb $m) |"; done
    awk -v p="$(wall pairs)" -v s="$(wall stripes)" -v st="$status_cooc" \
        'BEGIN { printf "\nStripes vs pairs: %.2fx faster (%s).\n", p / s, st }'
    echo
    echo "Memory: wordcount with \`--no-combiner\`, one run each (every record goes through the sort buffer)."
    echo
    echo "| sort buffer | spilled records | wall s | max RSS MB |"
    echo "|---|---:|---:|---:|"
    for mb in 64 16; do echo "| $mb MiB | $(spilled nocombiner-$mb) | $(wall nocombiner-$mb) | $(rss_mb nocombiner-$mb) |"; done
    echo
    echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other sessions share the machine; CPU seconds are the load-independent figure)."
    echo
    echo "Machine: $(nproc) cores ($model), $mem, $(uname -sr). Command: \`benches/run-mapreduce.sh $REPS\` (CORPUS_MB=$CORPUS_MB COOC_MB=$COOC_MB SEED=$SEED)."
} | tee "$report"
echo "saved to $report" >&2
