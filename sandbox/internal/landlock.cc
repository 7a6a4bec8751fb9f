#include "sandbox/internal/landlock.h"

#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sandbox/internal/kernel_abi.h"
#include "sandbox/status_macros.h"

namespace sandbox::internal {
namespace {

// Filesystem rights by the ABI that introduced them.
constexpr uint64_t kFsAbi1 =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
    LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

uint64_t HandledFs(int abi) {
  uint64_t handled = kFsAbi1;
  if (abi >= 2) handled |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) handled |= kLandlockAccessFsTruncate;
  if (abi >= 5) handled |= kLandlockAccessFsIoctlDev;
  return handled;
}

// The rights a rule on a file (not a directory) may carry.
constexpr uint64_t kFileRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
    LANDLOCK_ACCESS_FS_READ_FILE | kLandlockAccessFsTruncate |
    kLandlockAccessFsIoctlDev;

}  // namespace

int LandlockAbi() {
  static const int abi = [] {
    const long version = syscall(SYS_landlock_create_ruleset, nullptr, 0,
                                 kLandlockCreateRulesetVersion);
    return version < 0 ? 0 : static_cast<int>(version);
  }();
  return abi;
}

absl::StatusOr<LandlockRuleset> LandlockRuleset::Create(
    const LandlockOptions& options) {
  if (options.abi < 1) {
    return absl::FailedPreconditionError(
        "Landlock is not enabled in this kernel (it needs CONFIG_SECURITY_"
        "LANDLOCK and \"landlock\" in the lsm= boot parameter)");
  }
  LandlockRulesetAttr attr = {};
  attr.handled_access_fs = HandledFs(options.abi);
  if (options.restrict_tcp && options.abi >= kLandlockNetMinAbi) {
    attr.handled_access_net =
        kLandlockAccessNetBindTcp | kLandlockAccessNetConnectTcp;
  }
  if (options.abi >= kLandlockScopeMinAbi) {
    if (options.scope_abstract_unix) {
      attr.scoped |= kLandlockScopeAbstractUnixSocket;
    }
    if (options.scope_signals) attr.scoped |= kLandlockScopeSignal;
  }
  // The kernel takes the larger struct where its trailing fields are 0, so
  // one size serves every ABI.
  const long fd = syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
  if (fd < 0) return ErrnoStatus("landlock_create_ruleset");
  LandlockRuleset ruleset;
  ruleset.fd_.reset(static_cast<int>(fd));
  ruleset.handled_fs_ = attr.handled_access_fs;
  return ruleset;
}

absl::Status LandlockRuleset::Allow(int fd, LandlockAccess access,
                                    absl::string_view path) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return ErrnoStatus(absl::StrCat("fstat(", path, ")"));
  uint64_t rights = 0;
  switch (access) {
    case LandlockAccess::kReadExecute:
      rights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
               LANDLOCK_ACCESS_FS_READ_DIR;
      break;
    case LandlockAccess::kReadWrite:
      rights = handled_fs_;
      break;
    case LandlockAccess::kDevice:
      // Truncate too: a shell's "> /dev/null" opens with O_TRUNC.
      rights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE |
               kLandlockAccessFsTruncate | kLandlockAccessFsIoctlDev;
      break;
  }
  if (!S_ISDIR(st.st_mode)) rights &= kFileRights;
  struct landlock_path_beneath_attr rule = {};
  rule.allowed_access = rights & handled_fs_;
  rule.parent_fd = fd;
  if (syscall(SYS_landlock_add_rule, fd_.get(), LANDLOCK_RULE_PATH_BENEATH,
              &rule, 0) != 0) {
    return ErrnoStatus(absl::StrCat("landlock_add_rule(", path, ")"));
  }
  return absl::OkStatus();
}

std::vector<std::string> LandlockMissingFeatures(int abi) {
  std::vector<std::string> missing;
  if (abi < 2) {
    missing.push_back(
        "linking or renaming a file into another directory, even within the "
        "writable paths (refused before ABI 2)");
  }
  if (abi < 3) {
    missing.push_back(
        "truncate(2) of files outside the writable paths (restricted from ABI "
        "3)");
  }
  if (abi < kLandlockNetMinAbi) {
    missing.push_back("TCP bind and connect (restricted from ABI 4)");
  }
  if (abi < 5) {
    missing.push_back("ioctl on device files (restricted from ABI 5)");
  }
  if (abi < kLandlockScopeMinAbi) {
    missing.push_back(
        "abstract unix sockets and signals outside the sandbox (scoped from "
        "ABI 6)");
  }
  return missing;
}

}  // namespace sandbox::internal
