// A program that initialises, then locks itself down with
// sandbox::LockDown() (exec mode, seccomp.defer_until_lockdown), then does
// what the policy forbids. Dynamically linked, unlike the static testee:
// it links the library.
//
//   lockdown_testee        open before, LockDown, LockDown again, open after
//   lockdown_testee exec   the same, with execve of /usr/bin/true after

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "sandbox/worker.h"

namespace {

void Say(const char* key, const std::string& value) {
  std::printf("%s=%s\n", key, value.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  // Initialisation: the policy does not allow open, the filter is not in.
  const int before = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
  Say("before", before >= 0 ? "ok" : "error");
  absl::Status locked = sandbox::LockDown();
  Say("lockdown", locked.ok() ? "ok" : locked.ToString());
  absl::Status again = sandbox::LockDown();
  Say("again", absl::StatusCodeToString(again.code()));
  // Hostile from here on: this open (or execve) is a violation.
  if (argc > 1 && std::string(argv[1]) == "exec") {
    char* const args[] = {const_cast<char*>("/usr/bin/true"), nullptr};
    execve(args[0], args, environ);
    Say("exec_failed", "1");
    return 0;
  }
  const int after = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
  Say("after", after >= 0 ? "ok" : "error");
  return 0;
}
