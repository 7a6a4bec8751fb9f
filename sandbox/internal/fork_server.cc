#include "sandbox/internal/fork_server.h"

#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "sandbox/command.h"
#include "sandbox/fork_server.pb.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/kernel_abi.h"
#include "sandbox/internal/net_pool.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/util.h"
#include "sandbox/internal/wipe.h"
#include "sandbox/policy_builder.h"
#include "sandbox/status_macros.h"

// The helper binary, linked into the library by fork_server_embed.cc.
// Strong references: a program linked with sandbox_core but without the
// library proper (which embeds the helper) fails to link, rather than
// failing its first spawn. The helper defines them empty for itself.
extern "C" const char sandbox_forkserver_begin[];
extern "C" const char sandbox_forkserver_end[];

namespace sandbox::internal {
namespace {

// Large enough for a policy with every system call listed; the socket's
// buffer is raised to match.
constexpr size_t kMaxMessage = 1 << 20;
// SCM_MAX_FD.
constexpr size_t kMaxFds = 253;
// The start of the server's reply for a policy id it does not hold (it keeps
// a bounded number): the client sends the policy again.
constexpr char kUnknownPolicy[] = "fork server: unknown policy ";
// Stack below RunForkServer's frame wiped after each request: more than
// parsing, preparing and cloning a sandbox use (20 KiB resident at most,
// measured).
constexpr size_t kStackWipeBytes = 32 << 10;

// Receives one message into `buffer`; its fds land in `fds`
// (close-on-exec). Returns the byte count, 0 at EOF. The buffer is the
// caller's, allocated once: zeroing a fresh megabyte per request would
// fault in pages every clone then shares copy-on-write.
absl::StatusOr<size_t> ReceiveWithFds(int socket, char* buffer, size_t capacity,
                                      std::vector<UniqueFd>& fds) {
  struct iovec iov = {buffer, capacity};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t got;
  do {
    got = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return ErrnoStatus("recvmsg(fork server)");
  TakeReceivedFds(msg, fds);
  if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    return absl::DataLossError("fork server message truncated");
  }
  return static_cast<size_t>(got);
}

void SetBuffers(int socket) {
  const int size = kMaxMessage + 4096;
  setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

// --- Server side ---

// The fork server's own network namespace (the host's), opened at start.
int HostNetNamespace() {
  static const int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  return fd;
}

// The empty network namespace shared by sandboxes with
// namespaces.shared_net, made on first use with loopback up; -1 where the
// server cannot make one and come back (not root, or root in a user
// namespace that does not own the host's network namespace).
int SharedNetNamespace() {
  static int fd = -2;
  if (fd != -2) return fd;
  fd = -1;
  if (!CanReturnToOwnNetNamespace() || HostNetNamespace() < 0) return fd;
  if (unshare(CLONE_NEWNET) != 0) return fd;
  const int shared = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  // Loopback up, as a sandbox with its own namespace has it.
  const bool up = LoopbackUp() == 0;
  if (setns(HostNetNamespace(), CLONE_NEWNET) != 0) _exit(3);
  if (shared >= 0 && up) {
    fd = shared;
  } else if (shared >= 0) {
    close(shared);
  }
  return fd;
}

// What a request carries of its command, wiped field by field: through
// reflection, the first wipe would build protobuf's descriptor pool in the
// server (half a MiB more at its peak). The policy stays, built, for the
// server's life anyway. A field added to SpawnRequest that carries a
// command's data must be added here.
void WipeRequest(proto::SpawnRequest& request) {
  WipeStrings(*request.mutable_argv());
  WipeStrings(*request.mutable_env());
  WipeString(*request.mutable_cwd());
  WipeString(*request.mutable_worker());
  request.Clear();
}

// A reply's messages can name the command's cwd or paths.
void WipeReply(proto::SpawnReply& reply) {
  WipeString(*reply.mutable_message());
  if (reply.has_setup_error()) {
    WipeString(*reply.mutable_setup_error()->mutable_message());
  }
  reply.Clear();
}

WorkerRegistryHooks g_workers;

int RunWorkerEntry(const void* arg) {
  if (g_workers.run == nullptr) return 127;
  return g_workers.run(static_cast<const char*>(arg));
}

}  // namespace

absl::Status SendWithFds(int socket, const std::string& data,
                         const std::vector<int>& fds, const char* what) {
  struct iovec iov = {const_cast<char*>(data.data()), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    if (fds.size() > kMaxFds) {
      return absl::InvalidArgumentError("more than 253 descriptors");
    }
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    const ssize_t sent = sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (sent == static_cast<ssize_t>(data.size())) return absl::OkStatus();
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == ETOOMANYREFS) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "sendmsg(", what, "): Too many references (ETOOMANYREFS)"));
    }
    if (sent < 0) return ErrnoStatus(absl::StrCat("sendmsg(", what, ")"));
    return absl::DataLossError(
        absl::StrCat("sendmsg(", what, "): short write"));
  }
}

absl::StatusOr<std::unique_ptr<DecodedSpawnRequest>> DecodeSpawnRequest(
    const proto::SpawnRequest& request, absl::Span<const int> fds,
    ForkServerPolicies& policies) {
  const size_t expected = 1 + request.fd_targets_size() +
                          (request.has_cgroup_fd() ? 1 : 0) +
                          request.cgroup_tasks_fds();
  if (fds.size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fork server: got ", fds.size(), " descriptors, expected ", expected));
  }
  auto it = policies.find(request.policy_id());
  if (request.has_policy()) {
    SeccompProgram program;
    const std::string& bytes = request.seccomp_program();
    // Whole instructions, as many as the kernel loads: at least one, at
    // most BPF_MAXINSNS (the child's sock_fprog counts them in 16 bits).
    if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0 ||
        bytes.size() / sizeof(sock_filter) > BPF_MAXINSNS) {
      return absl::InvalidArgumentError("fork server: malformed filter");
    }
    program.instructions.resize(bytes.size() / sizeof(sock_filter));
    memcpy(program.instructions.data(), bytes.data(), bytes.size());
    program.uses_notify = request.seccomp_uses_notify();
    SBX_ASSIGN_OR_RETURN(
        Policy policy,
        BuildWithProgram(PolicyBuilder::FromProto(request.policy()), program));
    if (policies.size() >= 256) policies.clear();
    it =
        policies.insert_or_assign(request.policy_id(), std::move(policy)).first;
  }
  if (it == policies.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat(kUnknownPolicy, request.policy_id()));
  }
  auto decoded = std::make_unique<DecodedSpawnRequest>();
  Command& command = decoded->command;
  command.argv.assign(request.argv().begin(), request.argv().end());
  command.env.assign(request.env().begin(), request.env().end());
  command.cwd = request.cwd();
  command.worker = request.worker();
  LaunchRequest& launch = decoded->launch;
  if (request.await_command()) {
    if (!command.argv.empty() || !command.env.empty() ||
        !command.worker.empty() || request.fd_targets_size() != 0 ||
        request.landlock_fallback()) {
      return absl::InvalidArgumentError(
          "fork server: a prewarmed spawn carries no command");
    }
    launch.await_command = true;
    if (request.await_worker()) {
      if (g_workers.has == nullptr) {
        return absl::InvalidArgumentError(
            "fork server: prewarmed workers are the zygote's");
      }
      launch.await_worker = true;
      launch.worker_entry = RunWorkerEntry;
    }
  } else {
    SBX_RETURN_IF_ERROR(CheckCommand(command));
  }
  launch.policy = &it->second;
  launch.command = &command;
  launch.child_sync_fd = fds[0];
  for (int i = 0; i < request.fd_targets_size(); ++i) {
    launch.fds.push_back({fds[1 + i], request.fd_targets(i)});
  }
  size_t next = 1 + request.fd_targets_size();
  if (request.has_cgroup_fd()) launch.cgroup_fd = fds[next++];
  launch.cgroup_tasks_fds.assign(fds.begin() + next, fds.end());
  launch.landlock_fallback = request.landlock_fallback();
  launch.fallback_dirs.assign(request.fallback_dirs().begin(),
                              request.fallback_dirs().end());
  if (!command.worker.empty()) {
    if (g_workers.has == nullptr || !g_workers.has(command.worker)) {
      return absl::NotFoundError(
          absl::StrCat("no worker registered as '", command.worker, "'"));
    }
    launch.worker_entry = RunWorkerEntry;
  }
  return decoded;
}

// Every later sandbox is cloned from this memory.
DecodedSpawnRequest::~DecodedSpawnRequest() {
  WipeStrings(command.argv);
  WipeStrings(command.env);
  WipeString(command.cwd);
  WipeString(command.worker);
}

namespace {

// Runs the spawn pipeline for one request. A child killed after clone is
// the host's to reap: its pidfd goes to `killed_child`.
absl::StatusOr<SpawnOutcome> Serve(int channel_fd,
                                   const proto::SpawnRequest& request,
                                   std::vector<UniqueFd>& fds,
                                   ForkServerPolicies& policies,
                                   NetNamespacePool& net_pool,
                                   UniqueFd& killed_child) {
  std::vector<int> fd_numbers;
  for (const UniqueFd& fd : fds) fd_numbers.push_back(fd.get());
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<DecodedSpawnRequest> decoded,
                       DecodeSpawnRequest(request, fd_numbers, policies));
  CloneSite site;
  site.clone_parent = true;
  site.server_channel_fd = channel_fd;
  const proto::Namespaces& ns = decoded->launch.policy->proto().namespaces();
  if (ns.net() && ns.shared_net()) {
    site.shared_net_fd = SharedNetNamespace();
    site.home_net_fd = HostNetNamespace();
  }
  // A recycled namespace only where the sandbox's end is one process's
  // exit: with a pid namespace, whose init takes every other process with
  // it.
  int slot = -1;
  if (ns.net() && !ns.shared_net() && ns.pid() &&
      !decoded->launch.landlock_fallback) {
    slot = net_pool.Acquire();
  }
  if (slot < 0) return SpawnChild(decoded->launch, site, &killed_child);
  site.pooled_net_fd = net_pool.fd(slot);
  site.home_net_fd = HostNetNamespace();
  absl::StatusOr<SpawnOutcome> child =
      SpawnChild(decoded->launch, site, &killed_child);
  int owner = -1;
  if (child.ok() && child->started()) {
    owner = child->pidfd().get();
  } else if (killed_child) {
    owner = killed_child.get();
  }
  net_pool.Bind(slot, owner);
  return child;
}

// What a root fork server needs, and nothing else: namespaces, mounts and
// the hostname for sandboxes without a user namespace (SYS_ADMIN), id maps
// onto other users and the switch to the sandbox user (SETUID, SETGID), the
// child's bounding-set drop and securebits (SETPCAP), loopback in a network
// namespace the host's user namespace owns (NET_ADMIN), and reaching bind
// sources and cgroup files whatever their modes (DAC_OVERRIDE,
// DAC_READ_SEARCH). An unprivileged server holds none to begin with.
constexpr char kServerCapabilities[] =
    "cap_sys_admin,cap_setuid,cap_setgid,cap_setpcap,cap_net_admin,"
    "cap_dac_override,cap_dac_read_search=ep";
// Root inside a user namespace may have to map the sandbox user to its own
// id 0 (when that is the only id there that is not root outside), which
// Linux 5.12+ allows only with SETFCAP; kept only there.
constexpr char kNestedServerCapabilities[] =
    "cap_sys_admin,cap_setuid,cap_setgid,cap_setpcap,cap_net_admin,"
    "cap_dac_override,cap_dac_read_search,cap_setfcap=ep";

// False if any step failed: a server that could not drop what it does not
// need must not serve (it could keep every capability).
bool DropServerCapabilities() {
  if (geteuid() != 0) return true;
  cap_t keep =
      cap_from_text(InInitialUserNamespace() ? kServerCapabilities
                                             : kNestedServerCapabilities);
  if (keep == nullptr) return false;
  bool ok = true;
  for (cap_value_t cap = 0; cap < cap_max_bits(); ++cap) {
    cap_flag_value_t in_set = CAP_CLEAR;
    if (cap_get_flag(keep, cap, CAP_PERMITTED, &in_set) != 0) ok = false;
    if (in_set == CAP_CLEAR && cap_drop_bound(cap) != 0 && errno != EINVAL) {
      ok = false;
    }
  }
  if (cap_set_proc(keep) != 0) ok = false;
  cap_free(keep);
  return ok;
}

}  // namespace

void RunForkServer(int channel_fd) {
  SetBuffers(channel_fd);
  // Nothing the server clones should inherit a group: as root, drop the
  // supplementary groups, so that sandboxes can deny setgroups outright.
  // Either failing ends the server before it serves anything: the host
  // sees it gone and says so.
  // (None to drop is fine: root in a user namespace whose setgroups is
  // denied cannot call it at all.)
  if (geteuid() == 0 && getgroups(0, nullptr) != 0 &&
      setgroups(0, nullptr) != 0) {
    return;
  }
  if (!DropServerCapabilities()) return;
  // The reply's pidfd is a descriptor in flight, counted per user: the
  // kernel refuses a sender holding more in flight than its RLIMIT_NOFILE,
  // and a sandbox of the same user can hold about its own limit plus 253.
  // The hard limit leaves room for every sandbox's.
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
      nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  absl::flat_hash_map<uint64_t, Policy> policies;
  // Its namespaces and descriptors go with the server (close-on-exec, and
  // closed in every child before its payload runs).
  NetNamespacePool net_pool(HostNetNamespace());
  // Uninitialised on purpose: only what requests use gets touched.
  std::unique_ptr<char[]> buffer(new char[kMaxMessage]);
  for (;;) {
    std::vector<UniqueFd> fds;
    absl::StatusOr<size_t> got =
        ReceiveWithFds(channel_fd, buffer.get(), kMaxMessage, fds);
    if (!got.ok() && got.status().code() != absl::StatusCode::kDataLoss) {
      return;
    }
    if (got.ok() && *got == 0) return;  // the host closed the channel
    proto::SpawnReply reply;
    UniqueFd pidfd;
    proto::SpawnRequest request;
    // The request's bytes are done with once parsed (the sandbox this
    // request makes gets its own copy from the parsed request).
    bool parsed = false;
    if (got.ok()) {
      parsed = request.ParseFromArray(buffer.get(), static_cast<int>(*got));
      WipeBytes(buffer.get(), *got);
    } else {
      // Truncated: the buffer is full of it.
      WipeBytes(buffer.get(), kMaxMessage);
    }
    if (!got.ok()) {
      reply.set_code(static_cast<int>(got.status().code()));
      reply.set_message(std::string(got.status().message()));
    } else if (!parsed) {
      reply.set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
      reply.set_message("fork server: malformed request");
    } else {
      UniqueFd killed_child;
      absl::StatusOr<SpawnOutcome> child =
          Serve(channel_fd, request, fds, policies, net_pool, killed_child);
      if (!child.ok()) {
        reply.set_code(static_cast<int>(child.status().code()));
        reply.set_message(std::string(child.status().message()));
        // The host reaps it.
        pidfd = std::move(killed_child);
      } else if (!child->started()) {
        *reply.mutable_setup_error() = child->setup_error();
      } else {
        reply.set_pid(child->pid());
        pidfd = std::move(child->pidfd());
      }
    }
    fds.clear();  // our copies of the child's descriptors
    std::vector<int> out;
    if (pidfd) out.push_back(pidfd.get());
    std::string wire = reply.SerializeAsString();
    const bool sent = SendWithFds(channel_fd, wire, out, "fork server").ok();
    // Every later sandbox is a clone of this process: nothing of this
    // request may stay in its memory, freed or not (a reply's message can
    // name the command's cwd or paths).
    WipeString(wire);
    WipeReply(reply);
    WipeRequest(request);
    WipeStackBelow(kStackWipeBytes);
    if (!sent) return;
  }
}

bool StartedAsZygote(int argc, char** argv) {
  return getenv(kZygoteEnv) != nullptr && argc == 1 && argv != nullptr &&
         argv[0] != nullptr && strcmp(argv[0], kZygoteName) == 0;
}

absl::Status RunZygote(const absl::Status& readiness) {
  const char* marker = getenv(kZygoteEnv);
  std::vector<absl::string_view> parts =
      absl::StrSplit(marker == nullptr ? "" : marker, ',');
  int channel = -1;
  int64_t host = -1;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &channel) ||
      !absl::SimpleAtoi(parts[1], &host)) {
    return absl::FailedPreconditionError(
        absl::StrCat("InitForkServer: malformed ", kZygoteEnv, "=",
                     marker == nullptr ? "" : marker,
                     " (the variable is the library's own)"));
  }
  unsetenv(kZygoteEnv);
  // The death signal survives the exec of a binary that is not set-id; set
  // it again all the same, then check the host is still there: had it died
  // before, the signal would never come.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != static_cast<pid_t>(host)) _exit(0);
  int type = 0;
  socklen_t length = sizeof(type);
  if (getsockopt(channel, SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
      type != SOCK_SEQPACKET) {
    return absl::FailedPreconditionError(absl::StrCat(
        "InitForkServer: ", kZygoteEnv, " names descriptor ", channel,
        ", which is not a zygote channel (the variable is the library's "
        "own)"));
  }
  prctl(PR_SET_NAME, kZygoteName, 0, 0, 0);
  proto::SpawnReply hello;
  hello.set_pid(getpid());
  hello.set_code(static_cast<int>(readiness.code()));
  hello.set_message(std::string(readiness.message()));
  const bool said =
      SendWithFds(channel, hello.SerializeAsString(), {}, "fork server").ok();
  if (!said || !readiness.ok()) _exit(1);
  RunForkServer(channel);
  _exit(0);
}

// --- Host side ---

namespace {

// The embedded helper in a sealed memfd, made once per process.
absl::StatusOr<int> HelperExecutable() {
  static absl::Mutex mu(absl::kConstInit);
  static int fd ABSL_GUARDED_BY(mu) = -1;
  absl::MutexLock lock(&mu);
  if (fd >= 0) return fd;
  const size_t size = sandbox_forkserver_end - sandbox_forkserver_begin;
  if (size == 0) {
    // The helper itself, whose own copies are empty.
    return absl::InternalError("fork server helper not embedded");
  }
  UniqueFd memfd(
      memfd_create("sandbox-forkserver", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return ErrnoStatus("memfd_create(sandbox-forkserver)");
  size_t done = 0;
  while (done < size) {
    const ssize_t n =
        write(memfd.get(), sandbox_forkserver_begin + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("write(sandbox-forkserver memfd)");
    done += n;
  }
  if (fcntl(memfd.get(), F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return ErrnoStatus("fcntl(sandbox-forkserver memfd, F_ADD_SEALS)");
  }
  fd = memfd.release();
  return fd;
}

// What the child of clone execs, all made before clone.
struct ServerExec {
  int executable = -1;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // The write end of a close-on-exec pipe that gets execveat's errno if it
  // fails, or -1.
  int error_fd = -1;
};

// In the child of clone: raw system calls only (the host may have threads).
[[noreturn]] void ExecServer(const ServerExec& exec, int channel, pid_t host) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != host) _exit(127);
  // Out of the way first, then to their numbers: channel 3 (inherited),
  // executable 4 and error pipe 5 (close-on-exec), /dev/null as stdio,
  // nothing else.
  const int channel_copy = fcntl(channel, F_DUPFD_CLOEXEC, 100);
  const int exe_copy = fcntl(exec.executable, F_DUPFD_CLOEXEC, 100);
  const int error_copy =
      exec.error_fd < 0 ? -1 : fcntl(exec.error_fd, F_DUPFD_CLOEXEC, 100);
  if (channel_copy < 0 || exe_copy < 0 ||
      (exec.error_fd >= 0 && error_copy < 0)) {
    _exit(127);
  }
  const int exe = kForkServerChannelFd + 1;
  const int error = exe + 1;
  if (dup2(channel_copy, kForkServerChannelFd) < 0 ||
      dup3(exe_copy, exe, O_CLOEXEC) < 0 ||
      (error_copy >= 0 && dup3(error_copy, error, O_CLOEXEC) < 0)) {
    _exit(127);
  }
  const int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; ++fd) {
    if (null < 0 || dup2(null, fd) < 0) _exit(127);
  }
  syscall(SYS_close_range, error_copy >= 0 ? error + 1 : exe + 1, ~0U, 0);
  syscall(SYS_execveat, exe, "", exec.argv, exec.envp, AT_EMPTY_PATH);
  const int exec_errno = errno;
  if (error_copy >= 0) write(error, &exec_errno, sizeof(exec_errno));
  _exit(127);
}

// The binary this process runs, for messages.
std::string SelfExePath() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, n) : "?";
}

// How the (exited) process behind `pidfd` ended, without reaping it.
std::string DescribeEnd(int pidfd) {
  // It closed its channel, which it does on the way out; the exit itself
  // follows.
  struct pollfd pfd = {pidfd, POLLIN, 0};
  poll(&pfd, 1, 2000);
  siginfo_t info = {};
  if (syscall(SYS_waitid, P_PIDFD, pidfd, &info, WEXITED | WNOHANG | WNOWAIT,
              nullptr) != 0 ||
      info.si_pid == 0) {
    return "closed its channel";
  }
  if (info.si_code == CLD_EXITED) {
    return absl::StrCat("exited with status ", info.si_status,
                        info.si_status == 127
                            ? " (127 is also the dynamic loader's: can "
                              "the binary start without the host's "
                              "environment, LD_LIBRARY_PATH included?)"
                            : "");
  }
  return absl::StrCat("was killed by signal ", info.si_status, " (",
                      strsignal(info.si_status), ")");
}

}  // namespace

absl::StatusOr<std::unique_ptr<ForkServerClient>> ForkServerClient::Start(
    Kind kind) {
  const pid_t host = getpid();
  ServerExec exec;
  char helper_name[] = "sandbox-forkserver";
  char zygote_name[sizeof(kZygoteName)];
  memcpy(zygote_name, kZygoteName, sizeof(kZygoteName));
  std::string marker = absl::StrCat(kZygoteEnv, "=", kForkServerChannelFd, ",",
                                    static_cast<int64_t>(host));
  char* argv[] = {nullptr, nullptr};
  char* envp[] = {nullptr, nullptr};
  exec.argv = argv;
  exec.envp = envp;
  UniqueFd self_exe;
  UniqueFd exec_error_read;
  UniqueFd exec_error_write;
  if (kind == Kind::kExec) {
    SBX_ASSIGN_OR_RETURN(exec.executable, HelperExecutable());
    argv[0] = helper_name;
  } else {
    // Opened here rather than by path in the child: /proc/self/exe is the
    // file this process runs even if its path now names another file or
    // none (an upgraded or deleted binary). O_PATH: execveat needs no read
    // permission on it.
    self_exe.reset(open("/proc/self/exe", O_PATH | O_CLOEXEC));
    if (!self_exe) {
      return absl::FailedPreconditionError(absl::StrCat(
          "InitForkServer: the zygote is this binary run again, but "
          "open(/proc/self/exe) failed: ",
          strerror(errno), " (", ErrnoName(errno), "); is /proc mounted?"));
    }
    exec.executable = self_exe.get();
    argv[0] = zygote_name;
    envp[0] = marker.data();
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2(zygote)");
    exec_error_read.reset(pipe_fds[0]);
    exec_error_write.reset(pipe_fds[1]);
    exec.error_fd = exec_error_write.get();
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    return ErrnoStatus("socketpair(fork server)");
  }
  UniqueFd host_end(pair[0]);
  UniqueFd server_end(pair[1]);
  SetBuffers(host_end.get());
  int pidfd = -1;
  CloneArgs args = {};
  args.flags = kClonePidfd;
  args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  const long pid = Clone3OrClone(args);
  if (pid < 0) return ErrnoStatus("clone3(fork server)");
  if (pid == 0) ExecServer(exec, server_end.get(), host);
  std::unique_ptr<ForkServerClient> client(new ForkServerClient());
  client->kind_ = kind;
  client->owner_ = host;
  client->pid_ = static_cast<pid_t>(pid);
  Cgroup::RegisterHelperProcess(client->pid_);
  client->pidfd_.reset(pidfd);
  client->channel_ = std::move(host_end);
  // Ours closed, the channel reports the server's end at its exit, and the
  // pipe the exec.
  server_end.reset();
  exec_error_write.reset();
  if (kind == Kind::kZygote) {
    // On failure the client's destructor kills and reaps the zygote.
    SBX_RETURN_IF_ERROR(client->AwaitZygote(exec_error_read.get()));
  }
  return client;
}

absl::Status ForkServerClient::AwaitZygote(int exec_error_fd) {
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(exec_error_fd, &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  if (n == sizeof(exec_errno)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "InitForkServer: the zygote is this binary run again, but "
        "execveat(/proc/self/exe -> ",
        SelfExePath(), ") failed: ", strerror(exec_errno), " (",
        ErrnoName(exec_errno), ")",
        exec_errno == EACCES || exec_errno == EPERM
            ? "; is it on a noexec mount, or not executable by this user?"
            : ""));
  }
  // Its main() runs up to InitForkServer(), which says hello.
  const std::string what =
      absl::StrCat("InitForkServer: the zygote (this binary, ", SelfExePath(),
                   ", run again with argv {\"", kZygoteName,
                   "\"} and an empty environment) ");
  const std::string advice =
      "; call InitForkServer() first thing in main(), on every path, "
      "before anything that needs flags, the environment or files";
  const absl::Time deadline = absl::Now() + kZygoteStartTimeout;
  for (;;) {
    struct pollfd pfd = {channel_.get(), POLLIN, 0};
    const int ms =
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now()) + 1);
    const int ready = poll(&pfd, 1, ms > 0 ? ms : 0);
    if (ready > 0) break;
    if (ready < 0 && errno != EINTR) return ErrnoStatus("poll(zygote)");
    if (ready == 0 && absl::Now() >= deadline) {
      syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
      return absl::DeadlineExceededError(
          absl::StrCat(what, "did not reach InitForkServer() within ",
                       absl::FormatDuration(kZygoteStartTimeout), advice));
    }
  }
  char buffer[4096];
  std::vector<UniqueFd> fds;
  absl::StatusOr<size_t> got =
      ReceiveWithFds(channel_.get(), buffer, sizeof(buffer), fds);
  if (got.ok() && *got == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, DescribeEnd(pidfd_.get()),
                     " before its main() reached InitForkServer()", advice));
  }
  proto::SpawnReply hello;
  if (!got.ok() || !hello.ParseFromArray(buffer, static_cast<int>(*got)) ||
      hello.pid() != pid_) {
    return absl::InternalError(absl::StrCat(what, "sent no proper hello"));
  }
  if (hello.code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(hello.code()),
                        absl::StrCat(what, "cannot serve: ", hello.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ForkServerClient>>
ForkServerClient::StartExec() {
  return Start(Kind::kExec);
}

absl::StatusOr<std::unique_ptr<ForkServerClient>>
ForkServerClient::StartZygote() {
  return Start(Kind::kZygote);
}

ForkServerClient::~ForkServerClient() {
  if (owner_ == getpid()) Cgroup::UnregisterHelperProcess(pid_);
  channel_.reset();
  if (pidfd_) {
    siginfo_t info;
    // It exits on EOF; make sure even if it is stuck.
    struct pollfd pfd = {pidfd_.get(), POLLIN, 0};
    if (poll(&pfd, 1, 1000) == 0) {
      syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
    }
    syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &info, WEXITED, nullptr);
  }
}

void ForkServerClient::Disown() {
  channel_.reset();
  pidfd_.reset();
}

bool ForkServerClient::alive() const {
  absl::MutexLock lock(&mu_);
  if (dead_) return false;
  struct pollfd pfd = {pidfd_.get(), POLLIN, 0};
  return poll(&pfd, 1, 0) == 0;
}

absl::Status ForkServerClient::MarkDead(absl::string_view why) {
  dead_ = true;
  return absl::UnavailableError(
      absl::StrCat("the fork server (pid ", pid_, ") died: ", why,
                   "; the next spawn starts a new one"));
}

absl::StatusOr<SpawnOutcome> ForkServerClient::Spawn(
    const LaunchRequest& launch) {
  const Policy& policy = *launch.policy;
  const Command& command = *launch.command;
  proto::SpawnRequest request;
  request.set_policy_id(internal::StateOf(policy).id);
  request.mutable_argv()->Assign(command.argv.begin(), command.argv.end());
  request.mutable_env()->Assign(command.env.begin(), command.env.end());
  request.set_cwd(command.cwd);
  request.set_worker(command.worker);
  request.set_landlock_fallback(launch.landlock_fallback);
  request.set_await_command(launch.await_command);
  request.set_await_worker(launch.await_worker);
  request.mutable_fallback_dirs()->Assign(launch.fallback_dirs.begin(),
                                          launch.fallback_dirs.end());
  std::vector<int> fds = {launch.child_sync_fd};
  for (const FdMapping& mapping : launch.fds) {
    request.add_fd_targets(mapping.sandbox_fd);
    fds.push_back(mapping.host_fd);
  }
  if (launch.cgroup_fd >= 0) {
    request.set_has_cgroup_fd(true);
    fds.push_back(launch.cgroup_fd);
  }
  request.set_cgroup_tasks_fds(
      static_cast<uint32_t>(launch.cgroup_tasks_fds.size()));
  fds.insert(fds.end(), launch.cgroup_tasks_fds.begin(),
             launch.cgroup_tasks_fds.end());

  absl::MutexLock lock(&mu_);
  if (dead_) return absl::UnavailableError("the fork server died");
  proto::SpawnReply reply;
  std::vector<UniqueFd> received;
  // The server keeps a bounded number of policies: one it dropped is sent
  // again, once, rather than believed known.
  for (int attempt = 0;; ++attempt) {
    if (!known_policies_.contains(internal::StateOf(policy).id)) {
      *request.mutable_policy() = policy.proto();
      // The zygote caches the policy, so every later worker holds it; its env
      // applies to programs only (a worker's environment is the zygote's,
      // empty) and is where a host would put a secret.
      if (kind_ == Kind::kZygote) request.mutable_policy()->clear_env();
      const std::vector<sock_filter>& program =
          internal::StateOf(policy).seccomp.instructions;
      request.set_seccomp_program(
          std::string(reinterpret_cast<const char*>(program.data()),
                      program.size() * sizeof(sock_filter)));
      request.set_seccomp_uses_notify(
          internal::StateOf(policy).seccomp.uses_notify);
    }
    const std::string bytes = request.SerializeAsString();
    absl::Status sent = SendWithFds(channel_.get(), bytes, fds, "fork server");
    if (absl::IsResourceExhausted(sent)) {
      // Descriptors in flight are counted per user, and an unprivileged
      // host's sandboxes are that user: one can hold about its RLIMIT_NOFILE
      // plus 253 in flight, and the kernel refuses a sender whose own soft
      // limit is below the count. Our soft limit up to the hard one (as many
      // runtimes do at start) keeps one sandbox from stopping every spawn.
      struct rlimit nofile;
      if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
          nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nofile) == 0) {
          sent = SendWithFds(channel_.get(), bytes, fds, "fork server");
        }
      }
      if (absl::IsResourceExhausted(sent)) {
        return absl::ResourceExhaustedError(absl::StrCat(
            sent.message(),
            ": too many descriptors in flight for this user "
            "(sandboxes of the same user hold them); the fork server is fine"));
      }
    }
    if (!sent.ok()) {
      if (sent.code() == absl::StatusCode::kInvalidArgument) return sent;
      return MarkDead(sent.message());
    }
    // Replies are a few bytes.
    char reply_buffer[4096];
    received.clear();
    absl::StatusOr<size_t> got = ReceiveWithFds(channel_.get(), reply_buffer,
                                                sizeof(reply_buffer), received);
    if (!got.ok()) return MarkDead(got.status().message());
    if (*got == 0) return MarkDead("it closed the channel");
    reply.Clear();
    if (!reply.ParseFromArray(reply_buffer, static_cast<int>(*got))) {
      return MarkDead("malformed reply");
    }
    if (attempt == 0 && !request.has_policy() &&
        reply.code() ==
            static_cast<int>(absl::StatusCode::kFailedPrecondition) &&
        absl::StartsWith(reply.message(), kUnknownPolicy)) {
      known_policies_.erase(internal::StateOf(policy).id);
      continue;
    }
    break;
  }
  known_policies_.insert(internal::StateOf(policy).id);
  if (reply.has_setup_error()) {
    return SpawnOutcome::NeverStarted(reply.setup_error());
  }
  UniqueFd pidfd;
  if (!received.empty()) pidfd = std::move(received.front());
  if (reply.code() != 0) {
    if (pidfd) {
      // A child was cloned and killed; it is ours to reap.
      siginfo_t info;
      syscall(SYS_waitid, P_PIDFD, pidfd.get(), &info, WEXITED, nullptr);
    }
    return absl::Status(static_cast<absl::StatusCode>(reply.code()),
                        reply.message());
  }
  if (!pidfd) return MarkDead("reply without a pidfd");
  return SpawnOutcome::Started(reply.pid(), std::move(pidfd));
}

namespace {

// PR_SET_PDEATHSIG fires when the parent *thread* exits, and the fork
// server's sandboxes (CLONE_PARENT) share its parent. So the server is
// started from a thread of the library's own that lives as long as the
// process, never from whichever caller thread happened to spawn first.
class LauncherThread {
 public:
  // Runs `job` on the launcher thread and waits for it. One job at a time:
  // callers serialise (DefaultForkServer holds its lock).
  LauncherThread() {
    std::thread([this] { Loop(); }).detach();
  }

  void Run(const std::function<void()>& job) {
    absl::MutexLock lock(&mu_);
    job_ = &job;
    mu_.Await(absl::Condition(this, &LauncherThread::Idle));
  }

 private:
  // Conditions, evaluated with mu_ held.
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return job_ == nullptr;
  }
  bool Busy() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return job_ != nullptr;
  }

  void Loop() {
    absl::MutexLock lock(&mu_);
    for (;;) {
      mu_.Await(absl::Condition(this, &LauncherThread::Busy));
      (*job_)();
      job_ = nullptr;
    }
  }

  absl::Mutex mu_;
  const std::function<void()>* job_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace

absl::StatusOr<std::shared_ptr<ForkServerClient>> DefaultForkServer() {
  static absl::Mutex mu(absl::kConstInit);
  // Never destroyed: the server dies with the process.
  static auto* server ABSL_PT_GUARDED_BY(mu) =
      new std::shared_ptr<ForkServerClient>();
  absl::MutexLock lock(&mu);
  if (*server != nullptr && (*server)->owner() != getpid()) {
    // A fork of the host: references the parent's other threads held are
    // copied but will never be dropped, so the object is left as it is.
    (*server)->Disown();
    new std::shared_ptr<ForkServerClient>(std::move(*server));
    server->reset();
  }
  if (*server != nullptr && !(*server)->alive()) {
    // The last reference reaps it: ours, or that of a spawn in flight.
    server->reset();
  }
  if (*server == nullptr) {
    // A fork of the host has no launcher thread (only the forking thread
    // is copied), and the old object's state is unusable there: leak it.
    static LauncherThread* launcher ABSL_GUARDED_BY(mu) = nullptr;
    static pid_t launcher_owner ABSL_GUARDED_BY(mu) = -1;
    if (launcher == nullptr || launcher_owner != getpid()) {
      launcher = new LauncherThread();
      launcher_owner = getpid();
    }
    absl::StatusOr<std::unique_ptr<ForkServerClient>> client;
    launcher->Run([&] { client = ForkServerClient::StartExec(); });
    if (!client.ok()) return client.status();
    *server = *std::move(client);
  }
  return *server;
}

namespace {
ForkServerClient* g_zygote = nullptr;
}  // namespace

void SetWorkerRegistry(const WorkerRegistryHooks& hooks) { g_workers = hooks; }

bool IsWorkerRegistered(const std::string& name) {
  return g_workers.has != nullptr && g_workers.has(name);
}

ForkServerClient* ZygoteForkServer() {
  // A fork of the host has no zygote of its own.
  if (g_zygote != nullptr && g_zygote->owner() != getpid()) return nullptr;
  return g_zygote;
}

bool ZygoteBelongsToAnotherProcess() {
  return g_zygote != nullptr && g_zygote->owner() != getpid();
}

void SetZygoteForkServer(std::unique_ptr<ForkServerClient> client) {
  delete g_zygote;
  g_zygote = client.release();
}

}  // namespace sandbox::internal
