#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test
# with ctest, first as the current user and then, when that is root, again
# as an unprivileged user (uid 65534) with user namespaces, the way most
# people run the library.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

bash tests/install-deps.sh
# Every build here treats warnings as errors (SANDBOX_WERROR): gcc's in
# these, clang's (with -Wthread-safety) in the fuzz build.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANDBOX_WERROR=ON \
  >/dev/null
cmake --build build -j"$(nproc)"

echo "== tests as $(id -un) (uid $(id -u))"
ctest --test-dir build --output-on-failure -j2

# A short run of each fuzzer (tests/fuzz): its own clang build, build-fuzz.
# Any crash, sanitizer report, leak or hang fails the run.
fuzz_seconds=${SANDBOX_FUZZ_SECONDS:-20}
echo "== fuzzers, ${fuzz_seconds} s each"
SANDBOX_WERROR=ON bash tests/fuzz/run.sh "$fuzz_seconds"

if [ "$(id -u)" -ne 0 ]; then
  exit 0
fi

# The unprivileged pass needs a tree uid 65534 can read. The checkout may sit
# under a private directory (e.g. /root): then build a copy in /tmp.
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
unpriv_top=$top
if ! "${as_nobody[@]}" test -x "$top/build/bin/sandbox_test"; then
  unpriv_top=$(mktemp -d /tmp/sandbox-unpriv.XXXXXX)
  chmod 755 "$unpriv_top"
  echo "== $top is not readable by uid 65534; building a copy in $unpriv_top"
  git ls-files -z | xargs -0 cp --parents -t "$unpriv_top"
  cmake -S "$unpriv_top" -B "$unpriv_top/build" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSANDBOX_WERROR=ON >/dev/null
  cmake --build "$unpriv_top/build" -j"$(nproc)"
  chmod -R a+rX "$unpriv_top"
fi
mkdir -p "$unpriv_top/build/Testing/Temporary"
chmod -R a+rwX "$unpriv_top/build/Testing"
echo "== tests as uid 65534 (unprivileged, user namespaces)"
# Not in this pass: the cgroup backend tests and the cgroup limits
# (LimitsTest), which create cgroups and so need root (their unprivileged
# cases -- the clear error without delegation, a delegated directory -- run
# here as LimitsWithoutDelegationTest and in the root pass, in children that
# drop to uid 65534); the qemu guest, which runs as root inside; and
# the user namespace maps only root can write (NestedUserNamespaceAsRoot);
# the install and link tests, since `cmake --install` and the link write
# into the root-owned build tree (the install test runs the installed
# library as uid 65534 in the root pass); and the look into a waiting
# prewarmed sandbox's /proc/<pid>/fd, which is not dumpable, so only root
# or the owner of the host's user namespace may read it (it runs in the
# root pass and as root of the user namespaces below).
not_as_nobody='PrewarmTest.AWaitingSandboxHoldsOnlyItsSyncSocketAndRunsNothing'
cd /tmp
"${as_nobody[@]}" env HOME=/tmp ctest --test-dir "$unpriv_top/build" \
  --output-on-failure -j2 \
  -E "^CgroupTest\\.|^LimitsTest\\.|NestedUserNamespaceAsRootTest\\.|_v2_in_qemu\$|^install_and_find_package\$|^link_without_helper\$|^$not_as_nobody\$"

# Where users deploy: a representative part of the suite (isolation view,
# violations, limits' errors, examples, the CLI, capture, learn mode, the
# fork server and zygotes) inside user namespaces, as rootless containers
# and pods with user namespaces run their processes:
#  - as the root of a namespace mapping 0..65535 to 100000.. (a container
#    with a /etc/subuid range), and as uid 1000 inside it;
#  - as the root of `unshare -Urmpf --mount-proc` run by uid 65534 (one id
#    mapped: its own).
# None of them can make cgroups, so the cgroup limits are the clear error.
representative=(sandbox_test violation_test examples_test cli_test
  capture_test learn_test fork_server_test zygote_test landlock_fallback_test
  input_worker_test net_pool_test prewarm_test)
in_userns=$top/build/bin/in_user_namespace
run_representative() {
  local t filter=()
  # Not as uid 1000: see not_as_nobody.
  [[ " $* " == *" --uid "* ]] && filter=("--gtest_filter=-$not_as_nobody")
  for t in "${representative[@]}"; do
    "$@" env HOME=/tmp "$unpriv_top/build/bin/$t" --gtest_brief=1 "${filter[@]}"
  done
  "$@" env HOME=/tmp "$unpriv_top/build/bin/limits_test" --gtest_brief=1 \
    --gtest_filter='LimitsWithoutDelegationTest.*'
}
echo "== representative tests as root of a user namespace with a range map"
run_representative "$in_userns" --
echo "== representative tests as uid 1000 inside that user namespace"
run_representative "$in_userns" --uid 1000 --
echo "== representative tests as root of unshare -Urmpf --mount-proc (uid 65534)"
run_representative "${as_nobody[@]}" unshare -Urmpf --mount-proc
# A container's root that owns its network namespace could make and join
# namespaces, but cannot flush their TCP metrics (that takes CAP_NET_ADMIN
# in the initial user namespace): its fork server must not pool them.
echo "== net_pool_test as root of unshare -Urnmpf (its own network namespace)"
"${as_nobody[@]}" unshare -Urnmpf --mount-proc env HOME=/tmp \
  "$unpriv_top/build/bin/net_pool_test" --gtest_brief=1
