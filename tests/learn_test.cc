// Learn mode (sandbox/learn.h, sandbox-run --learn): real Debian programs
// learn a policy on one input and then run on another under it; runs
// merge; the fixed deny list is never learned; missing paths are
// suggested; and a learning run is still a sandbox.

#include "sandbox/learn.h"

#include <fcntl.h>
#include <linux/prctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The default policy's sandbox (namespaces, mounts, limits) with no system
// call allowed: what sandbox-run --learn starts from without --policy.
PolicyBuilder NothingAllowed() {
  PolicyBuilder builder = testing::DefaultPolicyBuilder();
  builder.mutable_proto().clear_seccomp();
  builder.mutable_proto().mutable_seccomp()->set_default_action(
      proto::Seccomp::KILL);
  return builder;
}

// A directory of inputs, readable by whoever runs the tests, bound at
// /data.
class DataDir : public testing::ScratchDir {
 public:
  DataDir() : ScratchDir("learn-test.") {}
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream out(*this / name);
    out << text;
    EXPECT_TRUE(out.good());
  }
  // Runs `shell` on the host in the directory (to make archives).
  void Shell(const std::string& shell) const {
    const std::string command = absl::StrCat("cd '", path(), "' && ", shell);
    ASSERT_EQ(std::system(command.c_str()), 0) << shell;
  }
};

// NothingAllowed() with the testee at /testee.
PolicyBuilder TesteeBase() {
  PolicyBuilder base = NothingAllowed();
  base.AddBind(testing::TesteePath(), testing::kSandboxTestee,
               MountMode::kReadOnly);
  return base;
}

struct Learned {
  LearnedPolicy learned;
  std::string output;
};

// Learns `argv` under `base`, stdout captured.
Learned LearnOrFail(const PolicyBuilder& base,
                    const std::vector<std::string>& argv,
                    const std::string& previous = "") {
  Learned out;
  UniqueFd stdout_fd(memfd_create("learn-stdout", MFD_CLOEXEC));
  Command command{.argv = argv};
  command.fds.push_back({stdout_fd.get(), 1});
  absl::StatusOr<LearnedPolicy> learned =
      Learn(base, command, {.previous = previous});
  EXPECT_TRUE(learned.ok()) << learned.status();
  if (!learned.ok()) return out;
  out.learned = *std::move(learned);
  out.output = testing::ReadAllFrom(stdout_fd.get());
  return out;
}

struct SandboxRun {
  proto::Result result;
  std::string output;
};

// Runs `argv` under `builder`'s policy, stdout captured.
SandboxRun RunUnder(const PolicyBuilder& builder,
                    const std::vector<std::string>& argv) {
  SandboxRun run;
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_TRUE(policy.ok()) << policy.status();
  if (!policy.ok()) return run;
  UniqueFd stdout_fd(memfd_create("run-stdout", MFD_CLOEXEC));
  Command command{.argv = argv};
  command.fds.push_back({stdout_fd.get(), 1});
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(*policy, command, SpawnMode::kDirect);
  EXPECT_TRUE(sandbox.ok()) << sandbox.status();
  if (!sandbox.ok()) return run;
  run.result = testing::WaitOrDie(**sandbox);
  run.output = testing::ReadAllFrom(stdout_fd.get());
  return run;
}

// Runs `argv` under the policy file `text` (what learn mode wrote).
SandboxRun RunUnder(const std::string& text,
                    const std::vector<std::string>& argv) {
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromText(text, "learned");
  EXPECT_TRUE(builder.ok()) << builder.status() << "\n" << text;
  if (!builder.ok()) return SandboxRun();
  return RunUnder(*builder, argv);
}

PolicyBuilder WithData(const DataDir& data) {
  PolicyBuilder builder = NothingAllowed();
  builder.AddBind(data.path(), "/data", MountMode::kReadOnly);
  return builder;
}

// The learned block of `text`, markers included.
std::string LearnedBlock(const std::string& text) {
  const size_t begin = text.find("# >>> learned");
  const size_t end = text.find("# <<< learned");
  if (begin == std::string::npos || end == std::string::npos) return "";
  return text.substr(begin, end - begin);
}

// One program: learned on one input, then run on another under what was
// learned, and nothing else.
struct ProgramCase {
  std::string name;
  std::vector<std::string> learn_argv;
  std::vector<std::string> run_argv;
  std::string expected_output;  // of the second run
};

void PrintTo(const ProgramCase& program, std::ostream* out) {
  *out << program.name;
}

class LearnProgramTest : public ::testing::TestWithParam<ProgramCase> {};

TEST_P(LearnProgramTest, LearnsOnOneInputAndRunsAnotherUnderIt) {
  DataDir data;
  data.Write("a.xml", "<doc><b>first</b><b>second</b></doc>\n");
  data.Write("b.xml", "<list><b>alpha</b><c/><b>beta</b></list>\n");
  data.Write("a.txt", "some text to compress\n");
  data.Write("a.py", "import json, sys\nprint(json.dumps({'a': [1, 2]}))\n");
  data.Write("b.py",
             "import hashlib, os\n"
             "print(hashlib.sha256(b'x').hexdigest()[:8], "
             "sorted(os.listdir('/data'))[:2])\n");
  data.Shell(
      "printf 'other text\\n' > b.txt && gzip -k b.txt && "
      "tar cf a.tar a.txt a.xml && "
      "mkdir t && echo inside > t/f && tar cf b.tar t");
  const ProgramCase& program = GetParam();
  PolicyBuilder base = WithData(data);

  // Under the base alone the program cannot even start.
  SandboxRun before = RunUnder(base, program.run_argv);
  EXPECT_EQ(before.result.status(), proto::Result::VIOLATION)
      << before.result.DebugString();

  Learned learned = LearnOrFail(base, program.learn_argv);
  EXPECT_EQ(learned.learned.result.status(), proto::Result::OK)
      << learned.learned.result.DebugString();
  EXPECT_GT(learned.learned.result.learned().calls_size(), 0);
  const std::string& text = learned.learned.text;
  EXPECT_THAT(text, HasSubstr("trusted inputs"));
  EXPECT_THAT(LearnedBlock(text), HasSubstr("# run 1: "));

  SandboxRun run = RunUnder(text, program.run_argv);
  EXPECT_EQ(run.result.status(), proto::Result::OK)
      << run.result.DebugString() << "\n"
      << text;
  EXPECT_EQ(run.result.exit_code(), 0);
  EXPECT_THAT(run.output, HasSubstr(program.expected_output));
}

INSTANTIATE_TEST_SUITE_P(
    DebianPrograms, LearnProgramTest,
    ::testing::Values(
        ProgramCase{"file",
                    {"/usr/bin/file", "/usr/bin/ls"},
                    {"/usr/bin/file", "/data/a.xml", "/usr/share"},
                    "directory\n"},
        ProgramCase{
            "xmllint",
            {"/usr/bin/xmllint", "--format", "/data/a.xml"},
            {"/usr/bin/xmllint", "--xpath", "//b[2]/text()", "/data/b.xml"},
            "beta"},
        ProgramCase{"python3",
                    {"/usr/bin/python3", "/data/a.py"},
                    {"/usr/bin/python3", "/data/b.py"},
                    "2d711642 ['a.py', 'a.tar']"},
        ProgramCase{"gzip",
                    {"/usr/bin/gzip", "-c", "/data/a.txt"},
                    {"/usr/bin/gzip", "-dc", "/data/b.txt.gz"},
                    "other text"},
        ProgramCase{"tar",
                    {"/usr/bin/tar", "xOf", "/data/a.tar"},
                    {"/usr/bin/tar", "xOf", "/data/b.tar", "t/f"},
                    "inside"}),
    [](const ::testing::TestParamInfo<ProgramCase>& info) {
      return info.param.name;
    });

TEST(LearnTest, ASecondRunMergesIntoTheFile) {
  DataDir data;
  data.Write("a.py", "print('first')\n");
  // The second input uses what the first did not: sockets.
  data.Write("b.py",
             "import socket\n"
             "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
             "print('second', s.family.name)\n");
  PolicyBuilder base = WithData(data);
  Learned first = LearnOrFail(base, {"/usr/bin/python3", "/data/a.py"});
  ASSERT_EQ(first.learned.run, 1);
  // What the first run learned does not cover the second input.
  SandboxRun missed =
      RunUnder(first.learned.text, {"/usr/bin/python3", "/data/b.py"});
  ASSERT_EQ(missed.result.status(), proto::Result::VIOLATION);
  EXPECT_EQ(missed.result.violation().syscall(), "socket");

  // Learn again with the file as the policy, as sandbox-run does.
  absl::StatusOr<PolicyBuilder> again =
      PolicyBuilder::FromText(first.learned.text, "first");
  ASSERT_TRUE(again.ok()) << again.status();
  Learned second = LearnOrFail(*again, {"/usr/bin/python3", "/data/b.py"},
                               first.learned.text);
  EXPECT_EQ(second.learned.run, 2);
  EXPECT_EQ(second.output, "second AF_UNIX\n");
  const std::string& text = second.learned.text;
  // The first run's lines are kept as they were, the second's added after
  // them, and the header counts both.
  const std::string first_block = LearnedBlock(first.learned.text);
  EXPECT_THAT(LearnedBlock(text), StartsWith(first_block));
  EXPECT_THAT(text, HasSubstr("# run 2: /usr/bin/python3 /data/b.py"));
  EXPECT_THAT(text, HasSubstr("2 runs so far"));
  EXPECT_THAT(LearnedBlock(text), HasSubstr("socket"));
  // Each rule of the first block is in the file once, not twice (the base
  // printed is the file less its learned block).
  for (absl::string_view line : absl::StrSplit(first_block, '\n')) {
    const std::string trimmed(absl::StripLeadingAsciiWhitespace(line));
    if (trimmed.empty() || trimmed[0] == '#') continue;
    size_t count = 0;
    for (size_t at = text.find(trimmed); at != std::string::npos;
         at = text.find(trimmed, at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u) << trimmed << "\n" << text;
  }

  // The merged file runs both inputs.
  for (const char* input : {"/data/a.py", "/data/b.py"}) {
    SandboxRun run = RunUnder(text, {"/usr/bin/python3", input});
    EXPECT_EQ(run.result.status(), proto::Result::OK)
        << input << ": " << run.result.DebugString();
  }
  // And a third run with nothing new says so.
  absl::StatusOr<PolicyBuilder> third_base =
      PolicyBuilder::FromText(text, "second");
  ASSERT_TRUE(third_base.ok()) << third_base.status();
  Learned third =
      LearnOrFail(*third_base, {"/usr/bin/python3", "/data/a.py"}, text);
  EXPECT_EQ(third.learned.result.learned().calls_size(), 0);
  EXPECT_THAT(third.learned.text,
              HasSubstr("# run 3: nothing outside the policy was called"));
}

TEST(LearnTest, FewValuesOfTheKeyArgumentBecomeConditions) {
  // socket(AF_INET) alone: a rule for that family only, not the whole
  // INET_SOCKETS group and not socket with any family.
  PolicyBuilder base = TesteeBase();
  Learned learned =
      LearnOrFail(base, {testing::kSandboxTestee, "socket", "inet"});
  ASSERT_EQ(learned.learned.result.status(), proto::Result::OK);
  EXPECT_THAT(learned.output, HasSubstr("socket=ok"));
  EXPECT_THAT(learned.learned.text,
              HasSubstr("rules { action: ALLOW syscalls: \"socket\" args { "
                        "arg: 0 op: EQ value: 2 } }  # AF_INET"));

  SandboxRun inet = RunUnder(learned.learned.text,
                             {testing::kSandboxTestee, "socket", "inet"});
  EXPECT_EQ(inet.result.status(), proto::Result::OK);
  EXPECT_THAT(inet.output, HasSubstr("socket=ok"));
  SandboxRun netlink = RunUnder(learned.learned.text,
                                {testing::kSandboxTestee, "socket", "netlink"});
  ASSERT_EQ(netlink.result.status(), proto::Result::VIOLATION);
  EXPECT_EQ(netlink.result.violation().decoded(),
            "socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE)");
}

TEST(LearnTest, TheFixedDenyListIsListedNeverLearned) {
  PolicyBuilder base = TesteeBase();
  Learned learned = LearnOrFail(base, {testing::kSandboxTestee, "ptrace"});
  const proto::Result& result = learned.learned.result;
  ASSERT_EQ(result.status(), proto::Result::OK) << result.DebugString();
  // It ran, and failed as the sandbox fails it.
  EXPECT_THAT(learned.output, HasSubstr("errno=EPERM"));
  ASSERT_EQ(result.learned().denied_size(), 1) << result.DebugString();
  EXPECT_EQ(result.learned().denied(0).syscall(), "ptrace");
  for (const proto::ObservedCall& call : result.learned().calls()) {
    EXPECT_NE(call.syscall(), "ptrace");
  }
  EXPECT_THAT(learned.learned.text,
              HasSubstr("# run 1: denied, never learned: ptrace("));
  EXPECT_THAT(learned.learned.text, HasSubstr("dangerous_allow"));
  absl::StatusOr<PolicyBuilder> parsed =
      PolicyBuilder::FromText(learned.learned.text, "learned");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  for (const proto::SyscallRule& rule : parsed->proto().seccomp().rules()) {
    EXPECT_THAT(rule.syscalls(), Not(Contains("ptrace")));
  }

  // Namespace flags and a filter of its own: refused, listed.
  Learned unshare =
      LearnOrFail(base, {testing::kSandboxTestee, "unshare", "user"});
  ASSERT_EQ(unshare.learned.result.learned().denied_size(), 1);
  EXPECT_EQ(unshare.learned.result.learned().denied(0).decoded(),
            "unshare(CLONE_NEWUSER)");
  EXPECT_THAT(unshare.output, HasSubstr("errno=EPERM"));
  Learned filter =
      LearnOrFail(base, {testing::kSandboxTestee, "stack-filter", "prctl"});
  ASSERT_GE(filter.learned.result.learned().denied_size(), 1);
  EXPECT_EQ(filter.learned.result.learned().denied(0).syscall(), "prctl");
}

TEST(LearnTest, ForeignAbisAreRefusedNotLearned) {
  PolicyBuilder base = TesteeBase();
  Learned learned =
      LearnOrFail(base, {testing::kSandboxTestee, "x32", "getpid"});
  const proto::Result& result = learned.learned.result;
  // A violation, as outside learn mode.
  ASSERT_EQ(result.status(), proto::Result::VIOLATION) << result.DebugString();
  EXPECT_EQ(result.violation().arch(), "x32");
  for (const proto::ObservedCall& call : result.learned().calls()) {
    EXPECT_NE(call.syscall(), "getpid") << call.DebugString();
  }
}

TEST(LearnTest, PathsTheSandboxLacksAreSuggestedAsBinds) {
  // /etc/debian_version exists on the host but is not in the sandbox.
  PolicyBuilder base = TesteeBase();
  Learned learned = LearnOrFail(
      base, {testing::kSandboxTestee, "read", "/etc/debian_version"});
  const proto::Result& result = learned.learned.result;
  ASSERT_EQ(result.status(), proto::Result::OK) << result.DebugString();
  // It was still not there for the program.
  EXPECT_THAT(learned.output, HasSubstr("errno=ENOENT"));
  EXPECT_THAT(result.learned().missing_paths(),
              ElementsAre("/etc/debian_version"));
  EXPECT_THAT(learned.learned.text,
              HasSubstr("#   mounts { bind { source: \"/etc/debian_version\" "
                        "} }"));
  // A path that is nowhere is not suggested.
  Learned nowhere =
      LearnOrFail(base, {testing::kSandboxTestee, "read", "/etc/no-such"});
  EXPECT_THAT(nowhere.learned.result.learned().missing_paths(),
              ::testing::IsEmpty());
}

TEST(LearnTest, ALearningRunIsStillASandbox) {
  PolicyBuilder base = TesteeBase();
  // Namespaces and mounts: its own pid 1-based tree, its own user, no
  // host files beyond the binds.
  Learned report = LearnOrFail(base, {testing::kSandboxTestee, "ns", "report"});
  ASSERT_EQ(report.learned.result.status(), proto::Result::OK);
  const std::map<std::string, std::string> values =
      testing::ParseValues(report.output);
  EXPECT_NE(values.at("ns_user"), testing::HostNamespaceInode("user"));
  EXPECT_NE(values.at("ns_pid"), testing::HostNamespaceInode("pid"));
  EXPECT_NE(values.at("ns_mnt"), testing::HostNamespaceInode("mnt"));
  Learned shadow = LearnOrFail(base, {testing::kSandboxTestee, "exists",
                                      "/etc/shadow", "/home", "/root"});
  EXPECT_THAT(shadow.output, HasSubstr("exists:/etc/shadow=0"));
  EXPECT_THAT(shadow.output, HasSubstr("exists:/root=0"));
  // Limits: the wall-clock limit ends it.
  base.SetWallTime(absl::Milliseconds(300));
  Learned slow = LearnOrFail(base, {testing::kSandboxTestee, "sleep", "10"});
  EXPECT_EQ(slow.learned.result.status(), proto::Result::TIMEOUT);
}

TEST(LearnTest, ASandboxeeCannotGrowWhatTheHostKeepsWithoutBound) {
  // 6,000 distinct ioctl requests, each a call learn mode tells apart: the
  // host keeps at most 4,096 and says the rest were dropped.
  DataDir data;
  data.Write("flood.py",
             "import fcntl\n"
             "for request in range(0x10000, 0x10000 + 6000):\n"
             "    try:\n"
             "        fcntl.ioctl(0, request)\n"
             "    except OSError:\n"
             "        pass\n"
             "print('flooded')\n");
  Learned learned =
      LearnOrFail(WithData(data), {"/usr/bin/python3", "/data/flood.py"});
  ASSERT_EQ(learned.learned.result.status(), proto::Result::OK)
      << learned.learned.result.DebugString();
  EXPECT_EQ(learned.output, "flooded\n");
  const proto::LearnReport& report = learned.learned.result.learned();
  EXPECT_TRUE(report.truncated());
  EXPECT_LE(report.calls_size(), 4096);
  EXPECT_THAT(learned.learned.text, HasSubstr("run again to learn the rest"));
  // More than four values: one rule for ioctl without conditions.
  EXPECT_THAT(learned.learned.text,
              HasSubstr("rules { action: ALLOW syscalls: \"ioctl\" }"));
}

TEST(LearnTest, BadInputsAreRefusedWithAReason) {
  PolicyBuilder base = NothingAllowed();
  Command command{.argv = {"/bin/true"}};
  EXPECT_THAT(Learn(base, command, {.previous = "name: \"x\"\n"}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("no complete learned block")));
  PolicyBuilder deferred = NothingAllowed();
  deferred.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  EXPECT_THAT(Learn(deferred, command),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("defer_until_lockdown")));
  EXPECT_THAT(Learn(base, Command{.worker = "w"}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("zygote worker")));
  PolicyBuilder broken = NothingAllowed();
  broken.AddTmpfs("relative", 1 << 20);
  EXPECT_THAT(Learn(broken, command),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("filesystem.mounts")));
}

// sandbox-run --learn.
testing::ProgramRun RunCli(std::vector<std::string> args) {
  return testing::RunHostProgram(testing::BinDir() + "/sandbox-run",
                                 std::move(args));
}

TEST(LearnCliTest, LearnsMergesAndRunsUnderTheFile) {
  DataDir data;
  data.Write("a.txt", "plain\n");
  data.Shell("printf 'zipped\\n' | gzip > b.gz");
  const std::string out = data.path() + "/gzip.textproto";
  const std::string bind = data.path() + ":/data";

  testing::ProgramRun first = RunCli({"--learn", out, "--ro-bind", bind, "--",
                                      "/usr/bin/gzip", "-c", "/data/a.txt"});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  EXPECT_THAT(first.err, HasSubstr("sandbox-run: learn: run 1: "));
  EXPECT_THAT(first.err, HasSubstr("for trusted inputs only"));
  std::ifstream file(out);
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("# run 1: /usr/bin/gzip -c /data/a.txt"));

  // The learned file is a policy.
  testing::ProgramRun run = RunCli({"--policy", out, "--ro-bind", bind, "--",
                                    "/usr/bin/gzip", "-dc", "/data/b.gz"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "zipped\n");

  // Again, with the same flags: merged, the bind not added twice.
  testing::ProgramRun second = RunCli({"--learn", out, "--ro-bind", bind, "--",
                                       "/usr/bin/gzip", "-t", "/data/b.gz"});
  ASSERT_EQ(second.exit_status, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("sandbox-run: learn: run 2: "));
  std::ifstream merged_file(out);
  std::stringstream merged;
  merged << merged_file.rdbuf();
  EXPECT_THAT(merged.str(), HasSubstr("# run 1: /usr/bin/gzip -c"));
  EXPECT_THAT(merged.str(), HasSubstr("# run 2: /usr/bin/gzip -t"));
  size_t binds = 0;
  for (size_t at = merged.str().find("target: \"/data\"");
       at != std::string::npos;
       at = merged.str().find("target: \"/data\"", at + 1)) {
    ++binds;
  }
  EXPECT_EQ(binds, 1u) << merged.str();

  // An existing OUT is the policy: --policy with it is refused.
  testing::ProgramRun both =
      RunCli({"--learn", out, "--policy", out, "--", "/bin/true"});
  EXPECT_EQ(both.exit_status, 125);
  EXPECT_THAT(both.err, HasSubstr("--policy cannot be given"));
}

TEST(LearnCliTest, TheProgramsStatusIsTheExitStatus) {
  DataDir data;
  const std::string out = data.path() + "/false.textproto";
  testing::ProgramRun run = RunCli({"--learn", out, "--", "/bin/false"});
  EXPECT_EQ(run.exit_status, 1) << run.err;
  EXPECT_THAT(run.err, HasSubstr("wrote " + out));
  // A program that is not there: nothing learned, nothing written.
  const std::string missing = data.path() + "/missing.textproto";
  run = RunCli({"--learn", missing, "--", "/no/such/program"});
  EXPECT_EQ(run.exit_status, 127) << run.err;
  EXPECT_NE(access(missing.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace sandbox
