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
  // A failure found before any process exists (a missing bind source): the
  // sandbox ends as SETUP_ERROR without running.
  std::optional<proto::SetupError> early_failure;
  // For messages: "bind /usr -> /usr", parallel to plan.mounts.
  std::vector<std::string> mount_descriptions;

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
  // libcap's empty capability set, applied by the child (cap_t).
  ::_cap_struct* empty_caps = nullptr;
};

// Validates `command` against `policy` and the host (privilege, rlimits) and
// prepares the plan. InvalidArgument for a bad command, FailedPrecondition
// for what the host cannot give.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PreparedSpawn>> PrepareSpawn(
    const Policy& policy, const Command& command);

struct SpawnedProcess {
  pid_t pid = -1;
  UniqueFd pidfd;
  // Parent's end of the sync socket.
  UniqueFd sync;
};

// Hooks for placing the child in its cgroup.
struct CgroupPlacement {
  // cgroup v2 directory fd for CLONE_INTO_CGROUP, or -1.
  int clone_into_fd = -1;
  // Called with the child's pid after clone, before it is released (v1).
  std::function<absl::Status(pid_t)> add_process;
};

// clone3s the child, writes its id maps, places it and releases it.
[[nodiscard]] absl::StatusOr<SpawnedProcess> StartChild(
    const PreparedSpawn& prepared, const CgroupPlacement& placement);

// "bind /usr -> /usr: No such file or directory (ENOENT)"-style message for
// a child's setup failure.
proto::SetupError DescribeSetupFailure(const PreparedSpawn& prepared,
                                       const ChildMessage& message);

}  // namespace sandbox::internal

#endif  // SANDBOX_SPAWN_H_
