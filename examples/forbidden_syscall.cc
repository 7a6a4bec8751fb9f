// A program that breaks the default policy: it asks to be traced. Under
// sandbox-run it never gets an answer; the sandbox reports the call by name
// and exits 159 (128 + SIGSYS).
//
//   build/bin/sandbox-run --ro-bind build/bin/forbidden_syscall:/prog -- /prog

#include <sys/ptrace.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main() {
  std::printf("calling ptrace(PTRACE_TRACEME)...\n");
  std::fflush(stdout);
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) {
    std::printf("ptrace failed: %s\n", std::strerror(errno));
    return 1;
  }
  std::printf("ptrace succeeded: not sandboxed\n");
  return 0;
}
