// How a sandbox ended, classified without a kernel: each fact alone, and
// which one wins when several hold.

#include "sandbox/internal/result.h"

#include <signal.h>
#include <sys/wait.h>

#include "gtest/gtest.h"

namespace sandbox::internal {
namespace {

proto::Result Classify(const OutcomeFacts& facts) {
  proto::Result result;
  ClassifyOutcome(facts, result);
  return result;
}

OutcomeFacts Exited(int code) {
  OutcomeFacts facts;
  facts.wait_status = W_EXITCODE(code, 0);
  return facts;
}

OutcomeFacts Signaled(int signal) {
  OutcomeFacts facts;
  facts.wait_status = W_EXITCODE(0, signal);
  return facts;
}

TEST(ClassifyOutcomeTest, ExitAndSignal) {
  proto::Result exited = Classify(Exited(7));
  EXPECT_EQ(exited.status(), proto::Result::OK);
  EXPECT_EQ(exited.exit_code(), 7);
  proto::Result signaled = Classify(Signaled(SIGSEGV));
  EXPECT_EQ(signaled.status(), proto::Result::SIGNALED);
  EXPECT_EQ(signaled.signal(), SIGSEGV);
}

TEST(ClassifyOutcomeTest, LimitsSayWhichWallAndHowItThenEnded) {
  OutcomeFacts oom = Signaled(SIGKILL);
  oom.memory_limit_hit = true;
  proto::Result memory = Classify(oom);
  EXPECT_EQ(memory.status(), proto::Result::MEMORY_LIMIT);
  EXPECT_EQ(memory.signal(), SIGKILL);
  OutcomeFacts bomb = Exited(1);
  bomb.pids_limit_hit = true;
  proto::Result pids = Classify(bomb);
  EXPECT_EQ(pids.status(), proto::Result::PIDS_LIMIT);
  EXPECT_EQ(pids.exit_code(), 1);
  // Both: memory first.
  bomb.memory_limit_hit = true;
  EXPECT_EQ(Classify(bomb).status(), proto::Result::MEMORY_LIMIT);
}

TEST(ClassifyOutcomeTest, AnUnknownStatusIsLostNeverAnExitZero) {
  OutcomeFacts facts = Exited(0);
  facts.status_known = false;
  EXPECT_EQ(Classify(facts).status(), proto::Result::LOST);
  facts.memory_limit_hit = true;
  proto::Result memory = Classify(facts);
  EXPECT_EQ(memory.status(), proto::Result::MEMORY_LIMIT);
  EXPECT_EQ(memory.exit_code(), 0);
  EXPECT_EQ(memory.signal(), 0);
}

TEST(ClassifyOutcomeTest, PrecedenceSetupErrorViolationTimeoutKill) {
  OutcomeFacts all = Signaled(SIGKILL);
  all.memory_limit_hit = true;
  all.kill_requested = true;
  all.timed_out = true;
  all.violation = proto::Violation();
  all.violation->set_syscall("ptrace");
  all.setup_error = proto::SetupError();
  all.setup_error->set_step("pivot_root");

  proto::Result result = Classify(all);
  EXPECT_EQ(result.status(), proto::Result::SETUP_ERROR);
  EXPECT_EQ(result.setup_error().step(), "pivot_root");
  all.setup_error.reset();
  result = Classify(all);
  EXPECT_EQ(result.status(), proto::Result::VIOLATION);
  EXPECT_EQ(result.violation().syscall(), "ptrace");
  EXPECT_EQ(result.signal(), SIGSYS);
  all.violation.reset();
  EXPECT_EQ(Classify(all).status(), proto::Result::TIMEOUT);
  all.timed_out = false;
  EXPECT_EQ(Classify(all).status(), proto::Result::KILLED);
  all.kill_requested = false;
  EXPECT_EQ(Classify(all).status(), proto::Result::MEMORY_LIMIT);
}

}  // namespace
}  // namespace sandbox::internal
