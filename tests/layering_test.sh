#!/usr/bin/env bash
# The library's include graph. A module is a file's path under sandbox/
# without its extension (internal/spawn.h and internal/spawn.cc are
# "internal/spawn"); an edge is one module including another's header.
# Fails if the graph has a cycle, if anything in internal/ or the value
# types below the API (command, comms, policy, ...) includes the public
# API's entry points (sandbox.h, worker.h), or if a public header
# (sandbox/*.h, the installed ones) includes an internal one.
set -euo pipefail
cd "$(dirname "$0")/../sandbox"

edges=$(
  for file in *.h *.cc internal/*.h internal/*.cc; do
    module=${file%.*}
    grep -o '^#include "sandbox/[a-z_/]*\.h"' "$file" |
      sed -e 's|.*"sandbox/||' -e 's|\.h"||' |
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
# Below the entry points: internal/ and the value types they take.
for file in internal/*.h internal/*.cc command.h comms.h comms.cc fd.h \
            policy.h policy_builder.h policy_builder.cc status_macros.h; do
  if grep -q '^#include "sandbox/\(sandbox\|worker\)\.h"' "$file"; then
    echo "$file includes the public API (sandbox.h or worker.h)"
    status=1
  fi
done
for file in *.h; do
  if grep -q '^#include "sandbox/internal/' "$file"; then
    echo "$file is a public header but includes an internal one:"
    grep '^#include "sandbox/internal/' "$file"
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "no cycle, no lower layer above itself, no" \
  "public header on an internal one"
exit "$status"
