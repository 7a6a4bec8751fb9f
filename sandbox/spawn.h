// The parent side of a spawn, before and just after clone: everything the
// child needs prepared as plain memory (PrepareSpawn), then clone3 with the
// namespace flags and the host-side steps the child waits for (id maps,
// cgroup placement). Internal to the library; Sandbox is the public face.

#ifndef SANDBOX_SPAWN_H_
#define SANDBOX_SPAWN_H_

#include <linux/filter.h>
#include <sys/types.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/child_setup.h"
#include "sandbox/fd.h"
#include "sandbox/policy.h"
#include "sandbox/result.pb.h"

namespace sandbox {
struct Command;
}  // namespace sandbox

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
  // O_PATH descriptors of the bind sources, opened once by PrepareSpawn
  // and closed with this (after clone). The child's copies keep the inodes
  // it checks alive until its setup closes every descriptor it does not
  // pass on; none reaches the sandboxee.
  std::vector<UniqueFd> bind_sources;
  // For messages: "bind /usr -> /usr", parallel to plan.mounts.
  std::vector<std::string> mount_descriptions;
  std::vector<const char*> mount_description_ptrs;

  // Storage the plan points into.
  std::deque<std::string> strings;
  std::vector<ChildMount> mounts;
  std::vector<ChildRlimit> rlimits;
  std::vector<int> fd_sources;
  std::vector<int> fd_targets;
  std::vector<const char*> exec_candidates;
  std::vector<char*> argv;
  std::vector<char*> envp;
  struct sock_fprog filter = {};
  struct sock_fprog lockdown_prelude = {};
};

// Validates `command` against `policy` and the host (privilege, rlimits) and
// prepares the plan. Opens every bind source, the one time its host path is
// resolved (see PrepareBind in spawn.cc); the descriptors are owned by the
// result. InvalidArgument for a bad command, FailedPrecondition for what
// the host cannot give.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PreparedSpawn>> PrepareSpawn(
    const Policy& policy, const Command& command);

struct SpawnedProcess {
  pid_t pid = -1;
  UniqueFd pidfd;
  // Parent's end of the sync socket (when StartChild made the pair).
  UniqueFd sync;
  // With clone_parent: a step after clone failed and the child was killed.
  absl::Status failure;
  // Found before any process existed; pid is -1.
  std::optional<proto::SetupError> early_failure;
};

// Where the child starts: a cgroup v2 directory fd for CLONE_INTO_CGROUP,
// or -1 (v1 placement is done by the host before ReleaseChild).
struct CgroupPlacement {
  int clone_into_fd = -1;
};

// clone3s the child and writes its id maps. With `clone_parent` (the fork
// server) the child becomes a child of our parent, the host, which then
// reaps it and gets its rusage. The child waits until ReleaseChild().
// `child_sync_fd` is the child's end of a sync socket made by the caller,
// or -1 to make the pair here (SpawnedProcess::sync is then our end). A
// failure after clone kills the child; with `clone_parent` it comes back
// as SpawnedProcess::failure with the pid, for the host to reap.
[[nodiscard]] absl::StatusOr<SpawnedProcess> StartChild(
    const PreparedSpawn& prepared, const CgroupPlacement& placement,
    int child_sync_fd = -1, bool clone_parent = false);

// Lets the child run its setup (after the host placed it in its cgroup).
[[nodiscard]] absl::Status ReleaseChild(int sync_fd);

// Whether this kernel's Landlock can scope abstract unix sockets (ABI 6,
// kernel 6.12); probed once.
bool LandlockCanScopeAbstractUnix();

// "bind /usr -> /usr: No such file or directory (ENOENT)"-style message for
// a child's setup failure.
proto::SetupError DescribeSetupFailure(const ChildMessage& message);

}  // namespace sandbox::internal

#endif  // SANDBOX_SPAWN_H_
