// A policy's mounts on the host side, in one place: checked and normalised
// once, at Build() (ValidateMounts), and prepared at each spawn
// (PrepareMounts: every bind source opened, the one time its host path is
// resolved, and the plan of mounts the child carries out). The child's side
// is BuildFilesystem in child_setup.cc, which only executes that plan with
// raw system calls.

#ifndef SANDBOX_INTERNAL_MOUNTS_H_
#define SANDBOX_INTERNAL_MOUNTS_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/fd.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/policy.h"
#include "sandbox/policy.pb.h"
#include "sandbox/result.pb.h"

namespace sandbox::internal {

// A validation failure at a field path such as
// "filesystem.mounts[2].bind.source".
absl::Status FieldError(absl::string_view path, absl::string_view message);

// Checks an absolute path without "." or ".." components and returns it
// without duplicate or trailing slashes; errors name `field`.
absl::StatusOr<std::string> NormalizeAbsolutePath(absl::string_view path,
                                                  absl::string_view field);

// A byte size field ("64M"); errors name `field`.
absl::StatusOr<uint64_t> ParseSizeField(absl::string_view text,
                                        absl::string_view field);

// Build(): checks each of `fs.mounts` (a bind or a sized tmpfs, absolute
// normalised targets, none at the root, inside the host root's temporary
// place, or inside a /proc or /dev the sandbox builds itself), normalises
// its paths and fills in defaults, and resolves each tmpfs size into
// `tmpfs_sizes` (parallel to the mounts; 0 for binds). Errors name the
// field, e.g. filesystem.mounts[2].bind.source.
[[nodiscard]] absl::Status ValidateMounts(proto::Filesystem& fs,
                                          std::vector<uint64_t>& tmpfs_sizes);

// A spawn's mounts as the child will make them, and what they point into.
struct PreparedMounts {
  PreparedMounts() = default;
  PreparedMounts(const PreparedMounts&) = delete;
  PreparedMounts& operator=(const PreparedMounts&) = delete;
  // Wipes the paths: a fork server's later clones must not find them.
  ~PreparedMounts();

  std::vector<ChildMount> mounts;
  // For messages: "bind /usr -> /usr", parallel to `mounts`.
  std::vector<std::string> descriptions;
  std::vector<const char*> description_ptrs;
  // O_PATH descriptors of the bind sources, closed with this (after
  // clone). The child's copies keep the inodes it checks alive until its
  // setup closes every descriptor it does not pass on; none reaches the
  // sandboxee.
  std::vector<UniqueFd> bind_sources;
  // A bind that cannot be made (its source missing, or refused for a
  // symlink or magic link): the sandbox ends as SETUP_ERROR without
  // running.
  std::optional<proto::SetupError> early_failure;
  // Storage the mounts point into.
  std::deque<std::string> strings;
  // This spawn's copy of the mount template (MountTemplateFor), if any.
  UniqueFd mount_template;
};

// Each spawn: opens every bind source of `policy` (never through a magic
// link, nor through a symlink unless the bind follows them) and fills
// `prepared`. A bind that cannot be made is no error: see early_failure.
[[nodiscard]] absl::Status PrepareMounts(const Policy& policy,
                                         PreparedMounts& prepared);

// The read-only part of a spawn's tree made once and kept: a detached
// mount tree (open_tree/fsmount, in no namespace) holding the root tmpfs
// with every mount point, the minimal /dev and every bind of `plan` with
// its flags, cloned by each child in one open_tree(OPEN_TREE_CLONE |
// AT_RECURSIVE) call (BuildFilesystem). Made on the second spawn of a plan
// within a second (a one-shot host never pays for it), kept per process
// for up to a second and for the very objects `prepared` opened (their
// device and inode are part of the key), a few plans at a time. Both tmpfs
// superblocks are read-only themselves, so that sandboxes sharing them
// share nothing writable. An invalid descriptor where none applies (no
// /dev, a writable root, a mount inside a tmpfs mount) or where this
// process may not mount (an unprivileged host): the child then makes
// everything itself, as before.
UniqueFd MountTemplateFor(const ChildPlan& plan,
                          const PreparedMounts& prepared);

// Whether a sandbox can mount a /proc of its own here. The kernel mounts a
// new procfs only where the caller could already see a whole one, and
// container runtimes cover parts of theirs (Docker masks /proc/kcore,
// /proc/keys, ... and binds /proc/sys read-only). Asked of the kernel
// itself, once per mount namespace: a throwaway child in new namespaces
// (a user namespace too with `user_ns`) tries the mount. FailedPrecondition
// naming what covers /proc and how to lift it, before any sandbox runs.
[[nodiscard]] absl::Status CheckProcMountable(bool user_ns);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_MOUNTS_H_
