// Bind and tmpfs mounts against what a sandboxee can plant: targets resolve
// inside the new root only. Each test runs through the fork server and
// through SpawnMode::kDirect.

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::TesteeRun;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A host directory the sandbox user may write (it is nobody on a root
// host), removed with everything in it; symlinks in it are removed, never
// followed.
class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/sandbox-binds-XXXXXX";
    EXPECT_NE(mkdtemp(path), nullptr);
    path_ = path;
    chmod(path_.c_str(), 0777);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return absl::StrCat(path_, "/", name);
  }

 private:
  std::string path_;
};

// Names in `dir`, for "nothing was created here".
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    names.push_back(entry.path().filename());
  }
  return names;
}

Policy Build(const PolicyBuilder& builder) {
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_THAT(policy, IsOk());
  return *std::move(policy);
}

class BindsTest : public ::testing::TestWithParam<SpawnMode> {
 protected:
  TesteeRun Run(const Policy& policy, const std::vector<std::string>& args) {
    return RunTestee(policy, args, GetParam());
  }
};

TEST_P(BindsTest, TargetThroughASymlinkInTheNewRootFailsAndCreatesNothing) {
  // A bound directory holds a symlink that, followed inside the new root
  // during setup, would lead to a host directory through /.oldroot.
  TempDir host;
  TempDir bound;
  ASSERT_EQ(symlink(absl::StrCat("/.oldroot", host.path()).c_str(),
                    (bound / "link").c_str()),
            0);
  TempDir content;
  for (const bool tmpfs : {false, true}) {
    SCOPED_TRACE(tmpfs ? "tmpfs" : "bind");
    PolicyBuilder builder = TesteePolicy();
    builder.AddBind(bound.path(), "/bound", MountMode::kReadOnly);
    if (tmpfs) {
      builder.AddTmpfs("/bound/link/x", 1 << 20);
    } else {
      builder.AddBind(content.path(), "/bound/link/x", MountMode::kReadOnly);
    }
    TesteeRun run = Run(Build(builder), {"exit", "0"});
    EXPECT_EQ(run.result.status(), proto::Result::SETUP_ERROR)
        << run.result.DebugString();
    EXPECT_EQ(run.result.setup_error().step(), "mkdir");
    EXPECT_EQ(run.result.setup_error().errno_name(), "ELOOP");
    EXPECT_THAT(run.result.setup_error().message(), HasSubstr("/bound/link/x"));
    EXPECT_THAT(Entries(host.path()), ::testing::IsEmpty());
  }
}

// The mount table from inside: what each kind of mount got.
std::map<std::string, std::vector<std::string>> MountOptions(
    const Policy& policy, SpawnMode mode) {
  std::map<std::string, std::vector<std::string>> options;
  UniqueFd out(memfd_create("mountinfo", MFD_CLOEXEC));
  Command command;
  command.argv = {"/bin/cat", "/proc/self/mountinfo"};
  command.fds = {{out.get(), 1}};
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(policy, command, mode);
  EXPECT_THAT(sandbox, IsOk());
  if (!sandbox.ok()) return options;
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  EXPECT_THAT(result, IsOk());
  std::string text(1 << 16, '\0');
  text.resize(
      std::max<ssize_t>(0, pread(out.get(), text.data(), text.size(), 0)));
  // "id parent major:minor root mount-point options ... - type source
  // super-options": the mount's options, then the file system's.
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 6) continue;
    std::vector<std::string>& list = options[std::string(fields[4])];
    list = absl::StrSplit(fields[5], ',');
    const size_t dash = line.find(" - ");
    if (dash == absl::string_view::npos) continue;
    std::vector<absl::string_view> rest =
        absl::StrSplit(line.substr(dash + 3), ' ');
    if (rest.size() < 3) continue;
    for (absl::string_view option : absl::StrSplit(rest[2], ',')) {
      list.emplace_back(option);
    }
  }
  return options;
}

TEST_P(BindsTest, MountsKeepTheirFlags) {
  TempDir writable;
  PolicyBuilder builder = TesteePolicy();
  builder.AddBind(writable.path(), "/work", MountMode::kReadWrite)
      .AddBind("/etc/hostname", "/files/hostname", MountMode::kReadOnly)
      .AddTmpfs("/scratch", 1 << 20);
  builder.mutable_proto()
      .mutable_filesystem()
      ->mutable_mounts()
      ->rbegin()
      ->mutable_tmpfs()
      ->set_mode(0700);
  Policy policy = Build(builder);
  std::map<std::string, std::vector<std::string>> options =
      MountOptions(policy, GetParam());
  using ::testing::Contains;
  for (const char* path : {"/usr", "/files/hostname", "/testee"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(options.count(path));
    EXPECT_THAT(options[path],
                AllOf(Contains("ro"), Contains("nosuid"), Contains("nodev")));
  }
  for (const char* path : {"/work", "/scratch", "/tmp"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(options.count(path));
    EXPECT_THAT(options[path],
                AllOf(Contains("rw"), Contains("nosuid"), Contains("nodev")));
  }
  EXPECT_THAT(options["/scratch"],
              AllOf(Contains("size=1024k"), Contains("mode=700")));
  // Followed: the shipped policy's /lib is usr/lib on this host.
  struct stat st;
  if (lstat("/lib", &st) == 0 && S_ISLNK(st.st_mode)) {
    EXPECT_TRUE(options.count("/lib"));
  }
}

INSTANTIATE_TEST_SUITE_P(SpawnModes, BindsTest,
                         ::testing::Values(SpawnMode::kForkServer,
                                           SpawnMode::kDirect),
                         [](const ::testing::TestParamInfo<SpawnMode>& info) {
                           return info.param == SpawnMode::kDirect
                                      ? "Direct"
                                      : "ForkServer";
                         });

}  // namespace
}  // namespace sandbox
