// The sandbox-run command line: flags, the default policy, and the exit
// status contract, run as a real process.

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

extern char** environ;

namespace sandbox {
namespace {

using ::sandbox::testing::BinDir;
using ::sandbox::testing::SourceDir;
using ::sandbox::testing::TesteePath;
using ::testing::HasSubstr;
using ::testing::Not;

using CliRun = testing::ProgramRun;

CliRun RunCli(std::vector<std::string> args) {
  return testing::RunHostProgram(BinDir() + "/sandbox-run", std::move(args));
}

std::vector<std::string> WithTestee(std::vector<std::string> testee_args,
                                    std::vector<std::string> flags = {}) {
  flags.push_back("--ro-bind");
  flags.push_back(TesteePath() + ":/testee");
  flags.push_back("--");
  flags.push_back("/testee");
  flags.insert(flags.end(), testee_args.begin(), testee_args.end());
  return flags;
}

// The content of the file at `path` (the --result-json output), which is
// then removed.
std::string TakeFile(const char* path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  unlink(path);
  return text.str();
}

TEST(CliTest, ExitCodePassesThrough) {
  CliRun run = RunCli(WithTestee({"exit", "42"}));
  EXPECT_EQ(run.exit_status, 42) << run.err;
}

TEST(CliTest, SignalIs128PlusN) {
  CliRun run = RunCli(WithTestee({"signal", "11"}));
  EXPECT_EQ(run.exit_status, 128 + 11) << run.err;
}

TEST(CliTest, ViolationExits159AndNamesTheCall) {
  char json_path[] = "/tmp/sandbox-cli-json-XXXXXX";
  close(mkstemp(json_path));
  CliRun run = RunCli(WithTestee({"ptrace"}, {"--result-json", json_path}));
  EXPECT_EQ(run.exit_status, 159);
  EXPECT_THAT(
      run.err,
      HasSubstr("sandbox-run: violation: "
                "ptrace(PTRACE_TRACEME, 0, NULL, 0) \u2014 on the fixed "
                "deny list: name it in seccomp.dangerous_allow"));
  const std::string json = TakeFile(json_path);
  EXPECT_THAT(json, HasSubstr("\"status\":\"VIOLATION\""));
  EXPECT_THAT(json, HasSubstr("\"syscall\":\"ptrace\""));
  EXPECT_THAT(json, HasSubstr("\"nr\":101"));
  EXPECT_THAT(json, HasSubstr("\"wall_time_seconds\""));
}

TEST(CliTest, ViolationLineShowsThePathTheProgramPassed) {
  CliRun run = RunCli(WithTestee({"chroot", "/cli-violation-path"}));
  EXPECT_EQ(run.exit_status, 159) << run.err;
  EXPECT_THAT(run.err, HasSubstr("sandbox-run: violation: "
                                 "chroot(\"/cli-violation-path\") \u2014 "));
}

TEST(CliTest, AViolationNamesTheGroupThatAllowsItAndAllowLetsItThrough) {
  const std::string plugin = SourceDir() + "/policies/plugin.textproto";
  CliRun run = RunCli(WithTestee({"socket", "inet"}, {"--policy", plugin}));
  EXPECT_EQ(run.exit_status, 159) << run.err;
  EXPECT_THAT(
      run.err,
      HasSubstr(
          "sandbox-run: violation: socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, "
          "0) \u2014 allowed by group INET_SOCKETS\n"));
  run = RunCli(WithTestee({"socket", "inet"},
                          {"--policy", plugin, "--allow", "INET_SOCKETS"}));
  EXPECT_EQ(run.exit_status, 0) << run.err;
  run = RunCli(WithTestee({"socket", "inet"}, {"--allow", "INET"}));
  EXPECT_EQ(run.exit_status, 125);
  EXPECT_THAT(run.err, HasSubstr("--allow: no system call group 'INET'"));
}

TEST(CliTest, GroupsPrintsTheGroupTable) {
  CliRun run = RunCli({"--groups"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("## INET_SOCKETS"));
  EXPECT_THAT(run.out, HasSubstr("`socket` when `domain == AF_INET`"));
}

TEST(CliTest, TimeoutExits124) {
  CliRun run = RunCli(WithTestee({"sleep", "60"}, {"--timeout", "0.3"}));
  EXPECT_EQ(run.exit_status, 124) << run.err;
}

TEST(CliTest, NotFoundExits127) {
  CliRun run = RunCli({"--", "/usr/bin/no-such-program"});
  EXPECT_EQ(run.exit_status, 127);
  EXPECT_THAT(run.err, HasSubstr("no-such-program"));
}

TEST(CliTest, AMissingLoaderIsNamed) {
  // Only /usr/bin: the programs are there, their dynamic loader is not.
  char policy_path[] = "/tmp/sandbox-cli-policy-XXXXXX";
  const int fd = mkstemp(policy_path);
  const std::string text =
      "filesystem { mounts { bind { source: \"/usr/bin\" } } }\n"
      "seccomp { rules { syscalls: \"execve\" action: ALLOW } }\n";
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  close(fd);
  CliRun run = RunCli({"--policy", policy_path, "--", "true"});
  unlink(policy_path);
  EXPECT_EQ(run.exit_status, 127) << run.err;
  EXPECT_THAT(run.err,
              HasSubstr("/usr/bin/true is there, but its ELF interpreter "
                        "/lib64/ld-linux-x86-64.so.2 is not in the sandbox"));
}

TEST(CliTest, NotExecutableExits126) {
  CliRun run = RunCli({"--", "/etc/ld.so.cache"});
  EXPECT_EQ(run.exit_status, 126) << run.err;
}

TEST(CliTest, BadFlagOrPolicyExits125WithReason) {
  CliRun flag = RunCli({"--frobnicate", "--", "/bin/true"});
  EXPECT_EQ(flag.exit_status, 125);
  EXPECT_THAT(flag.err, HasSubstr("--frobnicate"));

  char policy_path[] = "/tmp/sandbox-cli-policy-XXXXXX";
  int fd = mkstemp(policy_path);
  const std::string text = "name: \"bad\"\nnamespaces { usr: true }\n";
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  close(fd);
  CliRun policy = RunCli({"--policy", policy_path, "--", "/bin/true"});
  unlink(policy_path);
  EXPECT_EQ(policy.exit_status, 125);
  EXPECT_THAT(policy.err, HasSubstr(absl::StrCat(policy_path, ":2:")));
  EXPECT_THAT(policy.err, HasSubstr("usr"));

  // Relative to the working directory, where it is missing.
  CliRun bind = RunCli({"--ro-bind", "relative/path", "--", "/bin/true"});
  EXPECT_EQ(bind.exit_status, 125);
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_THAT(bind.err, HasSubstr(absl::StrCat(cwd,
                                               "/relative/path: No such "
                                               "file")));
}

TEST(CliTest, BindsFollowTheTypedSymlinksButNeverMagicLinks) {
  // As bubblewrap does: the path the user typed, and where its links lead.
  char dir[] = "/tmp/sandbox-cli-link-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string link = absl::StrCat(dir, "/testee");
  ASSERT_EQ(symlink(TesteePath().c_str(), link.c_str()), 0);
  CliRun run = RunCli({"--ro-bind", absl::StrCat(link, ":/testee"), "--",
                       "/testee", "exit", "7"});
  unlink(link.c_str());
  rmdir(dir);
  EXPECT_EQ(run.exit_status, 7) << run.err;

  CliRun magic =
      RunCli({"--ro-bind", "/proc/self/root:/host", "--", "/bin/true"});
  EXPECT_EQ(magic.exit_status, 125);
  EXPECT_THAT(magic.err, HasSubstr("/proc/self/root"));
  EXPECT_THAT(magic.err, HasSubstr("magic links"));
}

TEST(CliTest, MemoryCapEndsAHogWithTheReason) {
  CliRun run = RunCli(WithTestee({"alloc", "256M"}, {"--memory", "64M"}));
  if (!testing::CanUseCgroups()) {
    // Without root or a delegated cgroup: refused, never ignored.
    EXPECT_EQ(run.exit_status, 125);
    EXPECT_THAT(run.err, HasSubstr("delegation"));
    return;
  }
  EXPECT_EQ(run.exit_status, 128 + 9) << run.err;
  EXPECT_THAT(run.err, HasSubstr("memory limit"));
}

TEST(CliTest, EndOnLimitEndsAForkBombAtOnce) {
  CliRun run =
      RunCli(WithTestee({"forkbomb", "60"},
                        {"--pids", "16", "--end-on-limit", "--timeout", "20"}));
  if (!testing::CanUseCgroups()) {
    // Without root or a delegated cgroup: refused, never ignored.
    EXPECT_EQ(run.exit_status, 125);
    EXPECT_THAT(run.err, HasSubstr("delegation"));
    return;
  }
  // Killed at the cap (128 + SIGKILL), not at the 20 s timeout (124).
  EXPECT_EQ(run.exit_status, 128 + 9) << run.err;
  EXPECT_THAT(run.err, HasSubstr("process limit reached"));
}

TEST(CliTest, APidsCapTheProgramLivedThroughKeepsItsExitStatus) {
  // The bomb's forks fail at the cap; it reports that and exits 0 itself.
  CliRun run = RunCli(WithTestee({"forkbomb", "1"}, {"--pids", "16"}));
  if (!testing::CanUseCgroups()) {
    EXPECT_EQ(run.exit_status, 125);
    EXPECT_THAT(run.err, HasSubstr("delegation"));
    return;
  }
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("process limit reached"));
}

TEST(CliTest, ARelativeBindSourceIsResolvedAgainstTheWorkingDirectory) {
  char cwd[PATH_MAX];
  ASSERT_NE(getcwd(cwd, sizeof(cwd)), nullptr);
  const std::string relative =
      std::filesystem::relative(TesteePath(), cwd).string();
  ASSERT_NE(relative[0], '/');
  CliRun run =
      RunCli({"--ro-bind", relative + ":/prog", "--", "/prog", "exit", "3"});
  EXPECT_EQ(run.exit_status, 3) << relative << ": " << run.err;
}

TEST(CliTest, ABadFlagValueIsReportedAgainstTheFlag) {
  // Not against the line of the default policy the flag's field sits in.
  CliRun tmpfs = RunCli({"--tmpfs", "tmp2", "--", "/bin/true"});
  EXPECT_EQ(tmpfs.exit_status, 125);
  EXPECT_THAT(tmpfs.err, HasSubstr("sandbox-run: --tmpfs tmp2: filesystem."
                                   "mounts["));
  EXPECT_THAT(tmpfs.err, HasSubstr("must be an absolute path"));
  EXPECT_THAT(tmpfs.err, Not(HasSubstr("default.textproto")));
  CliRun hostname = RunCli({"--hostname", "a b", "--", "/bin/true"});
  EXPECT_EQ(hostname.exit_status, 125);
  EXPECT_THAT(hostname.err,
              HasSubstr("sandbox-run: --hostname a b: hostname:"));
  CliRun env = RunCli({"--env", "NOEQUALS", "--", "/bin/true"});
  EXPECT_EQ(env.exit_status, 125);
  EXPECT_THAT(env.err, HasSubstr("sandbox-run: --env NOEQUALS: env["));
}

TEST(CliTest, APolicyFilesOwnErrorKeepsItsLineAndColumn) {
  char path[] = "/tmp/sandbox-cli-policy-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text =
      "filesystem {\n  mounts { tmpfs { target: \"x\" size: \"1M\" } }\n}\n";
  ASSERT_EQ(write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  close(fd);
  // A flag's own mistake too: the file's is reported, with its position.
  CliRun run = RunCli({"--policy", path, "--tmpfs", "tmp2", "--", "/bin/true"});
  unlink(path);
  EXPECT_EQ(run.exit_status, 125);
  EXPECT_THAT(run.err, HasSubstr(absl::StrCat(path, ":2:")));
  EXPECT_THAT(run.err, HasSubstr("filesystem.mounts[0].tmpfs.target"));
}

TEST(CliTest, BadLimitFlagsExit125) {
  for (const char* flag : {"--memory", "--pids", "--cpus"}) {
    CliRun run = RunCli({flag, "lots", "--", "/bin/true"});
    EXPECT_EQ(run.exit_status, 125) << flag;
    EXPECT_THAT(run.err, HasSubstr(flag));
  }
}

// --afl is afl-fuzz's fork server; anywhere else it says how to run it
// rather than start a sandbox. tests/afl_test.sh runs it under afl-fuzz.
TEST(CliTest, AflOutsideAflFuzzSaysHowToRunIt) {
  CliRun run = RunCli({"--afl", "--", "/bin/true"});
  EXPECT_EQ(run.exit_status, 125);
  EXPECT_THAT(run.err, HasSubstr("not afl-fuzz's fork-server pipe"));
  EXPECT_THAT(run.err, HasSubstr("afl-fuzz -i IN -o OUT"));
}

TEST(CliTest, HelpDocumentsEveryFlagAndExitStatus) {
  CliRun run = RunCli({"--help"});
  EXPECT_EQ(run.exit_status, 0);
  for (const char* flag :
       {"--policy",      "--ro-bind",  "--bind",     "--tmpfs",
        "--memory",      "--pids",     "--cpu-time", "--timeout",
        "--net",         "--hostname", "--env",      "--cwd",
        "--result-json", "-v",         "124",        "--end-on-limit",
        "125",           "126",        "127",        "159",
        "128+N",         "--afl"}) {
    EXPECT_THAT(run.out, HasSubstr(flag));
  }
  EXPECT_THAT(run.out, HasSubstr("--landlock-fallback"));
}

TEST(CliTest, ShadowIsNotVisible) {
  CliRun run = RunCli({"--", "/bin/cat", "/etc/shadow"});
  EXPECT_NE(run.exit_status, 0);
  EXPECT_THAT(run.err, HasSubstr("No such file"));
}

TEST(CliTest, RealProgramsRunUnderTheDefaultPolicy) {
  CliRun run = RunCli(
      {"--", "/bin/sh", "-c",
       "ls /usr/bin | sort | head -3 | wc -l; echo hi | sha256sum | cut -c1-8;"
       " awk 'BEGIN{print 6*7}'; hostname; echo $$; tar --version | head -1;"
       " grep -c . /proc/self/status >/dev/null && echo proc-ok"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("3\n"));
  EXPECT_THAT(run.out, HasSubstr("98ea6e4f"));  // sha256("hi\n")
  EXPECT_THAT(run.out, HasSubstr("42\n"));
  EXPECT_THAT(run.out, HasSubstr("sandbox\n"));
  EXPECT_THAT(run.out, HasSubstr("tar (GNU tar)"));
  EXPECT_THAT(run.out, HasSubstr("proc-ok"));
}

TEST(CliTest, FlagsOverrideThePolicy) {
  char dir[] = "/tmp/sandbox-cli-bind-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  chmod(dir, 0777);
  CliRun run = RunCli(
      {"--hostname", "box7", "--env", "GREETING=hello", "--cwd", "/data",
       "--bind", absl::StrCat(dir, ":/data"), "--tmpfs", "/scratch:1M", "--",
       "/bin/sh", "-c",
       "hostname; echo $GREETING; pwd; echo x > out; echo y > /scratch/y &&"
       " echo scratch-ok; env | grep -c ."});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("box7\nhello\n/data\nscratch-ok\n"));
  struct stat st;
  const std::string out_file = absl::StrCat(dir, "/out");
  EXPECT_EQ(stat(out_file.c_str(), &st), 0);
  unlink(out_file.c_str());
  rmdir(dir);
}

TEST(CliTest, HostNetworkFlag) {
  CliRun isolated = RunCli({"--", "/bin/cat", "/proc/net/dev"});
  CliRun host = RunCli({"--net", "host", "--", "/bin/cat", "/proc/net/dev"});
  EXPECT_EQ(isolated.exit_status, 0) << isolated.err;
  EXPECT_EQ(host.exit_status, 0) << host.err;
  // Two header lines plus one line per interface: only lo when isolated.
  auto count_lines = [](const std::string& text) {
    return std::count(text.begin(), text.end(), '\n');
  };
  EXPECT_EQ(count_lines(isolated.out), 3) << isolated.out;
  EXPECT_THAT(isolated.out, HasSubstr("lo:"));
  std::ifstream host_dev("/proc/net/dev");
  std::stringstream host_text;
  host_text << host_dev.rdbuf();
  EXPECT_EQ(count_lines(host.out), count_lines(host_text.str()));
}

TEST(CliTest, ResultJsonForASuccessfulRun) {
  char json_path[] = "/tmp/sandbox-cli-json-XXXXXX";
  close(mkstemp(json_path));
  CliRun run = RunCli({"--result-json", json_path, "--", "/bin/true"});
  EXPECT_EQ(run.exit_status, 0) << run.err;
  const std::string json = TakeFile(json_path);
  EXPECT_THAT(json, HasSubstr("\"status\":\"OK\""));
  EXPECT_THAT(json, Not(HasSubstr("violation")));
}

TEST(CliTest, ASetupErrorNamingANonUtf8PathSurvivesTheJson) {
  // A proto3 string must be UTF-8: the path comes back escaped, whole.
  char json_path[] = "/tmp/sandbox-cli-json-XXXXXX";
  close(mkstemp(json_path));
  CliRun run = RunCli({"--result-json", json_path, "--", "/caf\xe9"});
  EXPECT_EQ(run.exit_status, 127) << run.err;
  const std::string json = TakeFile(json_path);
  EXPECT_THAT(json, HasSubstr("execve /caf\\\\xe9: No such file"));
  EXPECT_THAT(run.err, Not(HasSubstr("libprotobuf ERROR")));
}

TEST(CliTest, ExampleCallingPtraceExits159) {
  // examples/forbidden_syscall, a dynamically linked Debian-built program.
  char json_path[] = "/tmp/sandbox-cli-json-XXXXXX";
  close(mkstemp(json_path));
  CliRun run = RunCli({"--result-json", json_path, "--ro-bind",
                       BinDir() + "/forbidden_syscall:/prog", "--", "/prog"});
  EXPECT_EQ(run.exit_status, 159) << run.err;
  EXPECT_THAT(run.out, HasSubstr("calling ptrace"));
  EXPECT_THAT(run.out, Not(HasSubstr("succeeded")));
  const std::string json = TakeFile(json_path);
  EXPECT_THAT(json, HasSubstr("\"syscall\":\"ptrace\""));
}

}  // namespace
}  // namespace sandbox
