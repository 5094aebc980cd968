#!/usr/bin/env bash
# Loops the end-to-end tests whose timing varies most from run to run (acking, supervision,
# exactly-once) to catch rare hangs and races that a single `cargo test` almost never shows.
#
#   scripts/stress.sh [-n ITERATIONS] [-t TIMEOUT_S] [-j TEST_THREADS] [-c CPU_HOGS] [FILTER...]
#
# -n  iterations (default 300); -t  seconds one iteration may take before it counts as hung
# (default 60); -j  test threads (default 2); -c  busy loops to run beside the tests, to shake
# the timing as a loaded machine would (default 0); FILTER  test name filters (default: acking
# supervision exactly_once). Prints each failing or hung iteration and a summary; exits 1 when
# any failed. The output of a failing iteration is kept under $STRESS_LOGS (default
# target/stress).
set -euo pipefail
cd "$(dirname "$0")/.."

iterations=300
timeout_s=60
threads=2
hogs=0
while getopts "n:t:j:c:" opt; do
  case $opt in
    n) iterations=$OPTARG ;;
    t) timeout_s=$OPTARG ;;
    j) threads=$OPTARG ;;
    c) hogs=$OPTARG ;;
    *) sed -n 4,12p "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
filters=("$@")
[ ${#filters[@]} -gt 0 ] || filters=(acking supervision exactly_once)

# The test binary, built once; `cargo test --no-run` names it in its JSON messages.
binary=$(cargo test -p squall-tests --test e2e --no-run --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$binary" ] || { echo "cannot build the e2e test binary" >&2; exit 2; }

logs=${STRESS_LOGS:-target/stress}
mkdir -p "$logs"
hog_pids=()
stop_hogs() {
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
  (while :; do :; done) &
  hog_pids+=($!)
done

failed=0
for i in $(seq "$iterations"); do
  for filter in "${filters[@]}"; do
    log="$logs/iter-$i-$filter.log"
    rc=0
    timeout "$timeout_s" "$binary" "$filter" --test-threads="$threads" >"$log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      rm -f "$log"
    else
      failed=$((failed + 1))
      what=failed
      [ "$rc" -eq 124 ] && what="hung (killed after ${timeout_s}s)"
      echo "iteration $i, $filter: $what; output in $log"
    fi
  done
done
echo "$failed failing runs in $iterations iterations of ${filters[*]}"
[ "$failed" -eq 0 ]
