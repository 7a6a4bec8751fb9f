// Test helpers: gmock matchers for absl::Status (Debian 12's Abseil has none),
// paths the build passes in, and running the static testee in a sandbox.
//
//   EXPECT_THAT(builder.Build(), IsOk());
//   EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
//                                HasSubstr("filesystem.mounts[0]")));
//   TesteeRun run = RunTestee(policy, {"ns", "report"});
//   EXPECT_EQ(run.values["hostname"], "sandbox");

#ifndef SANDBOX_TESTS_TEST_UTIL_H_
#define SANDBOX_TESTS_TEST_UTIL_H_

#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"

namespace sandbox::testing {

inline const absl::Status& GetStatus(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(status.message()), result_listener);
}

MATCHER_P(StatusIs, code, "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  *result_listener << "status is " << status;
  return status.code() == code;
}

// Path of the static testee helper (tests/testee).
std::string TesteePath();
// Top of the source tree (policies/, examples/).
std::string SourceDir();
// build/bin.
std::string BinDir();

// Where the testee sits inside the sandbox.
inline constexpr char kSandboxTestee[] = "/testee";

// The shipped default policy plus the testee bound at /testee.
PolicyBuilder TesteePolicy();

// The shipped default policy (policies/default.textproto), as a builder.
PolicyBuilder DefaultPolicyBuilder();
// Takes `names` out of every rule of the builder's policy, the rules of
// its syscall groups spelled out first (internal::InlineGroups), so that a
// test can forbid a call the default policy allows.
void RemoveSyscalls(PolicyBuilder& builder,
                    std::initializer_list<absl::string_view> names);
// builder.Build(), which must succeed.
Policy BuildOrFail(const PolicyBuilder& builder);

// Zygote mode: a Command for registered worker `name`, spawned (nullptr on
// failure, reported), and waited for up to 20 s (then killed, reported).
Command WorkerCommand(std::string name);
std::unique_ptr<Sandbox> SpawnWorker(const Policy& policy,
                                     const std::string& name);
proto::Result WaitOrDie(Sandbox& sandbox);
// One sendmsg of `data` on `socket` with `fds` attached (SCM_RIGHTS, none if
// empty), MSG_NOSIGNAL: what a hostile sandboxee sends by hand. sendmsg's
// return value (errno set on -1).
ssize_t SendWithRights(int socket, const void* data, size_t size,
                       const std::vector<int>& fds);

// RegisterWorker, which must succeed (aborts with the reason otherwise:
// called from main() before the tests run).
void MustRegister(const char* name, WorkerFunction fn);

// One run of the testee: its Result, its stdout, and the key=value lines of
// its stdout.
struct TesteeRun {
  proto::Result result;
  std::string output;
  std::map<std::string, std::string> values;
};

// Runs `/testee args...` under `policy` with stdout captured, spawned the
// `mode` way. Fails the current test (and returns an empty run) if the
// sandbox cannot be started.
TesteeRun RunTestee(const Policy& policy, const std::vector<std::string>& args,
                    SpawnMode mode = SpawnMode::kForkServer);

// For suites run in both spawn modes:
//   INSTANTIATE_TEST_SUITE_P(SpawnModes, MyTest, kBothSpawnModes,
//                            SpawnModeName);
inline const auto kBothSpawnModes =
    ::testing::Values(SpawnMode::kForkServer, SpawnMode::kDirect);
std::string SpawnModeName(const ::testing::TestParamInfo<SpawnMode>& info);

// Writes `text` to the existing file at `path` in one write() (as /proc
// files such as uid_map want); false on any failure.
bool WriteWholeFile(const std::string& path, const std::string& text);

// Parses "key=value" lines.
std::map<std::string, std::string> ParseValues(const std::string& output);

// Inode of /proc/self/ns/<name> of the test process.
std::string HostNamespaceInode(const std::string& name);

bool IsRoot();

// Whether this process can make the sandbox's cgroups (root on a host, or
// a delegated cgroup), probed by making one.
bool CanUseCgroups();

// Whether this build has `sanitizer` ("address", "thread", "undefined"),
// from -DSANDBOX_SANITIZE.
bool BuiltWithSanitizer(absl::string_view sanitizer);

// The sanitizer of this build (-DSANDBOX_SANITIZE) whose runtime shadows all
// memory and lives in every process of the program, "address" or "thread";
// nullptr in a normal build. Such a runtime reserves terabytes of address
// space when it starts and makes system calls of its own (sigaltstack
// before _exit), so it cannot run in a sandbox under an address-space limit
// or a tight allow-list: tests that put sanitized code there skip, saying
// so.
const char* ShadowSanitizer();

// Skips the current test in a build with a ShadowSanitizer(), saying `why`.
#define SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(why)                        \
  if (const char* sanitizer = ::sandbox::testing::ShadowSanitizer()) {  \
    GTEST_SKIP() << "cannot run under -fsanitize=" << sanitizer << ": " \
                 << (why);                                              \
  }

// Why sanitized code cannot run in an unprivileged sandbox with the default
// policy.
inline constexpr char kUnprivilegedMemoryLimitVsSanitizer[] =
    "unprivileged, the policy's memory limit is an RLIMIT_AS (no cgroup), "
    "which leaves the sanitizer runtime no room (it reserves terabytes of "
    "shadow)";

// Everything in the file at `fd`, read with pread from offset 0 (a memfd
// the sandbox wrote its stdout to).
std::string ReadAllFrom(int fd);
// The whole file at `path`; empty if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

// A fresh directory /tmp/<prefix>XXXXXX with `mode` (a sandbox's user is
// nobody on a root host: 0755 to bind it, 0777 to write in it), removed
// with everything in it at destruction; symlinks in it are removed, never
// followed.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix, mode_t mode = 0755);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const;

 private:
  std::string path_;
};

// A program run on the host (not in a sandbox), e.g. sandbox-run itself.
struct ProgramRun {
  int exit_status = -1;  // -N: killed by signal N
  std::string out;
  std::string err;
};

// Runs `program` (a path) with `args`, stdout and stderr captured; stdout
// goes to `stdout_path` instead when given.
ProgramRun RunHostProgram(std::string program, std::vector<std::string> args,
                          const std::string& stdout_path = "");

}  // namespace sandbox::testing

#endif  // SANDBOX_TESTS_TEST_UTIL_H_
