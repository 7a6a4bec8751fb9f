// What the library needs of a Policy beyond its public face: the compiled
// filter, the bootstrap descriptor, the id a fork server caches it by, and
// building a policy from a filter compiled elsewhere. Internal.

#ifndef SANDBOX_INTERNAL_POLICY_INTERNAL_H_
#define SANDBOX_INTERNAL_POLICY_INTERNAL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/policy.h"

namespace sandbox {
class PolicyBuilder;
}  // namespace sandbox

namespace sandbox::internal {

struct PolicyState {
  proto::Policy proto;
  SeccompProgram seccomp;
  // With seccomp.defer_until_lockdown: the filter until LockDown() (see
  // CompileLockDownPrelude); empty otherwise.
  SeccompProgram lockdown_prelude;
  ResolvedLimits limits;
  // Unique in this process for each Build() result (copies share it), so
  // that a fork server can cache what it built for a policy.
  uint64_t id = 0;
  // Whether the filter allows clock_gettime(CLOCK_MONOTONIC): only then may
  // the child read the clock once the filter is in (the vDSO falls back to
  // the system call where the clock source has no vDSO support), to time
  // the seccomp phase.
  bool filter_allows_clock = false;

  // The descriptor number through which the child hands its seccomp
  // listener to the supervisor (see seccomp_compiler.h). It equals the
  // RLIMIT_NOFILE hard limit, so the sandboxee can never hold it again.
  int bootstrap_fd() const { return static_cast<int>(limits.nofile); }
};

// As builder.Build(), but with the seccomp program compiled by an earlier
// Build() of the same (normalised) policy instead of compiling it again:
// the fork server receives both from the host.
[[nodiscard]] absl::StatusOr<Policy> BuildWithProgram(
    const PolicyBuilder& builder, SeccompProgram program);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_POLICY_INTERNAL_H_
