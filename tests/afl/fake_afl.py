#!/usr/bin/env python3
"""afl-fuzz's side of the fork-server protocol, scripted, for tests/afl_test.sh.

Runs `sandbox-run --afl -- /target @@` (target.c built with afl-clang-fast)
the way afl-fuzz 4.04c does -- its pipes on 198 and 199, a System V map in
__AFL_SHM_ID, the test case in OUT/.cur_input made anew for each input --
and plays the kills afl-fuzz makes, in orders afl-fuzz only hits by chance:

1. A slow input ('D', 300 ms) whose status has come, and only then a kill of
   the pid we were told: afl-fuzz's timeout fired just as the status came.
   Its next word is 1 (the last input timed out). The next input, slow too,
   must end well: that late kill is the last input's, and must not reach
   the next child.
2. A hang ('H'): we kill the pid we were told, and the status must follow
   (the child's own SIGKILL) within a few seconds.

The pid told must be a process of sandbox-run's own, never one in the
sandbox.  Usage: fake_afl.py SANDBOX_RUN TARGET WORKDIR
"""

import ctypes
import os
import select
import signal
import struct
import subprocess
import sys
import time

IPC_PRIVATE, IPC_CREAT, IPC_RMID = 0, 0o1000, 0


def main():
    sandbox_run, target, work = sys.argv[1:4]
    libc = ctypes.CDLL(None, use_errno=True)
    shm = libc.shmget(IPC_PRIVATE, 65536, IPC_CREAT | 0o600)
    if shm < 0:
        sys.exit("fake_afl: shmget failed")
    out = os.path.join(work, "out-fake")
    os.makedirs(out)
    cur = os.path.join(out, ".cur_input")
    control_r, control_w = os.pipe()
    status_r, status_w = os.pipe()
    os.dup2(control_r, 198)
    os.dup2(status_w, 199)
    env = dict(os.environ, __AFL_SHM_ID=str(shm))
    bridge = subprocess.Popen(
        [sandbox_run, "--afl", "--ro-bind", target + ":/target", "--",
         "/target", cur],
        pass_fds=(198, 199), env=env, stdin=subprocess.DEVNULL)
    for fd in (198, 199, control_r, status_w):
        os.close(fd)
    failures = []

    def word(timeout):
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < 4:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([status_r], [], [], left)[0]:
                return None
            chunk = os.read(status_r, 4 - len(data))
            if not chunk:
                return None
            data += chunk
        return struct.unpack("<i", data)[0]

    def run(test_case, go, name):
        """Writes the test case and `go`; returns the pid told."""
        if os.path.exists(cur):
            os.unlink(cur)
        with open(cur, "wb") as f:
            f.write(test_case)
        os.write(control_w, struct.pack("<I", go))
        pid = word(10)
        if pid is None or pid <= 0:
            sys.exit(f"fake_afl: {name}: no pid")
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except FileNotFoundError:
            parent = None
        if parent != bridge.pid:
            failures.append(f"{name}: pid {pid} told is no live process of "
                            f"sandbox-run's own (its parent: {parent})")
        return pid

    try:
        if word(30) is None:
            sys.exit("fake_afl: no hello from the fork server")
        # 1. The kill that comes after the status.
        pid = run(b"D", 0, "slow input")
        status = word(10)
        if status is None or not os.WIFEXITED(status):
            failures.append(f"slow input: status {status}, expected an exit")
        os.kill(pid, signal.SIGKILL)
        next_pid = run(b"D", 1, "the input after the late kill")
        if next_pid == pid:
            failures.append("the killed pid was told again")
        status = word(10)
        if status is None or not os.WIFEXITED(status):
            failures.append(f"the input after the late kill ended with status "
                            f"{status}: the last input's kill reached it")
        # 2. A hang, killed through the pid told.
        pid = run(b"H", 0, "hang")
        time.sleep(0.3)
        if word(0) is not None:
            failures.append("hang: a status before the kill")
        os.kill(pid, signal.SIGKILL)
        status = word(10)
        if status is None or not (os.WIFSIGNALED(status) and
                                  os.WTERMSIG(status) == signal.SIGKILL):
            failures.append(f"hang: status {status} after the kill, expected "
                            f"SIGKILL")
        # Once more after the kill: the bridge goes on.
        run(b"a", 1, "after the hang")
        status = word(10)
        if status is None or not os.WIFEXITED(status):
            failures.append(f"after the hang: status {status}")
    finally:
        os.close(control_w)
        try:
            bridge.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bridge.kill()
            failures.append("sandbox-run did not end when its pipe closed")
        libc.shmctl(shm, IPC_RMID, None)
    for failure in failures:
        print(f"fake_afl: {failure}")
    if failures:
        sys.exit(1)
    print("fake_afl: ok (a late kill stays with its input; a hang's kill "
          "reaches the child)")


if __name__ == "__main__":
    main()
