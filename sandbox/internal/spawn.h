// The parent side of a spawn, before and just after clone: everything the
// child needs prepared as plain memory (PrepareSpawn), then clone3 with the
// namespace flags and the steps the child waits for (id maps). One pipeline
// (SpawnChild) for both modes: the host runs it itself in direct mode, the
// fork server on the host's behalf. Internal to the library; Sandbox is the
// public face.

#ifndef SANDBOX_INTERNAL_SPAWN_H_
#define SANDBOX_INTERNAL_SPAWN_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/command.h"
#include "sandbox/fd.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/landlock_fallback.h"
#include "sandbox/internal/mounts.h"
#include "sandbox/policy.h"
#include "sandbox/result.pb.h"

namespace sandbox::internal {

struct PreparedSpawn {
  PreparedSpawn() = default;
  PreparedSpawn(const PreparedSpawn&) = delete;
  PreparedSpawn& operator=(const PreparedSpawn&) = delete;
  ~PreparedSpawn();

  ChildPlan plan;
  int clone_flags = 0;
  // Written by the parent to /proc/<pid>/{setgroups,uid_map,gid_map}.
  bool write_id_maps = false;
  bool deny_setgroups = false;
  std::string uid_map;
  std::string gid_map;
  // A failure found before any process exists (a bind source missing, or
  // refused for a symlink or magic link): the sandbox ends as SETUP_ERROR
  // without running.
  std::optional<proto::SetupError> early_failure;
  // The mounts the plan points at, bind sources open (internal/mounts.h).
  PreparedMounts mounts;

  // Storage the plan points into.
  std::deque<std::string> strings;
  std::vector<ChildRlimit> rlimits;
  std::vector<int> fd_sources;
  std::vector<int> fd_targets;
  std::vector<const char*> exec_candidates;
  std::vector<char*> argv;
  std::vector<char*> envp;
  struct sock_fprog filter = {};
  struct sock_fprog lockdown_prelude = {};
  // With LaunchRequest::landlock_fallback; the plan holds its number.
  UniqueFd landlock_ruleset;
};

// One spawn as the process that clones sees it (the host in direct mode,
// the fork server otherwise): the policy, the command's argv, env, cwd and
// worker, and every descriptor the sandbox gets, stdio included. Made by
// the host from the public Command (Sandbox::Spawn), or decoded from a
// request by the fork server.
struct LaunchRequest {
  const Policy* policy = nullptr;
  // Its `fds` and `inherit_stdio` are not read: `fds` below is the whole
  // plan.
  const Command* command = nullptr;
  std::vector<FdMapping> fds;
  // The child's end of the sync socket; the host holds the other, which
  // the child closes first thing where it has a copy (direct mode), so that
  // the host's death is seen.
  int child_sync_fd = -1;
  int host_sync_fd = -1;
  // A cgroup v2 directory to start in (CLONE_INTO_CGROUP), or -1 (v1
  // placement is done by the host before it releases the child).
  int cgroup_fd = -1;
  // The `tasks` files of the sandbox's v1 cgroups, opened by the host: the
  // child writes "0" to each as its first step, moving itself (see
  // ChildPlan::cgroup_tasks_fds). Empty: the host moves it.
  std::vector<int> cgroup_tasks_fds;
  // Zygote mode: runs instead of an exec, with the command's worker name.
  int (*worker_entry)(const void* name) = nullptr;
  // namespaces.landlock_fallback in force (the host found user namespaces
  // unavailable): no namespace at all, the policy's view as a Landlock
  // ruleset (internal/landlock_fallback.h), and `fallback_dirs` (parallel
  // to filesystem.mounts, "" for binds) standing in for its tmpfs mounts.
  bool landlock_fallback = false;
  std::vector<std::string> fallback_dirs;
  // Prewarmed (PrewarmPool): the child sets itself up and waits for its
  // command (ChildPlan::await_command); `command` and `fds` are empty.
  bool await_command = false;
  // And that command names a zygote worker (worker_entry is set by the
  // zygote, the worker's name comes with the command).
  bool await_worker = false;
};

// Where the clone happens, when that is not the host itself.
struct CloneSite {
  // The fork server: the child becomes a child of the host
  // (CLONE_PARENT), which reaps it and gets its rusage.
  bool clone_parent = false;
  // The server's channel to the host, closed in the child first thing.
  int server_channel_fd = -1;
  // For namespaces.shared_net: the namespace to clone inside (the child
  // gets no network namespace of its own), and the one to return to.
  int shared_net_fd = -1;
  int home_net_fd = -1;
  // A recycled network namespace that serves this child alone
  // (NetNamespacePool), cloned inside like shared_net_fd, or -1.
  int pooled_net_fd = -1;
};

// What a spawn that the host could try came to: a child that is running
// its setup (waiting for ReleaseChild), or none, because a setup step
// failed before any process existed (a bind source missing on the host, or
// refused for a symlink). A failure of the host itself is the Status
// around it.
class SpawnOutcome {
 public:
  static SpawnOutcome Started(pid_t pid, UniqueFd pidfd) {
    SpawnOutcome outcome;
    outcome.pid_ = pid;
    outcome.pidfd_ = std::move(pidfd);
    return outcome;
  }
  static SpawnOutcome NeverStarted(proto::SetupError error) {
    SpawnOutcome outcome;
    outcome.setup_error_ = std::move(error);
    return outcome;
  }

  bool started() const { return !setup_error_.has_value(); }
  // Started: the child's host pid and a pidfd of it.
  pid_t pid() const { return pid_; }
  UniqueFd& pidfd() { return pidfd_; }
  // Never started: why.
  const proto::SetupError& setup_error() const { return *setup_error_; }

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  std::optional<proto::SetupError> setup_error_;
};

// The spawn pipeline, the same in both modes: validates the request against
// its policy and the host (privilege, rlimits), prepares the child's plan,
// clones it and writes its id maps. The child waits until ReleaseChild().
// The command itself was checked by the request's maker (CheckCommand).
// InvalidArgument for bad descriptors, FailedPrecondition for what the host
// cannot give, the errno of a failed step otherwise; a step that fails
// after clone kills the child first. With `site.clone_parent` the killed
// child is the host's to reap: its pidfd goes to `killed_child`.
[[nodiscard]] absl::StatusOr<SpawnOutcome> SpawnChild(
    const LaunchRequest& request, const CloneSite& site = CloneSite(),
    UniqueFd* killed_child = nullptr);

// The pipeline's steps, apart for tests that act between them.
//
// Prepares the plan. Opens every bind source, the one time its host path is
// resolved (see PrepareBind in mounts.cc); the descriptors are owned by the
// result. A bind that cannot be made is not an error:
// PreparedSpawn::early_failure says so.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PreparedSpawn>> PrepareSpawn(
    const LaunchRequest& request);
// Clones the child of `prepared` and writes its id maps, as SpawnChild.
[[nodiscard]] absl::StatusOr<SpawnOutcome> StartChild(
    const PreparedSpawn& prepared, const LaunchRequest& request,
    const CloneSite& site = CloneSite(), UniqueFd* killed_child = nullptr);

// A prewarmed child's command, as the one message it reads
// (CommandHeader): argv, the env merged as PrepareSpawn does (with
// LockDown()'s entry where the policy defers its filter), the cwd, the
// program's candidates and the descriptors' targets; for a zygote worker,
// its name as argv and no env. `fds` go with it, in that order.
// InvalidArgument for what CheckCommand refuses or bad descriptors;
// ResourceExhausted past kMaxCommandBytes.
struct CommandMessage {
  std::string bytes;
  std::vector<int> fds;
  // The candidates the message names (ExecCandidates), for the host's
  // diagnosis of a failed execve.
  std::vector<std::string> candidates;
};
[[nodiscard]] absl::StatusOr<CommandMessage> EncodeCommand(
    const Policy& policy, const Command& command,
    const std::vector<FdMapping>& fds);

// Whether this process is in the initial user namespace (its uid_map maps
// every id to itself); true if the map cannot be read.
bool InInitialUserNamespace();

// Whether this process may leave its network namespace for another and
// come back: root, in the user namespace that owns its network namespace
// (setns needs CAP_SYS_ADMIN there). Not so for root inside a container's
// user namespace that kept the host's network namespace (unshare -Ur).
bool CanReturnToOwnNetNamespace();

// Who a sandbox of `policy` is under namespaces.landlock_fallback, without
// a user namespace: an unprivileged host's own ids, with its supplementary
// groups (only root may drop them); for a root host, user.outside_uid and
// outside_gid (nobody by default) without supplementary groups -- inside a
// user namespace, ids it maps that are not root outside it, picked as for
// the sandbox user's outside ids. FailedPrecondition (InvalidArgument for
// an outside id of 0) naming the field otherwise.
[[nodiscard]] absl::StatusOr<FallbackIds> LandlockFallbackIds(
    const Policy& policy);

// Lets the child run its setup (after the host placed it in its v2 cgroup;
// it moves itself into its v1 cgroups as its first step).
[[nodiscard]] absl::Status ReleaseChild(int sync_fd);

// The command's own mistakes, found before anything is made: no program,
// argv together with a worker, malformed env entries, a comms_fd on stdio.
[[nodiscard]] absl::Status CheckCommand(const Command& command);

// Where the child looks for the command's program, in order: argv[0] if it
// holds a '/', else argv[0] in each directory of the sandbox's PATH (the
// policy's env, then the command's; /usr/local/bin:/usr/bin:/bin without
// one). Empty for a zygote worker. The caller wipes them (internal/wipe.h)
// where later clones could find them.
std::vector<std::string> ExecCandidates(const Policy& policy,
                                        const Command& command);

// Whether this kernel's Landlock can scope abstract unix sockets (ABI 6,
// kernel 6.12); probed once.
bool LandlockCanScopeAbstractUnix();

// "bind /usr -> /usr: No such file or directory (ENOENT)"-style message for
// a child's setup failure.
proto::SetupError DescribeSetupFailure(const ChildMessage& message);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_SPAWN_H_
