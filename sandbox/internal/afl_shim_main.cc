// sandbox-afl-shim: the part of `sandbox-run --afl` that runs inside the
// sandbox. It gives an AFL++-instrumented program what its runtime expects
// -- a System V coverage map named by __AFL_SHM_ID and the fork-server pipes
// on descriptors 198 and 199 -- from inside the sandbox's own IPC namespace,
// and relays the fork-server protocol to the bridge on the host:
//
//   sandbox-afl-shim MAP_BYTES PROGRAM [ARGS...]
//   fd 3: a SOCK_SEQPACKET socket to the bridge; fd 4: a memfd of MAP_BYTES
//
// Per input: the bridge's go (4 bytes) -> the map zeroed, the go passed on;
// the fork server's child pid -> the pid and a pidfd of that child (opened
// here, in the sandbox's pid namespace, so that the kernel names its host
// pid to the bridge); the wait status -> the map copied into the memfd, then
// the status. The bridge believes none of it beyond what the kernel vouches
// for (the pidfd) and checks every length.
//
// Statically linked, libc only: it runs under the policy's filter, in a
// root that need not hold any library.

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/internal/afl_protocol.h"

namespace sandbox {
namespace {

using internal::afl::kControlFd;
using internal::afl::ReadAll;
using internal::afl::WriteAll;
constexpr int kBridgeFd = internal::afl::kShimChannelFd;
constexpr int kMapFd = internal::afl::kShimMapFd;

[[noreturn]] void Fail(const char* what) {
  fprintf(stderr, "sandbox-afl-shim: %s: %s\n", what, strerror(errno));
  _exit(1);
}

// One record to the bridge: a 32-bit word, and a descriptor if fd >= 0.
bool SendWord(uint32_t word, int fd = -1) {
  iovec iov = {&word, sizeof(word)};
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  }
  ssize_t n;
  do {
    n = sendmsg(kBridgeFd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == sizeof(word);
}

bool ReceiveWord(uint32_t* word) {
  ssize_t n;
  do {
    n = recv(kBridgeFd, word, sizeof(*word), 0);
  } while (n < 0 && errno == EINTR);
  return n == sizeof(*word);
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) {
  using namespace sandbox;  // NOLINT: the shim's own names
  if (argc < 3) {
    fprintf(stderr, "usage: sandbox-afl-shim MAP_BYTES PROGRAM [ARGS...]\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long map_bytes = strtoul(argv[1], &end, 10);
  if (*end != '\0' || map_bytes == 0 ||
      map_bytes > internal::afl::kMaxMapBytes) {
    errno = EINVAL;
    Fail("MAP_BYTES");
  }
  struct stat map_stat;
  if (fstat(kMapFd, &map_stat) != 0) Fail("fstat(memfd)");
  if (static_cast<unsigned long>(map_stat.st_size) < map_bytes) {
    errno = EINVAL;
    Fail("memfd smaller than MAP_BYTES");
  }
  // The map the program's runtime attaches, in the sandbox's own IPC
  // namespace: nothing of the host's.
  const int shm_id = shmget(IPC_PRIVATE, map_bytes, IPC_CREAT | 0600);
  if (shm_id < 0) Fail("shmget");
  auto* inside = static_cast<uint8_t*>(shmat(shm_id, nullptr, 0));
  if (inside == reinterpret_cast<void*>(-1)) Fail("shmat");
  // Gone with the last detach: the program's and ours.
  shmctl(shm_id, IPC_RMID, nullptr);
  auto* shared = static_cast<uint8_t*>(
      mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, kMapFd, 0));
  if (shared == MAP_FAILED) Fail("mmap(memfd)");

  int control[2];
  int status_pipe[2];
  if (pipe2(control, O_CLOEXEC) != 0 || pipe2(status_pipe, O_CLOEXEC) != 0) {
    Fail("pipe2");
  }
  char shm_env[32];
  snprintf(shm_env, sizeof(shm_env), "%d", shm_id);
  const pid_t server = fork();
  if (server < 0) Fail("fork");
  if (server == 0) {
    if (dup2(control[0], kControlFd) < 0 ||
        dup2(status_pipe[1], internal::afl::kStatusFd) < 0) {
      Fail("dup2");
    }
    close(kBridgeFd);
    close(kMapFd);
    if (setenv("__AFL_SHM_ID", shm_env, 1) != 0) Fail("setenv");
    execvp(argv[2], argv + 2);
    fprintf(stderr, "sandbox-afl-shim: execvp %s: %s\n", argv[2],
            strerror(errno));
    _exit(127);
  }
  close(control[0]);
  close(status_pipe[1]);
  // A fork server gone mid-write ends the shim by EOF, not SIGPIPE (set
  // after the fork: an ignored signal stays ignored across execve).
  signal(SIGPIPE, SIG_IGN);
  const int to_server = control[1];
  const int from_server = status_pipe[0];

  uint32_t hello = 0;
  if (!ReadAll(from_server, &hello, sizeof(hello))) {
    fprintf(stderr,
            "sandbox-afl-shim: %s did not start a fork server "
            "(not built with afl-clang-fast?)\n",
            argv[2]);
    return 1;
  }
  // Only what the program writes is zeroed and copied (the bridge applies
  // the same rule on its side).
  const size_t used = internal::afl::MapBytesUsed(hello, map_bytes);
  if (!SendWord(hello)) return 0;

  for (;;) {
    uint32_t go = 0;
    if (!ReceiveWord(&go)) return 0;  // the bridge is done
    memset(inside, 0, used);
    if (!WriteAll(to_server, &go, sizeof(go))) Fail("fork server (go)");
    int32_t child = 0;
    if (!ReadAll(from_server, &child, sizeof(child))) {
      Fail("fork server (pid)");
    }
    // A child already reaped has no pidfd: the bridge reports a pid that
    // names nothing it could hurt.
    const int pidfd =
        child > 0 ? static_cast<int>(syscall(SYS_pidfd_open, child, 0)) : -1;
    if (!SendWord(static_cast<uint32_t>(child), pidfd)) return 0;
    if (pidfd >= 0) close(pidfd);
    uint32_t status = 0;
    if (!ReadAll(from_server, &status, sizeof(status))) {
      Fail("fork server (status)");
    }
    memcpy(shared, inside, used);
    if (!SendWord(status)) return 0;
  }
}
