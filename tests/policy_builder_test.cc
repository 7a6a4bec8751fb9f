// PolicyBuilder: validation of bad policies (each error names its field and,
// for text, where it stands), defaults, and what the builder methods write.

#include "sandbox/policy_builder.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <ostream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sandbox/internal/policy_internal.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A policy in text that Build() (or the parser) must reject. `@` in `text`
// marks where the error must point; it is removed before parsing.
struct BadPolicy {
  std::string name;
  std::string text;
  // The field the message names first; empty for a syntax error.
  std::string field;
  std::string message;
};

// The 1-based "line:column" of the `@` in `text`, and `text` without it.
std::pair<std::string, std::string> TakeMarker(absl::string_view text) {
  const size_t at = text.find('@');
  if (at == absl::string_view::npos) {
    ADD_FAILURE() << "no @ marker in " << text;
    return {"", std::string(text)};
  }
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {absl::StrCat(line, ":", at - line_start + 1),
          absl::StrCat(text.substr(0, at), text.substr(at + 1))};
}

void PrintTo(const BadPolicy& c, std::ostream* os) { *os << c.name; }

class BadPolicyTest : public ::testing::TestWithParam<BadPolicy> {};

TEST_P(BadPolicyTest, NamesTheFieldAndWhereItStands) {
  const BadPolicy& c = GetParam();
  const auto [location, text] = TakeMarker(c.text);
  const std::string prefix =
      c.field.empty()
          ? absl::StrCat("test.textproto:", location, ": ")
          : absl::StrCat("test.textproto:", location, ": ", c.field, ": ");
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromText(text, "test.textproto");
  absl::Status status =
      builder.ok() ? builder->Build().status() : builder.status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               AllOf(StartsWith(prefix), HasSubstr(c.message))))
      << text;
}

TEST_P(BadPolicyTest, FromProtoNamesTheFieldWithoutALocation) {
  const BadPolicy& c = GetParam();
  const std::string text = TakeMarker(c.text).second;
  proto::Policy policy;
  const bool parsed =
      google::protobuf::TextFormat::ParseFromString(text, &policy);
  if (c.field.empty()) {
    // A syntax error: there is no proto to build.
    EXPECT_FALSE(parsed);
    return;
  }
  ASSERT_TRUE(parsed);
  EXPECT_THAT(
      PolicyBuilder::FromProto(policy).Build(),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(StartsWith(c.field + ": "), HasSubstr(c.message))));
}

// Raw strings are R"(...)", not R"pb(...)": clang-format would reflow a
// text proto, markers and all.
INSTANTIATE_TEST_SUITE_P(
    Policies, BadPolicyTest,
    ::testing::Values(
        BadPolicy{"RelativeBindSource",
                  R"(filesystem { mounts { bind { @source: "usr" } } })",
                  "filesystem.mounts[0].bind.source",
                  "must be an absolute path, got 'usr'"},
        BadPolicy{"BindTargetDotDot", R"(
filesystem {
  mounts { bind { source: "/usr" @target: "/usr/../etc" } }
})",
                  "filesystem.mounts[0].bind.target",
                  "must not contain '..' components"},
        BadPolicy{
            "BindTargetRelativeDotDot",
            R"(filesystem { mounts { bind { source: "/" @target: ".." } } })",
            "filesystem.mounts[0].bind.target",
            "must be an absolute path, got '..'"},
        BadPolicy{"SecondMountPointsAtItsOwnLine", R"(
filesystem {
  mounts { tmpfs { target: "/tmp" size: "1M" } }
  mounts { bind { @source: "lib" } }
})",
                  "filesystem.mounts[1].bind.source", "absolute path"},
        BadPolicy{
            "BindReplacingTheRoot",
            R"(filesystem { mounts { bind { source: "/usr" @target: "/" } } })",
            "filesystem.mounts[0].bind.target", "cannot replace the root"},
        // The size field is absent: the error points at its message.
        BadPolicy{"TmpfsWithoutSize",
                  R"(filesystem { mounts { @tmpfs { target: "/tmp" } } })",
                  "filesystem.mounts[0].tmpfs.size", "is required"},
        BadPolicy{"TmpfsBadSize", R"(
filesystem {
  mounts { tmpfs { target: "/tmp" @size: "12Q" } }
})",
                  "filesystem.mounts[0].tmpfs.size", "invalid size '12Q'"},
        BadPolicy{"TmpfsBadMode", R"(
filesystem {
  mounts { tmpfs { target: "/tmp" size: "1M" @mode: 65535 } }
})",
                  "filesystem.mounts[0].tmpfs.mode", "not a permission mode"},
        BadPolicy{"MountNeitherBindNorTmpfs", R"(filesystem { @mounts {} })",
                  "filesystem.mounts[0]", "needs either bind or tmpfs"},
        BadPolicy{"MountInsideProc", R"(
filesystem {
  @mounts { tmpfs { target: "/proc/sys" size: "1M" } }
})",
                  "filesystem.mounts[0]", "inside /proc"},
        BadPolicy{"MountAtDev",
                  R"(filesystem { @mounts { bind { source: "/dev" } } })",
                  "filesystem.mounts[0]", "inside /dev"},
        BadPolicy{"MountInsideTheOldRoot", R"(
filesystem {
  @mounts { bind { source: "/usr" target: "/.oldroot/tmp/x" } }
})",
                  "filesystem.mounts[0]", "inside /.oldroot"},
        BadPolicy{"ZeroRootSize", R"(filesystem { @root_size: "0" })",
                  "filesystem.root_size", "must be greater than 0"},
        BadPolicy{"RelativeCwd", R"(filesystem { @cwd: "tmp" })",
                  "filesystem.cwd", "must be an absolute path"},
        BadPolicy{"HostnameWithoutUts", R"(
namespaces { uts: false }
@hostname: "box")",
                  "hostname", "needs the UTS namespace"},
        BadPolicy{"HostnameWithBadCharacter", R"(@hostname: "my box")",
                  "hostname", "'my box' has a character outside"},
        BadPolicy{"MountsWithoutMountNamespace", R"(
namespaces { mount: false }
filesystem { @mounts { bind { source: "/usr" } } })",
                  "filesystem.mounts", "needs the mount namespace"},
        BadPolicy{"LandlockFallbackWithoutUserNamespace", R"(
namespaces { user: false @landlock_fallback: true })",
                  "namespaces.landlock_fallback",
                  "only applies with a user namespace"},
        BadPolicy{"LandlockFallbackWithoutMountNamespace", R"(
namespaces { mount: false @landlock_fallback: true })",
                  "namespaces.landlock_fallback", "needs a mount namespace"},
        BadPolicy{"LandlockFallbackBindElsewhere", R"(
namespaces { landlock_fallback: true }
filesystem { mounts { bind { source: "/usr" @target: "/opt/usr" } } })",
                  "filesystem.mounts[0].bind.target",
                  "namespaces.landlock_fallback cannot honour"},
        BadPolicy{"ProcWithoutPidNamespace", R"(
namespaces { pid: false }
filesystem { @proc: true })",
                  "filesystem.proc", "needs the pid namespace"},
        BadPolicy{"UnknownSyscall", R"(
seccomp {
  rules { action: ALLOW syscalls: "read" }
  rules { action: ALLOW syscalls: "write" @syscalls: "opne" }
})",
                  "seccomp.rules[1].syscalls[1]", "unknown system call 'opne'"},
        BadPolicy{"DangerousSyscallWithoutDangerousAllow",
                  R"(seccomp { rules { action: ALLOW @syscalls: "ptrace" } })",
                  "seccomp.rules[0].syscalls[0]",
                  "name it in seccomp.dangerous_allow"},
        BadPolicy{"DangerousAllowOfAnOrdinaryCall",
                  R"(seccomp { @dangerous_allow: "read" })",
                  "seccomp.dangerous_allow[0]", "not on the fixed deny list"},
        BadPolicy{"BadErrnoName", R"(
seccomp {
  rules { syscalls: "openat" action: ERRNO @error: "EWHAT" }
})",
                  "seccomp.rules[0].error", "unknown errno 'EWHAT'"},
        // default_errno is absent: the error points at seccomp.
        BadPolicy{"DefaultErrnoMissing",
                  R"(@seccomp { default_action: ERRNO })",
                  "seccomp.default_errno", "is required"},
        BadPolicy{"NofileThree", R"(limits { @nofile: 3 })", "limits.nofile",
                  "3 is outside 8..65536"},
        BadPolicy{"NegativeWallTime", R"(limits { @wall_time_seconds: -1 })",
                  "limits.wall_time_seconds", "finite number >= 0"},
        BadPolicy{"AddressSpaceTooSmall", R"(limits { @address_space: "1M" })",
                  "limits.address_space", "below 16M"},
        BadPolicy{"SwapWithoutMemory", R"(limits { @allow_swap: true })",
                  "limits.allow_swap", "only applies with limits.memory"},
        BadPolicy{"EndOnLimitWithoutACap",
                  R"(limits { cpus: 0.5 @end_on_limit: true })",
                  "limits.end_on_limit",
                  "only applies with limits.pids or limits.memory"},
        BadPolicy{"EnvWithoutEquals", R"(
env: "A=1"
@env: "NOVALUE")",
                  "env[1]", "expected KEY=VALUE, got 'NOVALUE'"},
        BadPolicy{"OutsideUidZero", R"(user { @outside_uid: 0 })",
                  "user.outside_uid", "must not be 0"},
        // The parser's own errors carry its line and column; for an unknown
        // field, protobuf points just past the name.
        BadPolicy{"UnknownField", R"(
name: "x"
namespacez @{ user: true })",
                  "", "no field named \"namespacez\""},
        BadPolicy{"WrongValueType", R"(limits { nofile: @"many" })", "",
                  "Expected integer"}),
    [](const ::testing::TestParamInfo<BadPolicy>& info) {
      return info.param.name;
    });

TEST(PolicyBuilderTest, FillsInDefaults) {
  absl::StatusOr<Policy> policy = PolicyBuilder().Build();
  ASSERT_THAT(policy, IsOk());
  const proto::Policy& p = policy->proto();
  const proto::Namespaces& ns = p.namespaces();
  EXPECT_TRUE(ns.user() && ns.pid() && ns.net() && ns.ipc() && ns.uts() &&
              ns.mount() && ns.cgroup())
      << ns.DebugString();
  EXPECT_EQ(p.hostname(), "sandbox");
  EXPECT_EQ(p.user().uid(), 1000u);
  EXPECT_EQ(p.user().gid(), 1000u);
  EXPECT_EQ(p.limits().nofile(), 1024u);
  EXPECT_EQ(p.filesystem().root_size(), "1M");
  EXPECT_EQ(p.filesystem().cwd(), "/");
  EXPECT_TRUE(p.filesystem().proc());
  EXPECT_TRUE(p.filesystem().dev());
  EXPECT_FALSE(p.filesystem().writable_root());
  EXPECT_EQ(p.seccomp().default_action(), proto::Seccomp::KILL);
  EXPECT_EQ(policy->limits().nofile, 1024u);
  EXPECT_EQ(policy->limits().root_size, uint64_t{1} << 20);
  EXPECT_EQ(internal::StateOf(*policy).bootstrap_fd(), 1024);
}

TEST(PolicyBuilderTest, EmptyTextIsTheDefaultPolicy) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromText("");
  ASSERT_THAT(builder, IsOk());
  absl::StatusOr<Policy> from_text = builder->Build();
  absl::StatusOr<Policy> from_code = PolicyBuilder().Build();
  ASSERT_THAT(from_text, IsOk());
  ASSERT_THAT(from_code, IsOk());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      from_text->proto(), from_code->proto()));
}

TEST(PolicyBuilderTest, TurnedOffNamespacesChangeTheirDefaults) {
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromText(R"pb(namespaces { uts: false mount: false })pb");
  ASSERT_THAT(builder, IsOk());
  absl::StatusOr<Policy> policy = builder->Build();
  ASSERT_THAT(policy, IsOk());
  // No hostname without UTS, no /proc or /dev without a mount namespace.
  EXPECT_EQ(policy->proto().hostname(), "");
  EXPECT_FALSE(policy->proto().filesystem().proc());
  EXPECT_FALSE(policy->proto().filesystem().dev());
  EXPECT_TRUE(policy->proto().namespaces().pid());
}

TEST(PolicyBuilderTest, MethodsWriteTheProto) {
  PolicyBuilder builder;
  builder.SetName("web")
      .UseHostNetwork()
      .SetHostname("box")
      .SetUser(1, 2)
      .SetOutsideUser(100000, 100001)
      .AddBind("/usr")
      .AddBind("/srv/data", "/data", MountMode::kReadWrite)
      .AddBindIfExists("/lib64")
      .AddBind("/lib", "/lib", MountMode::kReadOnly, SymlinkMode::kFollow)
      .AddBindIfExists("/sbin", MountMode::kReadOnly, SymlinkMode::kFollow)
      .AddTmpfs("/tmp", 64 << 20)
      .SetRootMode(MountMode::kReadWrite)
      .SetCwd("/tmp")
      .AllowSyscalls({"read", "write"})
      .AllowSyscall("socket", {Arg(0) == AF_UNIX})
      .BlockSyscallWithErrno("openat", EACCES)
      .LogSyscall("uname")
      .AllowDangerousSyscall("ptrace")
      .SetDefaultErrno(EPERM)
      .SetWallTime(absl::Milliseconds(2500))
      .SetCpuTime(absl::Milliseconds(1500))
      .SetMaxOpenFiles(64)
      .SetMaxProcesses(10)
      .SetMaxFileSize(1 << 20)
      .SetAddressSpace(uint64_t{1} << 30)
      .SetMemory(256 << 20)
      .SetPids(32)
      .SetCpus(0.5)
      .AddEnv("HOME=/tmp");
  proto::Policy expected;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "web"
        namespaces { net: false }
        hostname: "box"
        user { uid: 1 gid: 2 outside_uid: 100000 outside_gid: 100001 }
        filesystem {
          mounts { bind { source: "/usr" target: "/usr" } }
          mounts { bind { source: "/srv/data" target: "/data" writable: true } }
          mounts { bind { source: "/lib64" target: "/lib64" optional: true } }
          mounts {
            bind { source: "/lib" target: "/lib" follow_symlinks: true }
          }
          mounts {
            bind {
              source: "/sbin"
              target: "/sbin"
              optional: true
              follow_symlinks: true
            }
          }
          mounts { tmpfs { target: "/tmp" size: "67108864" } }
          writable_root: true
          cwd: "/tmp"
        }
        seccomp {
          default_action: ERRNO
          default_errno: "1"
          dangerous_allow: "ptrace"
          rules {
            syscalls: [ "read", "write" ]
            action: ALLOW
          }
          rules {
            syscalls: "socket"
            action: ALLOW
            args { arg: 0 op: EQ value: 1 }
          }
          rules { syscalls: "openat" action: ERRNO error: "13" }
          rules { syscalls: "uname" action: LOG }
          rules { syscalls: "ptrace" action: ALLOW }
        }
        limits {
          wall_time_seconds: 2.5
          cpu_time_seconds: 2
          nofile: 64
          nproc: 10
          file_size: "1048576"
          address_space: "1073741824"
          memory: "268435456"
          pids: 32
          cpus: 0.5
        }
        env: "HOME=/tmp"
      )pb",
      &expected));
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  EXPECT_TRUE(differencer.Compare(expected, builder.proto())) << diff;
  EXPECT_THAT(builder.Build(), IsOk());
}

TEST(PolicyBuilderTest, BuildNormalisesPathsAndResolvesSizes) {
  absl::StatusOr<Policy> policy = PolicyBuilder()
                                      .AddBind("//usr//lib/")
                                      .AddTmpfs("/tmp/", 4096)
                                      .SetCwd("/tmp//")
                                      .SetMemory(256 << 20)
                                      .Build();
  ASSERT_THAT(policy, IsOk());
  const proto::Filesystem& fs = policy->proto().filesystem();
  ASSERT_EQ(fs.mounts_size(), 2);
  EXPECT_EQ(fs.mounts(0).bind().source(), "/usr/lib");
  EXPECT_EQ(fs.mounts(0).bind().target(), "/usr/lib");
  EXPECT_EQ(fs.mounts(1).tmpfs().target(), "/tmp");
  EXPECT_EQ(fs.mounts(1).tmpfs().mode(), 01777u);
  EXPECT_EQ(fs.cwd(), "/tmp");
  EXPECT_THAT(policy->limits().tmpfs_sizes, ::testing::ElementsAre(0, 4096));
  EXPECT_EQ(policy->limits().memory, uint64_t{256} << 20);
}

TEST(PolicyBuilderTest, BuilderErrorsNameTheFieldWithoutALocation) {
  EXPECT_THAT(PolicyBuilder().AddBind("usr").Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("filesystem.mounts[0].bind.source: ")));
  EXPECT_THAT(PolicyBuilder().SetMaxOpenFiles(3).Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("limits.nofile: ")));
  EXPECT_THAT(PolicyBuilder().SetOutsideUser(0, 0).Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("user.outside_uid: ")));
}

TEST(PolicyBuilderTest, KeepsWorkingAfterAnError) {
  PolicyBuilder builder;
  builder.AllowSyscalls({"read"}).AddEnv("NOVALUE");
  EXPECT_THAT(builder.Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("env[0]")));
  // Build() leaves the builder as it was: the same error, then a fix.
  EXPECT_THAT(builder.Build(), StatusIs(absl::StatusCode::kInvalidArgument,
                                        HasSubstr("env[0]")));
  builder.mutable_proto().set_env(0, "KEY=value");
  builder.AddTmpfs("/tmp", 1 << 20);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->proto().env(0), "KEY=value");
  EXPECT_EQ(policy->proto().filesystem().mounts_size(), 1);
}

TEST(PolicyBuilderTest, TextBuilderKeepsItsLocationsAfterAnError) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromText(
      "name: \"x\"\n"
      "limits { nofile: 3 }\n",
      "test.textproto");
  ASSERT_THAT(builder, IsOk());
  EXPECT_THAT(builder->Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith("test.textproto:2:10: limits.nofile: ")));
  builder->SetMaxOpenFiles(16).AddEnv("NOVALUE");
  // env was added in code: no line of the file stands for it.
  EXPECT_THAT(builder->Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("test.textproto: env[0]: "),
                             Not(HasSubstr("test.textproto:2")))));
  builder->mutable_proto().clear_env();
  EXPECT_THAT(builder->Build(), IsOk());
}

TEST(PolicyBuilderTest, FromTextFileOfAMissingFileIsNotFound) {
  const std::string path = ::testing::TempDir() + "/no-such-policy.textproto";
  EXPECT_THAT(PolicyBuilder::FromTextFile(path),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
}

TEST(PolicyBuilderTest, FromTextFileErrorsNameTheFile) {
  const std::string path = ::testing::TempDir() + "/bad-policy.textproto";
  {
    std::ofstream file(path);
    file << "# A comment line.\n"
            "filesystem {\n"
            "  cwd: \"tmp\"\n"
            "}\n";
  }
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(path);
  unlink(path.c_str());
  ASSERT_THAT(builder, IsOk());
  EXPECT_THAT(builder->Build(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       StartsWith(path + ":3:3: filesystem.cwd: ")));
}

TEST(PolicyBuilderTest, ShippedDefaultPolicyBuilds) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(
      sandbox::testing::SourceDir() + "/policies/default.textproto");
  ASSERT_THAT(builder, IsOk());
  absl::StatusOr<Policy> policy = builder->Build();
  ASSERT_THAT(policy, IsOk());
  EXPECT_EQ(policy->name(), "default");
  EXPECT_FALSE(internal::StateOf(*policy).seccomp.instructions.empty());
}

}  // namespace
}  // namespace sandbox

namespace sandbox {
namespace {

TEST(PolicyBuilderDefaultTest, TheCompiledInDefaultIsTheShippedFile) {
  absl::StatusOr<PolicyBuilder> compiled_in = PolicyBuilder::Default();
  ASSERT_TRUE(compiled_in.ok()) << compiled_in.status();
  absl::StatusOr<PolicyBuilder> file = PolicyBuilder::FromTextFile(
      std::string(SANDBOX_SOURCE_DIR) + "/policies/default.textproto");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(compiled_in->mutable_proto().SerializeAsString(),
            file->mutable_proto().SerializeAsString());
  EXPECT_TRUE(compiled_in->Build().ok());
}

}  // namespace
}  // namespace sandbox

namespace sandbox {
namespace {

TEST(PolicyBuilderLockDownTest, ADeferredFilterMustLetLockDownFinish) {
  PolicyBuilder builder;
  builder.AllowSyscalls({"read", "write", "exit_group"});
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(policy.status().message().find("defer_until_lockdown"),
            std::string::npos)
      << policy.status();
  builder.AllowSyscalls({"close", "munmap"});
  EXPECT_TRUE(builder.Build().ok());
}

}  // namespace
}  // namespace sandbox
