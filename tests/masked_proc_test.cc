// A host whose /proc has parts covered, as container runtimes leave it
// (Docker masks /proc/kcore, /proc/keys, /proc/timer_list, ... with
// /dev/null): the kernel refuses a sandbox a /proc of its own there, and the
// sandbox must say so, and how to fix it, before any child runs, instead
// of failing in the child's setup with "mount_proc: EPERM".
//
// Each test forks a child that makes such a host for itself: a mount
// namespace of its own (and, unprivileged, a user namespace mapping its own
// ids) with /dev/null bound over a /proc file, and spawns sandboxes there.

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::DefaultPolicyBuilder;
using ::sandbox::testing::WriteWholeFile;

// A /proc file that exists here, to cover.
std::string ProcFileToMask() {
  for (const char* path : {"/proc/kcore", "/proc/timer_list", "/proc/keys"}) {
    if (access(path, F_OK) == 0) return path;
  }
  return "";
}

// In a forked child: this process's own mount namespace with `masked`
// covered by /dev/null. Exits 90+ on a failed step.
void MaskProcHere(const std::string& masked) {
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  if (uid == 0) {
    if (unshare(CLONE_NEWNS) != 0) _exit(90);
  } else {
    // Its own ids mapped to themselves: still unprivileged to the library.
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) _exit(91);
    if (!WriteWholeFile("/proc/self/setgroups", "deny") ||
        !WriteWholeFile("/proc/self/uid_map",
                        absl::StrCat(uid, " ", uid, " 1")) ||
        !WriteWholeFile("/proc/self/gid_map",
                        absl::StrCat(gid, " ", gid, " 1"))) {
      _exit(92);
    }
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    _exit(93);
  }
  if (mount("/dev/null", masked.c_str(), nullptr, MS_BIND, nullptr) != 0) {
    _exit(94);
  }
}

// Runs `body` in a forked child with /proc masked; its exit status.
int InMaskedChild(const std::string& masked, int (*body)(SpawnMode),
                  SpawnMode mode) {
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    MaskProcHere(masked);
    _exit(body(mode));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class MaskedProcTest : public ::testing::TestWithParam<SpawnMode> {
 protected:
  void SetUp() override {
    masked_ = ProcFileToMask();
    ASSERT_FALSE(masked_.empty()) << "none of /proc/kcore, /proc/timer_list, "
                                     "/proc/keys exists to mask";
  }
  std::string masked_;
};

TEST_P(MaskedProcTest, IsAFailedPreconditionSayingHowToFixIt) {
  const int status = InMaskedChild(
      masked_,
      [](SpawnMode mode) {
        absl::StatusOr<Policy> policy = DefaultPolicyBuilder().Build();
        if (!policy.ok()) return 1;
        Command command{.argv = {"/bin/true"}};
        absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
            Sandbox::Spawn(*policy, command, mode);
        if (sandbox.ok()) {
          absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
          fprintf(stderr, "spawned: %s\n",
                  result.ok() ? result->DebugString().c_str()
                              : result.status().ToString().c_str());
          return 2;
        }
        const absl::Status& error = sandbox.status();
        fprintf(stderr, "%s\n", error.ToString().c_str());
        if (error.code() != absl::StatusCode::kFailedPrecondition) return 3;
        for (const char* words :
             {"filesystem.proc", "systempaths=unconfined",
              "procMount: Unmasked", "filesystem.proc: false"}) {
          if (!absl::StrContains(error.message(), words)) return 4;
        }
        return 0;
      },
      GetParam());
  EXPECT_EQ(status, 0) << "masked " << masked_;
}

TEST_P(MaskedProcTest, NamesWhatCoversProc) {
  static std::string masked;
  masked = masked_;
  const int status = InMaskedChild(
      masked_,
      [](SpawnMode mode) {
        absl::StatusOr<Policy> policy = DefaultPolicyBuilder().Build();
        if (!policy.ok()) return 1;
        absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
            Sandbox::Spawn(*policy, {.argv = {"/bin/true"}}, mode);
        return !sandbox.ok() &&
                       absl::StrContains(sandbox.status().message(), masked)
                   ? 0
                   : 5;
      },
      GetParam());
  EXPECT_EQ(status, 0);
}

TEST_P(MaskedProcTest, APolicyWithoutProcStillRuns) {
  const int status = InMaskedChild(
      masked_,
      [](SpawnMode mode) {
        PolicyBuilder builder = DefaultPolicyBuilder();
        builder.mutable_proto().mutable_filesystem()->set_proc(false);
        absl::StatusOr<Policy> policy = builder.Build();
        if (!policy.ok()) return 1;
        absl::StatusOr<proto::Result> result =
            Sandbox::Spawn(*policy, {.argv = {"/bin/true"}}, mode)
                .value()
                ->Wait();
        if (!result.ok() || result->status() != proto::Result::OK) {
          fprintf(stderr, "%s\n",
                  result.ok() ? result->DebugString().c_str()
                              : result.status().ToString().c_str());
          return 6;
        }
        return 0;
      },
      GetParam());
  EXPECT_EQ(status, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, MaskedProcTest, testing::kBothSpawnModes,
                         testing::SpawnModeName);

}  // namespace
}  // namespace sandbox
