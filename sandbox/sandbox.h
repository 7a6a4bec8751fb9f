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

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/command.h"
#include "sandbox/comms.h"
#include "sandbox/policy.h"
#include "sandbox/result.pb.h"

namespace sandbox {

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
  pid_t pid() const;
  // pidfd of that process, for the host's own event loop (readable when it
  // exits); -1 if it never started.
  int pidfd() const;

  // The sandbox's cgroup directories (one per hierarchy in use); empty
  // without a cgroup or once it ended. For monitoring and tests.
  std::vector<std::string> cgroup_dirs();

  // The host's end of the channel to the sandboxee (Command::comms_fd or a
  // zygote worker); nullptr without one.
  Comms* comms();

 private:
  class Impl;
  explicit Sandbox(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

// Spawn + Wait.
[[nodiscard]] absl::StatusOr<proto::Result> Run(const Policy& policy,
                                                const Command& command);

}  // namespace sandbox

#endif  // SANDBOX_SANDBOX_H_
