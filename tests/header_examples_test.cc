// Every code example in a public header (and in the internal headers that
// have one), compiled and run. An example is a
// block of comment lines indented by three more spaces ("//   code"), after
// an empty comment line; empty comment lines inside it are part of it. Each
// must appear word for word in this file (worker.h's in
// worker_header_example.cc, which needs a main() of its own), wrapped in a
// function that gives it what it names, and a test runs that function and
// checks what the example did: an example that no longer compiles, names an
// API that is gone or does not do what it shows fails here.
//
// The public headers are those sandbox/CMakeLists.txt installs
// (SANDBOX_PUBLIC_HEADERS); one that gains an example needs a test here
// (EveryPublicHeaderExampleIsTested).

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/command.h"
#include "sandbox/comms.h"
#include "sandbox/fd.h"
#include "sandbox/fork_server.pb.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/result.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/internal/util.h"
#include "sandbox/internal/wipe.h"
#include "sandbox/learn.h"
#include "sandbox/oci_seccomp.h"
#include "sandbox/policy.h"
#include "sandbox/policy_builder.h"
#include "sandbox/prewarm.h"
#include "sandbox/sandbox.h"
#include "sandbox/status_macros.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::internal::ClassifyOutcome;
using ::sandbox::internal::OutcomeFacts;
using ::sandbox::internal::StateOf;
using ::sandbox::internal::WipeBytes;
using ::sandbox::internal::WipeStrings;
using ::sandbox::testing::BinDir;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::ProgramRun;
using ::sandbox::testing::RunHostProgram;
using ::sandbox::testing::SourceDir;
using ::sandbox::testing::StatusIs;
using ::testing::HasSubstr;

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// --- Finding the examples ---

// The example blocks of a header's text, each as its lines without the
// comment marker and the three spaces ("" for an empty comment line).
std::vector<std::vector<std::string>> ExampleBlocks(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (absl::string_view& line : lines) {
    line = absl::StripLeadingAsciiWhitespace(line);
  }
  auto is_code = [](absl::string_view line) {
    return absl::StartsWith(line, "//   ");
  };
  std::vector<std::vector<std::string>> blocks;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (lines[i] != "//" || !is_code(lines[i + 1])) continue;
    std::vector<std::string> block;
    size_t j = i + 1;
    for (; j < lines.size() && (is_code(lines[j]) || lines[j] == "//"); ++j) {
      block.emplace_back(lines[j] == "//" ? "" : lines[j].substr(5));
    }
    while (!block.empty() && block.back().empty()) block.pop_back();
    blocks.push_back(std::move(block));
    i = j - 1;
  }
  return blocks;
}

// Whether `source` holds `block` as lines in a row, all indented alike.
bool ContainsBlock(absl::string_view source,
                   const std::vector<std::string>& block) {
  const std::vector<absl::string_view> lines = absl::StrSplit(source, '\n');
  for (size_t i = 0; i + block.size() <= lines.size(); ++i) {
    if (!absl::EndsWith(lines[i], block[0])) continue;
    const absl::string_view indent =
        lines[i].substr(0, lines[i].size() - block[0].size());
    if (indent.find_first_not_of(' ') != absl::string_view::npos) continue;
    bool all = true;
    for (size_t k = 1; k < block.size() && all; ++k) {
      all = block[k].empty() ? lines[i + k].empty()
                             : lines[i + k] == absl::StrCat(indent, block[k]);
    }
    if (all) return true;
  }
  return false;
}

// Which file holds the examples of each header (a path below sandbox/):
// every public one, and internal ones whose examples are tested too.
const std::map<std::string, std::string>& ExampleSources() {
  static const auto* sources = new std::map<std::string, std::string>{
      {"command.h", "tests/header_examples_test.cc"},
      {"comms.h", "tests/header_examples_test.cc"},
      {"fd.h", "tests/header_examples_test.cc"},
      {"input_worker.h", "tests/input_worker_header_example.cc"},
      {"learn.h", "tests/header_examples_test.cc"},
      {"oci_seccomp.h", "tests/header_examples_test.cc"},
      {"policy.h", "tests/header_examples_test.cc"},
      {"policy_builder.h", "tests/header_examples_test.cc"},
      {"prewarm.h", "tests/header_examples_test.cc"},
      {"sandbox.h", "tests/header_examples_test.cc"},
      {"status_macros.h", "tests/header_examples_test.cc"},
      {"worker.h", "tests/worker_header_example.cc"},
      {"internal/bpf_evaluator.h", "tests/header_examples_test.cc"},
      {"internal/cgroup.h", "tests/header_examples_test.cc"},
      {"internal/result.h", "tests/header_examples_test.cc"},
      {"internal/seccomp_compiler.h", "tests/header_examples_test.cc"},
      {"internal/util.h", "tests/header_examples_test.cc"},
      {"internal/wipe.h", "tests/header_examples_test.cc"},
  };
  return *sources;
}

// Checks that every example of sandbox/`header` appears in the file
// ExampleSources() names, and returns how many there are.
size_t ExpectExamplesTested(const std::string& header) {
  const std::string text = ReadText(SourceDir() + "/sandbox/" + header);
  EXPECT_FALSE(text.empty()) << "cannot read sandbox/" << header;
  const std::vector<std::vector<std::string>> blocks = ExampleBlocks(text);
  if (blocks.empty()) return 0;
  auto source = ExampleSources().find(header);
  if (source == ExampleSources().end()) {
    ADD_FAILURE() << "sandbox/" << header << " has " << blocks.size()
                  << " example(s) and no test: add it to ExampleSources()";
    return blocks.size();
  }
  const std::string code = ReadText(SourceDir() + "/" + source->second);
  for (const std::vector<std::string>& block : blocks) {
    EXPECT_TRUE(ContainsBlock(code, block))
        << "this example of sandbox/" << header << " is not in "
        << source->second << " word for word:\n"
        << absl::StrJoin(block, "\n");
  }
  return blocks.size();
}

// The headers sandbox/CMakeLists.txt installs: its SANDBOX_PUBLIC_HEADERS.
std::vector<std::string> PublicHeaders() {
  const std::string cmake = ReadText(SourceDir() + "/sandbox/CMakeLists.txt");
  const size_t begin = cmake.find("set(SANDBOX_PUBLIC_HEADERS");
  const size_t end = cmake.find(')', begin);
  std::vector<std::string> headers;
  if (begin == std::string::npos || end == std::string::npos) return headers;
  for (absl::string_view word :
       absl::StrSplit(cmake.substr(begin, end - begin), absl::ByAnyChar(" \n"),
                      absl::SkipEmpty())) {
    if (absl::EndsWith(word, ".h")) headers.emplace_back(word);
  }
  return headers;
}

TEST(HeaderExamplesTest, TheExtractorFindsBlocksAndNothingElse) {
  const std::vector<std::vector<std::string>> blocks = ExampleBlocks(
      "// Prose.\n"
      "//\n"
      "//   int a = 1;\n"
      "//\n"
      "//   if (a) {\n"
      "//     a = 2;\n"
      "//   }\n"
      "//\n"
      "// A table is not code:\n"
      "//   kName   what it is\n"
      "  //\n"
      "  //   Indented(comment);\n");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0], (std::vector<std::string>{"int a = 1;", "", "if (a) {",
                                                 "  a = 2;", "}"}));
  EXPECT_EQ(blocks[1], std::vector<std::string>{"Indented(comment);"});
  EXPECT_TRUE(ContainsBlock("x\n  int a = 1;\n\n  if (a) {\n    a = 2;\n  }\n",
                            blocks[0]));
  EXPECT_FALSE(
      ContainsBlock("  int a = 1;\n  if (a) {\n    a = 2;\n  }\n", blocks[0]));
  EXPECT_FALSE(
      ContainsBlock("  int a = 1;\n\n if (a) {\n    a = 2;\n  }\n", blocks[0]));
}

TEST(HeaderExamplesTest, EveryPublicHeaderExampleIsTested) {
  const std::vector<std::string> headers = PublicHeaders();
  ASSERT_GE(headers.size(), 5u)
      << "no set(SANDBOX_PUBLIC_HEADERS ...) in sandbox/CMakeLists.txt";
  size_t examples = 0;
  for (const std::string& header : headers) {
    examples += ExpectExamplesTested(header);
  }
  EXPECT_GE(examples, headers.size());
}

// Runs `body` with the working directory at the top of the source tree (an
// example names a path relative to it), then goes back.
template <typename Body>
void InSourceDir(Body body) {
  char previous[PATH_MAX];
  ASSERT_NE(getcwd(previous, sizeof(previous)), nullptr);
  ASSERT_EQ(chdir(SourceDir().c_str()), 0) << strerror(errno);
  body();
  ASSERT_EQ(chdir(previous), 0) << strerror(errno);
}

uint32_t Evaluate(const Policy& policy, int nr, uint64_t arg0 = 0) {
  struct seccomp_data data = {};
  data.nr = nr;
  data.arch = AUDIT_ARCH_X86_64;
  data.args[0] = arg0;
  return EvaluateSeccomp(internal::StateOf(policy).seccomp.instructions, data);
}

Policy DefaultPolicy() {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::Default();
  EXPECT_THAT(builder, IsOk());
  if (!builder.ok()) return PolicyBuilder().Build().value();
  absl::StatusOr<Policy> policy = builder->Build();
  EXPECT_THAT(policy, IsOk());
  return *std::move(policy);
}

// --- sandbox/sandbox.h ---

absl::StatusOr<proto::Result> SandboxHeaderExample(const std::string& path) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(PolicyBuilder builder,
                       PolicyBuilder::FromTextFile(path));
  SBX_ASSIGN_OR_RETURN(Policy policy, builder.Build());
  Command command{.argv = {"/bin/echo", "hello"}, .inherit_stdio = true};
  SBX_ASSIGN_OR_RETURN(proto::Result result, Run(policy, command));
  if (result.status() == proto::Result::VIOLATION) {
    // "forbidden: openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY)"
    std::fprintf(stderr, "forbidden: %s\n",
                 result.violation().decoded().c_str());
  }
  // clang-format on
  return result;
}

TEST(HeaderExamplesTest, SandboxRunsEchoUnderThePolicyOfAFile) {
  EXPECT_EQ(ExpectExamplesTested("sandbox.h"), 2u);
  absl::StatusOr<proto::Result> result =
      SandboxHeaderExample(SourceDir() + "/policies/default.textproto");
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
  EXPECT_EQ(result->exit_code(), 0);
  EXPECT_THAT(SandboxHeaderExample("/nonexistent/policy.textproto"),
              StatusIs(absl::StatusCode::kNotFound));
}

absl::StatusOr<CapturedRun> RunCapturingOutputHeaderExample(
    const Policy& policy) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(CapturedRun run,
                       RunCapturingOutput(policy, {.argv = {"/bin/cat"}},
                                          {.stdin_data = "hello"}));
  // run.stdout_data == "hello"
  // clang-format on
  return run;
}

TEST(HeaderExamplesTest, SandboxCapturesWhatCatGivesBack) {
  absl::StatusOr<CapturedRun> run =
      RunCapturingOutputHeaderExample(DefaultPolicy());
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->result.status(), proto::Result::OK)
      << run->result.DebugString();
  EXPECT_EQ(run->stdout_data, "hello");
  EXPECT_EQ(run->stderr_data, "");
}

// --- sandbox/prewarm.h ---

absl::StatusOr<proto::Result> PrewarmHeaderExample(const Policy& policy) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<PrewarmPool> pool,
                       Prewarm(policy, 2));
  // Later, as often as needed:
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                       pool->Spawn({.argv = {"/bin/echo", "hello"},
                                    .inherit_stdio = true}));
  SBX_ASSIGN_OR_RETURN(proto::Result result, sandbox->Wait());
  // clang-format on
  EXPECT_EQ(pool->stats().prewarmed, 1u);
  return result;
}

TEST(HeaderExamplesTest, PrewarmRunsEchoInAReadySandbox) {
  EXPECT_EQ(ExpectExamplesTested("prewarm.h"), 1u);
  absl::StatusOr<proto::Result> result = PrewarmHeaderExample(DefaultPolicy());
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
  EXPECT_EQ(result->exit_code(), 0);
}

// --- sandbox/policy.h ---

absl::StatusOr<Policy> PolicyHeaderExample() {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(sandbox::Policy policy,
                       sandbox::PolicyBuilder()
                           .AddBind("/usr")
                           .AllowSyscalls({"read", "write", "exit_group"})
                           .Build());
  // clang-format on
  return policy;
}

TEST(HeaderExamplesTest, PolicyAllowsWhatItListsAndNothingElse) {
  EXPECT_EQ(ExpectExamplesTested("policy.h"), 1u);
  absl::StatusOr<Policy> policy = PolicyHeaderExample();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(Evaluate(*policy, __NR_write), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Evaluate(*policy, __NR_exit_group), SECCOMP_RET_ALLOW);
  EXPECT_NE(Evaluate(*policy, __NR_openat), SECCOMP_RET_ALLOW);
  // Not even execve: the sandbox makes the program's own, and a program
  // started under it is a violation at its first call of its own (the
  // static testee: no loader to bind).
  EXPECT_EQ(Evaluate(*policy, __NR_execve), SECCOMP_RET_USER_NOTIF);
  absl::StatusOr<Policy> runnable =
      PolicyBuilder()
          .AddBind("/usr")
          .AllowSyscalls({"read", "write", "exit_group"})
          .AddBind(testing::TesteePath(), "/testee", MountMode::kReadOnly,
                   SymlinkMode::kFollow)
          .Build();
  ASSERT_THAT(runnable, IsOk());
  absl::StatusOr<proto::Result> result =
      sandbox::Run(*runnable, Command{.argv = {"/testee", "exit", "0"}});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::VIOLATION)
      << result->DebugString();
  EXPECT_NE(result->violation().syscall(), "execve");
  EXPECT_NE(result->violation().syscall(), "");
}

// --- sandbox/policy_builder.h ---

struct PolicyBuilderExample {
  absl::StatusOr<Policy> policy;
  absl::StatusOr<PolicyBuilder> from_file;
};

PolicyBuilderExample PolicyBuilderHeaderExample() {
  // clang-format off
  absl::StatusOr<Policy> policy =
      PolicyBuilder()
          .AddBind("/usr")                                // read-only
          .AddTmpfs("/tmp", 64 << 20)
          .AllowSyscalls({"read", "write", "exit_group"})
          .AllowSyscall("socket", {Arg(0) == AF_UNIX})
          .BlockSyscallWithErrno("openat", EACCES)
          .SetWallTime(absl::Seconds(10))
          .Build();

  absl::StatusOr<PolicyBuilder> from_file =
      PolicyBuilder::FromTextFile("policies/default.textproto");
  // clang-format on
  return {std::move(policy), std::move(from_file)};
}

TEST(HeaderExamplesTest, PolicyBuilderBuildsFromCodeAndFromAFile) {
  EXPECT_EQ(ExpectExamplesTested("policy_builder.h"), 1u);
  PolicyBuilderExample example;
  InSourceDir([&] { example = PolicyBuilderHeaderExample(); });
  ASSERT_THAT(example.policy, IsOk());
  const Policy& policy = *example.policy;
  EXPECT_EQ(Evaluate(policy, __NR_socket, AF_UNIX), SECCOMP_RET_ALLOW);
  EXPECT_NE(Evaluate(policy, __NR_socket, AF_INET), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Evaluate(policy, __NR_openat), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(policy.proto().limits().wall_time_seconds(), 10);

  ASSERT_THAT(example.from_file, IsOk());
  absl::StatusOr<Policy> from_file = example.from_file->Build();
  ASSERT_THAT(from_file, IsOk());
  absl::StatusOr<proto::Result> result =
      sandbox::Run(*from_file, Command{.argv = {"/bin/true"}});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
}

// --- sandbox/learn.h ---

absl::StatusOr<LearnedPolicy> LearnHeaderExample() {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(PolicyBuilder base, PolicyBuilder::Default());
  proto::Seccomp nothing;  // start with no system call allowed
  nothing.set_default_action(proto::Seccomp::KILL);
  base.SetSeccomp(nothing);
  SBX_ASSIGN_OR_RETURN(
      LearnedPolicy learned,
      Learn(base, Command{.argv = {"/usr/bin/file", "/usr/bin/ls"}}));
  // learned.text: the base, plus groups and rules commented with what
  // was seen. Another input, merged into the same file:
  SBX_ASSIGN_OR_RETURN(PolicyBuilder again,
                       PolicyBuilder::FromText(learned.text));
  SBX_ASSIGN_OR_RETURN(
      learned, Learn(again, Command{.argv = {"/usr/bin/file", "/usr/share"}},
                     {.previous = learned.text}));
  // clang-format on
  return learned;
}

TEST(HeaderExamplesTest, LearnWritesAPolicyAndMergesASecondRun) {
  EXPECT_EQ(ExpectExamplesTested("learn.h"), 1u);
  absl::StatusOr<LearnedPolicy> learned = LearnHeaderExample();
  ASSERT_THAT(learned, IsOk());
  EXPECT_EQ(learned->run, 2);
  EXPECT_THAT(learned->text, HasSubstr("# run 1: /usr/bin/file /usr/bin/ls"));
  EXPECT_THAT(learned->text, HasSubstr("# run 2: /usr/bin/file /usr/share"));
  EXPECT_THAT(learned->text, HasSubstr("allow_groups: DYNAMIC_STARTUP"));
  // What it wrote runs file on a third input.
  absl::StatusOr<PolicyBuilder> learned_policy =
      PolicyBuilder::FromText(learned->text);
  ASSERT_THAT(learned_policy, IsOk());
  absl::StatusOr<Policy> policy = learned_policy->Build();
  ASSERT_THAT(policy, IsOk());
  absl::StatusOr<proto::Result> result =
      sandbox::Run(*policy, Command{.argv = {"/usr/bin/file", "/usr/bin"}});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
}

// --- sandbox/oci_seccomp.h ---

absl::StatusOr<std::pair<Policy, std::string>> OciSeccompHeaderExample(
    const std::string& json) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(OciSeccompImport profile, ImportOciSeccomp(json));
  for (const std::string& note : profile.notes) {
    std::fprintf(stderr, "seccomp profile: %s\n", note.c_str());
  }
  SBX_ASSIGN_OR_RETURN(PolicyBuilder builder, PolicyBuilder::Default());
  SBX_ASSIGN_OR_RETURN(
      Policy policy, builder.SetSeccomp(std::move(profile.seccomp)).Build());
  SBX_ASSIGN_OR_RETURN(std::string exported,
                       ExportOciSeccomp(policy.proto().seccomp()));
  // clang-format on
  return std::make_pair(std::move(policy), std::move(exported));
}

TEST(HeaderExamplesTest, OciSeccompImportsDockersProfileAndExportsIt) {
  EXPECT_EQ(ExpectExamplesTested("oci_seccomp.h"), 1u);
  absl::StatusOr<std::pair<Policy, std::string>> example =
      OciSeccompHeaderExample(
          ReadText(SourceDir() + "/tests/data/docker-default-seccomp.json"));
  ASSERT_THAT(example, IsOk());
  EXPECT_EQ(Evaluate(example->first, __NR_get_mempolicy),
            SECCOMP_RET_ERRNO | EPERM);
  absl::StatusOr<proto::Result> result = sandbox::Run(
      example->first, Command{.argv = {"/bin/sh", "-c", "echo hi | wc -c"}});
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
  EXPECT_THAT(example->second, HasSubstr("\"defaultErrnoRet\": 1"));
  EXPECT_THAT(OciSeccompHeaderExample("{\"defaultAction\": \"SCMP_ACT_FOO\"}"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("defaultAction: unknown action")));
}

// --- sandbox/command.h ---

Command CommandHeaderExample(int output_fd) {
  // clang-format off
  Command command{.argv = {"/bin/sh", "-c", "echo hi"}};
  command.fds.push_back({.host_fd = output_fd, .sandbox_fd = 1});
  // clang-format on
  return command;
}

TEST(HeaderExamplesTest, CommandGivesTheSandboxOnlyTheMappedDescriptor) {
  EXPECT_EQ(ExpectExamplesTested("command.h"), 1u);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  absl::StatusOr<proto::Result> result =
      sandbox::Run(DefaultPolicy(), CommandHeaderExample(write_end.get()));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK) << result->DebugString();
  write_end.reset();
  char buffer[16] = {};
  EXPECT_EQ(read(read_end.get(), buffer, sizeof(buffer)), 3);
  EXPECT_STREQ(buffer, "hi\n");
}

// --- sandbox/comms.h ---

// The child's side of the first example: answers the request with a reply,
// a descriptor and a status.
absl::Status Answer(Comms& comms) {
  proto::Policy request;
  SBX_RETURN_IF_ERROR(comms.RecvProto(&request));
  proto::Policy reply;
  reply.set_name(absl::StrCat("re: ", request.name()));
  SBX_RETURN_IF_ERROR(comms.SendProto(reply));
  UniqueFd null(open("/dev/null", O_WRONLY | O_CLOEXEC));
  SBX_RETURN_IF_ERROR(comms.SendFd(null.get()));
  return comms.SendStatus(absl::NotFoundError("no such page"));
}

struct CommsExample {
  pid_t child = -1;
  std::string reply_name;
  bool got_fd = false;
  absl::Status remote;
};

absl::StatusOr<CommsExample> CommsHeaderExample(const proto::Policy& request) {
  proto::Policy reply;
  // clang-format off
  absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair();
  if (!pair.ok()) return pair.status();
  auto& [host, sandboxee] = *pair;
  // The child answers on `sandboxee`, the parent asks on `host`.
  const pid_t child = fork();
  if (child == 0) _exit(Answer(sandboxee).ok() ? 0 : 1);
  SBX_RETURN_IF_ERROR(host.SendProto(request));
  SBX_RETURN_IF_ERROR(host.RecvProto(&reply));
  SBX_ASSIGN_OR_RETURN(UniqueFd output, host.RecvFd());
  SBX_ASSIGN_OR_RETURN(absl::Status remote, host.RecvStatus());
  // clang-format on
  return CommsExample{child, reply.name(), output.valid(), remote};
}

absl::Status SharedRegionHeaderExample(Comms& comms, const void* input,
                                       size_t n) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(SharedRegion region, SharedRegion::Create(32 << 20));
  SBX_RETURN_IF_ERROR(comms.SendRegion(region));     // once
  memcpy(region.data(), input, n);                   // per transfer
  SBX_RETURN_IF_ERROR(comms.SendString(absl::StrCat(n)));
  // clang-format on
  return absl::OkStatus();
}

absl::Status RecvStatusHeaderExample(Comms& comms) {
  // clang-format off
  absl::StatusOr<absl::Status> remote = comms.RecvStatus();
  if (!remote.ok()) return remote.status();  // the channel failed
  if (!remote->ok()) return *remote;          // the peer reported this
  // clang-format on
  return absl::OkStatus();
}

TEST(HeaderExamplesTest, CommsCarriesAProtoAnFdAndAStatusToAChild) {
  EXPECT_EQ(ExpectExamplesTested("comms.h"), 3u);
  proto::Policy request;
  request.set_name("ping");
  absl::StatusOr<CommsExample> example = CommsHeaderExample(request);
  ASSERT_THAT(example, IsOk());
  ASSERT_GT(example->child, 0);
  int status = 0;
  ASSERT_EQ(waitpid(example->child, &status, 0), example->child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(example->reply_name, "re: ping");
  EXPECT_TRUE(example->got_fd);
  EXPECT_THAT(example->remote,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no such page")));
}

TEST(HeaderExamplesTest, CommsSharesARegionWithItsPeer) {
  absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair();
  ASSERT_THAT(pair, IsOk());
  const std::string input = "bytes [0, n) are ready";
  ASSERT_THAT(
      SharedRegionHeaderExample(pair->first, input.data(), input.size()),
      IsOk());
  // The peer maps the same memory, whose bytes outlive the sender's
  // mapping.
  absl::StatusOr<SharedRegion> region = pair->second.RecvRegion();
  ASSERT_THAT(region, IsOk());
  EXPECT_EQ(region->size(), size_t{32} << 20);
  absl::StatusOr<std::string> n = pair->second.RecvString();
  ASSERT_THAT(n, IsOk());
  EXPECT_EQ(*n, absl::StrCat(input.size()));
  EXPECT_EQ(
      std::string(reinterpret_cast<const char*>(region->data()), input.size()),
      input);
}

TEST(HeaderExamplesTest, CommsTellsAPeersStatusFromAFailedChannel) {
  absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair();
  ASSERT_THAT(pair, IsOk());
  auto& [mine, peer] = *pair;
  ASSERT_THAT(peer.SendStatus(absl::OkStatus()), IsOk());
  EXPECT_THAT(RecvStatusHeaderExample(mine), IsOk());
  ASSERT_THAT(peer.SendStatus(absl::PermissionDeniedError("not yours")),
              IsOk());
  EXPECT_THAT(
      RecvStatusHeaderExample(mine),
      StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("not yours")));
  peer = Comms(UniqueFd(), SOCK_STREAM);  // closes the peer's end
  EXPECT_THAT(RecvStatusHeaderExample(mine),
              StatusIs(absl::StatusCode::kUnavailable));
}

// --- sandbox/fd.h ---

absl::StatusOr<std::string> FdHeaderExample(const char* path) {
  // clang-format off
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(absl::StrCat("open(", path, ")"));
  char buffer[4096];
  const ssize_t n = read(fd.get(), buffer, sizeof(buffer));
  // ... and closed when `fd` goes out of scope.
  // clang-format on
  if (n < 0) return ErrnoStatus("read");
  return std::string(buffer, n);
}

TEST(HeaderExamplesTest, UniqueFdReadsAFileAndNamesTheOpenThatFailed) {
  EXPECT_EQ(ExpectExamplesTested("fd.h"), 1u);
  EXPECT_THAT(FdHeaderExample("/proc/self/comm"), IsOk());
  EXPECT_THAT(
      FdHeaderExample("/nonexistent"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("open(/nonexistent)")));
}

// --- sandbox/status_macros.h ---

absl::Status WriteFile(const std::string& path, absl::string_view contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("writing ", path));
  return absl::OkStatus();
}

absl::StatusOr<int> OpenDir(const std::string& path) {
  const int fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(absl::StrCat("open(", path, ")"));
  return fd;
}

absl::StatusOr<int> StatusMacrosHeaderExample(const std::string& path,
                                              const std::string& dir,
                                              const std::string& p) {
  // clang-format off
  SBX_RETURN_IF_ERROR(WriteFile(path, "1"));
  SBX_ASSIGN_OR_RETURN(int fd, OpenDir(dir));
  if (mkdir(p.c_str(), 0755) != 0) return ErrnoStatus("mkdir(" + p + ")");
  // clang-format on
  return fd;
}

TEST(HeaderExamplesTest, StatusMacrosReturnTheFirstError) {
  EXPECT_EQ(ExpectExamplesTested("status_macros.h"), 1u);
  char top[] = "/tmp/sandbox-header-example-XXXXXX";
  ASSERT_NE(mkdtemp(top), nullptr);
  const std::string file = absl::StrCat(top, "/file");
  const std::string made = absl::StrCat(top, "/made");
  // Each step's error, the first that fails.
  EXPECT_THAT(
      StatusMacrosHeaderExample(absl::StrCat(top, "/no/file"), top, made),
      StatusIs(absl::StatusCode::kInternal, HasSubstr("/no/file")));
  EXPECT_THAT(StatusMacrosHeaderExample(file, file, made),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("open(" + file + ")")));
  absl::StatusOr<int> fd = StatusMacrosHeaderExample(file, top, made);
  ASSERT_THAT(fd, IsOk());
  close(*fd);
  EXPECT_EQ(ReadText(file), "1");
  struct stat st;
  EXPECT_EQ(stat(made.c_str(), &st), 0);
  EXPECT_THAT(StatusMacrosHeaderExample(file, top, made),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("mkdir(" + made + ")")));
  unlink(file.c_str());
  rmdir(made.c_str());
  rmdir(top);
}

// --- sandbox/internal/util.h ---

struct UtilExample {
  absl::StatusOr<uint64_t> bytes;
  absl::StatusOr<int> eperm;
  std::string name;
};

UtilExample UtilHeaderExample() {
  // clang-format off
  absl::StatusOr<uint64_t> bytes = ParseSize("64M");  // 67108864
  absl::StatusOr<int> eperm = ParseErrno("EPERM");     // 1
  std::string name = ErrnoName(ENOENT);                // "ENOENT"
  // clang-format on
  return {bytes, eperm, name};
}

TEST(HeaderExamplesTest, UtilGivesWhatTheCommentsSay) {
  EXPECT_EQ(ExpectExamplesTested("internal/util.h"), 1u);
  const UtilExample example = UtilHeaderExample();
  ASSERT_THAT(example.bytes, IsOk());
  EXPECT_EQ(*example.bytes, 67108864u);
  ASSERT_THAT(example.eperm, IsOk());
  EXPECT_EQ(*example.eperm, 1);
  EXPECT_EQ(example.name, "ENOENT");
}

// --- sandbox/internal/seccomp_compiler.h ---

absl::StatusOr<SeccompProgram> SeccompCompilerHeaderExample(
    const proto::Policy& policy) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(
      SeccompProgram program,
      CompileSeccomp(policy.seccomp(), {.bootstrap_fd = 1024}));
  // clang-format on
  return program;
}

TEST(HeaderExamplesTest, SeccompCompilerLeavesTheBootstrapHole) {
  EXPECT_EQ(ExpectExamplesTested("internal/seccomp_compiler.h"), 1u);
  absl::StatusOr<SeccompProgram> program =
      SeccompCompilerHeaderExample(DefaultPolicy().proto());
  ASSERT_THAT(program, IsOk());
  EXPECT_TRUE(program->uses_notify);
  struct seccomp_data data = {};
  data.arch = AUDIT_ARCH_X86_64;
  data.nr = __NR_sendmsg;
  data.args[0] = 1024;
  EXPECT_EQ(EvaluateSeccomp(program->instructions, data), SECCOMP_RET_ALLOW);
  data.nr = __NR_ptrace;
  data.args[0] = 0;
  EXPECT_NE(EvaluateSeccomp(program->instructions, data), SECCOMP_RET_ALLOW);
}

// --- sandbox/internal/bpf_evaluator.h ---

void BpfEvaluatorHeaderExample(const Policy& policy) {
  // clang-format off
  struct seccomp_data data = {};
  data.nr = __NR_socket;
  data.arch = AUDIT_ARCH_X86_64;
  data.args[0] = AF_UNIX;
  EXPECT_EQ(EvaluateSeccomp(StateOf(policy).seccomp.instructions, data),
            SECCOMP_RET_ALLOW);
  // clang-format on
}

TEST(HeaderExamplesTest, BpfEvaluatorRunsAPolicysFilter) {
  EXPECT_EQ(ExpectExamplesTested("internal/bpf_evaluator.h"), 1u);
  absl::StatusOr<Policy> policy =
      PolicyBuilder().AllowSyscall("socket", {Arg(0) == AF_UNIX}).Build();
  ASSERT_THAT(policy, IsOk());
  BpfEvaluatorHeaderExample(*policy);
  // And only what the rule says.
  struct seccomp_data data = {};
  data.nr = __NR_socket;
  data.arch = AUDIT_ARCH_X86_64;
  data.args[0] = AF_INET;
  EXPECT_NE(EvaluateSeccomp(StateOf(*policy).seccomp.instructions, data),
            SECCOMP_RET_ALLOW);
}

// --- sandbox/internal/cgroup.h ---

// A child that waits for a byte on `go` and exits 0; Release sends it,
// Reap waits for it.
struct WaitingChild {
  pid_t pid = -1;
  int go = -1;
  operator pid_t() const { return pid; }
};
void Release(const WaitingChild& child) {
  const char byte = 1;
  EXPECT_EQ(write(child.go, &byte, 1), 1);
}
void Reap(const WaitingChild& child) {
  int status = 0;
  EXPECT_EQ(waitpid(child.pid, &status, 0), child.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

absl::StatusOr<CgroupUsage> CgroupHeaderExample(const WaitingChild& child) {
  // clang-format off
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Cgroup> cgroup,
                       Cgroup::Create({.memory_bytes = 64 << 20,
                                       .pids = 16}));
  // The child waits until it is in (v1; on v2 clone3 can start it there
  // with CLONE_INTO_CGROUP and cgroup->clone_into_fd()).
  SBX_RETURN_IF_ERROR(cgroup->AddProcess(child));
  Release(child);
  Reap(child);
  SBX_ASSIGN_OR_RETURN(CgroupUsage usage, cgroup->ReadUsage());
  // Kills what is left; keeps the cgroup as a spare for the next Create
  // with the same limits (v1, if every check passes) or removes it, as
  // cgroup.reset() always does.
  Cgroup::Release(std::move(cgroup)).IgnoreError();
  // clang-format on
  return usage;
}

TEST(HeaderExamplesTest, CgroupHoldsAChildAndReportsItsUsage) {
  EXPECT_EQ(ExpectExamplesTested("internal/cgroup.h"), 1u);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  WaitingChild child;
  child.go = pipe_fds[1];
  child.pid = fork();
  ASSERT_GE(child.pid, 0);
  if (child.pid == 0) {
    char byte;
    _exit(read(pipe_fds[0], &byte, 1) == 1 ? 0 : 1);
  }
  close(pipe_fds[0]);
  absl::StatusOr<CgroupUsage> usage = CgroupHeaderExample(child);
  if (!usage.ok()) {
    // Without a delegated cgroup (the unprivileged pass): refused with the
    // reason, and the child never placed; let it go.
    EXPECT_FALSE(testing::IsRoot()) << usage.status();
    EXPECT_THAT(usage, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("delegat")));
    Release(child);
    Reap(child);
  } else {
    EXPECT_FALSE(usage->memory_limit_hit);
    EXPECT_FALSE(usage->pids_limit_hit);
  }
  close(pipe_fds[1]);
}

// --- sandbox/internal/result.h ---

proto::Result ResultHeaderExample(int status) {
  proto::Result result;
  // clang-format off
  OutcomeFacts facts;
  facts.wait_status = status;  // from waitid, or our init's report
  facts.timed_out = true;
  ClassifyOutcome(facts, result);  // result.status() == TIMEOUT
  // clang-format on
  return result;
}

TEST(HeaderExamplesTest, ResultClassifiesAKillAfterTheDeadlineAsTimeout) {
  EXPECT_EQ(ExpectExamplesTested("internal/result.h"), 1u);
  EXPECT_EQ(ResultHeaderExample(W_EXITCODE(0, SIGKILL)).status(),
            proto::Result::TIMEOUT);
}

// --- sandbox/internal/wipe.h ---

TEST(HeaderExamplesTest, WipeLeavesNothingOfTheRequest) {
  EXPECT_EQ(ExpectExamplesTested("internal/wipe.h"), 1u);
  proto::SpawnRequest sent;
  sent.add_argv("/bin/secret-program");
  std::string wire = sent.SerializeAsString();
  char* buffer = wire.data();
  const int size = static_cast<int>(wire.size());
  std::string served;
  auto Serve = [&](const proto::SpawnRequest& request) {
    served = request.argv(0);
  };
  // clang-format off
  proto::SpawnRequest request;
  request.ParseFromArray(buffer, size);
  WipeBytes(buffer, size);               // the wire bytes, once parsed
  Serve(request);
  WipeStrings(*request.mutable_argv());  // before the message frees them
  // clang-format on
  EXPECT_EQ(served, "/bin/secret-program");
  EXPECT_EQ(wire, std::string(wire.size(), '\0'));
  ASSERT_EQ(request.argv_size(), 1);
  EXPECT_EQ(request.argv(0).find("secret"), std::string::npos);
}

// --- sandbox/worker.h (tests/worker_header_example.cc) ---

TEST(HeaderExamplesTest, WorkerParsesInAZygoteWorkerThatLocksItselfDown) {
  EXPECT_EQ(ExpectExamplesTested("worker.h"), 1u);
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  char dir[] = "/tmp/sandbox-worker-example-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string png = absl::StrCat(dir, "/image.png");
  const std::string text = absl::StrCat(dir, "/notes.txt");
  std::ofstream(png, std::ios::binary)
      << std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  std::ofstream(text, std::ios::binary) << "not an image\n";
  const std::string program = BinDir() + "/worker_header_example";
  ProgramRun run = RunHostProgram(program, {png});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "OK, exit code 0\n");
  run = RunHostProgram(program, {text});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "OK, exit code 2\n");
  unlink(png.c_str());
  unlink(text.c_str());
  rmdir(dir);
}

// --- sandbox/input_worker.h (tests/input_worker_header_example.cc) ---

TEST(HeaderExamplesTest, InputWorkerKeepsTheInputThatCrashesAndGoesOn) {
  EXPECT_EQ(ExpectExamplesTested("input_worker.h"), 1u);
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  char dir[] = "/tmp/sandbox-input-worker-example-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string corpus = absl::StrCat(dir, "/corpus");
  std::ofstream(corpus) << "fine\n!boom\nalso fine\n!bang\n";
  ProgramRun run =
      RunHostProgram(BinDir() + "/input_worker_header_example", {corpus});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "kept !boom\nkept !bang\n");
  unlink(corpus.c_str());
  rmdir(dir);
}

}  // namespace
}  // namespace sandbox
