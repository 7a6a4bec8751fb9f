// namespaces.landlock_fallback: a sandbox without namespaces, for hosts
// where user namespaces cannot be made, confined by Landlock in their place.
// The host decides (NeedsLandlockFallback), makes a private directory for
// each tmpfs of the policy (FallbackDirs) and lists what is lost in the
// Result (LandlockFallbackWarnings); the process that clones builds the
// Landlock ruleset of the policy's view (FallbackRuleset), which the child
// enforces on itself after no_new_privs. Internal.
//
//   SBX_ASSIGN_OR_RETURN(std::optional<std::string> why,
//                        NeedsLandlockFallback(policy));
//   if (why.has_value()) {
//     SBX_ASSIGN_OR_RETURN(FallbackIds ids, LandlockFallbackIds(policy));
//     SBX_ASSIGN_OR_RETURN(std::unique_ptr<FallbackDirs> dirs,
//                          FallbackDirs::Make(policy, ids));
//     Command remapped = dirs->Remap(policy, command);
//     // request.landlock_fallback = true; request.fallback_dirs = ...
//   }

#ifndef SANDBOX_INTERNAL_LANDLOCK_FALLBACK_H_
#define SANDBOX_INTERNAL_LANDLOCK_FALLBACK_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/command.h"
#include "sandbox/internal/landlock.h"
#include "sandbox/internal/mounts.h"
#include "sandbox/policy.h"

namespace sandbox::internal {

// Why this process cannot give a sandbox a user namespace of its own, or
// nullopt if it can. Asked of the kernel each time (about 50 us): a child
// sharing our memory asks for a user namespace and puts a capability in it
// to use. Unavailable when making one fails with EPERM (a seccomp profile,
// as container runtimes' defaults; a chroot), EACCES (a security module),
// ENOSPC (user.max_user_namespaces 0, or used up), EUSERS (nested too deep)
// or EINVAL (no user namespaces in this kernel), or when one is made but
// its capabilities are denied (Ubuntu's AppArmor restriction). Any other
// failure of the probe (no memory, no process left) is the Status.
[[nodiscard]] absl::StatusOr<std::optional<std::string>>
UserNamespacesUnavailable();

// What to tell a policy's author where user namespaces are unavailable.
inline constexpr char kLandlockFallbackHint[] =
    "Set namespaces.landlock_fallback: true in the policy (sandbox-run "
    "--landlock-fallback) to run without namespaces, confined by Landlock, "
    "with the Result's warnings saying what that loses";

// Why a spawn of `policy` runs without namespaces: the reason user
// namespaces are unavailable here (UserNamespacesUnavailable), when the
// policy asks for one and opts in to the fallback; nullopt otherwise (the
// spawn goes on as the policy says, and fails as before where it cannot).
// FailedPrecondition when the fallback is needed but this kernel has no
// Landlock.
[[nodiscard]] absl::StatusOr<std::optional<std::string>> NeedsLandlockFallback(
    const Policy& policy);

// Who the sandboxee is without a user namespace (LandlockFallbackIds in
// internal/spawn.h picks them).
struct FallbackIds {
  uid_t uid = 0;
  gid_t gid = 0;
  bool clear_groups = false;
  // Whether this process may drop the bounding set and lock securebits
  // (CAP_SETPCAP); without it there is no capability to drop, and
  // no_new_privs keeps any from being gained by exec.
  bool can_setpcap = false;
};

// A private directory for each tmpfs of the policy, in /tmp, mode 0700,
// owned by the sandboxee (`ids`, for a root host); removed (without following
// any link the sandboxee planted) with this object.
class FallbackDirs {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FallbackDirs>> Make(
      const Policy& policy, const FallbackIds& ids);
  ~FallbackDirs();
  FallbackDirs(const FallbackDirs&) = delete;
  FallbackDirs& operator=(const FallbackDirs&) = delete;

  // Parallel to filesystem.mounts: the directory standing in for a tmpfs,
  // "" for a bind.
  const std::vector<std::string>& dirs() const { return dirs_; }

  // `command` with what names a tmpfs target moved to its directory: the
  // working directory (the command's, else the policy's), and environment
  // values (the policy's and the command's) that are a tmpfs target or
  // beneath one. TMPDIR is set to the directory of a tmpfs at /tmp, where
  // there is one and nothing sets TMPDIR.
  Command Remap(const Policy& policy, const Command& command) const;

 private:
  FallbackDirs() = default;
  std::vector<std::string> dirs_;
};

// Spawn side: the Landlock ruleset of `policy`'s view. Read and execute
// beneath each read-only bind (`mounts`, as PrepareMounts opened them),
// everything beneath writable binds and each of `fallback_dirs`, read and
// write on /dev/null, zero, full, random and urandom with filesystem.dev.
// TCP bind and connect denied with namespaces.net (ABI 4+); abstract unix
// sockets scoped with namespaces.net, signals with namespaces.pid (ABI 6+).
[[nodiscard]] absl::StatusOr<LandlockRuleset> FallbackRuleset(
    const Policy& policy, const PreparedMounts& mounts,
    const std::vector<std::string>& fallback_dirs);

// What the sandbox loses against what `policy` asks for, one warning each,
// for the Result: `why` user namespaces are unavailable, each namespace,
// the private /proc and /dev, the sandbox user, the Landlock ABI in use and
// what it cannot enforce. `has_cgroup`: the sandbox has a cgroup, which
// kills what it leaves behind (without one, nothing does).
std::vector<std::string> LandlockFallbackWarnings(const Policy& policy,
                                                  absl::string_view why,
                                                  bool has_cgroup);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_LANDLOCK_FALLBACK_H_
