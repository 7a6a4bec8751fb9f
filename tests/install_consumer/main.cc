// Runs /bin/true and a forbidden call through the installed library.
#include <cstdio>

#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  absl::StatusOr<sandbox::PolicyBuilder> builder =
      sandbox::PolicyBuilder::FromTextFile(argv[1]);
  if (!builder.ok()) return 3;
  absl::StatusOr<sandbox::Policy> policy = builder->Build();
  if (!policy.ok()) return 4;
  // The shipped default, from the library itself.
  absl::StatusOr<sandbox::PolicyBuilder> compiled_in =
      sandbox::PolicyBuilder::Default();
  if (!compiled_in.ok() || !compiled_in->Build().ok()) return 7;
  sandbox::Command command;
  command.argv = {"/bin/sh", "-c", "exit 7"};
  absl::StatusOr<sandbox::proto::Result> result =
      sandbox::Run(*policy, command);
  if (!result.ok()) {
    std::fprintf(stderr, "%s\n", result.status().ToString().c_str());
    return 5;
  }
  std::printf("status=%s exit_code=%d\n",
              sandbox::proto::Result::Status_Name(result->status()).c_str(),
              result->exit_code());
  return result->exit_code() == 7 ? 0 : 6;
}
