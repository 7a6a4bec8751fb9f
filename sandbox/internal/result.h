// How a sandbox ended, decided from what the host itself observed: a pure
// function with no system call, so that its precedence is tested without a
// kernel. Internal to the library.
//
//   OutcomeFacts facts;
//   facts.wait_status = status;  // from waitid, or our init's report
//   facts.timed_out = true;
//   ClassifyOutcome(facts, result);  // result.status() == TIMEOUT

#ifndef SANDBOX_INTERNAL_RESULT_H_
#define SANDBOX_INTERNAL_RESULT_H_

#include <optional>

#include "sandbox/result.pb.h"

namespace sandbox::internal {

// Everything the classification looks at; each fact comes from the kernel
// or the host, never from the sandboxee's word.
struct OutcomeFacts {
  // The child failed a setup step (before the payload started).
  std::optional<proto::SetupError> setup_error;
  // The supervisor saw a forbidden call.
  std::optional<proto::Violation> violation;
  // The wall-clock limit fired.
  bool timed_out = false;
  // The host asked for the kill (Kill(), the destructor, or a broken setup
  // protocol).
  bool kill_requested = false;
  // The cgroup recorded an OOM kill, or a fork refused at the pids cap.
  bool memory_limit_hit = false;
  bool pids_limit_hit = false;
  // False when something else in the host reaped the sandbox and no init
  // of ours reported the payload's status.
  bool status_known = true;
  // waitpid-style status of the payload (from our init) or of the process
  // we cloned.
  int wait_status = 0;
};

// Sets `result`'s status, exit_code, signal, setup_error and violation. The
// first that holds wins: setup error, violation (signal SIGSYS), timeout,
// kill on request, memory or pids limit (with how it then ended), lost,
// exit code, signal.
void ClassifyOutcome(const OutcomeFacts& facts, proto::Result& result);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_RESULT_H_
