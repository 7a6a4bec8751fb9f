// A program that spawns sandboxes but links sandbox_core rather than the
// library (sandbox::sandbox): it must not link, since it would lack the
// embedded fork server helper. Built only by the link_without_helper test,
// which expects the linker to name the helper.

#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"

int main() {
  absl::StatusOr<sandbox::PolicyBuilder> builder =
      sandbox::PolicyBuilder::Default();
  if (!builder.ok()) return 1;
  absl::StatusOr<sandbox::Policy> policy = builder->Build();
  if (!policy.ok()) return 1;
  sandbox::Command command{.argv = {"/bin/true"}};
  return sandbox::Run(*policy, command).ok() ? 0 : 1;
}
