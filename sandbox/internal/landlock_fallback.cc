#include "sandbox/internal/landlock_fallback.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sandbox/internal/kernel_abi.h"
#include "sandbox/internal/util.h"
#include "sandbox/status_macros.h"

namespace sandbox::internal {
namespace {

constexpr const char* kDevNodes[] = {"/dev/null", "/dev/zero", "/dev/full",
                                     "/dev/random", "/dev/urandom"};

// Removes everything beneath the directory open at `dir`, following no
// link: each subdirectory is opened by name relative to its parent with
// O_NOFOLLOW, so a link planted in place of one is unlinked, never entered.
void RemoveContents(int dir) {
  const int listing = dup(dir);
  if (listing < 0) return;
  DIR* stream = fdopendir(listing);
  if (stream == nullptr) {
    close(listing);
    return;
  }
  while (const struct dirent* entry = readdir(stream)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (unlinkat(dir, name.c_str(), 0) == 0) continue;
    UniqueFd child(openat(dir, name.c_str(),
                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child) continue;
    RemoveContents(child.get());
    unlinkat(dir, name.c_str(), AT_REMOVEDIR);
  }
  closedir(stream);
}

// `value` with a leading tmpfs target replaced by its directory.
std::optional<std::string> RemapPath(const proto::Filesystem& fs,
                                     const std::vector<std::string>& dirs,
                                     absl::string_view value) {
  for (int i = 0; i < fs.mounts_size(); ++i) {
    if (!fs.mounts(i).has_tmpfs()) continue;
    const std::string& target = fs.mounts(i).tmpfs().target();
    if (value == target) return dirs[i];
    if (value.size() > target.size() &&
        value.substr(0, target.size()) == target &&
        value[target.size()] == '/') {
      return absl::StrCat(dirs[i], value.substr(target.size()));
    }
  }
  return std::nullopt;
}

// The probe's child: shares our memory and runs on its own small stack
// until it exits (CLONE_VFORK holds the caller until then). Raw system
// calls only.
int ProbeUserNamespaceChild(void* error) {
  // A capability of the new namespace put to use: Ubuntu's AppArmor
  // restriction lets the namespace be made and then denies every one.
  *static_cast<volatile int*>(error) =
      syscall(SYS_unshare, CLONE_NEWUTS) == 0 ? 0 : errno;
  return 0;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> UserNamespacesUnavailable() {
  // Not a mount namespace: its teardown costs milliseconds, a UTS one's
  // nothing.
  constexpr size_t kStackSize = 16 << 10;
  std::unique_ptr<char[]> stack(new char[kStackSize]);
  volatile int child_error = -1;
  const int pid = clone(ProbeUserNamespaceChild, stack.get() + kStackSize,
                        CLONE_VM | CLONE_VFORK | CLONE_NEWUSER,
                        const_cast<int*>(&child_error));
  if (pid < 0) {
    const int error = errno;
    const std::string failed =
        absl::StrCat("creating one fails with ", ErrnoName(error), " (",
                     strerror(error), ")");
    switch (error) {
      case EPERM:
        return absl::StrCat(
            failed,
            ": a seccomp profile refuses clone(CLONE_NEWUSER) and unshare, as "
            "container runtimes' default profiles do, or "
            "kernel.unprivileged_userns_clone is 0");
      case EACCES:
        return absl::StrCat(failed,
                            ": a security module (AppArmor, SELinux) refuses "
                            "it");
      case ENOSPC:
        return absl::StrCat(failed,
                            ": user.max_user_namespaces is 0 here, or every "
                            "one it allows is in use");
      case EUSERS:
        return absl::StrCat(failed, ": user namespaces are nested too deep");
      case EINVAL:
        return absl::StrCat(failed, ": this kernel has no user namespaces");
      default:
        return ErrnoStatus("clone(CLONE_NEWUSER) to probe user namespaces",
                           error);
    }
  }
  int status = 0;
  while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR) {
  }
  if (child_error == EPERM || child_error == EACCES) {
    return absl::StrCat(
        "one can be made but grants no capability (unshare(CLONE_NEWUTS) in "
        "it fails with ",
        ErrnoName(child_error),
        "): AppArmor restricts unprivileged user namespaces "
        "(kernel.apparmor_restrict_unprivileged_userns, Ubuntu 23.10 and "
        "later) and this program has no profile allowing them");
  }
  return std::nullopt;
}

absl::StatusOr<std::optional<std::string>> NeedsLandlockFallback(
    const Policy& policy) {
  const proto::Namespaces& ns = policy.proto().namespaces();
  if (!ns.user() || !ns.landlock_fallback()) return std::nullopt;
  SBX_ASSIGN_OR_RETURN(std::optional<std::string> why,
                       UserNamespacesUnavailable());
  if (why.has_value() && LandlockAbi() < 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "namespaces.landlock_fallback: user namespaces are unavailable here (",
        *why,
        ") and this kernel has no Landlock to fall back on (it needs "
        "CONFIG_SECURITY_LANDLOCK, Linux 5.13+, and \"landlock\" in the lsm= "
        "boot parameter)"));
  }
  return why;
}

absl::StatusOr<std::unique_ptr<FallbackDirs>> FallbackDirs::Make(
    const Policy& policy, const FallbackIds& ids) {
  std::unique_ptr<FallbackDirs> made(new FallbackDirs());
  const proto::Filesystem& fs = policy.proto().filesystem();
  for (int i = 0; i < fs.mounts_size(); ++i) {
    if (!fs.mounts(i).has_tmpfs()) {
      made->dirs_.emplace_back();
      continue;
    }
    std::string dir = "/tmp/sandbox-landlock-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) {
      return ErrnoStatus(absl::StrCat("mkdtemp(", dir, ") for tmpfs ",
                                      fs.mounts(i).tmpfs().target()));
    }
    made->dirs_.push_back(dir);
    UniqueFd fd(
        open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return ErrnoStatus(absl::StrCat("open(", dir, ")"));
    if (geteuid() == 0 && fchown(fd.get(), ids.uid, ids.gid) != 0) {
      return ErrnoStatus(absl::StrCat("fchown(", dir, ", ", ids.uid, ")"));
    }
  }
  return made;
}

FallbackDirs::~FallbackDirs() {
  for (const std::string& dir : dirs_) {
    if (dir.empty()) continue;
    UniqueFd fd(
        open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd) RemoveContents(fd.get());
    rmdir(dir.c_str());
  }
}

Command FallbackDirs::Remap(const Policy& policy,
                            const Command& command) const {
  const proto::Filesystem& fs = policy.proto().filesystem();
  Command remapped = command;
  const std::string& cwd = command.cwd.empty() ? fs.cwd() : command.cwd;
  if (std::optional<std::string> moved = RemapPath(fs, dirs_, cwd)) {
    remapped.cwd = *moved;
  }
  remapped.env.clear();
  bool has_tmpdir = false;
  // The command's entries come after the policy's, and win over them.
  auto add = [&](const std::string& entry) {
    const size_t eq = entry.find('=');
    const absl::string_view key = absl::string_view(entry).substr(0, eq);
    if (key == "TMPDIR") has_tmpdir = true;
    std::optional<std::string> moved =
        eq == std::string::npos
            ? std::nullopt
            : RemapPath(fs, dirs_, absl::string_view(entry).substr(eq + 1));
    remapped.env.push_back(moved ? absl::StrCat(key, "=", *moved) : entry);
  };
  for (const std::string& entry : policy.proto().env()) {
    if (RemapPath(fs, dirs_, entry.substr(entry.find('=') + 1))) add(entry);
  }
  for (const std::string& entry : command.env) add(entry);
  if (!has_tmpdir) {
    if (std::optional<std::string> tmp = RemapPath(fs, dirs_, "/tmp")) {
      remapped.env.push_back(absl::StrCat("TMPDIR=", *tmp));
    }
  }
  return remapped;
}

absl::StatusOr<LandlockRuleset> FallbackRuleset(
    const Policy& policy, const PreparedMounts& mounts,
    const std::vector<std::string>& fallback_dirs) {
  const proto::Policy& p = policy.proto();
  SBX_ASSIGN_OR_RETURN(
      LandlockRuleset ruleset,
      LandlockRuleset::Create({.abi = LandlockAbi(),
                               .restrict_tcp = p.namespaces().net(),
                               .scope_abstract_unix = p.namespaces().net(),
                               .scope_signals = p.namespaces().pid()}));
  size_t source = 0;
  for (size_t i = 0; i < mounts.mounts.size(); ++i) {
    const ChildMount& m = mounts.mounts[i];
    if (m.kind != ChildMount::Kind::kBind) continue;
    SBX_RETURN_IF_ERROR(ruleset.Allow(
        mounts.bind_sources[source++].get(),
        m.writable ? LandlockAccess::kReadWrite : LandlockAccess::kReadExecute,
        m.source));
  }
  for (const std::string& dir : fallback_dirs) {
    if (dir.empty()) continue;
    UniqueFd fd(
        open(dir.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return ErrnoStatus(absl::StrCat("open(", dir, ")"));
    SBX_RETURN_IF_ERROR(
        ruleset.Allow(fd.get(), LandlockAccess::kReadWrite, dir));
  }
  if (p.filesystem().dev()) {
    for (const char* node : kDevNodes) {
      UniqueFd fd(open(node, O_PATH | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) return ErrnoStatus(absl::StrCat("open(", node, ")"));
      SBX_RETURN_IF_ERROR(
          ruleset.Allow(fd.get(), LandlockAccess::kDevice, node));
    }
  }
  return ruleset;
}

std::vector<std::string> LandlockFallbackWarnings(const Policy& policy,
                                                  absl::string_view why,
                                                  bool has_cgroup) {
  const proto::Policy& p = policy.proto();
  const proto::Namespaces& ns = p.namespaces();
  std::vector<std::string> warnings;
  const int abi = LandlockAbi();
  warnings.push_back(absl::StrCat(
      "namespaces.landlock_fallback: user namespaces are unavailable here (",
      why, "); running without namespaces, confined by Landlock ABI ", abi,
      " and the seccomp filter"));
  auto lost = [&](bool asked, absl::string_view what) {
    if (asked) {
      warnings.push_back(
          absl::StrCat("namespaces.landlock_fallback: lost ", what));
    }
  };
  lost(true,
       "the user namespace: the sandboxee runs as a host user, not as "
       "user.uid: user.outside_uid (nobody by default) for a root host, the "
       "host's own user with its supplementary groups otherwise");
  lost(ns.pid(),
       absl::StrCat(
           "the pid namespace: the sandboxee sees every host process",
           abi >= kLandlockScopeMinAbi
               ? " (Landlock keeps it from signalling them)"
               : " and can signal those of its user (Landlock ABI 6 scopes "
                 "signals)",
           has_cgroup ? ""
                      : "; without a cgroup, processes it leaves behind are "
                        "not killed when it ends"));
  lost(ns.net(),
       absl::StrCat(
           "the network namespace: the sandboxee shares the host's network",
           abi >= kLandlockNetMinAbi
               ? "; Landlock refuses TCP bind and connect, but UDP, raw and "
                 "other sockets the filter allows reach the host's network"
               : "; nothing refuses TCP (Landlock ABI 4 would)",
           abi >= kLandlockScopeMinAbi
               ? "; abstract unix sockets outside it are refused"
               : "; abstract unix sockets of the host are reachable"));
  lost(ns.ipc(),
       "the IPC namespace: System V IPC and POSIX message queues are the "
       "host's");
  lost(ns.uts(), "the UTS namespace: the hostname is the host's");
  lost(ns.cgroup(), "the cgroup namespace: /proc/self/cgroup shows host paths");
  lost(ns.mount(),
       "the mount namespace: the sandboxee sees host paths, limited by "
       "Landlock to the policy's binds (bind targets must equal their sources) "
       "and a private directory for each tmpfs (its size is not enforced); "
       "the root is not a fresh tmpfs, and a path outside them is refused "
       "with EACCES rather than missing");
  lost(p.filesystem().proc(), "the private /proc: there is none");
  lost(p.filesystem().dev(),
       "/dev/shm and the /dev/fd, stdin, stdout, stderr links of the private "
       "/dev");
  for (const std::string& missing : LandlockMissingFeatures(abi)) {
    warnings.push_back(
        absl::StrCat("namespaces.landlock_fallback: Landlock ABI ", abi,
                     " cannot restrict ", missing));
  }
  return warnings;
}

}  // namespace sandbox::internal
