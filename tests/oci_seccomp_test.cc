// Docker and OCI seccomp profiles (sandbox/oci_seccomp.h): the conversion
// without a kernel, each imported profile compiled and evaluated in the
// userspace BPF evaluator; then Docker's default profile
// (tests/data/docker-default-seccomp.json) under sandbox-run with real
// Debian programs, and the export read back.

#include "sandbox/oci_seccomp.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/policy_builder.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::BinDir;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::SourceDir;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePath;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr uint32_t kLog = SECCOMP_RET_LOG;
constexpr uint32_t kNotify = SECCOMP_RET_USER_NOTIF;
constexpr uint32_t kKillProcess = SECCOMP_RET_KILL_PROCESS;

constexpr uint32_t Errno(int value) {
  return SECCOMP_RET_ERRNO | static_cast<uint32_t>(value);
}

std::string DockerProfilePath() {
  return SourceDir() + "/tests/data/docker-default-seccomp.json";
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file) << "cannot read " << path;
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Imports `json` as on a 6.1 kernel.
absl::StatusOr<OciSeccompImport> Import(const std::string& json,
                                        const std::string& kernel = "6.1") {
  return ImportOciSeccomp(json, {.kernel_version = kernel});
}

// A profile failing what it does not list with EPERM: `entry`, then an
// entry allowing exit_group.
std::string WithEntry(const std::string& entry) {
  return absl::StrCat(
      R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [)", entry,
      R"(, {"names": ["exit_group"], "action": "SCMP_ACT_ALLOW"}]})");
}

// The filter a seccomp section compiles to, as a function of the call.
class Filter {
 public:
  explicit Filter(const proto::Seccomp& seccomp) {
    absl::StatusOr<SeccompProgram> program = CompileSeccomp(seccomp, {});
    EXPECT_THAT(program, IsOk());
    if (program.ok()) program_ = std::move(program->instructions);
  }

  uint32_t operator()(const char* name,
                      std::initializer_list<uint64_t> args = {},
                      uint32_t arch = AUDIT_ARCH_X86_64) const {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr < 0) ADD_FAILURE() << "unknown system call " << name;
    return Eval(nr, args, arch);
  }

  uint32_t Eval(int nr, std::initializer_list<uint64_t> args,
                uint32_t arch = AUDIT_ARCH_X86_64) const {
    seccomp_data data = {};
    data.nr = nr;
    data.arch = arch;
    data.instruction_pointer = 0x401000;
    int i = 0;
    for (uint64_t arg : args) data.args[i++] = arg;
    return EvaluateSeccomp(program_, data);
  }

 private:
  std::vector<sock_filter> program_;
};

// The import of `json`, which must succeed, compiled.
Filter Imported(const std::string& json, const std::string& kernel = "6.1") {
  absl::StatusOr<OciSeccompImport> profile = Import(json, kernel);
  EXPECT_THAT(profile, IsOk()) << json;
  return Filter(profile.ok() ? profile->seccomp : proto::Seccomp());
}

std::vector<std::string> Notes(const std::string& json) {
  absl::StatusOr<OciSeccompImport> profile = Import(json);
  EXPECT_THAT(profile, IsOk()) << json;
  return profile.ok() ? profile->notes : std::vector<std::string>();
}

// --- Import, without a kernel ---

TEST(OciSeccompImportTest,
     DockersProfileAllowsItsListAndFailsTheRestWithEperm) {
  absl::StatusOr<OciSeccompImport> profile =
      Import(ReadFile(DockerProfilePath()));
  ASSERT_THAT(profile, IsOk());
  EXPECT_EQ(profile->seccomp.default_action(), proto::Seccomp::ERRNO);
  EXPECT_EQ(profile->seccomp.default_errno(), "EPERM");
  EXPECT_TRUE(profile->seccomp.dangerous_allow().empty());
  const Filter filter(profile->seccomp);
  for (const char* allowed : {"read", "write", "openat", "execve", "futex",
                              "arch_prctl", "modify_ldt", "rseq"}) {
    EXPECT_EQ(filter(allowed), kAllow) << allowed;
  }
  // Its argument checks.
  EXPECT_EQ(filter("socket", {AF_UNIX}), kAllow);
  EXPECT_EQ(filter("socket", {38}), Errno(EPERM));
  EXPECT_EQ(filter("socket", {39}), kAllow);
  EXPECT_EQ(filter("socket", {40}), Errno(EPERM));
  EXPECT_EQ(filter("personality", {0}), kAllow);
  EXPECT_EQ(filter("personality", {0xffffffff}), kAllow);
  EXPECT_EQ(filter("personality", {1}), Errno(EPERM));
  // Threads and processes, not namespaces; clone3 falls back to clone.
  EXPECT_EQ(filter("clone", {SIGCHLD}), kAllow);
  EXPECT_EQ(filter("clone", {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND}), kAllow);
  EXPECT_EQ(filter("clone", {CLONE_NEWUSER | SIGCHLD}), Errno(EPERM));
  EXPECT_EQ(filter("clone3"), Errno(ENOSYS));
  // What it allows only with capabilities, and what it allows that the
  // sandbox denies.
  EXPECT_EQ(filter("get_mempolicy"), Errno(EPERM));
  EXPECT_EQ(filter("unshare"), Errno(EPERM));
  for (const char* denied :
       {"ptrace", "process_vm_readv", "adjtimex", "seccomp", "bpf", "mount"}) {
    EXPECT_EQ(filter(denied), Errno(EPERM)) << denied;
  }
  EXPECT_EQ(filter("prctl", {PR_SET_NAME}), kAllow);
  EXPECT_EQ(filter("prctl", {PR_SET_SECCOMP}), Errno(EPERM));
  // Foreign ABIs are killed.
  EXPECT_EQ(filter.Eval(3, {}, AUDIT_ARCH_I386), kKillProcess);
  EXPECT_EQ(filter.Eval(0x40000000 | 0, {}), kKillProcess);

  EXPECT_THAT(profile->notes,
              Contains(AllOf(HasSubstr("allows adjtimex"), HasSubstr("ptrace"),
                             HasSubstr("which the sandbox still denies"))));
  EXPECT_THAT(profile->notes, Contains(AllOf(HasSubstr("capabilities"),
                                             HasSubstr("CAP_SYS_ADMIN"))));
  EXPECT_THAT(profile->notes,
              Contains(HasSubstr("those of SCMP_ARCH_X86, SCMP_ARCH_X32 are "
                                 "killed")));
}

TEST(OciSeccompImportTest, ActionsBecomeTheSandboxsOwnNeverLooser) {
  const struct {
    const char* action;
    const char* extra;
    uint32_t expected;
    const char* note;
  } kCases[] = {
      {"SCMP_ACT_ALLOW", "", kAllow, nullptr},
      {"SCMP_ACT_LOG", "", kLog, nullptr},
      {"SCMP_ACT_ERRNO", R"(, "errnoRet": 13)", Errno(EACCES), nullptr},
      {"SCMP_ACT_ERRNO", "", Errno(EPERM), nullptr},
      {"SCMP_ACT_KILL", "", kNotify, nullptr},
      {"SCMP_ACT_KILL_THREAD", "", kNotify, nullptr},
      {"SCMP_ACT_KILL_PROCESS", "", kNotify, nullptr},
      {"SCMP_ACT_TRAP", "", kNotify, "SCMP_ACT_TRAP becomes KILL"},
      {"SCMP_ACT_TRACE", R"(, "errnoRet": 7)", Errno(ENOSYS),
       "SCMP_ACT_TRACE becomes ERRNO ENOSYS"},
      {"SCMP_ACT_NOTIFY", "", kNotify, "SCMP_ACT_NOTIFY becomes KILL"},
  };
  for (const auto& c : kCases) {
    const std::string json = WithEntry(absl::StrCat(
        R"({"names": ["getpid"], "action": ")", c.action, "\"", c.extra, "}"));
    EXPECT_EQ(Imported(json)("getpid"), c.expected) << c.action;
    EXPECT_EQ(Imported(json)("getppid"), Errno(EPERM)) << c.action;
    if (c.note != nullptr) {
      EXPECT_THAT(Notes(json),
                  Contains(AllOf(HasSubstr("syscalls[0]"), HasSubstr(c.note))));
    }
  }
}

TEST(OciSeccompImportTest, DefaultActionsBecomeTheSandboxsOrAreRefused) {
  const struct {
    const char* json_tail;
    uint32_t expected;
  } kCases[] = {
      {R"("SCMP_ACT_KILL")", kNotify},
      {R"("SCMP_ACT_KILL_THREAD")", kNotify},
      {R"("SCMP_ACT_KILL_PROCESS")", kNotify},
      {R"("SCMP_ACT_TRAP")", kNotify},
      {R"("SCMP_ACT_NOTIFY", "listenerPath": "/run/agent.sock")", kNotify},
      {R"("SCMP_ACT_TRACE")", Errno(ENOSYS)},
      {R"("SCMP_ACT_ERRNO")", Errno(EPERM)},
      {R"("SCMP_ACT_ERRNO", "defaultErrnoRet": 38)", Errno(ENOSYS)},
  };
  for (const auto& c : kCases) {
    const std::string json =
        absl::StrCat(R"({"defaultAction": )", c.json_tail,
                     R"(, "syscalls": [{"names": ["getpid"], )"
                     R"("action": "SCMP_ACT_ALLOW"}]})");
    const Filter filter = Imported(json);
    EXPECT_EQ(filter("getppid"), c.expected) << json;
    EXPECT_EQ(filter("getpid"), kAllow) << json;
  }
  for (const char* action : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}) {
    EXPECT_THAT(
        Import(absl::StrCat(R"({"defaultAction": ")", action, R"("})")),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 AllOf(HasSubstr(absl::StrCat("defaultAction: ", action)),
                       HasSubstr("allow-lists only"))));
  }
}

TEST(OciSeccompImportTest, OperatorsCompareAsLibseccompDoes) {
  const struct {
    const char* op;
    uint64_t value;
    uint64_t value_two;
    uint64_t holds;
    uint64_t fails;
  } kCases[] = {
      {"SCMP_CMP_NE", 5, 0, 6, 5},
      {"SCMP_CMP_LT", 5, 0, 4, 5},
      {"SCMP_CMP_LE", 5, 0, 5, 6},
      {"SCMP_CMP_EQ", 5, 0, 5, 4},
      {"SCMP_CMP_GE", 5, 0, 5, 4},
      {"SCMP_CMP_GT", 5, 0, 6, 5},
      {"SCMP_CMP_EQ", 0xffffffffffffffff, 0, 0xffffffffffffffff, 0xffffffff},
      // (arg & value) == valueTwo.
      {"SCMP_CMP_MASKED_EQ", 0xf0, 0x30, 0x35, 0x45},
  };
  for (const auto& c : kCases) {
    const std::string json = WithEntry(absl::StrCat(
        R"({"names": ["fchown"], "action": "SCMP_ACT_ALLOW", "args": [)",
        R"({"index": 1, "value": )", c.value, R"(, "valueTwo": )", c.value_two,
        R"(, "op": ")", c.op, R"("}]})"));
    const Filter filter = Imported(json);
    EXPECT_EQ(filter("fchown", {0, c.holds}), kAllow) << json;
    EXPECT_EQ(filter("fchown", {0, c.fails}), Errno(EPERM)) << json;
  }
}

TEST(OciSeccompImportTest, IncludesAndExcludesAreJudgedByWhatTheSandboxGrants) {
  const struct {
    const char* filters;
    const char* kernel;
    bool applies;
  } kCases[] = {
      // The sandboxee holds no capability.
      {R"("includes": {"caps": ["CAP_SYS_ADMIN"]})", "6.1", false},
      {R"("excludes": {"caps": ["CAP_SYS_ADMIN"]})", "6.1", true},
      // It runs on the host's architecture.
      {R"("includes": {"arches": ["amd64", "x32"]})", "6.1", true},
      {R"("includes": {"arches": ["x86_64"]})", "6.1", true},
      {R"("includes": {"arches": ["s390", "s390x"]})", "6.1", false},
      {R"("excludes": {"arches": ["amd64"]})", "6.1", false},
      {R"("excludes": {"arches": ["arm64"]})", "6.1", true},
      // On this kernel.
      {R"("includes": {"minKernel": "4.8"})", "4.7", false},
      {R"("includes": {"minKernel": "4.8"})", "4.8", true},
      {R"("includes": {"minKernel": "4.8"})", "5.0", true},
      {R"("excludes": {"minKernel": "4.8"})", "4.7", true},
      {R"("excludes": {"minKernel": "4.8"})", "4.10", false},
      {R"("includes": {"arches": ["amd64"]},)"
       R"( "excludes": {"caps": ["CAP_SYS_ADMIN"], "minKernel": "7.0"})",
       "6.1", true},
  };
  for (const auto& c : kCases) {
    const std::string json = WithEntry(
        absl::StrCat(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW", )",
                     c.filters, "}"));
    EXPECT_EQ(Imported(json, c.kernel)("getpid"),
              c.applies ? kAllow : Errno(EPERM))
        << json << " on " << c.kernel;
  }
}

TEST(OciSeccompImportTest, UnknownAndForeignCallsAreSkippedWithANote) {
  const std::string json = WithEntry(
      R"({"names": ["getpid", "no_such_call", "socketcall", "chown32"],)"
      R"( "action": "SCMP_ACT_ALLOW"})");
  EXPECT_EQ(Imported(json)("getpid"), kAllow);
  EXPECT_THAT(Notes(json), Contains(AllOf(HasSubstr("does not know"),
                                          HasSubstr("no_such_call"))));
  EXPECT_THAT(Notes(json),
              Contains(HasSubstr("skipped 2 system calls of other "
                                 "architectures (socketcall, chown32)")));
  // Docker's older single-name form.
  EXPECT_EQ(Imported(WithEntry(
                R"({"name": "getpid", "action": "SCMP_ACT_ALLOW"})"))("getpid"),
            kAllow);
}

TEST(OciSeccompImportTest, TheFixedDenyListStaysDeniedWithoutDangerousAllow) {
  const std::string json = WithEntry(
      R"({"names": ["getpid", "ptrace", "mount", "clone3"],)"
      R"( "action": "SCMP_ACT_ALLOW"},)"
      R"( {"names": ["bpf"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13})");
  absl::StatusOr<OciSeccompImport> profile = Import(json);
  ASSERT_THAT(profile, IsOk());
  EXPECT_TRUE(profile->seccomp.dangerous_allow().empty());
  const Filter filter(profile->seccomp);
  EXPECT_EQ(filter("getpid"), kAllow);
  EXPECT_EQ(filter("ptrace"), Errno(EPERM));
  EXPECT_EQ(filter("mount"), Errno(EPERM));
  EXPECT_EQ(filter("clone3"), Errno(EPERM));
  // A rule that fails a denied call is kept: it allows nothing.
  EXPECT_EQ(filter("bpf"), Errno(EACCES));
  EXPECT_THAT(profile->notes,
              Contains("allows ptrace, mount, clone3, which the sandbox still "
                       "denies"));
}

TEST(OciSeccompImportTest, ClonesFlagsAreLeftToTheSandboxsStricterCheck) {
  // Docker's rule: none of CLONE_NEWNS, NEWUTS, NEWIPC, NEWUSER, NEWPID,
  // NEWNET, NEWCGROUP (2114060288); clone3 fails with ENOSYS.
  const std::string docker = WithEntry(
      R"({"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0,)"
      R"( "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},)"
      R"( {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})");
  const Filter filter = Imported(docker);
  EXPECT_EQ(filter("clone", {SIGCHLD}), kAllow);
  EXPECT_EQ(filter("clone", {CLONE_NEWNET | SIGCHLD}), Errno(EPERM));
  EXPECT_EQ(filter("clone3"), Errno(ENOSYS));
  EXPECT_THAT(Notes(docker), Not(Contains(HasSubstr("clone"))));
  // The calls beside clone in that entry keep the condition.
  const std::string beside = WithEntry(
      R"({"names": ["getpid", "clone", "getppid"], "action": "SCMP_ACT_ALLOW",)"
      R"( "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,)"
      R"( "op": "SCMP_CMP_MASKED_EQ"}]})");
  EXPECT_EQ(Imported(beside)("clone", {SIGCHLD}), kAllow);
  EXPECT_EQ(Imported(beside)("getpid", {0}), kAllow);
  EXPECT_EQ(Imported(beside)("getpid", {CLONE_NEWNET}), Errno(EPERM));
  EXPECT_EQ(Imported(beside)("getppid", {CLONE_NEWNET}), Errno(EPERM));

  // A condition narrower than the sandbox's check cannot stand beside it:
  // that clone rule goes, and with it every clone.
  const std::string narrower = WithEntry(
      R"({"names": ["clone", "getpid"], "action": "SCMP_ACT_ALLOW", "args":)"
      R"( [{"index": 0, "value": 17, "op": "SCMP_CMP_EQ"}]})");
  EXPECT_EQ(Imported(narrower)("clone", {SIGCHLD}), Errno(EPERM));
  EXPECT_EQ(Imported(narrower)("getpid", {17}), kAllow);
  EXPECT_THAT(Notes(narrower),
              Contains(AllOf(HasSubstr("syscalls[0]: dropped clone"),
                             HasSubstr("namespace flags"))));

  // One that only holds with namespace flags allows nothing here.
  const std::string namespaces = WithEntry(
      R"({"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0,)"
      R"( "value": 268435456, "valueTwo": 268435456,)"
      R"( "op": "SCMP_CMP_MASKED_EQ"}]})");
  EXPECT_EQ(Imported(namespaces)("clone", {CLONE_NEWUSER}), Errno(EPERM));
  EXPECT_THAT(Notes(namespaces),
              Contains(HasSubstr("allows clone with namespace flags")));

  // Where clone is allowed, clone3 fails with ENOSYS whatever the profile
  // says, so that libc falls back to clone.
  const std::string kill_clone3 =
      WithEntry(R"({"names": ["clone"], "action": "SCMP_ACT_ALLOW"},)"
                R"( {"names": ["clone3"], "action": "SCMP_ACT_KILL_PROCESS"})");
  EXPECT_EQ(Imported(kill_clone3)("clone3"), Errno(ENOSYS));
  EXPECT_THAT(Notes(kill_clone3),
              Contains(HasSubstr("syscalls[1]: clone3 fails with ENOSYS")));

  // A profile failing what it does not list with ENOSYS, as podman's do.
  const Filter enosys = Imported(
      R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,)"
      R"( "syscalls": [{"names": ["clone"], "action": "SCMP_ACT_ALLOW"}]})");
  EXPECT_EQ(enosys("clone", {SIGCHLD}), kAllow);
  EXPECT_EQ(enosys("clone", {CLONE_NEWPID | SIGCHLD}), Errno(ENOSYS));
  EXPECT_EQ(enosys("clone3"), Errno(ENOSYS));
}

TEST(OciSeccompImportTest, ARuleTheCompilerRefusesNamesItsEntry) {
  EXPECT_THAT(
      Import(WithEntry(R"({"names": ["prctl"], "action": "SCMP_ACT_ALLOW",)"
                       R"( "args": [{"index": 0, "value": 20,)"
                       R"( "op": "SCMP_CMP_GE"}]})")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("syscalls[0]: allows prctl(PR_SET_SECCOMP)"),
                     Not(HasSubstr("seccomp.rules")))));
}

TEST(OciSeccompImportTest, AMalformedProfileIsRejectedWithItsJsonPath) {
  const std::string allow_getpid =
      R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW"})";
  const struct {
    std::string json;
    std::string error;
  } kCases[] = {
      {WithEntry(absl::StrCat(
           allow_getpid,
           R"(, {"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args":)"
           R"( [{"index": 0, "value": 1, "op": "SCMP_CMP_FOO"}]})")),
       R"(syscalls[1].args[0].op: unknown operator "SCMP_CMP_FOO")"},
      {WithEntry(R"({"names": ["getpid"], "action": "SCMP_ACT_FOO"})"),
       R"(syscalls[0].action: unknown action "SCMP_ACT_FOO")"},
      {WithEntry(R"({"names": ["getpid"]})"), "syscalls[0].action: missing"},
      {WithEntry(R"({"action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0].names: missing"},
      {WithEntry(R"({"name": "getppid", "names": ["getpid"],)"
                 R"( "action": "SCMP_ACT_ALLOW"})"),
       "syscalls[0]: has both name and names"},
      {WithEntry(R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW",)"
                 R"( "args": [{"value": 1, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].index: missing"},
      {WithEntry(
           R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW",)"
           R"( "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].index: 6 is not an argument (0..5)"},
      {WithEntry(R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW",)"
                 R"( "args": [{"index": 0, "value": 1}]})"),
       "syscalls[0].args[0].op: missing"},
      {WithEntry(R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args":)"
                 R"( [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},)"
                 R"( {"index": 0, "value": 2, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[1]: a second condition on argument 0"},
      {WithEntry(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO",)"
                 R"( "errnoRet": 0})"),
       "syscalls[0].errnoRet: 0 would have the calls succeed"},
      {WithEntry(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO",)"
                 R"( "errnoRet": 5000})"),
       "syscalls[0].errnoRet: 5000 is not an errno"},
      {WithEntry(R"({"names": ["getpid"], "action": "SCMP_ACT_ALLOW",)"
                 R"( "includes": {"minKernel": "4.x"}})"),
       R"(syscalls[0].includes.minKernel: "4.x" is not a kernel version)"},
      {R"({"syscalls": []})", "defaultAction: missing"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 0})",
       "defaultErrnoRet: 0 would"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO",)"
       R"( "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]})",
       "architectures: none is this host's, SCMP_ARCH_X86_64"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FLAG_FOO"]})",
       R"(flags[0]: unknown flag "SECCOMP_FLAG_FOO")"},
      // Protobuf's own errors: types, unknown keys, syntax.
      {WithEntry(
           R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW",)"
           R"( "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]})"),
       "syscalls[0].args[0].value"},
      {WithEntry(R"({"names": ["getpid"], "action": "SCMP_ACT_ERRNO",)"
                 R"( "errnoret": 1})"),
       "errnoret"},
      {R"({"defaultAction": "SCMP_ACT_ERRNO", )", "not a seccomp profile"},
      {"", "not a seccomp profile"},
  };
  for (const auto& c : kCases) {
    EXPECT_THAT(Import(c.json), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr(c.error)))
        << c.json;
  }
  EXPECT_THAT(ImportOciSeccomp(R"({"defaultAction": "SCMP_ACT_ERRNO"})",
                               {.kernel_version = "six"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("kernel_version")));
}

TEST(OciSeccompImportTest, ArchitecturesFlagsAndListenerAreNotedAsIgnored) {
  const std::string json = R"({"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "flags": ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
      "listenerPath": "/run/agent.sock",
      "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})";
  const std::vector<std::string> notes = Notes(json);
  EXPECT_THAT(notes, Contains(HasSubstr("those of SCMP_ARCH_X86 are killed")));
  EXPECT_THAT(notes, Contains("flags: ignored: SECCOMP_FILTER_FLAG_LOG, "
                              "SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
  EXPECT_THAT(notes, Contains(HasSubstr("listenerPath: ignored")));
  EXPECT_EQ(Imported(json).Eval(3, {}, AUDIT_ARCH_I386), kKillProcess);
}

TEST(OciSeccompImportTest, SetSeccompReplacesTheRulesAndKeepsDeferral) {
  absl::StatusOr<OciSeccompImport> profile = Import(WithEntry(
      R"({"names": ["close", "munmap"], "action": "SCMP_ACT_ALLOW"})"));
  ASSERT_THAT(profile, IsOk());
  PolicyBuilder builder;
  builder.AllowSyscall("getpid")
      .mutable_proto()
      .mutable_seccomp()
      ->set_defer_until_lockdown(true);
  builder.SetSeccomp(profile->seccomp);
  EXPECT_TRUE(builder.proto().seccomp().defer_until_lockdown());
  EXPECT_EQ(builder.proto().seccomp().default_action(), proto::Seccomp::ERRNO);
  ASSERT_EQ(builder.proto().seccomp().rules_size(), 2);
  EXPECT_EQ(builder.proto().seccomp().rules(0).syscalls(0), "close");
  EXPECT_THAT(builder.Build(), IsOk());
}

// --- Export ---

// `json` without its whitespace (the profiles' strings have none).
std::string Squeezed(const std::string& json) {
  return absl::StrReplaceAll(json, {{" ", ""}, {"\n", ""}});
}

TEST(OciSeccompExportTest, ExportsWhatRuntimesReadWithNumbersAsNumbers) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::Default();
  ASSERT_THAT(builder, IsOk());
  absl::StatusOr<std::string> json =
      ExportOciSeccomp(builder->proto().seccomp());
  ASSERT_THAT(json, IsOk());
  const std::string squeezed = Squeezed(*json);
  EXPECT_THAT(squeezed,
              HasSubstr(R"("defaultAction":"SCMP_ACT_KILL_PROCESS")"));
  EXPECT_THAT(squeezed, HasSubstr(R"("architectures":["SCMP_ARCH_X86_64"])"));
  EXPECT_THAT(squeezed, HasSubstr(R"({"names":["read","write",)"));
  // The sandbox's own checks, written out; 64-bit values as JSON numbers
  // (runc and crun read no strings there), index 0 present.
  EXPECT_THAT(squeezed,
              HasSubstr(absl::StrCat(
                  R"({"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[)",
                  R"({"index":0,"value":)", NamespaceCloneFlags(),
                  R"(,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]})")));
  EXPECT_THAT(squeezed,
              HasSubstr(R"({"names":["clone3"],"action":"SCMP_ACT_ERRNO",)"
                        R"("errnoRet":38})"));
  EXPECT_THAT(squeezed, Not(HasSubstr(R"("value":")")));
  EXPECT_THAT(squeezed,
              HasSubstr(R"({"names":["socket"],"action":"SCMP_ACT_ERRNO",)"
                        R"("errnoRet":97,"args":[{"index":0,"value":10,)"
                        R"("op":"SCMP_CMP_GT"}]})"));
  EXPECT_THAT(squeezed,
              HasSubstr(R"({"index":0,"value":0,"op":"SCMP_CMP_EQ"})"));

  proto::Seccomp errno_default;
  errno_default.set_default_action(proto::Seccomp::ERRNO);
  errno_default.set_default_errno("EACCES");
  json = ExportOciSeccomp(errno_default);
  ASSERT_THAT(json, IsOk());
  EXPECT_THAT(Squeezed(*json), HasSubstr(R"("defaultAction":"SCMP_ACT_ERRNO",)"
                                         R"("defaultErrnoRet":13)"));
  errno_default.set_default_errno("EWHAT");
  EXPECT_THAT(ExportOciSeccomp(errno_default),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("seccomp.default_errno")));
}

// Every system call number of the native table and some above it, with
// arguments that the shipped policies and Docker's profile tell apart.
void ExpectSameDecisions(const proto::Seccomp& original,
                         const std::string& what) {
  absl::StatusOr<std::string> json = ExportOciSeccomp(original);
  ASSERT_THAT(json, IsOk()) << what;
  absl::StatusOr<OciSeccompImport> back = Import(*json);
  ASSERT_THAT(back, IsOk()) << what << "\n" << *json;
  const Filter before(original);
  const Filter after(back->seccomp);
  const std::initializer_list<uint64_t> kArgSets[] = {
      {0, 0, 0},
      {SIGCHLD},
      {CLONE_NEWUSER | SIGCHLD},
      {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND},
      {PR_SET_SECCOMP},
      {PR_SET_NAME},
      {0x100000000 | PR_SET_SECCOMP},
      {AF_UNIX, SOCK_STREAM},
      {AF_NETLINK, SOCK_RAW},
      {38},
      {40},
      {0xffffffff},
      {1, 0x5412, 0, 0, 0, 0},
      {3, PROT_READ | PROT_EXEC},
      {~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}},
  };
  int compared = 0;
  for (int nr = 0; nr < 480; ++nr) {
    for (const auto& args : kArgSets) {
      // The program's own first execve, which the sandbox allows itself
      // where no rule names execve (the supervisor's notification), is
      // allowed outright in a profile.
      if (nr == __NR_execve &&
          before.Eval(nr, args) == SECCOMP_RET_USER_NOTIF) {
        EXPECT_EQ(after.Eval(nr, args), SECCOMP_RET_ALLOW) << what;
        ++compared;
        continue;
      }
      EXPECT_EQ(before.Eval(nr, args), after.Eval(nr, args))
          << what << ": " << SyscallName(AUDIT_ARCH_X86_64, nr) << " with "
          << absl::StrJoin(args, ", ");
      ++compared;
    }
  }
  EXPECT_EQ(before.Eval(3, {}, AUDIT_ARCH_I386),
            after.Eval(3, {}, AUDIT_ARCH_I386));
  EXPECT_EQ(compared, 480 * 15);
}

TEST(OciSeccompExportTest, ExportThenImportDecidesEveryCallTheSame) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::Default();
  ASSERT_THAT(builder, IsOk());
  ExpectSameDecisions(builder->proto().seccomp(), "the default policy");

  absl::StatusOr<PolicyBuilder> plugin =
      PolicyBuilder::FromTextFile(SourceDir() + "/policies/plugin.textproto");
  ASSERT_THAT(plugin, IsOk());
  ExpectSameDecisions(plugin->proto().seccomp(), "policies/plugin.textproto");

  absl::StatusOr<OciSeccompImport> docker =
      Import(ReadFile(DockerProfilePath()));
  ASSERT_THAT(docker, IsOk());
  ExpectSameDecisions(docker->seccomp, "Docker's profile");

  const PolicyBuilder mixed =
      std::move(PolicyBuilder()
                    .AllowSyscalls({"read", "write", "clone", "exit_group"})
                    .AllowSyscall("mmap", {Arg(2).MaskedEq(PROT_EXEC, 0)})
                    .AllowSyscall("ioctl", {Arg(1) == 0x5401, Arg(0) <= 2})
                    .BlockSyscallWithErrno("openat", EACCES)
                    .LogSyscall("getpid")
                    .SetDefaultErrno(ENOSYS));
  ExpectSameDecisions(mixed.proto().seccomp(), "a policy of every action");
}

// --- sandbox-run ---

testing::ProgramRun RunCli(std::vector<std::string> args,
                           const std::string& stdout_path = "") {
  return testing::RunHostProgram(BinDir() + "/sandbox-run", std::move(args),
                                 stdout_path);
}

std::vector<std::string> UnderDockersProfile(std::vector<std::string> command) {
  std::vector<std::string> args = {"--seccomp-profile", DockerProfilePath(),
                                   "--ro-bind", TesteePath() + ":/testee",
                                   "--"};
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

// A file under /tmp holding `text`, removed with the object.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char path[] = "/tmp/sandbox-oci-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    path_ = path;
    EXPECT_EQ(write(fd, text.data(), text.size()),
              static_cast<ssize_t>(text.size()));
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(OciSeccompCliTest, DebianProgramsRunUnderDockersProfile) {
  if (access("/usr/bin/python3", X_OK) != 0) {
    GTEST_SKIP() << "no /usr/bin/python3 on this host";
  }
  // python3 forks a child through posix_spawn: clone3 first, then clone.
  testing::ProgramRun python = RunCli(UnderDockersProfile(
      {"/usr/bin/python3", "-c",
       "import hashlib, json, subprocess; "
       "child = subprocess.run(['/bin/echo', 'child'], capture_output=True); "
       "print(json.dumps([child.stdout.decode().strip(), "
       "hashlib.sha256(b'hi').hexdigest()[:8]]))"}));
  EXPECT_EQ(python.exit_status, 0) << python.err;
  EXPECT_THAT(python.out, HasSubstr(R"(["child", "8f434346"])"));

  testing::ProgramRun shell = RunCli(UnderDockersProfile(
      {"/bin/sh", "-c",
       "ls /usr/bin | sort | head -3 | wc -l; echo hi | tr a-z A-Z"}));
  EXPECT_EQ(shell.exit_status, 0) << shell.err;
  EXPECT_EQ(shell.out, "3\nHI\n");

  // tar runs gzip as a child of its own.
  testing::ProgramRun archive = RunCli(UnderDockersProfile(
      {"/bin/sh", "-c",
       "set -e; cd /tmp; mkdir d; echo payload > d/f; tar czf d.tgz d; "
       "gzip -t d.tgz; rm -r d; tar xzf d.tgz; cat d/f; "
       "gzip -c d/f | gzip -dc"}));
  EXPECT_EQ(archive.exit_status, 0) << archive.err;
  EXPECT_EQ(archive.out, "payload\npayload\n");
}

TEST(OciSeccompCliTest, ACallTheProfileDoesNotAllowFailsWithItsErrno) {
  // get_mempolicy (Docker allows it with CAP_SYS_NICE only): allowed, its
  // bad pointer would fail it with EFAULT; the default policy kills it.
  testing::ProgramRun run =
      RunCli(UnderDockersProfile({"/testee", "syscall", "get_mempolicy", "1"}));
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("errno=EPERM"));

  // ptrace is in Docker's list, but the sandbox still denies it.
  run = RunCli(UnderDockersProfile({"/testee", "ptrace"}));
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("errno=EPERM"));
  EXPECT_THAT(run.err, HasSubstr("sandbox-run: seccomp profile: allows "));
  EXPECT_THAT(run.err, HasSubstr("ptrace, which the sandbox still denies"));
}

TEST(OciSeccompCliTest, AMalformedProfileIsRejectedWithItsJsonPath) {
  const TempFile profile(
      WithEntry(R"({"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args":)"
                R"( [{"index": 0, "value": 1, "op": "SCMP_CMP_FOO"}]})"));
  testing::ProgramRun run =
      RunCli({"--seccomp-profile", profile.path(), "--", "/bin/true"});
  EXPECT_EQ(run.exit_status, 125);
  EXPECT_THAT(
      run.err,
      HasSubstr(absl::StrCat(
          "sandbox-run: --seccomp-profile ", profile.path(),
          R"(: syscalls[0].args[0].op: unknown operator "SCMP_CMP_FOO")")));

  run = RunCli(
      {"--seccomp-profile", "/nonexistent/profile.json", "--", "/bin/true"});
  EXPECT_EQ(run.exit_status, 125);
  EXPECT_THAT(run.err, HasSubstr("/nonexistent/profile.json: cannot open"));
}

TEST(OciSeccompCliTest, TheExportedProfileImportsBackAndRuns) {
  const TempFile exported("");
  testing::ProgramRun run =
      RunCli({"--export-seccomp-profile"}, exported.path());
  EXPECT_EQ(run.exit_status, 0) << run.err;
  const std::string json = ReadFile(exported.path());
  EXPECT_THAT(json, HasSubstr("\"defaultAction\": \"SCMP_ACT_KILL_PROCESS\""));

  run = RunCli({"--seccomp-profile", exported.path(), "--ro-bind",
                TesteePath() + ":/testee", "--", "/testee", "ptrace"});
  EXPECT_EQ(run.exit_status, 159) << run.err;
  EXPECT_THAT(run.err, HasSubstr("violation: ptrace"));
  EXPECT_THAT(run.err, Not(HasSubstr("seccomp profile:")));
  run = RunCli(
      {"--seccomp-profile", exported.path(), "--", "/bin/sh", "-c", "echo ok"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(run.out, "ok\n");

  // What the import made of Docker's profile, as the sandbox runs it.
  run = RunCli(
      {"--seccomp-profile", DockerProfilePath(), "--export-seccomp-profile"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\"defaultErrnoRet\": 1"));
  EXPECT_THAT(run.out, Not(HasSubstr("\"ptrace\"")));

  run = RunCli({"--export-seccomp-profile", "--", "/bin/true"});
  EXPECT_EQ(run.exit_status, 125);
  EXPECT_THAT(run.err, HasSubstr("runs no program"));
}

TEST(OciSeccompCliTest, HelpDocumentsTheProfileFlags) {
  testing::ProgramRun run = RunCli({"--help"});
  EXPECT_EQ(run.exit_status, 0);
  EXPECT_THAT(run.out, HasSubstr("--seccomp-profile FILE"));
  EXPECT_THAT(run.out, HasSubstr("--export-seccomp-profile"));
}

}  // namespace
}  // namespace sandbox
