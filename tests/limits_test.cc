// Memory, pids and CPU caps on whole sandboxes, through the cgroup
// backends (v1 on the CI machine; v2 when this binary runs in the qemu
// guest of tests/qemu_cgroup_v2.sh), and the Result saying which wall was
// hit. Unprivileged without delegation, the clear error is asserted.

#include <dirent.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::CanUseCgroups;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::IsRoot;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::TesteeRun;
using ::testing::AnyOf;
using ::testing::HasSubstr;

// Whether this process may create sandbox cgroups (root, or a delegated
// cgroup); the tests that need it assert the clear error otherwise.
// The shipped policy without its own caps and without the rlimit fallback:
// each test sets the cap it is about.
PolicyBuilder StrictPolicy() {
  PolicyBuilder builder = TesteePolicy();
  proto::Limits& limits = *builder.mutable_proto().mutable_limits();
  limits.clear_memory();
  limits.clear_pids();
  limits.clear_cgroup_best_effort();
  return builder;
}

Command Testee(std::vector<std::string> args) {
  Command command;
  command.argv = {testing::kSandboxTestee};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.inherit_stdio = false;
  return command;
}

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!CanUseCgroups()) {
      // tests/run.sh leaves these out of its unprivileged pass, which runs
      // LimitsWithoutDelegationTest instead: this says why anywhere else.
      GTEST_SKIP() << "needs root or a delegated cgroup (systemd "
                      "Delegate=yes); without one, see "
                      "LimitsWithoutDelegationTest";
    }
  }
};

// Without delegation a limit is never silently dropped: the spawn fails
// and says how to get one. As root, checked in a child that drops to an
// unprivileged user first.
TEST(LimitsWithoutDelegationTest, ACgroupLimitFailsWithAClearError) {
  auto check = []() -> bool {
    absl::StatusOr<Policy> policy = StrictPolicy().SetMemory(64 << 20).Build();
    if (!policy.ok()) return false;
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        Sandbox::Spawn(*policy, Testee({"exit", "0"}), SpawnMode::kDirect);
    return !sandbox.ok() &&
           sandbox.status().code() == absl::StatusCode::kFailedPrecondition &&
           absl::StrContains(sandbox.status().message(), "delegation");
  };
  if (!IsRoot() || !CanUseCgroups()) {
    // Unprivileged, or root in a container's user namespace without
    // delegation.
    EXPECT_TRUE(check());
    return;
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(2);
    }
    _exit(check() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no clear error; 2: setresuid";
}

TEST_F(LimitsTest, MemoryHogEndsAsMemoryLimitWithPeakNearTheCap) {
  absl::StatusOr<Policy> policy = StrictPolicy().SetMemory(64 << 20).Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"alloc", "256M"});
  EXPECT_EQ(run.result.status(), proto::Result::MEMORY_LIMIT)
      << run.result.DebugString();
  EXPECT_EQ(run.result.signal(), SIGKILL);
  const uint64_t peak = run.result.usage().peak_memory_bytes();
  EXPECT_GE(peak, 32u << 20);
  EXPECT_LE(peak, 80u << 20);
}

// On cgroup v1 a sandbox's cgroup is kept as a spare for the next sandbox
// with the same caps (cgroup.h, "Spares"): the next one gets it, and its
// Result describes only itself, not the OOM kill and peak of the one before.
TEST_F(LimitsTest, TheNextSandboxInTheSameCgroupReportsOnlyItself) {
  absl::StatusOr<Policy> policy =
      StrictPolicy().SetMemory(64 << 20).SetPids(16).Build();
  ASSERT_THAT(policy, IsOk());
  Cgroup::RemoveSpares();
  std::vector<std::vector<std::string>> dirs;
  std::vector<proto::Result> results;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"alloc", "256M"},
        std::vector<std::string>{"exit", "0"}}) {
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        Sandbox::Spawn(*policy, Testee(args));
    ASSERT_THAT(sandbox, IsOk());
    dirs.push_back((*sandbox)->cgroup_dirs());
    absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
    ASSERT_THAT(result, IsOk());
    results.push_back(*result);
  }
  EXPECT_EQ(results[0].status(), proto::Result::MEMORY_LIMIT)
      << results[0].DebugString();
  EXPECT_GE(results[0].usage().peak_memory_bytes(), 32u << 20);
  EXPECT_EQ(results[1].status(), proto::Result::OK) << results[1].DebugString();
  EXPECT_LT(results[1].usage().peak_memory_bytes(), 32u << 20);
  // cgroup.clone_children: a v1 cgroup (v2 cgroups are not kept).
  bool v1 = !dirs[0].empty();
  for (const std::string& dir : dirs[0]) {
    v1 = v1 && access((dir + "/cgroup.clone_children").c_str(), F_OK) == 0;
  }
  if (v1) {
    EXPECT_EQ(dirs[1], dirs[0]) << "the spare was not reused";
  }
  Cgroup::RemoveSpares();
}

TEST_F(LimitsTest, ForkBombNeverExceedsThePidsCap) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetPids(16).SetWallTime(absl::Seconds(20));
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(*policy, Testee({"forkbomb", "3"}));
  ASSERT_THAT(sandbox, IsOk());
  std::vector<std::string> dirs = (*sandbox)->cgroup_dirs();
  std::string pids_current;
  for (const std::string& dir : dirs) {
    if (access((dir + "/pids.current").c_str(), R_OK) == 0) {
      pids_current = dir + "/pids.current";
    }
  }
  ASSERT_FALSE(pids_current.empty()) << "no pids controller in use";
  int most = 0;
  for (;;) {
    absl::StatusOr<std::optional<proto::Result>> done =
        (*sandbox)->WaitFor(absl::Milliseconds(5));
    ASSERT_THAT(done, IsOk());
    if (done->has_value()) {
      EXPECT_THAT((*done)->status(),
                  AnyOf(proto::Result::PIDS_LIMIT, proto::Result::TIMEOUT))
          << (*done)->DebugString();
      break;
    }
    int now = 0;
    if (absl::SimpleAtoi(ReadFirstLine(pids_current), &now)) {
      most = std::max(most, now);
    }
  }
  EXPECT_LE(most, 16);
  EXPECT_GE(most, 8) << "the bomb never got going";
}

// limits.end_on_limit: the first fork refused at the cap ends the whole
// sandbox, long before the bomb would stop (60 s) or the wall-clock limit.
TEST_F(LimitsTest, EndOnLimitEndsAForkBombAtThePidsCap) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetPids(16).SetWallTime(absl::Seconds(20));
  builder.SetEndOnLimit();
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"forkbomb", "60"});
  EXPECT_EQ(run.result.status(), proto::Result::PIDS_LIMIT)
      << run.result.DebugString();
  EXPECT_EQ(run.result.signal(), SIGKILL);
  const proto::Usage& usage = run.result.usage();
  EXPECT_LT(usage.wall_time_seconds(), 10);
  EXPECT_LT(usage.user_cpu_seconds() + usage.system_cpu_seconds(), 5);
}

// Without it the cap only refuses forks: the bomb sees EAGAIN and runs to
// its own end, and the Result still names the cap it hit.
TEST_F(LimitsTest, WithoutEndOnLimitAForkBombRunsOnAtThePidsCap) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetPids(16).SetWallTime(absl::Seconds(20));
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"forkbomb", "1"});
  EXPECT_EQ(run.result.status(), proto::Result::PIDS_LIMIT)
      << run.result.DebugString();
  EXPECT_EQ(run.result.exit_code(), 0);
  EXPECT_EQ(run.values["fork_failed"], "1");
  EXPECT_EQ(run.values["errno"], "EAGAIN");
  EXPECT_GE(run.result.usage().wall_time_seconds(), 1);
}

// An OOM kill of one process ends the sandbox with end_on_limit; without
// it, the rest runs on.
TEST_F(LimitsTest, EndOnLimitEndsTheSandboxAtAnOomKill) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetMemory(64 << 20).SetWallTime(absl::Seconds(20));
  builder.SetEndOnLimit();
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"oom-child", "256M", "60"});
  EXPECT_EQ(run.result.status(), proto::Result::MEMORY_LIMIT)
      << run.result.DebugString();
  EXPECT_EQ(run.result.signal(), SIGKILL);
  EXPECT_EQ(run.values.count("slept"), 0u) << run.output;
  EXPECT_LT(run.result.usage().wall_time_seconds(), 10);
}

TEST_F(LimitsTest, WithoutEndOnLimitTheSandboxOutlivesAnOomKill) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetMemory(64 << 20).SetWallTime(absl::Seconds(20));
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"oom-child", "256M", "0.2"});
  EXPECT_EQ(run.result.status(), proto::Result::MEMORY_LIMIT)
      << run.result.DebugString();
  EXPECT_EQ(run.result.exit_code(), 0);
  EXPECT_EQ(run.values["child_signal"], "9") << run.output;
  EXPECT_EQ(run.values["slept"], "1");
}

TEST_F(LimitsTest, CpuCapGivesAboutAQuarterOfACore) {
  absl::StatusOr<Policy> policy = StrictPolicy().SetCpus(0.25).Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"spin", "2"});
  ASSERT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  const proto::Usage& usage = run.result.usage();
  const double share = (usage.user_cpu_seconds() + usage.system_cpu_seconds()) /
                       usage.wall_time_seconds();
  EXPECT_GT(share, 0.1);
  EXPECT_LT(share, 0.45);
}

TEST_F(LimitsTest, PauseStopsAndResumeContinues) {
  absl::StatusOr<Policy> policy = StrictPolicy().SetPids(8).Build();
  ASSERT_THAT(policy, IsOk());
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(*policy, Testee({"spin", "forever"}));
  ASSERT_THAT(sandbox, IsOk());
  absl::SleepFor(absl::Milliseconds(100));
  ASSERT_THAT((*sandbox)->Pause(), IsOk());
  // The spinner's CPU time, by the cgroup's own clock, stands still while
  // frozen.
  auto cpu_now = [&]() -> double {
    for (const std::string& dir : (*sandbox)->cgroup_dirs()) {
      std::ifstream v1(dir + "/cpuacct.usage");
      uint64_t ns;
      if (v1 >> ns) return ns / 1e9;
      std::ifstream v2(dir + "/cpu.stat");
      std::string key;
      uint64_t value;
      while (v2 >> key >> value) {
        if (key == "usage_usec") return value / 1e6;
      }
    }
    return -1;
  };
  const double frozen_at = cpu_now();
  if (frozen_at < 0) {
    // No CPU accounting here; rely on the wall clock alone.
    GTEST_SKIP() << "no cpuacct or cpu.stat for the sandbox's cgroup";
  }
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_LT(cpu_now() - frozen_at, 0.02) << "ran while paused";
  ASSERT_THAT((*sandbox)->Resume(), IsOk());
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_GT(cpu_now() - frozen_at, 0.1) << "did not resume";
  ASSERT_THAT((*sandbox)->Kill(), IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::KILLED);
}

TEST_F(LimitsTest, KillWhilePausedStillEnds) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetPids(8).SetWallTime(absl::Milliseconds(500));
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(*policy, Testee({"sleep", "60"}));
  ASSERT_THAT(sandbox, IsOk());
  ASSERT_THAT((*sandbox)->Pause(), IsOk());
  // The wall-clock limit fires on a frozen sandbox: it must still end.
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::TIMEOUT);
}

TEST_F(LimitsTest, NoCgroupLeftAfterManySpawns) {
  absl::StatusOr<Policy> policy =
      StrictPolicy().SetMemory(64 << 20).SetPids(32).Build();
  ASSERT_THAT(policy, IsOk());
  std::vector<std::string> parents;
  for (int i = 0; i < 500; ++i) {
    const char* mode = i % 3 == 0 ? "signal" : (i % 3 == 1 ? "exit" : "sleep");
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Spawn(
        *policy, Testee({mode, i % 3 == 0 ? "11" : (i % 3 == 1 ? "0" : "60")}));
    ASSERT_THAT(sandbox, IsOk()) << i;
    if (parents.empty()) {
      for (const std::string& dir : (*sandbox)->cgroup_dirs()) {
        parents.push_back(dir.substr(0, dir.rfind('/')));
      }
    }
    if (i % 3 == 2) {
      ASSERT_THAT((*sandbox)->Kill(), IsOk());
    }
    ASSERT_THAT((*sandbox)->Wait(), IsOk());
  }
  ASSERT_FALSE(parents.empty());
  // The spares (cgroup v1) are all that may be left, and they are bounded.
  EXPECT_LE(Cgroup::RemoveSpares(), kMaxSpareCgroups);
  const std::string ours = absl::StrCat("sandbox-", getpid(), "-");
  for (const std::string& parent : parents) {
    DIR* dir = opendir(parent.c_str());
    ASSERT_NE(dir, nullptr) << parent;
    while (struct dirent* entry = readdir(dir)) {
      EXPECT_FALSE(absl::StartsWith(entry->d_name, ours))
          << parent << "/" << entry->d_name << " left behind";
    }
    closedir(dir);
  }
}

TEST(LimitsFallbackTest, BestEffortFallsBackToRlimitsAndSaysSo) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetMemory(512 << 20).SetPids(64);
  builder.mutable_proto().mutable_limits()->set_cgroup_best_effort(true);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"rlimits"});
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  if (CanUseCgroups()) {
    EXPECT_EQ(run.result.warnings_size(), 0);
    EXPECT_EQ(run.values["rlimit_as"], "inf:inf");
  } else {
    EXPECT_THAT(run.result.warnings(),
                ::testing::Contains(HasSubstr("RLIMIT_AS")));
    EXPECT_EQ(run.values["rlimit_as"], "536870912:536870912");
    EXPECT_EQ(run.values["rlimit_nproc"], "64:64");
  }
}

// The rlimit fallback has no event for a refused fork or allocation: the
// Result says that end_on_limit is not enforced.
TEST(LimitsFallbackTest, EndOnLimitWithoutCgroupsSaysItIsNotEnforced) {
  PolicyBuilder builder = StrictPolicy();
  builder.SetPids(64);
  proto::Limits& limits = *builder.mutable_proto().mutable_limits();
  limits.set_cgroup_best_effort(true);
  limits.set_end_on_limit(true);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  TesteeRun run = RunTestee(*policy, {"exit", "0"});
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  if (CanUseCgroups()) {
    EXPECT_EQ(run.result.warnings_size(), 0);
  } else {
    EXPECT_THAT(run.result.warnings(),
                ::testing::Contains(HasSubstr("limits.end_on_limit")));
  }
}

}  // namespace
}  // namespace sandbox
