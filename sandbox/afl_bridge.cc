#include "sandbox/afl_bridge.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sandbox/fd.h"
#include "sandbox/internal/afl_protocol.h"
#include "sandbox/internal/kernel_abi.h"
#include "sandbox/internal/untrusted_fd.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"

namespace sandbox {
namespace {

namespace afl = internal::afl;
constexpr char kShimPath[] = "/sandbox-afl-shim";
// afl-fuzz's signatures in a binary (include/config.h): the target wants
// persistent mode or a deferred fork server, which afl-fuzz would switch on
// by environment had it seen the program itself.
constexpr char kPersistentSignature[] = "##SIG_AFL_PERSISTENT##";
constexpr char kDeferredSignature[] = "##SIG_AFL_DEFER_FORKSRV##";
// The name of afl-fuzz's @@ file in its output directory.
constexpr char kInputName[] = ".cur_input";
// afl-fuzz's test cases are at most 1 MiB (MAX_FILE); the copy allows more.
constexpr size_t kMaxInputBytes = 64 << 20;
// How long the program may take to start its fork server, and to report a
// child once told to fork.
constexpr absl::Duration kStartDeadline = absl::Seconds(30);
constexpr absl::Duration kForkDeadline = absl::Seconds(10);
// Once the child is gone, its status must follow within this.
constexpr absl::Duration kStatusGrace = absl::Seconds(5);
// Environment afl-fuzz sets for its target: LD_BIND_NOW, so that the fork
// server resolves every symbol once and no child pays for lazy binding
// (page faults on the GOT, the resolver) per input; the sanitizers'
// options (abort_on_error, ...), which decide whether a finding is a crash
// afl-fuzz sees.
constexpr const char* kPassedEnvironment[] = {"LD_BIND_NOW", "ASAN_OPTIONS",
                                              "UBSAN_OPTIONS", "MSAN_OPTIONS",
                                              "LSAN_OPTIONS"};
// What AFL's runtime and the shim call, beyond what any program needs:
// the fork server (fork, wait4, kill for persistent mode's SIGCONT), the
// coverage map in the sandbox's own IPC namespace, the shim's start of the
// program, and its one record to the bridge with pidfds of itself and the
// program.
constexpr const char* kAflCalls[] = {
    "clone", "fork",   "wait4",  "kill",       "shmget",  "shmat",
    "shmdt", "shmctl", "execve", "pidfd_open", "sendmsg", "rt_sigaction"};

absl::Status ErrnoStatus(absl::string_view what) {
  return absl::ErrnoToStatus(errno, absl::StrCat("--afl: ", what));
}

bool FileHas(const std::string& path, absl::string_view signature) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return false;
  std::stringstream data;
  data << file.rdbuf();
  return absl::StrContains(data.str(), signature);
}

// "Pid:" and the number of "NSpid:" fields of a pidfd, from our own
// fdinfo; nullopt for a descriptor that is no pidfd. Raw reads: before
// Linux 6.13 (no PIDFD_GET_INFO) this runs once per input.
struct FdinfoPid {
  pid_t pid = -1;
  int depth = 0;
};
std::optional<FdinfoPid> ReadPidfdInfo(int fd) {
  char path[48];
  snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
  UniqueFd file(open(path, O_RDONLY | O_CLOEXEC));
  if (!file.valid()) return std::nullopt;
  char text[1024];
  const ssize_t n = read(file.get(), text, sizeof(text) - 1);
  if (n <= 0) return std::nullopt;
  std::optional<FdinfoPid> info;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text, static_cast<size_t>(n)), '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 2) continue;
    if (fields[0] == "Pid:") {
      int pid = 0;
      if (!absl::SimpleAtoi(fields[1], &pid)) return std::nullopt;
      if (!info.has_value()) info.emplace();
      info->pid = pid;
    } else if (fields[0] == "NSpid:") {
      if (info.has_value()) info->depth = static_cast<int>(fields.size() - 1);
    }
  }
  return info;
}

// The depth of `pid`'s pid namespace, counted from ours (1: ours), from
// its NSpid line; 0 if unreadable.
int PidNamespaceDepth(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(file, line)) {
    if (line.rfind("NSpid:", 0) == 0) {
      std::vector<absl::string_view> fields =
          absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
      return static_cast<int>(fields.size() - 1);
    }
  }
  return 0;
}

// Why a wait on the sandbox ended.
enum class Wait { kReady, kEnded, kTimedOut };

}  // namespace

class AflBridge::Impl {
 public:
  ~Impl();
  absl::Status Init(std::vector<std::string> argv, const std::string& shim,
                    proto::Policy& policy);
  absl::Status Serve(const Policy& policy);

 private:
  // The program's fork server in its sandbox, as the bridge reaches it.
  struct Server {
    UniqueFd to;    // its control pipe (198 inside), non-blocking
    UniqueFd from;  // its status pipe (199 inside), non-blocking
    // The shim's memory, where the map is, opened while the kernel named
    // the shim as a process of the sandbox: bound to that process.
    UniqueFd shim_mem;
    uint64_t map_address = 0;
    uint64_t fuzz_address = 0;  // the test case segment's; 0 if none
    // /proc/<host pid>/task/<host pid>/children of the fork server: the
    // host pids of what it forked, read afresh from offset 0 each time.
    UniqueFd children;
    // Our pidfd of the fork server, and its host pid.
    UniqueFd program;
    pid_t program_pid = -1;
  };

  // Starts a sandbox and takes its program's hello: the first is passed to
  // afl-fuzz, later ones (after a restart) must be the same.
  absl::Status Start(const Policy& policy);
  // Spawns the sandbox and takes the shim's record.
  absl::Status Spawn(const Policy& policy);
  // The test case where the program reads it.
  absl::Status StageInput();
  // Whether `pidfd`, ours, names `host_pid` as a live child of the fork
  // server.
  bool ChildOfServer(const UniqueFd& pidfd, pid_t host_pid);
  // Zeroes the map, tells the fork server `go` and reads the pid it
  // claims for its child; false with `why` if the sandbox fails on the way.
  bool Launch(uint32_t go, uint32_t* claimed, std::string* why);
  // Four bytes from the fork server, however they come; gives up when the
  // sandbox ends, or at `deadline`. While a child runs (`running`: the pid
  // its fork server claimed) the end of the stand-in, afl-fuzz's kill, is
  // passed on to it, and brings the deadline forward to the grace period.
  Wait ReadWord(uint32_t* word, absl::Time deadline,
                std::optional<int32_t> running, std::string* why);
  // The stand-in: the pid afl-fuzz is told for every input (see Serve).
  bool StartStandIn();
  // Reaps the ended stand-in; the signal that ended it.
  int ReapStandIn();
  // afl-fuzz's kill, `signal`, to the child the fork server said it forked
  // (`claimed`, a pid of its namespace), found by the kernel's list of its
  // children and checked by pidfd to be one; nothing if there is none.
  void KillChild(int32_t claimed, int signal);
  // The sandbox ended or broke the protocol during an input: tell afl-fuzz
  // the input crashed, and start a fresh sandbox.
  absl::Status EndInput(const Policy& policy, absl::string_view why);
  void StopSandbox();
  bool Tell(uint32_t word) {
    return afl::WriteAll(afl::kStatusFd, &word, sizeof(word));
  }

  uint8_t* trace_bits_ = nullptr;
  // afl-fuzz's test case segment (__AFL_SHM_FUZZ_ID), read-only; used when
  // the program's hello asks for test cases in shared memory, with the
  // answer afl-fuzz gave, which every restarted program gets too.
  const uint8_t* fuzz_ = nullptr;
  size_t fuzz_bytes_ = 0;
  bool shmem_input_ = false;
  uint32_t shmem_answer_ = 0;
  size_t map_bytes_ = 0;
  size_t used_ = 0;
  std::vector<uint8_t> zeros_;
  UniqueFd stdin_input_;    // afl-fuzz's test case, reopened read-only
  std::string input_path_;  // afl-fuzz's @@ file
  UniqueFd input_dir_;      // its directory, where it is made anew
  std::string staging_dir_;
  UniqueFd staging_;  // its copy, bound read-only at input_path_
  off_t staged_bytes_ = 0;
  int input_arg_ = -1;
  Command command_;
  std::unique_ptr<Sandbox> sandbox_;
  int sandbox_depth_ = 0;
  Server server_;
  bool have_hello_ = false;
  uint32_t hello_ = 0;
  // The stand-in (see Serve) and our pidfd of it; invalid once it ended,
  // until the next input starts another.
  pid_t standin_pid_ = -1;
  UniqueFd standin_;
  bool pidfd_get_info_ = true;  // until the kernel says it has no such ioctl
};

AflBridge::Impl::~Impl() {
  StopSandbox();
  if (standin_.valid()) {
    syscall(SYS_pidfd_send_signal, standin_.get(), SIGKILL, nullptr, 0);
    ReapStandIn();
  }
  if (trace_bits_ != nullptr) shmdt(trace_bits_);
  if (fuzz_ != nullptr) shmdt(fuzz_);
  if (!staging_dir_.empty()) {
    unlink(absl::StrCat(staging_dir_, "/input").c_str());
    rmdir(staging_dir_.c_str());
  }
}

absl::Status AflBridge::Impl::Init(std::vector<std::string> argv,
                                   const std::string& shim,
                                   proto::Policy& policy) {
  struct stat st;
  for (int fd : {afl::kControlFd, afl::kStatusFd}) {
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--afl: descriptor ", fd,
          " is not afl-fuzz's fork-server pipe; run this under afl-fuzz: "
          "afl-fuzz -i IN -o OUT -- sandbox-run --afl [flags] -- PROGRAM @@"));
    }
  }
  const char* shm_id_text = getenv("__AFL_SHM_ID");
  int shm_id = -1;
  if (shm_id_text == nullptr || !absl::SimpleAtoi(shm_id_text, &shm_id) ||
      shm_id < 0) {
    return absl::FailedPreconditionError(
        "--afl: no __AFL_SHM_ID in the environment (run this under afl-fuzz)");
  }
  void* bits = shmat(shm_id, nullptr, 0);
  if (bits == reinterpret_cast<void*>(-1)) {
    return ErrnoStatus(absl::StrCat("shmat(__AFL_SHM_ID=", shm_id, ")"));
  }
  trace_bits_ = static_cast<uint8_t*>(bits);
  shmid_ds segment;
  if (shmctl(shm_id, IPC_STAT, &segment) != 0) {
    return ErrnoStatus("shmctl(__AFL_SHM_ID, IPC_STAT)");
  }
  map_bytes_ = segment.shm_segsz;
  if (map_bytes_ == 0 || map_bytes_ > afl::kMaxMapBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("--afl: afl-fuzz's map has ", map_bytes_,
                     " bytes; at most ", afl::kMaxMapBytes, " are bridged"));
  }
  used_ = map_bytes_;
  zeros_.assign(map_bytes_, 0);
  // afl-fuzz makes a test case segment whether or not the program wants
  // one; without it a program that does is refused at its hello.
  const char* fuzz_id_text = getenv("__AFL_SHM_FUZZ_ID");
  int fuzz_id = -1;
  if (fuzz_id_text != nullptr && absl::SimpleAtoi(fuzz_id_text, &fuzz_id) &&
      fuzz_id >= 0 && shmctl(fuzz_id, IPC_STAT, &segment) == 0 &&
      segment.shm_segsz > sizeof(uint32_t) &&
      segment.shm_segsz <= afl::kMaxFuzzBytes) {
    void* fuzz = shmat(fuzz_id, nullptr, SHM_RDONLY);
    if (fuzz != reinterpret_cast<void*>(-1)) {
      fuzz_ = static_cast<const uint8_t*>(fuzz);
      fuzz_bytes_ = segment.shm_segsz;
    }
  }

  const proto::Namespaces& namespaces = policy.namespaces();
  if ((namespaces.has_pid() && !namespaces.pid()) ||
      (namespaces.has_ipc() && !namespaces.ipc())) {
    return absl::FailedPreconditionError(
        "--afl: the policy must keep its own pid and IPC namespaces "
        "(namespaces.pid, namespaces.ipc): the coverage map lives in the "
        "sandbox's IPC namespace, and the pid afl-fuzz kills is checked to "
        "lie in the sandbox's pid namespace");
  }

  // The test case: afl-fuzz's @@ file, which it replaces by a new file for
  // each input, so the sandbox gets a copy at the same path instead; or
  // stdin, afl-fuzz's file opened read-write, reopened read-only.
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    const size_t slash = arg.rfind('/');
    const std::string base =
        slash == std::string::npos ? arg : arg.substr(slash + 1);
    if (base != kInputName) continue;
    // afl-fuzz makes the file only when it writes the first input.
    const std::string dir =
        slash == std::string::npos ? "." : arg.substr(0, slash + 1);
    char real[PATH_MAX];
    if (realpath(dir.c_str(), real) == nullptr) {
      return ErrnoStatus(absl::StrCat("realpath(", dir, ")"));
    }
    input_path_ = absl::StrCat(real, "/", base);
    input_dir_.reset(open(real, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!input_dir_.valid()) return ErrnoStatus(absl::StrCat("open ", real));
    input_arg_ = static_cast<int>(i);
    argv[i] = input_path_;
    break;
  }
  if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && input_arg_ < 0) {
    stdin_input_.reset(open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC));
    if (!stdin_input_.valid()) return ErrnoStatus("reopen stdin read-only");
  }

  // What the program is on the host, for afl-fuzz's signatures: the source
  // of the bind that puts it where argv[0] names it, else argv[0].
  std::string program_on_host = argv[0];
  for (const proto::Mount& mount : policy.filesystem().mounts()) {
    if (!mount.has_bind()) continue;
    const proto::BindMount& bind = mount.bind();
    const std::string& target =
        bind.target().empty() ? bind.source() : bind.target();
    if (target == argv[0]) program_on_host = bind.source();
  }
  if (FileHas(program_on_host, kPersistentSignature)) {
    policy.add_env("__AFL_PERSISTENT=1");
  }
  if (FileHas(program_on_host, kDeferredSignature)) {
    policy.add_env("__AFL_DEFER_FORKSRV=1");
  }
  for (const char* name : kPassedEnvironment) {
    if (const char* value = getenv(name)) {
      policy.add_env(absl::StrCat(name, "=", value));
    }
  }

  proto::Mount shim_mount;
  shim_mount.mutable_bind()->set_source(shim);
  shim_mount.mutable_bind()->set_target(kShimPath);
  *policy.mutable_filesystem()->add_mounts() = std::move(shim_mount);

  // The calls AFL's runtime and the shim make, where the policy's own
  // rules do not name them (a rule of the policy's for one of them stands).
  absl::flat_hash_set<std::string> named;
  for (const proto::SyscallRule& rule : policy.seccomp().rules()) {
    for (const std::string& name : rule.syscalls()) named.insert(name);
  }
  // They widen a tight policy (execve above all: the shim starts the
  // program), so the widening is said, where afl-fuzz shows the target's
  // stderr (AFL_DEBUG_CHILD).
  proto::SyscallRule* rule = nullptr;
  for (const char* name : kAflCalls) {
    if (named.contains(name)) continue;
    if (rule == nullptr) {
      rule = policy.mutable_seccomp()->add_rules();
      rule->set_action(proto::SyscallRule::ALLOW);
    }
    rule->add_syscalls(name);
  }
  if (rule != nullptr) {
    std::cerr << "sandbox-run: --afl: the policy also allows "
              << absl::StrJoin(rule->syscalls(), " ")
              << " (AFL++'s runtime and the shim); a rule of the policy's "
                 "for one of them stands instead\n";
  }

  command_.argv = {kShimPath, absl::StrCat(map_bytes_),
                   absl::StrCat(fuzz_bytes_)};
  command_.argv.insert(command_.argv.end(), argv.begin(), argv.end());
  // afl-fuzz's stdout and stderr (/dev/null unless AFL_DEBUG_CHILD).
  command_.inherit_stdio = true;
  if (stdin_input_.valid()) command_.fds.push_back({stdin_input_.get(), 0});
  return absl::OkStatus();
}

void AflBridge::Impl::StopSandbox() {
  server_ = Server();
  if (sandbox_ == nullptr) return;
  sandbox_->Kill().IgnoreError();
  sandbox_->Wait().IgnoreError();
  sandbox_.reset();
}

// A pidfd the shim sent, as the kernel names it: its host pid if the
// process is alive in the sandbox's own pid namespace, else -1.
pid_t SandboxPid(const UniqueFd& pidfd, int sandbox_depth) {
  std::optional<FdinfoPid> info = ReadPidfdInfo(pidfd.get());
  if (!info.has_value() || info->pid <= 0 || sandbox_depth < 2 ||
      info->depth != sandbox_depth) {
    return -1;
  }
  return info->pid;
}

bool Alive(const UniqueFd& pidfd) {
  pollfd ended = {pidfd.get(), POLLIN, 0};
  return poll(&ended, 1, 0) == 0;
}

absl::Status AflBridge::Impl::Spawn(const Policy& policy) {
  int control[2];
  int status[2];
  int channel[2];
  if (pipe2(control, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) {
    return ErrnoStatus("pipe2");
  }
  UniqueFd control_in(control[0]);
  UniqueFd status_in(status[1]);
  server_.to.reset(control[1]);
  server_.from.reset(status[0]);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0) {
    return ErrnoStatus("socketpair");
  }
  UniqueFd ours(channel[0]);
  UniqueFd shim_channel(channel[1]);
  for (const UniqueFd& fd : {std::cref(server_.to), std::cref(server_.from)}) {
    if (fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) {
      return ErrnoStatus("fcntl(O_NONBLOCK)");
    }
  }
  Command command = command_;
  command.fds.push_back({shim_channel.get(), afl::kShimChannelFd});
  command.fds.push_back({control_in.get(), afl::kControlFd});
  command.fds.push_back({status_in.get(), afl::kStatusFd});

  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox;
  if (!input_path_.empty()) {
    // A fresh file for each sandbox, bound read-only at afl-fuzz's path;
    // the directory and file go once the program has started (the mount
    // holds the file, and the bridge its descriptor).
    // On tmpfs where there is one: it is rewritten for every input, and a
    // disk file system would journal each truncation.
    char shm_dir[] = "/dev/shm/sandbox-afl.XXXXXX";
    char tmp_dir[] = "/tmp/sandbox-afl.XXXXXX";
    char* dir = mkdtemp(shm_dir);
    if (dir == nullptr) dir = mkdtemp(tmp_dir);
    if (dir == nullptr) return ErrnoStatus("mkdtemp(/tmp)");
    staging_dir_ = dir;
    // Searchable, not listable: the sandbox user opens the file again by
    // path when it mounts it.
    if (chmod(dir, 0711) != 0) return ErrnoStatus("chmod(staging dir)");
    const std::string file = absl::StrCat(dir, "/input");
    staged_bytes_ = 0;
    staging_.reset(open(file.c_str(),
                        O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        0644));
    if (!staging_.valid()) return ErrnoStatus(absl::StrCat("create ", file));
    if (fchmod(staging_.get(), 0644) != 0) return ErrnoStatus("fchmod");
    PolicyBuilder builder = PolicyBuilder::FromProto(policy.proto());
    proto::Mount mount;
    mount.mutable_bind()->set_source(file);
    mount.mutable_bind()->set_target(input_path_);
    *builder.mutable_proto().mutable_filesystem()->add_mounts() =
        std::move(mount);
    absl::StatusOr<Policy> with_input = builder.Build();
    if (!with_input.ok()) return with_input.status();
    sandbox = Sandbox::Spawn(*with_input, command, SpawnMode::kDirect);
  } else {
    sandbox = Sandbox::Spawn(policy, command, SpawnMode::kDirect);
  }
  if (!sandbox.ok()) return sandbox.status();
  sandbox_ = *std::move(sandbox);
  // Only the sandbox holds these now: its end is their end.
  control_in.reset();
  status_in.reset();
  shim_channel.reset();
  sandbox_depth_ = PidNamespaceDepth(sandbox_->pid());

  // The shim's one record: its segments' addresses, pidfds of itself and
  // of the program.
  const absl::Time deadline = absl::Now() + kStartDeadline;
  for (;;) {
    pollfd fds[2] = {{ours.get(), POLLIN, 0}, {sandbox_->pidfd(), POLLIN, 0}};
    const int ready =
        poll(fds, 2,
             static_cast<int>(std::max<int64_t>(
                 0, absl::ToInt64Milliseconds(deadline - absl::Now()) + 1)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return ErrnoStatus("poll");
    if (fds[0].revents != 0) break;
    if (fds[1].revents != 0) {
      absl::StatusOr<proto::Result> result = sandbox_->Wait();
      return absl::FailedPreconditionError(absl::StrCat(
          "--afl: the sandbox ended before its shim started the program: ",
          result.ok() ? result->ShortDebugString()
                      : result.status().ToString()));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          "--afl: the shim did not start the program within 30s");
    }
  }
  afl::ShimRecord record = {};
  iovec iov = {&record, sizeof(record)};
  alignas(cmsghdr) char control_data[CMSG_SPACE(4 * sizeof(int))];
  msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_data;
  msg.msg_controllen = sizeof(control_data);
  const ssize_t n = recvmsg(ours.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  std::vector<UniqueFd> fds;
  if (n >= 0) TakeReceivedFds(msg, fds);
  pid_t shim = -1;
  pid_t program = -1;
  if (n == sizeof(record) && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0 &&
      fds.size() == 2) {
    shim = SandboxPid(fds[0], sandbox_depth_);
    program = SandboxPid(fds[1], sandbox_depth_);
  }
  int error = 0;
  if (shim > 0 && program > 0) {
    server_.shim_mem.reset(
        open(absl::StrCat("/proc/", shim, "/mem").c_str(), O_RDWR | O_CLOEXEC));
    if (!server_.shim_mem.valid()) error = errno;
    server_.children.reset(open(
        absl::StrCat("/proc/", program, "/task/", program, "/children").c_str(),
        O_RDONLY | O_CLOEXEC));
    if (!server_.children.valid() && error == 0) error = errno;
    server_.program.reset(
        static_cast<int>(syscall(SYS_pidfd_open, program, 0)));
    if (!server_.program.valid() && error == 0) error = errno;
    server_.program_pid = program;
    server_.map_address = record.map_address;
    server_.fuzz_address = record.fuzz_address;
  }
  // Opened while both were alive: the files are theirs, whatever their
  // pids name later.
  const bool bound = server_.shim_mem.valid() && server_.children.valid() &&
                     server_.program.valid() && Alive(fds[0]) && Alive(fds[1]);
  for (UniqueFd& fd : fds) internal::CloseUntrusted(std::move(fd));
  if (n == 0) {
    // The shim ended first: the sandbox says how.
    absl::StatusOr<std::optional<proto::Result>> result =
        sandbox_->WaitFor(absl::Seconds(5));
    return absl::FailedPreconditionError(absl::StrCat(
        "--afl: the shim ended before it started the program: ",
        result.ok() && result->has_value() ? (*result)->ShortDebugString()
                                           : "still running"));
  }
  if (!bound) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--afl: the shim's record (", n, " bytes, pids ", shim, " and ",
        program, ") names no live process of the sandbox",
        error != 0 ? absl::StrCat(", or its /proc files cannot be opened: ",
                                  strerror(error))
                   : ""));
  }
  return absl::OkStatus();
}

absl::Status AflBridge::Impl::Start(const Policy& policy) {
  StopSandbox();
  absl::Status spawned = Spawn(policy);
  if (!staging_dir_.empty()) {
    unlink(absl::StrCat(staging_dir_, "/input").c_str());
    rmdir(staging_dir_.c_str());
    staging_dir_.clear();
  }
  if (!spawned.ok()) {
    StopSandbox();
    return spawned;
  }
  uint32_t hello = 0;
  std::string why;
  const Wait wait =
      ReadWord(&hello, absl::Now() + kStartDeadline, std::nullopt, &why);
  if (wait != Wait::kReady) {
    if (wait == Wait::kEnded) {
      absl::StatusOr<std::optional<proto::Result>> result =
          sandbox_->WaitFor(absl::Seconds(1));
      if (result.ok() && result->has_value()) {
        absl::StrAppend(&why, ": ", (*result)->ShortDebugString());
      }
    }
    StopSandbox();
    return absl::FailedPreconditionError(absl::StrCat(
        "--afl: the program's fork server did not start (is it built with "
        "afl-clang-fast?): ",
        why));
  }
  if (have_hello_) {
    if (hello != hello_) {
      StopSandbox();
      return absl::FailedPreconditionError(absl::StrCat(
          "--afl: the restarted program's fork server said 0x",
          absl::Hex(hello), ", the first one 0x", absl::Hex(hello_)));
    }
    if (shmem_input_ && write(server_.to.get(), &shmem_answer_,
                              sizeof(shmem_answer_)) != sizeof(shmem_answer_)) {
      StopSandbox();
      return ErrnoStatus("--afl: answer the restarted program's fork server");
    }
    return absl::OkStatus();
  }
  hello_ = hello;
  have_hello_ = true;
  if ((hello_ & afl::kOptError) == afl::kOptError) {
    // The runtime's own error report (a map too large, ...): afl-fuzz
    // says what it means.
    Tell(hello_);
    return absl::FailedPreconditionError(
        absl::StrCat("--afl: the program's fork server reported error 0x",
                     absl::Hex(hello_)));
  }
  if ((hello_ & afl::kOptEnabled) == afl::kOptEnabled) {
    if ((hello_ & afl::kOptAutodict) != 0) {
      return absl::UnimplementedError(
          "--afl: the program passes a dictionary (afl-clang-lto's "
          "autodictionary), which --afl does not bridge; build it with "
          "afl-clang-fast, or give afl-fuzz the dictionary with -x");
    }
    if ((hello_ & afl::kOptSharedMemFuzz) != 0) {
      if (fuzz_ == nullptr || server_.fuzz_address == 0) {
        return absl::FailedPreconditionError(
            "--afl: the program reads test cases from shared memory "
            "(__AFL_FUZZ_TESTCASE_BUF), but afl-fuzz gave no test case "
            "segment (__AFL_SHM_FUZZ_ID)");
      }
      shmem_input_ = true;
    }
    if ((hello_ & afl::kOptMapSize) != 0 &&
        ((hello_ & 0x00fffffe) >> 1) + 1 > map_bytes_) {
      return absl::FailedPreconditionError(
          absl::StrCat("--afl: the program's map is larger than afl-fuzz's ",
                       map_bytes_, " bytes (set AFL_MAP_SIZE)"));
    }
  }
  used_ = afl::MapBytesUsed(hello_, map_bytes_);
  if (!Tell(hello_)) return ErrnoStatus("write to afl-fuzz (fd 199)");
  if (shmem_input_) {
    // afl-fuzz's answer to a fork server that asks for shared memory test
    // cases; the program's runtime waits for it before it attaches them.
    if (!afl::ReadAll(afl::kControlFd, &shmem_answer_, sizeof(shmem_answer_))) {
      return ErrnoStatus("read afl-fuzz's answer (fd 198)");
    }
    if (write(server_.to.get(), &shmem_answer_, sizeof(shmem_answer_)) !=
        sizeof(shmem_answer_)) {
      return ErrnoStatus("--afl: answer the program's fork server");
    }
  }
  return absl::OkStatus();
}

Wait AflBridge::Impl::ReadWord(uint32_t* word, absl::Time deadline,
                               std::optional<int32_t> running,
                               std::string* why) {
  char bytes[sizeof(*word)];
  size_t have = 0;
  // A word the fork server sends at once (the pid, which it often wrote
  // while we were still writing `go`) is read without a poll first; a
  // status follows a run, so it is waited for.
  bool wait = running.has_value();
  for (;;) {
    if (!wait) {
      const ssize_t n =
          read(server_.from.get(), bytes + have, sizeof(bytes) - have);
      if (n > 0) {
        have += static_cast<size_t>(n);
        if (have == sizeof(bytes)) {
          std::memcpy(word, bytes, sizeof(bytes));
          return Wait::kReady;
        }
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        *why = n == 0 ? "the fork server closed its pipe"
                      : absl::StrCat("read: ", strerror(errno));
        return Wait::kEnded;
      }
    }
    wait = false;
    pollfd fds[3] = {{server_.from.get(), POLLIN, 0},
                     {sandbox_->pidfd(), POLLIN, 0},
                     {standin_.get(), POLLIN, 0}};
    const int count = running.has_value() && standin_.valid() ? 3 : 2;
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now()) + 1));
    }
    const int ready = poll(fds, count, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      *why = absl::StrCat("poll: ", strerror(errno));
      return Wait::kEnded;
    }
    if (fds[0].revents != 0) continue;
    if (fds[1].revents != 0) {
      *why = "the sandbox ended";
      return Wait::kEnded;
    }
    if (count == 3 && fds[2].revents != 0) {
      // afl-fuzz timed the input out and killed the stand-in: the child
      // gets the same, and its status must follow at once or never.
      KillChild(*running, ReapStandIn());
      deadline = std::min(deadline, absl::Now() + kStatusGrace);
      continue;
    }
    if (ready == 0 && absl::Now() >= deadline) {
      *why = "the fork server did not answer in time";
      return Wait::kTimedOut;
    }
  }
}

bool AflBridge::Impl::StartStandIn() {
  const pid_t bridge = getpid();
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Nothing but wait to be killed, by whatever signal afl-fuzz sends
    // (SIGKILL, or AFL_KILL_SIGNAL's), and die with the bridge; it holds
    // none of the bridge's descriptors (afl-fuzz's pipes, the sandbox's).
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != bridge) _exit(0);
    syscall(SYS_close_range, 0, ~0U, 0);
    struct sigaction default_action = {};
    default_action.sa_handler = SIG_DFL;
    for (int number = 1; number < NSIG; ++number) {
      sigaction(number, &default_action, nullptr);
    }
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    for (;;) pause();
  }
  standin_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!standin_.valid()) {
    const int error = errno;  // pidfd_open's, for the caller's message
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    errno = error;
    return false;
  }
  standin_pid_ = pid;
  return true;
}

int AflBridge::Impl::ReapStandIn() {
  siginfo_t info = {};
  const long rc =
      syscall(SYS_waitid, P_PIDFD, standin_.get(), &info, WEXITED, nullptr);
  standin_.reset();
  standin_pid_ = -1;
  if (rc == 0 && (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED)) {
    return info.si_status;
  }
  return SIGKILL;
}

void AflBridge::Impl::KillChild(int32_t claimed, int signal) {
  char text[4096];
  const ssize_t n = pread(server_.children.get(), text, sizeof(text) - 1, 0);
  if (n <= 0) return;  // already reaped: nothing to kill
  std::vector<pid_t> pids;
  for (absl::string_view field :
       absl::StrSplit(absl::string_view(text, static_cast<size_t>(n)), ' ',
                      absl::SkipWhitespace())) {
    pid_t pid = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(field), &pid) && pid > 0) {
      pids.push_back(pid);
    }
  }
  pid_t found = -1;
  if (pids.size() == 1) {
    found = pids[0];
  } else {
    // More than one child: the one whose innermost pid is the claimed one.
    for (pid_t pid : pids) {
      std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
      std::string line;
      while (std::getline(status, line)) {
        if (line.rfind("NSpid:", 0) != 0) continue;
        const size_t last = line.find_last_of(" \t");
        int inner = 0;
        if (absl::SimpleAtoi(line.substr(last + 1), &inner) &&
            inner == claimed) {
          found = pid;
        }
      }
    }
  }
  if (found <= 0) return;
  // The pid may have been reaped and taken since the list was read: the
  // pidfd, taken now, must still name a child of the fork server, and the
  // signal goes through it.
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, found, 0)));
  if (!pidfd.valid() || !ChildOfServer(pidfd, found)) return;
  syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0);
}

bool AflBridge::Impl::ChildOfServer(const UniqueFd& pidfd, pid_t host_pid) {
  if (pidfd_get_info_) {
    internal::PidfdInfo info = {};
    info.mask = internal::kPidfdInfoPid;
    if (ioctl(pidfd.get(), internal::kPidfdGetInfo, &info) == 0) {
      // Its parent was the fork server if the fork server lives still: the
      // pid of a live process names no other.
      return static_cast<pid_t>(info.pid) == host_pid &&
             static_cast<pid_t>(info.ppid) == server_.program_pid &&
             Alive(server_.program);
    }
    if (errno != ENOTTY && errno != EINVAL) return false;  // ESRCH: gone
    pidfd_get_info_ = false;                               // before Linux 6.13
  }
  // Else one /proc file: a process of the sandbox's pid namespace.
  std::optional<FdinfoPid> info = ReadPidfdInfo(pidfd.get());
  return info.has_value() && info->pid == host_pid &&
         info->depth == sandbox_depth_ && sandbox_depth_ >= 2;
}

absl::Status AflBridge::Impl::EndInput(const Policy& policy,
                                       absl::string_view why) {
  sandbox_->Kill().IgnoreError();
  absl::StatusOr<proto::Result> result = sandbox_->Wait();
  int status = SIGKILL;
  std::string what(why);
  if (result.ok() && result->status() == proto::Result::VIOLATION) {
    status = SIGSYS;
    what = absl::StrCat("violation: ", result->violation().decoded());
  } else if (result.ok()) {
    absl::StrAppend(&what, " (", proto::Result::Status_Name(result->status()),
                    ")");
  }
  std::cerr << "sandbox-run: --afl: " << what
            << "; the input counts as a crash (signal " << status
            << ") and a fresh sandbox goes on\n";
  // No coverage came back; one edge of its own (index 0, which the
  // instrumentation leaves alone) so that afl-fuzz keeps the first such
  // input as a crash of its own kind.
  std::memset(trace_bits_, 0, used_);
  trace_bits_[0] = 1;
  if (!Tell(static_cast<uint32_t>(status))) {
    return ErrnoStatus("write to afl-fuzz (fd 199)");
  }
  return Start(policy);
}

bool AflBridge::Impl::Launch(uint32_t go, uint32_t* claimed, std::string* why) {
  if (shmem_input_) {
    // The test case afl-fuzz wrote to its segment, into the sandbox's: its
    // length word, then as many bytes as fit.
    uint32_t length = 0;
    std::memcpy(&length, fuzz_, sizeof(length));
    const size_t bytes =
        sizeof(length) + std::min<size_t>(length, fuzz_bytes_ - sizeof(length));
    if (pwrite(server_.shim_mem.get(), fuzz_, bytes,
               static_cast<off_t>(server_.fuzz_address)) !=
        static_cast<ssize_t>(bytes)) {
      *why = "the test case cannot be written";
      return false;
    }
  }
  // A clean map for the child, as afl-fuzz cleans its own.
  if (pwrite(server_.shim_mem.get(), zeros_.data(), used_,
             static_cast<off_t>(server_.map_address)) !=
      static_cast<ssize_t>(used_)) {
    *why = "the map cannot be zeroed";
    return false;
  }
  if (write(server_.to.get(), &go, sizeof(go)) != sizeof(go)) {
    *why = "the fork server takes no input";
    return false;
  }
  return ReadWord(claimed, absl::Now() + kForkDeadline, std::nullopt, why) ==
         Wait::kReady;
}

absl::Status AflBridge::Impl::Serve(const Policy& policy) {
  if (absl::Status started = Start(policy); !started.ok()) return started;
  for (;;) {
    uint32_t go = 0;
    if (!afl::ReadAll(afl::kControlFd, &go, sizeof(go))) {
      return absl::OkStatus();
    }
    // afl-fuzz's word says that it timed the last input out and killed
    // the pid we told it: if we did not see the stand-in end then (the
    // status came first), it ends now, and that kill was the last input's.
    if (go != 0 && standin_.valid()) {
      pollfd ended = {standin_.get(), POLLIN, 0};
      if (poll(&ended, 1, 1000) == 1) ReapStandIn();
    }
    if (!standin_.valid() && !StartStandIn()) {
      return ErrnoStatus("start the stand-in for afl-fuzz's kill");
    }
    if (absl::Status staged = StageInput(); !staged.ok()) return staged;
    // A sandbox that ends before its fork server names the child (its own
    // RLIMIT_CPU, limits.cpu_time_seconds, counts every fork it makes, so a
    // long run reaches it) gets the input again in a fresh one; a second
    // end is the input's.
    uint32_t claimed = 0;
    std::string why;
    bool launched = Launch(go, &claimed, &why);
    if (!launched) {
      std::cerr << "sandbox-run: --afl: " << why
                << " before the fork server named its child; the input goes "
                   "to a fresh sandbox\n";
      if (absl::Status s = Start(policy); !s.ok()) return s;
      if (absl::Status staged = StageInput(); !staged.ok()) return staged;
      launched = Launch(go, &claimed, &why);
    }
    // The pid afl-fuzz is told: the stand-in, a process of our own whose
    // end (afl-fuzz's kill when the input times out) we pass on to the
    // child the fork server named. No pid of the sandbox's is passed on,
    // nor looked up unless afl-fuzz kills.
    if (!Tell(static_cast<uint32_t>(standin_pid_))) {
      return ErrnoStatus("write to afl-fuzz (fd 199)");
    }
    if (!launched) {
      if (absl::Status s = EndInput(policy, why); !s.ok()) return s;
      continue;
    }
    // No deadline while the stand-in lives (afl-fuzz times the input out
    // and kills it); once it is gone, the grace period.
    uint32_t status = 0;
    if (ReadWord(&status, absl::InfiniteFuture(), static_cast<int32_t>(claimed),
                 &why) != Wait::kReady) {
      if (absl::Status s = EndInput(policy, why); !s.ok()) return s;
      continue;
    }
    if (pread(server_.shim_mem.get(), trace_bits_, used_,
              static_cast<off_t>(server_.map_address)) !=
        static_cast<ssize_t>(used_)) {
      if (absl::Status s = EndInput(policy, "the map cannot be read");
          !s.ok()) {
        return s;
      }
      continue;
    }
    if (!Tell(status)) return ErrnoStatus("write to afl-fuzz (fd 199)");
  }
}

absl::Status AflBridge::Impl::StageInput() {
  // afl-fuzz writes no file then; Launch copies the segment.
  if (shmem_input_) return absl::OkStatus();
  if (stdin_input_.valid()) {
    // The sandbox's descriptor 0 shares this file offset.
    if (lseek(stdin_input_.get(), 0, SEEK_SET) != 0) {
      return ErrnoStatus("lseek(stdin)");
    }
    return absl::OkStatus();
  }
  if (input_path_.empty()) return absl::OkStatus();
  UniqueFd input(
      openat(input_dir_.get(), kInputName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!input.valid()) return ErrnoStatus(absl::StrCat("open ", input_path_));
  static char buffer[1 << 16];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = read(input.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(absl::StrCat("read ", input_path_));
    if (n == 0) break;
    if (static_cast<size_t>(offset + n) > kMaxInputBytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "--afl: ", input_path_, " is over ", kMaxInputBytes, " bytes"));
    }
    if (pwrite(staging_.get(), buffer, static_cast<size_t>(n), offset) != n) {
      return ErrnoStatus("write the input's copy");
    }
    offset += n;
    // afl-fuzz wrote the whole file before `go`: a short read is its end.
    if (static_cast<size_t>(n) < sizeof(buffer)) break;
  }
  // The writes grew the copy as far as needed; only a shorter input cuts.
  if (offset < staged_bytes_ && ftruncate(staging_.get(), offset) != 0) {
    return ErrnoStatus("ftruncate the input's copy");
  }
  staged_bytes_ = offset;
  return absl::OkStatus();
}

AflBridge::AflBridge(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AflBridge::~AflBridge() = default;

absl::StatusOr<std::unique_ptr<AflBridge>> AflBridge::Create(
    std::vector<std::string> argv, const std::string& shim_path,
    proto::Policy& policy) {
  auto impl = std::make_unique<Impl>();
  if (absl::Status s = impl->Init(std::move(argv), shim_path, policy);
      !s.ok()) {
    return s;
  }
  return std::unique_ptr<AflBridge>(new AflBridge(std::move(impl)));
}

absl::Status AflBridge::Serve(const Policy& policy) {
  return impl_->Serve(policy);
}

}  // namespace sandbox
