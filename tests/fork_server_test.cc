// The fork server as a host uses it: many threads spawning at once,
// thousands of spawns without leaks, the server dying between and during
// spawns, and the host dying with sandboxes alive.

#include "sandbox/internal/fork_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fork_server.pb.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/cgroup_detect.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePolicy;
using ::testing::HasSubstr;

Policy TesteeTruePolicy() {
  absl::StatusOr<Policy> policy = TesteePolicy().Build();
  EXPECT_THAT(policy, IsOk());
  return *policy;
}

Command Testee(std::vector<std::string> args) {
  Command command;
  command.argv = {testing::kSandboxTestee};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.inherit_stdio = false;
  return command;
}

int CountEntries(const char* dir_path) {
  DIR* dir = opendir(dir_path);
  if (dir == nullptr) return -1;
  int count = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

// Processes whose parent is us (the fork server included).
int CountChildren() {
  int count = 0;
  DIR* dir = opendir("/proc");
  const std::string self = absl::StrCat(getpid());
  while (struct dirent* entry = readdir(dir)) {
    int pid;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');
    if (paren == std::string::npos) continue;
    std::vector<std::string> fields =
        absl::StrSplit(line.substr(paren + 2), ' ');
    if (fields.size() > 1 && fields[1] == self) ++count;
  }
  closedir(dir);
  return count;
}

// Sandbox cgroups of this process under our own cgroups, in every
// hierarchy.
int CountOurCgroups() {
  absl::StatusOr<std::vector<CgroupControllerInfo>> controllers =
      DetectCgroups();
  if (!controllers.ok()) return -1;
  const std::string prefix = absl::StrCat("sandbox-", getpid(), "-");
  std::set<std::string> dirs;
  for (const CgroupControllerInfo& info : *controllers) {
    if (info.own_dir.empty()) continue;
    DIR* dir = opendir(info.own_dir.c_str());
    if (dir == nullptr) continue;
    while (struct dirent* entry = readdir(dir)) {
      if (absl::StartsWith(entry->d_name, prefix)) {
        dirs.insert(info.own_dir + "/" + entry->d_name);
      }
    }
    closedir(dir);
  }
  return static_cast<int>(dirs.size());
}

int CountMounts() {
  std::ifstream in("/proc/self/mountinfo");
  int lines = 0;
  std::string line;
  while (std::getline(in, line)) ++lines;
  return lines;
}

TEST(ForkServerTest, SpawnsThroughTheServer) {
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(TesteeTruePolicy(), Testee({"exit", "3"}));
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK);
  EXPECT_EQ(result->exit_code(), 3);
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
      internal::DefaultForkServer();
  ASSERT_THAT(server, IsOk());
  EXPECT_TRUE((*server)->alive());
  // The host is the sandbox's parent (CLONE_PARENT): it reaped it itself.
  EXPECT_NE((*sandbox)->pid(), (*server)->pid());
}

TEST(ForkServerTest, ServerKeepsOnlyTheCapabilitiesItNeeds) {
  ASSERT_THAT(sandbox::Run(TesteeTruePolicy(), Testee({"exit", "0"})), IsOk());
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
      internal::DefaultForkServer();
  ASSERT_THAT(server, IsOk());
  std::ifstream status(absl::StrCat("/proc/", (*server)->pid(), "/status"));
  std::string line;
  uint64_t effective = ~0ull;
  uint64_t bounding = ~0ull;
  while (std::getline(status, line)) {
    if (absl::StartsWith(line, "CapEff:")) {
      effective = std::stoull(line.substr(7), nullptr, 16);
    } else if (absl::StartsWith(line, "CapBnd:")) {
      bounding = std::stoull(line.substr(7), nullptr, 16);
    }
  }
  if (geteuid() != 0) {
    EXPECT_EQ(effective, 0u) << "an unprivileged server holds nothing";
    return;
  }
  uint64_t needed = 1ull << CAP_SYS_ADMIN | 1ull << CAP_SETUID |
                    1ull << CAP_SETGID | 1ull << CAP_SETPCAP |
                    1ull << CAP_NET_ADMIN | 1ull << CAP_DAC_OVERRIDE |
                    1ull << CAP_DAC_READ_SEARCH;
  // Root in a container's user namespace maps its own id 0 for the
  // sandbox, which Linux 5.12+ allows only with CAP_SETFCAP.
  if (!internal::InInitialUserNamespace()) needed |= 1ull << CAP_SETFCAP;
  EXPECT_EQ(effective, needed) << std::hex << effective;
  EXPECT_EQ(bounding, needed) << std::hex << bounding;
}

TEST(ForkServerTest, ManyThreadsSpawnAtOnce) {
  const Policy policy = TesteeTruePolicy();
  constexpr int kThreads = 8;
  constexpr int kSpawnsEach = 25;
  std::atomic<int> ok{0};
  absl::Mutex mu;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kSpawnsEach; ++i) {
        absl::StatusOr<proto::Result> result = sandbox::Run(
            policy, Testee({"exit", absl::StrCat((t * 31 + i) % 200)}));
        if (result.ok() && result->status() == proto::Result::OK &&
            result->exit_code() == (t * 31 + i) % 200) {
          ++ok;
        } else {
          absl::MutexLock lock(&mu);
          errors.push_back(result.ok() ? result->DebugString()
                                       : result.status().ToString());
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kSpawnsEach)
      << (errors.empty() ? "" : errors.front());
}

TEST(ForkServerTest, APolicyTheServerForgotIsSentAgain) {
  // The server keeps a bounded number of policies; the host must not go on
  // believing it knows one it dropped.
  std::vector<Policy> policies;
  for (int i = 0; i < 300; ++i) {
    absl::StatusOr<Policy> policy =
        TesteePolicy().SetName(absl::StrCat("policy-", i)).Build();
    ASSERT_THAT(policy, IsOk());
    policies.push_back(*std::move(policy));
  }
  for (const Policy& policy : policies) {
    absl::StatusOr<proto::Result> result =
        sandbox::Run(policy, Testee({"exit", "3"}));
    ASSERT_THAT(result, IsOk()) << policy.name();
    ASSERT_EQ(result->exit_code(), 3) << policy.name();
  }
  absl::StatusOr<proto::Result> first =
      sandbox::Run(policies.front(), Testee({"exit", "4"}));
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->exit_code(), 4);
}

TEST(ForkServerTest, HundredsOfLiveSandboxes) {
  const Policy policy = TesteeTruePolicy();
  std::vector<std::unique_ptr<Sandbox>> live;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        Sandbox::Spawn(policy, Testee({"sleep", "60"}));
    ASSERT_THAT(sandbox, IsOk()) << i;
    live.push_back(*std::move(sandbox));
  }
  for (auto& sandbox : live) ASSERT_THAT(sandbox->Kill(), IsOk());
  for (auto& sandbox : live) {
    absl::StatusOr<proto::Result> result = sandbox->Wait();
    ASSERT_THAT(result, IsOk());
    EXPECT_EQ(result->status(), proto::Result::KILLED);
  }
}

TEST(ForkServerTest, ThousandSpawnsLeakNothing) {
  const Policy policy = TesteeTruePolicy();
  // Warm up: the fork server exists before we count.
  ASSERT_THAT(sandbox::Run(policy, Testee({"exit", "0"})), IsOk());
  const int fds = CountEntries("/proc/self/fd");
  const int children = CountChildren();
  const int mounts = CountMounts();
  // The shipped policy caps memory and pids: a cgroup per sandbox (as root;
  // unprivileged it falls back to rlimits), kept as a spare once it ends.
  Cgroup::RemoveSpares();
  ASSERT_EQ(CountOurCgroups(), 0);
  if (testing::CanUseCgroups()) {
    // The count sees a live sandbox's cgroup.
    absl::StatusOr<std::unique_ptr<Sandbox>> live =
        Sandbox::Spawn(policy, Testee({"sleep", "60"}));
    ASSERT_THAT(live, IsOk());
    EXPECT_GE(CountOurCgroups(), 1);  // one per hierarchy in use
    ASSERT_THAT((*live)->Kill(), IsOk());
    ASSERT_THAT((*live)->Wait(), IsOk());
  }
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<proto::Result> result =
        sandbox::Run(policy, Testee({i % 10 == 0 ? "signal" : "exit", "11"}));
    ASSERT_THAT(result, IsOk()) << i;
  }
  EXPECT_EQ(CountEntries("/proc/self/fd"), fds);
  EXPECT_EQ(CountChildren(), children);
  EXPECT_EQ(CountMounts(), mounts);
  // Each ended sandbox's cgroup was kept as a spare for the next (cgroup v1),
  // and spares are bounded: what is left is at most that bound.
  const int spares = Cgroup::RemoveSpares();
  EXPECT_LE(spares, kMaxSpareCgroups);
  EXPECT_EQ(CountOurCgroups(), 0);
}

TEST(ForkServerTest, ServerKilledBetweenSpawnsIsReplaced) {
  const Policy policy = TesteeTruePolicy();
  ASSERT_THAT(sandbox::Run(policy, Testee({"exit", "0"})), IsOk());
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> first =
      internal::DefaultForkServer();
  ASSERT_THAT(first, IsOk());
  const pid_t old_pid = (*first)->pid();
  ASSERT_EQ(kill(old_pid, SIGKILL), 0);
  // Once the client sees it dead (the kernel delivers the kill soon), spawn
  // again.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while ((*first)->alive() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE((*first)->alive()) << "the fork server outlived SIGKILL";
  absl::StatusOr<proto::Result> result =
      sandbox::Run(policy, Testee({"exit", "5"}));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code(), 5);
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> second =
      internal::DefaultForkServer();
  ASSERT_THAT(second, IsOk());
  EXPECT_NE((*second)->pid(), old_pid);
}

TEST(ForkServerTest, ServerKilledDuringSpawnsGivesAClearErrorNeverAHang) {
  const Policy policy = TesteeTruePolicy();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0};
  std::atomic<int> unavailable{0};
  std::atomic<int> other{0};
  std::thread killer([&] {
    while (!stop) {
      absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
          internal::DefaultForkServer();
      if (server.ok()) kill((*server)->pid(), SIGKILL);
      usleep(3000);
    }
  });
  // Two spawning threads: one may be mid-request on a client that the
  // other (or the killer) finds dead and replaces.
  auto spawner = [&] {
    for (int i = 0; i < 150; ++i) {
      absl::StatusOr<proto::Result> result =
          sandbox::Run(policy, Testee({"exit", "0"}));
      if (result.ok()) {
        ++ok;
      } else if (result.status().code() == absl::StatusCode::kUnavailable) {
        EXPECT_THAT(result.status().message(), HasSubstr("fork server"));
        ++unavailable;
      } else {
        ADD_FAILURE() << result.status();
        ++other;
      }
    }
  };
  std::thread second(spawner);
  spawner();
  second.join();
  stop = true;
  killer.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_GT(ok.load(), 0);
  // And the library recovers once the killing stops. The last server killed
  // may still be exiting, its channel closed but its pidfd not yet
  // readable: a spawn that meets it is Unavailable, and the next one starts
  // a new server, as documented.
  absl::StatusOr<proto::Result> after =
      sandbox::Run(policy, Testee({"exit", "0"}));
  if (absl::IsUnavailable(after.status())) {
    after = sandbox::Run(policy, Testee({"exit", "0"}));
  }
  EXPECT_THAT(after, IsOk());
}

TEST(ForkServerTest, HostExitKillsEverySandbox) {
  if (testing::BuiltWithSanitizer("thread")) {
    GTEST_SKIP() << "cannot run under -fsanitize=thread: the host is a fork "
                    "of this threaded process that starts threads, which "
                    "TSan does not support";
  }
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t host = fork();
  ASSERT_GE(host, 0);
  if (host == 0) {
    // A host that starts three sandboxes and dies without waiting. A fresh
    // process: it starts its own fork server.
    close(pipe_fds[0]);
    std::vector<std::unique_ptr<Sandbox>> sandboxes;
    absl::StatusOr<Policy> policy = TesteePolicy().Build();
    for (int i = 0; i < 3 && policy.ok(); ++i) {
      absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
          Sandbox::Spawn(*policy, Testee({"sleep", "60"}));
      if (!sandbox.ok()) _exit(2);
      const pid_t pid = (*sandbox)->pid();
      if (write(pipe_fds[1], &pid, sizeof(pid)) != sizeof(pid)) _exit(3);
      sandboxes.push_back(*std::move(sandbox));
    }
    // And its fork server, which must die with it too.
    absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
        internal::DefaultForkServer();
    if (!server.ok()) _exit(4);
    const pid_t server_pid = (*server)->pid();
    if (write(pipe_fds[1], &server_pid, sizeof(server_pid)) !=
        sizeof(server_pid)) {
      _exit(3);
    }
    _exit(0);  // no destructors: the sandboxes are left running
  }
  close(pipe_fds[1]);
  std::vector<int> pidfds;
  int already_gone = 0;
  pid_t pid;
  while (read(pipe_fds[0], &pid, sizeof(pid)) == sizeof(pid)) {
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd >= 0) {
      pidfds.push_back(pidfd);
    } else if (errno == ESRCH) {
      ++already_gone;  // died (and was reaped) before we looked: fine
    } else {
      ADD_FAILURE() << "pidfd_open(" << pid << "): " << strerror(errno);
    }
  }
  close(pipe_fds[0]);
  int status;
  ASSERT_EQ(waitpid(host, &status, 0), host);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // Three sandboxes and the fork server.
  ASSERT_EQ(pidfds.size() + already_gone, 4u);
  for (int pidfd : pidfds) {
    struct pollfd pfd = {pidfd, POLLIN, 0};
    EXPECT_EQ(poll(&pfd, 1, 10000), 1)
        << "a sandbox or the fork server outlived its host";
    close(pidfd);
  }
}

// A request as ForkServerClient::Spawn makes it: the policy and its filter
// come along the first time.
proto::SpawnRequest RequestFor(const Policy& policy, const Command& command) {
  proto::SpawnRequest request;
  request.set_policy_id(internal::StateOf(policy).id);
  *request.mutable_policy() = policy.proto();
  const std::vector<sock_filter>& program =
      internal::StateOf(policy).seccomp.instructions;
  request.set_seccomp_program(
      std::string(reinterpret_cast<const char*>(program.data()),
                  program.size() * sizeof(sock_filter)));
  request.mutable_argv()->Assign(command.argv.begin(), command.argv.end());
  return request;
}

TEST(ForkServerTest, DecodesARequestWithoutSpawning) {
  const Policy policy = TesteeTruePolicy();
  proto::SpawnRequest request = RequestFor(policy, Testee({"exit", "0"}));
  request.add_fd_targets(1);
  internal::ForkServerPolicies policies;
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(null.valid());
  const int fds[] = {null.get(), null.get()};
  absl::StatusOr<std::unique_ptr<internal::DecodedSpawnRequest>> decoded =
      internal::DecodeSpawnRequest(request, fds, policies);
  ASSERT_THAT(decoded, IsOk());
  const internal::LaunchRequest& launch = (*decoded)->launch;
  EXPECT_EQ(launch.child_sync_fd, null.get());
  EXPECT_EQ(launch.cgroup_fd, -1);
  ASSERT_EQ(launch.fds.size(), 1u);
  EXPECT_EQ(launch.fds[0].sandbox_fd, 1);
  absl::StatusOr<std::unique_ptr<internal::PreparedSpawn>> prepared =
      internal::PrepareSpawn(launch);
  ASSERT_THAT(prepared, IsOk());
  EXPECT_EQ((*prepared)->plan.fd_count, 1u);
  // The next request names the cached policy by its id alone.
  request.clear_policy();
  request.clear_seccomp_program();
  EXPECT_THAT(internal::DecodeSpawnRequest(request, fds, policies), IsOk());
}

TEST(ForkServerTest, DecodeRefusesWrongDescriptorCountsAndUnknownPolicies) {
  const Policy policy = TesteeTruePolicy();
  proto::SpawnRequest request = RequestFor(policy, Testee({"exit", "0"}));
  request.set_has_cgroup_fd(true);
  internal::ForkServerPolicies policies;
  const int one_fd[] = {0};
  EXPECT_THAT(
      internal::DecodeSpawnRequest(request, one_fd, policies),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected 2")));
  request.clear_policy();
  const int two_fds[] = {0, 0};
  EXPECT_THAT(internal::DecodeSpawnRequest(request, two_fds, policies),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("unknown policy")));
}

TEST(ForkServerTest, DecodeRefusesFiltersTheKernelWouldNotLoad) {
  const Policy policy = TesteeTruePolicy();
  proto::SpawnRequest request = RequestFor(policy, Testee({"exit", "0"}));
  UniqueFd null(open("/dev/null", O_RDWR | O_CLOEXEC));
  ASSERT_TRUE(null.valid());
  const int fds[] = {null.get()};
  internal::ForkServerPolicies policies;
  // None, more than BPF_MAXINSNS, and a partial instruction.
  for (const size_t bytes :
       {size_t{0}, (BPF_MAXINSNS + 1) * sizeof(sock_filter),
        sizeof(sock_filter) + 1}) {
    request.set_seccomp_program(std::string(bytes, '\0'));
    EXPECT_THAT(internal::DecodeSpawnRequest(request, fds, policies),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("malformed filter")))
        << bytes << " bytes";
  }
}

// File names and environment values are bytes, not text: the request
// carries them as such.
TEST(ForkServerTest, ArgumentsAndEnvironmentNeedNotBeUtf8) {
  const std::string latin1 = "caf\xe9";
  Command command = Testee({"exists", "/" + latin1});
  command.env.push_back("NAME=" + latin1);
  UniqueFd out(memfd_create("testee-stdout", MFD_CLOEXEC));
  ASSERT_TRUE(out.valid());
  command.fds.push_back({out.get(), 1});
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(TesteeTruePolicy(), command, SpawnMode::kForkServer);
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code(), 0);
  char buffer[256] = {};
  ASSERT_GT(pread(out.get(), buffer, sizeof(buffer) - 1, 0), 0);
  EXPECT_THAT(buffer, HasSubstr("exists:/" + latin1 + "=0"));
}

// A refusal that quotes such bytes is a refusal, not a broken server.
TEST(ForkServerTest, RefusalQuotingNonUtf8BytesKeepsTheServer) {
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
      internal::DefaultForkServer();
  ASSERT_THAT(server, IsOk());
  const pid_t server_pid = (*server)->pid();
  Command command = Testee({"exit", "0"});
  command.env.push_back("caf\xe9");  // not KEY=VALUE
  EXPECT_THAT(
      Sandbox::Spawn(TesteeTruePolicy(), command, SpawnMode::kForkServer),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("expected KEY=VALUE, got 'caf\xe9'")));
  EXPECT_TRUE((*server)->alive());
  server = internal::DefaultForkServer();
  ASSERT_THAT(server, IsOk());
  EXPECT_EQ((*server)->pid(), server_pid);
}

TEST(ForkServerTest, DirectModeStillWorks) {
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Spawn(
      TesteeTruePolicy(), Testee({"exit", "9"}), SpawnMode::kDirect);
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->exit_code(), 9);
}

}  // namespace
}  // namespace sandbox
