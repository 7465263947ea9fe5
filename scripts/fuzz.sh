#!/usr/bin/env bash
# Builds every libFuzzer target (tests/fuzz, clang 14 + ASan + UBSan) and runs
# each for SECONDS (default 60) from its checked-in seeds; fails on any crash,
# leak, sanitizer report or failed invariant, leaving the input that caused it
# in $XNET_FUZZ_OUT (default /tmp/xnet-fuzz) and printing how to replay it.
# Prints executions and coverage per target.
#
#   scripts/fuzz.sh            # 60 s per target
#   scripts/fuzz.sh 600        # a longer campaign
#   JOBS=2 scripts/fuzz.sh     # parallel fuzzing processes per target
#
# The clang build lives in an output base of its own, so it never replaces
# the GCC build. A finding becomes a regression input under
# tests/fuzz/regressions/TARGET/ (replayed by //tests/fuzz:TARGET_replay in
# every test run) before it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${JOBS:-1}
out=${XNET_FUZZ_OUT:-/tmp/xnet-fuzz}
mkdir -p "$out"
out=$(cd "$out" && pwd)
targets=(frame_fuzzer frame_sequence_fuzzer socket_api_fuzzer wire_fuzzer)

scripts/install_deps.sh
source scripts/output_base.sh
output_base="${XNET_FUZZ_OUTPUT_BASE:-$(xnet_output_base fuzz)}"
bazel --output_base="$output_base" build --config=fuzz --experimental_convenience_symlinks=ignore "${targets[@]/#///tests/fuzz:}" 2>&1 |
  grep -v "Cannot export local symbol" || true
bin="$(bazel --output_base="$output_base" info --config=fuzz bazel-bin 2>/dev/null)/tests/fuzz"

status=0
for t in "${targets[@]}"; do
  [[ -x "$bin/$t" ]] || { echo "fuzz: $t did not build" >&2; exit 1; }
  work="$out/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  # The checked-in seeds and regressions start the corpus; what the run
  # learns stays in $work/corpus for the next run.
  cp -n tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
  cp -n tests/fuzz/regressions/"$t"/* "$work/corpus/" 2>/dev/null || true
  log="$work/fuzz.log"
  set +e
  # -jobs (even 1) makes libFuzzer write fuzz-N.log into the working
  # directory: only with several jobs, and then in $out, never the tree.
  jobargs=()
  [[ $jobs -gt 1 ]] && jobargs=(-jobs="$jobs" -workers="$jobs")
  (cd "$out" && "$bin/$t" "$work/corpus" -max_total_time="$seconds" "${jobargs[@]}" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 -rss_limit_mb=4096) >"$log" 2>&1
  rc=$?
  set -e
  [[ $jobs -gt 1 ]] && cat "$out"/fuzz-*.log >>"$log" 2>/dev/null && rm -f "$out"/fuzz-*.log || true
  execs=$(grep -h "stat::number_of_executed_units" "$log" | awk '{s += $2} END {print s + 0}')
  rate=$(grep -h "stat::average_exec_per_sec" "$log" | awk '{s += $2} END {print s + 0}')
  cov=$(grep -ho "cov: [0-9]*" "$log" | tail -1 | cut -d' ' -f2)
  if [[ $rc -ne 0 ]] || grep -qE "ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error|invariant failed" "$log"; then
    status=1
    echo "fuzz: $t FAILED after $execs executions; log $log"
    grep -hE "ERROR|runtime error|invariant failed|SUMMARY" "$log" | head -5
    for a in "$work"/artifacts/*; do
      [[ -e $a ]] && echo "  input: $a  (replay: $bin/$t $a; keep it: cp $a tests/fuzz/regressions/$t/)"
    done
  else
    printf 'fuzz: %-22s ok  %10s executions (%s/s)  coverage %s edges\n' "$t" "$execs" "$rate" "${cov:-?}"
  fi
done
exit $status
