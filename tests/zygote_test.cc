// Zygote workers end to end: functions of this test binary run in sandboxes
// forked from the zygote InitForkServer() starts in main(), talk to the test
// over Comms, and end as the same Results as programs in exec mode. Covers
// isolation against the host's values, violations, crashes, exit codes,
// unknown workers, seccomp deferred until LockDown(), a host without a
// zygote, and many workers from many threads.
//
// Also that a worker holds no secret of the host's (planted by main() in its
// argv, environment and heap) nor another worker's request: a worker scans
// its whole address space for them.
//
// This file has its own main(): InitForkServer() must come before anything
// else runs (gtest_main's main is then not linked), and the zygote runs it
// again.

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/comms.h"
#include "sandbox/internal/untrusted_fd.h"
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
using ::sandbox::testing::ParseValues;
using ::sandbox::testing::ReadFileOrEmpty;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::SourceDir;
using ::sandbox::testing::SpawnWorker;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::WaitOrDie;
using ::sandbox::testing::WorkerCommand;
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
    const char junk[512] = {};
    testing::SendWithRights(1024, junk, sizeof(junk),
                            {pipe_fds[0], pipe_fds[1], pipe_fds[0]});
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

// --- Secrets: what no worker may hold ---

// 32 random hex digits, made at run time: no binary holds them.
std::string RandomToken() {
  char bytes[16];
  if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes)) abort();
  return absl::BytesToHexString(absl::string_view(bytes, sizeof(bytes)));
}

// Every byte inverted. A scan gets the secrets in this form, so that its own
// copy (and the Comms buffers it came through) never matches: only a copy
// that was there before can.
std::string Invert(absl::string_view text) {
  std::string inverted(text);
  for (char& c : inverted) c = static_cast<char>(~c);
  return inverted;
}

// Where the secret `inverted` stands for first occurs in data[0, size), or
// -1; without ever making the secret.
ptrdiff_t FindInverted(const uint8_t* data, size_t size,
                       const std::string& inverted) {
  const size_t n = inverted.size();
  if (n == 0 || size < n) return -1;
  const uint8_t* p = data;
  const uint8_t* const last = data + size - n + 1;
  while (p < last) {
    p = static_cast<const uint8_t*>(
        memchr(p, static_cast<uint8_t>(~inverted[0]), last - p));
    if (p == nullptr) return -1;
    size_t i = 1;
    while (i < n && p[i] == static_cast<uint8_t>(~inverted[i])) ++i;
    if (i == n) return p - data;
    ++p;
  }
  return -1;
}

struct Pattern {
  std::string label;
  std::string inverted;
};

// Reads every readable mapping of this process with process_vm_readv
// (which fails cleanly on pages that cannot be read, where a plain read
// would fault; /proc/self/mem is not open to a sandboxee, which is not
// dumpable) and reports, one "found=<label> in <mapping> at <address>" line
// each, where the secrets are; plus regions=, bytes= and unreadable=
// counts.
std::string ScanOwnMemory(const std::vector<Pattern>& patterns) {
  const std::string maps = ReadFileOrEmpty("/proc/self/maps");
  if (maps.empty()) return "error=cannot read /proc/self/maps\n";
  const pid_t self = getpid();
  size_t longest = 1;
  for (const Pattern& pattern : patterns) {
    longest = std::max(longest, pattern.inverted.size());
  }
  constexpr size_t kChunk = 1 << 20;
  // A match may straddle two chunks: the last longest - 1 bytes of one are
  // kept in front of the next.
  std::vector<uint8_t> buffer(kChunk + longest);
  uint64_t regions = 0;
  uint64_t bytes = 0;
  uint64_t unreadable = 0;
  std::set<std::string> found;
  for (absl::string_view line : absl::StrSplit(maps, '\n', absl::SkipEmpty())) {
    // start-end perms offset dev inode [name]
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() < 5 || fields[1].empty() || fields[1][0] != 'r') {
      continue;
    }
    const std::string name =
        fields.size() > 5 ? std::string(fields[5]) : "[anonymous]";
    // The kernel's, and not readable through /proc/self/mem.
    if (name == "[vvar]" || name == "[vvar_vclock]" || name == "[vsyscall]") {
      continue;
    }
    std::pair<std::string, std::string> range = absl::StrSplit(fields[0], '-');
    const uint64_t start = strtoull(range.first.c_str(), nullptr, 16);
    const uint64_t end = strtoull(range.second.c_str(), nullptr, 16);
    ++regions;
    size_t carry = 0;
    for (uint64_t address = start; address < end;) {
      const size_t want = std::min<uint64_t>(kChunk, end - address);
      struct iovec local = {buffer.data() + carry, want};
      struct iovec remote = {reinterpret_cast<void*>(address), want};
      const ssize_t got = process_vm_readv(self, &local, 1, &remote, 1, 0);
      if (got <= 0) {
        ++unreadable;
        carry = 0;
        address = (address + 4096) & ~uint64_t{4095};
        continue;
      }
      bytes += got;
      const size_t size = carry + got;
      for (const Pattern& pattern : patterns) {
        const ptrdiff_t at =
            FindInverted(buffer.data(), size, pattern.inverted);
        if (at >= 0) {
          found.insert(absl::StrCat(pattern.label, " in ", name, " at 0x",
                                    absl::Hex(address - carry + at)));
        }
      }
      carry = std::min(size, longest - 1);
      memmove(buffer.data(), buffer.data() + size - carry, carry);
      address += got;
    }
  }
  std::string report = absl::StrCat("regions=", regions, "\nbytes=", bytes,
                                    "\nunreadable=", unreadable, "\n");
  for (const std::string& where : found) {
    absl::StrAppend(&report, "found=", where, "\n");
  }
  return report;
}

// The label of the one secret the scanner puts in its own heap.
constexpr char kControlLabel[] = "control";

// Receives (label, inverted secret) pairs up to an empty label, scans its
// own memory for the secrets, and reports what it found, then its init's
// and its own command line and the names in its environment.
int ScanWorker(Comms& comms) {
  std::vector<Pattern> patterns;
  for (;;) {
    absl::StatusOr<std::string> label = comms.RecvString();
    if (!label.ok()) return 10;
    if (label->empty()) break;
    absl::StatusOr<std::string> inverted = comms.RecvString();
    if (!inverted.ok()) return 11;
    patterns.push_back({*std::move(label), *std::move(inverted)});
  }
  // The positive control: a scan that finds this has looked at the heap.
  std::unique_ptr<std::string> control;
  for (const Pattern& pattern : patterns) {
    if (pattern.label == kControlLabel) {
      control = std::make_unique<std::string>(Invert(pattern.inverted));
    }
  }
  // Keeps the allocation and its bytes: nothing reads them but the scan.
  asm volatile("" : : "r"(control.get()) : "memory");
  std::string report = ScanOwnMemory(patterns);
  // Read only now: in a process holding the host's argv and environment,
  // these would bring copies into memory before the scan.
  std::vector<absl::string_view> env_names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const absl::string_view text = *entry;
    env_names.push_back(text.substr(0, text.find('=')));
  }
  absl::StrAppend(
      &report,
      "init_cmdline=", absl::CEscape(ReadFileOrEmpty("/proc/1/cmdline")),
      "\ncmdline=", absl::CEscape(ReadFileOrEmpty("/proc/self/cmdline")),
      "\nenv_names=", absl::StrJoin(env_names, ","), "\n");
  return comms.SendString(report).ok() ? 0 : 1;
}

// Secrets held the way real ones are, before InitForkServer(): in the
// host's argv and environment (put there by a launcher, here this binary
// running itself again) and in its heap. Null in the zygote.
struct HostSecrets {
  std::string env;
  std::string argv;
  std::string heap;
};
HostSecrets* g_host_secrets = nullptr;

constexpr char kSecretEnv[] = "SANDBOX_TEST_HOST_SECRET";
constexpr char kSecretFlag[] = "--sandbox_test_host_secret=";

// Returns false if the secrets could not be planted.
bool PlantHostSecrets(int argc, char** argv) {
  // The zygote runs main() again, with none of them: no launcher there.
  if (argc == 1 && strcmp(argv[0], kZygoteArgv0) == 0) return true;
  const char* env_secret = getenv(kSecretEnv);
  if (env_secret == nullptr) {
    std::vector<std::string> args(argv, argv + argc);
    args.push_back(absl::StrCat(kSecretFlag, RandomToken()));
    std::vector<char*> exec_argv;
    for (std::string& arg : args) exec_argv.push_back(arg.data());
    exec_argv.push_back(nullptr);
    setenv(kSecretEnv, RandomToken().c_str(), 1);
    execv("/proc/self/exe", exec_argv.data());
    perror("execv(/proc/self/exe)");
    return false;
  }
  g_host_secrets = new HostSecrets;
  g_host_secrets->env = env_secret;
  for (int i = 1; i < argc; ++i) {
    if (absl::StartsWith(argv[i], kSecretFlag)) {
      g_host_secrets->argv = argv[i] + strlen(kSecretFlag);
    }
  }
  g_host_secrets->heap = RandomToken();
  return !g_host_secrets->argv.empty();
}

// Registered after InitForkServer(): the zygote never heard of it.
int LateWorker(Comms& comms) { return 0; }
absl::Status g_late_registration;

void RegisterTestWorkers() {
  MustRegister("echo", EchoWorker);
  MustRegister("report", ReportWorker);
  MustRegister("ptrace", PtraceWorker);
  MustRegister("crash", CrashWorker);
  MustRegister("exit", ExitWorker);
  MustRegister("spin", SpinWorker);
  MustRegister("lockdown", LockDownWorker);
  MustRegister("lockdown_undeferred", LockDownUndeferredWorker);
  MustRegister("fd_stuffer", FdStufferWorker);
  MustRegister("region", RegionWorker);
  MustRegister("scan", ScanWorker);
}

// --- Host side ---

Policy DefaultPolicy() { return BuildOrFail(DefaultPolicyBuilder()); }

// The default policy without any way to open a file.
PolicyBuilder NoOpenPolicyBuilder() {
  PolicyBuilder builder = DefaultPolicyBuilder();
  testing::RemoveSyscalls(builder, {"open", "openat", "openat2", "creat"});
  return builder;
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
  std::unique_ptr<Sandbox> timed = SpawnWorker(BuildOrFail(builder), "spin");
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
      Sandbox::Spawn(policy, WorkerCommand("no-such-worker")),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-worker")));
  // Registered after InitForkServer(): refused at registration, and unknown
  // to the zygote.
  EXPECT_THAT(g_late_registration,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("register every worker first")));
  EXPECT_THAT(Sandbox::Spawn(policy, WorkerCommand("late")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("late")));
  EXPECT_THAT(RegisterWorker("echo", LateWorker),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The zygote survives both.
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, "exit");
  ASSERT_NE(sandbox, nullptr);
  ASSERT_THAT(sandbox->comms()->SendString("5"), IsOk());
  EXPECT_EQ(WaitOrDie(*sandbox).exit_code(), 5);
}

TEST(ZygoteTest, DeferredSeccompLetsTheWorkerInitialiseFirst) {
  PolicyBuilder builder = NoOpenPolicyBuilder();
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  std::unique_ptr<Sandbox> sandbox =
      SpawnWorker(BuildOrFail(builder), "lockdown");
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
      SpawnWorker(BuildOrFail(NoOpenPolicyBuilder()), "lockdown");
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
  // No message of the protocol carries descriptors: the first one ends the
  // sandbox.
  const proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::KILLED) << result.DebugString();
  EXPECT_THAT(absl::StrJoin(result.warnings(), "\n"),
              HasSubstr("carried file descriptors"));
  sandbox.reset();
  // They are closed off the supervisor's thread, soon.
  for (int i = 0; i < 200 && internal::PendingUntrustedCloses() > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
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
      Sandbox::Spawn(BuildOrFail(builder), command);
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

TEST(ZygoteTest, AWorkerHoldsNoHostSecretAndNoOtherWorkersRequest) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
      "the scan reads every readable mapping, and the runtime's shadow "
      "memory is terabytes of them");
  ASSERT_NE(g_host_secrets, nullptr);
  PolicyBuilder builder = DefaultPolicyBuilder();
  // Only the fixed deny list's filter (the scan never calls LockDown()),
  // with process_vm_readv lifted from it, so that it may read its whole
  // memory; every namespace as ever.
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  builder.AllowDangerousSyscall("process_vm_readv");
  const Policy policy = BuildOrFail(builder);

  // First a worker whose request carries a secret, in env entries placed
  // after padding: the fork server reuses its receive buffer, and the
  // scan's shorter request must not simply overwrite it. (A worker takes no
  // argv.)
  // In each string the secret comes after 32 bytes of its own padding: the
  // allocator keeps its free-list links in the first bytes of a freed
  // block, which would cut a secret at the start short of a match.
  const std::string request_secret = RandomToken();
  const std::string pad(32, '.');
  Command holder = WorkerCommand("exit");
  holder.env = {absl::StrCat("PAD=", std::string(8192, '.')),
                absl::StrCat("ARGLIKE=--token=", pad, request_secret),
                absl::StrCat("TOKEN=", pad, request_secret)};
  absl::StatusOr<std::unique_ptr<Sandbox>> first =
      Sandbox::Spawn(policy, holder);
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT((*first)->comms()->SendString("0"), IsOk());
  proto::Result held = WaitOrDie(**first);
  ASSERT_EQ(held.status(), proto::Result::OK) << held.DebugString();

  // Then the scan, with a secret of its own in its request.
  const std::string own_secret = RandomToken();
  Command scan = WorkerCommand("scan");
  scan.env = {absl::StrCat("OWN=", pad, own_secret)};
  absl::StatusOr<std::unique_ptr<Sandbox>> second =
      Sandbox::Spawn(policy, scan);
  ASSERT_THAT(second, IsOk());
  Comms& comms = *(*second)->comms();
  const std::vector<std::pair<std::string, std::string>> secrets = {
      // The host's, planted before InitForkServer().
      {"host_env", g_host_secrets->env},
      {"host_argv", g_host_secrets->argv},
      {"host_heap", g_host_secrets->heap},
      // The earlier worker's, this worker's own, and the control.
      {"other_request", request_secret},
      {"own_request", own_secret},
      {kControlLabel, RandomToken()},
  };
  for (const auto& [label, secret] : secrets) {
    ASSERT_THAT(comms.SendString(label), IsOk());
    ASSERT_THAT(comms.SendString(Invert(secret)), IsOk());
  }
  ASSERT_THAT(comms.SendString(""), IsOk());
  absl::StatusOr<std::string> report = comms.RecvString();
  ASSERT_THAT(report, IsOk());
  proto::Result result = WaitOrDie(**second);
  EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();

  std::set<std::string> found;
  std::map<std::string, std::string> values;
  for (absl::string_view line : absl::StrSplit(*report, '\n')) {
    if (absl::ConsumePrefix(&line, "found=")) {
      found.insert(std::string(line.substr(0, line.find(' '))));
    } else if (const size_t eq = line.find('='); eq != line.npos) {
      values[std::string(line.substr(0, eq))] =
          std::string(line.substr(eq + 1));
    }
  }
  // The scan looked: at more than a few pages, and at the heap.
  EXPECT_EQ(values["error"], "") << *report;
  uint64_t bytes = 0;
  EXPECT_TRUE(absl::SimpleAtoi(values["bytes"], &bytes)) << *report;
  EXPECT_GT(bytes, uint64_t{1} << 20) << *report;
  EXPECT_TRUE(found.count(kControlLabel)) << *report;
  // A worker holds its own request: the sandbox is cloned while it is
  // served.
  EXPECT_TRUE(found.count("own_request")) << *report;
  for (const char* label :
       {"host_env", "host_argv", "host_heap", "other_request"}) {
    EXPECT_FALSE(found.count(label)) << label << " is in the worker:\n"
                                     << *report;
  }
  // The sandbox's init and the worker show the zygote's argv, not the
  // host's, and no environment.
  const std::string zygote_cmdline =
      absl::CEscape(std::string(kZygoteArgv0, sizeof(kZygoteArgv0)));
  EXPECT_EQ(values["init_cmdline"], zygote_cmdline);
  EXPECT_EQ(values["cmdline"], zygote_cmdline);
  EXPECT_EQ(values["env_names"], "");
}

TEST(ZygoteTest, ABinaryThatCannotBeExecdAgainIsAFailedPreconditionNamingWhy) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // A fork of the host has no zygote and may start one; a filter makes
    // the zygote's exec fail as it would on a noexec mount.
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {sizeof(filter) / sizeof(filter[0]), filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      _exit(2);
    }
    const std::string status = InitForkServer(g_argc, g_argv).ToString();
    write(pipe_fds[1], status.data(), status.size());
    _exit(0);
  }
  close(pipe_fds[1]);
  std::string status;
  char chunk[512];
  ssize_t n;
  while ((n = read(pipe_fds[0], chunk, sizeof(chunk))) > 0) {
    status.append(chunk, n);
  }
  close(pipe_fds[0]);
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status)) << wait_status;
  ASSERT_EQ(WEXITSTATUS(wait_status), 0) << "could not install the filter";
  EXPECT_THAT(status, HasSubstr("FAILED_PRECONDITION"));
  EXPECT_THAT(status, HasSubstr("execveat(/proc/self/exe"));
  EXPECT_THAT(status, HasSubstr("EACCES"));
  EXPECT_THAT(status, HasSubstr("noexec"));
}

TEST(ZygoteTest, AForkOfTheHostHasNoZygote) {
  const Policy policy = DefaultPolicy();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Exit codes: 0 FailedPrecondition saying this is a fork of the process
    // that called InitForkServer, 1 a sandbox was spawned, 2 another error.
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        Sandbox::Spawn(policy, WorkerCommand("exit"));
    if (sandbox.ok()) _exit(1);
    const bool expected =
        sandbox.status().code() == absl::StatusCode::kFailedPrecondition &&
        absl::StrContains(sandbox.status().message(),
                          "is a fork of the one that called InitForkServer");
    _exit(expected ? 0 : 2);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(ZygoteTest, CommandMistakesAreInvalidArgumentBeforeAnythingRuns) {
  const Policy policy = DefaultPolicy();
  Command both = WorkerCommand("exit");
  both.argv = {"/bin/true"};
  EXPECT_THAT(Sandbox::Spawn(policy, both),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("command.argv and command.worker")));
  for (int stdio : {0, 1, 2}) {
    Command command;
    command.argv = {"/bin/true"};
    command.comms_fd = stdio;
    EXPECT_THAT(Sandbox::Spawn(policy, command),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("command.comms_fd")));
  }
  // A closed host descriptor, in fork-server mode as in direct mode.
  for (SpawnMode mode : {SpawnMode::kForkServer, SpawnMode::kDirect}) {
    Command command;
    command.argv = {"/bin/true"};
    command.fds.push_back({/*host_fd=*/1000, /*sandbox_fd=*/5});
    EXPECT_THAT(
        Sandbox::Spawn(policy, command, mode),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 HasSubstr("command.fds[0]: host fd 1000 is not open")));
  }
}

// --- Prewarmed workers (sandbox/prewarm.h, PrewarmFor::kWorkers) ---

std::unique_ptr<PrewarmPool> PrewarmWorkers(const Policy& policy, int count) {
  absl::StatusOr<std::unique_ptr<PrewarmPool>> pool =
      Prewarm(policy, count, PrewarmFor::kWorkers);
  EXPECT_THAT(pool, IsOk());
  return pool.ok() ? *std::move(pool) : nullptr;
}

TEST(PrewarmedWorkerTest, RunsTheNamedWorkerOverItsChannel) {
  std::unique_ptr<PrewarmPool> pool = PrewarmWorkers(DefaultPolicy(), 2);
  ASSERT_NE(pool, nullptr);
  for (int code : {5, 7, 9}) {
    ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        pool->Spawn(WorkerCommand("exit"));
    ASSERT_THAT(sandbox, IsOk());
    ASSERT_NE((*sandbox)->comms(), nullptr);
    ASSERT_THAT((*sandbox)->comms()->SendString(absl::StrCat(code)), IsOk());
    const proto::Result result = WaitOrDie(**sandbox);
    EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();
    EXPECT_EQ(result.exit_code(), code);
  }
  ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  absl::StatusOr<std::unique_ptr<Sandbox>> echo =
      pool->Spawn(WorkerCommand("echo"));
  ASSERT_THAT(echo, IsOk());
  Comms& comms = *(*echo)->comms();
  ASSERT_THAT(comms.SendBytes(std::vector<uint8_t>{1, 2, 3}), IsOk());
  EXPECT_THAT(comms.RecvBytes(), IsOk());
  EXPECT_EQ(pool->stats().prewarmed, 4u);
  EXPECT_EQ(pool->stats().cold, 0u);
}

TEST(PrewarmedWorkerTest, IsolationAndTheFilterAreThoseOfSpawn) {
  const Policy policy = DefaultPolicy();
  std::unique_ptr<PrewarmPool> pool = PrewarmWorkers(policy, 1);
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<std::unique_ptr<Sandbox>> warm =
      pool->Spawn(WorkerCommand("report"));
  ASSERT_THAT(warm, IsOk());
  absl::StatusOr<std::string> warm_report = (*warm)->comms()->RecvString();
  ASSERT_THAT(warm_report, IsOk());
  EXPECT_EQ(WaitOrDie(**warm).status(), proto::Result::OK);
  std::unique_ptr<Sandbox> cold = SpawnWorker(policy, "report");
  ASSERT_NE(cold, nullptr);
  absl::StatusOr<std::string> cold_report = cold->comms()->RecvString();
  ASSERT_THAT(cold_report, IsOk());
  EXPECT_EQ(WaitOrDie(*cold).status(), proto::Result::OK);
  std::map<std::string, std::string> warm_values = ParseValues(*warm_report);
  EXPECT_GE(warm_values.size(), 10u) << *warm_report;
  for (const auto& [key, value] : ParseValues(*cold_report)) {
    if (absl::StartsWith(key, "ns_")) continue;  // per sandbox
    EXPECT_EQ(warm_values[key], value) << key;
  }

  ASSERT_TRUE(pool->WaitUntilFull(absl::Seconds(20)));
  absl::StatusOr<std::unique_ptr<Sandbox>> ptrace =
      pool->Spawn(WorkerCommand("ptrace"));
  ASSERT_THAT(ptrace, IsOk());
  const proto::Result result = WaitOrDie(**ptrace);
  ASSERT_EQ(result.status(), proto::Result::VIOLATION) << result.DebugString();
  EXPECT_EQ(result.violation().syscall(), "ptrace");
}

TEST(PrewarmedWorkerTest, ADeferredFilterIsInstalledByLockDown) {
  PolicyBuilder builder = NoOpenPolicyBuilder();
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  std::unique_ptr<PrewarmPool> pool = PrewarmWorkers(BuildOrFail(builder), 1);
  ASSERT_NE(pool, nullptr);
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      pool->Spawn(WorkerCommand("lockdown"));
  ASSERT_THAT(sandbox, IsOk());
  Comms& comms = *(*sandbox)->comms();
  absl::StatusOr<std::string> bytes_read = comms.RecvString();
  ASSERT_THAT(bytes_read, IsOk());
  EXPECT_EQ(*bytes_read, "4096");
  const proto::Result result = WaitOrDie(**sandbox);
  ASSERT_EQ(result.status(), proto::Result::VIOLATION) << result.DebugString();
  EXPECT_EQ(result.violation().syscall(), "openat");
}

TEST(PrewarmedWorkerTest, TheWrongKindOfCommandOrAnUnknownWorkerIsRefused) {
  std::unique_ptr<PrewarmPool> pool = PrewarmWorkers(DefaultPolicy(), 1);
  ASSERT_NE(pool, nullptr);
  EXPECT_THAT(pool->Spawn(Command{.argv = {"/bin/true"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("run zygote workers")));
  EXPECT_THAT(pool->Spawn(WorkerCommand("nobody_registered_this")),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("nobody_registered_this")));
  EXPECT_EQ(pool->ready(), 1);
  absl::StatusOr<std::unique_ptr<PrewarmPool>> programs =
      Prewarm(DefaultPolicy(), 1);
  ASSERT_THAT(programs, IsOk());
  EXPECT_THAT(
      (*programs)->Spawn(WorkerCommand("exit")),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("run programs")));
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
            Sandbox::Spawn(policy, WorkerCommand("exit"));
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
  // Secrets no worker may hold, as a host has them when it calls
  // InitForkServer(). In the zygote (this binary run again), nothing.
  if (!sandbox::PlantHostSecrets(argc, argv)) return 1;
  // First, while the process is single-threaded.
  if (absl::Status status = sandbox::InitForkServer(argc, argv); !status.ok()) {
    fprintf(stderr, "InitForkServer: %s\n", status.ToString().c_str());
    return 1;
  }
  // Too late: the zygote knows only the workers registered before it.
  sandbox::g_late_registration =
      sandbox::RegisterWorker("late", sandbox::LateWorker);
  sandbox::g_argc = argc;
  sandbox::g_argv = argv;
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
