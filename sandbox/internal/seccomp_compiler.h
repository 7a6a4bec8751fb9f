// Compiles the seccomp section of a policy into a classic BPF program with
// libseccomp, once per policy, in the parent. The child only installs the
// exported instructions.
//
//   SBX_ASSIGN_OR_RETURN(
//       SeccompProgram program,
//       CompileSeccomp(policy.seccomp(), {.bootstrap_fd = 1024}));
//
// Every program, whatever the policy says:
//  - never runs foreign ABIs (i386 `int 0x80`, x32 system call numbers):
//    reported to the supervisor where the program has a listener, else
//    killed;
//  - denies the fixed deny list (FixedDenyList()) unless a syscall is named in
//    seccomp.dangerous_allow; a rule allowing one that is not named there is
//    an InvalidArgument error. `seccomp` is on it, and a rule allowing prctl
//    gets the condition option != PR_SET_SECCOMP (or is refused if its own
//    condition on the option would let PR_SET_SECCOMP through): a filter of
//    the sandboxee's own could outrank our user notification with ERRNO and
//    hide its forbidden calls. When dangerous_allow names seccomp, every
//    forbidden call is SECCOMP_RET_KILL_PROCESS instead of a notification,
//    since nothing a later filter returns outranks that;
//  - allows `clone` only without namespace-creating flags, and fails `clone3`
//    with ENOSYS (its flags sit behind a pointer the filter cannot read), so
//    that libc falls back to clone;
//  - allows sendmsg(bootstrap_fd, ...) and recvmsg(bootstrap_fd, ...) so
//    that the child can tell its supervisor where the seccomp listener is
//    after installing the filter, and wait until the host has taken it. The
//    caller picks a descriptor number the sandboxee can never hold again (at
//    or above its RLIMIT_NOFILE hard limit);
//  - sends execve, unless a rule names it, to the supervisor, which allows
//    the program's own first one in exec mode and treats any other like the
//    default action (first_exec_by_supervisor);
//  - sends every call no rule matches to the default action: KILL becomes
//    SECCOMP_RET_USER_NOTIF (the supervisor reports the call and kills the
//    sandbox), ERRNO fails it.
// Rule action KILL is also a user notification, so the report names the call.

#ifndef SANDBOX_INTERNAL_SECCOMP_COMPILER_H_
#define SANDBOX_INTERNAL_SECCOMP_COMPILER_H_

#include <linux/filter.h>
#include <sched.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "sandbox/policy.pb.h"

namespace sandbox {

// Clone flags that create namespaces. `clone` is only ever allowed with
// none of them set, whatever the policy says (unless it names clone in
// dangerous_allow).
inline constexpr uint64_t kNamespaceCloneFlags =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
    CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;

struct SeccompCompileOptions {
  // See above; -1 for no bootstrap hole (tests of pure policy evaluation).
  int bootstrap_fd = -1;
};

struct SeccompProgram {
  std::vector<sock_filter> instructions;
  // True when some action is SECCOMP_RET_USER_NOTIF, so the child must
  // install the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER.
  bool uses_notify = false;
  // No rule names execve: it goes to the supervisor, which lets the
  // program's own first one through in exec mode (and no other).
  bool first_exec_by_supervisor = false;
  // With first_exec_by_supervisor and default_action ERRNO: the errno every
  // other execve fails with. 0: it is a violation.
  int later_exec_errno = 0;
  // Learn mode (internal/learn.h): this program sends every call to the
  // supervisor, which judges it by the base policy's own filter, here.
  std::shared_ptr<const std::vector<sock_filter>> learn_base;
};

// Validates and compiles `seccomp`. Errors are InvalidArgument naming the
// field, e.g. "seccomp.rules[2].syscalls[0]: unknown system call 'opne'".
[[nodiscard]] absl::StatusOr<SeccompProgram> CompileSeccomp(
    const proto::Seccomp& seccomp, const SeccompCompileOptions& options);

// The filter a sandboxee whose policy sets seccomp.defer_until_lockdown runs
// under from the start until LockDown() installs the policy's own: every
// call allowed but the fixed deny list, namespace-creating clone flags and
// prctl(PR_SET_SECCOMP) (killed outright: SECCOMP_RET_KILL_PROCESS, which no
// later filter outranks; this filter has no listener), clone3 (ENOSYS), and
// seccomp(SECCOMP_SET_MODE_FILTER) with other flags than LockDown() uses
// (`lockdown_notifies`: SECCOMP_FILTER_FLAG_NEW_LISTENER). Foreign ABIs are
// killed. What dangerous_allow names stays allowed.
[[nodiscard]] absl::StatusOr<SeccompProgram> CompileLockDownPrelude(
    const proto::Seccomp& seccomp, bool lockdown_notifies);

// The system calls a policy cannot allow without naming them in
// seccomp.dangerous_allow.
absl::Span<const char* const> FixedDenyList();

// The clone flags that create namespaces: clone is allowed only with none of
// them set unless seccomp.dangerous_allow names clone.
uint64_t NamespaceCloneFlags();

// Name of system call `nr` for audit architecture `arch` (AUDIT_ARCH_*), via
// libseccomp; "syscall_<nr>" if unknown.
std::string SyscallName(uint32_t arch, int nr);

// Short name of an audit architecture, e.g. "x86_64", "i386", "x32".
std::string ArchName(uint32_t arch);

}  // namespace sandbox

#endif  // SANDBOX_INTERNAL_SECCOMP_COMPILER_H_
