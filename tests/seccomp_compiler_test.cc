// Seccomp policies without a kernel: each test compiles a policy to BPF and
// runs the program in the userspace evaluator on synthetic seccomp_data.

#include "sandbox/internal/seccomp_compiler.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ios>
#include <ostream>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/policy_builder.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Lt;

constexpr uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kKillProcess = SECCOMP_RET_KILL_PROCESS;

constexpr uint32_t Errno(int value) {
  return SECCOMP_RET_ERRNO | static_cast<uint32_t>(value);
}

// The native (x86-64) number of `name`, through libseccomp as the compiler
// resolves it.
int Nr(const char* name) {
  const int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) ADD_FAILURE() << "unknown system call " << name;
  return nr;
}

// System call `name` with `args` as the kernel hands it to the filter.
seccomp_data Call(const char* name, std::initializer_list<uint64_t> args = {},
                  uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data data = {};
  data.nr = Nr(name);
  data.arch = arch;
  data.instruction_pointer = 0x401000;
  int i = 0;
  for (uint64_t arg : args) data.args[i++] = arg;
  return data;
}

proto::Seccomp ParseSeccomp(const std::string& text) {
  proto::Seccomp seccomp;
  if (!google::protobuf::TextFormat::ParseFromString(text, &seccomp)) {
    ADD_FAILURE() << "bad test policy: " << text;
  }
  return seccomp;
}

// Compiles the text of a proto::Seccomp; no bootstrap hole unless
// `bootstrap_fd` is given.
absl::StatusOr<SeccompProgram> Compile(const std::string& text,
                                       int bootstrap_fd = -1) {
  return CompileSeccomp(ParseSeccomp(text), {.bootstrap_fd = bootstrap_fd});
}

// Evaluates `call` under `program`, which must have compiled.
uint32_t Eval(const absl::StatusOr<SeccompProgram>& program,
              const seccomp_data& call) {
  if (!program.ok()) {
    ADD_FAILURE() << "policy did not compile: " << program.status();
    return 0;
  }
  return EvaluateSeccomp(program->instructions, call);
}

TEST(SeccompCompilerTest, AllowsListedCallsAndNotifiesTheRest) {
  const auto program = Compile(R"pb(
    rules {
      syscalls: [ "read", "write" ]
      action: ALLOW
    }
  )pb");
  ASSERT_THAT(program, IsOk());
  EXPECT_EQ(Eval(program, Call("read", {0, 0, 0})), kAllow);
  EXPECT_EQ(Eval(program, Call("write", {1, 0, 0})), kAllow);
  EXPECT_EQ(Eval(program, Call("openat")), kNotify);
  EXPECT_EQ(Eval(program, Call("ptrace")), kNotify);
  EXPECT_TRUE(program->uses_notify);
}

TEST(SeccompCompilerTest, DefaultErrnoFailsUnmatchedCalls) {
  absl::StatusOr<Policy> policy =
      PolicyBuilder().AllowSyscalls({"read"}).SetDefaultErrno(EPERM).Build();
  ASSERT_THAT(policy, IsOk());
  const std::vector<sock_filter>& bpf =
      internal::StateOf(*policy).seccomp.instructions;
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("read")), kAllow);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("openat")), Errno(EPERM));
  // Only execve notifies: the supervisor lets the program's own through
  // and fails every other with the default errno.
  const SeccompProgram& program = internal::StateOf(*policy).seccomp;
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("execve")), kNotify);
  EXPECT_TRUE(program.uses_notify);
  EXPECT_TRUE(program.first_exec_by_supervisor);
  EXPECT_EQ(program.later_exec_errno, EPERM);
}

TEST(SeccompCompilerTest, APolicyThatNamesExecveDecidesItAlone) {
  const auto allowed = Compile(R"pb(
    rules { syscalls: "execve" action: ALLOW }
  )pb");
  ASSERT_THAT(allowed, IsOk());
  EXPECT_FALSE(allowed->first_exec_by_supervisor);
  EXPECT_EQ(Eval(allowed, Call("execve")), kAllow);
  const auto failed = Compile(R"pb(
    default_action: ERRNO
    default_errno: "EPERM"
    rules { syscalls: "execve" action: ERRNO error: "EACCES" }
  )pb");
  ASSERT_THAT(failed, IsOk());
  EXPECT_FALSE(failed->first_exec_by_supervisor);
  EXPECT_FALSE(failed->uses_notify);
  EXPECT_EQ(Eval(failed, Call("execve")), Errno(EACCES));
  // Unnamed under the default KILL: the notification the supervisor
  // answers.
  const auto unnamed = Compile(R"pb(
    rules { syscalls: "read" action: ALLOW }
  )pb");
  ASSERT_THAT(unnamed, IsOk());
  EXPECT_TRUE(unnamed->first_exec_by_supervisor);
  EXPECT_EQ(unnamed->later_exec_errno, 0);
  EXPECT_EQ(Eval(unnamed, Call("execve")), kNotify);
}

TEST(SeccompCompilerTest, ErrnoRuleFailsTheCallWithItsErrno) {
  const auto program = Compile(R"pb(
    rules { syscalls: "openat" action: ERRNO error: "EACCES" }
    rules { syscalls: "mkdir" action: ERRNO error: "38" }
  )pb");
  EXPECT_EQ(Eval(program, Call("openat")), Errno(EACCES));
  EXPECT_EQ(Eval(program, Call("mkdir")), Errno(ENOSYS));
  EXPECT_EQ(Eval(program, Call("read")), kNotify);
}

TEST(SeccompCompilerTest, BuilderErrnoRuleFailsTheCallWithItsErrno) {
  absl::StatusOr<Policy> policy =
      PolicyBuilder().BlockSyscallWithErrno("openat", EACCES).Build();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(EvaluateSeccomp(internal::StateOf(*policy).seccomp.instructions,
                            Call("openat")),
            Errno(EACCES));
}

TEST(SeccompCompilerTest, KillRuleNotifiesTheSupervisor) {
  const auto program = Compile(R"pb(
    default_action: ERRNO
    default_errno: "EPERM"
    rules { syscalls: "socket" action: KILL }
  )pb");
  ASSERT_THAT(program, IsOk());
  EXPECT_EQ(Eval(program, Call("socket", {AF_INET})), kNotify);
  EXPECT_EQ(Eval(program, Call("read")), Errno(EPERM));
  EXPECT_TRUE(program->uses_notify);
}

TEST(SeccompCompilerTest, RuleWithTheDefaultActionCompiles) {
  // libseccomp refuses such a rule; alone it is the default anyway.
  const auto kill = Compile(R"pb(
    rules { syscalls: "read" action: ALLOW }
    rules { syscalls: "socket" action: KILL }
  )pb");
  EXPECT_EQ(Eval(kill, Call("socket", {AF_INET})), kNotify);
  EXPECT_EQ(Eval(kill, Call("read")), kAllow);
  const auto errno_rule = Compile(R"pb(
    default_action: ERRNO
    default_errno: "EPERM"
    rules { syscalls: "openat" action: ERRNO error: "1" }
  )pb");
  EXPECT_EQ(Eval(errno_rule, Call("openat")), Errno(EPERM));
}

TEST(SeccompCompilerTest, DefaultActionRuleNextToOtherActionsIsAnError) {
  // Dropping the KILL rule would leave only the TCGETS rule, but the author
  // may have meant the KILL to win: refuse rather than guess.
  EXPECT_THAT(Compile(R"pb(
                rules {
                  syscalls: "ioctl"
                  action: ALLOW
                  args { arg: 1 op: EQ value: 0x5401 }
                }
                rules { syscalls: "ioctl" action: KILL }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("seccomp.rules[0].syscalls[0]"),
                             HasSubstr("would override"))));
  // The same with conditions on every rule: still ambiguous.
  EXPECT_THAT(Compile(R"pb(
                rules {
                  syscalls: "ioctl"
                  action: ALLOW
                  args { arg: 1 op: EQ value: 0x5401 }
                }
                rules {
                  syscalls: "ioctl"
                  action: KILL
                  args { arg: 1 op: EQ value: 0x5412 }
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("seccomp.rules[1].syscalls[0]"),
                             HasSubstr("default action"))));
}

TEST(SeccompCompilerTest, UnconditionalRuleNextToOtherActionsIsAnError) {
  // libseccomp would keep only "allow ioctl" and silently allow TIOCSTI.
  EXPECT_THAT(Compile(R"pb(
                rules { syscalls: "ioctl" action: ALLOW }
                rules {
                  syscalls: "ioctl"
                  action: ERRNO
                  error: "EPERM"
                  args { arg: 1 op: EQ value: 0x5412 }
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("seccomp.rules[0].syscalls[0]"),
                             HasSubstr("'ioctl'"), HasSubstr("override"))));
  // Conditions on every rule are fine: each action keeps its cases.
  absl::StatusOr<SeccompProgram> program = Compile(R"pb(
    rules {
      syscalls: "ioctl"
      action: ALLOW
      args { arg: 1 op: NE value: 0x5412 }
    }
    rules {
      syscalls: "ioctl"
      action: ERRNO
      error: "EPERM"
      args { arg: 1 op: EQ value: 0x5412 }
    }
  )pb");
  EXPECT_EQ(Eval(program, Call("ioctl", {0, 0x5401})), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Eval(program, Call("ioctl", {0, 0x5412})), Errno(EPERM));
}

TEST(SeccompCompilerTest, LogRuleAllowsAndLogs) {
  absl::StatusOr<Policy> policy = PolicyBuilder().LogSyscall("uname").Build();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(EvaluateSeccomp(internal::StateOf(*policy).seccomp.instructions,
                            Call("uname")),
            SECCOMP_RET_LOG);
}

TEST(SeccompCompilerTest,
     ForeignArchitectureIsReportedWhereTheSupervisorListens) {
  const auto program = Compile(R"pb(
    rules { syscalls: "read" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(program, Call("read", {}, AUDIT_ARCH_X86_64)), kAllow);
  // i386 `int 0x80`: number 3 is read there, 0 is restart_syscall; neither
  // runs, both reach the supervisor, which names them and kills.
  seccomp_data i386_read = Call("read", {}, AUDIT_ARCH_I386);
  i386_read.nr = 3;
  EXPECT_EQ(Eval(program, i386_read), kNotify);
  EXPECT_EQ(Eval(program, Call("read", {}, AUDIT_ARCH_I386)), kNotify);
  EXPECT_EQ(Eval(program, Call("read", {}, AUDIT_ARCH_AARCH64)), kNotify);
}

TEST(SeccompCompilerTest, ForeignArchitectureIsKilledWithoutAListener) {
  const auto program = Compile(R"pb(
    default_action: ERRNO
    default_errno: "EPERM"
    rules { syscalls: "read" action: ALLOW }
  )pb");
  ASSERT_THAT(program, IsOk());
  // The listener is there for the program's own execve only.
  EXPECT_TRUE(program->uses_notify);
  seccomp_data i386_read = Call("read", {}, AUDIT_ARCH_I386);
  i386_read.nr = 3;
  EXPECT_EQ(Eval(program, i386_read), kKillProcess);
  seccomp_data x32_read = Call("read");
  x32_read.nr |= __X32_SYSCALL_BIT;
  EXPECT_EQ(Eval(program, x32_read), kKillProcess);
}

TEST(SeccompCompilerTest, X32SystemCallNumbersNeverRun) {
  const auto program = Compile(R"pb(
    rules {
      syscalls: [ "read", "write" ]
      action: ALLOW
    }
  )pb");
  seccomp_data x32_write = Call("write");
  x32_write.nr |= __X32_SYSCALL_BIT;
  EXPECT_EQ(Eval(program, x32_write), kNotify);
  seccomp_data x32_read = Call("read");
  x32_read.nr |= __X32_SYSCALL_BIT;
  EXPECT_EQ(Eval(program, x32_read), kNotify);
}

TEST(SeccompCompilerTest, InstallingAFilterOfItsOwnIsOnTheDenyList) {
  EXPECT_THAT(
      Compile(R"pb(
        rules { syscalls: "seccomp" action: ALLOW }
      )pb"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("'seccomp'"), HasSubstr("dangerous_allow"))));
  // prctl stays usable, but not for PR_SET_SECCOMP.
  const auto program = Compile(R"pb(
    rules { syscalls: "prctl" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(program, Call("prctl", {PR_SET_NAME, 0})), kAllow);
  EXPECT_EQ(Eval(program, Call("prctl", {PR_SET_NO_NEW_PRIVS, 1})), kAllow);
  EXPECT_EQ(Eval(program, Call("prctl", {PR_SET_SECCOMP, 2})), kNotify);
  // The kernel reads the option as an int: high bits must not smuggle
  // PR_SET_SECCOMP past the filter.
  EXPECT_EQ(
      Eval(program, Call("prctl", {(uint64_t{1} << 32) | PR_SET_SECCOMP})),
      kNotify);
  EXPECT_EQ(Eval(program, Call("prctl", {0xffffffff00000000ull | 15})),
            kNotify);
  for (uint64_t option = 0; option < 70; ++option) {
    EXPECT_EQ(Eval(program, Call("prctl", {option})),
              option == PR_SET_SECCOMP ? kNotify : kAllow)
        << option;
  }
  EXPECT_EQ(Eval(program, Call("prctl", {0x59616d61})), kAllow);  // Yama
  EXPECT_EQ(Eval(program, Call("prctl", {0xffffffff})), kAllow);
  EXPECT_EQ(Eval(program, Call("seccomp", {1, 0, 0})), kNotify);
}

TEST(SeccompCompilerTest, PrctlRuleWhoseConditionLetsPrSetSeccompThroughFails) {
  EXPECT_THAT(Compile(R"pb(
                rules {
                  syscalls: "prctl"
                  action: ALLOW
                  args { arg: 0 op: GE value: 20 }
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("seccomp.rules[0].args"),
                             HasSubstr("PR_SET_SECCOMP"))));
  // The low half is what counts.
  EXPECT_THAT(Compile(R"pb(
                rules {
                  syscalls: "prctl"
                  action: ALLOW
                  args { arg: 0 op: EQ value: 0x100000016 }
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("PR_SET_SECCOMP")));
  // A condition that excludes it is fine as written.
  const auto program = Compile(R"pb(
    rules {
      syscalls: "prctl"
      action: ALLOW
      args { arg: 0 op: EQ value: 15 }
    }
  )pb");
  EXPECT_EQ(Eval(program, Call("prctl", {PR_SET_NAME, 0})), kAllow);
  EXPECT_EQ(Eval(program, Call("prctl", {PR_SET_SECCOMP, 2})), kNotify);
}

TEST(SeccompCompilerTest, StackableFiltersMakeEveryForbiddenCallAKill) {
  // A sandboxee that may install its own filter could outrank a user
  // notification with ERRNO; nothing outranks KILL_PROCESS.
  const auto program = Compile(R"pb(
    dangerous_allow: "seccomp"
    rules {
      syscalls: [ "seccomp", "prctl", "read" ]
      action: ALLOW
    }
    rules { syscalls: "sysfs" action: KILL }
  )pb");
  ASSERT_THAT(program, IsOk());
  // Only for the program's own execve, which a filter of its own could at
  // worst fail.
  EXPECT_TRUE(program->uses_notify);
  EXPECT_EQ(Eval(program, Call("execve")), kNotify);
  EXPECT_EQ(Eval(program, Call("seccomp", {1, 0, 0})), kAllow);
  EXPECT_EQ(Eval(program, Call("prctl", {PR_SET_SECCOMP, 2})), kAllow);
  EXPECT_EQ(Eval(program, Call("ptrace")), kKillProcess);
  EXPECT_EQ(Eval(program, Call("openat")), kKillProcess);
  EXPECT_EQ(Eval(program, Call("sysfs")), kKillProcess);
  seccomp_data i386_read = Call("read", {}, AUDIT_ARCH_I386);
  EXPECT_EQ(Eval(program, i386_read), kKillProcess);
}

// One argument condition, and calls on either side of its boundary.
struct OperatorCase {
  std::string name;
  proto::ArgCondition condition;
  std::vector<uint64_t> matching;
  std::vector<uint64_t> not_matching;
};

void PrintTo(const OperatorCase& c, std::ostream* os) { *os << c.name; }

class ArgOperatorTest : public ::testing::TestWithParam<OperatorCase> {};

TEST_P(ArgOperatorTest, MatchesExactlyOnItsSideOfTheBoundary) {
  const OperatorCase& c = GetParam();
  absl::StatusOr<Policy> policy =
      PolicyBuilder().AllowSyscall("lseek", {c.condition}).Build();
  ASSERT_THAT(policy, IsOk());
  const std::vector<sock_filter>& bpf =
      internal::StateOf(*policy).seccomp.instructions;
  for (uint64_t value : c.matching) {
    EXPECT_EQ(EvaluateSeccomp(bpf, Call("lseek", {3, value, SEEK_SET})), kAllow)
        << "offset 0x" << std::hex << value;
  }
  for (uint64_t value : c.not_matching) {
    EXPECT_EQ(EvaluateSeccomp(bpf, Call("lseek", {3, value, SEEK_SET})),
              kNotify)
        << "offset 0x" << std::hex << value;
  }
}

// Every comparison is on 64 bits: the boundaries include values that differ
// only in the high word, which libseccomp checks with a second comparison.
constexpr uint64_t kHigh = uint64_t{1} << 32;

INSTANTIATE_TEST_SUITE_P(
    Operators, ArgOperatorTest,
    ::testing::Values(
        OperatorCase{"Eq", Arg(1) == 100, {100}, {99, 101, kHigh | 100}},
        OperatorCase{"EqHighWord", Arg(1) == (kHigh | 7), {kHigh | 7}, {7}},
        OperatorCase{"Ne", Arg(1) != 100, {99, 101, kHigh | 100}, {100}},
        OperatorCase{"Lt", Arg(1) < 100, {0, 99}, {100, 101, kHigh}},
        OperatorCase{"LtHighWord", Arg(1) < kHigh, {kHigh - 1}, {kHigh}},
        OperatorCase{"Le", Arg(1) <= 100, {0, 100}, {101, kHigh | 50}},
        OperatorCase{"Gt", Arg(1) > 100, {101, kHigh}, {0, 100}},
        OperatorCase{"GtHighWord", Arg(1) > (kHigh - 1), {kHigh}, {kHigh - 1}},
        OperatorCase{"Ge", Arg(1) >= 100, {100, kHigh}, {0, 99}},
        OperatorCase{"MaskedEq",
                     Arg(1).MaskedEq(0xf0, 0x30),
                     {0x30, 0x3f, 0x130, kHigh | 0x31},
                     {0x20, 0x40, 0xf0}},
        OperatorCase{"MaskedEqHighWord",
                     Arg(1).MaskedEq(kHigh, 0),
                     {0, kHigh - 1},
                     {kHigh, kHigh | 1}}),
    [](const ::testing::TestParamInfo<OperatorCase>& info) {
      return info.param.name;
    });

TEST(SeccompCompilerTest, AllConditionsOfARuleMustHold) {
  absl::StatusOr<Policy> policy =
      PolicyBuilder()
          .AllowSyscall("socket", {Arg(0) == AF_UNIX, Arg(1) == SOCK_STREAM})
          .Build();
  ASSERT_THAT(policy, IsOk());
  const std::vector<sock_filter>& bpf =
      internal::StateOf(*policy).seccomp.instructions;
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("socket", {AF_UNIX, SOCK_STREAM, 0})),
            kAllow);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("socket", {AF_UNIX, SOCK_DGRAM, 0})),
            kNotify);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("socket", {AF_INET, SOCK_STREAM, 0})),
            kNotify);
}

TEST(SeccompCompilerTest, IoctlOnlyForTcgetsAndFionread) {
  absl::StatusOr<Policy> policy =
      PolicyBuilder()
          .AllowSyscall("ioctl", {Arg(1) == TCGETS})
          .AllowSyscall("ioctl", {Arg(1) == FIONREAD})
          .Build();
  ASSERT_THAT(policy, IsOk());
  const std::vector<sock_filter>& bpf =
      internal::StateOf(*policy).seccomp.instructions;
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("ioctl", {0, TCGETS, 0})), kAllow);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("ioctl", {0, FIONREAD, 0})), kAllow);
  // Pushing input into the terminal is what the rule exists to stop.
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("ioctl", {0, TIOCSTI, 0})), kNotify);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("ioctl", {0, TCSETS, 0})), kNotify);
}

TEST(SeccompCompilerTest, SocketOnlyForUnixDomain) {
  absl::StatusOr<Policy> policy =
      PolicyBuilder().AllowSyscall("socket", {Arg(0) == AF_UNIX}).Build();
  ASSERT_THAT(policy, IsOk());
  const std::vector<sock_filter>& bpf =
      internal::StateOf(*policy).seccomp.instructions;
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("socket", {AF_UNIX, SOCK_STREAM, 0})),
            kAllow);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("socket", {AF_INET, SOCK_STREAM, 0})),
            kNotify);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("socket", {AF_NETLINK, SOCK_RAW, 0})),
            kNotify);
}

TEST(SeccompCompilerTest, MemoryIsNeverWritableAndExecutableAtOnce) {
  // W^X as two alternatives: not executable, or not writable.
  const auto program = Compile(R"pb(
    rules {
      syscalls: [ "mmap", "mprotect" ]
      action: ALLOW
      args { arg: 2 op: MASKED_EQ mask: 4 value: 0 }  # PROT_EXEC
    }
    rules {
      syscalls: [ "mmap", "mprotect" ]
      action: ALLOW
      args { arg: 2 op: MASKED_EQ mask: 2 value: 0 }  # PROT_WRITE
    }
  )pb");
  ASSERT_THAT(program, IsOk());
  for (const char* name : {"mmap", "mprotect"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(Eval(program, Call(name, {0, 4096, PROT_READ | PROT_WRITE})),
              kAllow);
    EXPECT_EQ(Eval(program, Call(name, {0, 4096, PROT_READ | PROT_EXEC})),
              kAllow);
    EXPECT_EQ(Eval(program, Call(name, {0, 4096, PROT_NONE})), kAllow);
    EXPECT_EQ(Eval(program, Call(name, {0, 4096, PROT_WRITE | PROT_EXEC})),
              kNotify);
    EXPECT_EQ(Eval(program,
                   Call(name, {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC})),
              kNotify);
  }
}

TEST(SeccompCompilerTest, CloneIsAllowedWithoutNamespaceFlagsOnly) {
  const auto program = Compile(R"pb(
    rules { syscalls: "clone" action: ALLOW }
  )pb");
  ASSERT_THAT(program, IsOk());
  // What glibc's pthread_create passes.
  const uint64_t thread_flags =
      CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
      CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  EXPECT_EQ(Eval(program, Call("clone", {thread_flags})), kAllow);
  EXPECT_EQ(Eval(program, Call("clone", {SIGCHLD})), kAllow);
  for (uint64_t flag :
       {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWUTS,
        CLONE_NEWIPC, CLONE_NEWCGROUP, CLONE_NEWTIME}) {
    EXPECT_EQ(Eval(program, Call("clone", {SIGCHLD | flag})), kNotify)
        << "flag 0x" << std::hex << flag;
  }
  EXPECT_EQ(Eval(program, Call("clone", {thread_flags | CLONE_NEWUSER})),
            kNotify);
}

TEST(SeccompCompilerTest, Clone3FailsWithEnosysWhenCloneIsAllowed) {
  const auto with_clone = Compile(R"pb(
    rules { syscalls: "clone" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(with_clone, Call("clone3")), Errno(ENOSYS));
  const auto without_clone = Compile(R"pb(
    rules { syscalls: "read" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(without_clone, Call("clone3")), kNotify);
}

TEST(SeccompCompilerTest, CloneFlagsCannotBeConditionedByThePolicy) {
  EXPECT_THAT(Compile(R"pb(
                rules {
                  syscalls: "clone"
                  action: ALLOW
                  args { arg: 0 op: NE value: 0 }
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[0].args: clone's flags")));
}

TEST(SeccompCompilerTest, DangerousAllowOfCloneLiftsTheNamespaceCheck) {
  const auto program = Compile(R"pb(
    dangerous_allow: "clone"
    rules { syscalls: "clone" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(program, Call("clone", {SIGCHLD | CLONE_NEWUSER})), kAllow);
  EXPECT_EQ(Eval(program, Call("clone3")), Errno(ENOSYS));
}

TEST(SeccompCompilerTest, RuleAllowingADeniedCallFailsAndNamesTheEscape) {
  EXPECT_THAT(
      Compile(R"pb(
        rules { syscalls: "ptrace" action: ALLOW }
      )pb"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("seccomp.rules[0].syscalls[0]"),
                     HasSubstr("'ptrace'"), HasSubstr("dangerous_allow"))));
  // Through the builder, and for LOG, which allows too.
  EXPECT_THAT(PolicyBuilder().AllowSyscall("ptrace").Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[0].syscalls[0]")));
  EXPECT_THAT(PolicyBuilder().AllowSyscalls({"read"}).LogSyscall("bpf").Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[1].syscalls[0]: 'bpf'")));
}

TEST(SeccompCompilerTest, EveryDeniedCallNeedsDangerousAllow) {
  for (const char* name : FixedDenyList()) {
    EXPECT_THAT(PolicyBuilder().AllowSyscall(name).Build(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("dangerous_allow")))
        << name;
  }
}

TEST(SeccompCompilerTest, DeniedCallMayBeFailedOrKilledWithoutDangerousAllow) {
  const auto program = Compile(R"pb(
    default_action: ERRNO
    default_errno: "ENOSYS"
    rules { syscalls: "ptrace" action: ERRNO error: "EPERM" }
    rules { syscalls: "bpf" action: KILL }
  )pb");
  EXPECT_EQ(Eval(program, Call("ptrace")), Errno(EPERM));
  EXPECT_EQ(Eval(program, Call("bpf")), kNotify);
}

TEST(SeccompCompilerTest, DangerousAllowLetsARuleAllowADeniedCall) {
  const auto program = Compile(R"pb(
    dangerous_allow: "ptrace"
    rules { syscalls: "ptrace" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(program, Call("ptrace")), kAllow);
  // Naming one call opens no other.
  EXPECT_EQ(Eval(program, Call("process_vm_readv")), kNotify);

  absl::StatusOr<Policy> policy =
      PolicyBuilder().AllowDangerousSyscall("bpf").Build();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(EvaluateSeccomp(internal::StateOf(*policy).seccomp.instructions,
                            Call("bpf")),
            kAllow);
}

TEST(SeccompCompilerTest, DangerousAllowOfAnOrdinaryCallIsAnError) {
  EXPECT_THAT(
      Compile(R"pb(
        dangerous_allow: "ptrace" dangerous_allow: "read"
      )pb"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("seccomp.dangerous_allow[1]"),
                     HasSubstr("'read' is not on the fixed deny list"))));
  EXPECT_THAT(Compile(R"pb(dangerous_allow: "ptrac")pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.dangerous_allow[0]: unknown system "
                                 "call 'ptrac'")));
}

TEST(SeccompCompilerTest, BootstrapHoleAllowsSendmsgAndRecvmsgOnThatFdOnly) {
  const auto program = Compile(R"pb(
                                 rules { syscalls: "read" action: ALLOW }
                               )pb",
                               /*bootstrap_fd=*/1024);
  for (const char* call : {"sendmsg", "recvmsg"}) {
    EXPECT_EQ(Eval(program, Call(call, {1024, 0, 0})), kAllow) << call;
    EXPECT_EQ(Eval(program, Call(call, {3, 0, 0})), kNotify) << call;
    EXPECT_EQ(Eval(program, Call(call, {kHigh | 1024, 0, 0})), kNotify) << call;
  }
  EXPECT_EQ(Eval(program, Call("sendto", {1024, 0, 0})), kNotify);
  EXPECT_EQ(Eval(program, Call("recvfrom", {1024, 0, 0})), kNotify);

  const auto no_hole = Compile(R"pb(
    rules { syscalls: "read" action: ALLOW }
  )pb");
  EXPECT_EQ(Eval(no_hole, Call("sendmsg", {1024, 0, 0})), kNotify);
}

TEST(SeccompCompilerTest, BootstrapHoleSurvivesAnUnconditionalSendmsgRule) {
  // libseccomp lets an unconditional rule override conditional ones for the
  // same call, which would close the hole.
  const auto errno_rule =
      Compile(R"pb(
                rules { syscalls: "sendmsg" action: ERRNO error: "EPERM" }
              )pb",
              /*bootstrap_fd=*/1024);
  EXPECT_EQ(Eval(errno_rule, Call("sendmsg", {1024, 0, 0})), kAllow);
  EXPECT_EQ(Eval(errno_rule, Call("sendmsg", {3, 0, 0})), Errno(EPERM));
  const auto recv_rule =
      Compile(R"pb(
                rules { syscalls: "recvmsg" action: ERRNO error: "EPERM" }
              )pb",
              /*bootstrap_fd=*/1024);
  EXPECT_EQ(Eval(recv_rule, Call("recvmsg", {1024, 0, 0})), kAllow);
  EXPECT_EQ(Eval(recv_rule, Call("recvmsg", {3, 0, 0})), Errno(EPERM));
  const auto kill_rule = Compile(R"pb(
                                   default_action: ERRNO
                                   default_errno: "ENOSYS"
                                   rules { syscalls: "sendmsg" action: KILL }
                                 )pb",
                                 /*bootstrap_fd=*/1024);
  EXPECT_EQ(Eval(kill_rule, Call("sendmsg", {1024, 0, 0})), kAllow);
  EXPECT_EQ(Eval(kill_rule, Call("sendmsg", {3, 0, 0})), kNotify);
}

TEST(SeccompCompilerTest, BuiltPolicyOpensTheHoleAtItsBootstrapFd) {
  absl::StatusOr<Policy> policy = PolicyBuilder().SetMaxOpenFiles(64).Build();
  ASSERT_THAT(policy, IsOk());
  ASSERT_EQ(internal::StateOf(*policy).bootstrap_fd(), 64);
  const std::vector<sock_filter>& bpf =
      internal::StateOf(*policy).seccomp.instructions;
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("sendmsg", {64, 0, 0})), kAllow);
  EXPECT_EQ(EvaluateSeccomp(bpf, Call("sendmsg", {63, 0, 0})), kNotify);
}

TEST(SeccompCompilerTest, UnknownSyscallNameIsNamedWithItsField) {
  EXPECT_THAT(Compile(R"pb(
                rules { syscalls: "read" action: ALLOW }
                rules {
                  syscalls: [ "write", "opne" ]
                  action: ALLOW
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[1].syscalls[1]: unknown system "
                                 "call 'opne'")));
}

TEST(SeccompCompilerTest, BadErrnoIsNamedWithItsField) {
  EXPECT_THAT(
      Compile(R"pb(
        rules { syscalls: "openat" action: ERRNO error: "EWHAT" }
      )pb"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("seccomp.rules[0].error"), HasSubstr("EWHAT"))));
  EXPECT_THAT(Compile(R"pb(
                rules { syscalls: "openat" action: ERRNO }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[0].error: is required")));
  EXPECT_THAT(Compile(R"pb(default_action: ERRNO default_errno: "99999")pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.default_errno")));
}

TEST(SeccompCompilerTest, MalformedConditionsAreNamedWithTheirField) {
  EXPECT_THAT(
      Compile(R"pb(
        rules {
          syscalls: "read"
          action: ALLOW
          args { arg: 6 op: EQ value: 0 }
        }
      )pb"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("seccomp.rules[0].args[0].arg: 6 is not 0..5")));
  EXPECT_THAT(Compile(R"pb(
                rules {
                  syscalls: "read"
                  action: ALLOW
                  args { arg: 0 value: 0 }
                }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[0].args[0].op")));
  EXPECT_THAT(Compile(R"pb(
                rules { syscalls: "read" }
              )pb"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.rules[0].action")));
}

TEST(SeccompCompilerTest, AllowOnlyPolicyCompilesToASmallProgram) {
  const auto program = Compile(R"pb(
    default_action: ERRNO
    default_errno: "EPERM"
    rules {
      syscalls: [ "read", "write", "exit_group" ]
      action: ALLOW
    }
  )pb");
  ASSERT_THAT(program, IsOk());
  // Architecture check, x32 check, three numbers, three returns.
  EXPECT_THAT(program->instructions.size(), Lt(size_t{20}));
}

// Greater-than comparisons against syscall numbers (below the x32 bit, which
// the x32 check compares against).
int NumberComparisons(absl::Span<const sock_filter> program) {
  int count = 0;
  for (const sock_filter& insn : program) {
    const uint16_t op = BPF_OP(insn.code);
    if (BPF_CLASS(insn.code) == BPF_JMP && BPF_SRC(insn.code) == BPF_K &&
        (op == BPF_JGT || op == BPF_JGE) && insn.k < __X32_SYSCALL_BIT) {
      ++count;
    }
  }
  return count;
}

TEST(SeccompCompilerTest, ManyRulesAreLookedUpThroughABinaryTree) {
  proto::Seccomp seccomp;
  proto::SyscallRule& rule = *seccomp.add_rules();
  rule.set_action(proto::SyscallRule::ALLOW);
  for (const char* name :
       {"read",     "write",        "close",          "fstat",
        "lseek",    "mmap",         "mprotect",       "munmap",
        "brk",      "rt_sigaction", "rt_sigprocmask", "pread64",
        "pwrite64", "readv",        "writev",         "access",
        "pipe",     "sched_yield",  "madvise",        "dup",
        "dup2",     "nanosleep",    "getpid",         "exit",
        "uname",    "fcntl",        "getcwd",         "getuid",
        "getgid",   "exit_group",   "openat",         "newfstatat",
        "getrandom"}) {
    rule.add_syscalls(name);
  }
  absl::StatusOr<SeccompProgram> program = CompileSeccomp(seccomp, {});
  ASSERT_THAT(program, IsOk());
  // A linear list compares numbers for equality only; the tree splits
  // ranges with greater-than comparisons.
  EXPECT_GT(NumberComparisons(program->instructions), 4);
  for (const std::string& name : rule.syscalls()) {
    EXPECT_EQ(EvaluateSeccomp(program->instructions, Call(name.c_str())),
              kAllow)
        << name;
  }
  EXPECT_EQ(EvaluateSeccomp(program->instructions, Call("socket")), kNotify);
  EXPECT_EQ(EvaluateSeccomp(program->instructions, Call("ptrace")), kNotify);
}

// --- The evaluator itself fails closed ---

sock_filter Stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

constexpr uint32_t kNrOffset = offsetof(seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(seccomp_data, arch);

seccomp_data Data(int nr) {
  seccomp_data data = {};
  data.nr = nr;
  data.arch = AUDIT_ARCH_X86_64;
  return data;
}

TEST(BpfEvaluatorTest, EmptyProgramKills) {
  EXPECT_EQ(EvaluateSeccomp({}, Data(0)), kKillProcess);
}

TEST(BpfEvaluatorTest, ReturnsTheConstantOrTheAccumulator) {
  const std::vector<sock_filter> constant = {
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 7)};
  EXPECT_EQ(EvaluateSeccomp(constant, Data(0)), Errno(7));
  const std::vector<sock_filter> accumulator = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      Stmt(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
      Stmt(BPF_RET | BPF_A, 0)};
  EXPECT_EQ(EvaluateSeccomp(accumulator, Data(42)), Errno(42));
}

TEST(BpfEvaluatorTest, JumpsOnComparisons) {
  // nr == 1 -> ALLOW; nr > 10 -> ERRNO 10; nr & 4 -> ERRNO 4; else LOG.
  const std::vector<sock_filter> program = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      Jump(BPF_JMP | BPF_JEQ | BPF_K, 1, 3, 0),
      Jump(BPF_JMP | BPF_JGT | BPF_K, 10, 3, 0),
      Jump(BPF_JMP | BPF_JSET | BPF_K, 4, 3, 0),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_LOG),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 10),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 4)};
  EXPECT_EQ(EvaluateSeccomp(program, Data(1)), kAllow);
  EXPECT_EQ(EvaluateSeccomp(program, Data(10)), SECCOMP_RET_LOG);
  EXPECT_EQ(EvaluateSeccomp(program, Data(11)), Errno(10));
  EXPECT_EQ(EvaluateSeccomp(program, Data(5)), Errno(4));
  EXPECT_EQ(EvaluateSeccomp(program, Data(3)), SECCOMP_RET_LOG);
}

TEST(BpfEvaluatorTest, UsesIndexRegisterAndScratchMemory) {
  // M[3] = nr; X = 5; A = nr - X; A >= X ? A : 0 (through M[3] and TXA).
  const std::vector<sock_filter> program = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      Stmt(BPF_ST, 3),
      Stmt(BPF_LDX | BPF_W | BPF_IMM, 5),
      Stmt(BPF_ALU | BPF_SUB | BPF_X, 0),
      Jump(BPF_JMP | BPF_JGE | BPF_X, 0, 0, 1),
      Stmt(BPF_RET | BPF_A, 0),
      Stmt(BPF_LDX | BPF_W | BPF_MEM, 3),
      Stmt(BPF_MISC | BPF_TXA, 0),
      Stmt(BPF_ALU | BPF_LSH | BPF_K, 8),
      Stmt(BPF_RET | BPF_A, 0)};
  EXPECT_EQ(EvaluateSeccomp(program, Data(12)), 7u);
  EXPECT_EQ(EvaluateSeccomp(program, Data(7)), 7u << 8);
}

TEST(BpfEvaluatorTest, ComputesEveryAluOperation) {
  struct Case {
    uint16_t op;
    uint32_t operand;
    uint32_t expected;  // For A = 100.
  };
  for (const Case& c :
       {Case{BPF_ADD, 5, 105}, Case{BPF_SUB, 101, 0xffffffff},
        Case{BPF_MUL, 3, 300}, Case{BPF_DIV, 7, 14}, Case{BPF_MOD, 7, 2},
        Case{BPF_AND, 0x44, 0x44}, Case{BPF_OR, 0x3, 0x67},
        Case{BPF_XOR, 0x64, 0}, Case{BPF_LSH, 4, 1600}, Case{BPF_RSH, 2, 25},
        Case{BPF_NEG, 0, 0u - 100}}) {
    const std::vector<sock_filter> with_k = {
        Stmt(BPF_LD | BPF_W | BPF_IMM, 100),
        Stmt(BPF_ALU | c.op | BPF_K, c.operand), Stmt(BPF_RET | BPF_A, 0)};
    EXPECT_EQ(EvaluateSeccomp(with_k, Data(0)), c.expected)
        << "op 0x" << std::hex << c.op;
    if (c.op == BPF_NEG) continue;
    // The same through X, loaded by TAX.
    const std::vector<sock_filter> with_x = {
        Stmt(BPF_LD | BPF_W | BPF_IMM, c.operand), Stmt(BPF_MISC | BPF_TAX, 0),
        Stmt(BPF_LD | BPF_W | BPF_IMM, 100), Stmt(BPF_ALU | c.op | BPF_X, 0),
        Stmt(BPF_RET | BPF_A, 0)};
    EXPECT_EQ(EvaluateSeccomp(with_x, Data(0)), c.expected)
        << "op 0x" << std::hex << c.op << " with X";
  }
  const std::vector<sock_filter> length = {Stmt(BPF_LD | BPF_W | BPF_LEN, 0),
                                           Stmt(BPF_RET | BPF_A, 0)};
  EXPECT_EQ(EvaluateSeccomp(length, Data(0)), sizeof(seccomp_data));
}

TEST(BpfEvaluatorTest, FallingOffTheEndKills) {
  const std::vector<sock_filter> program = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset)};
  EXPECT_EQ(EvaluateSeccomp(program, Data(0)), kKillProcess);
}

TEST(BpfEvaluatorTest, JumpPastTheEndKills) {
  const std::vector<sock_filter> conditional = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      Jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  EXPECT_EQ(EvaluateSeccomp(conditional, Data(0)), kAllow);
  EXPECT_EQ(EvaluateSeccomp(conditional, Data(1)), kKillProcess);
  // JA's 32-bit offset must not wrap around to an earlier instruction.
  const std::vector<sock_filter> always = {
      Stmt(BPF_JMP | BPF_JA, 0xffffffff),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  EXPECT_EQ(EvaluateSeccomp(always, Data(0)), kKillProcess);
}

TEST(BpfEvaluatorTest, LoadOutsideOrMisalignedKills) {
  for (uint32_t offset :
       {uint32_t{sizeof(seccomp_data)}, uint32_t{2}, uint32_t{0xfffffffc}}) {
    const std::vector<sock_filter> program = {
        Stmt(BPF_LD | BPF_W | BPF_ABS, offset),
        Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    EXPECT_EQ(EvaluateSeccomp(program, Data(0)), kKillProcess)
        << "offset " << offset;
  }
  // The last word of args[5] is inside.
  const std::vector<sock_filter> last_word = {
      Stmt(BPF_LD | BPF_W | BPF_ABS, sizeof(seccomp_data) - 4),
      Stmt(BPF_RET | BPF_A, 0)};
  seccomp_data data = Data(0);
  data.args[5] = uint64_t{0x1234} << 32;
  EXPECT_EQ(EvaluateSeccomp(last_word, data), 0x1234u);
  // Loads narrower than a word are rejected by the kernel.
  const std::vector<sock_filter> byte_load = {
      Stmt(BPF_LD | BPF_B | BPF_ABS, kArchOffset),
      Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  EXPECT_EQ(EvaluateSeccomp(byte_load, Data(0)), kKillProcess);
}

TEST(BpfEvaluatorTest, UndefinedArithmeticKills) {
  for (const sock_filter& insn :
       {Stmt(BPF_ALU | BPF_DIV | BPF_K, 0), Stmt(BPF_ALU | BPF_MOD | BPF_X, 0),
        Stmt(BPF_ALU | BPF_LSH | BPF_K, 32),
        Stmt(BPF_ALU | BPF_RSH | BPF_K, 40),
        // NEG takes no operand: there is no X form.
        Stmt(BPF_ALU | BPF_NEG | BPF_X, 0)}) {
    const std::vector<sock_filter> program = {
        insn, Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    EXPECT_EQ(EvaluateSeccomp(program, Data(0)), kKillProcess)
        << "code 0x" << std::hex << insn.code;
  }
}

TEST(BpfEvaluatorTest, UnknownOpcodeOrScratchIndexKills) {
  for (const sock_filter& insn :
       {Stmt(BPF_RET | BPF_X, 0), Stmt(0xffff, 0),
        Stmt(BPF_LD | BPF_W | BPF_IND, 0), Stmt(BPF_ST, BPF_MEMWORDS),
        Stmt(BPF_LD | BPF_W | BPF_MEM, BPF_MEMWORDS),
        // eBPF's JNE, which classic BPF does not have.
        Jump(BPF_JMP | 0x50 | BPF_K, 0, 0, 0)}) {
    const std::vector<sock_filter> program = {
        insn, Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    EXPECT_EQ(EvaluateSeccomp(program, Data(0)), kKillProcess)
        << "code 0x" << std::hex << insn.code;
  }
}

TEST(SeccompCompilerTest, ADefaultOfEnosysAnswersClone3Already) {
  // libseccomp refuses a rule with the default action: the sandbox's own
  // clone3 rule must give way, not fail the policy.
  const auto program = Compile(R"pb(
    default_action: ERRNO
    default_errno: "ENOSYS"
    rules { syscalls: "clone" action: ALLOW }
  )pb");
  ASSERT_THAT(program, IsOk());
  EXPECT_EQ(Eval(program, Call("clone", {SIGCHLD})), kAllow);
  EXPECT_EQ(Eval(program, Call("clone", {SIGCHLD | CLONE_NEWUSER})),
            Errno(ENOSYS));
  EXPECT_EQ(Eval(program, Call("clone3")), Errno(ENOSYS));
}

}  // namespace
}  // namespace sandbox
