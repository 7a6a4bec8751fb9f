// Landlock, the kernel's unprivileged access control, through its raw
// system calls (no Debian package wraps them): which ABI this kernel speaks,
// and rulesets the host builds for a child to enforce on itself. Internal.
//
//   SBX_ASSIGN_OR_RETURN(
//       LandlockRuleset ruleset,
//       LandlockRuleset::Create({.abi = LandlockAbi(), .restrict_tcp = true}));
//   UniqueFd usr(open("/usr", O_PATH | O_CLOEXEC));
//   SBX_RETURN_IF_ERROR(
//       ruleset.Allow(usr.get(), LandlockAccess::kReadExecute, "/usr"));
//   // In the child, after PR_SET_NO_NEW_PRIVS (a raw system call):
//   syscall(SYS_landlock_restrict_self, ruleset.fd(), 0);
//
// A ruleset is a descriptor: it can be handed to another process (the fork
// server) and enforced there. Rules added after a process enforced it do not
// change that process's domain.

#ifndef SANDBOX_INTERNAL_LANDLOCK_H_
#define SANDBOX_INTERNAL_LANDLOCK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/fd.h"

namespace sandbox::internal {

// The Landlock ABI version of the running kernel
// (landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)): 1 in
// Linux 5.13, 4 (TCP) in 6.7, 6 (scoping) in 6.12; 0 where Landlock is not
// built in or not enabled (the "lsm=" boot parameter). Asked once.
int LandlockAbi();

// What a rule allows beneath a directory, or on a file (then only what
// applies to files: execute, read, write, truncate, ioctl).
enum class LandlockAccess {
  // Read files, list directories, execute.
  kReadExecute,
  // Every right the ruleset handles: also write, truncate, make and remove
  // entries of any kind, link and rename within and across allowed trees.
  kReadWrite,
  // A device node: read, write (truncating too) and ioctl.
  kDevice,
};

struct LandlockOptions {
  // The ABI to build for (LandlockAbi()): the ruleset handles every
  // filesystem right it knows, so that what no rule allows is denied.
  int abi = 0;
  // Deny TCP bind and connect to every port (ABI 4+; ignored before).
  bool restrict_tcp = false;
  // Keep the domain from connecting to abstract unix sockets, and from
  // signalling processes, outside it (ABI 6+; ignored before).
  bool scope_abstract_unix = false;
  bool scope_signals = false;
};

class LandlockRuleset {
 public:
  // A ruleset with no rule yet. FailedPrecondition when `options.abi` is
  // 0 (no Landlock), the errno of landlock_create_ruleset otherwise.
  [[nodiscard]] static absl::StatusOr<LandlockRuleset> Create(
      const LandlockOptions& options);

  // Allows `access` beneath the directory, or on the file, open at `fd`
  // (O_PATH will do). `path` names it in errors. The errno of
  // landlock_add_rule or fstat.
  [[nodiscard]] absl::Status Allow(int fd, LandlockAccess access,
                                   absl::string_view path);

  int fd() const { return fd_.get(); }
  // The filesystem rights this ruleset handles (denies unless allowed).
  uint64_t handled_fs() const { return handled_fs_; }

 private:
  LandlockRuleset() = default;
  UniqueFd fd_;
  uint64_t handled_fs_ = 0;
};

// What Landlock ABI `abi` cannot enforce of what the sandbox asks of it, one
// phrase each ("truncate(2) of files outside the writable paths (ABI 3)");
// empty from ABI 6 on.
std::vector<std::string> LandlockMissingFeatures(int abi);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_LANDLOCK_H_
