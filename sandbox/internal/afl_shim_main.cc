// sandbox-afl-shim: the part of `sandbox-run --afl` that runs inside the
// sandbox, once per sandbox. It gives an AFL++-instrumented program the
// System V coverage map its runtime attaches (__AFL_SHM_ID), made in the
// sandbox's own IPC namespace, and starts the program with the bridge's
// fork-server pipes on 198 and 199 (mapped there by the bridge):
//
//   sandbox-afl-shim MAP_BYTES FUZZ_BYTES PROGRAM [ARGS...]
//   fd 3: a SOCK_SEQPACKET socket to the bridge, for one record
//
// With FUZZ_BYTES other than 0 it also makes the segment a program built
// with __AFL_FUZZ_TESTCASE_BUF reads its test cases from
// (__AFL_SHM_FUZZ_ID), the same way.
//
// The record (ShimRecord): the addresses of the segments in this process,
// with pidfds of this process and of the program, opened here in the
// sandbox's pid namespace so that the kernel names their host pids to the
// bridge. The bridge then writes each test case, zeroes the map before
// each input and reads its coverage after, through /proc/<host pid>/mem of
// this process, and talks to the program's fork server directly; this
// process waits for the program and keeps the segments. The bridge
// believes nothing of the record but what the kernel vouches for (the
// pidfds); a wrong address reads or writes wrong bytes of the sandbox's
// own memory, which a sandboxee could write into the map anyway.
//
// Statically linked, libc only: it runs under the policy's filter, in a
// root that need not hold any library.

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/internal/afl_protocol.h"

namespace sandbox {
namespace {

constexpr int kBridgeFd = internal::afl::kShimChannelFd;

[[noreturn]] void Fail(const char* what) {
  fprintf(stderr, "sandbox-afl-shim: %s: %s\n", what, strerror(errno));
  _exit(1);
}

// The one record to the bridge: the segments' addresses and two pidfds.
bool SendRecord(internal::afl::ShimRecord record, int self, int program) {
  iovec iov = {&record, sizeof(record)};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(2 * sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
  const int fds[2] = {self, program};
  memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
  ssize_t n;
  do {
    n = sendmsg(kBridgeFd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == sizeof(record);
}

// A segment of `bytes`, attached here; its id as text in `id`. Removed
// now, so gone with the last detach: the program's and ours.
uint64_t Segment(unsigned long bytes, char* id, size_t id_size) {
  const int shm_id = shmget(IPC_PRIVATE, bytes, IPC_CREAT | 0600);
  if (shm_id < 0) Fail("shmget");
  void* address = shmat(shm_id, nullptr, 0);
  if (address == reinterpret_cast<void*>(-1)) Fail("shmat");
  shmctl(shm_id, IPC_RMID, nullptr);
  snprintf(id, id_size, "%d", shm_id);
  return reinterpret_cast<uintptr_t>(address);
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) {
  using namespace sandbox;  // NOLINT: the shim's own names
  if (argc < 4) {
    fprintf(stderr,
            "usage: sandbox-afl-shim MAP_BYTES FUZZ_BYTES PROGRAM "
            "[ARGS...]\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long map_bytes = strtoul(argv[1], &end, 10);
  if (*end != '\0' || map_bytes == 0 ||
      map_bytes > internal::afl::kMaxMapBytes) {
    errno = EINVAL;
    Fail("MAP_BYTES");
  }
  const unsigned long fuzz_bytes = strtoul(argv[2], &end, 10);
  if (*end != '\0' || fuzz_bytes > internal::afl::kMaxFuzzBytes) {
    errno = EINVAL;
    Fail("FUZZ_BYTES");
  }
  // The segments the program's runtime attaches, in the sandbox's own IPC
  // namespace: nothing of the host's.
  char shm_env[32];
  internal::afl::ShimRecord record = {};
  record.map_address = Segment(map_bytes, shm_env, sizeof(shm_env));
  char fuzz_env[32] = "";
  if (fuzz_bytes != 0) {
    record.fuzz_address = Segment(fuzz_bytes, fuzz_env, sizeof(fuzz_env));
  }
  const pid_t program = fork();
  if (program < 0) Fail("fork");
  if (program == 0) {
    close(kBridgeFd);
    if (setenv("__AFL_SHM_ID", shm_env, 1) != 0) Fail("setenv");
    if (fuzz_env[0] != '\0' && setenv("__AFL_SHM_FUZZ_ID", fuzz_env, 1) != 0) {
      Fail("setenv");
    }
    execvp(argv[3], argv + 3);
    fprintf(stderr, "sandbox-afl-shim: execvp %s: %s\n", argv[3],
            strerror(errno));
    _exit(127);
  }
  // The pipes are the program's and the bridge's: the bridge sees the
  // program's end of them as the end of the fork server.
  close(internal::afl::kControlFd);
  close(internal::afl::kStatusFd);
  const int self = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  const int child = static_cast<int>(syscall(SYS_pidfd_open, program, 0));
  if (self < 0 || child < 0) Fail("pidfd_open");
  if (!SendRecord(record, self, child)) {
    Fail("send to the bridge");
  }
  close(self);
  close(child);
  close(kBridgeFd);
  int status = 0;
  while (waitpid(program, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
