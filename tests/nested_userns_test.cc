// Root inside a user namespace (a rootless container, a pod with user
// namespaces, unshare -U): only the ids of its uid_map and gid_map exist,
// and the sandbox user must map to one of them -- never to one that is
// root outside. Each test forks a child into a user namespace of its own,
// has its maps written from outside (by this process: any map as root, its
// own id as uid 65534), and spawns sandboxes in it, in both modes.

#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
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
using ::sandbox::testing::IsRoot;
using ::sandbox::testing::WriteWholeFile;

// What a child reports: 0, or a code naming the step that went wrong.
using Body = int (*)(SpawnMode mode);

// Runs `body` in a child inside a new user namespace whose uid and gid maps
// are `map` ("inside outside count"); the child's exit status.
int InUserNamespace(const std::string& map, Body body, SpawnMode mode) {
  int ready[2];
  int mapped[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(mapped, O_CLOEXEC) != 0) return 80;
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    char byte = 0;
    if (unshare(CLONE_NEWUSER) != 0) _exit(81);
    if (write(ready[1], &byte, 1) != 1) _exit(82);
    if (read(mapped[0], &byte, 1) != 1 || byte != 1) _exit(83);
    // Become the namespace's root (the map's first id), as a container's
    // init is.
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) _exit(85);
    // The id change made us undumpable; a container's root process got
    // here through an exec, which makes it dumpable again (and so able to
    // open /proc/<pid>/uid_map of the children it clones).
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) _exit(86);
    _exit(body(mode));
  }
  char byte = 0;
  const bool unshared = read(ready[0], &byte, 1) == 1;
  const std::string proc = absl::StrCat("/proc/", pid, "/");
  const bool ok = unshared && WriteWholeFile(proc + "setgroups", "deny") &&
                  WriteWholeFile(proc + "uid_map", map) &&
                  WriteWholeFile(proc + "gid_map", map);
  byte = ok ? 1 : 0;
  write(mapped[1], &byte, 1);
  for (int fd : {ready[0], ready[1], mapped[0], mapped[1]}) close(fd);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!ok) return 84;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The sandbox runs `id -u`, and says 1000 (the policy's user).
int RunsAsTheSandboxUser(SpawnMode mode) {
  if (geteuid() != 0) return 1;  // root in this namespace, as intended
  absl::StatusOr<Policy> policy = DefaultPolicyBuilder().Build();
  if (!policy.ok()) return 2;
  absl::StatusOr<CapturedRun> run =
      RunCapturingOutput(*policy, {.argv = {"/usr/bin/id", "-u"}}, {}, mode);
  if (!run.ok()) {
    fprintf(stderr, "%s\n", run.status().ToString().c_str());
    return 3;
  }
  if (run->result.status() != proto::Result::OK ||
      run->stdout_data != "1000\n") {
    fprintf(stderr, "%s\n%s", run->result.DebugString().c_str(),
            run->stdout_data.c_str());
    return 4;
  }
  return 0;
}

class NestedUserNamespaceTest : public ::testing::TestWithParam<SpawnMode> {};
// Maps only root can write (tests/run.sh leaves them out of its
// unprivileged pass; run by hand unprivileged, they skip saying so).
class NestedUserNamespaceAsRootTest : public NestedUserNamespaceTest {};

TEST_P(NestedUserNamespaceTest, RootWithOnlyItsOwnIdMapsTheSandboxToIt) {
  // "0 <our id> 1", what unshare -Ur gives: nobody does not exist here
  // (this failed with PERMISSION_DENIED writing "1000 65534 1").
  const uid_t outer = IsRoot() ? 1000 : geteuid();
  EXPECT_EQ(InUserNamespace(absl::StrCat("0 ", outer, " 1"),
                            RunsAsTheSandboxUser, GetParam()),
            0);
}

TEST_P(NestedUserNamespaceAsRootTest,
       RootWithARangeMapsTheSandboxToNobodyInIt) {
  if (!IsRoot()) {
    GTEST_SKIP() << "only root can give a child namespace a range of ids "
                    "(run in the root pass)";
  }
  EXPECT_EQ(InUserNamespace("0 100000 65536", RunsAsTheSandboxUser, GetParam()),
            0);
}

TEST_P(NestedUserNamespaceAsRootTest, ANonRootUserInsideMapsItsOwnId) {
  if (!IsRoot()) {
    GTEST_SKIP() << "only root can give a child namespace a range of ids "
                    "(run in the root pass)";
  }
  // A container user that is not its root: uid 1000 of "0 100000 65536",
  // as an unprivileged host maps its own id.
  const int status = InUserNamespace(
      "0 100000 65536",
      [](SpawnMode mode) {
        if (setresgid(1000, 1000, 1000) != 0 ||
            setresuid(1000, 1000, 1000) != 0) {
          return 7;
        }
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        absl::StatusOr<Policy> policy = DefaultPolicyBuilder().Build();
        if (!policy.ok()) return 2;
        absl::StatusOr<CapturedRun> run = RunCapturingOutput(
            *policy, {.argv = {"/usr/bin/id", "-u"}}, {}, mode);
        if (!run.ok()) {
          fprintf(stderr, "%s\n", run.status().ToString().c_str());
          return 3;
        }
        return run->result.status() == proto::Result::OK &&
                       run->stdout_data == "1000\n"
                   ? 0
                   : 4;
      },
      GetParam());
  EXPECT_EQ(status, 0);
}

TEST_P(NestedUserNamespaceAsRootTest, NeverMapsTheSandboxToRootOutside) {
  if (!IsRoot()) {
    GTEST_SKIP() << "a namespace whose only id is host root needs a root "
                    "host (run in the root pass)";
  }
  // "0 0 1": the only id is root outside too; refused, naming why.
  const int status = InUserNamespace(
      "0 0 1",
      [](SpawnMode mode) {
        absl::StatusOr<Policy> policy = DefaultPolicyBuilder().Build();
        if (!policy.ok()) return 2;
        absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
            Sandbox::Spawn(*policy, {.argv = {"/bin/true"}}, mode);
        if (sandbox.ok()) return 5;
        fprintf(stderr, "%s\n", sandbox.status().ToString().c_str());
        return sandbox.status().code() ==
                           absl::StatusCode::kFailedPrecondition &&
                       absl::StrContains(sandbox.status().message(),
                                         "root outside")
                   ? 0
                   : 6;
      },
      GetParam());
  EXPECT_EQ(status, 0);
}

TEST_P(NestedUserNamespaceTest, AnOutsideIdThatDoesNotExistHereIsNamed) {
  const uid_t outer = IsRoot() ? 1000 : geteuid();
  const int status = InUserNamespace(
      absl::StrCat("0 ", outer, " 1"),
      [](SpawnMode mode) {
        PolicyBuilder builder = DefaultPolicyBuilder();
        builder.mutable_proto().mutable_user()->set_outside_uid(4242);
        absl::StatusOr<Policy> policy = builder.Build();
        if (!policy.ok()) return 2;
        absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
            Sandbox::Spawn(*policy, {.argv = {"/bin/true"}}, mode);
        if (sandbox.ok()) return 5;
        fprintf(stderr, "%s\n", sandbox.status().ToString().c_str());
        return absl::StrContains(sandbox.status().message(),
                                 "user.outside_uid: 4242 does not exist")
                   ? 0
                   : 6;
      },
      GetParam());
  EXPECT_EQ(status, 0);
}

INSTANTIATE_TEST_SUITE_P(SpawnModes, NestedUserNamespaceTest,
                         testing::kBothSpawnModes, testing::SpawnModeName);
INSTANTIATE_TEST_SUITE_P(SpawnModes, NestedUserNamespaceAsRootTest,
                         testing::kBothSpawnModes, testing::SpawnModeName);

}  // namespace
}  // namespace sandbox
