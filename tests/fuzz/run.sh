#!/usr/bin/env bash
# Builds the fuzzers (clang, libFuzzer, ASan, UBSan) in build-fuzz and runs
# each for SECONDS (default 20), two at a time, as ctest tests: any crash,
# sanitizer report, leak, hang or failed check fails. tests/run.sh runs it
# briefly; run it longer by hand, e.g. `bash tests/fuzz/run.sh 3600`.
# What a run finds new is kept in build-fuzz/tests/fuzz/corpus; crashing
# inputs are saved in build-fuzz/tests/fuzz/artifacts.
# SANDBOX_WERROR=ON in the environment (tests/run.sh sets it) makes clang's
# warnings, -Wthread-safety's among them, errors.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-20}
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSANDBOX_WERROR="${SANDBOX_WERROR:-OFF}" \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DSANDBOX_FUZZ=ON -DSANDBOX_FUZZ_SECONDS="$seconds" \
  -DSANDBOX_BUILD_TESTS=OFF -DSANDBOX_BUILD_BENCH=OFF \
  -DSANDBOX_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzzers
ctest --test-dir build-fuzz --output-on-failure -j2 -L fuzz
