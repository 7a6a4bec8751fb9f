// Seccomp filters enforced by the real kernel: each argument operator on
// both sides of its boundary, errno versus kill, foreign ABIs, the fixed
// deny list, and violations reported by name with their arguments.
//
// The probe call is sysfs(option, ...): obsolete, harmless, not in the
// default policy, and any option >= 3 fails with EINVAL when allowed. So an
// allowed call shows errno=EINVAL and a denied one a VIOLATION naming sysfs.

#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <termios.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/internal/notification_decoder.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::kBothSpawnModes;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::SpawnModeName;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::TesteeRun;
using ::testing::HasSubstr;

Policy Build(const PolicyBuilder& builder) {
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_THAT(policy, IsOk());
  return *std::move(policy);
}

void ExpectAllowed(const TesteeRun& run, const char* errno_name = "EINVAL") {
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  EXPECT_EQ(run.values.at("errno"), errno_name) << run.output;
}

void ExpectViolation(const TesteeRun& run, const std::string& syscall) {
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
      << run.result.DebugString() << run.output;
  EXPECT_EQ(run.result.violation().syscall(), syscall);
  EXPECT_EQ(run.result.violation().arch(), "x86_64");
  EXPECT_EQ(run.result.violation().args_size(), 6);
}

struct OperatorCase {
  const char* name;
  proto::ArgCondition condition;
  uint64_t allowed;
  uint64_t denied;
};

class ArgumentOperatorTest : public ::testing::TestWithParam<OperatorCase> {};

TEST_P(ArgumentOperatorTest, KernelEnforcesTheCondition) {
  const OperatorCase& c = GetParam();
  Policy policy = Build(TesteePolicy().AllowSyscall("sysfs", {c.condition}));
  ExpectAllowed(
      RunTestee(policy, {"syscall", "sysfs", absl::StrCat(c.allowed)}));
  TesteeRun denied =
      RunTestee(policy, {"syscall", "sysfs", absl::StrCat(c.denied)});
  ExpectViolation(denied, "sysfs");
  EXPECT_EQ(denied.result.violation().args(0), c.denied);
}

INSTANTIATE_TEST_SUITE_P(
    Operators, ArgumentOperatorTest,
    ::testing::Values(
        OperatorCase{"eq", Arg(0) == 7, 7, 8},
        OperatorCase{"ne", Arg(0) != 7, 8, 7},
        OperatorCase{"lt", Arg(0) < 10, 9, 10},
        OperatorCase{"le", Arg(0) <= 10, 10, 11},
        OperatorCase{"gt", Arg(0) > 10, 11, 10},
        OperatorCase{"ge", Arg(0) >= 10, 10, 9},
        OperatorCase{"masked_eq", Arg(0).MaskedEq(0xf0, 0x30), 0x3a, 0x4a},
        // Full 64 bits are compared, not just the low half.
        OperatorCase{"eq_64bit", Arg(0) == 0x100000007ULL, 0x100000007ULL, 7}),
    [](const ::testing::TestParamInfo<OperatorCase>& info) {
      return std::string(info.param.name);
    });

TEST(ViolationTest, PtraceIsReportedByNameWithArguments) {
  TesteeRun run = RunTestee(Build(TesteePolicy()), {"ptrace"});
  ExpectViolation(run, "ptrace");
  EXPECT_EQ(run.result.violation().nr(), SYS_ptrace);
  EXPECT_EQ(run.result.violation().args(0), 0u);  // PTRACE_TRACEME
  EXPECT_EQ(run.result.signal(), SIGSYS);
}

TEST(ViolationTest, ErrnoRuleFailsTheCallAndTheProgramGoesOn) {
  Policy policy = Build(TesteePolicy().BlockSyscallWithErrno("sysfs", EL2HLT));
  ExpectAllowed(RunTestee(policy, {"syscall", "sysfs", "5"}), "EL2HLT");
}

TEST(ViolationTest, DefaultErrnoInsteadOfKill) {
  PolicyBuilder builder = TesteePolicy();
  builder.SetDefaultErrno(ENOTSUP);
  Policy policy = Build(builder);
  ExpectAllowed(RunTestee(policy, {"syscall", "sysfs", "5"}), "EOPNOTSUPP");
  // The fixed deny list still fails, with the default errno.
  TesteeRun ptrace = RunTestee(policy, {"ptrace"});
  EXPECT_EQ(ptrace.result.status(), proto::Result::OK);
  EXPECT_EQ(ptrace.values["ptrace"], "error");
}

TEST(ViolationTest, ExplicitKillRuleIsReported) {
  proto::SyscallRule rule;
  rule.add_syscalls("sysfs");
  rule.set_action(proto::SyscallRule::KILL);
  Policy policy = Build(TesteePolicy().AddSyscallRule(rule));
  ExpectViolation(RunTestee(policy, {"syscall", "sysfs", "5"}), "sysfs");
}

TEST(ViolationTest, ForeignAbisAreReportedAndNeverRun) {
  Policy policy = Build(TesteePolicy());
  for (const char* abi : {"i386", "x32"}) {
    TesteeRun run = RunTestee(policy, {abi, "getpid"});
    ASSERT_EQ(run.result.status(), proto::Result::VIOLATION)
        << abi << run.result.DebugString();
    EXPECT_EQ(run.result.violation().arch(), abi);
    EXPECT_EQ(run.result.violation().syscall(), "getpid") << abi;
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("ret="))) << abi;
  }
}

TEST(ViolationTest, ForeignAbisAreKilledWithoutAListener) {
  Policy policy = Build(TesteePolicy().SetDefaultErrno(EPERM));
  for (const char* abi : {"i386", "x32"}) {
    TesteeRun run = RunTestee(policy, {abi, "getpid"});
    EXPECT_EQ(run.result.status(), proto::Result::SIGNALED) << abi;
    EXPECT_EQ(run.result.signal(), SIGSYS) << abi;
    EXPECT_THAT(run.output, ::testing::Not(HasSubstr("ret="))) << abi;
  }
}

TEST(ViolationTest, AFilterOfItsOwnCannotHideAForbiddenCall) {
  // A stacked filter returning ERRNO would outrank the user notification:
  // ptrace would fail quietly and the Result say OK. Installing it is the
  // violation.
  Policy policy = Build(TesteePolicy());
  ExpectViolation(RunTestee(policy, {"stack-filter", "seccomp"}), "seccomp");
  ExpectViolation(RunTestee(policy, {"stack-filter", "prctl"}), "prctl");
}

TEST(ViolationTest, WithStackableFiltersAForbiddenCallIsStillAKill) {
  // Allowed to stack filters, the sandboxee gets kills, never quiet errors.
  PolicyBuilder builder = TesteePolicy();
  builder.AllowDangerousSyscall("seccomp").AllowSyscall("seccomp");
  for (const char* how : {"seccomp", "prctl"}) {
    TesteeRun run = RunTestee(Build(builder), {"stack-filter", how});
    EXPECT_EQ(run.values["stack"], "ok") << how << run.output;
    EXPECT_EQ(run.result.status(), proto::Result::SIGNALED)
        << how << run.result.DebugString();
    EXPECT_EQ(run.result.signal(), SIGSYS) << how;
    EXPECT_EQ(run.values.count("ptrace"), 0u) << how << run.output;
  }
}

TEST(ViolationTest, NamespaceCreationIsDenied) {
  Policy policy = Build(TesteePolicy());
  // clone is allowed, but not with a namespace flag.
  ExpectViolation(RunTestee(policy, {"clone-ns", "user"}), "clone");
  ExpectViolation(RunTestee(policy, {"unshare", "net"}), "unshare");
}

TEST(ViolationTest, DangerousAllowLiftsTheDenyList) {
  PolicyBuilder builder = TesteePolicy();
  builder.AllowDangerousSyscall("ptrace");
  TesteeRun run = RunTestee(Build(builder), {"ptrace"});
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  // The kernel itself may still refuse; the filter let it through.
  EXPECT_TRUE(run.values.count("ptrace")) << run.output;
}

TEST(ViolationTest, IssueExamplesAreEnforced) {
  // ioctl only for TCGETS and FIONREAD.
  PolicyBuilder ioctl_builder = TesteePolicy();
  // Replace the default's ioctl rules with the two allowed requests.
  testing::RemoveSyscalls(ioctl_builder, {"ioctl"});
  ioctl_builder.AllowSyscall("ioctl", {Arg(1) == TCGETS})
      .AllowSyscall("ioctl", {Arg(1) == FIONREAD});
  Policy ioctl_policy = Build(ioctl_builder);
  EXPECT_EQ(RunTestee(ioctl_policy, {"ioctl", "TCGETS"}).result.status(),
            proto::Result::OK);
  EXPECT_EQ(RunTestee(ioctl_policy, {"ioctl", "FIONREAD"}).result.status(),
            proto::Result::OK);
  ExpectViolation(RunTestee(ioctl_policy, {"ioctl", "TIOCSTI"}), "ioctl");

  // socket: the default policy allows unix, inet and inet6 only.
  Policy policy = Build(TesteePolicy());
  EXPECT_EQ(RunTestee(policy, {"socket", "unix"}).values["socket"], "ok");
  TesteeRun netlink = RunTestee(policy, {"socket", "netlink"});
  EXPECT_EQ(netlink.values["socket"], "error");
  EXPECT_EQ(netlink.values["errno"], "EAFNOSUPPORT");
}

TEST(ViolationTest, WriteAndExecNeverTogether) {
  // mmap/mprotect without PROT_WRITE|PROT_EXEC at once: two alternatives.
  PolicyBuilder builder = TesteePolicy();
  testing::RemoveSyscalls(builder, {"mmap", "mprotect"});
  for (const char* name : {"mmap", "mprotect"}) {
    builder.AllowSyscall(name, {Arg(2).MaskedEq(PROT_EXEC, 0)})
        .AllowSyscall(name, {Arg(2).MaskedEq(PROT_WRITE, 0)});
  }
  Policy policy = Build(builder);
  for (const char* call : {"mmap", "mprotect"}) {
    EXPECT_EQ(RunTestee(policy, {call, "rw"}).values[call], "ok") << call;
    EXPECT_EQ(RunTestee(policy, {call, "rx"}).values[call], "ok") << call;
    ExpectViolation(RunTestee(policy, {call, "wx"}), call);
  }
}

// The testee's policy without `name` among its allowed calls.
PolicyBuilder TesteePolicyWithout(const std::string& name) {
  PolicyBuilder builder = TesteePolicy();
  testing::RemoveSyscalls(builder, {name});
  return builder;
}

class DecodedViolationTest : public ::testing::TestWithParam<SpawnMode> {};

TEST_P(DecodedViolationTest, NamesThePathReadFromTheSandboxeesMemory) {
  Policy policy = Build(TesteePolicyWithout("openat"));
  TesteeRun run = RunTestee(
      policy, {"openat", "/no/such/dir/violation-test-path"}, GetParam());
  ExpectViolation(run, "openat");
  EXPECT_EQ(run.result.violation().decoded(),
            "openat(AT_FDCWD, \"/no/such/dir/violation-test-path\", "
            "O_RDONLY|O_CLOEXEC)");
}

TEST_P(DecodedViolationTest, AnUnmappedPathPrintsItsAddress) {
  Policy policy = Build(TesteePolicyWithout("openat"));
  TesteeRun run = RunTestee(policy, {"openat", "unmapped"}, GetParam());
  ExpectViolation(run, "openat");
  ASSERT_EQ(run.values.count("address"), 1u) << run.output;
  EXPECT_EQ(run.result.violation().decoded(),
            absl::StrCat("openat(AT_FDCWD, ", run.values["address"],
                         ", O_RDONLY|O_CLOEXEC)"));
}

TEST_P(DecodedViolationTest, AMebibyteWithoutNulIsCutAndDoesNotHoldTheHost) {
  Policy policy = Build(TesteePolicyWithout("openat"));
  const absl::Time start = absl::Now();
  TesteeRun run = RunTestee(policy, {"openat", "unterminated"}, GetParam());
  // A whole sandbox's life: the decoding itself is a few hundred bytes.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ExpectViolation(run, "openat");
  EXPECT_EQ(run.result.violation().decoded(),
            absl::StrCat("openat(AT_FDCWD, \"", std::string(256, 'A'),
                         "\"..., O_RDONLY|O_CLOEXEC)"));
}

TEST_P(DecodedViolationTest, TheFixedDenyListIsDecodedToo) {
  TesteeRun run =
      RunTestee(Build(TesteePolicy()), {"clone-ns", "user"}, GetParam());
  ExpectViolation(run, "clone");
  EXPECT_THAT(run.result.violation().decoded(),
              ::testing::StartsWith("clone(CLONE_NEWUSER|SIGCHLD, "));
  TesteeRun ptrace = RunTestee(Build(TesteePolicy()), {"ptrace"}, GetParam());
  EXPECT_EQ(ptrace.result.violation().decoded(),
            "ptrace(PTRACE_TRACEME, 0, NULL, 0)");
}

TEST_P(DecodedViolationTest, ForeignAbisPrintTheirArgumentsInHex) {
  TesteeRun run =
      RunTestee(Build(TesteePolicy()), {"i386", "getpid"}, GetParam());
  ASSERT_EQ(run.result.status(), proto::Result::VIOLATION);
  EXPECT_EQ(run.result.violation().decoded(), "getpid(0, 0, 0, 0, 0, 0)");
}

INSTANTIATE_TEST_SUITE_P(SpawnModes, DecodedViolationTest, kBothSpawnModes,
                         SpawnModeName);

TEST(NotifierMemoryTest, ReadsNothingOnceTheNotificationIsNoLongerPending) {
  // Our own memory, readable, but under a notification no listener holds:
  // the check after the open fails, and nothing is read.
  const char text[] = "never read";
  internal::NotifierMemory memory(/*listener=*/-1, /*id=*/1, getpid());
  EXPECT_FALSE(memory.opened());
  char buffer[sizeof(text)] = {};
  EXPECT_EQ(
      memory.Read(reinterpret_cast<uint64_t>(text), buffer, sizeof(buffer)),
      0u);
  EXPECT_EQ(buffer[0], '\0');
}

}  // namespace
}  // namespace sandbox
