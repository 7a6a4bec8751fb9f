#include "sandbox/internal/result.h"

#include <signal.h>
#include <sys/wait.h>

namespace sandbox::internal {

void ClassifyOutcome(const OutcomeFacts& facts, proto::Result& result) {
  const int status = facts.wait_status;
  if (facts.setup_error.has_value()) {
    result.set_status(proto::Result::SETUP_ERROR);
    *result.mutable_setup_error() = *facts.setup_error;
  } else if (facts.violation.has_value()) {
    result.set_status(proto::Result::VIOLATION);
    *result.mutable_violation() = *facts.violation;
    result.set_signal(SIGSYS);
  } else if (facts.timed_out) {
    result.set_status(proto::Result::TIMEOUT);
  } else if (facts.kill_requested) {
    result.set_status(proto::Result::KILLED);
  } else if (facts.memory_limit_hit || facts.pids_limit_hit) {
    // The kernel OOM-killed in our cgroup, or refused a fork at the cap:
    // the wall the sandbox hit, whatever it did next (how it ended is in
    // exit_code / signal).
    result.set_status(facts.memory_limit_hit ? proto::Result::MEMORY_LIMIT
                                             : proto::Result::PIDS_LIMIT);
    if (facts.status_known && WIFSIGNALED(status)) {
      result.set_signal(WTERMSIG(status));
    }
    if (facts.status_known && WIFEXITED(status)) {
      result.set_exit_code(WEXITSTATUS(status));
    }
  } else if (!facts.status_known) {
    result.set_status(proto::Result::LOST);
  } else if (WIFEXITED(status)) {
    result.set_status(proto::Result::OK);
    result.set_exit_code(WEXITSTATUS(status));
  } else {
    result.set_status(proto::Result::SIGNALED);
    result.set_signal(WTERMSIG(status));
  }
}

}  // namespace sandbox::internal
