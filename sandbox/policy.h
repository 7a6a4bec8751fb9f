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

class Policy;
namespace internal {
// What the library itself needs of a policy:
// sandbox/internal/policy_internal.h.
struct PolicyState;
const PolicyState& StateOf(const Policy& policy);
}  // namespace internal

class Policy {
 public:
  // The normalised policy: every optional field set to its effective value.
  const proto::Policy& proto() const;
  const ResolvedLimits& limits() const;
  const std::string& name() const { return proto().name(); }

 private:
  friend class PolicyBuilder;
  friend const internal::PolicyState& internal::StateOf(const Policy& policy);
  explicit Policy(std::shared_ptr<const internal::PolicyState> state)
      : state_(std::move(state)) {}

  std::shared_ptr<const internal::PolicyState> state_;
};

}  // namespace sandbox

#endif  // SANDBOX_POLICY_H_
