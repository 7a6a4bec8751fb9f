#include "sandbox/internal/spawn.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/command.h"
#include "sandbox/internal/kernel_abi.h"
#include "sandbox/internal/landlock.h"
#include "sandbox/internal/landlock_fallback.h"
#include "sandbox/internal/mounts.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/util.h"
#include "sandbox/internal/wipe.h"
#include "sandbox/status_macros.h"

namespace sandbox::internal {
namespace {

constexpr char kDefaultPath[] = "/usr/local/bin:/usr/bin:/bin";
constexpr uint32_t kNobody = 65534;
constexpr uint64_t kSandboxSigpending = 1024;
constexpr uint64_t kSandboxMsgqueueBytes = 128 << 10;

// The sandbox's own user namespace limits (see ChildSysctl), as constant
// tables the plan points at: nothing to build per spawn. Nested user
// namespaces are refused outright unless the policy lets the sandboxee
// create namespaces at all (kUserNamespaceLimits starts with that entry).
constexpr ChildSysctl kUserNamespaceLimits[] = {
    {"/proc/sys/user/max_user_namespaces", "0"},
    {"/proc/sys/user/max_inotify_instances", "32"},
    {"/proc/sys/user/max_inotify_watches", "8192"},
    {"/proc/sys/user/max_fanotify_groups", "16"},
    {"/proc/sys/user/max_fanotify_marks", "8192"},
};

void PrepareUserNamespaceLimits(const Policy& policy, ChildPlan& plan) {
  bool may_nest = false;
  for (const std::string& name : policy.proto().seccomp().dangerous_allow()) {
    if (name == "unshare" || name == "clone" || name == "clone3" ||
        name == "setns") {
      may_nest = true;
    }
  }
  const size_t skip = may_nest ? 1 : 0;
  plan.user_ns_limits = kUserNamespaceLimits + skip;
  plan.user_ns_limit_count = std::size(kUserNamespaceLimits) - skip;
}

const char* Keep(PreparedSpawn& prepared, std::string value) {
  return prepared.strings.emplace_back(std::move(value)).c_str();
}

// "KEY=VALUE" entries, later ones replacing earlier ones with the same key,
// in first-seen order. The caller wipes the result (sandbox/wipe.h), and
// no value is left elsewhere: no reallocation moves short strings out of a
// buffer freed unwiped, and a replaced value is wiped first.
std::vector<std::string> MergeEnv(const proto::Policy& policy,
                                  const Command& command) {
  std::vector<std::string> merged;
  merged.reserve(policy.env_size() + command.env.size());
  std::map<std::string, size_t> index;
  auto add = [&](const std::string& entry) {
    const std::string key = entry.substr(0, entry.find('='));
    auto [it, inserted] = index.emplace(key, merged.size());
    if (inserted) {
      merged.push_back(entry);
    } else {
      WipeString(merged[it->second]);
      merged[it->second] = entry;
    }
  };
  for (const std::string& entry : policy.env()) add(entry);
  for (const std::string& entry : command.env) add(entry);
  return merged;
}

// The command's descriptors by sandbox target, sorted (the child relies on
// it), each target checked against the policy and each source open.
absl::StatusOr<std::map<int, int>> SortFds(const Policy& policy,
                                           const std::vector<FdMapping>& fds) {
  std::map<int, int> by_target;
  for (const FdMapping& mapping : fds) {
    if (mapping.sandbox_fd < 0 ||
        static_cast<uint64_t>(mapping.sandbox_fd) >= policy.limits().nofile) {
      return absl::InvalidArgumentError(absl::StrCat(
          "command.fds: sandbox fd ", mapping.sandbox_fd,
          " is outside 0..limits.nofile-1 (", policy.limits().nofile - 1, ")"));
    }
    if (!by_target.emplace(mapping.sandbox_fd, mapping.host_fd).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "command.fds: sandbox fd ", mapping.sandbox_fd, " is mapped twice"));
    }
    if (fcntl(mapping.host_fd, F_GETFD) < 0) {
      return ErrnoStatus(
          absl::StrCat("command.fds: host fd ", mapping.host_fd));
    }
  }
  if (by_target.size() > kMaxCommandFds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command.fds: more than ", kMaxCommandFds, " descriptors"));
  }
  return by_target;
}

absl::Status PrepareFds(const Policy& policy, const LaunchRequest& request,
                        PreparedSpawn& prepared) {
  using ByTarget = std::map<int, int>;
  SBX_ASSIGN_OR_RETURN(const ByTarget by_target, SortFds(policy, request.fds));
  for (const auto& [target, source] : by_target) {
    prepared.fd_targets.push_back(target);
    prepared.fd_sources.push_back(source);
  }
  prepared.plan.fd_sources = prepared.fd_sources.data();
  prepared.plan.fd_targets = prepared.fd_targets.data();
  prepared.plan.fd_count = prepared.fd_targets.size();
  return absl::OkStatus();
}

// Exec mode with seccomp deferred to LockDown(): the env entry that tells
// the program where its filter is (LockDownExec).
std::string LockDownEntry(const Policy& policy) {
  const int bootstrap_fd = internal::StateOf(policy).bootstrap_fd();
  return absl::StrCat(kLockDownEnv, "=", bootstrap_fd, ",", bootstrap_fd + 1,
                      ",",
                      internal::StateOf(policy).seccomp.uses_notify ? 1 : 0);
}

void PrepareRlimits(const Policy& policy, PreparedSpawn& prepared) {
  const proto::Limits& limits = policy.proto().limits();
  const ResolvedLimits& resolved = policy.limits();
  auto add = [&](int resource, uint64_t soft, uint64_t hard) {
    ChildRlimit limit = {};
    limit.resource = resource;
    limit.value.rlim_cur = soft;
    limit.value.rlim_max = hard;
    prepared.rlimits.push_back(limit);
  };
  add(RLIMIT_NOFILE, resolved.nofile, resolved.nofile);
  add(RLIMIT_CORE, 0, 0);
  if (limits.cpu_time_seconds() > 0) {
    // SIGXCPU at the limit, SIGKILL a second later if it is ignored.
    add(RLIMIT_CPU, limits.cpu_time_seconds(), limits.cpu_time_seconds() + 1);
  }
  if (resolved.file_size > 0) {
    add(RLIMIT_FSIZE, resolved.file_size, resolved.file_size);
  }
  if (resolved.address_space > 0) {
    add(RLIMIT_AS, resolved.address_space, resolved.address_space);
  }
  if (limits.nproc() > 0) add(RLIMIT_NPROC, limits.nproc(), limits.nproc());
  // Queued signals and POSIX message queue bytes are charged to the host
  // user that created the sandbox's namespace as well as to the sandbox:
  // capped so that one sandbox cannot take what the host and the others
  // need (a root host's defaults are in the tens of thousands of signals
  // and 800 KiB of queues for all of them).
  add(RLIMIT_SIGPENDING, kSandboxSigpending, kSandboxSigpending);
  add(RLIMIT_MSGQUEUE, kSandboxMsgqueueBytes, kSandboxMsgqueueBytes);
  prepared.plan.rlimits = prepared.rlimits.data();
  prepared.plan.rlimit_count = prepared.rlimits.size();
}

// A line of /proc/self/uid_map or gid_map: ids [inside, inside + count)
// of our user namespace are [outside, outside + count) in its parent.
struct IdRange {
  uint64_t inside = 0;
  uint64_t outside = 0;
  uint64_t count = 0;
};

std::vector<IdRange> ReadIdMap(const char* path) {
  std::vector<IdRange> map;
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  char text[4096];
  const ssize_t n = fd ? read(fd.get(), text, sizeof(text) - 1) : -1;
  if (n <= 0) return map;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text, n), '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    IdRange range;
    if (fields.size() == 3 && absl::SimpleAtoi(fields[0], &range.inside) &&
        absl::SimpleAtoi(fields[1], &range.outside) &&
        absl::SimpleAtoi(fields[2], &range.count)) {
      map.push_back(range);
    }
  }
  return map;
}

// The initial user namespace's map: one range of every id.
bool IsInitialIdMap(const std::vector<IdRange>& map) {
  return map.size() == 1 && map[0].inside == 0 && map[0].outside == 0 &&
         map[0].count == 4294967295u;
}

// The id `id` of our namespace has in the parent one, if it exists here.
std::optional<uint64_t> OutsideOf(const std::vector<IdRange>& map,
                                  uint64_t id) {
  for (const IdRange& range : map) {
    if (id >= range.inside && id - range.inside < range.count) {
      return range.outside + (id - range.inside);
    }
  }
  return std::nullopt;
}

// The id of our namespace that the sandbox user maps to, for a root host.
// In the initial namespace, `requested` or nobody. Inside a user namespace
// (a rootless container, a pod with user namespaces, unshare -U) only the
// ids of our uid_map exist: `requested` if it is one of them, else nobody
// if it is, else the highest id of the map that is root neither here nor
// outside, else our own id (as an unprivileged host maps its own) -- never
// one that is root outside the container. `field` names the policy field.
absl::StatusOr<uint32_t> PickOutsideId(const std::vector<IdRange>& map,
                                       const char* map_path,
                                       std::optional<uint32_t> requested,
                                       uint32_t own, absl::string_view field) {
  if (map.empty() || IsInitialIdMap(map)) return requested.value_or(kNobody);
  auto usable = [&](uint64_t id) {
    const std::optional<uint64_t> outside = OutsideOf(map, id);
    return outside.has_value() && *outside != 0;
  };
  if (requested.has_value()) {
    if (!usable(*requested)) {
      return absl::FailedPreconditionError(
          absl::StrCat(field, ": ", *requested,
                       OutsideOf(map, *requested).has_value()
                           ? " is root outside this user namespace"
                           : " does not exist in this user namespace",
                       " (", map_path,
                       " maps only what it lists); leave it unset to "
                       "let the sandbox pick one that does"));
    }
    return *requested;
  }
  if (usable(kNobody)) return kNobody;
  std::optional<uint64_t> best;
  for (const IdRange& range : map) {
    for (uint64_t id = range.inside + range.count; id-- > range.inside;) {
      if (id != 0 && id != own && usable(id)) {
        if (!best.has_value() || id > *best) best = id;
        break;
      }
    }
  }
  if (best.has_value()) return static_cast<uint32_t>(*best);
  if (usable(own)) return own;
  return absl::FailedPreconditionError(absl::StrCat(
      field, ": every id of this user namespace (", map_path,
      ") is root outside it; the sandbox user would be host root"));
}

// Our own uid and gid maps. They are written once and change only with our
// user namespace: read once per namespace, not per spawn.
struct IdMaps {
  std::vector<IdRange> uid;
  std::vector<IdRange> gid;
};
std::shared_ptr<const IdMaps> OwnIdMaps() {
  static absl::Mutex mu(absl::kConstInit);
  static ino_t maps_ns ABSL_GUARDED_BY(mu) = 0;
  static auto* maps ABSL_PT_GUARDED_BY(mu) =
      new std::shared_ptr<const IdMaps>();
  struct stat user_ns = {};
  stat("/proc/self/ns/user", &user_ns);
  absl::MutexLock lock(&mu);
  if (*maps == nullptr || maps_ns != user_ns.st_ino) {
    *maps = std::make_shared<const IdMaps>(IdMaps{
        ReadIdMap("/proc/self/uid_map"), ReadIdMap("/proc/self/gid_map")});
    maps_ns = user_ns.st_ino;
  }
  return *maps;
}

bool HasSetpcap() {
  cap_t caps = cap_get_proc();
  if (caps == nullptr) return false;
  cap_flag_value_t value = CAP_CLEAR;
  const bool has =
      cap_get_flag(caps, CAP_SETPCAP, CAP_EFFECTIVE, &value) == 0 &&
      value == CAP_SET;
  cap_free(caps);
  return has;
}

absl::Status PrepareIdentity(const Policy& policy, PreparedSpawn& prepared) {
  const proto::Policy& p = policy.proto();
  const bool root = geteuid() == 0;
  ChildPlan& plan = prepared.plan;
  plan.uid = p.user().uid();
  plan.gid = p.user().gid();
  if (!p.namespaces().user()) {
    if (!root) {
      return absl::FailedPreconditionError(
          "namespaces.user: false needs a root host: without a user namespace "
          "only root may create the other namespaces");
    }
    if (plan.uid == 0 || plan.gid == 0) {
      return absl::InvalidArgumentError(
          "user.uid: without a user namespace the sandboxee would be host "
          "root; pick a non-zero id");
    }
    // Root in a container's user namespace: the sandbox user must exist
    // in it, and not be root outside it.
    const std::shared_ptr<const IdMaps> maps = OwnIdMaps();
    for (const auto& [id, map, path, field] :
         {std::make_tuple(plan.uid, &maps->uid, "/proc/self/uid_map",
                          "user.uid"),
          std::make_tuple(plan.gid, &maps->gid, "/proc/self/gid_map",
                          "user.gid")}) {
      if (map->empty() || IsInitialIdMap(*map)) continue;
      const std::optional<uint64_t> outside = OutsideOf(*map, id);
      if (!outside.has_value() || *outside == 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            field, ": ", id,
            outside.has_value() ? " is root outside this user namespace"
                                : " does not exist in this user namespace",
            " (", path,
            "), and namespaces.user is false: the sandbox user must be an "
            "id this namespace maps; keep namespaces.user (the default), "
            "or pick one the map lists"));
      }
    }
    // The child inherits our supplementary groups: drop them, if there
    // are any (root in a user namespace whose setgroups is denied has none
    // and cannot call it).
    plan.clear_groups = getgroups(0, nullptr) != 0;
    return absl::OkStatus();
  }
  prepared.write_id_maps = true;
  uint32_t outside_uid = 0;
  uint32_t outside_gid = 0;
  if (root) {
    const std::shared_ptr<const IdMaps> maps = OwnIdMaps();
    SBX_ASSIGN_OR_RETURN(
        outside_uid,
        PickOutsideId(maps->uid, "/proc/self/uid_map",
                      p.user().has_outside_uid()
                          ? std::optional<uint32_t>(p.user().outside_uid())
                          : std::nullopt,
                      geteuid(), "user.outside_uid"));
    SBX_ASSIGN_OR_RETURN(
        outside_gid,
        PickOutsideId(maps->gid, "/proc/self/gid_map",
                      p.user().has_outside_gid()
                          ? std::optional<uint32_t>(p.user().outside_gid())
                          : std::nullopt,
                      getegid(), "user.outside_gid"));
    // setgroups is denied in the sandbox's namespace, which also freezes
    // the supplementary groups the child inherits. The fork server has
    // dropped its own, so there are none to freeze. A root host spawning
    // directly may still hold some: then setgroups stays allowed just long
    // enough for the child to drop them (it has no capability to call it
    // again afterwards).
    if (getgroups(0, nullptr) == 0) {
      prepared.deny_setgroups = true;
    } else {
      prepared.deny_setgroups = false;
      plan.clear_groups = true;
    }
  } else {
    if (p.user().has_outside_uid() || p.user().has_outside_gid()) {
      return absl::FailedPreconditionError(
          "user.outside_uid/outside_gid: an unprivileged host can only map its "
          "own ids; leave them unset");
    }
    outside_uid = geteuid();
    outside_gid = getegid();
    prepared.deny_setgroups = true;
  }
  prepared.uid_map = absl::StrCat(plan.uid, " ", outside_uid, " 1\n");
  prepared.gid_map = absl::StrCat(plan.gid, " ", outside_gid, " 1\n");
  return absl::OkStatus();
}

// namespaces.landlock_fallback: no namespace at all, the sandboxee's host
// ids, and the policy's view as a Landlock ruleset over the bind sources
// opened the one time (PrepareMounts) and the host's tmpfs stand-ins.
absl::Status PrepareLandlockFallback(const LaunchRequest& request,
                                     PreparedSpawn& prepared) {
  const Policy& policy = *request.policy;
  ChildPlan& plan = prepared.plan;
  prepared.clone_flags = 0;
  plan.new_user_ns = false;
  plan.new_mount_ns = false;
  plan.new_pid_ns = false;
  plan.program_is_init = false;
  plan.new_net_ns = false;
  plan.new_uts_ns = false;
  plan.new_cgroup_ns = false;
  SBX_ASSIGN_OR_RETURN(FallbackIds ids, LandlockFallbackIds(policy));
  plan.uid = ids.uid;
  plan.gid = ids.gid;
  plan.clear_groups = ids.clear_groups;
  plan.drop_bounding_set = ids.can_setpcap;
  if (request.fallback_dirs.size() !=
      static_cast<size_t>(policy.proto().filesystem().mounts_size())) {
    return absl::InternalError(
        "landlock fallback: one directory per mount expected");
  }
  SBX_RETURN_IF_ERROR(PrepareMounts(policy, prepared.mounts));
  if (prepared.mounts.early_failure.has_value()) {
    prepared.early_failure = std::move(prepared.mounts.early_failure);
    return absl::OkStatus();
  }
  SBX_ASSIGN_OR_RETURN(
      LandlockRuleset ruleset,
      FallbackRuleset(policy, prepared.mounts, request.fallback_dirs));
  prepared.landlock_ruleset.reset(dup(ruleset.fd()));
  if (!prepared.landlock_ruleset) return ErrnoStatus("dup(Landlock ruleset)");
  plan.landlock_ruleset_fd = prepared.landlock_ruleset.get();
  return absl::OkStatus();
}

void PrepareExec(const Policy& policy, const Command& command,
                 PreparedSpawn& prepared) {
  std::vector<std::string> env = MergeEnv(policy.proto(), command);
  std::vector<std::string> candidates = ExecCandidates(policy, command);
  for (const std::string& candidate : candidates) {
    prepared.exec_candidates.push_back(Keep(prepared, candidate));
  }
  for (const std::string& arg : command.argv) {
    prepared.argv.push_back(const_cast<char*>(Keep(prepared, arg)));
  }
  prepared.argv.push_back(nullptr);
  for (const std::string& entry : env) {
    prepared.envp.push_back(const_cast<char*>(Keep(prepared, entry)));
  }
  prepared.envp.push_back(nullptr);
  ChildPlan& plan = prepared.plan;
  plan.exec_candidates = prepared.exec_candidates.data();
  plan.exec_candidate_count = prepared.exec_candidates.size();
  plan.argv = prepared.argv.data();
  plan.envp = prepared.envp.data();
  // A fork server's later clones must not find these in freed memory.
  WipeStrings(env);
  WipeStrings(candidates);
}

absl::Status WriteProcFile(pid_t pid, const char* name,
                           const std::string& text) {
  const std::string path = absl::StrCat("/proc/", pid, "/", name);
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoStatus(absl::StrCat("open(", path, ")"));
  if (write(fd.get(), text.data(), text.size()) !=
      static_cast<ssize_t>(text.size())) {
    return ErrnoStatus(absl::StrCat("write(", path, ", \"", text, "\")"));
  }
  return absl::OkStatus();
}

}  // namespace

// In a fork server, every later sandbox is cloned from the memory this
// frees: the command's argv, env and cwd must not be left in it.
PreparedSpawn::~PreparedSpawn() {
  WipeStrings(strings);
  WipeString(uid_map);
  WipeString(gid_map);
}

std::vector<std::string> ExecCandidates(const Policy& policy,
                                        const Command& command) {
  std::vector<std::string> candidates;
  if (!command.worker.empty() || command.argv.empty()) return candidates;
  const std::string& program = command.argv[0];
  if (program.find('/') != std::string::npos) {
    candidates.push_back(program);
    return candidates;
  }
  std::vector<std::string> env = MergeEnv(policy.proto(), command);
  std::string path = kDefaultPath;
  for (const std::string& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) {
      WipeString(path);
      path = entry.substr(5);
    }
  }
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    candidates.push_back(absl::StrCat(dir, "/", program));
  }
  // A fork server's later clones must not find these in freed memory.
  WipeStrings(env);
  WipeString(path);
  return candidates;
}

absl::Status CheckCommand(const Command& command) {
  const bool worker = !command.worker.empty();
  if (!worker && (command.argv.empty() || command.argv[0].empty())) {
    return absl::InvalidArgumentError("command.argv: names no program");
  }
  if (worker && !command.argv.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command.argv and command.worker '", command.worker,
        "': a zygote worker runs a registered function, not a program; set "
        "one of them"));
  }
  for (const std::string& entry : command.env) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("command.env: expected KEY=VALUE, got '", entry, "'"));
    }
  }
  if (command.comms_fd < -1 ||
      (command.comms_fd >= 0 && command.comms_fd <= 2)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "command.comms_fd: ", command.comms_fd,
        " (0, 1 and 2 are stdio; use 3 or above, or -1 for none)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PreparedSpawn>> PrepareSpawn(
    const LaunchRequest& request) {
  const Policy& policy = *request.policy;
  // The command was checked by whoever made the request (CheckCommand in
  // Sandbox::Spawn, and in the server's decoding).
  const Command& command = *request.command;
  if (!command.worker.empty() && request.worker_entry == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("command.worker '", command.worker,
                     "': a worker runs only in the zygote fork server"));
  }
  auto prepared = std::make_unique<PreparedSpawn>();
  const proto::Policy& p = policy.proto();
  const proto::Namespaces& ns = p.namespaces();
  ChildPlan& plan = prepared->plan;
  plan.new_user_ns = ns.user();
  plan.new_mount_ns = ns.mount();
  plan.new_pid_ns = ns.pid();
  plan.program_is_init = ns.pid() && ns.program_is_init();
  plan.new_net_ns = ns.net();
  plan.new_uts_ns = ns.uts();
  plan.new_cgroup_ns = ns.cgroup();
  prepared->clone_flags =
      (ns.user() ? CLONE_NEWUSER : 0) | (ns.mount() ? CLONE_NEWNS : 0) |
      (ns.pid() ? CLONE_NEWPID : 0) | (ns.net() ? CLONE_NEWNET : 0) |
      (ns.ipc() ? CLONE_NEWIPC : 0) | (ns.uts() ? CLONE_NEWUTS : 0);
  if (request.landlock_fallback) {
    SBX_RETURN_IF_ERROR(PrepareLandlockFallback(request, *prepared));
  } else {
    SBX_RETURN_IF_ERROR(PrepareIdentity(policy, *prepared));
    if (ns.user()) PrepareUserNamespaceLimits(policy, plan);
  }

  if (plan.new_mount_ns) {
    plan.root_tmpfs_data =
        Keep(*prepared,
             absl::StrCat("size=", policy.limits().root_size, ",mode=0755"));
    plan.mount_proc = p.filesystem().proc();
    if (plan.mount_proc) SBX_RETURN_IF_ERROR(CheckProcMountable(ns.user()));
    plan.mount_dev = p.filesystem().dev();
    plan.writable_root = p.filesystem().writable_root();
    SBX_RETURN_IF_ERROR(PrepareMounts(policy, prepared->mounts));
    if (prepared->mounts.early_failure.has_value()) {
      prepared->early_failure = std::move(prepared->mounts.early_failure);
    }
    plan.mounts = prepared->mounts.mounts.data();
    plan.mount_descriptions = prepared->mounts.description_ptrs.data();
    plan.mount_count = prepared->mounts.mounts.size();
    prepared->mounts.mount_template = MountTemplateFor(plan, prepared->mounts);
    plan.mount_template_fd = prepared->mounts.mount_template.get();
  }
  plan.cgroup_tasks_fds = request.cgroup_tasks_fds.data();
  plan.cgroup_tasks_fd_count = request.cgroup_tasks_fds.size();
  plan.cwd =
      Keep(*prepared, command.cwd.empty() ? p.filesystem().cwd() : command.cwd);
  if (plan.new_uts_ns) plan.hostname = Keep(*prepared, p.hostname());

  // Made once per process: it never changes, and only children (copies of
  // it) ever apply it, so no lock of libcap's on it is ever held here.
  static const int last_cap = static_cast<int>(cap_max_bits()) - 1;
  static const cap_t empty_caps = cap_init();
  if (empty_caps == nullptr) return ErrnoStatus("cap_init");
  plan.last_cap = last_cap;
  plan.empty_caps = empty_caps;

  PrepareRlimits(policy, *prepared);
  SBX_RETURN_IF_ERROR(PrepareFds(policy, request, *prepared));
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) {
    return ErrnoStatus("getrlimit(RLIMIT_NOFILE)");
  }
  plan.bootstrap_fd = internal::StateOf(policy).bootstrap_fd();
  if (nofile.rlim_max != RLIM_INFINITY &&
      nofile.rlim_max <= static_cast<rlim_t>(plan.bootstrap_fd)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "limits.nofile: ", plan.bootstrap_fd,
        " needs the host's hard RLIMIT_NOFILE above it, but it is ",
        nofile.rlim_max));
  }
  plan.host_nofile_hard = nofile.rlim_max == RLIM_INFINITY
                              ? static_cast<rlim_t>(plan.bootstrap_fd) + 1
                              : nofile.rlim_max;

  const SeccompProgram& program = internal::StateOf(policy).seccomp;
  prepared->filter.len =
      static_cast<unsigned short>(program.instructions.size());
  prepared->filter.filter =
      const_cast<sock_filter*>(program.instructions.data());
  plan.filter = &prepared->filter;
  plan.filter_notify = program.uses_notify;
  // Reading the clock after the filter is in must never become a violation,
  // nor block on a listener not yet handed over.
  plan.time_seccomp = internal::StateOf(policy).filter_allows_clock;
  plan.defer_seccomp = p.seccomp().defer_until_lockdown();
  const SeccompProgram& prelude = internal::StateOf(policy).lockdown_prelude;
  if (plan.defer_seccomp && !prelude.instructions.empty()) {
    prepared->lockdown_prelude.len =
        static_cast<unsigned short>(prelude.instructions.size());
    prepared->lockdown_prelude.filter =
        const_cast<sock_filter*>(prelude.instructions.data());
    plan.lockdown_prelude = &prepared->lockdown_prelude;
  }

  if (request.await_command) {
    // Prewarmed: the command comes later (EncodeCommand); a worker's name
    // with it.
    plan.await_command = true;
    plan.worker_entry = request.worker_entry;
    return prepared;
  }
  Command with_lockdown;
  const Command* exec_command = &command;
  if (plan.defer_seccomp && command.worker.empty()) {
    // Where LockDown() in the exec'd program finds its filter.
    // Room for one more first: growing would move short strings out of a
    // buffer freed unwiped.
    with_lockdown.env.reserve(command.env.size() + 1);
    with_lockdown = command;
    with_lockdown.env.push_back(LockDownEntry(policy));
    exec_command = &with_lockdown;
  }
  PrepareExec(policy, *exec_command, *prepared);
  if (request.worker_entry != nullptr) {
    plan.worker_entry = request.worker_entry;
    plan.worker_arg = Keep(*prepared, command.worker);
  }
  WipeStrings(with_lockdown.argv);
  WipeStrings(with_lockdown.env);
  WipeString(with_lockdown.cwd);
  return prepared;
}

absl::StatusOr<CommandMessage> EncodeCommand(
    const Policy& policy, const Command& command,
    const std::vector<FdMapping>& fds) {
  SBX_RETURN_IF_ERROR(CheckCommand(command));
  using ByTarget = std::map<int, int>;
  SBX_ASSIGN_OR_RETURN(const ByTarget by_target, SortFds(policy, fds));
  // A worker: its name as the one argument; no env (a worker's is the
  // zygote's, empty) and nothing to exec.
  const bool worker = !command.worker.empty();
  const std::vector<std::string> worker_argv = {command.worker};
  const std::vector<std::string>& argv = worker ? worker_argv : command.argv;
  std::vector<std::string> env;
  if (!worker) {
    env = MergeEnv(policy.proto(), command);
    if (policy.proto().seccomp().defer_until_lockdown()) {
      env.push_back(LockDownEntry(policy));
    }
  }
  CommandMessage message;
  message.candidates = ExecCandidates(policy, command);
  CommandHeader header = {};
  header.argc = static_cast<uint32_t>(argv.size());
  header.envc = static_cast<uint32_t>(env.size());
  header.candidate_count = static_cast<uint32_t>(message.candidates.size());
  header.fd_count = static_cast<uint32_t>(by_target.size());
  message.bytes.resize(sizeof(header));
  for (const auto& [target, source] : by_target) {
    const int32_t target32 = target;
    message.bytes.append(reinterpret_cast<const char*>(&target32),
                         sizeof(target32));
    message.fds.push_back(source);
  }
  auto add = [&](const std::string& text) {
    message.bytes.append(text.c_str(), text.size() + 1);
  };
  add(command.cwd.empty() ? policy.proto().filesystem().cwd() : command.cwd);
  for (const std::string& arg : argv) add(arg);
  for (const std::string& entry : env) add(entry);
  for (const std::string& candidate : message.candidates) add(candidate);
  if (message.bytes.size() > kMaxCommandBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "command: argv, env and cwd take ", message.bytes.size(),
        " bytes; a prewarmed sandbox takes at most ", kMaxCommandBytes));
  }
  header.size = static_cast<uint32_t>(message.bytes.size());
  memcpy(message.bytes.data(), &header, sizeof(header));
  return message;
}

absl::StatusOr<SpawnOutcome> StartChild(const PreparedSpawn& prepared,
                                        const LaunchRequest& request,
                                        const CloneSite& site,
                                        UniqueFd* killed_child) {
  int pidfd = -1;
  CloneArgs args = {};
  args.flags = kClonePidfd | static_cast<uint64_t>(prepared.clone_flags);
  args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
  // With CLONE_PARENT the kernel takes our own exit signal and wants 0.
  args.exit_signal = site.clone_parent ? 0 : SIGCHLD;
  if (site.clone_parent) args.flags |= CLONE_PARENT;
  if (request.cgroup_fd >= 0) {
    args.flags |= kCloneIntoCgroup;
    args.cgroup = static_cast<uint64_t>(request.cgroup_fd);
  }
  const long pid = Clone3OrClone(args);
  if (pid < 0) {
    const int error = errno;
    if (error == EPERM || error == ENOSPC || error == EUSERS ||
        error == EACCES) {
      const std::string failed =
          absl::StrCat("clone3 with new namespaces: ", strerror(error), " (",
                       ErrnoName(error), ")");
      absl::StatusOr<std::optional<std::string>> unavailable =
          (prepared.clone_flags & CLONE_NEWUSER) != 0
              ? UserNamespacesUnavailable()
              : std::optional<std::string>();
      if (unavailable.ok() && unavailable->has_value()) {
        return absl::FailedPreconditionError(absl::StrCat(
            failed, ": user namespaces are unavailable here: ", **unavailable,
            ". ", kLandlockFallbackHint));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          failed,
          "; namespaces may be disabled or exhausted on this host (see "
          "/proc/sys/user/max_*_namespaces)"));
    }
    return ErrnoStatus("clone3", error);
  }
  if (pid == 0) {
    RunChild(prepared.plan, request.child_sync_fd, request.host_sync_fd);
  }
  UniqueFd child(pidfd);

  absl::Status maps = absl::OkStatus();
  if (prepared.write_id_maps) {
    if (prepared.deny_setgroups) {
      maps = WriteProcFile(static_cast<pid_t>(pid), "setgroups", "deny");
    }
    if (maps.ok()) {
      maps =
          WriteProcFile(static_cast<pid_t>(pid), "uid_map", prepared.uid_map);
    }
    if (maps.ok()) {
      maps =
          WriteProcFile(static_cast<pid_t>(pid), "gid_map", prepared.gid_map);
    }
  }
  if (!maps.ok()) {
    syscall(SYS_pidfd_send_signal, child.get(), SIGKILL, nullptr, 0);
    if (site.clone_parent) {
      // Our parent reaps a CLONE_PARENT child.
      if (killed_child != nullptr) *killed_child = std::move(child);
    } else {
      siginfo_t info;
      waitid(P_PIDFD, child.get(), &info, WEXITED);
    }
    return maps;
  }
  return SpawnOutcome::Started(static_cast<pid_t>(pid), std::move(child));
}

absl::StatusOr<SpawnOutcome> SpawnChild(const LaunchRequest& request,
                                        const CloneSite& site,
                                        UniqueFd* killed_child) {
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<PreparedSpawn> prepared,
                       PrepareSpawn(request));
  if (prepared->early_failure.has_value()) {
    return SpawnOutcome::NeverStarted(*std::move(prepared->early_failure));
  }
  if (site.server_channel_fd >= 0) {
    prepared->plan.server_channel_fd = site.server_channel_fd;
  }
  const proto::Namespaces& ns = request.policy->proto().namespaces();
  const bool shared = ns.net() && ns.shared_net() && site.shared_net_fd >= 0;
  const bool pooled = ns.net() && !ns.shared_net() && site.pooled_net_fd >= 0;
  if (request.landlock_fallback || !(shared || pooled)) {
    return StartChild(*prepared, request, site, killed_child);
  }
  // Cloned from inside the shared or pooled namespace, without a new one,
  // the child comes up with loopback already up. In a shared one its
  // abstract unix sockets stay its own where Landlock can scope them (the
  // host warns otherwise); a pooled one is its alone.
  prepared->clone_flags &= ~CLONE_NEWNET;
  prepared->plan.new_net_ns = false;
  if (shared) {
    prepared->plan.scope_abstract_unix = LandlockCanScopeAbstractUnix();
  }
  if (setns(shared ? site.shared_net_fd : site.pooled_net_fd, CLONE_NEWNET) !=
      0) {
    return ErrnoStatus(shared ? "setns(shared network namespace)"
                              : "setns(pooled network namespace)");
  }
  absl::StatusOr<SpawnOutcome> outcome =
      StartChild(*prepared, request, site, killed_child);
  if (setns(site.home_net_fd, CLONE_NEWNET) != 0) {
    // Never clone another sandbox from the wrong namespace.
    _exit(3);
  }
  return outcome;
}

absl::StatusOr<FallbackIds> LandlockFallbackIds(const Policy& policy) {
  FallbackIds ids;
  ids.can_setpcap = HasSetpcap();
  if (geteuid() != 0) {
    ids.uid = geteuid();
    ids.gid = getegid();
    return ids;
  }
  const proto::User& user = policy.proto().user();
  if ((user.has_outside_uid() && user.outside_uid() == 0) ||
      (user.has_outside_gid() && user.outside_gid() == 0)) {
    return absl::InvalidArgumentError(
        "user.outside_uid/outside_gid: with namespaces.landlock_fallback the "
        "sandboxee runs as these host ids; 0 would be host root");
  }
  const std::shared_ptr<const IdMaps> maps = OwnIdMaps();
  SBX_ASSIGN_OR_RETURN(
      ids.uid, PickOutsideId(maps->uid, "/proc/self/uid_map",
                             user.has_outside_uid()
                                 ? std::optional<uint32_t>(user.outside_uid())
                                 : std::nullopt,
                             geteuid(), "user.outside_uid"));
  SBX_ASSIGN_OR_RETURN(
      ids.gid, PickOutsideId(maps->gid, "/proc/self/gid_map",
                             user.has_outside_gid()
                                 ? std::optional<uint32_t>(user.outside_gid())
                                 : std::nullopt,
                             getegid(), "user.outside_gid"));
  // Root in a user namespace whose setgroups is denied has none to drop,
  // and cannot call it.
  ids.clear_groups = getgroups(0, nullptr) != 0;
  return ids;
}

bool InInitialUserNamespace() {
  const std::vector<IdRange> map = ReadIdMap("/proc/self/uid_map");
  return map.empty() || IsInitialIdMap(map);
}

bool CanReturnToOwnNetNamespace() {
  if (geteuid() != 0) return false;
  UniqueFd net(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!net.valid()) return false;
  UniqueFd owner(ioctl(net.get(), NS_GET_USERNS));
  struct stat owner_stat;
  struct stat own_stat;
  return owner.valid() && fstat(owner.get(), &owner_stat) == 0 &&
         stat("/proc/self/ns/user", &own_stat) == 0 &&
         owner_stat.st_dev == own_stat.st_dev &&
         owner_stat.st_ino == own_stat.st_ino;
}

absl::Status ReleaseChild(int sync_fd) {
  const char go = 1;
  if (send(sync_fd, &go, 1, MSG_NOSIGNAL) != 1) {
    return ErrnoStatus("send(sync, go)");
  }
  return absl::OkStatus();
}

bool LandlockCanScopeAbstractUnix() {
  return LandlockAbi() >= kLandlockScopeMinAbi;
}

namespace {

// `text` with every byte that is not part of a valid UTF-8 sequence written
// as \xNN: a proto3 string must be UTF-8, or the Result does not parse
// after it is serialized (and what the child names may be any path).
std::string ValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t min = 0;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      length = 2;
      min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      length = 3;
      min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      length = 4;
      min = 0x10000;
    }
    bool valid = length > 0 && i + length <= text.size();
    uint32_t code = length > 0 ? (c & (0x7f >> length)) : 0;
    for (size_t k = 1; valid && k < length; ++k) {
      const unsigned char next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xc0) == 0x80;
      code = (code << 6) | (next & 0x3f);
    }
    valid = valid && code >= min && code <= 0x10ffff &&
            !(code >= 0xd800 && code <= 0xdfff);
    if (valid) {
      out.append(text.data() + i, length);
      i += length;
    } else {
      absl::StrAppend(&out, "\\x", absl::Hex(c, absl::kZeroPad2));
      ++i;
    }
  }
  return out;
}

}  // namespace

proto::SetupError DescribeSetupFailure(const ChildMessage& message) {
  proto::SetupError error;
  error.set_step(SetupStepName(message.step));
  error.set_errno_value(message.error);
  error.set_errno_name(ErrnoName(message.error));
  char what[sizeof(message.what) + 1] = {};
  memcpy(what, message.what, sizeof(message.what));
  error.set_message(absl::StrCat(
      SetupStepName(message.step), what[0] == '\0' ? "" : " ", ValidUtf8(what),
      ": ", strerror(message.error), " (", ErrnoName(message.error), ")"));
  return error;
}

}  // namespace sandbox::internal
