// Running a program in a sandbox: Spawn() a Sandbox for a Policy and a
// Command, then Wait() for its Result; or Run() for both at once.
//
//   SBX_ASSIGN_OR_RETURN(Policy policy,
//                        PolicyBuilder::FromTextFile(path)->Build());
//   Command command{.argv = {"/usr/bin/file", "-"}, .inherit_stdio = true};
//   SBX_ASSIGN_OR_RETURN(proto::Result result, Run(policy, command));
//   if (result.status() == proto::Result::VIOLATION) {
//     LOG(...) << result.violation().syscall();
//   }
//
// What the sandboxee did (exit code, crash, violation, timeout, setup
// failure inside the child) comes back as an OK Result. A failed Status means
// the host could not even try: bad command, missing kernel feature,
// unwritable id maps.

#ifndef SANDBOX_SANDBOX_H_
#define SANDBOX_SANDBOX_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sandbox/command.h"
#include "sandbox/comms.h"
#include "sandbox/fd.h"
#include "sandbox/policy.h"
#include "sandbox/result.pb.h"

namespace sandbox {

class Cgroup;
namespace internal {
struct ChildMessage;
}  // namespace internal

// A running (or finished) sandbox. Destroying it kills the sandbox if it is
// still running and reaps it. Wait() and WaitFor() are for one thread at a
// time; Kill() may be called from any thread.
class Sandbox {
 public:
  // Creates the sandboxed process. Returns InvalidArgument for a bad
  // command, FailedPrecondition when the host lacks what the policy needs
  // (user namespaces, root for namespaces.user: false, cgroup delegation),
  // or the errno of a failed host-side step.
  //
  // A zygote worker (command.worker) needs InitForkServer() in main();
  // without it Spawn returns FailedPrecondition. If the fork server died,
  // Unavailable (the next Spawn starts a new one).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Sandbox>> Spawn(
      const Policy& policy, const Command& command,
      SpawnMode mode = SpawnMode::kForkServer);

  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Blocks until the sandbox has ended and returns its Result.
  [[nodiscard]] absl::StatusOr<proto::Result> Wait();
  // As Wait, but returns nullopt if still running after `timeout`.
  [[nodiscard]] absl::StatusOr<std::optional<proto::Result>> WaitFor(
      absl::Duration timeout);
  // Kills every process of the sandbox; its Result becomes KILLED unless it
  // had already ended otherwise.
  absl::Status Kill();

  // Stops every process of the sandbox, and lets them go on (the cgroup
  // freezer, as runc does). FailedPrecondition for a sandbox without a
  // cgroup (one is made when the policy has limits.memory, pids or cpus).
  // The wall-clock limit keeps running while paused.
  [[nodiscard]] absl::Status Pause();
  [[nodiscard]] absl::Status Resume();

  // Host pid of the sandbox's first process (its init with a pid
  // namespace); -1 if it never started.
  pid_t pid() const { return pid_; }
  // pidfd of that process, for the host's own event loop (readable when it
  // exits); -1 if it never started.
  int pidfd() const { return pidfd_.get(); }

  // The sandbox's cgroup directories (one per hierarchy in use); empty
  // without a cgroup or once it ended. For monitoring and tests.
  std::vector<std::string> cgroup_dirs();

  // The host's end of the channel to the sandboxee (Command::comms_fd or a
  // zygote worker); nullptr without one.
  Comms* comms() { return comms_.get(); }

 private:
  Sandbox() = default;
  class Watcher;
  friend class Watcher;
  absl::StatusOr<std::optional<proto::Result>> WaitUntil(absl::Time deadline);
  // Called by the supervisor thread: handles what is ready, never blocks.
  void Service();
  void ReadChildMessages();
  // Handles one message from the sync socket; `sender` is the host pid the
  // kernel vouches for (SCM_CREDENTIALS), -1 if none came.
  void HandleChildMessage(const internal::ChildMessage& message, pid_t sender);
  void TakeListener(const internal::ChildMessage& message, pid_t sender);
  // The sandboxee broke the setup protocol: the sandbox ends as KILLED with
  // a warning saying `what`; nothing more is read from it.
  void Misbehaved(const std::string& what);
  void ReadNotification();
  void Reap(bool block);
  void Finish();
  void KillNow();

  // Guards the state the supervisor thread updates (everything below
  // except cgroup_, which has its own lock).
  absl::Mutex mu_;
  std::unique_ptr<Watcher> watcher_;
  std::optional<Policy> policy_;
  std::unique_ptr<Comms> comms_;
  // Guards cgroup_, which Kill() and Pause() may use from other threads.
  absl::Mutex cgroup_mu_;
  std::unique_ptr<Cgroup> cgroup_;
  std::vector<std::string> warnings_;
  pid_t pid_ = -1;
  UniqueFd pidfd_;
  UniqueFd sync_;
  UniqueFd notify_;
  // limits.end_on_limit: cgroup_'s limit_events_fd() until a cap is hit; -1
  // otherwise.
  int limit_events_fd_ = -1;
  absl::Time start_;
  absl::Time wall_deadline_ = absl::InfiniteFuture();

  std::atomic<bool> kill_requested_{false};
  bool timed_out_ = false;
  bool exit_status_received_ = false;
  bool notify_received_ = false;
  // The sandbox has an init of ours (a pid namespace without
  // program_is_init): only it reports the payload's exit status.
  bool has_init_ = false;
  // The policy defers the filter to LockDown(): one listener is expected
  // from the payload after it started.
  bool deferred_ = false;
  // A zygote worker rather than an exec'd program.
  bool zygote_ = false;
  // The child sent its last setup message; what comes after is the
  // sandboxee's (where it keeps the sync socket: worker_).
  bool payload_started_ = false;
  // From the first message that carried them (kNotifyFd or kSetupTimes).
  // Microseconds per internal::SetupPhase, once a message carried them.
  std::array<uint32_t, 16> setup_us_;
  bool setup_us_received_ = false;
  // The sandboxee keeps the sync socket: a zygote worker, or a program that
  // locks itself down.
  bool worker_ = false;
  int payload_wait_status_ = 0;
  bool reaped_ = false;
  // ECHILD from waitid: another part of the host reaped it.
  bool reaped_elsewhere_ = false;
  int wait_status_ = 0;
  struct rusage rusage_ = {};
  std::optional<proto::SetupError> setup_error_;
  std::optional<proto::Violation> violation_;
  std::optional<proto::Result> result_;
};

// Spawn + Wait.
[[nodiscard]] absl::StatusOr<proto::Result> Run(const Policy& policy,
                                                const Command& command);

}  // namespace sandbox

#endif  // SANDBOX_SANDBOX_H_
