// The README's library example, as a program built and run by the tests
// (examples_test checks that the README shows this file from its first
// #include on, word for word).
#include <cstdio>

#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"

int main() {
  // The shipped default policy (every namespace, a read-only /usr, a 64M
  // /tmp, a Docker-like allow-list), with a 10 s wall clock.
  absl::StatusOr<sandbox::PolicyBuilder> builder =
      sandbox::PolicyBuilder::Default();
  if (!builder.ok()) return 1;
  absl::StatusOr<sandbox::Policy> policy =
      builder->SetWallTime(absl::Seconds(10)).Build();
  if (!policy.ok()) {
    std::fprintf(stderr, "%s\n", policy.status().ToString().c_str());
    return 1;
  }
  // The sandbox gets only the descriptors it is given; here the host's
  // stdio.
  sandbox::Command command{
      .argv = {"/bin/sh", "-c", "echo hello from $(hostname)"},
      .inherit_stdio = true};
  absl::StatusOr<sandbox::proto::Result> result =
      sandbox::Run(*policy, command);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    return 1;
  }
  // How it ended is data: OK, SIGNALED, VIOLATION (with the call), ...
  std::printf("%s exit_code=%d\n",
              sandbox::proto::Result::Status_Name(result->status()).c_str(),
              result->exit_code());
  return 0;
}
