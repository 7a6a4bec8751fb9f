// Why an execve in a sandbox failed with ENOENT although the program is
// there. The kernel answers "No such file or directory" as well when the
// program's ELF interpreter (PT_INTERP, e.g. /lib64/ld-linux-x86-64.so.2)
// or the interpreter on its #! line is missing, and a sandbox that binds
// /usr/bin but not /lib64 is the usual way to get there. The child only
// reports {kExec, ENOENT}; the host looks at the sandbox's view of the
// filesystem, made of the policy's mounts, and at the program itself.
//
//   std::optional<std::string> why = ExplainExecNotFound(
//       policy.proto().filesystem(), {"/usr/bin/true"});
//   // "/usr/bin/true is there, but its ELF interpreter
//   //  /lib64/ld-linux-x86-64.so.2 is not in the sandbox"
//
// Host-side only: it reads files under the policy's bind sources (a few
// hundred bytes of each program, never following a link the host would
// follow but the sandbox would not).

#ifndef SANDBOX_INTERNAL_EXEC_DIAGNOSIS_H_
#define SANDBOX_INTERNAL_EXEC_DIAGNOSIS_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "sandbox/policy.pb.h"

namespace sandbox::internal {

// What an absolute path in the sandbox leads to, walked component by
// component through the policy's mounts as the kernel inside the sandbox
// would walk it: each component looked up in the host file the covering
// bind shows, symbolic links read there and followed in the sandbox's view.
struct SandboxPath {
  enum class Kind {
    // On a bind: `host_path` is the host file it shows.
    kOnBind,
    // Not in the sandbox: `missing` is the path itself, or where its links
    // led.
    kMissing,
    // Somewhere the host cannot look: a tmpfs, /proc, /dev, a directory
    // made for a mount point, a loop of links.
    kUnknown,
  };
  Kind kind = Kind::kUnknown;
  std::string host_path;
  std::string missing;
};
SandboxPath ResolveSandboxPath(const proto::Filesystem& fs,
                               absl::string_view path);

// Given where the child tried to execute the program (`candidates`, each
// failed with ENOENT or ENOTDIR), why the first one that is there could not
// run: "/usr/bin/true is there, but its ELF interpreter
// /lib64/ld-linux-x86-64.so.2 is not in the sandbox", or the same for a #!
// interpreter (followed as deep as the kernel does). nullopt when none of
// them is there, or nothing is missing that the host can see.
std::optional<std::string> ExplainExecNotFound(
    const proto::Filesystem& fs, absl::Span<const std::string> candidates);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_EXEC_DIAGNOSIS_H_
