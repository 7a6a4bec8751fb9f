#!/usr/bin/env bash
# Installs what building and testing the project needs, from Debian 12's
# packages, when it is missing. Needs root (or sudo) only if something is
# missing.
set -euo pipefail

packages=(
  cmake make g++ pkg-config
  libabsl-dev libprotobuf-dev protobuf-compiler
  libseccomp-dev libcap-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev  # examples/file_parser gunzips with zlib
  util-linux  # setpriv, for the unprivileged test pass; nsenter
  iproute2  # tests/net_pool_test: ip tcp_metrics
  # Real programs the tests run in sandboxes (learn mode, Docker's profile)
  file libxml2-utils python3 gzip tar
  clang libclang-rt-14-dev  # tests/fuzz: libFuzzer, ASan, UBSan
  afl++  # sandbox-run --afl: tests/afl_test.sh, bench/afl_compare.sh
  # tests/qemu_cgroup_v2.sh: a qemu guest with a cgroup v2 kernel
  qemu-system-x86 busybox-static cpio xz-utils
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
