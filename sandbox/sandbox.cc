#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/algorithm/container.h"
#include "absl/base/call_once.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/exec_diagnosis.h"
#include "sandbox/internal/fork_server.h"
#include "sandbox/internal/landlock_fallback.h"
#include "sandbox/internal/learn_recorder.h"
#include "sandbox/internal/notification_decoder.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/result.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/internal/spawn.h"
#include "sandbox/internal/supervisor.h"
#include "sandbox/internal/untrusted_fd.h"
#include "sandbox/internal/util.h"
#include "sandbox/internal/violation_remedy.h"
#include "sandbox/policy_builder.h"
#include "sandbox/status_macros.h"
#include "sandbox/worker.h"

namespace sandbox {

using internal::ChildMessage;

namespace {

// Every descriptor the sandbox gets: the host's stdio (with
// inherit_stdio, where open and not mapped otherwise), then the command's
// mappings.
std::vector<FdMapping> FdPlan(const Command& command) {
  std::vector<FdMapping> fds;
  auto mapped = [&](int target) {
    return absl::c_any_of(command.fds, [&](const FdMapping& m) {
      return m.sandbox_fd == target;
    });
  };
  if (command.inherit_stdio) {
    for (int fd = 0; fd <= 2; ++fd) {
      if (!mapped(fd) && fcntl(fd, F_GETFD) >= 0) fds.push_back({fd, fd});
    }
  }
  fds.insert(fds.end(), command.fds.begin(), command.fds.end());
  return fds;
}

// The process (thread group) of thread `tid` of our pid namespace, from
// /proc/<tid>/status; -1 if it cannot be read.
pid_t ThreadGroupOf(pid_t tid) {
  const std::string path = absl::StrCat("/proc/", tid, "/status");
  UniqueFd status(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!status) return -1;
  char text[1024];
  const ssize_t got = read(status.get(), text, sizeof(text) - 1);
  if (got <= 0) return -1;
  text[got] = '\0';
  const char* line = strstr(text, "\nTgid:");
  return line != nullptr ? static_cast<pid_t>(atoi(line + 6)) : -1;
}

bool WantsCgroup(const Policy& policy) {
  const proto::Limits& limits = policy.proto().limits();
  return policy.limits().memory > 0 || limits.pids() > 0 || limits.cpus() > 0;
}

// The policy with its cgroup caps turned into rlimits, built once per
// policy (cgroup_best_effort without delegation).
absl::StatusOr<Policy> RlimitFallback(const Policy& policy,
                                      std::vector<std::string>& warnings) {
  const proto::Limits& limits = policy.proto().limits();
  if (policy.limits().memory > 0) {
    warnings.push_back(absl::StrCat(
        "limits.memory: no cgroup delegation; enforced as RLIMIT_AS ",
        limits.memory(),
        ", which caps address space, not memory: pages of memfds and shared "
        "memory the sandbox fills, kernel memory (socket buffers, page "
        "tables) and what it makes others allocate are not counted"));
  }
  if (limits.pids() > 0) {
    warnings.push_back(absl::StrCat(
        "limits.pids: no cgroup delegation; enforced as RLIMIT_NPROC ",
        limits.pids(), " (counted per host user)"));
  }
  if (limits.cpus() > 0) {
    warnings.push_back(
        "limits.cpus: no cgroup delegation; not enforced (no rlimit "
        "equivalent)");
  }
  if (limits.end_on_limit()) {
    warnings.push_back(
        "limits.end_on_limit: no cgroup delegation; not enforced: an rlimit "
        "only fails the fork or allocation, and the sandbox runs on");
  }
  static absl::Mutex mu(absl::kConstInit);
  static auto* cache ABSL_PT_GUARDED_BY(mu) =
      new absl::flat_hash_map<uint64_t, Policy>();
  absl::MutexLock lock(&mu);
  auto it = cache->find(internal::StateOf(policy).id);
  if (it != cache->end()) return it->second;
  PolicyBuilder builder = PolicyBuilder::FromProto(policy.proto());
  proto::Limits& l = *builder.mutable_proto().mutable_limits();
  if (policy.limits().memory > 0 &&
      (policy.limits().address_space == 0 ||
       policy.limits().address_space > policy.limits().memory)) {
    l.set_address_space(l.memory());
  }
  if (l.pids() > 0 && (l.nproc() == 0 || l.nproc() > l.pids())) {
    l.set_nproc(l.pids());
  }
  l.clear_memory();
  l.clear_pids();
  l.clear_cpus();
  l.clear_allow_swap();
  l.clear_cgroup_best_effort();
  l.clear_end_on_limit();
  SBX_ASSIGN_OR_RETURN(
      Policy fallback,
      internal::BuildWithProgram(builder, internal::StateOf(policy).seccomp));
  if (cache->size() > 64) cache->clear();
  cache->emplace(internal::StateOf(policy).id, fallback);
  return fallback;
}

}  // namespace

// The sandbox's state, kept out of the public header.
class Sandbox::Impl {
 public:
  Impl() = default;
  ~Impl();

  absl::StatusOr<proto::Result> Wait() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Kill() ABSL_LOCKS_EXCLUDED(mu_, cgroup_mu_);
  absl::Status Pause() ABSL_LOCKS_EXCLUDED(cgroup_mu_);
  absl::Status Resume() ABSL_LOCKS_EXCLUDED(cgroup_mu_);
  std::vector<std::string> cgroup_dirs() ABSL_LOCKS_EXCLUDED(cgroup_mu_);
  absl::StatusOr<std::optional<proto::Result>> WaitUntil(absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Sandbox;
  class Watcher;
  friend class Watcher;

  // Makes the sandbox. Before the supervisor is told of it (at the end) no
  // other thread can see this object, so it writes the state below without
  // the locks the analysis would want.
  // What a prewarmed sandbox will run (Start's `prewarm`).
  enum class Prewarm { kNo, kProgram, kWorker };
  // Prewarmed, the child stops short of its command (an empty one here),
  // which Launch() sends later; kWorker clones it from the zygote.
  [[nodiscard]] absl::Status Start(
      const Policy& policy, const Command& command, SpawnMode mode,
      Prewarm prewarm = Prewarm::kNo) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // A prewarmed sandbox's command: its argv, env, cwd and descriptors go to
  // the waiting child, and the wall-clock limit starts. Unavailable if the
  // sandbox ended before (then it is of no use); the errors of Start for a
  // bad command. Before the sandbox is handed out, like Start.
  [[nodiscard]] absl::Status Launch(const Command& command)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Whether a prewarmed child said it waits for its command (kReady) within
  // `timeout`; false once it ended.
  bool AwaitReady(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);
  // The command's descriptors (FdPlan) with the comms channel's child end
  // in place of its target; `comms` gets the host's end (null without one).
  [[nodiscard]] absl::Status PlanFds(const Command& command,
                                     std::vector<FdMapping>& fds,
                                     std::unique_ptr<Comms>& comms,
                                     UniqueFd& comms_child);
  std::vector<proto::Violation> TakeProcessViolations()
      ABSL_LOCKS_EXCLUDED(mu_);
  // Called by the supervisor thread: handles what is ready, never blocks.
  void Service() ABSL_LOCKS_EXCLUDED(mu_);
  void ReadChildMessages() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Handles one message from the sync socket; `sender` is the host pid the
  // kernel vouches for (SCM_CREDENTIALS), -1 if none came.
  void HandleChildMessage(const internal::ChildMessage& message, pid_t sender)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void TakeListener(const internal::ChildMessage& message, pid_t sender)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The sandboxee broke the setup protocol: the sandbox ends as KILLED with
  // a warning saying `what`; nothing more is read from it.
  void Misbehaved(const std::string& what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReadNotification() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Reap(bool block) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)
      ABSL_LOCKS_EXCLUDED(cgroup_mu_);
  void KillNow() ABSL_LOCKS_EXCLUDED(cgroup_mu_);

  // Set by Start, then constant: read without a lock.
  std::unique_ptr<Watcher> watcher_;
  std::optional<Policy> policy_;
  std::unique_ptr<Comms> comms_;
  pid_t pid_ = -1;
  // Open until the destructor.
  UniqueFd pidfd_;
  // Prewarmed: set again by Launch, under mu_.
  absl::Time start_;
  absl::Time wall_deadline_ = absl::InfiniteFuture();
  // The sandbox has an init of ours (a pid namespace without
  // program_is_init): only it reports the payload's exit status.
  bool has_init_ = false;
  // It has a pid namespace (not so with the Landlock fallback).
  bool has_pid_ns_ = false;
  // namespaces.landlock_fallback in force: the directories standing in for
  // the policy's tmpfs mounts, removed with this object.
  std::unique_ptr<internal::FallbackDirs> fallback_dirs_;
  // The policy defers the filter to LockDown(): one listener is expected
  // from the payload after it started.
  bool deferred_ = false;
  // A zygote worker rather than an exec'd program.
  bool zygote_ = false;
  // Where the program was looked for (internal::ExecCandidates), to say why
  // an execve found nothing.
  std::vector<std::string> exec_candidates_;
  // The sandboxee keeps the sync socket: a zygote worker, or a program that
  // locks itself down.
  bool worker_ = false;

  std::atomic<bool> kill_requested_{false};

  // Kill() and Pause() may use the cgroup from any thread.
  absl::Mutex cgroup_mu_;
  std::unique_ptr<Cgroup> cgroup_ ABSL_GUARDED_BY(cgroup_mu_);

  // What the supervisor thread updates.
  absl::Mutex mu_;
  std::vector<std::string> warnings_ ABSL_GUARDED_BY(mu_);
  UniqueFd sync_ ABSL_GUARDED_BY(mu_);
  UniqueFd notify_ ABSL_GUARDED_BY(mu_);
  // limits.end_on_limit: cgroup_'s limit_events_fd() until a cap is hit; -1
  // otherwise.
  int limit_events_fd_ ABSL_GUARDED_BY(mu_) = -1;
  bool timed_out_ ABSL_GUARDED_BY(mu_) = false;
  bool exit_status_received_ ABSL_GUARDED_BY(mu_) = false;
  bool notify_received_ ABSL_GUARDED_BY(mu_) = false;
  // The process that handed over the listener (TakeListener).
  pid_t listener_sender_ ABSL_GUARDED_BY(mu_) = -1;
  // SeccompProgram::first_exec_by_supervisor, and in exec mode without
  // LockDown(): the program's own execve, from listener_sender_, is yet to
  // come and is let through when it does (ReadNotification).
  bool exec_by_supervisor_ = false;
  bool first_exec_pending_ ABSL_GUARDED_BY(mu_) = false;
  int later_exec_errno_ = 0;
  // Learn mode (sandbox/learn.h): every call comes to ReadNotification.
  std::unique_ptr<internal::LearnRecorder> learn_ ABSL_GUARDED_BY(mu_);
  // The child sent its last setup message; what comes after is the
  // sandboxee's (where it keeps the sync socket: worker_).
  bool payload_started_ ABSL_GUARDED_BY(mu_) = false;
  // Prewarmed (Start with prewarm): the child said it waits for its command
  // (kReady), and Launch sent it.
  bool prewarmed_ = false;
  bool waiting_for_command_ ABSL_GUARDED_BY(mu_) = false;
  bool command_sent_ ABSL_GUARDED_BY(mu_) = false;
  // Microseconds per internal::SetupPhase, from the first message that
  // carried them (kNotifyFd or kSetupTimes).
  std::array<uint32_t, 16> setup_us_ ABSL_GUARDED_BY(mu_);
  bool setup_us_received_ ABSL_GUARDED_BY(mu_) = false;
  int payload_wait_status_ ABSL_GUARDED_BY(mu_) = 0;
  bool reaped_ ABSL_GUARDED_BY(mu_) = false;
  // ECHILD from waitid: another part of the host reaped it.
  bool reaped_elsewhere_ ABSL_GUARDED_BY(mu_) = false;
  int wait_status_ ABSL_GUARDED_BY(mu_) = 0;
  struct rusage rusage_ ABSL_GUARDED_BY(mu_) = {};
  std::optional<proto::SetupError> setup_error_ ABSL_GUARDED_BY(mu_);
  std::optional<proto::Violation> violation_ ABSL_GUARDED_BY(mu_);
  // SpawnTemplate(): violations by processes other than listener_sender_
  // kill only them and are kept here, for TakeProcessViolations().
  bool keep_template_ = false;
  static constexpr size_t kMaxProcessViolations = 16;
  std::vector<proto::Violation> process_violations_ ABSL_GUARDED_BY(mu_);
  std::optional<proto::Result> result_ ABSL_GUARDED_BY(mu_);
};

// The sandbox as the supervisor thread sees it.
class Sandbox::Impl::Watcher : public internal::Supervised {
 public:
  explicit Watcher(Impl* sandbox)
      : sandbox_(sandbox), supervisor_(&internal::Supervisor::Get()) {}

  absl::Time Watch(std::vector<struct pollfd>& fds) override {
    absl::MutexLock lock(&sandbox_->mu_);
    if (sandbox_->result_.has_value()) return absl::InfiniteFuture();
    fds.push_back({sandbox_->pidfd_.get(), POLLIN, 0});
    if (sandbox_->sync_) fds.push_back({sandbox_->sync_.get(), POLLIN, 0});
    if (sandbox_->notify_) {
      fds.push_back({sandbox_->notify_.get(), POLLIN, 0});
    }
    if (sandbox_->limit_events_fd_ >= 0) {
      fds.push_back({sandbox_->limit_events_fd_, POLLIN, 0});
    }
    return sandbox_->timed_out_ ? absl::InfiniteFuture()
                                : sandbox_->wall_deadline_;
  }
  void Service() override { sandbox_->Service(); }
  internal::Supervisor* supervisor() const { return supervisor_; }

 private:
  Impl* sandbox_;
  internal::Supervisor* supervisor_;
};

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::Spawn(const Policy& policy,
                                                        const Command& command,
                                                        SpawnMode mode) {
  auto impl = std::make_unique<Impl>();
  // On an error after the child exists, ~Impl kills and reaps it.
  SBX_RETURN_IF_ERROR(impl->Start(policy, command, mode));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::SpawnPrewarmed(
    const Policy& policy, bool worker) {
  auto impl = std::make_unique<Impl>();
  SBX_RETURN_IF_ERROR(
      impl->Start(policy, Command(), SpawnMode::kForkServer,
                  worker ? Impl::Prewarm::kWorker : Impl::Prewarm::kProgram));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

bool Sandbox::AwaitPrewarmed(absl::Duration timeout) {
  return impl_->AwaitReady(timeout);
}

absl::Status Sandbox::LaunchPrewarmed(const Command& command) {
  return impl_->Launch(command);
}

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::SpawnTemplate(
    const Policy& policy, const Command& command) {
  auto impl = std::make_unique<Impl>();
  impl->keep_template_ = true;
  SBX_RETURN_IF_ERROR(impl->Start(policy, command, SpawnMode::kForkServer));
  return std::unique_ptr<Sandbox>(new Sandbox(std::move(impl)));
}

std::vector<proto::Violation> Sandbox::TakeProcessViolations() {
  return impl_->TakeProcessViolations();
}

std::vector<proto::Violation> Sandbox::Impl::TakeProcessViolations() {
  absl::MutexLock lock(&mu_);
  std::vector<proto::Violation> taken = std::move(process_violations_);
  process_violations_.clear();
  return taken;
}

Sandbox::Sandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Sandbox::~Sandbox() = default;

absl::StatusOr<proto::Result> Sandbox::Wait() { return impl_->Wait(); }

absl::StatusOr<std::optional<proto::Result>> Sandbox::WaitFor(
    absl::Duration timeout) {
  return impl_->WaitUntil(absl::Now() + timeout);
}

absl::Status Sandbox::Kill() { return impl_->Kill(); }
absl::Status Sandbox::Pause() { return impl_->Pause(); }
absl::Status Sandbox::Resume() { return impl_->Resume(); }
pid_t Sandbox::pid() const { return impl_->pid_; }
int Sandbox::pidfd() const { return impl_->pidfd_.get(); }
std::vector<std::string> Sandbox::cgroup_dirs() { return impl_->cgroup_dirs(); }
Comms* Sandbox::comms() { return impl_->comms_.get(); }

// Checks the command, picks the process that clones (this one, the fork
// server or the zygote), makes the cgroup, the sync socket and the comms
// channel, and runs the spawn pipeline there (internal::SpawnChild).
namespace {

absl::Status CheckCommandFds(const Command& command) {
  // Here, where the caller can still be told which one: past this point a
  // closed descriptor would surface as a failed request to the fork server.
  for (size_t i = 0; i < command.fds.size(); ++i) {
    if (fcntl(command.fds[i].host_fd, F_GETFD) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("command.fds[", i, "]: host fd ", command.fds[i].host_fd,
                       " is not open (", ErrnoName(errno), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Sandbox::Impl::Start(const Policy& policy, const Command& command,
                                  SpawnMode mode, Prewarm prewarming) {
  const bool prewarm = prewarming != Prewarm::kNo;
  if (!prewarm) {
    SBX_RETURN_IF_ERROR(internal::CheckCommand(command));
    SBX_RETURN_IF_ERROR(CheckCommandFds(command));
  }
  const bool worker = !command.worker.empty() || prewarming == Prewarm::kWorker;
  // What errors name: the command's worker, or the pool (made only for an
  // error: not on every spawn).
  auto whose = [&] {
    return prewarm ? std::string("Prewarm(kWorkers)")
                   : absl::StrCat("command.worker '", command.worker, "'");
  };
  internal::ForkServerClient* server = nullptr;
  // Keeps the default server's client valid for this spawn.
  std::shared_ptr<internal::ForkServerClient> default_server;
  if (worker) {
    server = internal::ZygoteForkServer();
    if (server == nullptr && internal::ZygoteBelongsToAnotherProcess()) {
      return absl::FailedPreconditionError(absl::StrCat(
          whose(),
          ": this process is a fork of the one that called "
          "InitForkServer(); only that process can spawn zygote workers"));
    }
    if (server == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          whose(),
          ": zygote workers need sandbox::InitForkServer() in main()"));
    }
  } else if (mode == SpawnMode::kForkServer) {
    SBX_ASSIGN_OR_RETURN(default_server, internal::DefaultForkServer());
    server = default_server.get();
  }

  prewarmed_ = prewarm;
  if (prewarm && server == nullptr) {
    return absl::InvalidArgumentError(
        "Prewarm: prewarmed sandboxes are cloned by the fork server");
  }
  std::optional<Policy> fallback;
  if (WantsCgroup(policy)) {
    static absl::once_flag stale_once;
    // Leftovers of crashed hosts or fork servers that were ours.
    absl::call_once(stale_once, [] { Cgroup::RemoveStale(); });
    const proto::Limits& limits = policy.proto().limits();
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
        Cgroup::Create({.memory_bytes = policy.limits().memory,
                        .allow_swap = limits.allow_swap(),
                        .pids = limits.pids(),
                        .cpus = limits.cpus(),
                        .watch_limits = limits.end_on_limit()});
    if (cgroup.ok()) {
      cgroup_ = *std::move(cgroup);
      limit_events_fd_ = cgroup_->limit_events_fd();
    } else if (limits.cgroup_best_effort() &&
               cgroup.status().code() ==
                   absl::StatusCode::kFailedPrecondition) {
      SBX_ASSIGN_OR_RETURN(fallback, RlimitFallback(policy, warnings_));
    } else {
      return cgroup.status();
    }
  }
  const Policy& effective = fallback.has_value() ? *fallback : policy;
  const proto::Namespaces& ns = policy.proto().namespaces();
  // Where user namespaces cannot be made and the policy opts in: no
  // namespaces, Landlock in their place, and every loss in the warnings.
  SBX_ASSIGN_OR_RETURN(std::optional<std::string> no_user_namespaces,
                       internal::NeedsLandlockFallback(policy));
  std::optional<Command> remapped;
  if (no_user_namespaces.has_value() && prewarm) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Prewarm: namespaces.landlock_fallback would be in force (",
        *no_user_namespaces, "), and a prewarmed sandbox needs namespaces"));
  }
  if (no_user_namespaces.has_value()) {
    SBX_ASSIGN_OR_RETURN(internal::FallbackIds ids,
                         internal::LandlockFallbackIds(policy));
    SBX_ASSIGN_OR_RETURN(fallback_dirs_,
                         internal::FallbackDirs::Make(policy, ids));
    remapped = fallback_dirs_->Remap(policy, command);
    for (std::string& warning : internal::LandlockFallbackWarnings(
             policy, *no_user_namespaces, cgroup_ != nullptr)) {
      warnings_.push_back(std::move(warning));
    }
  }
  const Command& launched = remapped.has_value() ? *remapped : command;
  if (ns.net() && ns.shared_net() && server != nullptr && geteuid() == 0 &&
      !fallback_dirs_ && !internal::LandlockCanScopeAbstractUnix()) {
    warnings_.push_back(
        "namespaces.shared_net: this kernel's Landlock cannot scope abstract "
        "unix sockets (ABI 6, Linux 6.12): sandboxes sharing the network "
        "namespace can reach each other's");
  }
  policy_ = effective;
  if (!prewarm) exec_candidates_ = internal::ExecCandidates(policy, command);
  // The sandboxee keeps the sync socket (a zygote worker, or a program
  // that locks itself down): what comes out of it after the filter is in
  // is the sandboxee's word.
  worker_ = worker || policy.proto().seccomp().defer_until_lockdown();
  deferred_ = policy.proto().seccomp().defer_until_lockdown();
  zygote_ = worker;
  const SeccompProgram& program = internal::StateOf(policy).seccomp;
  exec_by_supervisor_ = program.first_exec_by_supervisor;
  later_exec_errno_ = program.later_exec_errno;
  {
    absl::MutexLock lock(&mu_);
    first_exec_pending_ = exec_by_supervisor_ && !worker_;
    if (program.learn_base != nullptr) {
      learn_ = std::make_unique<internal::LearnRecorder>(
          program.learn_base, policy.proto().filesystem());
    }
  }
  has_pid_ns_ = ns.pid() && !fallback_dirs_;
  has_init_ = has_pid_ns_ && !ns.program_is_init();
  int sync_pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync_pair) != 0) {
    return ErrnoStatus("socketpair(sync)");
  }
  sync_.reset(sync_pair[0]);
  UniqueFd child_sync(sync_pair[1]);
  // Read by the supervisor thread, which must never block on it.
  if (fcntl(sync_.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoStatus("fcntl(sync, O_NONBLOCK)");
  }
  // Credentials of each message, which the kernel vouches for: the exit
  // status counts only from our init, the listener is taken from its
  // sender.
  const int on = 1;
  if (setsockopt(sync_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) != 0) {
    return ErrnoStatus("setsockopt(sync, SO_PASSCRED)");
  }

  std::vector<FdMapping> fds;
  UniqueFd comms_child;
  if (!prewarm) {
    SBX_RETURN_IF_ERROR(PlanFds(command, fds, comms_, comms_child));
  }

  internal::LaunchRequest request;
  request.policy = &effective;
  request.command = &launched;
  request.fds = std::move(fds);
  request.await_command = prewarm;
  request.await_worker = prewarming == Prewarm::kWorker;
  if (fallback_dirs_) {
    request.landlock_fallback = true;
    request.fallback_dirs = fallback_dirs_->dirs();
  }
  request.child_sync_fd = child_sync.get();
  request.host_sync_fd = sync_.get();
  if (cgroup_) {
    request.cgroup_fd = cgroup_->clone_into_fd();
    SBX_ASSIGN_OR_RETURN(request.cgroup_tasks_fds, cgroup_->V1TasksFds());
  }
  start_ = absl::Now();
  SBX_ASSIGN_OR_RETURN(internal::SpawnOutcome outcome,
                       server != nullptr ? server->Spawn(request)
                                         : internal::SpawnChild(request));
  child_sync.reset();
  comms_child.reset();
  if (!outcome.started()) {
    // Found before any process existed: the program never runs.
    setup_error_ = outcome.setup_error();
    reaped_ = true;
    sync_.reset();
    absl::MutexLock lock(&mu_);
    Finish();
    return absl::OkStatus();
  }
  pid_ = outcome.pid();
  pidfd_ = std::move(outcome.pidfd());
  const double wall = policy.proto().limits().wall_time_seconds();
  if (wall > 0 && !prewarm) wall_deadline_ = start_ + absl::Seconds(wall);
  // From here on the supervisor watches it, and the destructor kills it and
  // waits for it on any error.
  watcher_ = std::make_unique<Watcher>(this);
  watcher_->supervisor()->Register(watcher_.get());
  if (cgroup_) {
    // v2 without CLONE_INTO_CGROUP (the child moves itself into the v1
    // hierarchies): before the child runs a single step of its own.
    SBX_RETURN_IF_ERROR(cgroup_->AddProcess(
        pid_, /*v1_attached=*/!request.cgroup_tasks_fds.empty()));
  }
  return internal::ReleaseChild(sync_.get());
}

absl::Status Sandbox::Impl::PlanFds(const Command& command,
                                    std::vector<FdMapping>& fds,
                                    std::unique_ptr<Comms>& comms,
                                    UniqueFd& comms_child) {
  fds = FdPlan(command);
  const int comms_target =
      command.worker.empty() ? command.comms_fd : kWorkerCommsFd;
  if (comms_target >= 0) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return ErrnoStatus("socketpair(comms)");
    }
    Comms::Options options = command.comms_options;
    options.untrusted_peer = true;
    comms = std::make_unique<Comms>(UniqueFd(pair[0]), SOCK_STREAM, options);
    comms_child.reset(pair[1]);
    fds.erase(std::remove_if(fds.begin(), fds.end(),
                             [&](const FdMapping& f) {
                               return f.sandbox_fd == comms_target;
                             }),
              fds.end());
    fds.push_back({comms_child.get(), comms_target});
  }
  return absl::OkStatus();
}

bool Sandbox::Impl::AwaitReady(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto settled = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return waiting_for_command_ || result_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&settled), timeout);
  return waiting_for_command_ && !result_.has_value();
}

absl::Status Sandbox::Impl::Launch(const Command& command) {
  SBX_RETURN_IF_ERROR(CheckCommandFds(command));
  // PrewarmPool::Spawn matched the command to the pool's kind.
  if (command.worker.empty() == zygote_) {
    return absl::InvalidArgumentError(
        "a program for a prewarmed worker, or a worker for a prewarmed "
        "program");
  }
  if (zygote_ && !internal::IsWorkerRegistered(command.worker)) {
    return absl::NotFoundError(
        absl::StrCat("no worker registered as '", command.worker, "'"));
  }
  std::vector<FdMapping> fds;
  UniqueFd comms_child;
  // The sandbox may go back to the pool if the command is refused: its
  // comms_ only once the command is sent.
  std::unique_ptr<Comms> comms;
  SBX_RETURN_IF_ERROR(PlanFds(command, fds, comms, comms_child));
  SBX_ASSIGN_OR_RETURN(internal::CommandMessage message,
                       internal::EncodeCommand(*policy_, command, fds));
  {
    absl::MutexLock lock(&mu_);
    if (result_.has_value() || !sync_) {
      return absl::UnavailableError(
          "the prewarmed sandbox ended before its command");
    }
    const absl::Status sent = internal::SendWithFds(sync_.get(), message.bytes,
                                                    message.fds, "sync socket");
    if (!sent.ok()) {
      // The child may have the message or not: the sandbox is of no use.
      return absl::UnavailableError(sent.message());
    }
    command_sent_ = true;
    comms_ = std::move(comms);
    exec_candidates_ = std::move(message.candidates);
    start_ = absl::Now();
    const double wall = policy_->proto().limits().wall_time_seconds();
    if (wall > 0) wall_deadline_ = start_ + absl::Seconds(wall);
  }
  // A new deadline for the supervisor's poll.
  watcher_->supervisor()->Wake();
  return absl::OkStatus();
}

Sandbox::Impl::~Impl() {
  if (watcher_ == nullptr) return;  // never started, or ended early
  bool done;
  {
    absl::MutexLock lock(&mu_);
    done = result_.has_value();
  }
  if (!done) {
    kill_requested_ = true;
    {
      absl::MutexLock lock(&mu_);
      KillNow();
    }
    Wait().IgnoreError();
  }
  watcher_->supervisor()->Unregister(watcher_.get());
}

absl::StatusOr<proto::Result> Sandbox::Impl::Wait() {
  SBX_ASSIGN_OR_RETURN(std::optional<proto::Result> result,
                       WaitUntil(absl::InfiniteFuture()));
  if (!result.has_value()) return absl::InternalError("Wait() returned early");
  return *std::move(result);
}

absl::Status Sandbox::Impl::Kill() {
  kill_requested_ = true;
  {
    // reaped_ is the supervisor thread's to write; pidfd_ stays open until
    // the destructor.
    absl::MutexLock lock(&mu_);
    if (reaped_ || !pidfd_) return absl::OkStatus();
  }
  if (syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH) {
    return ErrnoStatus("pidfd_send_signal(SIGKILL)");
  }
  absl::MutexLock lock(&cgroup_mu_);
  // Also what left the pid namespace's reach (without one).
  if (cgroup_) return cgroup_->KillAll();
  return absl::OkStatus();
}

std::vector<std::string> Sandbox::Impl::cgroup_dirs() {
  absl::MutexLock lock(&cgroup_mu_);
  if (!cgroup_) return {};
  return cgroup_->dirs();
}

absl::Status Sandbox::Impl::Pause() {
  absl::MutexLock lock(&cgroup_mu_);
  if (!cgroup_) {
    return absl::FailedPreconditionError(
        "Pause: this sandbox has no cgroup (set limits.memory, pids or cpus)");
  }
  return cgroup_->Freeze();
}

absl::Status Sandbox::Impl::Resume() {
  absl::MutexLock lock(&cgroup_mu_);
  if (!cgroup_) {
    return absl::FailedPreconditionError(
        "Resume: this sandbox has no cgroup (set limits.memory, pids or cpus)");
  }
  return cgroup_->Thaw();
}

void Sandbox::Impl::KillNow() {
  // With a pid namespace this is its init: the kernel kills the rest.
  syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  // The cgroup kill also thaws a paused sandbox, whose processes could not
  // die frozen (cgroup v1).
  absl::MutexLock lock(&cgroup_mu_);
  if (cgroup_) cgroup_->KillAll().IgnoreError();
}

absl::StatusOr<std::optional<proto::Result>> Sandbox::Impl::WaitUntil(
    absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return result_.has_value();
  };
  mu_.AwaitWithDeadline(absl::Condition(&done), deadline);
  return result_;
}

void Sandbox::Impl::Service() {
  absl::MutexLock lock(&mu_);
  if (result_.has_value()) return;
  if (!timed_out_ && absl::Now() >= wall_deadline_) {
    timed_out_ = true;
    KillNow();
  }
  struct pollfd fds[4] = {
      {pidfd_.get(), POLLIN, 0},
      {sync_.get(), POLLIN, 0},
      {notify_.get(), POLLIN, 0},
      {limit_events_fd_, POLLIN, 0},
  };
  if (poll(fds, 4, 0) <= 0) return;
  if (fds[1].revents != 0) ReadChildMessages();
  if (fds[2].revents & POLLIN) ReadNotification();
  if (fds[2].revents & (POLLHUP | POLLERR | POLLNVAL)) notify_.reset();
  if (fds[3].revents != 0) {
    // limits.end_on_limit. Finish() learns from the cgroup which cap it was.
    bool hit;
    {
      absl::MutexLock lock(&cgroup_mu_);
      hit = cgroup_ && cgroup_->LimitHit();
    }
    if (hit) {
      limit_events_fd_ = -1;
      KillNow();
    }
  }
  if (fds[0].revents != 0) {
    // Messages sent before the exit are queued already; read them first.
    ReadChildMessages();
    if (notify_) ReadNotification();
    Reap(/*block=*/true);
    Finish();
  }
}

void Sandbox::Impl::ReadChildMessages() {
  while (sync_) {
    ChildMessage message = {};
    struct iovec iov = {&message, sizeof(message)};
    alignas(struct cmsghdr) char
        control[CMSG_SPACE(sizeof(int) * 4) + CMSG_SPACE(sizeof(struct ucred))];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t got =
        recvmsg(sync_.get(), &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) {
      // The last holder of the child's end exec'd or exited.
      sync_.reset();
      return;
    }
    // No message of the protocol carries a descriptor. Whatever came is the
    // sandboxee's, closed where closing it cannot block us.
    std::vector<UniqueFd> fds;
    TakeReceivedFds(msg, fds);
    const bool had_fds = !fds.empty();
    for (UniqueFd& fd : fds) internal::CloseUntrusted(std::move(fd));
    pid_t sender = -1;
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
         cmsg = CMSG_NXTHDR(&msg, cmsg)) {
      if (cmsg->cmsg_level == SOL_SOCKET &&
          cmsg->cmsg_type == SCM_CREDENTIALS) {
        struct ucred credentials;
        memcpy(&credentials, CMSG_DATA(cmsg), sizeof(credentials));
        sender = credentials.pid;
      }
    }
    if (had_fds) {
      Misbehaved("a setup message carried file descriptors");
    } else if (got != sizeof(message) || (msg.msg_flags & MSG_TRUNC)) {
      Misbehaved(absl::StrCat("a setup message of ", got, " bytes (expected ",
                              sizeof(message), ")"));
    } else {
      HandleChildMessage(message, sender);
    }
  }
}

// What may come when, and from whom. Before the payload starts, only our
// setup code holds the child's end. After, an exec'd program never holds it
// (close-on-exec) unless it defers seccomp; a zygote worker always does. So
// after the start the only messages believed are those a sandboxee cannot
// forge (the exit status from our init, whose pid the kernel vouches for
// and which the payload cannot take: no capabilities) or those it may send
// (one listener, from LockDown()); anything else ends the sandbox.
void Sandbox::Impl::HandleChildMessage(const ChildMessage& message,
                                       pid_t sender) {
  const bool sandboxee_speaks = payload_started_ && worker_;
  // Times are informational: the first set that came, whoever sent it.
  const bool carries_times = message.type == ChildMessage::Type::kNotifyFd ||
                             message.type == ChildMessage::Type::kSetupTimes;
  static_assert(sizeof(message.phase_us) <= sizeof(setup_us_));
  if (carries_times && !setup_us_received_ && !sandboxee_speaks &&
      absl::c_any_of(message.phase_us, [](uint32_t us) {
        return us != internal::kPhaseNotRun;
      })) {
    absl::c_copy(message.phase_us, setup_us_.begin());
    setup_us_received_ = true;
  }
  switch (message.type) {
    case ChildMessage::Type::kSetupTimes:
      if (sandboxee_speaks) {
        Misbehaved("a second start message");
        return;
      }
      payload_started_ = true;
      return;
    case ChildMessage::Type::kSetupError:
      // An exec'd program that defers seccomp keeps the socket, and its
      // execve may still fail after the start message: that one step is
      // believed from it, and only before it locks down.
      if (sandboxee_speaks && !(deferred_ && !zygote_ && !notify_received_ &&
                                message.step == internal::SetupStep::kExec)) {
        Misbehaved("a setup error after the payload started");
        return;
      }
      if (!setup_error_.has_value()) {
        setup_error_ = internal::DescribeSetupFailure(message);
        if (message.step == internal::SetupStep::kExec &&
            message.error == ENOENT) {
          // The kernel's "not found" also means a missing interpreter.
          std::optional<std::string> why = internal::ExplainExecNotFound(
              policy_->proto().filesystem(), exec_candidates_);
          if (why.has_value()) {
            setup_error_->set_message(
                absl::StrCat(setup_error_->message(), ": ", *why));
          }
        }
      }
      return;
    case ChildMessage::Type::kNotifyFd:
      if (notify_received_ || (payload_started_ && !deferred_)) {
        Misbehaved("an unexpected seccomp listener");
        return;
      }
      TakeListener(message, sender);
      // Without deferral the listener is the last setup message.
      if (!deferred_) payload_started_ = true;
      return;
    case ChildMessage::Type::kReady:
      // Once, and only before the command: until then every process of
      // the sandbox is ours (its init, and the payload that says it).
      if (!prewarmed_ || waiting_for_command_ || command_sent_) {
        Misbehaved("a ready message from a sandbox not waiting for one");
        return;
      }
      waiting_for_command_ = true;
      return;
    case ChildMessage::Type::kExitStatus:
      // Only the sandbox's init (the process we cloned) reports this.
      if (!has_init_ || sender != pid_ || exit_status_received_) {
        Misbehaved("an exit status from a process that is not our init");
        return;
      }
      exit_status_received_ = true;
      payload_wait_status_ = message.wait_status;
      return;
  }
  Misbehaved(absl::StrCat("a setup message of unknown type ",
                          static_cast<uint32_t>(message.type)));
}

void Sandbox::Impl::TakeListener(const ChildMessage& message, pid_t sender) {
  // Taken from the sender's own descriptor table: never in flight, so no
  // per-user quota of in-flight descriptors can keep it from us, and it is
  // the filter that process installed.
  auto fail = [&](int error,
                  absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // Killed (by the host, or the deadline) while it was handing over: the
    // listener went with it; that is no setup failure.
    if (kill_requested_ || timed_out_) {
      KillNow();
      return;
    }
    if (payload_started_) {
      Misbehaved(
          absl::StrCat("its seccomp listener could not be taken: ", what));
      return;
    }
    proto::SetupError failure;
    failure.set_step(
        internal::SetupStepName(internal::SetupStep::kTakeListener));
    failure.set_errno_value(error);
    failure.set_errno_name(ErrnoName(error));
    failure.set_message(absl::StrCat("take_listener: ", what));
    if (!setup_error_.has_value()) setup_error_ = std::move(failure);
    // It waits for our answer and never runs unsupervised.
    KillNow();
  };
  if (sender <= 0) return fail(EPROTO, "the message came without credentials");
  UniqueFd sender_pidfd;
  int pidfd = pidfd_.get();
  if (sender != pid_) {
    sender_pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, sender, 0)));
    if (!sender_pidfd) {
      const int error = errno;
      return fail(error,
                  absl::StrCat("pidfd_open(", sender, "): ", strerror(error)));
    }
    pidfd = sender_pidfd.get();
  }
  UniqueFd listener(
      static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, message.detail, 0)));
  if (!listener) {
    const int error = errno;
    return fail(error, absl::StrCat("pidfd_getfd(pid ", sender, ", fd ",
                                    message.detail, "): ", strerror(error)));
  }
  // It must be a seccomp listener, whatever else the number named: the
  // anonymous inode's name says so without touching the file.
  char link[64] = {};
  const std::string path = absl::StrCat("/proc/self/fd/", listener.get());
  const ssize_t length = readlink(path.c_str(), link, sizeof(link) - 1);
  if (length < 0 ||
      absl::string_view(link, length) != "anon_inode:seccomp notify") {
    internal::CloseUntrusted(std::move(listener));
    return fail(EBADF, absl::StrCat("descriptor ", message.detail, " of pid ",
                                    sender, " is not a seccomp listener"));
  }
  const char taken = 'L';
  if (send(sync_.get(), &taken, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1) {
    const int error = errno;
    return fail(error, absl::StrCat("send(sync, taken): ", strerror(error)));
  }
  notify_ = std::move(listener);
  notify_received_ = true;
  listener_sender_ = sender;
}

void Sandbox::Impl::Misbehaved(const std::string& what) {
  warnings_.push_back(absl::StrCat("the sandboxee broke the setup protocol (",
                                   what, "); the sandbox was killed"));
  kill_requested_ = true;
  KillNow();
  // Nothing more is read from it.
  sync_.reset();
}

void Sandbox::Impl::ReadNotification() {
  // SECCOMP_IOCTL_NOTIF_RECV waits for a notification: only when one is
  // there. After the payload's exit a process it left behind (no pid
  // namespace) still holds the filter, and would otherwise hold the
  // supervisor thread, and every other sandbox with it, until it made a
  // forbidden call.
  struct pollfd ready = {notify_.get(), POLLIN, 0};
  if (poll(&ready, 1, 0) != 1 || !(ready.revents & POLLIN)) return;
  struct seccomp_notif notification;
  memset(&notification, 0, sizeof(notification));
  if (ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_RECV, &notification) != 0) {
    // ENOENT: the caller died before we looked; nothing to report.
    return;
  }
  if (exec_by_supervisor_ && notification.data.arch == AUDIT_ARCH_X86_64 &&
      notification.data.nr == __NR_execve) {
    struct seccomp_notif_resp response = {};
    response.id = notification.id;
    // Our setup's execve: the process that installed the filter, which has
    // run nothing of the sandboxee's yet, making its one execve (the child
    // picks the program before the filter goes in). Any other comes from
    // the sandboxee. Letting a call continue is safe only when its caller
    // is trusted: its arguments are read again by the kernel after us.
    if (first_exec_pending_ &&
        static_cast<pid_t>(notification.pid) == listener_sender_) {
      first_exec_pending_ = false;
      response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
      ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);
      return;
    }
    if (later_exec_errno_ != 0 && learn_ == nullptr) {
      response.error = -later_exec_errno_;
      ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);
      return;
    }
  }
  const internal::LearnRecorder::Answer answer =
      learn_ != nullptr ? learn_->Judge(notify_.get(), notification)
                        : internal::LearnRecorder::Answer{.violation = true};
  if (!answer.violation) {
    // Learn mode. Trusted inputs only: a call let through is read again by
    // the kernel after us, and only its number and registers were judged.
    struct seccomp_notif_resp response = {};
    response.id = notification.id;
    if (answer.allow) {
      response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    } else {
      response.error = -answer.error;
    }
    ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response);
    return;
  }
  auto describe = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    proto::Violation violation;
    violation.set_nr(notification.data.nr);
    // x32 calls come with the x86-64 audit arch and bit 30 set.
    const bool x32 = notification.data.arch == AUDIT_ARCH_X86_64 &&
                     (notification.data.nr & 0x40000000) != 0;
    violation.set_arch(x32 ? "x32" : ArchName(notification.data.arch));
    violation.set_syscall(
        SyscallName(notification.data.arch, notification.data.nr));
    for (uint64_t arg : notification.data.args) violation.add_args(arg);
    violation.set_pid(static_cast<int32_t>(notification.pid));
    // Before the kill below: the caller waits in the call, and its memory
    // holds what it passed.
    violation.set_decoded(
        internal::DecodeNotification(notify_.get(), notification));
    internal::ExplainViolation(violation);
    return violation;
  };
  if (keep_template_ && listener_sender_ > 0 &&
      static_cast<pid_t>(notification.pid) != listener_sender_ &&
      notification.pid != 0) {
    // An input's process (SpawnTemplate): it alone dies, all its threads.
    // The pidfd is of the caller's process if the notification is still
    // pending after it was opened (a waiting thread cannot have exited, nor
    // its process, and had its id reused). A thread of the template, or a
    // caller whose process is unknown, ends the whole sandbox, as without a
    // template.
    const pid_t process = ThreadGroupOf(static_cast<pid_t>(notification.pid));
    UniqueFd caller;
    if (process > 0 && process != listener_sender_) {
      caller.reset(static_cast<int>(syscall(SYS_pidfd_open, process, 0)));
    }
    if (ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &notification.id) !=
        0) {
      return;  // the caller died (its call never ran)
    }
    if (caller) {
      if (process_violations_.size() < kMaxProcessViolations) {
        process_violations_.push_back(describe());
      }
      syscall(SYS_pidfd_send_signal, caller.get(), SIGKILL, nullptr, 0);
      return;
    }
  }
  if (!violation_.has_value()) violation_ = describe();
  // The call stays blocked until the kill lands: it never runs.
  KillNow();
  if (!has_pid_ns_ && notification.pid != 0 &&
      ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &notification.id) ==
          0) {
    // Without a pid namespace the caller may be a grandchild of ours.
    kill(static_cast<pid_t>(notification.pid), SIGKILL);
  }
}

void Sandbox::Impl::Reap(bool block) {
  if (reaped_) return;
  siginfo_t info = {};
  struct rusage usage = {};
  for (;;) {
    const long rc = syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &info,
                            WEXITED | (block ? 0 : WNOHANG), &usage);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 && errno == ECHILD) {
      // Someone else in this process reaped it: its status and usage are
      // gone (our init's report of the payload, if any, still stands).
      reaped_ = true;
      reaped_elsewhere_ = true;
      warnings_.push_back(
          "the sandbox was reaped by something else in this process (a "
          "waitpid(-1), or SIGCHLD set to SIG_IGN): its own exit status and "
          "resource usage are unknown");
      return;
    }
    if (rc < 0 || info.si_pid == 0) return;
    break;
  }
  reaped_ = true;
  rusage_ = usage;
  wait_status_ = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0)
                                            : W_EXITCODE(0, info.si_status);
}

void Sandbox::Impl::Finish() {
  proto::Result result;
  result.set_pid(pid_);
  proto::Usage& usage = *result.mutable_usage();
  usage.set_wall_time_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
  usage.set_user_cpu_seconds(rusage_.ru_utime.tv_sec +
                             rusage_.ru_utime.tv_usec / 1e6);
  usage.set_system_cpu_seconds(rusage_.ru_stime.tv_sec +
                               rusage_.ru_stime.tv_usec / 1e6);
  usage.set_peak_memory_bytes(static_cast<uint64_t>(rusage_.ru_maxrss) * 1024);
  for (size_t i = 0; setup_us_received_ && i < internal::kSetupPhaseCount;
       ++i) {
    if (setup_us_[i] == internal::kPhaseNotRun) continue;
    (*usage.mutable_setup_us())[internal::SetupPhaseName(
        static_cast<internal::SetupPhase>(i))] = setup_us_[i];
  }

  // With a pid namespace the payload's status comes from our init; if init
  // itself died first (killed), its own status stands.
  CgroupUsage cgroup_usage;
  {
    absl::MutexLock lock(&cgroup_mu_);
    if (cgroup_) {
      absl::StatusOr<CgroupUsage> read = cgroup_->ReadUsage();
      if (read.ok()) {
        cgroup_usage = *read;
      } else {
        // Then a memory or pids limit the sandbox hit is not known: say so
        // rather than let an OOM kill pass for a plain signal.
        warnings_.push_back(absl::StrCat(
            "could not read the sandbox's cgroup usage (",
            read.status().ToString(),
            "): a memory or pids limit it hit would not show in the status"));
      }
      // Whatever is left (without a pid namespace) dies with the sandbox;
      // the cgroup is then kept as a spare for the next sandbox with the
      // same limits if every check of Release passes, and removed if not
      // (cgroup.h, "Spares"): either is a normal end, not a warning.
      Cgroup::Release(std::move(cgroup_)).IgnoreError();
    }
  }
  if (cgroup_usage.peak_memory_bytes > 0) {
    usage.set_peak_memory_bytes(cgroup_usage.peak_memory_bytes);
  }
  if (cgroup_usage.user_cpu_seconds >= 0) {
    usage.set_user_cpu_seconds(cgroup_usage.user_cpu_seconds);
    usage.set_system_cpu_seconds(cgroup_usage.system_cpu_seconds);
  }
  for (const std::string& warning : warnings_) result.add_warnings(warning);

  internal::OutcomeFacts facts;
  facts.setup_error = setup_error_;
  facts.violation = violation_;
  facts.timed_out = timed_out_;
  facts.kill_requested = kill_requested_;
  facts.memory_limit_hit = cgroup_usage.memory_limit_hit;
  facts.pids_limit_hit = cgroup_usage.pids_limit_hit;
  facts.status_known = exit_status_received_ || !reaped_elsewhere_;
  facts.wait_status =
      exit_status_received_ ? payload_wait_status_ : wait_status_;
  internal::ClassifyOutcome(facts, result);
  if (learn_ != nullptr) *result.mutable_learned() = learn_->Report();
  result_ = std::move(result);
  // Nothing more will be read; the filter's listener goes only now, after
  // every process that holds the filter is dead.
  notify_.reset();
  sync_.reset();
}

absl::StatusOr<proto::Result> Run(const Policy& policy,
                                  const Command& command) {
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                       Sandbox::Spawn(policy, command));
  return sandbox->Wait();
}

}  // namespace sandbox
