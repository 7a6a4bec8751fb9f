// InputSandbox (sandbox/input_worker.h): per-input outcomes from a template
// that survives them, pristine memory per input, /tmp per input, and a
// hostile template that cannot hang or fool the host. Both flavours: a
// registered worker of this binary (zygote style), and this binary run as
// a program that calls ServeInputs() (exec style, `--serve-inputs`); and a
// fake template that lies (`--hostile MODE`).

#include "sandbox/input_worker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/internal/input_server.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::BinDir;
using ::sandbox::testing::BuildOrFail;
using ::sandbox::testing::DefaultPolicyBuilder;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::IsRoot;
using ::sandbox::testing::RemoveSyscalls;
using ::sandbox::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kWorker[] = "inputs";
constexpr char kSandboxSelf[] = "/input_worker_test";

// Where the output area starts, from the input: InputOptions'
// max_input_bytes, a multiple of the page size.
constexpr size_t kOutputArea = size_t{1} << 20;

// Static data and a heap block of the template: what inputs change and the
// next must not see.
int g_counter = 0;
char* g_heap = nullptr;

void Output(absl::string_view text) {
  WriteInputOutput(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

int CountProcesses() {
  DIR* dir = opendir("/proc");
  if (dir == nullptr) return -1;
  int count = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] >= '1' && entry->d_name[0] <= '9') ++count;
  }
  closedir(dir);
  return count;
}

// What /tmp holds, sorted, comma-separated.
std::string ListTmp() {
  DIR* dir = opendir("/tmp");
  if (dir == nullptr) return "error";
  std::set<std::string> names;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') names.insert(entry->d_name);
  }
  closedir(dir);
  return absl::StrJoin(names, ",");
}

// The input function of both flavours; the first byte says what to do.
int RunInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  switch (data[0]) {
    case 'o':  // exit with the code in the second byte
      return size > 1 ? data[1] : 0;
    case 'c': {  // crash
      volatile int* nowhere = nullptr;
      *nowhere = 1;
      return 0;
    }
    case 't':  // never ends
      for (;;) pause();
    case 'v': {  // a call the tests' policy forbids
      struct utsname name;
      return static_cast<int>(syscall(SYS_uname, &name));
    }
    case 'V': {  // the forbidden call from a second thread
      std::thread([] {
        struct utsname name;
        syscall(SYS_uname, &name);
      }).join();
      return 0;
    }
    case 'm': {  // far beyond the memory limit
      const size_t bytes = size_t{1} << 30;
      char* volatile block = new char[bytes];
      memset(block, 1, bytes);
      return block[bytes - 1];
    }
    case 'w': {  // report what it sees of memory, then scribble on it
      Output(absl::StrCat("counter=", g_counter, " heap=", g_heap));
      ++g_counter;
      strcpy(g_heap, "dirty");
      // Its own input, made writable: a private copy.
      auto* page = reinterpret_cast<uint8_t*>(
          reinterpret_cast<uintptr_t>(data) & ~uintptr_t{4095});
      if (mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0) {
        memset(page, 'X', 4096);
      }
      // The output area (shared with the host) past its own output.
      const_cast<uint8_t*>(data)[kOutputArea + 100] = 'X';
      return 0;
    }
    case 'r': {  // what lies in the input's capacity beyond its size
      std::string seen;
      for (size_t i = size; i < 4096; ++i) {
        if (data[i] != 0) {
          seen = absl::StrCat("byte ", i, "=", static_cast<int>(data[i]));
          break;
        }
      }
      if (seen.empty() && data[kOutputArea + 100] != 0) seen = "output area";
      Output(seen.empty() ? "clean" : seen);
      return 0;
    }
    case 'f': {  // leave a process behind, in a session of its own
      const pid_t child = fork();
      if (child == 0) {
        setsid();
        for (;;) pause();
      }
      return child > 0 ? 0 : 1;
    }
    case 'p':  // processes this input sees in its pid namespace
      Output(absl::StrCat(CountProcesses()));
      return 0;
    case 's':  // signals that end a process by default, to the template
      for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGPIPE}) {
        kill(getppid(), signal);
      }
      return 0;
    case 'e': {  // open the template's memory to change it
      const std::string mem = absl::StrCat("/proc/", getppid(), "/mem");
      const int fd = open(mem.c_str(), O_RDWR | O_CLOEXEC);
      Output(fd >= 0 ? "opened" : "refused");
      return 0;
    }
    case 'A': {  // the CPUs it may use, and those of the template
      cpu_set_t mine;
      CPU_ZERO(&mine);
      sched_getaffinity(0, sizeof(mine), &mine);
      std::ifstream status(absl::StrCat("/proc/", getppid(), "/status"));
      std::string line;
      std::string allowed;
      while (std::getline(status, line)) {
        if (absl::StartsWith(line, "Cpus_allowed_list:")) {
          allowed = std::string(absl::StripAsciiWhitespace(line.substr(18)));
        }
      }
      Output(absl::StrCat("mine=", CPU_COUNT(&mine), " template=", allowed));
      return 0;
    }
    case 'k':  // kill the template
      kill(getppid(), SIGKILL);
      for (;;) pause();
    case 'x': {  // files and a locked directory in /tmp
      FILE* file = fopen("/tmp/left", "w");
      if (file != nullptr) fclose(file);
      mkdir("/tmp/locked", 0700);
      mkdir("/tmp/locked/deeper", 0700);
      file = fopen("/tmp/locked/deeper/file", "w");
      if (file != nullptr) fclose(file);
      chmod("/tmp/locked", 0);
      Output(ListTmp());
      return 0;
    }
    case 'l':  // what /tmp holds
      Output(ListTmp());
      return 0;
  }
  return 99;
}

void InitTemplate() {
  g_heap = new char[64];
  strcpy(g_heap, "clean");
}

enum class Flavour { kZygote, kExec };

std::string FlavourName(const ::testing::TestParamInfo<Flavour>& info) {
  return info.param == Flavour::kZygote ? "Zygote" : "Exec";
}

std::string SelfPath() { return BinDir() + "/input_worker_test"; }

// The default policy without uname, 96 MiB of memory (a cgroup, or
// RLIMIT_AS without delegation), and this binary at /input_worker_test.
Policy TestPolicy(Flavour flavour) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  RemoveSyscalls(builder, {"uname"});
  builder.SetMemory(96 << 20);
  builder.AddBind(SelfPath(), kSandboxSelf, MountMode::kReadOnly,
                  SymlinkMode::kFollow);
  // The zygote worker locks down after its init; the program runs under
  // its filter from its first instruction.
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(
      flavour == Flavour::kZygote);
  return BuildOrFail(builder);
}

Command TemplateCommand(Flavour flavour) {
  Command command;
  if (flavour == Flavour::kZygote) {
    command.worker = kWorker;
  } else {
    command.argv = {kSandboxSelf, "--serve-inputs"};
  }
  return command;
}

InputOptions TestOptions() {
  InputOptions options;
  // Room for an input to fill 96 MiB before the OOM kill on a busy VM.
  options.timeout = absl::Seconds(1);
  return options;
}

int CountHostFds() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

class InputWorkerTest : public ::testing::TestWithParam<Flavour> {
 protected:
  std::unique_ptr<InputSandbox> Create(
      const InputOptions& options = TestOptions()) {
    absl::StatusOr<std::unique_ptr<InputSandbox>> inputs = InputSandbox::Create(
        TestPolicy(GetParam()), TemplateCommand(GetParam()), options);
    EXPECT_THAT(inputs, IsOk());
    return inputs.ok() ? *std::move(inputs) : nullptr;
  }
};

InputResult MustRun(InputSandbox& inputs, absl::string_view input) {
  absl::StatusOr<InputResult> result = inputs.Run(input);
  EXPECT_THAT(result, IsOk());
  return result.ok() ? *std::move(result) : InputResult();
}

std::string OutputOf(const InputResult& result) {
  return std::string(result.output.begin(), result.output.end());
}

TEST_P(InputWorkerTest, EachOutcomeIsReportedAndTheTemplateServesOn) {
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  const pid_t sandbox_pid = inputs->sandbox()->pid();

  InputResult ok = MustRun(*inputs, "o\x07");
  EXPECT_EQ(ok.outcome, InputOutcome::kOk) << ok.detail;
  EXPECT_EQ(ok.exit_code, 7);

  InputResult crash = MustRun(*inputs, "c");
  EXPECT_EQ(crash.outcome, InputOutcome::kCrash) << crash.detail;
  EXPECT_EQ(crash.signal, SIGSEGV);

  InputResult violation = MustRun(*inputs, "v");
  EXPECT_EQ(violation.outcome, InputOutcome::kViolation) << violation.detail;
  ASSERT_TRUE(violation.violation.has_value());
  EXPECT_EQ(violation.violation->syscall(), "uname");
  EXPECT_THAT(violation.violation->decoded(), HasSubstr("uname("));

  // From a thread of the input: still the input alone.
  InputResult threaded = MustRun(*inputs, "V");
  EXPECT_EQ(threaded.outcome, InputOutcome::kViolation) << threaded.detail;
  ASSERT_TRUE(threaded.violation.has_value());
  EXPECT_EQ(threaded.violation->syscall(), "uname");

  const absl::Time before_timeout = absl::Now();
  InputResult timeout = MustRun(*inputs, "t");
  EXPECT_EQ(timeout.outcome, InputOutcome::kTimeout) << timeout.detail;
  EXPECT_GE(absl::Now() - before_timeout, absl::Milliseconds(900));
  EXPECT_LT(absl::Now() - before_timeout, absl::Seconds(6));

  InputResult memory = MustRun(*inputs, "m");
  EXPECT_EQ(memory.outcome, InputOutcome::kMemoryLimit)
      << InputOutcomeName(memory.outcome) << " signal " << memory.signal << " "
      << memory.detail;

  InputResult after = MustRun(*inputs, "o\x01");
  EXPECT_EQ(after.outcome, InputOutcome::kOk);
  EXPECT_EQ(after.exit_code, 1);
  // The same sandbox all along.
  ASSERT_NE(inputs->sandbox(), nullptr);
  EXPECT_EQ(inputs->sandbox()->pid(), sandbox_pid);
  EXPECT_EQ(inputs->starts(), 1);
}

TEST_P(InputWorkerTest, TheTemplateSurvivesAThousandInputsWithoutLeaks) {
  // The fork servers and the supervisor start on first use: before counting.
  Create().reset();
  const int fds_before = CountHostFds();
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  ASSERT_EQ(MustRun(*inputs, "o").outcome, InputOutcome::kOk);
  const int fds = CountHostFds();
  // What a fresh input sees: our init, the template and itself.
  const std::string alone = OutputOf(MustRun(*inputs, "p"));
  EXPECT_EQ(alone, "3");
  int counts[6] = {};
  for (int i = 0; i < 1000; ++i) {
    const char* input;
    switch (i % 10) {
      case 6:
        input = "c";
        break;
      case 7:
        input = "v";
        break;
      case 8:
        input = i % 100 == 8 ? "m" : "f";  // memory is slow to fill
        break;
      case 9:
        input = i % 200 == 9 ? "t" : "p";
        break;
      default:
        input = "o";
    }
    InputResult result = MustRun(*inputs, input);
    ++counts[static_cast<int>(result.outcome)];
    if (input[0] == 'p') {
      // The process the last 'f' left is gone.
      ASSERT_EQ(OutputOf(result), alone) << "input " << i;
    }
    ASSERT_NE(result.outcome, InputOutcome::kSandboxEnded)
        << "input " << i << ": " << result.detail;
  }
  EXPECT_EQ(counts[static_cast<int>(InputOutcome::kOk)], 600 + 90 + 95);
  EXPECT_EQ(counts[static_cast<int>(InputOutcome::kCrash)], 100);
  EXPECT_EQ(counts[static_cast<int>(InputOutcome::kViolation)], 100);
  EXPECT_EQ(counts[static_cast<int>(InputOutcome::kMemoryLimit)], 10);
  EXPECT_EQ(counts[static_cast<int>(InputOutcome::kTimeout)], 5);
  EXPECT_EQ(inputs->starts(), 1);
  EXPECT_EQ(CountHostFds(), fds);
  const pid_t sandbox_pid = inputs->sandbox()->pid();
  inputs.reset();
  EXPECT_EQ(CountHostFds(), fds_before);
  // The sandbox is gone with it, reaped.
  EXPECT_EQ(kill(sandbox_pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_P(InputWorkerTest, AnInputsMemoryWritesAreInvisibleToTheNext) {
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(OutputOf(MustRun(*inputs, "w")), "counter=0 heap=clean");
    // A short input: the bytes after it, where the last input wrote, are
    // zero (its writes went to a private copy).
    EXPECT_EQ(OutputOf(MustRun(*inputs, "r")), "clean");
  }
}

TEST_P(InputWorkerTest, OutputIsWhatTheInputWroteAndNoMore) {
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  EXPECT_EQ(OutputOf(MustRun(*inputs, "p")), "3");
  // An input that writes nothing has no output, whatever came before.
  EXPECT_TRUE(MustRun(*inputs, "o").output.empty());
}

TEST_P(InputWorkerTest, FilesInTmpStayUnlessCleanTmp) {
  {
    std::unique_ptr<InputSandbox> inputs = Create();
    ASSERT_NE(inputs, nullptr);
    EXPECT_EQ(OutputOf(MustRun(*inputs, "x")), "left,locked");
    EXPECT_EQ(OutputOf(MustRun(*inputs, "l")), "left,locked");
  }
  InputOptions options = TestOptions();
  options.clean_tmp = true;
  std::unique_ptr<InputSandbox> inputs = Create(options);
  ASSERT_NE(inputs, nullptr);
  InputResult wrote = MustRun(*inputs, "x");
  EXPECT_EQ(OutputOf(wrote), "left,locked");
  EXPECT_EQ(wrote.detail, "");
  EXPECT_EQ(OutputOf(MustRun(*inputs, "l")), "");
}

TEST_P(InputWorkerTest,
       AnInputThatKillsTheTemplateEndsTheSandboxAndTheNextRunRestarts) {
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  InputResult killer = MustRun(*inputs, "k");
  EXPECT_EQ(killer.outcome, InputOutcome::kSandboxEnded);
  ASSERT_TRUE(killer.sandbox_result.has_value());
  EXPECT_EQ(inputs->sandbox(), nullptr);
  InputResult next = MustRun(*inputs, "o\x02");
  EXPECT_EQ(next.outcome, InputOutcome::kOk);
  EXPECT_EQ(next.exit_code, 2);
  EXPECT_EQ(inputs->starts(), 2);
}

TEST_P(InputWorkerTest, SignalsAnInputSendsTheTemplateDoNotStopIt) {
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  for (int i = 0; i < 3; ++i) {
    InputResult result = MustRun(*inputs, "s");
    EXPECT_EQ(result.outcome, InputOutcome::kOk) << result.detail;
  }
  EXPECT_EQ(MustRun(*inputs, "o").outcome, InputOutcome::kOk);
  EXPECT_EQ(inputs->starts(), 1);
}

TEST_P(InputWorkerTest, AnInputCannotOpenTheTemplatesMemory) {
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  EXPECT_EQ(OutputOf(MustRun(*inputs, "e")), "refused");
}

TEST_P(InputWorkerTest, TheTemplateStaysOnOneCpuAndInputsGetThemAll) {
  cpu_set_t host;
  ASSERT_EQ(sched_getaffinity(0, sizeof(host), &host), 0);
  if (CPU_COUNT(&host) < 2) {
    GTEST_SKIP() << "one CPU: nothing to pin";
  }
  std::unique_ptr<InputSandbox> inputs = Create();
  ASSERT_NE(inputs, nullptr);
  const std::string seen = OutputOf(MustRun(*inputs, "A"));
  EXPECT_THAT(seen, ::testing::MatchesRegex(absl::StrCat(
                        "mine=", CPU_COUNT(&host), " template=[0-9]+")));
}

TEST_P(InputWorkerTest, AnInputTooLargeIsRefused) {
  InputOptions options = TestOptions();
  options.max_input_bytes = 16;
  std::unique_ptr<InputSandbox> inputs = Create(options);
  ASSERT_NE(inputs, nullptr);
  EXPECT_THAT(inputs->Run(std::string(17, 'o')),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("max_input_bytes")));
  EXPECT_EQ(MustRun(*inputs, std::string(16, 'o')).outcome, InputOutcome::kOk);
}

INSTANTIATE_TEST_SUITE_P(Flavours, InputWorkerTest,
                         ::testing::Values(Flavour::kZygote, Flavour::kExec),
                         FlavourName);

TEST(InputSandboxTest, APolicyWithoutAPidNamespaceIsRefused) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.mutable_proto().mutable_namespaces()->set_pid(false);
  EXPECT_THAT(InputSandbox::Create(BuildOrFail(builder),
                                   TemplateCommand(Flavour::kZygote)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("namespaces.pid")));
}

TEST(InputSandboxTest,
     ATemplateThatBreaksThePolicyEndsTheSandboxNamingTheCall) {
  // wait4: the template reaps every input with it.
  PolicyBuilder builder = DefaultPolicyBuilder();
  RemoveSyscalls(builder, {"wait4"});
  absl::StatusOr<std::unique_ptr<InputSandbox>> inputs = InputSandbox::Create(
      BuildOrFail(builder), TemplateCommand(Flavour::kZygote), TestOptions());
  ASSERT_THAT(inputs, IsOk());
  InputResult result = MustRun(**inputs, "o");
  EXPECT_EQ(result.outcome, InputOutcome::kSandboxEnded);
  ASSERT_TRUE(result.violation.has_value());
  EXPECT_EQ(result.violation->syscall(), "wait4");
  ASSERT_TRUE(result.sandbox_result.has_value());
  EXPECT_EQ(result.sandbox_result->status(), proto::Result::VIOLATION);
}

TEST(InputSandboxTest, ATemplateThatCannotServeSaysWhy) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  RemoveSyscalls(builder, {"prctl"});
  builder.BlockSyscallWithErrno("prctl", EPERM);
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  EXPECT_THAT(
      InputSandbox::Create(BuildOrFail(builder),
                           TemplateCommand(Flavour::kZygote), TestOptions()),
      StatusIs(absl::StatusCode::kInternal,
               HasSubstr("the template reported: input server: "
                         "prctl(PR_SET_CHILD_SUBREAPER)")));
}

// --- A hostile template: this binary as `--hostile MODE`. ---

// The lies, each answered in place of a real report.
constexpr const char* kLies[] = {
    "short",     // a report of the wrong length
    "sequence",  // a report for an input never sent
    "kind",      // an outcome that does not exist
    "signal",    // signal 1000
    "exit",      // exit code -1
    "output",    // more output than the region holds
    "silent",    // no report at all, and reading nothing
    "huge",      // a frame announcing 1 TiB
    "close",     // hangs up
    "fd",        // a descriptor (its own stdin) before the report
    "failed",    // a failure with a 1 MiB message
};

int RunHostile(const char* mode) {
  const char* where = getenv(internal::kInputCommsEnv);
  if (where == nullptr) return 2;
  Comms comms(UniqueFd(atoi(where)), SOCK_STREAM);
  absl::StatusOr<internal::InputServerSetup> setup =
      internal::ReceiveInputSetup(comms);
  if (!setup.ok()) return 3;
  internal::InputReply reply = {};
  reply.kind = static_cast<uint32_t>(internal::InputReplyKind::kReady);
  auto send = [&](const internal::InputReply& r, size_t size) {
    return comms.SendBytes({reinterpret_cast<const uint8_t*>(&r), size}).ok();
  };
  if (!send(reply, sizeof(reply))) return 4;
  for (;;) {
    absl::StatusOr<std::vector<uint8_t>> request = comms.RecvBytes();
    if (!request.ok()) return 0;
    internal::InputRequest in;
    memcpy(&in, request->data(), sizeof(in));
    reply = {};
    reply.sequence = in.sequence;
    reply.kind = static_cast<uint32_t>(internal::InputReplyKind::kExited);
    const std::string lie = mode;
    if (lie == "short") {
      send(reply, sizeof(reply) - 1);
    } else if (lie == "sequence") {
      reply.sequence += 1;
      send(reply, sizeof(reply));
    } else if (lie == "kind") {
      reply.kind = 99;
      send(reply, sizeof(reply));
    } else if (lie == "signal") {
      reply.kind = static_cast<uint32_t>(internal::InputReplyKind::kSignaled);
      reply.value = 1000;
      send(reply, sizeof(reply));
    } else if (lie == "exit") {
      reply.value = -1;
      send(reply, sizeof(reply));
    } else if (lie == "output") {
      reply.output_size = setup->region.size() * 2;
      send(reply, sizeof(reply));
    } else if (lie == "silent") {
      for (;;) pause();
    } else if (lie == "huge") {
      internal::FrameHeader header = {
          internal::kFrameMagic, internal::kTagBytes, 0, uint64_t{1} << 40};
      (void)!write(comms.fd(), &header, sizeof(header));
      for (;;) pause();
    } else if (lie == "close") {
      return 0;
    } else if (lie == "failed") {
      reply.kind = static_cast<uint32_t>(internal::InputReplyKind::kFailed);
      send(reply, sizeof(reply));
      (void)comms.SendString(std::string(1 << 20, '\n')).ok();
    } else if (lie == "fd") {
      (void)comms.SendFd(0).ok();
      send(reply, sizeof(reply));
    }
  }
}

class HostileTemplateTest : public ::testing::TestWithParam<const char*> {};

TEST_P(HostileTemplateTest, TheHostNeitherHangsNorBelievesIt) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.AddBind(SelfPath(), kSandboxSelf, MountMode::kReadOnly,
                  SymlinkMode::kFollow);
  const Policy policy = BuildOrFail(builder);
  Command command;
  command.argv = {kSandboxSelf, "--hostile", GetParam()};
  // The fork server and the supervisor start on first use: before counting.
  ASSERT_THAT(InputSandbox::Create(TestPolicy(Flavour::kExec),
                                   TemplateCommand(Flavour::kExec)),
              IsOk());
  const int fds = CountHostFds();
  {
    absl::StatusOr<std::unique_ptr<InputSandbox>> inputs =
        InputSandbox::Create(policy, command, TestOptions());
    ASSERT_THAT(inputs, IsOk());
    for (int i = 0; i < 2; ++i) {
      const absl::Time start = absl::Now();
      InputResult result = MustRun(**inputs, "o");
      // The report is refused, the sandbox killed, within the input timeout
      // plus the second of grace (and a margin for a loaded machine).
      EXPECT_EQ(result.outcome, InputOutcome::kSandboxEnded) << GetParam();
      EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << GetParam();
      EXPECT_FALSE(result.detail.empty());
      EXPECT_TRUE(result.output.empty());
      ASSERT_TRUE(result.sandbox_result.has_value());
      // A new sandbox each time.
      EXPECT_EQ((*inputs)->starts(), i + 1);
    }
  }
  // What it sent is closed on a thread of the library's (a last close can
  // block): soon, not necessarily by now.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (CountHostFds() != fds && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(CountHostFds(), fds);
}

INSTANTIATE_TEST_SUITE_P(Lies, HostileTemplateTest, ::testing::ValuesIn(kLies),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST(HostileTemplateStartTest, ATemplateThatNeverSaysReadyTimesOut) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  builder.AddBind(SelfPath(), kSandboxSelf, MountMode::kReadOnly,
                  SymlinkMode::kFollow);
  Command command;
  command.argv = {kSandboxSelf, "--hostile", "mute"};
  InputOptions options = TestOptions();
  options.start_timeout = absl::Seconds(1);
  const absl::Time start = absl::Now();
  EXPECT_THAT(InputSandbox::Create(BuildOrFail(builder), command, options),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("start_timeout")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(ServeInputsTest, OutsideAnInputSandboxItSaysSo) {
  EXPECT_THAT(ServeInputs(RunInput),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not started by an InputSandbox")));
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) {
  // Exec style: this binary as the program in the sandbox.
  if (argc >= 2 && std::string(argv[1]) == "--serve-inputs") {
    sandbox::InitTemplate();
    const absl::Status served = sandbox::ServeInputs(sandbox::RunInput);
    return served.ok() ? 0 : 1;
  }
  if (argc >= 3 && std::string(argv[1]) == "--hostile") {
    if (std::string(argv[2]) == "mute") {
      for (;;) pause();
    }
    return sandbox::RunHostile(argv[2]);
  }
  if (absl::Status s = sandbox::RegisterInputWorker(
          sandbox::kWorker, sandbox::RunInput, sandbox::InitTemplate);
      !s.ok()) {
    fprintf(stderr, "RegisterInputWorker: %s\n", s.ToString().c_str());
    return 1;
  }
  if (absl::Status s = sandbox::InitForkServer(argc, argv); !s.ok()) {
    fprintf(stderr, "InitForkServer: %s\n", s.ToString().c_str());
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
