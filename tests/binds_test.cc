// Bind mounts against what a sandboxee can plant: a host path is resolved
// once, by the parent, and the child mounts exactly the object the parent
// opened; targets resolve inside the new root only. Each test runs through
// the fork server and through SpawnMode::kDirect.

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/spawn.h"
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
// host), removed with everything in it.
class TempDir : public testing::ScratchDir {
 public:
  TempDir() : ScratchDir("sandbox-binds-", 0777) {}
};

void MakeDir(const std::string& path) {
  ASSERT_EQ(mkdir(path.c_str(), 0777), 0) << path;
  chmod(path.c_str(), 0777);
}

// Names in `dir`, for "nothing was created here".
std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ignored;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ignored)) {
    names.push_back(entry.path().filename());
  }
  return names;
}

// The host's pid 1 command line as the testee's `cat` prints it.
std::string HostInitCommandLine() {
  std::ifstream in("/proc/1/cmdline", std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  std::string line = text.str();
  std::replace(line.begin(), line.end(), '\0', ' ');
  std::replace(line.begin(), line.end(), '\n', ' ');
  return line;
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

TEST_P(BindsTest, SymlinkPlantedByOneSandboxDoesNotShowTheHostToTheNext) {
  const std::string host_init = HostInitCommandLine();
  ASSERT_FALSE(host_init.empty());
  TempDir shared;
  MakeDir(shared / "sub");
  // Sandbox A may write the shared directory: it swaps sub for a symlink
  // to /proc, which the host would resolve to its own /proc.
  Policy writer = Build(
      TesteePolicy().AddBind(shared.path(), "/shared", MountMode::kReadWrite));
  TesteeRun rmdir = Run(writer, {"rmdir", "/shared/sub"});
  ASSERT_EQ(rmdir.values["rmdir"], "ok") << rmdir.output;
  TesteeRun plant = Run(writer, {"symlink", "/proc", "/shared/sub"});
  ASSERT_EQ(plant.values["symlink"], "ok") << plant.output;

  // Sandbox B binds shared/sub read-only: it must not get the host's /proc.
  Policy reader = Build(
      TesteePolicy().AddBind(shared / "sub", "/data", MountMode::kReadOnly));
  TesteeRun run = Run(reader, {"cat", "/data/1/cmdline"});
  EXPECT_NE(run.values["text"], host_init) << "the host's /proc is visible";
  EXPECT_EQ(run.result.status(), proto::Result::SETUP_ERROR)
      << run.result.DebugString() << run.output;
  EXPECT_EQ(run.result.setup_error().step(), "bind");
  EXPECT_EQ(run.result.setup_error().errno_name(), "ELOOP");
  EXPECT_THAT(run.result.setup_error().message(),
              HasSubstr(absl::StrCat(shared / "sub", " -> /data")));
}

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

TEST_P(BindsTest, SymlinkedSourceIsRefusedUnlessFollowed) {
  TempDir dir;
  MakeDir(dir / "real");
  std::ofstream(dir / "real/file") << "content";
  ASSERT_EQ(symlink((dir / "real").c_str(), (dir / "alias").c_str()), 0);
  // The link last, in the middle, and an optional bind: each refused.
  for (const std::string& source : {dir / "alias", dir / "alias/file"}) {
    for (const bool optional : {false, true}) {
      SCOPED_TRACE(absl::StrCat(source, optional ? " (optional)" : ""));
      PolicyBuilder builder = TesteePolicy();
      if (optional) {
        builder.AddBindIfExists(source);
      } else {
        builder.AddBind(source, "/data", MountMode::kReadOnly);
      }
      TesteeRun run = Run(Build(builder), {"exit", "0"});
      EXPECT_EQ(run.result.status(), proto::Result::SETUP_ERROR)
          << run.result.DebugString();
      EXPECT_EQ(run.result.setup_error().step(), "bind");
      EXPECT_EQ(run.result.setup_error().errno_name(), "ELOOP");
      EXPECT_THAT(run.result.setup_error().message(),
                  AllOf(HasSubstr(absl::StrCat("source ", source, ": ")),
                        HasSubstr("bind.follow_symlinks")));
    }
  }
  Policy followed =
      Build(TesteePolicy()
                .AddBind(dir / "alias", "/data", MountMode::kReadOnly,
                         SymlinkMode::kFollow)
                .AddBind(dir / "alias/file", "/single", MountMode::kReadOnly,
                         SymlinkMode::kFollow));
  TesteeRun run = Run(followed, {"cat", "/single"});
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  EXPECT_EQ(run.values["text"], "content");
  TesteeRun listed = Run(followed, {"exists", "/data/file", "/data/alias"});
  EXPECT_EQ(listed.values["exists:/data/file"], "1");
}

TEST_P(BindsTest, MagicLinkSourceIsRefusedEvenWhenFollowed) {
  // Each would be the spawning process's root or working directory.
  for (const char* source :
       {"/proc/self/root", "/proc/self/cwd", "/proc/self/root/etc"}) {
    SCOPED_TRACE(source);
    Policy policy = Build(TesteePolicy().AddBind(
        source, "/host", MountMode::kReadOnly, SymlinkMode::kFollow));
    TesteeRun run = Run(policy, {"exists", "/host/etc/hostname"});
    EXPECT_NE(run.values["exists:/host/etc/hostname"], "1");
    EXPECT_EQ(run.result.status(), proto::Result::SETUP_ERROR)
        << run.result.DebugString();
    EXPECT_EQ(run.result.setup_error().step(), "bind");
    EXPECT_EQ(run.result.setup_error().errno_name(), "ELOOP");
    EXPECT_THAT(run.result.setup_error().message(), HasSubstr("magic links"));
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
  // super-options": the mount's options, then the file system's; the file
  // system's alone under "super:<mount point>".
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
    std::vector<std::string>& super =
        options[absl::StrCat("super:", fields[4])];
    for (absl::string_view option : absl::StrSplit(rest[2], ',')) {
      list.emplace_back(option);
      super.emplace_back(option);
    }
  }
  return options;
}

// The flags of the mounts MountsKeepTheirFlags makes.
void ExpectMountFlags(std::map<std::string, std::vector<std::string>> options) {
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
  // Twice: the first spawn of a plan makes its mounts itself, the second
  // clones the template where the host may mount.
  for (int spawn = 0; spawn < 2; ++spawn) {
    SCOPED_TRACE(spawn);
    ExpectMountFlags(MountOptions(policy, GetParam()));
  }
}

// Where a host may mount (root), the root and /dev come from a template
// every sandbox clones: the same two tmpfs superblocks in all of them, so
// the file systems themselves are read-only, not only each sandbox's
// mount of them. Elsewhere each sandbox makes its own.
TEST_P(BindsTest, SharedRootAndDevFileSystemsAreReadOnly) {
  // What the template needs: a file system made in this process.
  UniqueFd context(static_cast<int>(syscall(SYS_fsopen, "tmpfs", 0)));
  const bool may_mount = context.valid();
  Policy policy = Build(TesteePolicy());
  // The template is made at a plan's second spawn.
  MountOptions(policy, GetParam());
  std::map<std::string, std::vector<std::string>> options =
      MountOptions(policy, GetParam());
  using ::testing::Contains;
  for (const char* path : {"/", "/dev"}) {
    SCOPED_TRACE(path);
    ASSERT_TRUE(options.count(path));
    EXPECT_THAT(options[path], AllOf(Contains("ro"), Contains("nosuid")));
    if (may_mount) {
      EXPECT_THAT(options[absl::StrCat("super:", path)], Contains("ro"));
    }
  }
}

TEST_P(BindsTest, BindSourceDescriptorsDoNotReachTheSandboxee) {
  TesteeRun run = Run(Build(TesteePolicy()), {"fds"});
  EXPECT_EQ(run.result.status(), proto::Result::OK);
  for (const absl::string_view fd : absl::StrSplit(run.values["fds"], ',')) {
    EXPECT_THAT(fd, ::testing::AnyOf("0", "1", "2")) << run.values["fds"];
  }
}

// The attack on the view itself: a sandboxee its policy lets call the
// mount family and unshare tries to make a read-only mount writable, suid
// or with devices, and to unmount it to reveal what is under it -- in its
// own namespaces (no capability left) and in a nested user and mount
// namespace where it holds every capability over its copy of the tree
// (the kernel locks what it copied from a more privileged namespace).
TEST_P(BindsTest, MountsCannotBeUnlockedFromInside) {
  PolicyBuilder builder = TesteePolicy();
  for (const char* name : {"mount", "umount2", "mount_setattr", "unshare"}) {
    builder.AllowDangerousSyscall(name).AllowSyscall(name);
  }
  Policy policy = Build(builder);
  // Twice: the first spawn of a plan makes its own mounts, later ones clone
  // the template where the host may mount.
  for (const char* path :
       {"/usr", "/", "/dev", "/proc/sys", "/proc/kcore", "/usr", "/"}) {
    SCOPED_TRACE(path);
    TesteeRun run = Run(policy, {"unlock_mount", path});
    ASSERT_EQ(run.result.status(), proto::Result::OK) << run.output;
    // The nested attack must really have been made.
    ASSERT_EQ(run.values["nested_unshare"], "0") << run.output;
    for (const char* prefix : {"", "nested_"}) {
      for (const char* step : {"remount_rw", "setattr_rw", "setattr_suid_dev",
                               "write", "umount"}) {
        const std::string key = absl::StrCat(prefix, step);
        ASSERT_TRUE(run.values.count(key)) << key << "\n" << run.output;
        EXPECT_NE(run.values[key], "0") << key << "\n" << run.output;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(SpawnModes, BindsTest, testing::kBothSpawnModes,
                         testing::SpawnModeName);

// Between the parent's open and the child's: the swap a sandbox sharing the
// directory could race against. Through the internal steps, so that the
// swap lands exactly in between. The child finds each source again only
// where it makes the binds itself (no mount template: an unprivileged
// host, or the kernel refused the clone); from a template it gets the
// parent's very objects, with no path to look up again.
class BindRaceTest : public ::testing::Test {
 protected:
  // Prepares a bind of shared/sub, lets `swap` change the host, then starts
  // the child (with the mount template if `use_template` and there is one)
  // and returns its first message: its setup error, if any. `used_template`
  // says whether the child had a template.
  internal::ChildMessage PrepareSwapAndStart(
      const std::function<void(const TempDir&)>& swap,
      bool use_template = false, bool* used_template = nullptr) {
    MakeDir(shared_ / "sub");
    Policy policy = Build(
        TesteePolicy().AddBind(shared_ / "sub", "/data", MountMode::kReadOnly));
    Command command;
    command.argv = {testing::kSandboxTestee, "exit", "0"};
    command.inherit_stdio = false;
    int sync[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync), 0);
    UniqueFd host_sync(sync[0]);
    UniqueFd child_sync(sync[1]);
    internal::LaunchRequest request;
    request.policy = &policy;
    request.command = &command;
    request.child_sync_fd = child_sync.get();
    request.host_sync_fd = host_sync.get();
    absl::StatusOr<std::unique_ptr<internal::PreparedSpawn>> prepared =
        internal::PrepareSpawn(request);
    internal::ChildMessage message = {};
    EXPECT_THAT(prepared, IsOk());
    if (!prepared.ok()) return message;
    EXPECT_FALSE((*prepared)->early_failure.has_value());
    if (use_template) {
      // The template is made at a plan's second spawn.
      prepared = internal::PrepareSpawn(request);
      EXPECT_THAT(prepared, IsOk());
      if (!prepared.ok()) return message;
    } else {
      (*prepared)->plan.mount_template_fd = template_override_;
    }
    if (used_template != nullptr) {
      *used_template = (*prepared)->plan.mount_template_fd >= 0;
    }
    swap(shared_);
    absl::StatusOr<internal::SpawnOutcome> child =
        internal::StartChild(**prepared, request);
    EXPECT_THAT(child, IsOk());
    if (!child.ok()) return message;
    prepared->reset();  // as SpawnChild does: closed once the child exists
    child_sync.reset();
    EXPECT_THAT(internal::ReleaseChild(host_sync.get()), IsOk());
    EXPECT_EQ(recv(host_sync.get(), &message, sizeof(message), 0),
              static_cast<ssize_t>(sizeof(message)));
    // A child that got past its setup would exec the testee: stop it.
    syscall(SYS_pidfd_send_signal, child->pidfd().get(), SIGKILL, nullptr, 0);
    siginfo_t info;
    waitid(P_PIDFD, child->pidfd().get(), &info, WEXITED);
    return message;
  }

  TempDir shared_;
  // The child's template without use_template: none (-1), or a descriptor
  // the kernel will not clone.
  int template_override_ = -1;
};

TEST_F(BindRaceTest, SourceReplacedByAnotherDirectoryIsRefused) {
  internal::ChildMessage message = PrepareSwapAndStart([](const TempDir& d) {
    ASSERT_EQ(rename((d / "sub").c_str(), (d / "old").c_str()), 0);
    MakeDir(d / "sub");
  });
  EXPECT_EQ(message.type, internal::ChildMessage::Type::kSetupError);
  EXPECT_EQ(message.step, internal::SetupStep::kBind);
  EXPECT_EQ(message.error, ESTALE);
  EXPECT_THAT(internal::DescribeSetupFailure(message).message(),
              HasSubstr(absl::StrCat(shared_ / "sub", " -> /data")));
}

TEST_F(BindRaceTest, SourceReplacedByASymlinkIsRefused) {
  internal::ChildMessage message = PrepareSwapAndStart([](const TempDir& d) {
    ASSERT_EQ(rename((d / "sub").c_str(), (d / "old").c_str()), 0);
    // Where the host's /proc is while the child builds its root.
    ASSERT_EQ(symlink("/.oldroot/proc", (d / "sub").c_str()), 0);
  });
  EXPECT_EQ(message.type, internal::ChildMessage::Type::kSetupError);
  EXPECT_EQ(message.step, internal::SetupStep::kBind);
  EXPECT_EQ(message.error, ELOOP);
}

// From a template, the sandbox mounts what the parent opened: the swap
// changes nothing it sees, and the setup goes on.
TEST_F(BindRaceTest, SourceReplacedAfterTheTemplateIsBuiltChangesNothing) {
  bool used_template = false;
  internal::ChildMessage message = PrepareSwapAndStart(
      [](const TempDir& d) {
        ASSERT_EQ(rename((d / "sub").c_str(), (d / "old").c_str()), 0);
        ASSERT_EQ(symlink("/.oldroot/proc", (d / "sub").c_str()), 0);
      },
      true, &used_template);
  if (!used_template) {
    // An unprivileged host: no template, the check above applies.
    EXPECT_EQ(message.step, internal::SetupStep::kBind);
    EXPECT_EQ(message.error, ELOOP);
    return;
  }
  EXPECT_NE(message.type, internal::ChildMessage::Type::kSetupError)
      << internal::DescribeSetupFailure(message).message();
}

// Where the kernel refuses to clone the template (here: a pipe, which is
// no mount tree), the child makes every mount itself and the setup goes
// on.
TEST_F(BindRaceTest, ATemplateTheKernelWillNotCloneFallsBackToMakingMounts) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  UniqueFd read_end(pipe_fds[0]);
  UniqueFd write_end(pipe_fds[1]);
  template_override_ = read_end.get();
  internal::ChildMessage message = PrepareSwapAndStart([](const TempDir&) {});
  EXPECT_NE(message.type, internal::ChildMessage::Type::kSetupError)
      << internal::DescribeSetupFailure(message).message();
}

}  // namespace
}  // namespace sandbox
