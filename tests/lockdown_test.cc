// Exec mode with seccomp.defer_until_lockdown: a program starts without the
// filter, initialises, and installs it itself with sandbox::LockDown(); the
// supervisor then reports its violations like any other.

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::ParseValues;
using ::testing::HasSubstr;

constexpr char kHelper[] = "/lockdown_testee";

// The shipped policy without any open call, and the helper bound in.
PolicyBuilder NoOpenPolicy(bool defer) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(
      testing::SourceDir() + "/policies/default.textproto");
  EXPECT_THAT(builder, IsOk());
  testing::RemoveSyscalls(*builder, {"open", "openat", "openat2", "creat"});
  // The build tree may sit below a symlink.
  builder->AddBind(SANDBOX_LOCKDOWN_TESTEE_PATH, kHelper, MountMode::kReadOnly,
                   SymlinkMode::kFollow);
  builder->mutable_proto().mutable_seccomp()->set_defer_until_lockdown(defer);
  return *std::move(builder);
}

struct HelperRun {
  proto::Result result;
  std::map<std::string, std::string> values;
};

HelperRun RunHelper(const PolicyBuilder& builder,
                    std::vector<std::string> args = {}) {
  HelperRun run;
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_THAT(policy, IsOk());
  if (!policy.ok()) return run;
  UniqueFd out(memfd_create("lockdown-out", MFD_CLOEXEC));
  Command command;
  command.argv = {kHelper};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.fds.push_back({out.get(), 1});
  absl::StatusOr<proto::Result> result = sandbox::Run(*policy, command);
  EXPECT_THAT(result, IsOk());
  if (!result.ok()) return run;
  run.result = *result;
  std::string text(4096, '\0');
  text.resize(
      std::max<ssize_t>(0, pread(out.get(), text.data(), text.size(), 0)));
  run.values = ParseValues(text);
  return run;
}

TEST(LockDownTest, ProgramInitialisesThenLocksItselfDown) {
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  HelperRun run = RunHelper(NoOpenPolicy(/*defer=*/true));
  EXPECT_EQ(run.values["before"], "ok") << "the filter came too early";
  EXPECT_EQ(run.values["lockdown"], "ok");
  EXPECT_EQ(run.values["again"], "FAILED_PRECONDITION");
  EXPECT_EQ(run.values.count("after"), 0u) << "the open after LockDown ran";
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
      << run.result.DebugString();
  EXPECT_EQ(run.result.violation().syscall(), "openat");
}

TEST(LockDownTest, AfterLockDownNoExecveIsTheSandboxes) {
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  // The sandbox allows a program's own first execve only where it makes
  // it itself, under the filter: a program that locks itself down was
  // exec'd before, so its first execve after LockDown() is its own.
  PolicyBuilder builder = NoOpenPolicy(/*defer=*/true);
  testing::RemoveSyscalls(builder, {"execve", "execveat"});
  HelperRun run = RunHelper(builder, {"exec"});
  EXPECT_EQ(run.values["lockdown"], "ok");
  EXPECT_EQ(run.values.count("exec_failed"), 0u);
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
      << run.result.DebugString();
  EXPECT_EQ(run.result.violation().syscall(), "execve");
}

TEST(LockDownTest, WithoutDeferralTheFilterIsInFromTheStart) {
  // The dynamic loader's own opens are the first violation.
  HelperRun run = RunHelper(NoOpenPolicy(/*defer=*/false));
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
      << run.result.DebugString();
  EXPECT_THAT(run.result.violation().syscall(), HasSubstr("open"));
  EXPECT_EQ(run.values.count("before"), 0u);
}

TEST(LockDownTest, AProgramThatNeverLocksDownStillRunsIsolated) {
  // No LockDown call: not the policy's filter, but the fixed deny list's,
  // and every other wall stands.
  PolicyBuilder builder = NoOpenPolicy(/*defer=*/true);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  Command command;
  command.argv = {"/bin/sh", "-c",
                  "grep -E '^(Seccomp|CapEff|NoNewPrivs):' /proc/self/status"};
  UniqueFd out(memfd_create("lockdown-out", MFD_CLOEXEC));
  command.fds.push_back({out.get(), 1});
  absl::StatusOr<proto::Result> result = sandbox::Run(*policy, command);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
  std::string text(4096, '\0');
  text.resize(
      std::max<ssize_t>(0, pread(out.get(), text.data(), text.size(), 0)));
  EXPECT_THAT(text, HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(text, HasSubstr("CapEff:\t0000000000000000"));
  EXPECT_THAT(text, HasSubstr("NoNewPrivs:\t1"));
}

TEST(LockDownTest, BeforeLockDownTheFixedDenyListIsAKill) {
  PolicyBuilder builder = NoOpenPolicy(/*defer=*/true);
  builder.AddBind(testing::TesteePath(), testing::kSandboxTestee,
                  MountMode::kReadOnly);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  // Calls the policy would not allow either, but the filter for them is not
  // in yet: only the deny list's kill stands (no listener, no report).
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"ptrace"},
                                             // A nested user namespace
                                             // would give every capability.
                                             {"unshare", "user"},
                                             {"clone-ns", "user"},
                                             {"stack-filter", "prctl"},
                                             {"stack-filter", "seccomp"},
                                             {"i386", "getpid"}}) {
    testing::TesteeRun run = testing::RunTestee(*policy, args);
    EXPECT_EQ(run.result.status(), proto::Result::SIGNALED)
        << args[0] << run.result.DebugString() << run.output;
    EXPECT_EQ(run.result.signal(), SIGSYS) << args[0];
  }
  // What the policy allows after LockDown() runs before it, too.
  testing::TesteeRun run = testing::RunTestee(*policy, {"syscall", "getppid"});
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
}

}  // namespace
}  // namespace sandbox
