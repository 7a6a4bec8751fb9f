#!/usr/bin/env bash
# AFL++ fuzzing a target inside the sandbox (sandbox-run --afl): builds
# tests/afl/target.c with afl-clang-fast, runs afl-fuzz on it under
# sandbox-run --afl for a few seconds, with the input as a file (@@), on
# stdin, and in afl-fuzz's shared memory in persistent mode, and checks
# fuzzer_stats and what afl-fuzz found: the planted crash (abort), the
# ptrace violation as a crash of its own (SIGSYS) after which afl-fuzz
# went on, a hang that afl-fuzz timed out (it kills the pid the bridge
# reports, a stand-in of the bridge's own, whose end the bridge passes on
# to the hung child; the fork server then reports it), and none of the
# side effects the target tries from its seeds (a file written in a host
# directory, a socket, the host's System V segment, a descriptor beyond
# its stdio) -- each would have aborted it.
# Then afl-fuzz's kills in orders it meets only by chance, played by
# tests/afl/fake_afl.py, and a hostile fork server (tests/afl/liar.c) that
# names a host pid as its child and never answers.
#   afl_test.sh SANDBOX_RUN SOURCE_DIR
set -euo pipefail
sandbox_run=$1
src=$2
seconds=${SANDBOX_AFL_TEST_SECONDS:-10}
for tool in afl-fuzz afl-clang-fast python3; do
  command -v "$tool" >/dev/null ||
    { echo "afl_test: no $tool (bash tests/install-deps.sh installs afl++)"; exit 1; }
done

work=$(mktemp -d /tmp/sandbox-afl-test.XXXXXX)
chmod 755 "$work"
# A System V segment on the host, which the sandbox must not find.
key=$(( (RANDOM << 15 | RANDOM) + 1 ))
host_shm=$(python3 -c '
import ctypes, sys
libc = ctypes.CDLL(None)
print(libc.shmget(int(sys.argv[1]), 4096, 0o1666))' "$key")
cleanup() {
  python3 -c '
import ctypes, sys
ctypes.CDLL(None).shmctl(int(sys.argv[1]), 0, None)' "$host_shm" || true
  rm -rf "$work"
}
trap cleanup EXIT
[ "$host_shm" -ge 0 ] || { echo "afl_test: cannot make a host SysV segment"; exit 1; }

mkdir "$work/host"
chmod 777 "$work/host"
marker="$work/host/marker"
for variant in file shmem; do
  AFL_QUIET=1 afl-clang-fast -O1 -DMARKER_PATH="\"$marker\"" \
    -DHOST_SHM_KEY="$key" $([ $variant = shmem ] && echo -DSHMEM) \
    -o "$work/target-$variant" "$src/tests/afl/target.c"
done

# No sockets (EPERM), files written only in the sandbox's /tmp; ptrace is
# on the sandbox's fixed deny list whatever the policy says.
cat >"$work/policy.textproto" <<'POLICY'
name: "afl-test"
filesystem {
  mounts { bind { source: "/usr" } }
  mounts { bind { source: "/lib" optional: true follow_symlinks: true } }
  mounts { bind { source: "/lib64" optional: true follow_symlinks: true } }
  mounts { bind { source: "/etc/ld.so.cache" optional: true } }
  mounts { tmpfs { target: "/tmp" size: "16M" } }
  cwd: "/tmp"
}
seccomp {
  default_action: KILL
  allow_groups: [STDIO, EXIT_AND_SIGNALS, MEMORY, DYNAMIC_STARTUP,
                 FILES_READ, FILES_WRITE, DIRECTORIES]
  rules { action: ERRNO error: "EPERM" syscalls: "socket" }
}
POLICY

mkdir "$work/in"
for seed in hello a Q W S I F; do printf '%s' "$seed" >"$work/in/$seed"; done

export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_CRASH_README=1
export AFL_DEBUG_CHILD=1  # sandbox-run's stderr in the log

status=0
fail() { echo "afl_test: $*"; status=1; }

# fuzz NAME VARIANT [@@]: afl-fuzz for $seconds s, the target reading the
# file or stdin (file), or afl-fuzz's shared memory in persistent mode
# (shmem).
fuzz() {
  local name=$1 variant=$2
  shift 2
  local out="$work/out-$name"
  if ! timeout $((seconds + 60)) afl-fuzz -i "$work/in" -o "$out" \
      -V "$seconds" -t 200 -- "$sandbox_run" --afl --policy "$work/policy.textproto" \
      --ro-bind "$work/target-$variant:/target" --ro-bind "$work/host" \
      -- /target "$@" >"$work/$name.log" 2>&1; then
    tail -40 "$work/$name.log"
    fail "$name: afl-fuzz failed"
    return
  fi
  local stats="$out/default/fuzzer_stats"
  [ -f "$stats" ] || { tail -40 "$work/$name.log"; fail "$name: no fuzzer_stats"; return; }
  local execs
  execs=$(awk '/^execs_done/ {print $3}' "$stats")
  echo "$name: execs_done=$execs $(grep -E '^(execs_per_sec|saved_crashes)' "$stats" | tr -s ' ' | tr '\n' ' ')"
  [ "$execs" -ge 500 ] || fail "$name: only $execs executions"
  # What afl-fuzz kept as crashes, by first byte.
  local found
  found=$(for f in "$out"/default/crashes/id:*; do
            [ -f "$f" ] && head -c1 "$f" && echo " ${f##*/}"
          done)
  echo "$found" | sed "s/^/$name: crash /"
  echo "$found" | grep -q '^! .*sig:06' || fail "$name: the planted crash was not found"
  echo "$found" | grep -q '^P .*sig:31' ||
    fail "$name: the ptrace violation did not come back as a SIGSYS crash"
  # A seed whose side effect worked aborts in afl-fuzz's dry run, which
  # skips it with a warning.
  if echo "$found" | grep -q '^[WSIF] ' ||
     grep -q 'results in a crash' "$work/$name.log"; then
    grep 'results in a crash' "$work/$name.log"
    fail "$name: a side effect went through"
  fi
  grep -q 'violation: ptrace' "$work/$name.log" ||
    fail "$name: sandbox-run did not name the violation"
  ls "$out"/default/hangs/id:* >/dev/null 2>&1 ||
    fail "$name: no hang found (afl-fuzz's timeout and kill)"
  # The kill reached the hung child in the sandbox, and its fork server
  # reported it: no sandbox was given up for want of a status.
  if grep -q 'did not answer in time' "$work/$name.log"; then
    grep 'did not answer in time' "$work/$name.log" | head -3
    fail "$name: afl-fuzz's kill did not reach the hung child"
  fi
  [ ! -e "$marker" ] || fail "$name: the target wrote $marker on the host"
}

fuzz file file @@
fuzz stdin file
fuzz shmem shmem
# What --afl adds to a policy that does not name them is said.
grep -q 'the policy also allows clone fork wait4 kill shmget .*execve' \
  "$work/file.log" || fail "file: --afl did not say what it added"
grep -q 'SHARED MEMORY FUZZING' "$work/shmem.log" ||
  fail "shmem: afl-fuzz did not use shared memory test cases"

# afl-fuzz's kills in orders it meets only by chance, played by a script
# in its place: a kill that comes just after the status stays with its
# input, and a hang's kill reaches the child (tests/afl/fake_afl.py).
if ! timeout 120 python3 "$src/tests/afl/fake_afl.py" "$sandbox_run" \
    "$work/target-file" "$work" >"$work/fake.log" 2>&1; then
  tail -20 "$work/fake.log"
  fail "fake_afl: the kills did not reach the right child"
else
  grep '^fake_afl' "$work/fake.log"
fi

# A fork server that lies about its child's pid, naming a host process,
# and never sends a status: afl-fuzz times the input out and kills what the
# bridge reported -- the real child, by the kernel's list -- and the bridge
# ends the sandbox once the child is gone and no status came. The host
# process lives, and afl-fuzz does not hang.
sleep 600 &
victim=$!
cc -O1 -DHOST_PID="$victim" -o "$work/liar" "$src/tests/afl/liar.c"
mkdir "$work/in-liar"
printf hello >"$work/in-liar/hello"
start=$(date +%s)
timeout 120 afl-fuzz -i "$work/in-liar" -o "$work/out-liar" -V 5 -t 200 -- \
  "$sandbox_run" --afl --policy "$work/policy.textproto" \
  --ro-bind "$work/liar:/liar" -- /liar >"$work/liar.log" 2>&1 || true
took=$(( $(date +%s) - start ))
if kill -0 "$victim" 2>/dev/null; then
  echo "liar: host process $victim alive after afl-fuzz ($took s)"
  kill "$victim"
else
  fail "liar: afl-fuzz killed host process $victim, named by the sandbox"
fi
[ "$took" -lt 110 ] || fail "liar: afl-fuzz hung"
grep -q 'did not answer in time.*fresh sandbox goes on' "$work/liar.log" ||
  { tail -20 "$work/liar.log"; fail "liar: the bridge did not end the silent sandbox"; }
# Nothing of the bridge's left behind in /tmp.
if ls -d /tmp/sandbox-afl.* /dev/shm/sandbox-afl.* 2>/dev/null | grep -q .; then
  ls -ld /tmp/sandbox-afl.* /dev/shm/sandbox-afl.* 2>/dev/null | while read -r line; do
    case "$line" in *" $(id -un) "*) fail "left behind: $line" ;; esac
  done
fi
[ "$status" -eq 0 ] && echo "afl_test: ok"
exit "$status"
