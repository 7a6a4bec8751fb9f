// End-to-end tests of one sandboxed child against the real kernel: the
// static testee runs under the shipped default policy (plus what a test
// adds) and reports what it sees; the tests compare with the host.

#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/internal/spawn.h"
#include "sandbox/policy_builder.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::HostNamespaceInode;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::IsRoot;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::StatusIs;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::TesteeRun;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Whether `id` is in the id map at `path` (ours) and is not root in the
// namespace outside ours.
bool IsNonRootOutside(uint32_t id, const char* path) {
  std::ifstream map(path);
  uint64_t inside, outside, count;
  while (map >> inside >> outside >> count) {
    if (id >= inside && id - inside < count)
      return outside + (id - inside) != 0;
  }
  return false;
}

Policy Build(const PolicyBuilder& builder) {
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_THAT(policy, IsOk());
  return *std::move(policy);
}

Policy DefaultTesteePolicy() { return Build(TesteePolicy()); }

std::string RunProgram(const std::vector<std::string>& argv);

std::string HostInterfaces() {
  std::vector<std::string> names;
  struct if_nameindex* list = if_nameindex();
  for (struct if_nameindex* i = list; i != nullptr && i->if_name != nullptr;
       ++i) {
    names.push_back(i->if_name);
  }
  if_freenameindex(list);
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ",");
}

void ExpectExited(const TesteeRun& run, int code = 0) {
  EXPECT_EQ(run.result.status(), proto::Result::OK) << run.result.DebugString();
  EXPECT_EQ(run.result.exit_code(), code) << run.output;
}

TEST(NamespacesTest, EveryNamespaceDiffersFromTheHost) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"ns", "report"});
  ExpectExited(run);
  for (const char* ns : {"user", "pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    const std::string key = absl::StrCat("ns_", ns);
    ASSERT_TRUE(run.values.count(key)) << run.output;
    EXPECT_NE(run.values[key], "-1") << ns;
    EXPECT_NE(run.values[key], HostNamespaceInode(ns)) << ns;
  }
}

TEST(NamespacesTest, PidNamespaceHasInitAsParent) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"ns", "report"});
  ExpectExited(run);
  // The sandbox's tiny init is pid 1; the payload is its only child.
  EXPECT_EQ(run.values["ppid"], "1");
  EXPECT_EQ(run.values["pid"], "2");
}

TEST(NamespacesTest, ProgramCanBePidOneItself) {
  PolicyBuilder builder = TesteePolicy();
  builder.mutable_proto().mutable_namespaces()->set_program_is_init(true);
  Policy policy = Build(builder);
  TesteeRun run = RunTestee(policy, {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["pid"], "1");
  EXPECT_EQ(run.values["ppid"], "0");
  EXPECT_NE(run.values["ns_pid"], HostNamespaceInode("pid"));
  ExpectExited(RunTestee(policy, {"exit", "6"}), 6);
  // Still reported and killed by name.
  TesteeRun ptrace = RunTestee(policy, {"ptrace"});
  EXPECT_EQ(ptrace.result.status(), proto::Result::VIOLATION);
  EXPECT_EQ(ptrace.result.violation().syscall(), "ptrace");
}

TEST(NamespacesTest, NetworkHasOnlyLoopback) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["interfaces"], "lo");
}

TEST(NamespacesTest, HostNetworkWhenAsked) {
  TesteeRun run =
      RunTestee(Build(TesteePolicy().UseHostNetwork()), {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["interfaces"], HostInterfaces());
  EXPECT_EQ(run.values["ns_net"], HostNamespaceInode("net"));
}

TEST(NamespacesTest, SharedEmptyNetworkNamespace) {
  PolicyBuilder builder = TesteePolicy();
  builder.mutable_proto().mutable_namespaces()->set_shared_net(true);
  Policy policy = Build(builder);
  TesteeRun first = RunTestee(policy, {"ns", "report"});
  TesteeRun second = RunTestee(policy, {"ns", "report"});
  ExpectExited(first);
  ExpectExited(second);
  for (TesteeRun* run : {&first, &second}) {
    EXPECT_EQ(run->values["interfaces"], "lo");
    EXPECT_NE(run->values["ns_net"], HostNamespaceInode("net"));
  }
  if (internal::CanReturnToOwnNetNamespace()) {
    // One namespace, kept by the fork server for every such sandbox.
    EXPECT_EQ(first.values["ns_net"], second.values["ns_net"]);
  } else {
    // Unprivileged, or root in a container's user namespace that kept the
    // host's network namespace: each gets its own, as without the field.
    EXPECT_NE(first.values["ns_net"], second.values["ns_net"]);
  }
  // Host networking still works next to it (the server went back).
  TesteeRun host =
      RunTestee(Build(TesteePolicy().UseHostNetwork()), {"ns", "report"});
  EXPECT_EQ(host.values["ns_net"], HostNamespaceInode("net"));
}

TEST(NamespacesTest, HostnameIsTheSandboxes) {
  TesteeRun run =
      RunTestee(Build(TesteePolicy().SetHostname("tab-7")), {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["hostname"], "tab-7");
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  EXPECT_NE(run.values["hostname"], host);
}

TEST(NamespacesTest, SandboxUserIsMappedToAnUnprivilegedHostId) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["uid"], "1000");
  EXPECT_EQ(run.values["euid"], "1000");
  EXPECT_EQ(run.values["gid"], "1000");
  EXPECT_EQ(run.values["groups"], "") << "supplementary groups leaked";
}

TEST(NamespacesTest, SetgroupsIsDeniedThroughTheForkServer) {
  // The fork server holds no supplementary group, so the sandbox's user
  // namespace denies setgroups outright.
  const std::string text = RunProgram({"/bin/cat", "/proc/self/setgroups"});
  EXPECT_EQ(text, "deny\n");
}

TEST(NamespacesTest, UidMapNamesTheOutsideId) {
  // /bin/cat under the shipped policy: a real Debian program.
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(
      testing::SourceDir() + "/policies/default.textproto");
  ASSERT_THAT(builder, IsOk());
  Policy policy = Build(*std::move(builder));
  char path[] = "/tmp/sandbox-test-XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  unlink(path);
  Command command;
  command.argv = {"/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"};
  command.fds.push_back({fd, 1});
  absl::StatusOr<proto::Result> result = sandbox::Run(policy, command);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::OK);
  std::string text(4096, '\0');
  text.resize(pread(fd, text.data(), text.size(), 0));
  close(fd);
  std::istringstream in(text);
  uint32_t inside, outside, count;
  in >> inside >> outside >> count;
  EXPECT_EQ(inside, 1000u);
  EXPECT_EQ(count, 1u);
  const uint32_t outside_uid = outside;
  in >> inside >> outside >> count;
  EXPECT_EQ(inside, 1000u);
  const uint32_t outside_gid = outside;
  if (IsRoot() && !internal::InInitialUserNamespace()) {
    // Root in a container's user namespace: an id its map has, never one
    // that is root outside it (nested_userns_test checks which).
    EXPECT_TRUE(IsNonRootOutside(outside_uid, "/proc/self/uid_map"))
        << outside_uid;
    EXPECT_TRUE(IsNonRootOutside(outside_gid, "/proc/self/gid_map"))
        << outside_gid;
    return;
  }
  EXPECT_EQ(outside_uid, IsRoot() ? 65534 : geteuid());
  EXPECT_EQ(outside_gid, IsRoot() ? 65534 : getegid());
}

TEST(NamespacesTest, OutsideIdIsConfigurableAsRoot) {
  if (!IsRoot() || !IsNonRootOutside(12345, "/proc/self/uid_map") ||
      !IsNonRootOutside(12346, "/proc/self/gid_map")) {
    // Unprivileged hosts can only map their own id, and root in a
    // container's user namespace only the ids its map has (here, "0 <own
    // id> 1"): a clear error.
    absl::StatusOr<Policy> policy =
        TesteePolicy().SetOutsideUser(12345, 12345).Build();
    ASSERT_THAT(policy, IsOk());
    Command command;
    command.argv = {testing::kSandboxTestee, "exit", "0"};
    EXPECT_THAT(Sandbox::Spawn(*policy, command),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("outside_uid")));
    return;
  }
  TesteeRun run = RunTestee(Build(TesteePolicy().SetOutsideUser(12345, 12346)),
                            {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["uid"], "1000");
}

TEST(NamespacesTest, WithoutUserNamespaceNeedsRoot) {
  PolicyBuilder builder = TesteePolicy();
  builder.mutable_proto().mutable_namespaces()->set_user(false);
  absl::StatusOr<Policy> policy = builder.Build();
  ASSERT_THAT(policy, IsOk());
  Command command;
  command.argv = {testing::kSandboxTestee, "ns", "report"};
  if (!IsRoot()) {
    EXPECT_THAT(Sandbox::Spawn(*policy, command),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("namespaces.user")));
    return;
  }
  if (!IsNonRootOutside(1000, "/proc/self/uid_map")) {
    // Root in a container's user namespace without the sandbox user in
    // its map: a clear error before any child runs.
    EXPECT_THAT(Sandbox::Spawn(*policy, command),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("user.uid: 1000")));
    return;
  }
  TesteeRun run = RunTestee(*policy, {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["ns_user"], HostNamespaceInode("user"));
  EXPECT_NE(run.values["ns_mnt"], HostNamespaceInode("mnt"));
  // Never host root, even without a user namespace.
  EXPECT_EQ(run.values["uid"], "1000");
  EXPECT_EQ(run.values["cap_eff"], "0000000000000000");
  EXPECT_EQ(run.values["cap_bnd"], "0000000000000000");
}

TEST(PrivilegesTest, NoCapabilitiesNoNewPrivsSeccompNewSession) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"ns", "report"});
  ExpectExited(run);
  for (const char* set :
       {"cap_eff", "cap_prm", "cap_inh", "cap_bnd", "cap_amb"}) {
    EXPECT_EQ(run.values[set], "0000000000000000") << set;
  }
  EXPECT_EQ(run.values["no_new_privs"], "1");
  EXPECT_EQ(run.values["seccomp"], "2");
  // A new session: no controlling terminal shared with the caller.
  EXPECT_NE(run.values["sid"], absl::StrCat(getsid(0)));
}

TEST(PrivilegesTest, NoTiocstiIntoTheCallersTerminal) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"tiocsti"});
  ExpectExited(run);
  EXPECT_THAT(run.values["tiocsti"], HasSubstr("error"));
}

TEST(PrivilegesTest, NoLeakedDescriptors) {
  // A descriptor the host holds without CLOEXEC must not reach the child.
  int leaky = open("/dev/null", O_RDONLY);
  ASSERT_GE(leaky, 0);
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"fds"});
  close(leaky);
  ExpectExited(run);
  std::vector<std::string> fds = absl::StrSplit(run.values["fds"], ',');
  // 1 is the captured stdout; 0 and 2 are inherited only if the test has
  // them.
  for (const std::string& fd : fds) {
    EXPECT_THAT(fd, AnyOf("0", "1", "2")) << run.values["fds"];
  }
  EXPECT_THAT(fds, ::testing::Contains("1"));
}

TEST(PrivilegesTest, MappedDescriptorArrivesAtItsNumber) {
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  Policy policy = DefaultTesteePolicy();
  char path[] = "/tmp/sandbox-test-XXXXXX";
  int out = mkstemp(path);
  ASSERT_GE(out, 0);
  unlink(path);
  Command command;
  command.argv = {testing::kSandboxTestee, "fds"};
  command.fds = {{out, 1}, {pipe_fds[1], 7}};
  absl::StatusOr<proto::Result> result = sandbox::Run(policy, command);
  ASSERT_THAT(result, IsOk());
  std::string text(256, '\0');
  text.resize(pread(out, text.data(), text.size(), 0));
  close(out);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  EXPECT_THAT(text, HasSubstr(",7"));
}

TEST(PrivilegesTest, EnvironmentHoldsOnlyWhatWasGiven) {
  setenv("SANDBOX_TEST_SECRET", "leak", 1);
  Policy policy = Build(TesteePolicy().AddEnv("FROM_POLICY=1"));
  TesteeRun run = RunTestee(policy, {"env"});
  unsetenv("SANDBOX_TEST_SECRET");
  ExpectExited(run);
  EXPECT_THAT(run.output, Not(HasSubstr("SANDBOX_TEST_SECRET")));
  EXPECT_THAT(run.output, HasSubstr("env=FROM_POLICY=1"));
  EXPECT_THAT(run.output, HasSubstr("env=PATH=/usr/local/bin:/usr/bin:/bin"));
  // PATH, HOME, LANG from the shipped policy plus ours.
  EXPECT_EQ(run.values["env_count"], "4");
}

TEST(FilesystemTest, BindsAreReadOnlyAndRootToo) {
  Policy policy = DefaultTesteePolicy();
  for (const char* path :
       {"/usr/sandbox-test", "/sandbox-test", "/etc/sandbox-test"}) {
    TesteeRun run = RunTestee(policy, {"write", path});
    ExpectExited(run);
    EXPECT_EQ(run.values["write"], "error") << path;
    EXPECT_EQ(run.values["errno"], "EROFS") << path;
  }
  TesteeRun tmp = RunTestee(policy, {"write", "/tmp/ok"});
  EXPECT_EQ(tmp.values["write"], "ok");
}

TEST(FilesystemTest, HostPathsOutsideTheBindsAreAbsent) {
  TesteeRun run = RunTestee(
      DefaultTesteePolicy(),
      {"exists", "/etc/shadow", "/etc/passwd", "/root", "/home", "/var", "/sys",
       "/run", "/boot", "/.oldroot", "/usr/bin/true", "/tmp"});
  ExpectExited(run);
  for (const char* absent : {"/etc/shadow", "/etc/passwd", "/root", "/home",
                             "/var", "/sys", "/run", "/boot", "/.oldroot"}) {
    EXPECT_EQ(run.values[absl::StrCat("exists:", absent)], "0") << absent;
  }
  EXPECT_EQ(run.values["exists:/usr/bin/true"], "1");
  EXPECT_EQ(run.values["exists:/tmp"], "1");
}

TEST(FilesystemTest, WritableBindWritesThroughToTheHost) {
  char dir[] = "/tmp/sandbox-bind-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  chmod(dir, 0777);  // the sandbox user is nobody on a root host
  Policy policy =
      Build(TesteePolicy().AddBind(dir, "/work", MountMode::kReadWrite));
  TesteeRun run = RunTestee(policy, {"write", "/work/out"});
  ExpectExited(run);
  EXPECT_EQ(run.values["write"], "ok");
  const std::string host_file = absl::StrCat(dir, "/out");
  struct stat st;
  EXPECT_EQ(stat(host_file.c_str(), &st), 0);
  unlink(host_file.c_str());
  rmdir(dir);
}

TEST(FilesystemTest, TmpfsHasItsSize) {
  Policy policy = Build(TesteePolicy().AddTmpfs("/scratch", 1 << 20));
  TesteeRun run = RunTestee(policy, {"fsize", "4194304", "/scratch/big"});
  ExpectExited(run);
  EXPECT_EQ(run.values["errno"], "ENOSPC") << run.output;
}

// Runs a real program under the shipped policy; returns its stdout.
std::string RunProgram(const std::vector<std::string>& argv) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(
      testing::SourceDir() + "/policies/default.textproto");
  EXPECT_THAT(builder, IsOk());
  Policy policy = Build(*builder);
  char path[] = "/tmp/sandbox-test-XXXXXX";
  const int fd = mkstemp(path);
  unlink(path);
  Command command;
  command.argv = argv;
  command.fds.push_back({fd, 1});
  absl::StatusOr<proto::Result> result = sandbox::Run(policy, command);
  EXPECT_THAT(result, IsOk());
  std::string text(1 << 16, '\0');
  text.resize(std::max<ssize_t>(0, pread(fd, text.data(), text.size(), 0)));
  close(fd);
  return text;
}

TEST(FilesystemTest, ProcHostWideStateIsReadOnlyByMount) {
  // Decided by the mount table, not by permissions or access(): the
  // sandbox's own /proc/self/mountinfo shows each cover.
  const std::string mounts = RunProgram({"/bin/cat", "/proc/self/mountinfo"});
  for (const char* path : {"/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"}) {
    bool found = false;
    for (absl::string_view line : absl::StrSplit(mounts, '\n')) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
      if (fields.size() > 5 && fields[4] == path) {
        found = true;
        EXPECT_TRUE(absl::StartsWith(fields[5], "ro,")) << line;
      }
    }
    // /proc/irq and /proc/fs exist on every kernel we know; /proc/bus
    // may not.
    if (std::string(path) != "/proc/bus") {
      EXPECT_TRUE(found) << path << " not covered:\n" << mounts;
    }
  }
  // Masked files (covered by /dev/null) and directories (by one empty
  // tmpfs, bound to each) are read-only, nosuid and noexec too: whatever
  // their covers inherit, the flags hold.
  int covered = 0;
  for (const char* path :
       {"/proc/keys", "/proc/timer_list", "/proc/kallsyms", "/proc/kcore",
        "/proc/tty", "/proc/driver", "/proc/acpi", "/proc/scsi"}) {
    struct stat st;
    if (stat(path, &st) != 0) continue;  // this kernel has none to cover
    bool found = false;
    for (absl::string_view line : absl::StrSplit(mounts, '\n')) {
      std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
      if (fields.size() > 5 && fields[4] == path) {
        found = true;
        const std::vector<absl::string_view> options =
            absl::StrSplit(fields[5], ',');
        for (const char* flag : {"ro", "nosuid", "noexec"}) {
          EXPECT_TRUE(absl::c_linear_search(options, flag))
              << path << " lacks " << flag << ": " << line;
        }
      }
    }
    EXPECT_TRUE(found) << path << " not covered:\n" << mounts;
    ++covered;
  }
  EXPECT_GE(covered, 3) << "the host shows too few of these to check";
}

TEST(FilesystemTest, ProcHidesHostWideKernelState) {
  Policy policy = DefaultTesteePolicy();
  // Writes to host-wide knobs fail.
  for (const char* path :
       {"/proc/sys/kernel/hostname", "/proc/sys/kernel/core_pattern",
        "/proc/sys/vm/drop_caches"}) {
    TesteeRun run = RunTestee(policy, {"proc-write", path});
    ExpectExited(run);
    EXPECT_EQ(run.values["write"], "error") << path << run.output;
  }
  // Kernel memory, keys, timers read as empty: covered by /dev/null. Some
  // kernels (this CI machine's) have no /proc/kcore or sysrq-trigger at all.
  for (const char* path : {"/proc/keys", "/proc/timer_list", "/proc/kallsyms",
                           "/proc/kcore", "/proc/sysrq-trigger"}) {
    struct stat st;
    const bool on_host = stat(path, &st) == 0;
    TesteeRun run = RunTestee(policy, {"read", path});
    ExpectExited(run);
    if (on_host) {
      EXPECT_EQ(run.values["read"], "ok") << path << run.output;
      EXPECT_EQ(run.values["bytes"], "0") << path << run.output;
    } else {
      EXPECT_EQ(run.values["errno"], "ENOENT") << path << run.output;
    }
  }
  // /proc shows the sandbox's own processes only.
  TesteeRun procs = RunTestee(policy, {"exists", "/proc/2", "/proc/3"});
  EXPECT_EQ(procs.values["exists:/proc/2"], "1");
  EXPECT_EQ(procs.values["exists:/proc/3"], "0");
}

TEST(FilesystemTest, MinimalDev) {
  TesteeRun run = RunTestee(
      DefaultTesteePolicy(),
      {"exists", "/dev/null", "/dev/zero", "/dev/full", "/dev/random",
       "/dev/urandom", "/dev/sda", "/dev/mem", "/dev/kmsg", "/dev/tty"});
  ExpectExited(run);
  for (const char* present :
       {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom"}) {
    EXPECT_EQ(run.values[absl::StrCat("exists:", present)], "1") << present;
  }
  for (const char* absent : {"/dev/sda", "/dev/mem", "/dev/kmsg"}) {
    EXPECT_EQ(run.values[absl::StrCat("exists:", absent)], "0") << absent;
  }
}

TEST(FilesystemTest, DevIsReadOnlyButShmIsWritable) {
  // The mount table, from inside: /dev and each node bound into it are
  // read-only, nosuid and noexec; /dev/shm is a writable tmpfs without
  // devices, suid or exec.
  const std::string mounts = RunProgram({"/bin/cat", "/proc/self/mountinfo"});
  std::map<std::string, std::vector<std::string>> options;
  for (absl::string_view line : absl::StrSplit(mounts, '\n')) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 5 && absl::StartsWith(fields[4], "/dev")) {
      options[std::string(fields[4])] = absl::StrSplit(fields[5], ',');
    }
  }
  for (const char* path : {"/dev", "/dev/null", "/dev/zero", "/dev/full",
                           "/dev/random", "/dev/urandom"}) {
    ASSERT_TRUE(options.count(path)) << path << " not mounted:\n" << mounts;
    for (const char* flag : {"ro", "nosuid", "noexec"}) {
      EXPECT_TRUE(absl::c_linear_search(options[path], flag))
          << path << " lacks " << flag;
    }
  }
  ASSERT_TRUE(options.count("/dev/shm")) << mounts;
  for (const char* flag : {"rw", "nosuid", "nodev", "noexec"}) {
    EXPECT_TRUE(absl::c_linear_search(options["/dev/shm"], flag))
        << "/dev/shm lacks " << flag;
  }
  TesteeRun shm = RunTestee(DefaultTesteePolicy(), {"write", "/dev/shm/x"});
  ExpectExited(shm);
  EXPECT_EQ(shm.values["write"], "ok") << shm.output;
  TesteeRun dev = RunTestee(DefaultTesteePolicy(), {"write", "/dev/x"});
  EXPECT_EQ(dev.values["write"], "error") << dev.output;
  EXPECT_EQ(dev.values["errno"], "EROFS") << dev.output;
}

TEST(FilesystemTest, WorkingDirectory) {
  TesteeRun run =
      RunTestee(Build(TesteePolicy().SetCwd("/usr/bin")), {"ns", "report"});
  ExpectExited(run);
  EXPECT_EQ(run.values["cwd"], "/usr/bin");
}

TEST(SetupErrorTest, MissingBindSourceNamesTheStep) {
  Policy policy = Build(TesteePolicy().AddBind("/nonexistent/sandbox-src"));
  TesteeRun run = RunTestee(policy, {"exit", "0"});
  EXPECT_EQ(run.result.status(), proto::Result::SETUP_ERROR);
  EXPECT_EQ(run.result.setup_error().step(), "bind");
  EXPECT_EQ(run.result.setup_error().errno_name(), "ENOENT");
  EXPECT_THAT(run.result.setup_error().message(),
              HasSubstr("/nonexistent/sandbox-src"));
}

TEST(SetupErrorTest, OptionalMissingBindIsSkipped) {
  Policy policy =
      Build(TesteePolicy().AddBindIfExists("/nonexistent/sandbox-src"));
  ExpectExited(RunTestee(policy, {"exit", "0"}));
}

TEST(SetupErrorTest, ProgramNotFound) {
  Policy policy = DefaultTesteePolicy();
  Command command;
  command.argv = {"/usr/bin/no-such-program"};
  absl::StatusOr<proto::Result> result = sandbox::Run(policy, command);
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::SETUP_ERROR);
  EXPECT_EQ(result->setup_error().step(), "execve");
  EXPECT_EQ(result->setup_error().errno_name(), "ENOENT");
  EXPECT_THAT(result->setup_error().message(),
              HasSubstr("/usr/bin/no-such-program"));
}

TEST(SetupErrorTest, FailureInsideTheChildNamesTheStep) {
  // A bind target inside a read-only bind cannot get a mount point.
  Policy policy = Build(TesteePolicy().AddBind(
      "/etc/hostname", "/usr/sandbox-new-file", MountMode::kReadOnly));
  TesteeRun run = RunTestee(policy, {"exit", "0"});
  EXPECT_EQ(run.result.status(), proto::Result::SETUP_ERROR);
  EXPECT_EQ(run.result.setup_error().step(), "mkdir");
  EXPECT_EQ(run.result.setup_error().errno_name(), "EROFS");
  EXPECT_THAT(run.result.setup_error().message(),
              HasSubstr("/usr/sandbox-new-file"));
}

TEST(SetupErrorTest, BadCommandIsAnError) {
  Command command;
  EXPECT_THAT(Sandbox::Spawn(DefaultTesteePolicy(), command),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("argv")));
}

TEST(OutcomeTest, ExitCodeAndSignal) {
  Policy policy = DefaultTesteePolicy();
  ExpectExited(RunTestee(policy, {"exit", "7"}), 7);
  TesteeRun run = RunTestee(policy, {"signal", "11"});
  EXPECT_EQ(run.result.status(), proto::Result::SIGNALED);
  EXPECT_EQ(run.result.signal(), 11);
}

TEST(OutcomeTest, TimeoutKillsTheSandbox) {
  PolicyBuilder builder = TesteePolicy();
  builder.SetWallTime(absl::Milliseconds(300));
  TesteeRun run = RunTestee(Build(builder), {"sleep", "60"});
  EXPECT_EQ(run.result.status(), proto::Result::TIMEOUT);
  EXPECT_LT(run.result.usage().wall_time_seconds(), 30);
  EXPECT_GE(run.result.usage().wall_time_seconds(), 0.3);
}

TEST(OutcomeTest, ASandboxReapedByAnotherPartOfTheHostIsNeverAFalseExit) {
  if (testing::BuiltWithSanitizer("thread")) {
    GTEST_SKIP() << "cannot run under -fsanitize=thread: the host is a fork "
                    "of this threaded process that starts threads, which "
                    "TSan does not support";
  }
  // Sandboxes are children of the host: a host that ignores SIGCHLD (or a
  // thread in waitpid(-1)) takes their status. In a child of the test, so
  // that the disposition stays there. Exit codes: 0 as expected, 1 and up
  // a failed check.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    signal(SIGCHLD, SIG_IGN);
    // With our init the payload's status still comes from it.
    TesteeRun with_init = RunTestee(DefaultTesteePolicy(), {"exit", "7"});
    if (with_init.result.status() != proto::Result::OK ||
        with_init.result.exit_code() != 7) {
      _exit(1);
    }
    if (!absl::StrContains(absl::StrJoin(with_init.result.warnings(), "\n"),
                           "reaped by something else")) {
      _exit(2);
    }
    // Without one nothing is known, and the Result says so.
    PolicyBuilder builder = TesteePolicy();
    builder.mutable_proto().mutable_namespaces()->set_program_is_init(true);
    TesteeRun lost = RunTestee(Build(builder), {"exit", "7"});
    if (lost.result.status() != proto::Result::LOST) _exit(3);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(OutcomeTest, KillFromTheHost) {
  Command command;
  command.argv = {testing::kSandboxTestee, "sleep", "60"};
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(DefaultTesteePolicy(), command);
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<std::optional<proto::Result>> early =
      (*sandbox)->WaitFor(absl::Milliseconds(100));
  ASSERT_THAT(early, IsOk());
  EXPECT_FALSE(early->has_value());
  ASSERT_THAT((*sandbox)->Kill(), IsOk());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::KILLED);
}

TEST(OutcomeTest, ViolationIsHandledWhileTheHostReadsComms) {
  // The host sits in a blocking read of the sandbox's channel while the
  // sandboxee is stuck in a forbidden call: the supervisor thread reports
  // and kills it, which ends the read.
  Command command;
  command.argv = {testing::kSandboxTestee, "ptrace"};
  command.comms_fd = 3;
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(DefaultTesteePolicy(), command);
  ASSERT_THAT(sandbox, IsOk());
  ASSERT_NE((*sandbox)->comms(), nullptr);
  EXPECT_THAT((*sandbox)->comms()->RecvBytes(),
              StatusIs(absl::StatusCode::kUnavailable));
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->status(), proto::Result::VIOLATION);
  EXPECT_EQ(result->violation().syscall(), "ptrace");
}

TEST(OutcomeTest, WaitForZeroSeesAnEndedSandbox) {
  Command command;
  command.argv = {testing::kSandboxTestee, "exit", "4"};
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(DefaultTesteePolicy(), command);
  ASSERT_THAT(sandbox, IsOk());
  absl::StatusOr<std::optional<proto::Result>> result;
  for (int i = 0; i < 500; ++i) {
    result = (*sandbox)->WaitFor(absl::ZeroDuration());
    ASSERT_THAT(result, IsOk());
    if (result->has_value()) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(result->has_value()) << "never seen as ended";
  EXPECT_EQ((*result)->exit_code(), 4);
}

TEST(OutcomeTest, UsageIsReported) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"spin", "0.3"});
  ExpectExited(run);
  const proto::Usage& usage = run.result.usage();
  EXPECT_GE(usage.wall_time_seconds(), 0.3);
  EXPECT_GT(usage.user_cpu_seconds() + usage.system_cpu_seconds(), 0.1);
  EXPECT_GT(usage.peak_memory_bytes(), 100u * 1024);
}

// The phases the child timed, in Result.usage.setup_us: those that ran, and
// no more time than the sandbox lived.
std::set<std::string> SetupPhasesOf(const proto::Result& result) {
  std::set<std::string> phases;
  double total_us = 0;
  for (const auto& [phase, us] : result.usage().setup_us()) {
    phases.insert(phase);
    total_us += us;
  }
  EXPECT_LE(total_us / 1e6, result.usage().wall_time_seconds())
      << result.DebugString();
  return phases;
}

TEST(OutcomeTest, SetupPhasesAreTimed) {
  const std::set<std::string> all = {
      "wait_for_parent", "identity",     "new_root",    "dev",
      "binds",           "proc",         "finish_root", "network",
      "drop_privileges", "fork_payload", "arrange_fds", "seccomp"};
  // The default policy hands the supervisor a listener: the times ride on
  // that message.
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"exit", "0"});
  ExpectExited(run);
  EXPECT_EQ(SetupPhasesOf(run.result), all);
  EXPECT_GT(run.result.usage().setup_us().at("seccomp"), 0u);

  // Without a listener (a policy that answers unknown calls with an errno)
  // they come in a message of their own; without an init, nothing forks.
  PolicyBuilder builder = TesteePolicy();
  builder.SetDefaultErrno(EPERM);
  builder.mutable_proto().mutable_namespaces()->set_program_is_init(true);
  run = RunTestee(Build(builder), {"exit", "0"});
  ExpectExited(run);
  std::set<std::string> expected = all;
  expected.erase("fork_payload");
  EXPECT_EQ(SetupPhasesOf(run.result), expected);

  // Where the filter does not allow clock_gettime, the clock is not read
  // once it is in (the vDSO may fall back to the system call): no seccomp
  // time, and the sandbox runs as ever.
  builder = TesteePolicy();
  testing::RemoveSyscalls(builder, {"clock_gettime"});
  run = RunTestee(Build(builder), {"exit", "0"});
  ExpectExited(run);
  expected = all;
  expected.erase("seccomp");
  EXPECT_EQ(SetupPhasesOf(run.result), expected);
}

TEST(OutcomeTest, OrphansAreReaped) {
  TesteeRun run = RunTestee(DefaultTesteePolicy(), {"orphans", "5"});
  ExpectExited(run);
  EXPECT_EQ(run.values["zombies"], "0");
}

TEST(RlimitTest, LimitsAreSet) {
  PolicyBuilder builder = TesteePolicy();
  builder.SetMaxOpenFiles(64).SetMaxFileSize(1 << 20).SetCpuTime(
      absl::Seconds(5));
  TesteeRun run = RunTestee(Build(builder), {"rlimits"});
  ExpectExited(run);
  EXPECT_EQ(run.values["rlimit_nofile"], "64:64");
  EXPECT_EQ(run.values["rlimit_core"], "0:0");
  EXPECT_EQ(run.values["rlimit_fsize"], "1048576:1048576");
  EXPECT_EQ(run.values["rlimit_cpu"], "5:6");
}

TEST(RlimitTest, NofileStopsOpening) {
  TesteeRun run =
      RunTestee(Build(TesteePolicy().SetMaxOpenFiles(32)), {"nofile"});
  ExpectExited(run);
  EXPECT_EQ(run.values["errno"], "EMFILE");
  EXPECT_LE(std::stoi(run.values["opened"]), 32);
}

TEST(RlimitTest, CpuTimeEndsASpinner) {
  TesteeRun run = RunTestee(Build(TesteePolicy().SetCpuTime(absl::Seconds(1))),
                            {"spin", "forever"});
  EXPECT_EQ(run.result.status(), proto::Result::SIGNALED);
  EXPECT_THAT(run.result.signal(), AnyOf(SIGXCPU, SIGKILL));
}

TEST(RlimitTest, FileSizeStopsAWriter) {
  TesteeRun run = RunTestee(Build(TesteePolicy().SetMaxFileSize(4096)),
                            {"fsize", "100000", "/tmp/big"});
  ExpectExited(run);
  EXPECT_EQ(run.values["errno"], "EFBIG");
  EXPECT_EQ(run.values["written"], "4096");
}

}  // namespace
}  // namespace sandbox
