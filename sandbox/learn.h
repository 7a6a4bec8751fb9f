// Learn mode: run a program under a base policy with every system call
// outside it reported and let through, and write the base plus the
// smallest rules that allow what was seen. For trusted inputs only: a
// call let through once is allowed from then on. It is still a sandbox:
// the namespaces, mounts, limits and the fixed deny list all apply (a call
// on that list fails with EPERM and is listed, never learned).
//
//   SBX_ASSIGN_OR_RETURN(PolicyBuilder base, PolicyBuilder::Default());
//   proto::Seccomp nothing;  // start with no system call allowed
//   nothing.set_default_action(proto::Seccomp::KILL);
//   base.SetSeccomp(nothing);
//   SBX_ASSIGN_OR_RETURN(
//       LearnedPolicy learned,
//       Learn(base, Command{.argv = {"/usr/bin/file", "/usr/bin/ls"}}));
//   // learned.text: the base, plus groups and rules commented with what
//   // was seen. Another input, merged into the same file:
//   SBX_ASSIGN_OR_RETURN(PolicyBuilder again,
//                        PolicyBuilder::FromText(learned.text));
//   SBX_ASSIGN_OR_RETURN(
//       learned, Learn(again, Command{.argv = {"/usr/bin/file", "/usr/share"}},
//                      {.previous = learned.text}));
//
// The rules: whole groups (policies/GROUPS.md) where what was seen fits
// one, by two or more of its calls; otherwise a rule per call, with one
// condition per value of its key argument (socket's domain, ioctl's
// request, open's flags, clone's flags, prctl's option) where at most four
// values were seen, without conditions where more were.

#ifndef SANDBOX_LEARN_H_
#define SANDBOX_LEARN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/command.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"

namespace sandbox {

struct LearnedPolicy {
  // How the run ended; result.learned() is what it saw.
  proto::Result result;
  // The policy file: protobuf text of the base, with a learned block at the
  // end of its seccomp section between "# >>> learned" and "# <<< learned".
  std::string text;
  // This run's number in the file (1 for the first).
  int run = 0;
};

struct LearnOptions {
  // The text of an earlier LearnedPolicy (or the file it was written to),
  // to merge this run into. `base` must then be that text, parsed
  // (PolicyBuilder::FromText), with any changes for this run: the run uses
  // it, what earlier runs learned included, and the new text is it with
  // the earlier learned block kept as it was and grown by this run (see
  // the example above). Empty: the first run.
  std::string previous = {};
  // Describes the run in the file, e.g. the command line.
  std::string label = {};
};

// Runs `command` under `base` in learn mode (exec mode only: the program is
// started with execve; direct spawn). InvalidArgument for a base that does
// not build (the error names the field) or that defers seccomp to
// LockDown(), and for a `previous` without the learned block.
[[nodiscard]] absl::StatusOr<LearnedPolicy> Learn(
    const PolicyBuilder& base, const Command& command,
    const LearnOptions& options = {});

}  // namespace sandbox

#endif  // SANDBOX_LEARN_H_
