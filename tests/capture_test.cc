// RunCapturingOutput: stdin fed from memory, stdout and stderr captured,
// with real Debian programs under the shipped default policy. The host must
// never block on the sandboxee: not on a stdin it does not read, not on
// output it floods, not on output it keeps open.

#include <signal.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::BuildOrFail;
using ::sandbox::testing::DefaultPolicyBuilder;
using ::sandbox::testing::IsOk;

class CaptureTest : public ::testing::TestWithParam<SpawnMode> {};

TEST_P(CaptureTest, FeedsStdinAndCapturesBothStreams) {
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  absl::StatusOr<CapturedRun> run = RunCapturingOutput(
      policy, {.argv = {"/bin/sh", "-c", "cat; echo to-stderr >&2; exit 3"}},
      {.stdin_data = "hello\nworld\n"}, GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->result.status(), proto::Result::OK)
      << run->result.DebugString();
  EXPECT_EQ(run->result.exit_code(), 3);
  EXPECT_EQ(run->stdout_data, "hello\nworld\n");
  EXPECT_EQ(run->stderr_data, "to-stderr\n");
  EXPECT_EQ(run->stdout_discarded, 0u);
}

TEST_P(CaptureTest, StdinIsSealed) {
  // The sandboxee cannot change what it was given (nor learn anything by
  // trying): writing to its stdin fails.
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  absl::StatusOr<CapturedRun> run = RunCapturingOutput(
      policy,
      {.argv = {"/bin/sh", "-c", "echo x >&0 && echo wrote || echo refused"}},
      {.stdin_data = "data"}, GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->stdout_data, "refused\n");
}

TEST_P(CaptureTest, OutputBeyondTheCapIsDrainedNotKept) {
  // 8 MiB against a 1 MiB cap: the rest is read and counted, so the
  // sandboxee finishes instead of waiting on a full pipe.
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  absl::StatusOr<CapturedRun> run = RunCapturingOutput(
      policy, {.argv = {"/usr/bin/head", "-c", "8388608", "/dev/zero"}},
      // stdin_data named too: it has no default member initializer, and
      // gcc's -Wmissing-field-initializers would fail the -Werror build.
      {.stdin_data = "", .max_output_bytes = 1 << 20}, GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->result.status(), proto::Result::OK)
      << run->result.DebugString();
  EXPECT_EQ(run->stdout_data.size(), 1u << 20);
  EXPECT_EQ(run->stdout_discarded, (8u << 20) - (1u << 20));
}

TEST_P(CaptureTest, AStdinNobodyReadsDoesNotBlockTheHost) {
  // 64 MiB the program never reads: a pipe would have blocked the host at
  // 64 KiB.
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  absl::StatusOr<CapturedRun> run = RunCapturingOutput(
      policy, {.argv = {"/bin/true"}},
      {.stdin_data = std::string(64 << 20, 'x')}, GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->result.status(), proto::Result::OK)
      << run->result.DebugString();
}

TEST_P(CaptureTest, OutputKeptOpenByAProcessLeftBehindDoesNotHoldTheHost) {
  // Without a pid namespace (or cgroup) a child the payload leaves behind
  // outlives the sandbox, holding stdout open for 30 s without writing, and
  // holding the seccomp filter. Reading stops at the sandbox's end, not at
  // end of file; and the supervisor does not wait on the filter's listener
  // for it (it did: 30 s, every other sandbox stalled with it).
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.mutable_proto().mutable_namespaces()->set_pid(false);
  builder.mutable_proto().mutable_filesystem()->set_proc(false);
  const Policy policy = BuildOrFail(builder);
  const absl::Time start = absl::Now();
  absl::StatusOr<CapturedRun> run = RunCapturingOutput(
      policy, {.argv = {"/bin/sh", "-c", "sleep 30 & echo $!"}}, {},
      GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_LT(absl::Now() - start, absl::Seconds(20));
  EXPECT_EQ(run->result.status(), proto::Result::OK)
      << run->result.DebugString();
  // The leftover's host pid (no pid namespace): ours to end.
  pid_t leftover = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(absl::StripAsciiWhitespace(run->stdout_data), &leftover))
      << run->stdout_data;
  EXPECT_EQ(kill(leftover, SIGKILL), 0);
}

TEST_P(CaptureTest, ReplacesTheCommandsOwnStdio) {
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  Command command{.argv = {"/bin/cat"}, .inherit_stdio = true};
  command.fds.push_back({2, 1});  // would send stdout to the test's stderr
  absl::StatusOr<CapturedRun> run =
      RunCapturingOutput(policy, command, {.stdin_data = "mine"}, GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->stdout_data, "mine");
}

TEST_P(CaptureTest, ASetupFailureIsAResultWithNothingCaptured) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.AddBind("/nonexistent/capture-test", "/x", MountMode::kReadOnly);
  const Policy policy = BuildOrFail(builder);
  absl::StatusOr<CapturedRun> run =
      RunCapturingOutput(policy, {.argv = {"/bin/true"}}, {}, GetParam());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->result.status(), proto::Result::SETUP_ERROR)
      << run->result.DebugString();
  EXPECT_EQ(run->stdout_data, "");
}

INSTANTIATE_TEST_SUITE_P(Modes, CaptureTest, testing::kBothSpawnModes,
                         testing::SpawnModeName);

}  // namespace
}  // namespace sandbox
