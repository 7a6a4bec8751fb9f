#!/usr/bin/env bash
# Quick-start demo: installs what is missing, builds, and shows what a
# sandboxed program sees next to what the host sees.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
run=build/bin/sandbox-run

interfaces() { tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' '; }
echo "== the host"
echo "pid=$$ uid=$(id -u) hostname=$(hostname) interfaces: $(interfaces)"

echo
echo "== the same questions inside sandbox-run (default policy)"
# shellcheck disable=SC2016
$run -- /bin/sh -c '
  interfaces() { tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\n" " "; }
  echo "pid=$$ (its parent, pid $PPID, is the sandbox init) uid=$(id -u) hostname=$(hostname) interfaces: $(interfaces)"
  echo "id mapping (inside outside count): $(cat /proc/self/uid_map)"
  echo "capabilities: $(grep CapEff /proc/self/status | cut -f2) no_new_privs=$(grep NoNewPrivs /proc/self/status | cut -f2)"
  echo "what is at the root: $(ls / | tr "\n" " ")"'

echo
echo "== reading /etc/shadow inside the sandbox"
$run -- /bin/cat /etc/shadow 2>&1 || echo "(exit status $?)"

echo
echo "== a program calling ptrace"
status=0
$run --result-json /tmp/sandbox-demo-result.json \
  --ro-bind "$(pwd)/build/bin/forbidden_syscall:/prog" -- /prog 2>&1 || status=$?
echo "(exit status $status)"
echo "result: $(cat /tmp/sandbox-demo-result.json)"
rm -f /tmp/sandbox-demo-result.json
