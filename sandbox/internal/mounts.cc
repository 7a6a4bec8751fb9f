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

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
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

namespace {

// How long a template serves: a host mount made inside a bind source
// afterwards reaches new sandboxes at most this much later.
constexpr absl::Duration kTemplateMaxAge = absl::Seconds(1);
constexpr size_t kMaxTemplates = 8;

// Whether `plan` can start from a template: the host's root waits on the
// template's /dev/shm during pivot_root, the root stays read-only, and
// every mount point exists before any tmpfs of the sandbox's own.
bool TemplateFits(const ChildPlan& plan) {
  if (!plan.mount_dev || plan.writable_root) return false;
  for (size_t i = 0; i < plan.mount_count; ++i) {
    if (plan.mounts[i].kind != ChildMount::Kind::kTmpfs) continue;
    const std::string below = absl::StrCat(plan.mounts[i].target, "/");
    for (size_t j = 0; j < plan.mount_count; ++j) {
      if (absl::StartsWith(plan.mounts[j].target, below)) return false;
    }
  }
  return true;
}

// What a template is made of: the same key, the same tree.
std::string TemplateKey(const ChildPlan& plan) {
  std::string key = absl::StrCat(plan.root_tmpfs_data, "|", plan.mount_proc);
  for (size_t i = 0; i < plan.mount_count; ++i) {
    const ChildMount& m = plan.mounts[i];
    absl::StrAppend(&key, "|", static_cast<int>(m.kind), ":", m.target, ":",
                    m.writable, ":", m.source_is_dir);
    if (m.kind == ChildMount::Kind::kBind) {
      absl::StrAppend(&key, ":", m.source_dev, ":", m.source_ino);
    }
  }
  return key;
}

// A detached tmpfs with `options` ("size=1M,mode=0755").
absl::StatusOr<UniqueFd> DetachedTmpfs(absl::string_view options,
                                       uint64_t attributes) {
  UniqueFd context(
      static_cast<int>(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC)));
  if (!context) return ErrnoStatus("fsopen(tmpfs)");
  for (absl::string_view option : absl::StrSplit(options, ',')) {
    std::pair<std::string, std::string> kv = absl::StrSplit(option, '=');
    if (syscall(SYS_fsconfig, context.get(), FSCONFIG_SET_STRING,
                kv.first.c_str(), kv.second.c_str(), 0) != 0) {
      return ErrnoStatus(absl::StrCat("fsconfig(tmpfs, ", option, ")"));
    }
  }
  if (syscall(SYS_fsconfig, context.get(), FSCONFIG_CMD_CREATE, nullptr,
              nullptr, 0) != 0) {
    return ErrnoStatus("fsconfig(tmpfs, create)");
  }
  UniqueFd tree(static_cast<int>(
      syscall(SYS_fsmount, context.get(), FSMOUNT_CLOEXEC, attributes)));
  if (!tree) return ErrnoStatus("fsmount(tmpfs)");
  return tree;
}

// The superblock under `tree` read-only: no mount of it, in any sandbox,
// can write. Turning it back needs CAP_SYS_ADMIN in this process's user
// namespace, which no sandbox has.
absl::Status MakeSuperblockReadOnly(int tree) {
  UniqueFd context(static_cast<int>(
      syscall(SYS_fspick, tree, "", FSPICK_CLOEXEC | FSPICK_EMPTY_PATH)));
  if (!context) return ErrnoStatus("fspick(template)");
  if (syscall(SYS_fsconfig, context.get(), FSCONFIG_SET_FLAG, "ro", nullptr,
              0) != 0 ||
      syscall(SYS_fsconfig, context.get(), FSCONFIG_CMD_RECONFIGURE, nullptr,
              nullptr, 0) != 0) {
    return ErrnoStatus("fsconfig(template, ro)");
  }
  return absl::OkStatus();
}

absl::Status SetTreeAttributes(int tree, uint64_t set, bool recursive) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  if (syscall(SYS_mount_setattr, tree, "",
              AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr,
              sizeof(attr)) != 0) {
    return ErrnoStatus("mount_setattr(template)");
  }
  return absl::OkStatus();
}

// Moves detached `tree` onto `mount_point` (an O_PATH descriptor).
absl::Status Attach(int tree, int mount_point, absl::string_view what) {
  if (syscall(SYS_move_mount, tree, "", mount_point, "",
              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
    return ErrnoStatus(absl::StrCat("move_mount(template, ", what, ")"));
  }
  return absl::OkStatus();
}

// The minimal /dev, as the child makes it: the host's nodes bound on
// empty files, the /dev/fd links, the /dev/shm mount point, all read-only,
// nosuid and noexec.
absl::StatusOr<UniqueFd> TemplateDev() {
  SBX_ASSIGN_OR_RETURN(UniqueFd dev,
                       DetachedTmpfs("size=64k,mode=755",
                                     MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  for (const char* node : kMinimalDevNodes) {
    UniqueFd point(OpenMountPoint(dev.get(), node, false));
    if (!point) return ErrnoStatus(absl::StrCat("template /dev/", node));
    UniqueFd host(static_cast<int>(
        syscall(SYS_open_tree, AT_FDCWD, absl::StrCat("/dev/", node).c_str(),
                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
    if (!host) return ErrnoStatus(absl::StrCat("open_tree(/dev/", node, ")"));
    SBX_RETURN_IF_ERROR(Attach(host.get(), point.get(), node));
  }
  for (const auto& [target, name] : {std::pair{"/proc/self/fd", "fd"},
                                     {"/proc/self/fd/0", "stdin"},
                                     {"/proc/self/fd/1", "stdout"},
                                     {"/proc/self/fd/2", "stderr"}}) {
    if (symlinkat(target, dev.get(), name) != 0) {
      return ErrnoStatus(absl::StrCat("template /dev/", name));
    }
  }
  if (mkdirat(dev.get(), "shm", 01777) != 0) {
    return ErrnoStatus("template /dev/shm");
  }
  SBX_RETURN_IF_ERROR(SetTreeAttributes(
      dev.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
      true));
  SBX_RETURN_IF_ERROR(MakeSuperblockReadOnly(dev.get()));
  return dev;
}

// `refused`: this process may not make a file system at all.
absl::StatusOr<UniqueFd> BuildMountTemplate(const ChildPlan& plan,
                                            const PreparedMounts& prepared,
                                            bool& refused) {
  absl::StatusOr<UniqueFd> made =
      DetachedTmpfs(plan.root_tmpfs_data, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  if (!made.ok()) {
    refused = absl::IsPermissionDenied(made.status());
    return made.status();
  }
  UniqueFd root = std::move(*made);
  {
    UniqueFd point(OpenMountPoint(root.get(), "/dev", true));
    if (!point) return ErrnoStatus("template /dev");
    SBX_ASSIGN_OR_RETURN(UniqueFd dev, TemplateDev());
    SBX_RETURN_IF_ERROR(Attach(dev.get(), point.get(), "/dev"));
  }
  if (plan.mount_proc && mkdirat(root.get(), "proc", 0755) != 0) {
    return ErrnoStatus("template /proc");
  }
  size_t source = 0;
  for (size_t i = 0; i < plan.mount_count; ++i) {
    const ChildMount& m = plan.mounts[i];
    const bool bind = m.kind == ChildMount::Kind::kBind;
    UniqueFd point(
        OpenMountPoint(root.get(), m.target, !bind || m.source_is_dir));
    if (!point) return ErrnoStatus(absl::StrCat("template ", m.target));
    if (!bind) continue;  // the child's own tmpfs goes there
    if (source >= prepared.bind_sources.size()) {
      return absl::InternalError("template: fewer bind sources than binds");
    }
    // The very object PrepareMounts opened, with its submounts.
    UniqueFd tree(static_cast<int>(syscall(
        SYS_open_tree, prepared.bind_sources[source++].get(), "",
        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE)));
    if (!tree) return ErrnoStatus(absl::StrCat("open_tree(", m.source, ")"));
    SBX_RETURN_IF_ERROR(
        SetTreeAttributes(tree.get(),
                          MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                              (m.writable ? 0 : MOUNT_ATTR_RDONLY),
                          true));
    SBX_RETURN_IF_ERROR(Attach(tree.get(), point.get(), m.target));
  }
  SBX_RETURN_IF_ERROR(SetTreeAttributes(
      root.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
      false));
  SBX_RETURN_IF_ERROR(MakeSuperblockReadOnly(root.get()));
  return root;
}

struct MountTemplate {
  std::string key;
  // None until the plan's second spawn.
  UniqueFd tree;
  absl::Time made;
};

struct MountTemplates {
  absl::Mutex mu;
  std::vector<MountTemplate> kept ABSL_GUARDED_BY(mu);
  // This process may not mount: never tried again.
  bool refused ABSL_GUARDED_BY(mu) = false;
};

MountTemplates& Templates() {
  static auto* templates = new MountTemplates();
  return *templates;
}

}  // namespace

UniqueFd MountTemplateFor(const ChildPlan& plan,
                          const PreparedMounts& prepared) {
  if (prepared.early_failure.has_value() || !TemplateFits(plan)) return {};
  const std::string key = TemplateKey(plan);
  MountTemplates& templates = Templates();
  absl::MutexLock lock(&templates.mu);
  if (templates.refused) return {};
  const absl::Time now = absl::Now();
  std::vector<MountTemplate>& kept = templates.kept;
  kept.erase(std::remove_if(kept.begin(), kept.end(),
                            [&](const MountTemplate& t) {
                              return now - t.made >= kTemplateMaxAge;
                            }),
             kept.end());
  auto it = std::find_if(kept.begin(), kept.end(),
                         [&](const MountTemplate& t) { return t.key == key; });
  if (it != kept.end() && it->tree) {
    return UniqueFd(fcntl(it->tree.get(), F_DUPFD_CLOEXEC, 0));
  }
  if (it == kept.end()) {
    // First seen: made only on a second spawn within its lifetime, since
    // a one-shot host (sandbox-run) would pay for the template and use it
    // once.
    if (kept.size() >= kMaxTemplates) kept.erase(kept.begin());
    kept.push_back({key, UniqueFd(), now});
    return {};
  }
  // Without the right to mount here, no template ever: the child makes
  // everything (its own namespace gives it that right). Any other failure
  // the child meets again and reports by name.
  absl::StatusOr<UniqueFd> tree =
      BuildMountTemplate(plan, prepared, templates.refused);
  if (!tree.ok()) return {};
  UniqueFd copy(fcntl(tree->get(), F_DUPFD_CLOEXEC, 0));
  it->tree = std::move(*tree);
  it->made = now;
  return copy;
}

PreparedMounts::~PreparedMounts() {
  WipeStrings(strings);
  WipeStrings(descriptions);
}

}  // namespace sandbox::internal
