// Why an execve found "nothing" although the program is there: paths
// walked through a policy's mounts as the sandbox sees them, interpreters
// read from the programs, and the SETUP_ERROR a sandbox that binds
// /usr/bin but not /lib64 ends with.

#include "sandbox/internal/exec_diagnosis.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using internal::ExplainExecNotFound;
using internal::ResolveSandboxPath;
using internal::SandboxPath;
using ::sandbox::testing::DefaultPolicyBuilder;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::kBothSpawnModes;
using ::sandbox::testing::SpawnModeName;
using ::sandbox::testing::TesteePath;
using ::testing::HasSubstr;

// The dynamic loader every Debian x86-64 program names.
constexpr char kLoader[] = "/lib64/ld-linux-x86-64.so.2";

// A scratch directory of host files, removed at the end.
class HostTree {
 public:
  HostTree() {
    char dir[] = "/tmp/exec-diagnosis-XXXXXX";
    EXPECT_NE(mkdtemp(dir), nullptr);
    root_ = dir;
    // A sandbox's user (nobody on the host, for a root host) binds from
    // here.
    EXPECT_EQ(chmod(dir, 0755), 0);
  }
  ~HostTree() {
    const int rc = system(absl::StrCat("rm -rf '", root_, "'").c_str());
    (void)rc;
  }
  std::string Path(const std::string& relative) const {
    return absl::StrCat(root_, "/", relative);
  }
  void Dir(const std::string& relative) const {
    EXPECT_EQ(system(absl::StrCat("mkdir -p '", Path(relative), "'").c_str()),
              0);
  }
  void File(const std::string& relative, const std::string& text,
            mode_t mode = 0755) const {
    std::ofstream(Path(relative)) << text;
    EXPECT_EQ(chmod(Path(relative).c_str(), mode), 0);
  }
  void Copy(const std::string& host_file, const std::string& relative) const {
    EXPECT_EQ(system(absl::StrCat("cp '", host_file, "' '", Path(relative), "'")
                         .c_str()),
              0);
  }
  void Link(const std::string& target, const std::string& relative) const {
    EXPECT_EQ(symlink(target.c_str(), Path(relative).c_str()), 0)
        << strerror(errno);
  }

 private:
  std::string root_;
};

void AddBind(proto::Filesystem& fs, const std::string& source,
             const std::string& target) {
  proto::BindMount& bind = *fs.add_mounts()->mutable_bind();
  bind.set_source(source);
  bind.set_target(target);
}

TEST(ResolveSandboxPathTest, FollowsLinksInTheSandboxesView) {
  HostTree host;
  host.Dir("usr/bin");
  host.Dir("usr/lib64");
  host.Dir("usr/lib");
  host.File("usr/bin/prog", "x");
  host.File("usr/lib/ld-real.so", "x");
  host.Link("../lib/ld-real.so", "usr/lib64/ld.so");
  host.Link("/etc/hostname", "usr/bin/absolute");
  host.Link("loop", "usr/bin/loop");
  proto::Filesystem fs;
  AddBind(fs, host.Path("usr/bin"), "/usr/bin");

  SandboxPath prog = ResolveSandboxPath(fs, "/usr/bin/prog");
  EXPECT_EQ(prog.kind, SandboxPath::Kind::kOnBind);
  EXPECT_EQ(prog.host_path, host.Path("usr/bin/prog"));

  SandboxPath nope = ResolveSandboxPath(fs, "/usr/bin/nope");
  EXPECT_EQ(nope.kind, SandboxPath::Kind::kMissing);
  EXPECT_EQ(nope.missing, "/usr/bin/nope");

  SandboxPath loader = ResolveSandboxPath(fs, "/lib64/ld.so");
  EXPECT_EQ(loader.kind, SandboxPath::Kind::kMissing);
  EXPECT_EQ(loader.missing, "/lib64/ld.so");

  // An absolute link leads into the sandbox's root, not the host's.
  SandboxPath absolute = ResolveSandboxPath(fs, "/usr/bin/absolute");
  EXPECT_EQ(absolute.kind, SandboxPath::Kind::kMissing);
  EXPECT_EQ(absolute.missing, "/etc/hostname");

  // The loader's directory bound, but not where its link leads.
  AddBind(fs, host.Path("usr/lib64"), "/lib64");
  loader = ResolveSandboxPath(fs, "/lib64/ld.so");
  EXPECT_EQ(loader.kind, SandboxPath::Kind::kMissing);
  EXPECT_EQ(loader.missing, "/lib/ld-real.so");

  AddBind(fs, host.Path("usr/lib"), "/lib");
  loader = ResolveSandboxPath(fs, "/lib64/ld.so");
  EXPECT_EQ(loader.kind, SandboxPath::Kind::kOnBind);
  EXPECT_EQ(loader.host_path, host.Path("usr/lib/ld-real.so"));

  // What the host cannot look into.
  fs.add_mounts()->mutable_tmpfs()->set_target("/tmp");
  EXPECT_EQ(ResolveSandboxPath(fs, "/tmp/x").kind, SandboxPath::Kind::kUnknown);
  EXPECT_EQ(ResolveSandboxPath(fs, "/usr").kind, SandboxPath::Kind::kUnknown);
  EXPECT_EQ(ResolveSandboxPath(fs, "/proc/self/exe").kind,
            SandboxPath::Kind::kUnknown);
  EXPECT_EQ(ResolveSandboxPath(fs, "/usr/bin/loop").kind,
            SandboxPath::Kind::kUnknown);
}

TEST(ResolveSandboxPathTest, ALaterMountCoversAnEarlierOne) {
  HostTree host;
  host.Dir("a");
  host.Dir("b");
  host.File("a/only-in-a", "x");
  host.File("b/only-in-b", "x");
  proto::Filesystem fs;
  AddBind(fs, host.Path("a"), "/d");
  AddBind(fs, host.Path("b"), "/d");
  EXPECT_EQ(ResolveSandboxPath(fs, "/d/only-in-a").kind,
            SandboxPath::Kind::kMissing);
  EXPECT_EQ(ResolveSandboxPath(fs, "/d/only-in-b").kind,
            SandboxPath::Kind::kOnBind);
}

TEST(ExplainExecNotFoundTest, NamesAMissingElfInterpreter) {
  HostTree host;
  host.Dir("bin");
  host.Copy("/usr/bin/true", "bin/true");
  proto::Filesystem fs;
  AddBind(fs, host.Path("bin"), "/bin");
  EXPECT_EQ(ExplainExecNotFound(fs, {"/usr/local/bin/true", "/bin/true"}),
            absl::StrCat("/bin/true is there, but its ELF interpreter ",
                         kLoader, " is not in the sandbox"));
  // Relative to the working directory.
  fs.set_cwd("/bin");
  EXPECT_EQ(ExplainExecNotFound(fs, {"./true"}),
            absl::StrCat("./true is there, but its ELF interpreter ", kLoader,
                         " is not in the sandbox"));
}

TEST(ExplainExecNotFoundTest, NamesAMissingScriptInterpreter) {
  HostTree host;
  host.Dir("s");
  host.Dir("bin");
  host.File("s/script", "#!  /no/such/interpreter -x\necho hi\n");
  host.File("s/chained", "#!/bin/true\n");
  host.Copy("/usr/bin/true", "bin/true");
  proto::Filesystem fs;
  AddBind(fs, host.Path("s"), "/s");
  AddBind(fs, host.Path("bin"), "/bin");
  EXPECT_EQ(ExplainExecNotFound(fs, {"/s/script"}),
            "/s/script is there, but its #! interpreter /no/such/interpreter "
            "is not in the sandbox");
  EXPECT_EQ(ExplainExecNotFound(fs, {"/s/chained"}),
            absl::StrCat("/s/chained is there, but its #! interpreter "
                         "/bin/true needs the ELF interpreter ",
                         kLoader, ", which is not in the sandbox"));
}

TEST(ExplainExecNotFoundTest, SaysNothingWithoutAnExplanation) {
  HostTree host;
  host.Dir("d");
  host.File("d/text", "just text\n");
  host.Copy(TesteePath(), "d/static");
  proto::Filesystem fs;
  AddBind(fs, host.Path("d"), "/d");
  // Missing itself; no interpreter; a static program.
  EXPECT_EQ(ExplainExecNotFound(fs, {"/d/none", "/x/none"}), std::nullopt);
  EXPECT_EQ(ExplainExecNotFound(fs, {"/d/text"}), std::nullopt);
  EXPECT_EQ(ExplainExecNotFound(fs, {"/d/static"}), std::nullopt);
  EXPECT_EQ(ExplainExecNotFound(fs, {}), std::nullopt);
}

// The shipped default policy with only `binds` (host path = sandbox path)
// and its /tmp.
Policy PolicyBinding(std::initializer_list<const char*> binds) {
  PolicyBuilder builder = DefaultPolicyBuilder();
  proto::Filesystem& fs = *builder.mutable_proto().mutable_filesystem();
  fs.clear_mounts();
  fs.add_mounts()->mutable_tmpfs()->set_target("/tmp");
  fs.mutable_mounts(0)->mutable_tmpfs()->set_size("1M");
  for (const char* bind : binds) builder.AddBind(bind);
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_THAT(policy, IsOk());
  return *std::move(policy);
}

class ExecNotFoundTest : public ::testing::TestWithParam<SpawnMode> {};

TEST_P(ExecNotFoundTest, AProgramWithoutItsLoaderSaysSo) {
  Policy policy = PolicyBinding({"/usr/bin"});
  for (const char* program : {"/usr/bin/true", "true"}) {
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
        Sandbox::Spawn(policy, Command{.argv = {program}}, GetParam());
    ASSERT_THAT(sandbox, IsOk());
    absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
    ASSERT_THAT(result, IsOk());
    ASSERT_EQ(result->status(), proto::Result::SETUP_ERROR)
        << result->DebugString();
    EXPECT_EQ(result->setup_error().step(), "execve");
    EXPECT_EQ(result->setup_error().errno_name(), "ENOENT");
    EXPECT_THAT(result->setup_error().message(),
                HasSubstr(absl::StrCat("/usr/bin/true is there, but its ELF "
                                       "interpreter ",
                                       kLoader, " is not in the sandbox")))
        << program;
  }
}

TEST_P(ExecNotFoundTest, AScriptWithoutItsInterpreterSaysSo) {
  HostTree host;
  host.Dir("s");
  host.File("s/run", "#!/bin/sh\necho hi\n");
  PolicyBuilder builder = DefaultPolicyBuilder();
  proto::Filesystem& fs = *builder.mutable_proto().mutable_filesystem();
  for (int i = fs.mounts_size() - 1; i >= 0; --i) {
    if (fs.mounts(i).has_bind() && fs.mounts(i).bind().source() == "/bin") {
      fs.mutable_mounts()->DeleteSubrange(i, 1);
    }
  }
  builder.AddBind(host.Path("s"), "/s", MountMode::kReadOnly);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(*policy, Command{.argv = {"/s/run"}}, GetParam());
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  ASSERT_EQ(result->status(), proto::Result::SETUP_ERROR)
      << result->DebugString();
  EXPECT_THAT(result->setup_error().message(),
              HasSubstr("/s/run is there, but its #! interpreter /bin/sh is "
                        "not in the sandbox"));
}

TEST_P(ExecNotFoundTest, AMissingProgramIsJustNotFound) {
  Policy policy = PolicyBinding({"/usr/bin"});
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = Sandbox::Spawn(
      policy, Command{.argv = {"/usr/bin/no-such-program"}}, GetParam());
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  ASSERT_EQ(result->status(), proto::Result::SETUP_ERROR);
  EXPECT_THAT(result->setup_error().message(),
              ::testing::Not(HasSubstr("interpreter")));
}

INSTANTIATE_TEST_SUITE_P(SpawnModes, ExecNotFoundTest, kBothSpawnModes,
                         SpawnModeName);

}  // namespace
}  // namespace sandbox
