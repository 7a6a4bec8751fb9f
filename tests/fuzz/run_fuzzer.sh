#!/usr/bin/env bash
# Runs one fuzzer on its corpus and seeds:
#   run_fuzzer.sh FUZZER BUILD_FUZZ_DIR [libFuzzer flags...]
# e.g. run_fuzzer.sh build-fuzz/bin/comms_fuzzer build-fuzz/tests/fuzz \
#        -max_total_time=3600 -jobs=2
# New inputs go to BUILD_FUZZ_DIR/corpus/<fuzzer>, crashes, leaks and
# timeouts to BUILD_FUZZ_DIR/artifacts/. Exits non-zero on any finding.
set -euo pipefail
fuzzer=$1
dir=$2
shift 2
name=$(basename "$fuzzer")
mkdir -p "$dir/corpus/$name" "$dir/artifacts"
# -timeout: an input that takes 10 s is a hang; -error_exitcode: any finding
# fails the test; -close_fd_mask is left alone (the fuzzers count fds).
exec "$fuzzer" -timeout=10 -rss_limit_mb=2048 -error_exitcode=77 \
  -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" "$@" \
  "$dir/corpus/$name" "$dir/seeds/$name"
