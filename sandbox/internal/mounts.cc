#include "sandbox/internal/mounts.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/internal/kernel_abi.h"
#include "sandbox/internal/util.h"
#include "sandbox/internal/wipe.h"
#include "sandbox/status_macros.h"

namespace sandbox::internal {
namespace {

constexpr uint32_t kDefaultTmpfsMode = 01777;

const char* Keep(PreparedMounts& prepared, std::string value) {
  return prepared.strings.emplace_back(std::move(value)).c_str();
}

// A bind that cannot be made, found here: the sandbox ends as SETUP_ERROR
// without running. `hint` says what to change, when there is something.
void FailBind(PreparedMounts& prepared, const std::string& description,
              const proto::BindMount& bind, int error, absl::string_view hint) {
  proto::SetupError failure;
  failure.set_step("bind");
  failure.set_errno_value(error);
  failure.set_errno_name(ErrnoName(error));
  failure.set_message(absl::StrCat(
      description, ": source ", bind.source(), ": ", strerror(error), " (",
      ErrnoName(error), ")", hint.empty() ? "" : "; ", hint));
  prepared.early_failure = std::move(failure);
}

// Opens a bind's source, the one time it is resolved: never through a magic
// link (/proc/<pid>/root, cwd, fd/...), whose target is whatever that
// process sees, and through no symlink at all unless the policy says so.
// A symlink in a host directory that some sandbox may write is how a
// sandbox would hand the next one any host path. Fills `child` with what
// the child needs to mount exactly this object; false (with
// prepared.early_failure set unless the bind is skipped) if there is none.
bool PrepareBind(const proto::BindMount& bind, const std::string& description,
                 PreparedMounts& prepared, ChildMount& child) {
  const uint64_t resolve = RESOLVE_NO_MAGICLINKS |
                           (bind.follow_symlinks() ? 0 : RESOLVE_NO_SYMLINKS);
  UniqueFd source(
      Openat2(AT_FDCWD, bind.source().c_str(), O_PATH | O_CLOEXEC, resolve));
  struct stat st;
  if (!source || fstat(source.get(), &st) != 0) {
    const int error = errno;
    if (bind.optional() && (error == ENOENT || error == ENOTDIR)) return false;
    absl::string_view hint;
    if (error == ELOOP) {
      hint = bind.follow_symlinks()
                 ? "magic links (/proc/<pid>/root, cwd, fd/...) are never "
                   "followed"
                 : "a symbolic link on the way, not followed without "
                   "bind.follow_symlinks";
    }
    FailBind(prepared, description, bind, error, hint);
    return false;
  }
  // The child looks the object up again by path (a descriptor opened in
  // this mount namespace cannot be bound in the child's), so it needs the
  // canonical one. Without symlinks followed, that is the normalised source
  // itself; otherwise the kernel says where the links led.
  std::string canonical = bind.source();
  if (bind.follow_symlinks()) {
    const std::string link = absl::StrCat("/proc/self/fd/", source.get());
    char path[PATH_MAX];
    const ssize_t length = readlink(link.c_str(), path, sizeof(path));
    if (length < 0 || static_cast<size_t>(length) >= sizeof(path) ||
        path[0] != '/') {
      // Unreachable from our root, or /proc is missing.
      FailBind(prepared, description, bind, length < 0 ? errno : EXDEV,
               absl::StrCat("cannot name the path ", link, " leads to"));
      return false;
    }
    canonical.assign(path, static_cast<size_t>(length));
  }
  child.kind = ChildMount::Kind::kBind;
  child.source = Keep(prepared, std::move(canonical));
  child.source_dev = st.st_dev;
  child.source_ino = st.st_ino;
  child.target = Keep(prepared, bind.target());
  child.writable = bind.writable();
  child.source_is_dir = S_ISDIR(st.st_mode);
  // Open until after clone: the child's copy pins the inode it compares.
  prepared.bind_sources.push_back(std::move(source));
  return true;
}

// In the probe child: raw system calls only (the host may have threads).
[[noreturn]] void ProbeProcMount() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    _exit(200);
  }
  _exit(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) == 0
            ? 0
            : (errno & 0x7f) + 1);
}

// What is mounted below /proc in this mount namespace (mount points from
// /proc/self/mountinfo), for the message.
std::vector<std::string> MountsBelowProc() {
  std::vector<std::string> below;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    if (!(fields >> id >> parent >> device >> root >> mount_point)) continue;
    if (absl::StartsWith(mount_point, "/proc/")) below.push_back(mount_point);
  }
  return below;
}

}  // namespace

absl::Status CheckProcMountable(bool user_ns) {
  struct stat ns;
  if (stat("/proc/self/ns/mnt", &ns) != 0) {
    return absl::OkStatus();  // no /proc at all: the mount reports it
  }
  static absl::Mutex mu(absl::kConstInit);
  // By mount namespace and user_ns: the kernel's answer for each.
  static auto* answers ABSL_GUARDED_BY(mu) =
      new absl::flat_hash_map<std::pair<ino_t, bool>, int>();
  int error = 0;
  {
    absl::MutexLock lock(&mu);
    auto it = answers->find({ns.st_ino, user_ns});
    if (it != answers->end()) {
      error = it->second;
    } else {
      CloneArgs args = {};
      args.flags = CLONE_NEWNS | CLONE_NEWPID | (user_ns ? CLONE_NEWUSER : 0);
      args.exit_signal = SIGCHLD;
      const long pid = Clone3OrClone(args);
      if (pid == 0) ProbeProcMount();
      if (pid < 0) return absl::OkStatus();  // clone3 reports it for real
      int status = 0;
      while (waitpid(static_cast<pid_t>(pid), &status, 0) < 0 &&
             errno == EINTR) {
      }
      // 200: could not make its mounts private; no answer about /proc.
      error = WIFEXITED(status) && WEXITSTATUS(status) != 200
                  ? (WEXITSTATUS(status) == 0 ? 0 : WEXITSTATUS(status) - 1)
                  : 0;
      answers->emplace(std::make_pair(ns.st_ino, user_ns), error);
    }
  }
  if (error == 0) return absl::OkStatus();
  const std::vector<std::string> below = MountsBelowProc();
  return absl::FailedPreconditionError(absl::StrCat(
      "filesystem.proc: the kernel refuses this sandbox a /proc of its own (",
      ErrnoName(error),
      "): it mounts a new procfs only where all of one is "
      "visible, and here ",
      below.empty() ? "something hides part of /proc"
                    : absl::StrCat("/proc has ", absl::StrJoin(below, ", "),
                                   " mounted over it"),
      ", as container runtimes mask /proc. Run the container with /proc "
      "unmasked (Docker: --security-opt systempaths=unconfined; Kubernetes: "
      "securityContext.procMount: Unmasked), or set filesystem.proc: false "
      "(no /proc in the sandbox)"));
}

// A validation failure at a field path such as
// "filesystem.mounts[2].bind.source".
absl::Status FieldError(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// Checks an absolute path without "." or ".." components and returns it
// without duplicate or trailing slashes.
absl::StatusOr<std::string> NormalizeAbsolutePath(absl::string_view path,
                                                  absl::string_view field) {
  if (path.empty()) return FieldError(field, "must not be empty");
  if (path[0] != '/') {
    return FieldError(
        field, absl::StrCat("must be an absolute path, got '", path, "'"));
  }
  if (path.find('\0') != absl::string_view::npos) {
    return FieldError(field, "must not contain a NUL byte");
  }
  std::string normalized;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == "." || part == "..") {
      return FieldError(field, absl::StrCat("must not contain '", part,
                                            "' components, got '", path, "'"));
    }
    absl::StrAppend(&normalized, "/", part);
  }
  if (normalized.empty()) normalized = "/";
  if (normalized.size() >= 4000) return FieldError(field, "path is too long");
  return normalized;
}

absl::StatusOr<uint64_t> ParseSizeField(absl::string_view text,
                                        absl::string_view field) {
  absl::StatusOr<uint64_t> size = ParseSize(text);
  if (!size.ok()) return FieldError(field, size.status().message());
  return *size;
}

absl::Status ValidateMounts(proto::Filesystem& fs,
                            std::vector<uint64_t>& tmpfs_sizes) {
  tmpfs_sizes.assign(fs.mounts_size(), 0);
  for (int i = 0; i < fs.mounts_size(); ++i) {
    proto::Mount& mount = *fs.mutable_mounts(i);
    const std::string field = absl::StrCat("filesystem.mounts[", i, "]");
    std::string target;
    switch (mount.kind_case()) {
      case proto::Mount::kBind: {
        proto::BindMount& bind = *mount.mutable_bind();
        SBX_ASSIGN_OR_RETURN(
            std::string source,
            NormalizeAbsolutePath(bind.source(), field + ".bind.source"));
        bind.set_source(source);
        if (bind.target().empty()) bind.set_target(source);
        SBX_ASSIGN_OR_RETURN(
            target,
            NormalizeAbsolutePath(bind.target(), field + ".bind.target"));
        bind.set_target(target);
        if (target == "/") {
          return FieldError(field + ".bind.target",
                            "cannot replace the root; bind below it");
        }
        break;
      }
      case proto::Mount::kTmpfs: {
        proto::TmpfsMount& tmpfs = *mount.mutable_tmpfs();
        SBX_ASSIGN_OR_RETURN(
            target,
            NormalizeAbsolutePath(tmpfs.target(), field + ".tmpfs.target"));
        tmpfs.set_target(target);
        if (target == "/") {
          return FieldError(field + ".tmpfs.target",
                            "use filesystem.root_size for the root");
        }
        if (tmpfs.size().empty()) {
          return FieldError(field + ".tmpfs.size",
                            "is required: every writable tmpfs has a size");
        }
        SBX_ASSIGN_OR_RETURN(
            tmpfs_sizes[i],
            ParseSizeField(tmpfs.size(), field + ".tmpfs.size"));
        if (tmpfs_sizes[i] == 0) {
          return FieldError(field + ".tmpfs.size", "must be greater than 0");
        }
        if (!tmpfs.has_mode()) tmpfs.set_mode(kDefaultTmpfsMode);
        if (tmpfs.mode() > 07777) {
          return FieldError(
              field + ".tmpfs.mode",
              absl::StrFormat("0%o is not a permission mode", tmpfs.mode()));
        }
        break;
      }
      case proto::Mount::KIND_NOT_SET:
        return FieldError(field, "needs either bind or tmpfs");
    }
    // The host's root stays there until the sandbox is built: a mount
    // point made below it would be made on the host.
    if (target == kOldRoot ||
        absl::StartsWith(target, absl::StrCat(kOldRoot, "/"))) {
      return FieldError(
          field, absl::StrCat("target ", target, " is inside ", kOldRoot,
                              ", where the sandbox keeps the host's root "
                              "while it is built"));
    }
    // /proc and /dev are built by the sandbox itself.
    for (const char* reserved : {"/proc", "/dev"}) {
      const bool owned =
          absl::string_view(reserved) == "/proc" ? fs.proc() : fs.dev();
      if (owned && (target == reserved ||
                    absl::StartsWith(target, absl::StrCat(reserved, "/")))) {
        return FieldError(
            field, absl::StrCat("target ", target, " is inside ", reserved,
                                ", which the sandbox builds itself (set "
                                "filesystem.",
                                reserved + 1,
                                ": false to "
                                "supply your own)"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status PrepareMounts(const Policy& policy, PreparedMounts& prepared) {
  const proto::Filesystem& fs = policy.proto().filesystem();
  for (int i = 0; i < fs.mounts_size(); ++i) {
    const proto::Mount& mount = fs.mounts(i);
    ChildMount child = {};
    if (mount.has_tmpfs()) {
      const proto::TmpfsMount& tmpfs = mount.tmpfs();
      child.kind = ChildMount::Kind::kTmpfs;
      child.target = Keep(prepared, tmpfs.target());
      child.tmpfs_size =
          Keep(prepared, absl::StrCat(policy.limits().tmpfs_sizes[i]));
      child.tmpfs_mode = Keep(prepared, absl::StrFormat("0%o", tmpfs.mode()));
      child.writable = true;
      prepared.descriptions.push_back(
          absl::StrCat("tmpfs ", tmpfs.target(), " (size ", tmpfs.size(), ")"));
      prepared.mounts.push_back(child);
      continue;
    }
    const proto::BindMount& bind = mount.bind();
    const std::string description =
        absl::StrCat(bind.writable() ? "bind " : "ro-bind ", bind.source(),
                     " -> ", bind.target());
    if (!PrepareBind(bind, description, prepared, child)) {
      if (prepared.early_failure.has_value()) return absl::OkStatus();
      continue;  // optional and missing
    }
    prepared.descriptions.push_back(description);
    prepared.mounts.push_back(child);
  }
  for (const std::string& description : prepared.descriptions) {
    prepared.description_ptrs.push_back(description.c_str());
  }
  return absl::OkStatus();
}

PreparedMounts::~PreparedMounts() {
  WipeStrings(strings);
  WipeStrings(descriptions);
}

}  // namespace sandbox::internal
