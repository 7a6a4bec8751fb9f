// A program that initialises, then locks itself down with
// sandbox::LockDown() (exec mode, seccomp.defer_until_lockdown), then does
// what the policy forbids. Dynamically linked, unlike the static testee:
// it links the library.
//
//   lockdown_testee        open before, LockDown, LockDown again, open after

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "sandbox/worker.h"

namespace {

void Say(const char* key, const std::string& value) {
  std::printf("%s=%s\n", key, value.c_str());
  std::fflush(stdout);
}

}  // namespace

int main() {
  // Initialisation: the policy does not allow open, the filter is not in.
  const int before = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
  Say("before", before >= 0 ? "ok" : "error");
  absl::Status locked = sandbox::LockDown();
  Say("lockdown", locked.ok() ? "ok" : locked.ToString());
  absl::Status again = sandbox::LockDown();
  Say("again", absl::StatusCodeToString(again.code()));
  // Hostile from here on: this open is a violation.
  const int after = open("/usr/bin/true", O_RDONLY | O_CLOEXEC);
  Say("after", after >= 0 ? "ok" : "error");
  return 0;
}
