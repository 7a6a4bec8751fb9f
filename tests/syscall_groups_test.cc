// The system call groups: the table itself, its rendering in
// policies/GROUPS.md, that the report's groups agree with the compiled
// filter, each group against the real kernel, and the program's own first
// execve that the sandbox allows by itself.

#include "sandbox/internal/syscall_groups.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/syscall.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/policy_builder.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::testing::Contains;
using ::testing::HasSubstr;

std::vector<proto::SyscallGroup> AllGroups() {
  std::vector<proto::SyscallGroup> groups;
  for (int value = proto::SyscallGroup_MIN + 1;
       value <= proto::SyscallGroup_MAX; ++value) {
    if (proto::SyscallGroup_IsValid(value)) {
      groups.push_back(static_cast<proto::SyscallGroup>(value));
    }
  }
  return groups;
}

TEST(SyscallGroupsTest, EveryGroupIsDefinedOnceAndCompilesAlone) {
  absl::StatusOr<const proto::SyscallGroupTable*> table =
      internal::SyscallGroups();
  ASSERT_THAT(table, IsOk());
  EXPECT_EQ(static_cast<size_t>((*table)->groups_size()), AllGroups().size());
  for (proto::SyscallGroup group : AllGroups()) {
    const proto::SyscallGroupDefinition* definition =
        internal::FindGroup(group);
    ASSERT_NE(definition, nullptr) << proto::SyscallGroup_Name(group);
    EXPECT_FALSE(definition->summary().empty());
    EXPECT_FALSE(definition->notes().empty());
    proto::Seccomp seccomp;
    seccomp.add_allow_groups(group);
    // Unknown or misspelled names, deny-list calls and conflicting rules
    // all fail here.
    EXPECT_THAT(CompileSeccomp(seccomp, {}), IsOk())
        << proto::SyscallGroup_Name(group);
  }
  EXPECT_EQ(internal::FindGroup(proto::SYSCALL_GROUP_UNSPECIFIED), nullptr);
}

TEST(SyscallGroupsTest, GroupsMarkdownIsGeneratedFromTheTable) {
  std::ifstream file(testing::SourceDir() + "/policies/GROUPS.md");
  std::stringstream text;
  text << file.rdbuf();
  EXPECT_EQ(text.str(), internal::GroupsMarkdown())
      << "policies/GROUPS.md is out of date: regenerate it with "
         "build/bin/sandbox-run --groups > policies/GROUPS.md";
  for (proto::SyscallGroup group : AllGroups()) {
    EXPECT_THAT(text.str(), HasSubstr(absl::StrCat(
                                "## ", proto::SyscallGroup_Name(group))));
  }
}

TEST(SyscallGroupsTest, AnUnknownGroupIsNamedByItsField) {
  proto::Seccomp seccomp;
  seccomp.add_allow_groups(proto::STDIO);
  seccomp.add_allow_groups(static_cast<proto::SyscallGroup>(999));
  absl::StatusOr<SeccompProgram> program = CompileSeccomp(seccomp, {});
  ASSERT_FALSE(program.ok());
  EXPECT_THAT(program.status().message(),
              HasSubstr("seccomp.allow_groups[1]: no such group (999)"));
  // A text policy is checked by its parser, with line and column.
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromText(
      "seccomp {\n  allow_groups: [STDIO, STDOI]\n}\n", "typo.textproto");
  ASSERT_FALSE(builder.ok());
  EXPECT_THAT(builder.status().message(), HasSubstr("typo.textproto:2:"));
  EXPECT_THAT(builder.status().message(), HasSubstr("STDOI"));
}

// What a violation report names as allowing a call is what the compiled
// group really allows: random arguments around the table's constants, for
// every call any group names.
TEST(SyscallGroupsTest, ReportedGroupsAgreeWithTheCompiledFilter) {
  std::mt19937_64 random(7);
  const std::vector<uint64_t> interesting = {0,
                                             1,
                                             2,
                                             3,
                                             4,
                                             6,
                                             10,
                                             15,
                                             16,
                                             22,
                                             0x40,
                                             0x200,
                                             0x243,
                                             0x1000,
                                             0x1001,
                                             0x1002,
                                             0x10000,
                                             0x10100,
                                             0x10243,
                                             0x5401,
                                             0x541B,
                                             0x5412,
                                             0xF000,
                                             0xffffffffull,
                                             0x100000002ull,
                                             ~uint64_t{0}};
  for (proto::SyscallGroup group : AllGroups()) {
    const std::string name = proto::SyscallGroup_Name(group);
    proto::Seccomp seccomp;
    seccomp.add_allow_groups(group);
    absl::StatusOr<SeccompProgram> program = CompileSeccomp(seccomp, {});
    ASSERT_THAT(program, IsOk());
    for (const proto::SyscallRule& rule : internal::FindGroup(group)->rules()) {
      for (const std::string& syscall : rule.syscalls()) {
        const int nr = seccomp_syscall_resolve_name(syscall.c_str());
        ASSERT_GE(nr, 0) << syscall;
        for (int trial = 0; trial < 400; ++trial) {
          std::array<uint64_t, 6> args;
          for (uint64_t& arg : args) {
            arg = trial % 4 == 0 ? random()
                                 : interesting[random() % interesting.size()] |
                                       (trial % 3 == 0 ? random() & 0xff : 0);
          }
          struct seccomp_data data = {};
          data.nr = nr;
          data.arch = AUDIT_ARCH_X86_64;
          absl::c_copy(args, data.args);
          const bool filter_allows =
              EvaluateSeccomp(program->instructions, data) == SECCOMP_RET_ALLOW;
          const bool reported =
              absl::c_linear_search(internal::GroupsAllowing(nr, args), name);
          // The sandbox's own checks refuse what no group can allow.
          const bool sandbox_refuses =
              (syscall == "clone" && (args[0] & kNamespaceCloneFlags) != 0) ||
              (syscall == "prctl" && static_cast<uint32_t>(args[0]) == 22);
          EXPECT_EQ(filter_allows, reported && !sandbox_refuses)
              << name << ": " << syscall << "(0x" << std::hex << args[0]
              << ", 0x" << args[1] << ", 0x" << args[2] << ", 0x" << args[3]
              << ")";
        }
      }
    }
  }
}

// --- Against the kernel: the static testee, so that no loader or library
// needs binding. ---

PolicyBuilder BasePolicy(std::vector<proto::SyscallGroup> groups) {
  PolicyBuilder builder;
  builder.AddBind(testing::TesteePath(), testing::kSandboxTestee,
                  MountMode::kReadOnly, SymlinkMode::kFollow);
  for (proto::SyscallGroup group : groups) builder.AllowGroup(group);
  return builder;
}

const std::vector<proto::SyscallGroup> kBase = {
    proto::DYNAMIC_STARTUP, proto::EXIT_AND_SIGNALS, proto::STDIO};

struct GroupCase {
  proto::SyscallGroup group;
  // A testee command that needs the group; the system call it makes,
  // when that is what the report must name.
  std::vector<std::string> command;
  std::string syscall;
};

// Calls with arguments that make them fail harmlessly (EFAULT, EBADF, ...)
// once the filter lets them through: the filter's verdict is the test.
const GroupCase kGroupCases[] = {
    {proto::STDIO, {"syscall", "getppid"}, "getppid"},
    {proto::EXIT_AND_SIGNALS, {"syscall", "rt_sigpending", "0", "8"}, ""},
    {proto::MEMORY, {"syscall", "mlock", "0", "0"}, "mlock"},
    {proto::MEMORY_EXEC, {"mmap", "wx"}, "mmap"},
    {proto::THREADS, {"syscall", "futex", "0", "0"}, "futex"},
    {proto::DYNAMIC_STARTUP, {"syscall", "arch_prctl", "0x1003", "0"}, ""},
    {proto::FILES_READ, {"syscall", "statfs", "0", "0"}, "statfs"},
    {proto::FILES_WRITE, {"syscall", "ftruncate", "-1", "0"}, "ftruncate"},
    {proto::DIRECTORIES, {"syscall", "mkdir", "0", "0"}, "mkdir"},
    {proto::PROCESSES, {"syscall", "wait4", "-1", "0", "0", "0"}, "wait4"},
    {proto::TIME, {"syscall", "nanosleep", "0", "0"}, "nanosleep"},
    {proto::SCHEDULING,
     {"syscall", "sched_getparam", "0", "0"},
     "sched_getparam"},
    {proto::CREDENTIALS, {"syscall", "setfsuid", "-1"}, "setfsuid"},
    {proto::UNIX_SOCKETS, {"socket", "unix"}, "socket"},
    {proto::INET_SOCKETS, {"socket", "inet"}, "socket"},
    {proto::IPC, {"syscall", "semctl", "-1", "0", "0", "0"}, "semctl"},
    {proto::TERMINAL, {"ioctl", "TCGETS"}, "ioctl"},
};

void PrintTo(const GroupCase& c, std::ostream* out) {
  *out << proto::SyscallGroup_Name(c.group);
}

TEST(SyscallGroupsTest, EveryGroupHasAKernelCase) {
  for (proto::SyscallGroup group : AllGroups()) {
    EXPECT_TRUE(absl::c_any_of(kGroupCases, [&](const GroupCase& c) {
      return c.group == group;
    })) << proto::SyscallGroup_Name(group);
  }
}

class GroupKernelTest : public ::testing::TestWithParam<GroupCase> {};

TEST_P(GroupKernelTest, AllowsItsCallsAndAViolationNamesIt) {
  if (testing::BuiltWithSanitizer("address") ||
      testing::BuiltWithSanitizer("thread")) {
    GTEST_SKIP() << "a sanitizer runtime makes calls of its own that a "
                    "tight allow-list refuses";
  }
  const GroupCase& c = GetParam();
  const std::string name = proto::SyscallGroup_Name(c.group);
  std::vector<std::string> args = c.command;

  std::vector<proto::SyscallGroup> with = kBase;
  with.push_back(c.group);
  if (c.group == proto::MEMORY_EXEC) with.push_back(proto::MEMORY);
  absl::StatusOr<Policy> allowed = BasePolicy(with).Build();
  ASSERT_THAT(allowed, IsOk());
  testing::TesteeRun run = testing::RunTestee(*allowed, args);
  EXPECT_EQ(run.result.status(), proto::Result::OK)
      << name << ": " << run.result.DebugString() << run.output;

  std::vector<proto::SyscallGroup> without;
  for (proto::SyscallGroup group : kBase) {
    if (group != c.group) without.push_back(group);
  }
  if (c.group == proto::MEMORY_EXEC) without.push_back(proto::MEMORY);
  absl::StatusOr<Policy> refused = BasePolicy(without).Build();
  ASSERT_THAT(refused, IsOk());
  run = testing::RunTestee(*refused, args);
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
      << name << ": " << run.result.DebugString() << run.output;
  const proto::Violation& violation = run.result.violation();
  if (!c.syscall.empty()) {
    EXPECT_EQ(violation.syscall(), c.syscall);
  }
  EXPECT_THAT(violation.groups(), Contains(name)) << violation.DebugString();
  EXPECT_THAT(violation.remedy(), HasSubstr(name));
}

INSTANTIATE_TEST_SUITE_P(Groups, GroupKernelTest,
                         ::testing::ValuesIn(kGroupCases),
                         [](const ::testing::TestParamInfo<GroupCase>& info) {
                           return proto::SyscallGroup_Name(info.param.group);
                         });

TEST(SyscallGroupsTest, MemoryRefusesWritableAndExecutableAtOnce) {
  if (testing::BuiltWithSanitizer("address") ||
      testing::BuiltWithSanitizer("thread")) {
    GTEST_SKIP() << "a sanitizer runtime makes calls of its own that a "
                    "tight allow-list refuses";
  }
  std::vector<proto::SyscallGroup> groups = kBase;
  groups.push_back(proto::MEMORY);
  absl::StatusOr<Policy> policy = BasePolicy(groups).Build();
  ASSERT_THAT(policy, IsOk());
  for (const char* call : {"mmap", "mprotect"}) {
    EXPECT_EQ(testing::RunTestee(*policy, {call, "rx"}).result.status(),
              proto::Result::OK)
        << call;
    testing::TesteeRun run = testing::RunTestee(*policy, {call, "wx"});
    ASSERT_EQ(run.result.status(), proto::Result::VIOLATION) << call;
    EXPECT_EQ(run.result.violation().syscall(), call);
    EXPECT_THAT(run.result.violation().groups(),
                ::testing::ElementsAre("MEMORY_EXEC"));
  }
}

TEST(SyscallGroupsTest, TheRemedyNamesTheFixedDenyListAndNamespaceFlags) {
  absl::StatusOr<Policy> policy = BasePolicy(kBase).Build();
  ASSERT_THAT(policy, IsOk());
  testing::TesteeRun run = testing::RunTestee(*policy, {"ptrace"});
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION);
  EXPECT_TRUE(run.result.violation().groups().empty());
  EXPECT_THAT(run.result.violation().remedy(),
              HasSubstr("fixed deny list: name it in seccomp.dangerous_allow"));

  std::vector<proto::SyscallGroup> groups = kBase;
  groups.push_back(proto::PROCESSES);
  groups.push_back(proto::THREADS);
  policy = BasePolicy(groups).Build();
  ASSERT_THAT(policy, IsOk());
  run = testing::RunTestee(*policy, {"clone-ns", "user"});
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION);
  EXPECT_EQ(run.result.violation().syscall(), "clone");
  EXPECT_THAT(run.result.violation().remedy(), HasSubstr("namespace flags"));

  run = testing::RunTestee(*policy, {"syscall", "sysfs", "1", "0"});
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION);
  EXPECT_THAT(run.result.violation().remedy(),
              HasSubstr("in no group with these arguments"));
}

// --- The program's own first execve ---

class FirstExecTest : public ::testing::TestWithParam<SpawnMode> {};

TEST_P(FirstExecTest, OnlyTheProgramsOwnExecveIsAllowed) {
  // No rule names execve: the sandbox starts the program, and the
  // program's own execve (here of itself, a valid program) is a violation.
  absl::StatusOr<Policy> policy = BasePolicy(kBase).Build();
  ASSERT_THAT(policy, IsOk());
  testing::TesteeRun run =
      testing::RunTestee(*policy, {"echo", "started"}, GetParam());
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  EXPECT_EQ(run.values["echo"], "started");

  run = testing::RunTestee(*policy, {"exec-self", "echo", "again"}, GetParam());
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
      << run.result.DebugString() << run.output;
  EXPECT_EQ(run.result.violation().syscall(), "execve");
  EXPECT_THAT(run.result.violation().groups(), Contains("PROCESSES"));
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("echo=again")));
}

TEST_P(FirstExecTest, UnderDefaultErrnoLaterExecvesFailWithIt) {
  PolicyBuilder builder = BasePolicy(kBase);
  builder.SetDefaultErrno(EPERM);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  testing::TesteeRun run =
      testing::RunTestee(*policy, {"exec-self", "echo", "again"}, GetParam());
  EXPECT_EQ(run.result.status(), proto::Result::OK)
      << run.result.DebugString() << run.output;
  EXPECT_EQ(run.values["exec_errno"], "EPERM") << run.output;
  EXPECT_THAT(run.output, ::testing::Not(HasSubstr("echo=again")));
}

INSTANTIATE_TEST_SUITE_P(SpawnModes, FirstExecTest, testing::kBothSpawnModes,
                         testing::SpawnModeName);

}  // namespace
}  // namespace sandbox
