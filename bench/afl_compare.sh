#!/usr/bin/env bash
# bench/afl_compare.sh: afl-fuzz on a small afl-clang-fast target
# (tests/afl/target.c built with -DBENCH: only its planted crash) for a fixed time, outside any
# sandbox and inside one (sandbox-run --afl with the default policy), in
# alternating rounds so that a slow minute of the machine hits both alike.
# Prints each round's execs/s from fuzzer_stats, the ratio inside/outside
# and whether each run found the planted crash (an abort on '!'); with
# perf, the CPU time per execution of everything afl-fuzz started.
#
#   bash bench/afl_compare.sh [SECONDS] [ROUNDS]     # default 30 s, 3 rounds
#
# VARIANT=shmem measures the target built with -DSHMEM instead: persistent
# mode with its inputs in afl-fuzz's shared memory (no fork, no file per
# input), where the bridge's share of each input is the largest.
#
# Environment: BUILD_DIR (default <repo>/build, with bin/sandbox-run built);
# BIND_CPU=1 lets afl-fuzz bind itself and the target to a free CPU, as it
# does by default (it then needs a CPU no other afl-fuzz holds); without it
# AFL_NO_AFFINITY=1, so that the scheduler spreads the processes.
# The runs stay in a new /tmp/sandbox-afl-compare.XXXXXX (printed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
SECONDS_EACH=${1:-30}
ROUNDS=${2:-3}
SANDBOX_RUN=$BUILD_DIR/bin/sandbox-run
for tool in afl-fuzz afl-clang-fast "$SANDBOX_RUN"; do
  command -v "$tool" >/dev/null ||
    { echo "afl_compare: no $tool (tests/install-deps.sh installs afl++)"; exit 1; }
done
OUT=$(mktemp -d /tmp/sandbox-afl-compare.XXXXXX)
chmod 755 "$OUT"
VARIANT=${VARIANT:-file}
case $VARIANT in
  file) variant_flags=() input_arg=(@@) ;;
  shmem) variant_flags=(-DSHMEM) input_arg=() ;;
  *) echo "afl_compare: VARIANT is file or shmem"; exit 1 ;;
esac
AFL_QUIET=1 afl-clang-fast -O1 -DBENCH "${variant_flags[@]}" -o "$OUT/target" \
  "$ROOT/tests/afl/target.c"
mkdir "$OUT/in"
printf hello >"$OUT/in/hello"
printf a >"$OUT/in/a"

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1
[ "${BIND_CPU:-0}" = 1 ] || export AFL_NO_AFFINITY=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_CRASH_README=1

# With perf (linux-perf), also the CPU time afl-fuzz and everything it
# started spent per execution: steadier than execs/s on a busy machine.
perf_stat=()
if command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1; then
  perf_stat=(perf stat -x, -e task-clock -o)
fi

# run NAME COMMAND...: prints "execs/s crash-found cpu-us-per-exec".
run() {
  local out="$OUT/$1"
  shift
  local wrap=()
  [ "${#perf_stat[@]}" -gt 0 ] && wrap=("${perf_stat[@]}" "$out.perf" --)
  "${wrap[@]}" afl-fuzz -i "$OUT/in" -o "$out" -V "$SECONDS_EACH" -- "$@" \
    >"$out.log" 2>&1 ||
    { tail -20 "$out.log" >&2; echo "afl_compare: afl-fuzz failed" >&2; exit 1; }
  local eps execs crash=no cpu=-
  eps=$(awk '/^execs_per_sec/ {print $3}' "$out/default/fuzzer_stats")
  execs=$(awk '/^execs_done/ {print $3}' "$out/default/fuzzer_stats")
  for f in "$out"/default/crashes/id:*; do
    [ -f "$f" ] && [ "$(head -c1 "$f")" = "!" ] && crash=yes
  done
  if [ -f "$out.perf" ]; then
    cpu=$(awk -F, -v n="$execs" '/task-clock/ {printf "%.0f", $1 * 1000 / n}' "$out.perf")
  fi
  echo "$eps $crash $cpu"
}

echo "afl-fuzz $(afl-fuzz -h 2>&1 | grep -o '4\.[0-9a-z]*' | head -1), ${SECONDS_EACH} s per run, $(nproc) CPUs, $(uname -r), $VARIANT, $([ -n "${AFL_NO_AFFINITY:-}" ] && echo "AFL_NO_AFFINITY=1" || echo "bound to one CPU")"
# Other work on the machine moves execs/s more than the sandbox does: the
# load goes with the figures.
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %12s %8s %12s %8s %7s %10s %10s\n' round outside crash inside crash ratio \
  cpu_us_out cpu_us_in
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  read -r out_eps out_crash out_cpu < <(run "outside-$round" "$OUT/target" \
    "${input_arg[@]}")
  read -r in_eps in_crash in_cpu < <(run "inside-$round" "$SANDBOX_RUN" --afl \
    --ro-bind "$OUT/target:/target" -- /target "${input_arg[@]}")
  ratio=$(awk -v a="$in_eps" -v b="$out_eps" 'BEGIN {printf "%.2f", a / b}')
  ratios+=("$ratio")
  printf '%-6s %12s %8s %12s %8s %7s %10s %10s\n' "$round" "$out_eps" \
    "$out_crash" "$in_eps" "$in_crash" "$ratio" "$out_cpu" "$in_cpu"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median inside/outside: $median (runs in $OUT)"
