// Prewarmed sandboxes (sandbox/prewarm.h): a spawn from the pool runs the
// command as Sandbox::Spawn would, with the same isolation, and the waiting
// sandboxes hold nothing of the host's and are never used twice.

#include "sandbox/prewarm.h"

#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::BuildOrFail;
using ::sandbox::testing::CanUseCgroups;
using ::sandbox::testing::HostNamespaceInode;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::kSandboxTestee;
using ::sandbox::testing::ParseValues;
using ::sandbox::testing::ReadAllFrom;
using ::sandbox::testing::ReadFileOrEmpty;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::TesteeRun;
using ::sandbox::testing::WaitOrDie;
using ::sandbox::testing::WorkerCommand;
using ::testing::HasSubstr;

// The testee with stdout into a memfd.
struct Captured {
  UniqueFd out{memfd_create("prewarm-stdout", MFD_CLOEXEC)};
  Command command;
};
Captured TesteeCommand(std::vector<std::string> args) {
  Captured captured;
  captured.command.argv = {kSandboxTestee};
  captured.command.argv.insert(captured.command.argv.end(), args.begin(),
                               args.end());
  captured.command.fds.push_back({captured.out.get(), 1});
  return captured;
}

// Waits until the pool is full first, so that a ready sandbox serves it.
TesteeRun RunFrom(PrewarmPool& pool, std::vector<std::string> args) {
  TesteeRun run;
  EXPECT_TRUE(pool.WaitUntilFull(absl::Seconds(20)));
  Captured captured = TesteeCommand(std::move(args));
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      pool.Spawn(captured.command);
  EXPECT_THAT(sandbox, IsOk());
  if (!sandbox.ok()) return run;
  run.result = WaitOrDie(**sandbox);
  run.output = ReadAllFrom(captured.out.get());
  run.values = ParseValues(run.output);
  return run;
}

std::unique_ptr<PrewarmPool> PrewarmOrDie(const Policy& policy, int count) {
  absl::StatusOr<std::unique_ptr<PrewarmPool>> pool = Prewarm(policy, count);
  EXPECT_THAT(pool, IsOk());
  return pool.ok() ? *std::move(pool) : nullptr;
}

// This process's children: the sandboxes' first processes (the fork server
// clones them with CLONE_PARENT) and the fork server.
std::set<pid_t> OwnChildren() {
  std::set<pid_t> children;
  DIR* tasks = opendir("/proc/self/task");
  if (tasks == nullptr) return children;
  while (struct dirent* entry = readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const std::string listed = ReadFileOrEmpty(
        absl::StrCat("/proc/self/task/", entry->d_name, "/children"));
    for (absl::string_view word :
         absl::StrSplit(listed, ' ', absl::SkipEmpty())) {
      pid_t pid;
      if (absl::SimpleAtoi(word, &pid)) children.insert(pid);
    }
  }
  closedir(tasks);
  return children;
}

// The descriptors process `pid` holds, as /proc/<pid>/fd links.
std::vector<std::string> FdTargets(pid_t pid) {
  const std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
  std::vector<std::string> targets;
  DIR* fds = opendir(fd_dir.c_str());
  if (fds == nullptr) return targets;
  while (struct dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    char target[256] = {};
    readlink(absl::StrCat(fd_dir, "/", entry->d_name).c_str(), target,
             sizeof(target) - 1);
    targets.push_back(target);
  }
  closedir(fds);
  return targets;
}

// A pool of `count`, and its waiting sandboxes' inits: the children of
// this process it added (the fork server is started first, so it is not
// one of them).
struct WatchedPool {
  std::unique_ptr<PrewarmPool> pool;
  std::vector<pid_t> inits;
};
WatchedPool PrewarmWatched(const Policy& policy, int count) {
  WatchedPool watched;
  EXPECT_EQ(RunTestee(policy, {"exit", "0"}).result.status(),
            proto::Result::OK);
  const std::set<pid_t> before = OwnChildren();
  watched.pool = PrewarmOrDie(policy, count);
  for (pid_t pid : OwnChildren()) {
    if (before.count(pid) == 0) watched.inits.push_back(pid);
  }
  return watched;
}

TEST(PrewarmTest, RunsTheCommandWithItsArgvEnvCwdAndDescriptors) {
  PolicyBuilder builder = TesteePolicy();
  Policy policy = BuildOrFail(builder);
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 2);
  ASSERT_NE(pool, nullptr);
  EXPECT_EQ(pool->ready(), 2);

  TesteeRun echo = RunFrom(*pool, {"echo", "one", "two words"});
  EXPECT_EQ(echo.result.status(), proto::Result::OK)
      << echo.result.ShortDebugString();
  EXPECT_EQ(echo.values["echo"], "one two words");

  Captured env = TesteeCommand({"env"});
  env.command.env = {"PREWARM_KEY=its value"};
  env.command.cwd = "/usr";
  ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = pool->Spawn(env.command);
  ASSERT_THAT(sandbox, IsOk());
  EXPECT_EQ(WaitOrDie(**sandbox).status(), proto::Result::OK);
  EXPECT_THAT(ReadAllFrom(env.out.get()),
              HasSubstr("env=PREWARM_KEY=its value\n"));

  TesteeRun cwd = RunFrom(*pool, {"ns", "report"});
  EXPECT_EQ(cwd.values["cwd"], "/tmp");  // the policy's, without command.cwd
  Captured in_usr = TesteeCommand({"ns", "report"});
  in_usr.command.cwd = "/usr";
  ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  sandbox = pool->Spawn(in_usr.command);
  ASSERT_THAT(sandbox, IsOk());
  EXPECT_EQ(WaitOrDie(**sandbox).status(), proto::Result::OK);
  EXPECT_EQ(ParseValues(ReadAllFrom(in_usr.out.get()))["cwd"], "/usr");

  // Exit codes and a program searched in PATH, as Sandbox::Spawn does.
  TesteeRun exit = RunFrom(*pool, {"exit", "7"});
  EXPECT_EQ(exit.result.status(), proto::Result::OK);
  EXPECT_EQ(exit.result.exit_code(), 7);
  Command true_command{.argv = {"true"}};
  ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  sandbox = pool->Spawn(true_command);
  ASSERT_THAT(sandbox, IsOk());
  const proto::Result ran_true = WaitOrDie(**sandbox);
  EXPECT_EQ(ran_true.status(), proto::Result::OK)
      << ran_true.ShortDebugString();
  EXPECT_GE(pool->stats().prewarmed, 5u);
}

TEST(PrewarmTest, IsolationIsThatOfSpawn) {
  Policy policy = BuildOrFail(TesteePolicy());
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
  ASSERT_NE(pool, nullptr);
  TesteeRun warm = RunFrom(*pool, {"ns", "report"});
  TesteeRun cold = RunTestee(policy, {"ns", "report"});
  ASSERT_EQ(warm.result.status(), proto::Result::OK)
      << warm.result.ShortDebugString();
  ASSERT_EQ(cold.result.status(), proto::Result::OK)
      << cold.result.ShortDebugString();
  EXPECT_EQ(pool->stats().prewarmed, 1u);
  // Every value but the namespaces' own numbers, which are per sandbox.
  for (const auto& [key, value] : cold.values) {
    if (absl::StartsWith(key, "ns_")) {
      EXPECT_NE(warm.values[key], HostNamespaceInode(key.substr(3))) << key;
      continue;
    }
    EXPECT_EQ(warm.values[key], value) << key;
  }
  EXPECT_EQ(warm.values["seccomp"], "2");
  EXPECT_EQ(warm.values["no_new_privs"], "1");
  EXPECT_EQ(warm.values["cap_eff"], "0000000000000000");

  // Descriptors: what the command maps, nothing more.
  TesteeRun warm_fds = RunFrom(*pool, {"fds"});
  TesteeRun cold_fds = RunTestee(policy, {"fds"});
  EXPECT_EQ(warm_fds.output, cold_fds.output);

  // The filter holds.
  TesteeRun ptrace = RunFrom(*pool, {"ptrace"});
  EXPECT_EQ(ptrace.result.status(), proto::Result::VIOLATION)
      << ptrace.result.ShortDebugString();
  EXPECT_EQ(ptrace.result.violation().syscall(), "ptrace");
}

TEST(PrewarmTest, AWaitingSandboxHoldsOnlyItsSyncSocketAndRunsNothing) {
  WatchedPool watched = PrewarmWatched(BuildOrFail(TesteePolicy()), 2);
  ASSERT_NE(watched.pool, nullptr);
  const std::vector<pid_t>& waiting = watched.inits;
  ASSERT_EQ(waiting.size(), 2u);
  if (access(absl::StrCat("/proc/", waiting[0], "/fd").c_str(), R_OK) != 0) {
    // tests/run.sh runs this as root and in user namespaces only.
    GTEST_SKIP() << "a waiting sandbox is not dumpable: only root (or the "
                    "owner of the user namespace the host runs in) can look "
                    "into /proc/<pid>/fd";
  }
  for (pid_t init : waiting) {
    // Its init and the payload it forked, which waits for the command: no
    // other process, nothing exec'd, nothing of the host's open but the
    // sync socket (not the fork server's bind sources or namespaces).
    const std::vector<std::string> children =
        absl::StrSplit(ReadFileOrEmpty(absl::StrCat("/proc/", init, "/task/",
                                                    init, "/children")),
                       ' ', absl::SkipEmpty());
    ASSERT_EQ(children.size(), 1u);
    pid_t payload;
    ASSERT_TRUE(absl::SimpleAtoi(children[0], &payload));
    EXPECT_EQ(ReadFileOrEmpty(absl::StrCat("/proc/", payload, "/task/", payload,
                                           "/children")),
              "");
    for (pid_t pid : {init, payload}) {
      const std::vector<std::string> targets = FdTargets(pid);
      ASSERT_EQ(targets.size(), 1u)
          << pid << ": " << absl::StrJoin(targets, " ");
      EXPECT_TRUE(absl::StartsWith(targets[0], "socket:")) << targets[0];
    }
    char init_exe[256] = {};
    char payload_exe[256] = {};
    readlink(absl::StrCat("/proc/", init, "/exe").c_str(), init_exe,
             sizeof(init_exe) - 1);
    readlink(absl::StrCat("/proc/", payload, "/exe").c_str(), payload_exe,
             sizeof(payload_exe) - 1);
    EXPECT_STREQ(payload_exe, init_exe);
    // And it has already given up every privilege.
    const std::string status =
        ReadFileOrEmpty(absl::StrCat("/proc/", payload, "/status"));
    EXPECT_THAT(status, HasSubstr("CapEff:\t0000000000000000\n"));
    EXPECT_THAT(status, HasSubstr("NoNewPrivs:\t1\n"));
  }
}

TEST(PrewarmTest, EachSandboxServesOneCommandAndIsReplaced) {
  Policy policy = BuildOrFail(TesteePolicy());
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 2);
  ASSERT_NE(pool, nullptr);
  // A new process each time (namespace numbers are reused once freed).
  std::set<pid_t> pids;
  for (int i = 0; i < 6; ++i) {
    TesteeRun run = RunFrom(*pool, {"exit", "0"});
    EXPECT_EQ(run.result.status(), proto::Result::OK);
    pids.insert(run.result.pid());
  }
  EXPECT_EQ(pids.size(), 6u);
  EXPECT_EQ(pool->stats().prewarmed, 6u);
  EXPECT_EQ(pool->stats().cold, 0u);
  EXPECT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  EXPECT_EQ(pool->ready(), 2);
}

TEST(PrewarmTest, DestroyingThePoolLeavesNoProcessOrDescriptor) {
  Policy policy = BuildOrFail(TesteePolicy());
  // The fork server (started once per process) is there before we count.
  ASSERT_EQ(RunTestee(policy, {"exit", "0"}).result.status(),
            proto::Result::OK);
  const std::set<pid_t> children_before = OwnChildren();
  const size_t fds_before = FdTargets(getpid()).size();
  {
    std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 3);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(RunFrom(*pool, {"exit", "0"}).result.status(), proto::Result::OK);
    EXPECT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
    EXPECT_GT(OwnChildren().size(), children_before.size());
  }
  EXPECT_EQ(OwnChildren(), children_before);
  EXPECT_EQ(FdTargets(getpid()).size(), fds_before);
}

TEST(PrewarmTest, ASandboxKilledWhileWaitingIsNotUsed) {
  WatchedPool watched = PrewarmWatched(BuildOrFail(TesteePolicy()), 1);
  ASSERT_NE(watched.pool, nullptr);
  PrewarmPool* pool = watched.pool.get();
  const std::vector<pid_t>& waiting = watched.inits;
  ASSERT_EQ(waiting.size(), 1u);
  ASSERT_EQ(kill(waiting[0], SIGKILL), 0);
  // Until the supervisor saw it die, it may be taken and found dead.
  absl::SleepFor(absl::Milliseconds(100));
  TesteeRun run = RunFrom(*pool, {"echo", "still", "runs"});
  EXPECT_EQ(run.result.status(), proto::Result::OK)
      << run.result.ShortDebugString();
  EXPECT_EQ(run.values["echo"], "still runs");
  EXPECT_EQ(pool->stats().discarded, 1u);
  EXPECT_EQ(pool->stats().prewarmed + pool->stats().cold, 1u);
}

TEST(PrewarmTest, ABadCommandIsRefusedAndTheSandboxStaysReady) {
  Policy policy = BuildOrFail(TesteePolicy());
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
  ASSERT_NE(pool, nullptr);
  EXPECT_THAT(pool->Spawn(Command{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("names no program")));
  Command bad_fd{.argv = {kSandboxTestee}, .fds = {{0, 1u << 20}}};
  EXPECT_THAT(pool->Spawn(bad_fd), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("limits.nofile")));
  EXPECT_THAT(pool->Spawn(WorkerCommand("anything")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("this pool's sandboxes run programs")));
  // Refused after its comms channel was made: the next command, without
  // one, must not get that channel.
  Command bad_with_comms{.argv = {kSandboxTestee}, .fds = {{0, 1u << 20}}};
  bad_with_comms.comms_fd = 3;
  EXPECT_THAT(pool->Spawn(bad_with_comms),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(pool->ready(), 1);
  Command plain{.argv = {kSandboxTestee, "exit", "0"}};
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = pool->Spawn(plain);
  ASSERT_THAT(sandbox, IsOk());
  EXPECT_EQ((*sandbox)->comms(), nullptr);
  EXPECT_EQ(WaitOrDie(**sandbox).status(), proto::Result::OK);
  EXPECT_EQ(pool->stats().prewarmed, 1u);

  // A command with a channel gets it, at its number.
  Captured with_comms = TesteeCommand({"fds"});
  with_comms.command.comms_fd = 3;
  ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  sandbox = pool->Spawn(with_comms.command);
  ASSERT_THAT(sandbox, IsOk());
  ASSERT_NE((*sandbox)->comms(), nullptr);
  EXPECT_EQ(WaitOrDie(**sandbox).status(), proto::Result::OK);
  EXPECT_EQ(ParseValues(ReadAllFrom(with_comms.out.get()))["fds"], "1,3");
  EXPECT_EQ(pool->stats().prewarmed, 2u);
}

TEST(PrewarmTest, ACommandTooLargeToSendRunsTheUsualWay) {
  Policy policy = BuildOrFail(TesteePolicy());
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
  ASSERT_NE(pool, nullptr);
  Captured env = TesteeCommand({"env"});
  // Each entry below execve's 128 KiB for one string, together above
  // kMaxCommandBytes.
  for (int i = 0; i < 4; ++i) {
    env.command.env.push_back(
        absl::StrCat("BIG", i, "=", std::string(60 << 10, 'x')));
  }
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = pool->Spawn(env.command);
  ASSERT_THAT(sandbox, IsOk());
  const proto::Result result = WaitOrDie(**sandbox);
  EXPECT_EQ(result.status(), proto::Result::OK) << result.ShortDebugString();
  EXPECT_THAT(ReadAllFrom(env.out.get()), HasSubstr("env=BIG3=xxxx"));
  EXPECT_EQ(pool->stats().cold, 1u);
  EXPECT_EQ(pool->ready(), 1);
}

TEST(PrewarmTest, TheWallClockLimitStartsAtSpawn) {
  PolicyBuilder builder = TesteePolicy();
  builder.mutable_proto().mutable_limits()->set_wall_time_seconds(1);
  Policy policy = BuildOrFail(builder);
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
  ASSERT_NE(pool, nullptr);
  absl::SleepFor(absl::Milliseconds(1500));
  TesteeRun slept = RunFrom(*pool, {"sleep", "0.2"});
  EXPECT_EQ(slept.result.status(), proto::Result::OK)
      << slept.result.ShortDebugString();
  EXPECT_GE(slept.result.usage().setup_us().at("wait_for_command"), 1000000u);
  EXPECT_LT(slept.result.usage().wall_time_seconds(), 1.0);
  TesteeRun spun = RunFrom(*pool, {"spin", "forever"});
  EXPECT_EQ(spun.result.status(), proto::Result::TIMEOUT)
      << spun.result.ShortDebugString();
}

TEST(PrewarmTest, LimitsHoldInAPrewarmedSandbox) {
  PolicyBuilder builder = TesteePolicy();
  builder.mutable_proto().mutable_limits()->set_memory("64M");
  Policy policy = BuildOrFail(builder);
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
  ASSERT_NE(pool, nullptr);
  // The cgroup's cap (MEMORY_LIMIT) where cgroups can be made, RLIMIT_AS where
  // there is no delegation (malloc fails: exit 1), the same as without
  // prewarming.
  TesteeRun warm = RunFrom(*pool, {"alloc", "256M"});
  TesteeRun cold = RunTestee(policy, {"alloc", "256M"});
  EXPECT_FALSE(warm.result.status() == proto::Result::OK &&
               warm.result.exit_code() == 0)
      << warm.result.ShortDebugString();
  EXPECT_EQ(warm.result.status(), cold.result.status());
  EXPECT_EQ(warm.result.exit_code(), cold.result.exit_code());
  if (CanUseCgroups()) {
    EXPECT_EQ(warm.result.status(), proto::Result::MEMORY_LIMIT);
  }
  EXPECT_EQ(pool->stats().prewarmed, 1u);
}

TEST(PrewarmTest, AProgramThatLocksItselfDownFindsItsFilter) {
  if (!::sandbox::testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        ::sandbox::testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  // seccomp.defer_until_lockdown: the program's env names where the filter
  // waits (sent with the command), and it opens files until LockDown().
  PolicyBuilder builder = ::sandbox::testing::DefaultPolicyBuilder();
  ::sandbox::testing::RemoveSyscalls(builder,
                                     {"open", "openat", "openat2", "creat"});
  builder.AddBind(SANDBOX_LOCKDOWN_TESTEE_PATH, "/lockdown_testee",
                  MountMode::kReadOnly, SymlinkMode::kFollow);
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  Policy policy = BuildOrFail(builder);
  std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
  ASSERT_NE(pool, nullptr);
  Captured helper = TesteeCommand({});
  helper.command.argv = {"/lockdown_testee"};
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      pool->Spawn(helper.command);
  ASSERT_THAT(sandbox, IsOk());
  const proto::Result result = WaitOrDie(**sandbox);
  std::map<std::string, std::string> values =
      ParseValues(ReadAllFrom(helper.out.get()));
  EXPECT_EQ(values["before"], "ok");
  EXPECT_EQ(values["lockdown"], "ok");
  EXPECT_EQ(values.count("after"), 0u);
  ASSERT_EQ(result.status(), proto::Result::VIOLATION)
      << result.ShortDebugString();
  EXPECT_EQ(result.violation().syscall(), "openat");
  EXPECT_EQ(pool->stats().prewarmed, 1u);
}

TEST(PrewarmTest, WithoutAnInitTheProgramItselfWaits) {
  // The program as pid 1 of its namespace, and no pid namespace at all:
  // the one process of the sandbox waits for the command.
  for (const bool pid_namespace : {true, false}) {
    SCOPED_TRACE(pid_namespace ? "program_is_init" : "no pid namespace");
    PolicyBuilder builder = TesteePolicy();
    proto::Namespaces& ns = *builder.mutable_proto().mutable_namespaces();
    if (pid_namespace) {
      ns.set_program_is_init(true);
    } else {
      ns.set_pid(false);
      // /proc needs its own pid namespace.
      builder.mutable_proto().mutable_filesystem()->set_proc(false);
    }
    Policy policy = BuildOrFail(builder);
    std::unique_ptr<PrewarmPool> pool = PrewarmOrDie(policy, 1);
    ASSERT_NE(pool, nullptr);
    TesteeRun run = RunFrom(*pool, {"exit", "6"});
    EXPECT_EQ(run.result.status(), proto::Result::OK)
        << run.result.ShortDebugString();
    EXPECT_EQ(run.result.exit_code(), 6);
    TesteeRun ptrace = RunFrom(*pool, {"ptrace"});
    EXPECT_EQ(ptrace.result.status(), proto::Result::VIOLATION)
        << ptrace.result.ShortDebugString();
    EXPECT_EQ(pool->stats().prewarmed, 2u);
  }
}

TEST(PrewarmTest, CountIsChecked) {
  Policy policy = BuildOrFail(TesteePolicy());
  EXPECT_THAT(Prewarm(policy, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..64")));
  EXPECT_THAT(Prewarm(policy, 65),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1..64")));
}

}  // namespace
}  // namespace sandbox
