#include "sandbox/internal/cgroup_detect.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sandbox/fd.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace internal {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path,
                                          UniqueFd* keep) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("open(", path, ")"));
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("read(", path, ")"));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  if (keep != nullptr) *keep = std::move(fd);
  return text;
}

bool PathExists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

}  // namespace internal

namespace {

using internal::CgroupLayout;
using internal::kCgroupSupervisorLeaf;
using internal::PathExists;
using internal::ReadSmallFile;

// The controllers DetectCgroups reports, in its order.
constexpr const char* kControllers[] = {"memory", "pids", "cpu", "cpuacct",
                                        "freezer"};

bool EffectivelyWritable(const std::string& path) {
  return faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) == 0;
}

// statfs magic of `path`, 0 if it cannot be read.
int64_t FsMagic(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return 0;
  return static_cast<int64_t>(fs.f_type);
}

// --- /proc parsing -------------------------------------------------------

struct MountEntry {
  std::string root;
  std::string mount_point;
  std::string fstype;
  std::vector<std::string> super_options;
};

// Undoes mountinfo's octal escapes (\040 for a space, ...).
std::string UnescapeMountField(absl::string_view field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' &&
        field[i + 1] <= '3' && field[i + 2] >= '0' && field[i + 2] <= '7' &&
        field[i + 3] >= '0' && field[i + 3] <= '7') {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 +
                                      (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::vector<MountEntry> ParseMountInfo(absl::string_view text) {
  std::vector<MountEntry> mounts;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    // id parent major:minor root mount_point options [optional...] - fstype
    // source super_options
    auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 6 || dash == fields.end() ||
        dash - fields.begin() < 6 || fields.end() - dash < 4) {
      continue;
    }
    MountEntry entry;
    entry.root = UnescapeMountField(fields[3]);
    entry.mount_point = UnescapeMountField(fields[4]);
    entry.fstype = std::string(dash[1]);
    entry.super_options = absl::StrSplit(dash[3], ',');
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

// One line of /proc/self/cgroup.
struct CgroupLine {
  std::vector<std::string> controllers;  // empty for the v2 line
  std::string path;
  bool v2 = false;
};

std::vector<CgroupLine> ParseProcCgroup(absl::string_view text) {
  std::vector<CgroupLine> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (fields.size() != 3 || fields[2].empty()) continue;
    CgroupLine entry;
    entry.path = std::string(fields[2]);
    entry.v2 = fields[0] == "0" && fields[1].empty();
    if (!entry.v2) {
      for (absl::string_view c : absl::StrSplit(fields[1], ',')) {
        entry.controllers.push_back(std::string(c));
      }
    }
    lines.push_back(std::move(entry));
  }
  return lines;
}

// Our directory for cgroup `path` under `mount`, or "" when the mount does
// not show that part of the hierarchy.
std::string DirUnderMount(const MountEntry& mount, const std::string& path) {
  std::string relative;
  if (mount.root == "/") {
    relative = path;
  } else if (path == mount.root) {
    relative = "/";
  } else if (absl::StartsWith(path, mount.root + "/")) {
    relative = path.substr(mount.root.size());
  } else {
    return "";
  }
  if (relative == "/") return mount.mount_point;
  return absl::StrCat(mount.mount_point == "/" ? "" : mount.mount_point,
                      relative);
}

// Our cgroup directory in the hierarchy: the first mount of it whose
// directory is really on a cgroup filesystem of the right kind (statfs), so
// that a plain directory on the tmpfs /sys/fs/cgroup never counts.
std::string FindOwnDir(const std::vector<MountEntry>& mounts,
                       const std::string& path, bool v2,
                       const std::string& v1_controller) {
  for (const MountEntry& mount : mounts) {
    if (v2) {
      if (mount.fstype != "cgroup2") continue;
    } else {
      if (mount.fstype != "cgroup") continue;
      if (std::find(mount.super_options.begin(), mount.super_options.end(),
                    v1_controller) == mount.super_options.end()) {
        continue;
      }
    }
    const std::string dir = DirUnderMount(mount, path);
    if (dir.empty()) continue;
    const int64_t want = v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC;
    if (FsMagic(mount.mount_point) != want || FsMagic(dir) != want) continue;
    if (!PathExists(dir + "/cgroup.procs")) continue;
    return dir;
  }
  return "";
}

CgroupLayout LayoutFrom(absl::string_view proc_self_cgroup,
                        absl::string_view mountinfo) {
  const std::vector<MountEntry> mounts = ParseMountInfo(mountinfo);
  const std::vector<CgroupLine> lines = ParseProcCgroup(proc_self_cgroup);
  CgroupLayout layout;

  for (const CgroupLine& line : lines) {
    if (!line.v2) continue;
    std::string path = line.path;
    // After the supervisor move our process sits in a leaf; the sandboxes
    // are its siblings.
    if (absl::EndsWith(path, absl::StrCat("/", kCgroupSupervisorLeaf))) {
      path.resize(path.size() - strlen(kCgroupSupervisorLeaf) - 1);
      if (path.empty()) path = "/";
    }
    layout.v2_dir = FindOwnDir(mounts, path, /*v2=*/true, "");
    if (layout.v2_dir.empty()) break;
    layout.v2_is_root = path == "/";
    absl::StatusOr<std::string> listed =
        ReadSmallFile(layout.v2_dir + "/cgroup.controllers");
    if (listed.ok()) {
      layout.v2_controllers = absl::StrSplit(
          absl::StripAsciiWhitespace(*listed), ' ', absl::SkipEmpty());
    }
    break;
  }
  layout.v2_writable = !layout.v2_dir.empty() &&
                       EffectivelyWritable(layout.v2_dir) &&
                       EffectivelyWritable(layout.v2_dir + "/cgroup.procs");
  // cgroup.freeze exists in every non-root cgroup since 5.2; the root has
  // none, so there we find out only in the created cgroup.
  const bool v2_freezer =
      !layout.v2_dir.empty() &&
      (layout.v2_is_root || PathExists(layout.v2_dir + "/cgroup.freeze"));

  for (const char* controller : kControllers) {
    CgroupControllerInfo info;
    info.controller = controller;
    const bool listed_in_v2 =
        std::find(layout.v2_controllers.begin(), layout.v2_controllers.end(),
                  controller) != layout.v2_controllers.end();
    if (listed_in_v2) {
      info.version = CgroupVersion::kV2;
      info.own_dir = layout.v2_dir;
      info.writable = layout.v2_writable;
    } else {
      for (const CgroupLine& line : lines) {
        if (line.v2 ||
            std::find(line.controllers.begin(), line.controllers.end(),
                      controller) == line.controllers.end()) {
          continue;
        }
        info.own_dir = FindOwnDir(mounts, line.path, /*v2=*/false, controller);
        if (!info.own_dir.empty()) {
          info.version = CgroupVersion::kV1;
          info.writable = EffectivelyWritable(info.own_dir);
        }
        break;
      }
      // Not controllers on v2, but features of every v2 cgroup.
      const bool core_in_v2 =
          (info.controller == "cpuacct" && !layout.v2_dir.empty()) ||
          (info.controller == "freezer" && v2_freezer);
      if (info.version == CgroupVersion::kNone && core_in_v2) {
        info.version = CgroupVersion::kV2;
        info.own_dir = layout.v2_dir;
        info.writable = layout.v2_writable;
      }
    }
    layout.controllers.push_back(std::move(info));
  }
  return layout;
}

}  // namespace

namespace internal {

const CgroupControllerInfo& CgroupLayout::Find(absl::string_view name) const {
  for (const CgroupControllerInfo& info : controllers) {
    if (info.controller == name) return info;
  }
  static const CgroupControllerInfo* const kNone = new CgroupControllerInfo;
  return *kNone;
}

absl::StatusOr<CgroupLayout> ReadCgroupLayout() {
  SBX_ASSIGN_OR_RETURN(std::string cgroup, ReadSmallFile("/proc/self/cgroup"));
  SBX_ASSIGN_OR_RETURN(std::string mountinfo,
                       ReadSmallFile("/proc/self/mountinfo"));
  return LayoutFrom(cgroup, mountinfo);
}

CgroupLayout CgroupLayoutFrom(absl::string_view proc_self_cgroup,
                              absl::string_view mountinfo) {
  return LayoutFrom(proc_self_cgroup, mountinfo);
}

std::vector<CgroupControllerInfo> DetectCgroupsFrom(
    absl::string_view proc_self_cgroup, absl::string_view mountinfo) {
  return LayoutFrom(proc_self_cgroup, mountinfo).controllers;
}

}  // namespace internal

absl::StatusOr<std::vector<CgroupControllerInfo>> DetectCgroups() {
  SBX_ASSIGN_OR_RETURN(CgroupLayout layout, internal::ReadCgroupLayout());
  return layout.controllers;
}

}  // namespace sandbox
