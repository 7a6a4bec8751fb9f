// Zygote workers end to end: functions of this test binary run in sandboxes
// forked from the zygote InitForkServer() starts in main(), talk to the test
// over Comms, and end as the same Results as programs in exec mode. Covers
// isolation against the host's values, violations, crashes, exit codes,
// unknown workers, seccomp deferred until LockDown(), a host without a
// zygote, and many workers from many threads.
//
// This file has its own main(): the zygote must be forked before anything
// else runs (gtest_main's main is then not linked).

#include <fcntl.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/comms.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::ParseValues;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::SourceDir;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePolicy;
using ::testing::HasSubstr;

int g_argc = 0;
char** g_argv = nullptr;

// A file every policy here binds (the default policy's /etc/ld.so.cache is
// optional, /usr is not).
constexpr char kReadableFile[] = "/usr/bin/true";

// --- Workers (run inside the sandbox) ---

// Echoes, in order: a byte string, a text string, and a Result proto with
// exit_code incremented; then the same for as many byte strings as come.
int EchoWorker(Comms& comms) {
  absl::StatusOr<std::vector<uint8_t>> bytes = comms.RecvBytes();
  if (!bytes.ok() || !comms.SendBytes(*bytes).ok()) return 10;
  absl::StatusOr<std::string> text = comms.RecvString();
  if (!text.ok() || !comms.SendString(absl::StrCat("echo:", *text)).ok()) {
    return 11;
  }
  proto::Result message;
  if (!comms.RecvProto(&message).ok()) return 12;
  message.set_exit_code(message.exit_code() + 1);
  if (!comms.SendProto(message).ok()) return 13;
  for (;;) {
    absl::StatusOr<std::vector<uint8_t>> more = comms.RecvBytes();
    if (!more.ok()) {
      // The host closes its end when done.
      return more.status().code() == absl::StatusCode::kUnavailable ? 0 : 14;
    }
    if (!comms.SendBytes(*more).ok()) return 15;
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The "Key:\tvalue" line of /proc/self/status.
std::string StatusField(const std::string& status, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, key + ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "missing";
}

std::string NamespaceLink(const std::string& name) {
  char target[256] = {};
  const ssize_t n = readlink(absl::StrCat("/proc/self/ns/", name).c_str(),
                             target, sizeof(target) - 1);
  return n > 0 ? std::string(target, n) : "error";
}

// key=value lines describing the calling process: what the isolation test
// compares between a worker and the host.
std::string DescribeProcess() {
  char hostname[256] = {};
  gethostname(hostname, sizeof(hostname) - 1);
  const std::string status = ReadFileOrEmpty("/proc/self/status");
  std::string report =
      absl::StrCat("pid=", getpid(), "\nuid=", getuid(), "\ngid=", getgid(),
                   "\nhostname=", hostname, "\n");
  for (const char* key :
       {"CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"}) {
    absl::StrAppend(&report, key, "=", StatusField(status, key), "\n");
  }
  for (const char* ns : {"pid", "net", "mnt", "uts", "user"}) {
    absl::StrAppend(&report, "ns_", ns, "=", NamespaceLink(ns), "\n");
  }
  return report;
}

int ReportWorker(Comms& comms) {
  return comms.SendString(DescribeProcess()).ok() ? 0 : 1;
}

int PtraceWorker(Comms& comms) {
  ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
  return 0;  // not reached under any policy here
}

int CrashWorker(Comms& comms) {
  raise(SIGSEGV);
  return 3;  // the default action of SIGSEGV ends the worker first
}

// Exits with the number the host sends.
int ExitWorker(Comms& comms) {
  absl::StatusOr<std::string> code = comms.RecvString();
  int value = 0;
  if (!code.ok() || !absl::SimpleAtoi(*code, &value)) return 99;
  return value;
}

int SpinWorker(Comms& comms) {
  for (volatile uint64_t i = 0;; i = i + 1) {
  }
}

// For a policy with defer_until_lockdown and without open/openat: reads a
// file before LockDown() (reporting how many bytes), reports LockDown()'s
// status and a second LockDown()'s, then opens the file again, which the
// filter must now stop.
int LockDownWorker(Comms& comms) {
  int fd = open(kReadableFile, O_RDONLY | O_CLOEXEC);
  char buffer[4096];
  const ssize_t n = fd >= 0 ? read(fd, buffer, sizeof(buffer)) : -1;
  if (fd >= 0) close(fd);
  if (!comms.SendString(absl::StrCat(n)).ok()) return 20;
  if (!comms.SendStatus(LockDown()).ok()) return 21;
  if (!comms.SendStatus(LockDown()).ok()) return 22;
  fd = open(kReadableFile, O_RDONLY | O_CLOEXEC);
  // Reached only if the filter let the open through.
  comms.SendString(absl::StrCat("opened after lockdown: fd ", fd))
      .IgnoreError();
  return 23;
}

// In a sandbox whose filter is installed up front: LockDown() has nothing
// to do.
int LockDownUndeferredWorker(Comms& comms) {
  return comms.SendStatus(LockDown()).ok() ? 0 : 1;
}

// A hostile worker: it still holds the sync socket (at the policy's
// bootstrap fd, 1024 = limits.nofile here) and stuffs messages with
// descriptors into it, trying to leak them into the host.
int FdStufferWorker(Comms& comms) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return 2;
  for (int i = 0; i < 20; ++i) {
    char junk[512] = {};
    struct iovec iov = {junk, sizeof(junk)};
    int fds[3] = {pipe_fds[0], pipe_fds[1], pipe_fds[0]};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(fds))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
    sendmsg(1024, &msg, MSG_NOSIGNAL);
  }
  return comms.SendString("stuffed").ok() ? 0 : 1;
}

// Maps the region the host sends, upper-cases the bytes the host says are
// ready, in place, and says how many it did: a transfer with no copy through
// the socket, after the filter is in.
int RegionWorker(Comms& comms) {
  absl::StatusOr<SharedRegion> region = comms.RecvRegion();
  if (!region.ok()) return 10;
  for (;;) {
    absl::StatusOr<std::string> ready = comms.RecvString();
    if (!ready.ok()) return 0;  // the host is done
    size_t n = 0;
    if (!absl::SimpleAtoi(*ready, &n) || n > region->size()) return 11;
    for (size_t i = 0; i < n; ++i) {
      region->data()[i] = static_cast<uint8_t>(toupper(region->data()[i]));
    }
    if (!comms.SendString(absl::StrCat(n)).ok()) return 12;
  }
}

// Registered after InitForkServer(): the zygote never heard of it.
int LateWorker(Comms& comms) { return 0; }

void RegisterTestWorkers() {
  RegisterWorker("echo", EchoWorker);
  RegisterWorker("report", ReportWorker);
  RegisterWorker("ptrace", PtraceWorker);
  RegisterWorker("crash", CrashWorker);
  RegisterWorker("exit", ExitWorker);
  RegisterWorker("spin", SpinWorker);
  RegisterWorker("lockdown", LockDownWorker);
  RegisterWorker("lockdown_undeferred", LockDownUndeferredWorker);
  RegisterWorker("fd_stuffer", FdStufferWorker);
  RegisterWorker("region", RegionWorker);
}

// --- Host side ---

PolicyBuilder DefaultPolicyBuilder() {
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromTextFile(SourceDir() + "/policies/default.textproto");
  EXPECT_THAT(builder, IsOk());
  return builder.ok() ? *std::move(builder) : PolicyBuilder();
}

Policy Build(const PolicyBuilder& builder) {
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_THAT(policy, IsOk());
  return *std::move(policy);
}

Policy DefaultPolicy() { return Build(DefaultPolicyBuilder()); }

// The default policy without any way to open a file.
PolicyBuilder NoOpenPolicyBuilder() {
  PolicyBuilder builder = DefaultPolicyBuilder();
  for (proto::SyscallRule& rule :
       *builder.mutable_proto().mutable_seccomp()->mutable_rules()) {
    auto* names = rule.mutable_syscalls();
    for (int i = names->size() - 1; i >= 0; --i) {
      const std::string& name = names->Get(i);
      if (name == "open" || name == "openat" || name == "openat2" ||
          name == "creat") {
        names->erase(names->begin() + i);
      }
    }
  }
  return builder;
}

Command Worker(std::string name) {
  Command command;
  command.worker = std::move(name);
  command.inherit_stdio = false;
  return command;
}

std::unique_ptr<Sandbox> SpawnWorker(const Policy& policy,
                                     const std::string& name) {
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(policy, Worker(name));
  EXPECT_THAT(sandbox, IsOk()) << name;
  if (!sandbox.ok()) return nullptr;
  EXPECT_NE((*sandbox)->comms(), nullptr);
  return *std::move(sandbox);
}

proto::Result WaitOrDie(Sandbox& sandbox) {
  absl::StatusOr<std::optional<proto::Result>> result =
      sandbox.WaitFor(absl::Seconds(20));
  EXPECT_THAT(result, IsOk());
  if (!result.ok() || !result->has_value()) {
    ADD_FAILURE() << "the worker did not end within 20 s";
    sandbox.Kill().IgnoreError();
    absl::StatusOr<proto::Result> killed = sandbox.Wait();
    return killed.ok() ? *killed : proto::Result();
  }
  return **result;
}

TEST(ZygoteTest, EchoRoundTripsBytesStringsAndProtos) {
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(DefaultPolicy(), "echo");
  ASSERT_NE(sandbox, nullptr);
  Comms& comms = *sandbox->comms();

  const std::vector<uint8_t> bytes = {0, 1, 2, 0xff, 0, 42};
  ASSERT_THAT(comms.SendBytes(bytes), IsOk());
  absl::StatusOr<std::vector<uint8_t>> bytes_back = comms.RecvBytes();
  ASSERT_THAT(bytes_back, IsOk());
  EXPECT_EQ(*bytes_back, bytes);

  ASSERT_THAT(comms.SendString("hello, worker"), IsOk());
  absl::StatusOr<std::string> text_back = comms.RecvString();
  ASSERT_THAT(text_back, IsOk());
  EXPECT_EQ(*text_back, "echo:hello, worker");

  proto::Result message;
  message.set_exit_code(41);
  message.mutable_violation()->set_syscall("ptrace");
  ASSERT_THAT(comms.SendProto(message), IsOk());
  proto::Result message_back;
  ASSERT_THAT(comms.RecvProto(&message_back), IsOk());
  EXPECT_EQ(message_back.exit_code(), 42);
  EXPECT_EQ(message_back.violation().syscall(), "ptrace");

  // Large enough to travel as a sealed memfd, which the worker maps after
  // its filter is in.
  std::vector<uint8_t> large(3 << 20);
  for (size_t i = 0; i < large.size(); ++i) large[i] = (i * 7) & 0xff;
  ASSERT_THAT(comms.SendBytes(large), IsOk());
  absl::StatusOr<std::vector<uint8_t>> large_back = comms.RecvBytes();
  ASSERT_THAT(large_back, IsOk());
  EXPECT_TRUE(*large_back == large);

  // Closing our side lets the worker finish.
  ASSERT_EQ(shutdown(comms.fd(), SHUT_WR), 0);
  proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();
  EXPECT_EQ(result.exit_code(), 0);
}

TEST(ZygoteTest, SharedRegionWorksUnderTheDefaultPolicy) {
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(DefaultPolicy(), "region");
  ASSERT_NE(sandbox, nullptr);
  Comms& comms = *sandbox->comms();
  absl::StatusOr<SharedRegion> region = SharedRegion::Create(8 << 20);
  ASSERT_THAT(region, IsOk());
  ASSERT_THAT(comms.SendRegion(*region), IsOk());
  for (const std::string text : {"first transfer", "and a second one"}) {
    memcpy(region->data(), text.data(), text.size());
    ASSERT_THAT(comms.SendString(absl::StrCat(text.size())), IsOk());
    absl::StatusOr<std::string> done = comms.RecvString();
    ASSERT_THAT(done, IsOk());
    EXPECT_EQ(*done, absl::StrCat(text.size()));
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(region->data()), text.size()),
        absl::AsciiStrToUpper(text));
  }
  ASSERT_EQ(shutdown(comms.fd(), SHUT_WR), 0);
  proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();
  EXPECT_EQ(result.exit_code(), 0);
}

TEST(ZygoteTest, WorkerIsIsolatedLikeAnExecdProgram) {
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(DefaultPolicy(), "report");
  ASSERT_NE(sandbox, nullptr);
  absl::StatusOr<std::string> report = sandbox->comms()->RecvString();
  ASSERT_THAT(report, IsOk());
  proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();

  std::map<std::string, std::string> worker = ParseValues(*report);
  std::map<std::string, std::string> host = ParseValues(DescribeProcess());
  // pid 1 is the sandbox's init; the worker is its only child.
  EXPECT_EQ(worker["pid"], "2") << *report;
  EXPECT_EQ(worker["uid"], "1000");
  EXPECT_EQ(worker["gid"], "1000");
  EXPECT_EQ(worker["hostname"], "sandbox");
  for (const char* cap : {"CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    EXPECT_EQ(worker[cap], "0000000000000000") << cap;
  }
  EXPECT_EQ(worker["NoNewPrivs"], "1");
  EXPECT_EQ(worker["Seccomp"], "2");
  for (const char* ns : {"ns_pid", "ns_net", "ns_mnt", "ns_uts", "ns_user"}) {
    EXPECT_NE(worker[ns], "error") << ns;
    EXPECT_NE(worker[ns], host[ns]) << ns << " is the host's";
  }
  // The host is none of these, or the comparison above proves nothing.
  EXPECT_NE(host["pid"], "2");
  EXPECT_NE(host["hostname"], "sandbox");
  EXPECT_EQ(host["NoNewPrivs"], "0");
}

TEST(ZygoteTest, PtraceIsAViolationAsInExecMode) {
  const Policy policy = DefaultPolicy();
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, "ptrace");
  ASSERT_NE(sandbox, nullptr);
  proto::Result worker = WaitOrDie(*sandbox);
  ASSERT_EQ(worker.status(), proto::Result::VIOLATION) << worker.DebugString();
  EXPECT_EQ(worker.violation().syscall(), "ptrace");
  EXPECT_EQ(worker.violation().arch(), "x86_64");
  EXPECT_EQ(worker.violation().args(0), PTRACE_TRACEME);

  absl::StatusOr<Policy> exec_policy = TesteePolicy().Build();
  ASSERT_THAT(exec_policy, IsOk());
  proto::Result exec = RunTestee(*exec_policy, {"ptrace"}).result;
  ASSERT_EQ(exec.status(), proto::Result::VIOLATION) << exec.DebugString();
  EXPECT_EQ(worker.violation().syscall(), exec.violation().syscall());
  EXPECT_EQ(worker.violation().nr(), exec.violation().nr());
  EXPECT_EQ(worker.signal(), exec.signal());
}

TEST(ZygoteTest, CrashIsSignaled) {
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(DefaultPolicy(), "crash");
  ASSERT_NE(sandbox, nullptr);
  proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::SIGNALED) << result.DebugString();
  EXPECT_EQ(result.signal(), SIGSEGV);
  // Its channel reports the death, it does not hang.
  EXPECT_THAT(sandbox->comms()->RecvString(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ZygoteTest, ExitCodeComesBack) {
  const Policy policy = DefaultPolicy();
  for (int code : {0, 7, 42}) {
    std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, "exit");
    ASSERT_NE(sandbox, nullptr);
    ASSERT_THAT(sandbox->comms()->SendString(absl::StrCat(code)), IsOk());
    proto::Result result = WaitOrDie(*sandbox);
    EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();
    EXPECT_EQ(result.exit_code(), code);
    // The child timed its setup as in exec mode.
    for (const char* phase : {"new_root", "proc", "fork_payload", "seccomp"}) {
      EXPECT_TRUE(result.usage().setup_us().contains(phase)) << phase;
    }
  }
}

TEST(ZygoteTest, WallTimeLimitAndKillStopAWorker) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.SetWallTime(absl::Milliseconds(300));
  std::unique_ptr<Sandbox> timed = SpawnWorker(Build(builder), "spin");
  ASSERT_NE(timed, nullptr);
  EXPECT_EQ(WaitOrDie(*timed).status(), proto::Result::TIMEOUT);

  std::unique_ptr<Sandbox> killed = SpawnWorker(DefaultPolicy(), "spin");
  ASSERT_NE(killed, nullptr);
  absl::StatusOr<std::optional<proto::Result>> running =
      killed->WaitFor(absl::Milliseconds(100));
  ASSERT_THAT(running, IsOk());
  EXPECT_FALSE(running->has_value()) << "the spinning worker ended by itself";
  ASSERT_THAT(killed->Kill(), IsOk());
  EXPECT_EQ(WaitOrDie(*killed).status(), proto::Result::KILLED);
}

TEST(ZygoteTest, UnknownWorkerIsNotFound) {
  const Policy policy = DefaultPolicy();
  EXPECT_THAT(
      Sandbox::Spawn(policy, Worker("no-such-worker")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-worker")));
  // Registered in this process after the zygote was forked: unknown to it.
  EXPECT_THAT(Sandbox::Spawn(policy, Worker("late")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("late")));
  // The zygote survives both.
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, "exit");
  ASSERT_NE(sandbox, nullptr);
  ASSERT_THAT(sandbox->comms()->SendString("5"), IsOk());
  EXPECT_EQ(WaitOrDie(*sandbox).exit_code(), 5);
}

TEST(ZygoteTest, DeferredSeccompLetsTheWorkerInitialiseFirst) {
  PolicyBuilder builder = NoOpenPolicyBuilder();
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(Build(builder), "lockdown");
  ASSERT_NE(sandbox, nullptr);
  Comms& comms = *sandbox->comms();

  absl::StatusOr<std::string> bytes_read = comms.RecvString();
  ASSERT_THAT(bytes_read, IsOk());
  EXPECT_EQ(*bytes_read, "4096") << "the open before LockDown() failed";
  absl::StatusOr<absl::Status> first = comms.RecvStatus();
  ASSERT_THAT(first, IsOk());
  EXPECT_THAT(*first, IsOk());
  absl::StatusOr<absl::Status> second = comms.RecvStatus();
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(*second, StatusIs(absl::StatusCode::kFailedPrecondition));

  proto::Result result = WaitOrDie(*sandbox);
  ASSERT_EQ(result.status(), proto::Result::VIOLATION) << result.DebugString();
  EXPECT_EQ(result.violation().syscall(), "openat");
  EXPECT_THAT(comms.RecvString(), StatusIs(absl::StatusCode::kUnavailable))
      << "the open after LockDown() went through";
}

TEST(ZygoteTest, WithoutDeferralTheSamePolicyStopsTheFirstOpen) {
  // The control for the test above: the policy really forbids the open.
  std::unique_ptr<Sandbox> sandbox =
      SpawnWorker(Build(NoOpenPolicyBuilder()), "lockdown");
  ASSERT_NE(sandbox, nullptr);
  proto::Result result = WaitOrDie(*sandbox);
  ASSERT_EQ(result.status(), proto::Result::VIOLATION) << result.DebugString();
  EXPECT_EQ(result.violation().syscall(), "openat");
  EXPECT_THAT(sandbox->comms()->RecvString(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ZygoteTest, LockDownWithNothingDeferredIsFailedPrecondition) {
  // In the host, which is no sandbox at all.
  EXPECT_THAT(LockDown(), StatusIs(absl::StatusCode::kFailedPrecondition));
  // In a worker whose filter went in before it started.
  std::unique_ptr<Sandbox> sandbox =
      SpawnWorker(DefaultPolicy(), "lockdown_undeferred");
  ASSERT_NE(sandbox, nullptr);
  absl::StatusOr<absl::Status> status = sandbox->comms()->RecvStatus();
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(*status, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(WaitOrDie(*sandbox).status(), proto::Result::OK);
}

int CountOwnFds() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0) ++count;
  }
  return count;
}

TEST(ZygoteTest, DescriptorsStuffedIntoTheSyncSocketDoNotLeakIntoTheHost) {
  const Policy policy = DefaultPolicy();
  // Warm up (supervisor, zygote channel) before counting.
  std::unique_ptr<Sandbox> warm = SpawnWorker(policy, "exit");
  ASSERT_NE(warm, nullptr);
  ASSERT_THAT(warm->comms()->SendString("0"), IsOk());
  WaitOrDie(*warm);
  warm.reset();
  const int before = CountOwnFds();
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, "fd_stuffer");
  ASSERT_NE(sandbox, nullptr);
  absl::StatusOr<std::string> reply = sandbox->comms()->RecvString();
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(*reply, "stuffed");
  EXPECT_EQ(WaitOrDie(*sandbox).status(), proto::Result::OK);
  sandbox.reset();
  EXPECT_EQ(CountOwnFds(), before);
}

TEST(ZygoteTest, ExecModeLocksDownToo) {
  // The same policy for a program: it finds its filter through the
  // environment (tests/testee/lockdown_testee.cc, and lockdown_test.cc).
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  Command command;
  command.argv = {"/usr/bin/true"};
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(Build(builder), command);
  ASSERT_THAT(sandbox, IsOk());
  EXPECT_EQ(WaitOrDie(**sandbox).status(), proto::Result::OK);
}

TEST(ZygoteTest, InitForkServerTwiceIsFailedPrecondition) {
  EXPECT_THAT(InitForkServer(g_argc, g_argv),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // And the first zygote still serves.
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(DefaultPolicy(), "exit");
  ASSERT_NE(sandbox, nullptr);
  ASSERT_THAT(sandbox->comms()->SendString("1"), IsOk());
  EXPECT_EQ(WaitOrDie(*sandbox).exit_code(), 1);
}

TEST(ZygoteTest, AForkOfTheHostHasNoZygote) {
  const Policy policy = DefaultPolicy();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes: 0 FailedPrecondition naming InitForkServer, 1 a sandbox
    // was spawned, 2 another error.
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        Sandbox::Spawn(policy, Worker("exit"));
    if (sandbox.ok()) _exit(1);
    const bool expected =
        sandbox.status().code() == absl::StatusCode::kFailedPrecondition &&
        absl::StrContains(sandbox.status().message(), "InitForkServer");
    _exit(expected ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ZygoteTest, ManyWorkersFromManyThreads) {
  const Policy policy = DefaultPolicy();
  constexpr int kThreads = 4;
  constexpr int kWorkersEach = 15;
  std::atomic<int> ok{0};
  absl::Mutex mu;
  std::vector<std::string> errors;
  auto fail = [&](std::string error) {
    absl::MutexLock lock(&mu);
    errors.push_back(std::move(error));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWorkersEach; ++i) {
        const int code = (t * kWorkersEach + i) % 100;
        absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
            Sandbox::Spawn(policy, Worker("exit"));
        if (!sandbox.ok()) {
          fail(sandbox.status().ToString());
          continue;
        }
        if (absl::Status sent =
                (*sandbox)->comms()->SendString(absl::StrCat(code));
            !sent.ok()) {
          fail(sent.ToString());
          continue;
        }
        absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
        if (result.ok() && result->status() == proto::Result::OK &&
            result->exit_code() == code) {
          ++ok;
        } else {
          fail(result.ok() ? result->DebugString()
                           : result.status().ToString());
        }
      }
    });
  }
  // Several alive at once, too.
  std::vector<std::unique_ptr<Sandbox>> live;
  for (int i = 0; i < 10; ++i) {
    std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, "spin");
    ASSERT_NE(sandbox, nullptr);
    live.push_back(std::move(sandbox));
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kWorkersEach)
      << (errors.empty() ? "" : errors.front());
  for (auto& sandbox : live) {
    // Not ZeroDuration: WaitFor() with a deadline already passed returns
    // nullopt without looking at the sandbox.
    absl::StatusOr<std::optional<proto::Result>> result =
        sandbox->WaitFor(absl::Milliseconds(1));
    ASSERT_THAT(result, IsOk());
    EXPECT_FALSE(result->has_value()) << "a spinning worker ended";
    ASSERT_THAT(sandbox->Kill(), IsOk());
    EXPECT_EQ(WaitOrDie(*sandbox).status(), proto::Result::KILLED);
  }
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) {
  sandbox::RegisterTestWorkers();
  // First, while the process is single-threaded: the zygote is a copy of it.
  if (absl::Status status = sandbox::InitForkServer(argc, argv); !status.ok()) {
    fprintf(stderr, "InitForkServer: %s\n", status.ToString().c_str());
    return 1;
  }
  sandbox::RegisterWorker("late", sandbox::LateWorker);
  sandbox::g_argc = argc;
  sandbox::g_argv = argv;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
