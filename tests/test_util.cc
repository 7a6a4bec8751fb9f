#include "tests/test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/syscall_groups.h"
#include "sandbox/sandbox.h"

extern char** environ;

namespace sandbox::testing {

std::string TesteePath() { return SANDBOX_TESTEE_PATH; }
std::string SourceDir() { return SANDBOX_SOURCE_DIR; }
std::string BinDir() { return SANDBOX_BIN_DIR; }

bool WriteWholeFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

std::string SpawnModeName(const ::testing::TestParamInfo<SpawnMode>& info) {
  return info.param == SpawnMode::kDirect ? "Direct" : "ForkServer";
}

bool IsRoot() { return geteuid() == 0; }

bool CanUseCgroups() {
  absl::StatusOr<std::unique_ptr<Cgroup>> probe =
      Cgroup::Create({.memory_bytes = 64 << 20, .pids = 16});
  return probe.ok();
}

bool BuiltWithSanitizer(absl::string_view sanitizer) {
#ifdef SANDBOX_SANITIZE
  for (absl::string_view name : absl::StrSplit(SANDBOX_SANITIZE, ',')) {
    if (name == sanitizer) return true;
  }
#endif
  return false;
}

const char* ShadowSanitizer() {
  if (BuiltWithSanitizer("address")) return "address";
  if (BuiltWithSanitizer("thread")) return "thread";
  return nullptr;
}

PolicyBuilder TesteePolicy() {
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromTextFile(SourceDir() + "/policies/default.textproto");
  EXPECT_TRUE(builder.ok()) << builder.status();
  if (!builder.ok()) return PolicyBuilder();
  // The build tree may sit below a symlink (a home on another disk); the
  // bind tests make their own links.
  builder->AddBind(TesteePath(), kSandboxTestee, MountMode::kReadOnly,
                   SymlinkMode::kFollow);
  return *std::move(builder);
}

PolicyBuilder DefaultPolicyBuilder() {
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromTextFile(SourceDir() + "/policies/default.textproto");
  EXPECT_TRUE(builder.ok()) << builder.status();
  return builder.ok() ? *std::move(builder) : PolicyBuilder();
}

void RemoveSyscalls(PolicyBuilder& builder,
                    std::initializer_list<absl::string_view> names) {
  proto::Seccomp& seccomp = *builder.mutable_proto().mutable_seccomp();
  const absl::Status inlined = internal::InlineGroups(seccomp);
  EXPECT_TRUE(inlined.ok()) << inlined;
  auto* rules = seccomp.mutable_rules();
  for (int r = rules->size() - 1; r >= 0; --r) {
    auto* syscalls = rules->Mutable(r)->mutable_syscalls();
    for (int i = syscalls->size() - 1; i >= 0; --i) {
      if (absl::c_linear_search(names, syscalls->Get(i))) {
        syscalls->erase(syscalls->begin() + i);
      }
    }
    if (syscalls->empty()) rules->erase(rules->begin() + r);
  }
}

Policy BuildOrFail(const PolicyBuilder& builder) {
  absl::StatusOr<Policy> policy = builder.Build();
  EXPECT_TRUE(policy.ok()) << policy.status();
  return *std::move(policy);
}

Command WorkerCommand(std::string name) {
  Command command;
  command.worker = std::move(name);
  return command;
}

std::unique_ptr<Sandbox> SpawnWorker(const Policy& policy,
                                     const std::string& name) {
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(policy, WorkerCommand(name));
  EXPECT_TRUE(sandbox.ok()) << name << ": " << sandbox.status();
  if (!sandbox.ok()) return nullptr;
  EXPECT_NE((*sandbox)->comms(), nullptr);
  return *std::move(sandbox);
}

proto::Result WaitOrDie(Sandbox& sandbox) {
  absl::StatusOr<std::optional<proto::Result>> result =
      sandbox.WaitFor(absl::Seconds(20));
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok() || !result->has_value()) {
    ADD_FAILURE() << "the sandbox did not end within 20 s";
    sandbox.Kill().IgnoreError();
    absl::StatusOr<proto::Result> killed = sandbox.Wait();
    return killed.ok() ? *killed : proto::Result();
  }
  return **result;
}

ssize_t SendWithRights(int socket, const void* data, size_t size,
                       const std::vector<int>& fds) {
  struct iovec iov = {const_cast<void*>(data), size};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  return sendmsg(socket, &msg, MSG_NOSIGNAL);
}

void MustRegister(const char* name, WorkerFunction fn) {
  if (absl::Status status = RegisterWorker(name, std::move(fn)); !status.ok()) {
    fprintf(stderr, "%s\n", status.ToString().c_str());
    abort();
  }
}

std::map<std::string, std::string> ParseValues(const std::string& output) {
  std::map<std::string, std::string> values;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    values[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return values;
}

TesteeRun RunTestee(const Policy& policy, const std::vector<std::string>& args,
                    SpawnMode mode) {
  TesteeRun run;
  UniqueFd out(memfd_create("testee-stdout", MFD_CLOEXEC));
  EXPECT_TRUE(out.valid());
  Command command;
  command.argv.push_back(kSandboxTestee);
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.fds.push_back({out.get(), 1});
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(policy, command, mode);
  EXPECT_TRUE(sandbox.ok()) << sandbox.status();
  if (!sandbox.ok()) return run;
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return run;
  run.result = *result;
  run.output = ReadAllFrom(out.get());
  run.values = ParseValues(run.output);
  return run;
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReadAllFrom(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  ssize_t n;
  while ((n = pread(fd, buffer, sizeof(buffer), offset)) > 0) {
    text.append(buffer, n);
    offset += n;
  }
  return text;
}

ScratchDir::ScratchDir(const std::string& prefix, mode_t mode) {
  std::string path = absl::StrCat("/tmp/", prefix, "XXXXXX");
  EXPECT_NE(mkdtemp(path.data()), nullptr) << path;
  path_ = path;
  EXPECT_EQ(chmod(path_.c_str(), mode), 0) << path_;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDir::operator/(const std::string& name) const {
  return absl::StrCat(path_, "/", name);
}

// Runs `program` (a path) with `args`, stdout and stderr captured; stdout
// goes to `stdout_path` instead when given.
ProgramRun RunHostProgram(std::string program, std::vector<std::string> args,
                          const std::string& stdout_path) {
  ProgramRun run;
  char out_path[] = "/tmp/sandbox-examples-out-XXXXXX";
  char err_path[] = "/tmp/sandbox-examples-err-XXXXXX";
  const int out = stdout_path.empty()
                      ? mkstemp(out_path)
                      : open(stdout_path.c_str(),
                             O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = mkstemp(err_path);
  if (stdout_path.empty()) unlink(out_path);
  unlink(err_path);
  EXPECT_GE(out, 0);
  EXPECT_GE(err, 0);
  args.insert(args.begin(), std::move(program));
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, 1);
  posix_spawn_file_actions_adddup2(&actions, err, 2);
  pid_t pid;
  const int spawned =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0) << argv[0];
  if (spawned == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    run.exit_status =
        WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  run.out = ReadAllFrom(out);
  run.err = ReadAllFrom(err);
  close(out);
  close(err);
  return run;
}

std::string HostNamespaceInode(const std::string& name) {
  struct stat st;
  if (stat(absl::StrCat("/proc/self/ns/", name).c_str(), &st) != 0) return "-1";
  return absl::StrCat(st.st_ino);
}

}  // namespace sandbox::testing
