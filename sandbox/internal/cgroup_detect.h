// Cgroup detection: where the library may create cgroups. For each
// controller it uses, which hierarchy provides it (cgroup v2 or v1), our own
// cgroup directory there, and whether we may write it. Reads /proc and the
// cgroup filesystems; changes nothing. Internal to the library: Cgroup
// (cgroup.h) creates each sandbox's cgroup where this says.
//
//   SBX_ASSIGN_OR_RETURN(std::vector<CgroupControllerInfo> controllers,
//                        DetectCgroups());
//   for (const CgroupControllerInfo& info : controllers) {
//     // info.controller "pids": info.version kV1, info.own_dir
//     // /sys/fs/cgroup/pids/user.slice, info.writable true
//   }
//
// Each controller's hierarchy is found from /proc/self/cgroup and
// /proc/self/mountinfo, and every candidate directory is checked with statfs
// (CGROUP2_SUPER_MAGIC or CGROUP_SUPER_MAGIC) before anything is written:
// hybrid hosts mount the v1 hierarchies on a writable tmpfs at
// /sys/fs/cgroup, where a plain mkdir would "work" and limit nothing. A
// controller is used from v2 when the unified hierarchy provides it (listed
// in cgroup.controllers of our cgroup), else from its v1 hierarchy.

#ifndef SANDBOX_INTERNAL_CGROUP_DETECT_H_
#define SANDBOX_INTERNAL_CGROUP_DETECT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/fd.h"

namespace sandbox {

// Which hierarchy provides a controller.
enum class CgroupVersion { kNone, kV1, kV2 };

struct CgroupControllerInfo {
  // "memory", "pids", "cpu", "cpuacct" or "freezer". On v2, cpuacct stands
  // for cpu.stat and freezer for cgroup.freeze, which every v2 cgroup has.
  std::string controller;
  CgroupVersion version = CgroupVersion::kNone;
  // Our own cgroup directory in that hierarchy, under which sandbox cgroups
  // are created, e.g. /sys/fs/cgroup/memory/user.slice (v1) or
  // /sys/fs/cgroup/user.slice (v2; the parent of "sandbox-supervisor" when
  // this process sits in that leaf). Empty when version is kNone.
  std::string own_dir;
  // Whether this process may create sub-cgroups there (effective uid may
  // write own_dir and, on v2, its cgroup.procs). A hint for messages; the
  // kernel has the last word.
  bool writable = false;
};

// Finds, for memory, pids, cpu, cpuacct and freezer (in that order), which
// hierarchy provides it and where our cgroup is. Reads /proc/self/cgroup,
// /proc/self/mountinfo and cgroup.controllers; changes nothing. A hierarchy
// counts only if statfs of our directory in it reports cgroup (v1) or
// cgroup2 (v2) magic. Returns the error of reading /proc; a controller that
// exists nowhere is reported with version kNone, not as an error.
[[nodiscard]] absl::StatusOr<std::vector<CgroupControllerInfo>> DetectCgroups();

namespace internal {

// DetectCgroups on given /proc/self/cgroup and /proc/self/mountinfo texts
// (the directories they name are still checked on the real filesystem).
std::vector<CgroupControllerInfo> DetectCgroupsFrom(
    absl::string_view proc_self_cgroup, absl::string_view mountinfo);

// The leaf of our v2 cgroup that this process steps aside into under the
// no-internal-processes rule (see cgroup.h); detection then takes the
// leaf's parent for our cgroup.
inline constexpr char kCgroupSupervisorLeaf[] = "sandbox-supervisor";

// Everything Cgroup::Create and RemoveStale need to know about the
// hierarchies.
struct CgroupLayout {
  // As DetectCgroups reports them.
  std::vector<CgroupControllerInfo> controllers;
  // The v2 directory sandbox cgroups go under, "" without a usable v2
  // hierarchy; its cgroup.controllers; whether it is the hierarchy root;
  // whether we may create cgroups there (as CgroupControllerInfo::writable).
  std::string v2_dir;
  std::vector<std::string> v2_controllers;
  bool v2_is_root = false;
  bool v2_writable = false;

  // The entry for `name`, or one with version kNone.
  const CgroupControllerInfo& Find(absl::string_view name) const;
};

// What DetectCgroups finds, with the v2 details. Returns the error of
// reading /proc.
[[nodiscard]] absl::StatusOr<CgroupLayout> ReadCgroupLayout();

// ReadCgroupLayout on given /proc/self/cgroup and /proc/self/mountinfo
// texts (the directories they name are checked on the real filesystem).
CgroupLayout CgroupLayoutFrom(absl::string_view proc_self_cgroup,
                              absl::string_view mountinfo);

// Small-file helpers both halves of the cgroup code use. ReadSmallFile
// reads a whole file; NotFound for a missing file, as errno says. With
// `keep`, the descriptor it read through is left there.
[[nodiscard]] absl::StatusOr<std::string> ReadSmallFile(
    const std::string& path, UniqueFd* keep = nullptr);
bool PathExists(const std::string& path);

}  // namespace internal

}  // namespace sandbox

#endif  // SANDBOX_INTERNAL_CGROUP_DETECT_H_
