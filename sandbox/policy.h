// Policy: a validated, compiled sandbox policy. A value type: it holds the
// normalised policy message (every default filled in) and the seccomp
// program compiled once for it, and touches no OS state. Copies are cheap
// and share the compiled parts.
//
// Policies are made by PolicyBuilder (from code or a text file):
//
//   SBX_ASSIGN_OR_RETURN(sandbox::Policy policy,
//                        sandbox::PolicyBuilder()
//                            .AddBind("/usr")
//                            .AllowSyscalls({"read", "write", "exit_group"})
//                            .Build());

#ifndef SANDBOX_POLICY_H_
#define SANDBOX_POLICY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/policy.pb.h"
#include "sandbox/seccomp_compiler.h"

namespace sandbox {

// Sizes and numbers of a policy, parsed once at Build().
struct ResolvedLimits {
  uint64_t nofile = 0;
  uint64_t file_size = 0;      // 0: no limit
  uint64_t address_space = 0;  // 0: no limit
  uint64_t memory = 0;         // 0: no cap
  uint64_t root_size = 0;
  // Parallel to filesystem.mounts; 0 for binds.
  std::vector<uint64_t> tmpfs_sizes;
};

class Policy {
 public:
  // The normalised policy: every optional field set to its effective value.
  const proto::Policy& proto() const { return impl_->proto; }
  const SeccompProgram& seccomp_program() const { return impl_->seccomp; }
  // With seccomp.defer_until_lockdown: the filter until LockDown() (see
  // CompileLockDownPrelude); empty otherwise.
  const SeccompProgram& lockdown_prelude() const {
    return impl_->lockdown_prelude;
  }
  const ResolvedLimits& limits() const { return impl_->limits; }

  // The descriptor number through which the child hands its seccomp
  // notification fd to the supervisor (see seccomp_compiler.h). It equals the
  // RLIMIT_NOFILE hard limit, so the sandboxee can never hold it again.
  int bootstrap_fd() const { return static_cast<int>(impl_->limits.nofile); }

  const std::string& name() const { return impl_->proto.name(); }

  // Unique in this process for each Build() result (copies share it), so
  // that a fork server can cache what it prepared for a policy.
  uint64_t id() const { return impl_->id; }
  // Whether the filter allows clock_gettime(CLOCK_MONOTONIC): only then may
  // the child read the clock once the filter is in (the vDSO falls back to
  // the system call where the clock source has no vDSO support), to time
  // the seccomp phase.
  bool filter_allows_clock() const { return impl_->filter_allows_clock; }

 private:
  friend class PolicyBuilder;
  struct Impl {
    proto::Policy proto;
    SeccompProgram seccomp;
    SeccompProgram lockdown_prelude;
    ResolvedLimits limits;
    uint64_t id = 0;
    bool filter_allows_clock = false;
  };
  explicit Policy(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace sandbox

#endif  // SANDBOX_POLICY_H_
