// The system call groups of Seccomp.allow_groups: the table in
// sandbox/syscall_groups.textproto, compiled into the library, and what is
// computed from it.
//
//   SBX_ASSIGN_OR_RETURN(const proto::SyscallGroupTable* table,
//                        internal::SyscallGroups());
//   std::vector<std::string> names =
//       internal::GroupsAllowing(__NR_socket, {AF_INET, SOCK_STREAM, 0});
//
// The compiler adds a group's rules to the policy's own
// (seccomp_compiler.cc); violation reports and learn mode ask which groups
// would have allowed a call.

#ifndef SANDBOX_INTERNAL_SYSCALL_GROUPS_H_
#define SANDBOX_INTERNAL_SYSCALL_GROUPS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/policy.pb.h"

namespace sandbox::internal {

// The parsed table, once per process. Internal if the compiled-in text does
// not parse or a group is missing or defined twice (a build defect the
// tests catch first).
[[nodiscard]] absl::StatusOr<const proto::SyscallGroupTable*> SyscallGroups();

// The definition of `group`; nullptr for SYSCALL_GROUP_UNSPECIFIED or a
// number no group has.
const proto::SyscallGroupDefinition* FindGroup(proto::SyscallGroup group);

// Replaces seccomp.allow_groups with the groups' rules, appended to
// seccomp.rules: the same filter, spelled out (for tools that edit or
// translate rules). InvalidArgument for a group that does not exist.
[[nodiscard]] absl::Status InlineGroups(proto::Seccomp& seccomp);

// Whether `rule`'s conditions all hold for `args`, as the kernel's filter
// compares them (64-bit, unsigned). Names are not checked.
bool ConditionsHold(const proto::SyscallRule& rule,
                    const std::array<uint64_t, 6>& args);

// The names of the groups with a rule allowing system call `nr` (x86-64)
// with `args`, in table order. The sandbox's own conditions (no namespace
// flags on clone, no PR_SET_SECCOMP) are not repeated here: a call they
// refuse is refused whatever the groups say.
std::vector<std::string> GroupsAllowing(int nr,
                                        const std::array<uint64_t, 6>& args);

// policies/GROUPS.md: every group, what it grants, its calls and their
// conditions.
std::string GroupsMarkdown();

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_SYSCALL_GROUPS_H_
