// The host–sandbox boundary, attacked from inside: each worker below is a
// hostile sandboxee that tries to hang, fool or rob the host through what
// the library itself adds (the sync socket, Comms, the listener hand-over,
// per-user kernel quotas), and each test asserts the host's outcome.
//
// This file has its own main(): the zygote must be started before anything
// else runs.

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/comms.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/policy_builder.h"
#include "sandbox/prewarm.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::BuildOrFail;
using ::sandbox::testing::DefaultPolicyBuilder;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::MustRegister;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::SendWithRights;
using ::sandbox::testing::SourceDir;
using ::sandbox::testing::SpawnWorker;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::WaitOrDie;
using ::sandbox::testing::WorkerCommand;
using ::testing::HasSubstr;

// Where a worker finds its end of the sync socket: the policies here keep
// the default's limits.nofile, 1024.
constexpr int kSyncFd = 1024;

// --- Hostile workers ---

// A TCP socket whose close blocks: connected to a listener that never
// reads, its buffers full, SO_LINGER 10 s. Returns -1 on failure.
int BlockingCloseSocket(int& listener) {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<const sockaddr*>(&address), length) !=
          0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) !=
          0) {
    return -1;
  }
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  if (client < 0 ||
      connect(client, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return -1;
  }
  fcntl(client, F_SETFL, O_NONBLOCK);
  char junk[65536] = {};
  while (write(client, junk, sizeof(junk)) > 0) {
  }
  const struct linger linger = {1, 10};
  setsockopt(client, SOL_SOCKET, SO_LINGER, &linger, sizeof(linger));
  return client;
}

// Sends `fd` attached to a message-sized blob on the sync socket.
void SendOnSync(const void* data, size_t size, int fd) {
  SendWithRights(kSyncFd, data, size,
                 fd >= 0 ? std::vector<int>{fd} : std::vector<int>{});
}

// Hands the blocking socket to the supervisor over the sync socket.
int LingerSyncWorker(Comms& comms) {
  int listener = -1;
  const int client = BlockingCloseSocket(listener);
  if (client < 0) return 2;
  internal::ChildMessage message = {};
  message.type = internal::ChildMessage::Type::kSetupTimes;
  SendOnSync(&message, sizeof(message), client);
  close(client);
  (void)comms.SendString("sent").ok();
  pause();
  return 0;
}

// Hands the blocking socket to the host's Comms, which expects a string.
int LingerCommsWorker(Comms& comms) {
  int listener = -1;
  const int client = BlockingCloseSocket(listener);
  if (client < 0) return 2;
  if (!comms.SendFd(client).ok()) return 3;
  // The host's copy becomes the last one.
  close(client);
  (void)comms.SendString("closed").ok();
  pause();
  return 0;
}

// Claims to have exited 0, then crashes.
int ForgedExitWorker(Comms&) {
  internal::ChildMessage message = {};
  message.type = internal::ChildMessage::Type::kExitStatus;
  message.wait_status = 0;
  SendOnSync(&message, sizeof(message), -1);
  usleep(100 * 1000);
  raise(SIGSEGV);
  return 0;
}

// Claims its setup failed, then goes on.
int ForgedSetupErrorWorker(Comms&) {
  internal::ChildMessage message = {};
  message.type = internal::ChildMessage::Type::kSetupError;
  message.step = internal::SetupStep::kPivotRoot;
  message.error = EPERM;
  SendOnSync(&message, sizeof(message), -1);
  usleep(100 * 1000);
  return 0;
}

// Claims to be a prewarmed sandbox waiting for its command, then waits.
int ForgedReadyWorker(Comms&) {
  internal::ChildMessage message = {};
  message.type = internal::ChildMessage::Type::kReady;
  SendOnSync(&message, sizeof(message), -1);
  sleep(10);
  return 0;
}

// Under a deferred policy, offers a pipe as its "listener" instead of
// locking down.
int FakeListenerWorker(Comms&) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 2;
  internal::ChildMessage message = {};
  message.type = internal::ChildMessage::Type::kNotifyFd;
  message.detail = pipe_fds[0];
  SendOnSync(&message, sizeof(message), -1);
  sleep(5);
  return 0;
}

// Puts as many descriptors in flight as the kernel lets its user hold
// (counted per host uid, which every sandbox of a root host shares), keeps
// them there, and says how many.
int InflightWorker(Comms& comms) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) return 2;
  fcntl(pair[0], F_SETFL, O_NONBLOCK);
  int count = 0;
  std::vector<int> fds(250, pair[1]);
  for (int i = 0; i < 64; ++i) {
    const char byte = 0;
    if (SendWithRights(pair[0], &byte, 1, fds) != 1) break;
    count += static_cast<int>(fds.size());
  }
  (void)comms.SendString(absl::StrCat(count, " ", strerror(errno))).ok();
  pause();
  return 0;
}

// Opens inotify instances until the kernel refuses, keeps them, and says
// how many it got, with its namespace's limits and its rlimits.
int InotifyHogWorker(Comms& comms) {
  int count = 0;
  while (inotify_init1(IN_CLOEXEC) >= 0) ++count;
  const int error = errno;
  std::string report = absl::StrCat(count, " ", strerror(error), "\n");
  for (const char* path :
       {"/proc/sys/user/max_user_namespaces",
        "/proc/sys/user/max_inotify_instances", "/proc/self/limits"}) {
    char buffer[4096] = {};
    const int fd = open(path, O_RDONLY);
    if (fd >= 0) {
      const ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
      if (n > 0) absl::StrAppend(&report, path, ":", buffer);
      close(fd);
    }
  }
  (void)comms.SendString(report).ok();
  pause();
  return 0;
}

// The abstract unix socket address "@name", and its length.
struct sockaddr_un AbstractAddress(const std::string& name, socklen_t& length) {
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  const size_t size = std::min(name.size(), sizeof(address.sun_path) - 2);
  memcpy(address.sun_path + 1, name.data(), size);
  length =
      static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + 1 + size);
  return address;
}

// Listens on the abstract unix socket the host names, says "listening",
// and accepts until killed.
int AbstractListenWorker(Comms& comms) {
  absl::StatusOr<std::string> name = comms.RecvString();
  if (!name.ok()) return 2;
  const int listener = socket(AF_UNIX, SOCK_STREAM, 0);
  socklen_t length = 0;
  const struct sockaddr_un address = AbstractAddress(*name, length);
  if (bind(listener, reinterpret_cast<const sockaddr*>(&address), length) !=
          0 ||
      listen(listener, 4) != 0) {
    (void)comms.SendString(absl::StrCat("error ", strerror(errno))).ok();
    return 3;
  }
  (void)comms.SendString("listening").ok();
  for (;;) {
    const int peer = accept(listener, nullptr, nullptr);
    if (peer >= 0) close(peer);
  }
}

// Connects to the abstract unix socket the host names: "connected" or the
// error.
int AbstractConnectWorker(Comms& comms) {
  absl::StatusOr<std::string> name = comms.RecvString();
  if (!name.ok()) return 2;
  const int client = socket(AF_UNIX, SOCK_STREAM, 0);
  socklen_t length = 0;
  const struct sockaddr_un address = AbstractAddress(*name, length);
  const bool connected =
      connect(client, reinterpret_cast<const sockaddr*>(&address), length) == 0;
  (void)comms.SendString(connected ? "connected" : strerrorname_np(errno)).ok();
  return 0;
}

void RegisterHostileWorkers() {
  MustRegister("abstract_listen", AbstractListenWorker);
  MustRegister("abstract_connect", AbstractConnectWorker);
  MustRegister("inotify_hog", InotifyHogWorker);
  MustRegister("linger_sync", LingerSyncWorker);
  MustRegister("linger_comms", LingerCommsWorker);
  MustRegister("forged_exit", ForgedExitWorker);
  MustRegister("forged_setup_error", ForgedSetupErrorWorker);
  MustRegister("forged_ready", ForgedReadyWorker);
  MustRegister("fake_listener", FakeListenerWorker);
  MustRegister("inflight", InflightWorker);
}

// --- Host side ---

// A sandbox that sleeps past a 1 s wall-clock limit: its TIMEOUT must come
// on time whatever the other sandbox does.
void ExpectAnotherSandboxTimesOutOnTime() {
  PolicyBuilder builder = TesteePolicy();
  builder.SetWallTime(absl::Seconds(1));
  const absl::Time start = absl::Now();
  testing::TesteeRun run = RunTestee(BuildOrFail(builder), {"sleep", "30"});
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(run.result.status(), proto::Result::TIMEOUT)
      << run.result.DebugString();
  // The limit is enforced within 100 ms of its deadline; the rest is the
  // spawn and the teardown.
  EXPECT_LT(run.result.usage().wall_time_seconds(), 1.1);
  EXPECT_LT(took, absl::Seconds(2));
}

TEST(BoundaryTest, ADescriptorOnTheSyncSocketCannotStallTheSupervisor) {
  std::unique_ptr<Sandbox> attacker =
      SpawnWorker(BuildOrFail(DefaultPolicyBuilder()), "linger_sync");
  ASSERT_NE(attacker, nullptr);
  // "sent", or the channel closes: the supervisor may kill the attacker
  // before it says so. Either way the socket has reached the host.
  absl::StatusOr<std::string> sent = attacker->comms()->RecvString();
  if (sent.ok()) {
    ASSERT_EQ(*sent, "sent");
  } else {
    ASSERT_EQ(sent.status().code(), absl::StatusCode::kUnavailable)
        << sent.status();
  }
  ExpectAnotherSandboxTimesOutOnTime();
  const proto::Result result = WaitOrDie(*attacker);
  EXPECT_EQ(result.status(), proto::Result::KILLED) << result.DebugString();
  EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"),
              HasSubstr("carried file descriptors"));
}

TEST(BoundaryTest, ADescriptorOnCommsCannotStallTheCaller) {
  std::unique_ptr<Sandbox> attacker =
      SpawnWorker(BuildOrFail(DefaultPolicyBuilder()), "linger_comms");
  ASSERT_NE(attacker, nullptr);
  // Both frames queued: the worker closed its copy of the socket, so the
  // one in flight is the last.
  const int queued_bytes = 2 * sizeof(internal::FrameHeader) + 6;
  int queued = 0;
  for (int i = 0; i < 500 && queued < queued_bytes; ++i) {
    ASSERT_EQ(ioctl(attacker->comms()->fd(), FIONREAD, &queued), 0);
    if (queued < queued_bytes) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GE(queued, queued_bytes);
  const absl::Time start = absl::Now();
  // The frame is an fd, not a string: refused, and the socket dropped.
  EXPECT_FALSE(attacker->comms()->RecvString().ok());
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  ExpectAnotherSandboxTimesOutOnTime();
  ASSERT_THAT(attacker->Kill(), IsOk());
  EXPECT_EQ(WaitOrDie(*attacker).status(), proto::Result::KILLED);
}

TEST(BoundaryTest, AWorkerCannotReportItsOwnExitStatus) {
  // Without an init of ours (program_is_init, or no pid namespace) the
  // worker is the process we cloned; its word is still not its status.
  for (bool program_is_init : {true, false}) {
    PolicyBuilder builder = DefaultPolicyBuilder();
    proto::Namespaces& ns = *builder.mutable_proto().mutable_namespaces();
    if (program_is_init) {
      ns.set_program_is_init(true);
    } else {
      ns.set_pid(false);
    }
    std::unique_ptr<Sandbox> sandbox =
        SpawnWorker(BuildOrFail(builder), "forged_exit");
    ASSERT_NE(sandbox, nullptr);
    const proto::Result result = WaitOrDie(*sandbox);
    EXPECT_NE(result.status(), proto::Result::OK) << result.DebugString();
    EXPECT_EQ(result.status(), proto::Result::KILLED) << result.DebugString();
    EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"),
                HasSubstr("exit status"));
  }
}

TEST(BoundaryTest, AWorkerCannotForgeASetupError) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.SetDefaultErrno(EPERM);
  std::unique_ptr<Sandbox> sandbox =
      SpawnWorker(BuildOrFail(builder), "forged_setup_error");
  ASSERT_NE(sandbox, nullptr);
  const proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::KILLED) << result.DebugString();
  EXPECT_FALSE(result.has_setup_error());
  EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"),
              HasSubstr("setup error after the payload started"));
}

TEST(BoundaryTest, AWorkerCannotClaimToWaitForACommand) {
  // Spawned, and prewarmed (its command already sent): either way the
  // sandboxee's "ready" ends it at once.
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.SetDefaultErrno(EPERM);
  const Policy policy = BuildOrFail(builder);
  absl::StatusOr<std::unique_ptr<PrewarmPool>> pool =
      Prewarm(policy, 1, PrewarmFor::kWorkers);
  ASSERT_THAT(pool, IsOk());
  absl::StatusOr<std::unique_ptr<Sandbox>> prewarmed =
      (*pool)->Spawn(WorkerCommand("forged_ready"));
  ASSERT_THAT(prewarmed, IsOk());
  std::unique_ptr<Sandbox> spawned = SpawnWorker(policy, "forged_ready");
  ASSERT_NE(spawned, nullptr);
  for (Sandbox* sandbox : {prewarmed->get(), spawned.get()}) {
    const absl::Time start = absl::Now();
    const proto::Result result = WaitOrDie(*sandbox);
    EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "not killed at once";
    EXPECT_EQ(result.status(), proto::Result::KILLED) << result.DebugString();
    EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"),
                HasSubstr("ready message"));
  }
}

TEST(BoundaryTest, APipeIsNotTakenForTheListener) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  std::unique_ptr<Sandbox> sandbox =
      SpawnWorker(BuildOrFail(builder), "fake_listener");
  ASSERT_NE(sandbox, nullptr);
  const absl::Time start = absl::Now();
  const proto::Result result = WaitOrDie(*sandbox);
  EXPECT_LT(absl::Now() - start, absl::Seconds(4)) << "not killed at once";
  EXPECT_EQ(result.status(), proto::Result::KILLED) << result.DebugString();
  EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"), HasSubstr("listener"));
}

TEST(BoundaryTest, DescriptorsInFlightCannotUnsuperviseAnotherSandbox) {
  // Every sandbox of a root host maps to one uid, which the kernel counts
  // descriptors in flight for; an unprivileged host's sandboxes are the
  // host's own uid.
  std::unique_ptr<Sandbox> hog =
      SpawnWorker(BuildOrFail(DefaultPolicyBuilder()), "inflight");
  ASSERT_NE(hog, nullptr);
  absl::StatusOr<std::string> count = hog->comms()->RecvString();
  ASSERT_THAT(count, IsOk());
  // The other sandbox still starts, and its forbidden call is still seen.
  for (int i = 0; i < 3; ++i) {
    testing::TesteeRun run = RunTestee(BuildOrFail(TesteePolicy()), {"ptrace"});
    EXPECT_EQ(run.result.status(), proto::Result::VIOLATION)
        << "hog: " << *count << "\n"
        << run.result.DebugString();
    EXPECT_EQ(run.result.violation().syscall(), "ptrace");
  }
  ASSERT_THAT(hog->Kill(), IsOk());
  EXPECT_EQ(WaitOrDie(*hog).status(), proto::Result::KILLED);
}

TEST(BoundaryTest, SharedNetSandboxesCannotReachEachOthersAbstractSockets) {
  // namespaces.shared_net puts a root host's sandboxes in one network
  // namespace (an unprivileged host gives each its own; then the answer is
  // the same for another reason). Abstract unix sockets belong to the
  // network namespace: without Landlock's scoping, one sandbox could
  // connect to another's and pass descriptors.
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.mutable_proto().mutable_namespaces()->set_shared_net(true);
  const Policy policy = BuildOrFail(builder);
  const std::string name = absl::StrCat("sandbox-boundary-", getpid());
  std::unique_ptr<Sandbox> listener = SpawnWorker(policy, "abstract_listen");
  ASSERT_NE(listener, nullptr);
  ASSERT_THAT(listener->comms()->SendString(name), IsOk());
  absl::StatusOr<std::string> ready = listener->comms()->RecvString();
  ASSERT_THAT(ready, IsOk());
  ASSERT_EQ(*ready, "listening");
  // Inside the listener's own sandbox the name works (a second worker
  // cannot share it; the sandbox itself is the control): from another one
  // it must not.
  std::unique_ptr<Sandbox> other = SpawnWorker(policy, "abstract_connect");
  ASSERT_NE(other, nullptr);
  ASSERT_THAT(other->comms()->SendString(name), IsOk());
  absl::StatusOr<std::string> outcome = other->comms()->RecvString();
  ASSERT_THAT(outcome, IsOk());
  EXPECT_NE(*outcome, "connected");
  EXPECT_EQ(WaitOrDie(*other).status(), proto::Result::OK);
  const proto::Result result = [&] {
    (void)listener->Kill();
    return WaitOrDie(*listener);
  }();
  EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"),
              ::testing::Not(HasSubstr("cannot scope")));
}

TEST(BoundaryTest, PerUserKernelQuotasAreCappedPerSandbox) {
  // Every sandbox's user namespace is created by the same host user, whose
  // inotify instances, queued signals and message queue bytes it is charged
  // against too: each sandbox gets a share, never the whole.
  std::unique_ptr<Sandbox> hog =
      SpawnWorker(BuildOrFail(DefaultPolicyBuilder()), "inotify_hog");
  ASSERT_NE(hog, nullptr);
  absl::StatusOr<std::string> report = hog->comms()->RecvString();
  ASSERT_THAT(report, IsOk());
  int count = -1;
  ASSERT_TRUE(absl::SimpleAtoi(report->substr(0, report->find(' ')), &count))
      << *report;
  EXPECT_LE(count, 32) << *report;
  EXPECT_THAT(*report, HasSubstr("max_user_namespaces:0"));
  EXPECT_THAT(*report, ::testing::ContainsRegex("Max pending signals +1024 "));
  EXPECT_THAT(*report, ::testing::ContainsRegex("Max msgqueue size +131072 "));
  // The host still has instances of its own while the hog holds its share.
  const int mine = inotify_init1(IN_CLOEXEC);
  EXPECT_GE(mine, 0) << strerror(errno);
  if (mine >= 0) close(mine);
  ASSERT_THAT(hog->Kill(), IsOk());
  EXPECT_EQ(WaitOrDie(*hog).status(), proto::Result::KILLED);
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) {
  sandbox::RegisterHostileWorkers();
  if (absl::Status status = sandbox::InitForkServer(argc, argv); !status.ok()) {
    fprintf(stderr, "InitForkServer: %s\n", status.ToString().c_str());
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
