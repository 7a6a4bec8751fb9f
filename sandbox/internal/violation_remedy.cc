#include "sandbox/internal/violation_remedy.h"

#include <linux/prctl.h>

#include <array>
#include <cstdint>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/internal/syscall_groups.h"

namespace sandbox::internal {

void ExplainViolation(proto::Violation& violation) {
  if (violation.arch() != "x86_64") {
    violation.set_remedy(
        absl::StrCat("a system call of a foreign ABI (", violation.arch(),
                     "): never allowed, whatever the policy says"));
    return;
  }
  std::array<uint64_t, 6> args = {};
  for (int i = 0; i < violation.args_size() && i < 6; ++i) {
    args[i] = violation.args(i);
  }
  const std::string& name = violation.syscall();
  if (absl::c_linear_search(FixedDenyList(), name)) {
    violation.set_remedy(absl::StrCat(
        "on the fixed deny list: name it in seccomp.dangerous_allow and allow "
        "it with a rule, if this sandbox may give up what that list "
        "protects"));
    return;
  }
  if (name == "clone" && (args[0] & kNamespaceCloneFlags) != 0) {
    violation.set_remedy(
        "clone with namespace flags: on the fixed deny list (name clone in "
        "seccomp.dangerous_allow to lift it)");
    return;
  }
  if (name == "prctl" && static_cast<uint32_t>(args[0]) == PR_SET_SECCOMP) {
    violation.set_remedy(
        "prctl(PR_SET_SECCOMP): on the fixed deny list with seccomp (name "
        "seccomp in seccomp.dangerous_allow to lift it)");
    return;
  }
  for (std::string& group : GroupsAllowing(violation.nr(), args)) {
    violation.add_groups(std::move(group));
  }
  if (violation.groups().empty()) {
    violation.set_remedy(
        "in no group with these arguments: allow it with a rule in "
        "seccomp.rules");
  } else {
    violation.set_remedy(absl::StrCat(violation.groups_size() == 1
                                          ? "allowed by group "
                                          : "allowed by groups ",
                                      absl::StrJoin(violation.groups(), ", ")));
  }
}

}  // namespace sandbox::internal
