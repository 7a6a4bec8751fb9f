#!/usr/bin/env bash
# The library's include graph: a module is a file name without its
# extension (spawn.h and spawn.cc are "spawn"); an edge is one module
# including another's header. Fails if the graph has a cycle, or if a layer
# below the public API (sandbox.h, worker.h) includes it.
set -euo pipefail
cd "$(dirname "$0")/../sandbox"

edges=$(
  for file in *.h *.cc; do
    module=${file%.*}
    grep -o '^#include "sandbox/[a-z_]*\.h"' "$file" |
      sed -e 's|.*sandbox/||' -e 's|\.h"||' |
      while read -r dep; do
        [ "$dep" != "$module" ] && echo "$dep $module"
      done || true
  done | sort -u
)
if ! echo "$edges" | tsort >/dev/null 2>/tmp/layering-tsort.$$; then
  echo "include cycle in sandbox/:"
  cat /tmp/layering-tsort.$$
  rm -f /tmp/layering-tsort.$$
  exit 1
fi
rm -f /tmp/layering-tsort.$$

status=0
for lower in spawn child_setup fork_server cgroup comms seccomp_compiler \
             supervisor policy policy_builder bpf_evaluator untrusted_fd wipe \
             result util command cgroup_detect; do
  for file in "$lower.h" "$lower.cc"; do
    [ -f "$file" ] || continue
    if grep -q '^#include "sandbox/\(sandbox\|worker\)\.h"' "$file"; then
      echo "$file includes the public API (sandbox.h or worker.h)"
      status=1
    fi
  done
done
[ "$status" -eq 0 ] && echo "no cycle, no lower layer above itself"
exit "$status"
