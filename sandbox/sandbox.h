// Running a program in a sandbox: Spawn() a Sandbox for a Policy and a
// Command, then Wait() for its Result; or Run() for both at once.
//
//   SBX_ASSIGN_OR_RETURN(PolicyBuilder builder,
//                        PolicyBuilder::FromTextFile(path));
//   SBX_ASSIGN_OR_RETURN(Policy policy, builder.Build());
//   Command command{.argv = {"/bin/echo", "hello"}, .inherit_stdio = true};
//   SBX_ASSIGN_OR_RETURN(proto::Result result, Run(policy, command));
//   if (result.status() == proto::Result::VIOLATION) {
//     // "forbidden: openat(AT_FDCWD, \"/etc/shadow\", O_RDONLY)"
//     std::fprintf(stderr, "forbidden: %s\n",
//                  result.violation().decoded().c_str());
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
  friend class InputSandbox;
  friend class PrewarmPool;
  explicit Sandbox(std::unique_ptr<Impl> impl);

  // PrewarmPool's parts (sandbox/prewarm.h): a sandbox set up up to its
  // command, and that command. LaunchPrewarmed returns Unavailable if
  // the sandbox ended while it waited.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Sandbox>> SpawnPrewarmed(
      const Policy& policy, bool worker);
  // Whether it is set up and waits for its command, within `timeout`;
  // false once it ended (then Wait() says why).
  bool AwaitPrewarmed(absl::Duration timeout);
  [[nodiscard]] absl::Status LaunchPrewarmed(const Command& command);

  // InputSandbox's spawn (sandbox/input_worker.h): a policy violation by a
  // process other than the one that installed the filter (the template)
  // kills only that process and is kept for TakeProcessViolations(); the
  // sandbox goes on. A violation by the template ends the sandbox as usual.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Sandbox>> SpawnTemplate(
      const Policy& policy, const Command& command);
  // The violations kept since the last call, oldest first (the first 16;
  // each one killed its caller, so more take a tree of forked processes).
  std::vector<proto::Violation> TakeProcessViolations();

  std::unique_ptr<Impl> impl_;
};

// Spawn + Wait.
[[nodiscard]] absl::StatusOr<proto::Result> Run(const Policy& policy,
                                                const Command& command);

// What RunCapturingOutput feeds the sandboxee, and how much of its output
// it keeps.
struct CaptureOptions {
  // The sandboxee's stdin: these bytes, then end of file. They sit in a
  // sealed memfd, so the host never blocks writing them, whether or not the
  // sandboxee reads.
  std::string stdin_data = {};
  // Kept of each of stdout and stderr. The sandboxee's output beyond it is
  // read and discarded (and counted), so the sandboxee is never stuck on a
  // full pipe and the host's memory stays bounded.
  size_t max_output_bytes = 16 << 20;
};

struct CapturedRun {
  proto::Result result;
  std::string stdout_data;
  std::string stderr_data;
  // Bytes written beyond max_output_bytes, not kept.
  uint64_t stdout_discarded = 0;
  uint64_t stderr_discarded = 0;
};

// Spawn + Wait with stdin fed from `options.stdin_data` and stdout and
// stderr captured, in place of the command's own descriptors 0, 1 and 2
// (inherit_stdio and mappings for them are ignored). Reading stops when the
// sandbox has ended: output that a process left behind the sandbox's end
// still writes (only possible without a pid namespace) is not waited for.
//
//   SBX_ASSIGN_OR_RETURN(CapturedRun run,
//                        RunCapturingOutput(policy, {.argv = {"/bin/cat"}},
//                                           {.stdin_data = "hello"}));
//   // run.stdout_data == "hello"
[[nodiscard]] absl::StatusOr<CapturedRun> RunCapturingOutput(
    const Policy& policy, const Command& command,
    const CaptureOptions& options = CaptureOptions(),
    SpawnMode mode = SpawnMode::kForkServer);

}  // namespace sandbox

#endif  // SANDBOX_SANDBOX_H_
