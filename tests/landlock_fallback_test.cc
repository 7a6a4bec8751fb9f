// namespaces.landlock_fallback, end to end: the "user namespaces are
// unavailable" situation made for real, as a container runtime's default
// seccomp profile makes it (clone and unshare with CLONE_NEWUSER fail with
// EPERM, clone3 with ENOSYS), around sandbox-run; then what the fallback
// keeps out, each as the attack a sandboxee would make.
//
// This binary is its own helper: `landlock_fallback_test
// deny-user-namespaces PROGRAM ARGS...` installs that filter and execs
// PROGRAM; `no-user-namespaces-left PROGRAM ARGS...` execs it where
// user.max_user_namespaces is 0.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/internal/landlock.h"
#include "tests/test_util.h"

namespace sandbox::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kDenyUserNamespaces[] = "deny-user-namespaces";
constexpr char kNoUserNamespacesLeft[] = "no-user-namespaces-left";
constexpr char kNoUserNamespacesLeftAsRoot[] =
    "no-user-namespaces-left-as-root";
constexpr uid_t kNobody = 65534;

// What Docker's and Podman's default profiles do to user namespaces.
[[noreturn]] void DenyUserNamespacesAndExec(char** argv) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  const auto new_user =
      SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
  if (ctx == nullptr ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                       new_user) != 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                       new_user) != 0 ||
      seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) != 0 ||
      seccomp_load(ctx) != 0) {
    std::fprintf(stderr, "cannot install the user namespace filter\n");
    _exit(120);
  }
  execv(argv[0], argv);
  std::fprintf(stderr, "execv(%s): %s\n", argv[0], std::strerror(errno));
  _exit(121);
}

bool WriteProc(const char* path, const std::string& text) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return written;
}

// user.max_user_namespaces = 0, as root of a user namespace of our own
// (where the sysctl is ours to set) sets it for everything inside: a
// nested one fails with ENOSPC. We are `inside` there (one id, our own
// outside), and keep the namespace's capabilities across the exec only as
// its root (0), as in a container made with `unshare -Ur`.
[[noreturn]] void LimitUserNamespacesAndExec(char** argv, int inside) {
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0 ||
      !WriteProc("/proc/self/setgroups", "deny") ||
      !WriteProc("/proc/self/uid_map", absl::StrCat(inside, " ", uid, " 1")) ||
      !WriteProc("/proc/self/gid_map", absl::StrCat(inside, " ", gid, " 1")) ||
      !WriteProc("/proc/sys/user/max_user_namespaces", "0")) {
    std::fprintf(stderr, "cannot limit user namespaces: %s\n",
                 std::strerror(errno));
    _exit(120);
  }
  execv(argv[0], argv);
  std::fprintf(stderr, "execv(%s): %s\n", argv[0], std::strerror(errno));
  _exit(121);
}

std::string SelfPath() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct FallbackRun {
  ProgramRun run;
  std::string result_json;
};

// sandbox-run with the default policy, `flags`, then `command`, where user
// namespaces cannot be made.
FallbackRun RunWithoutUserNamespaces(const std::vector<std::string>& flags,
                                     const std::vector<std::string>& command,
                                     const char* how = kDenyUserNamespaces) {
  char result_path[] = "/tmp/landlock-fallback-result-XXXXXX";
  const int fd = mkstemp(result_path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::vector<std::string> args = {how, BinDir() + "/sandbox-run",
                                   "--result-json", result_path};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  FallbackRun fallback;
  fallback.run = RunHostProgram(SelfPath(), args);
  fallback.result_json = ReadFile(result_path);
  unlink(result_path);
  return fallback;
}

FallbackRun RunFallback(const std::vector<std::string>& command) {
  return RunWithoutUserNamespaces({"--landlock-fallback"}, command);
}

// The uid the sandboxee runs as: nobody for a root host where our user
// namespace has it (as the host's has), our own otherwise (also root of a
// namespace that maps only itself, as under unshare -Ur).
uid_t SandboxeeUid() {
  if (geteuid() != 0) return geteuid();
  std::istringstream map(ReadFile("/proc/self/uid_map"));
  uint64_t inside = 0;
  uint64_t outside = 0;
  uint64_t count = 0;
  while (map >> inside >> outside >> count) {
    if (kNobody >= inside && kNobody - inside < count) return kNobody;
  }
  return geteuid();
}

// What python3 in the fallback printed after `connect` (a statement of
// its socket module): "connected", or "refused <errno>".
std::string PythonConnect(const std::string& connect) {
  FallbackRun fallback =
      RunFallback({"python3", "-c",
                   absl::StrCat("import socket\ntry:\n  ", connect,
                                "\n  print('connected')\nexcept OSError as e:\n"
                                "  print('refused', e.errno)\n")});
  EXPECT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  return fallback.run.out;
}

// No connection is waiting on `listener`.
void ExpectNothingConnected(int listener) {
  ASSERT_EQ(fcntl(listener, F_SETFL, O_NONBLOCK), 0);
  EXPECT_LT(accept(listener, nullptr, nullptr), 0);
  EXPECT_EQ(errno, EAGAIN);
}

class LandlockFallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (internal::LandlockAbi() < 6) {
      GTEST_SKIP() << "this kernel's Landlock ABI is "
                   << internal::LandlockAbi()
                   << "; these tests need 6 (Linux 6.12) for scoping";
    }
    // A scratch directory of the host that only Landlock keeps the
    // sandboxee out of: world-readable, writable and searchable.
    std::string dir = "/tmp/landlock-fallback-scratch-XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    scratch_ = dir;
    ASSERT_EQ(chmod(scratch_.c_str(), 0777), 0);
    secret_ = scratch_ + "/secret";
    std::ofstream(secret_) << "host-secret-42\n";
    ASSERT_EQ(chmod(secret_.c_str(), 0666), 0);
  }
  void TearDown() override {
    if (scratch_.empty()) return;
    unlink(secret_.c_str());
    unlink((scratch_ + "/planted").c_str());
    rmdir(scratch_.c_str());
  }

  std::string scratch_;
  std::string secret_;
};

TEST_F(LandlockFallbackTest, WithoutTheOptInTheSpawnFailsNamingTheOption) {
  FallbackRun fallback = RunWithoutUserNamespaces({}, {"/bin/true"});
  EXPECT_EQ(fallback.run.exit_status, 125) << fallback.run.err;
  EXPECT_THAT(fallback.run.err, HasSubstr("user namespaces are unavailable"));
  EXPECT_THAT(fallback.run.err, HasSubstr("namespaces.landlock_fallback"));
  EXPECT_THAT(fallback.run.err, HasSubstr("--landlock-fallback"));
  EXPECT_THAT(fallback.run.err, HasSubstr("FAILED_PRECONDITION"));
}

TEST_F(LandlockFallbackTest, MaxUserNamespacesZeroFallsBackToo) {
  FallbackRun refused =
      RunWithoutUserNamespaces({}, {"/bin/true"}, kNoUserNamespacesLeft);
  EXPECT_EQ(refused.run.exit_status, 125) << refused.run.err;
  EXPECT_THAT(refused.run.err, HasSubstr("ENOSPC"));
  EXPECT_THAT(refused.run.err, HasSubstr("user.max_user_namespaces"));
  EXPECT_THAT(refused.run.err, HasSubstr("--landlock-fallback"));

  FallbackRun fallback = RunWithoutUserNamespaces(
      {"--landlock-fallback", "-v"},
      {"sh", "-c", absl::StrCat("echo ok; cat ", secret_, "; echo rc=$?")},
      kNoUserNamespacesLeft);
  EXPECT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  EXPECT_THAT(fallback.run.out, HasSubstr("ok\n"));
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("host-secret-42")));
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("rc=0")));
  EXPECT_THAT(fallback.run.err, HasSubstr("lost the pid namespace"));
}

// Root of a user namespace that maps only itself (unshare -Ur): nobody
// does not exist there, so the sandboxee is that root without capabilities
// -- our own user outside -- unless that would be host root.
TEST_F(LandlockFallbackTest,
       RootOfASingleIdNamespaceRunsAsItselfNotAsHostRoot) {
  FallbackRun fallback = RunWithoutUserNamespaces(
      {"--landlock-fallback"},
      {"sh", "-c", absl::StrCat("id -u; cat ", secret_, "; echo rc=$?")},
      kNoUserNamespacesLeftAsRoot);
  if (geteuid() == 0) {
    EXPECT_EQ(fallback.run.exit_status, 125) << fallback.run.err;
    EXPECT_THAT(fallback.run.err, HasSubstr("user.outside_uid"));
    EXPECT_THAT(fallback.run.err, HasSubstr("root outside"));
    return;
  }
  EXPECT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  EXPECT_THAT(fallback.run.out, HasSubstr("0\n"));
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("host-secret-42")));
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("rc=0")));
}

TEST_F(LandlockFallbackTest, RunsShAwkAndPythonWithTheDefaultView) {
  FallbackRun sh = RunFallback(
      {"sh", "-c",
       "echo written > \"$TMPDIR/file\" && cat \"$TMPDIR/file\" && pwd && "
       "id -u"});
  ASSERT_EQ(sh.run.exit_status, 0) << sh.run.err;
  std::vector<std::string> lines = absl::StrSplit(sh.run.out, '\n');
  ASSERT_GE(lines.size(), 3u) << sh.run.out;
  EXPECT_EQ(lines[0], "written");
  // The working directory (the policy's /tmp) is the private directory.
  EXPECT_THAT(lines[1], HasSubstr("/tmp/sandbox-landlock-"));
  EXPECT_EQ(lines[2], absl::StrCat(SandboxeeUid()));
  // Removed when the sandbox ended, with what the sandboxee wrote in it.
  EXPECT_NE(access(lines[1].c_str(), F_OK), 0) << lines[1];

  FallbackRun awk = RunFallback({"awk", "BEGIN { print 6 * 7 }"});
  EXPECT_EQ(awk.run.exit_status, 0) << awk.run.err;
  EXPECT_EQ(awk.run.out, "42\n");

  FallbackRun python = RunFallback(
      {"python3", "-c",
       "import tempfile, os\n"
       "with tempfile.NamedTemporaryFile('w+') as f:\n"
       "  f.write('py'); f.flush(); f.seek(0); print(f.read(), os.getpid())"});
  EXPECT_EQ(python.run.exit_status, 0) << python.run.err;
  EXPECT_THAT(python.run.out, HasSubstr("py "));
}

TEST_F(LandlockFallbackTest, ResultListsWhatIsLost) {
  FallbackRun fallback =
      RunWithoutUserNamespaces({"--landlock-fallback", "-v"}, {"/bin/true"});
  ASSERT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  const std::string& json = fallback.result_json;
  EXPECT_THAT(json, HasSubstr("user namespaces are unavailable here"));
  EXPECT_THAT(json, HasSubstr("confined by Landlock ABI "));
  for (const char* lost :
       {"lost the user namespace", "lost the pid namespace",
        "lost the network namespace", "lost the IPC namespace",
        "lost the UTS namespace", "lost the mount namespace",
        "lost the private /proc", "lost /dev/shm"}) {
    EXPECT_THAT(json, HasSubstr(lost));
  }
  // The same on stderr with -v, where a person sees it.
  EXPECT_THAT(fallback.run.err,
              HasSubstr("sandbox-run: warning: namespaces.landlock_fallback"));
}

TEST_F(LandlockFallbackTest, TheSeccompFilterStillReportsViolations) {
  FallbackRun fallback = RunWithoutUserNamespaces(
      {"--landlock-fallback", "--ro-bind", TesteePath()},
      {TesteePath(), "syscall", "ptrace"});
  EXPECT_EQ(fallback.run.exit_status, 159) << fallback.run.err;
  EXPECT_THAT(fallback.run.err, HasSubstr("sandbox-run: violation: ptrace"));
  EXPECT_THAT(fallback.result_json, HasSubstr("\"status\":\"VIOLATION\""));
}

TEST_F(LandlockFallbackTest, CannotReadHostFilesOutsideTheBinds) {
  ASSERT_EQ(ReadFile(secret_), "host-secret-42\n");
  FallbackRun fallback =
      RunFallback({"sh", "-c",
                   absl::StrCat("cat ", secret_, "; echo rc=$?; ",
                                "cat /etc/shadow; echo rc=$?; ",
                                "ls /etc >/dev/null; echo rc=$?")});
  EXPECT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("host-secret-42")));
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("root:")));
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("rc=0")));
  EXPECT_THAT(fallback.run.err, HasSubstr("Permission denied"));
}

TEST_F(LandlockFallbackTest, CannotWriteOutsideItsWritablePaths) {
  // The host's /tmp, where the policy has a tmpfs.
  const std::string host_tmp_dir =
      absl::StrCat("/tmp/landlock-fallback-planted-", getpid());
  FallbackRun fallback = RunFallback(
      {"sh", "-c",
       absl::StrCat("echo planted > ", scratch_, "/planted; echo rc=$?; ",
                    "echo planted >> ", secret_, "; echo rc=$?; ", "mkdir ",
                    host_tmp_dir, "; echo rc=$?")});
  EXPECT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  EXPECT_THAT(fallback.run.out, Not(HasSubstr("rc=0")));
  EXPECT_NE(access((scratch_ + "/planted").c_str(), F_OK), 0);
  EXPECT_EQ(ReadFile(secret_), "host-secret-42\n");
  struct stat st;
  EXPECT_NE(stat(host_tmp_dir.c_str(), &st), 0);
  rmdir(host_tmp_dir.c_str());
}

TEST_F(LandlockFallbackTest, CannotConnectToAHostTcpListener) {
  UniqueFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&address),
                 sizeof(address)),
            0);
  ASSERT_EQ(listen(listener.get(), 8), 0);
  socklen_t length = sizeof(address);
  ASSERT_EQ(getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address),
                        &length),
            0);
  const int port = ntohs(address.sin_port);
  const std::string out = PythonConnect(absl::StrCat(
      "socket.create_connection(('127.0.0.1', ", port, "), timeout=5)"));
  EXPECT_THAT(out, HasSubstr("refused"));
  ExpectNothingConnected(listener.get());
}

TEST_F(LandlockFallbackTest, CannotReachAHostAbstractUnixSocket) {
  UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  const std::string name = absl::StrCat("landlock-fallback-test-", getpid());
  struct sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  const socklen_t length = offsetof(sockaddr_un, sun_path) + 1 + name.size();
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length),
            0);
  ASSERT_EQ(listen(listener.get(), 8), 0);
  const std::string out = PythonConnect(
      absl::StrCat("socket.socket(socket.AF_UNIX).connect('\\0", name, "')"));
  EXPECT_THAT(out, HasSubstr("refused"));
  ExpectNothingConnected(listener.get());
}

TEST_F(LandlockFallbackTest, CannotSignalAHostProcess) {
  // A host process of the sandboxee's own user, which only Landlock's
  // signal scoping keeps it from killing.
  const pid_t victim = fork();
  ASSERT_GE(victim, 0);
  if (victim == 0) {
    const uid_t uid = SandboxeeUid();
    if (uid != geteuid() &&
        (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0)) {
      _exit(1);
    }
    for (;;) pause();
  }
  FallbackRun fallback = RunFallback(
      {"sh", "-c", absl::StrCat("kill -KILL ", victim, "; echo rc=$?")});
  EXPECT_EQ(fallback.run.exit_status, 0) << fallback.run.err;
  EXPECT_THAT(fallback.run.out, HasSubstr("rc=1"));
  int status = 0;
  EXPECT_EQ(waitpid(victim, &status, WNOHANG), 0) << "the victim died";
  kill(victim, SIGKILL);
  waitpid(victim, &status, 0);
}

}  // namespace
}  // namespace sandbox::testing

int main(int argc, char** argv) {
  if (argc >= 3 &&
      std::strcmp(argv[1], sandbox::testing::kDenyUserNamespaces) == 0) {
    sandbox::testing::DenyUserNamespacesAndExec(argv + 2);
  }
  if (argc >= 3 &&
      std::strcmp(argv[1], sandbox::testing::kNoUserNamespacesLeft) == 0) {
    sandbox::testing::LimitUserNamespacesAndExec(argv + 2, 65534);
  }
  if (argc >= 3 &&
      std::strcmp(argv[1], sandbox::testing::kNoUserNamespacesLeftAsRoot) ==
          0) {
    sandbox::testing::LimitUserNamespacesAndExec(argv + 2, 0);
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
