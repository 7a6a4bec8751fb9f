// Sandboxes made ahead of their command, as Chrome keeps a spare renderer
// process: each is set up -- its namespaces, ids, root and binds, /proc,
// network, cgroup -- up to the point where only the command's argv, env,
// cwd and descriptors, the dropping of privileges, the seccomp filter and
// the exec remain.
//
//   SBX_ASSIGN_OR_RETURN(std::unique_ptr<PrewarmPool> pool,
//                        Prewarm(policy, 2));
//   // Later, as often as needed:
//   SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
//                        pool->Spawn({.argv = {"/bin/echo", "hello"},
//                                     .inherit_stdio = true}));
//   SBX_ASSIGN_OR_RETURN(proto::Result result, sandbox->Wait());
//
// For zygote workers (PrewarmFor::kWorkers) the rest is the worker's name
// and channel, its descriptors and filter. A spawn from the pool waits
// only for that rest. Prewarming hides the
// setup's cost, it does not remove it: a thread of the pool replaces each
// taken sandbox at once, spending the same CPU ahead of time.
//
// Isolation is that of Sandbox::Spawn with the same policy: every step
// runs, in the same order, and a waiting sandbox runs nothing of the
// sandboxee (it holds no descriptor of the host but its sync socket, and
// its cgroup is made with it). Each serves one command, never two.
// Differences: the wall-clock limit starts at Spawn; the Result's
// usage.setup_us has a "wait_for_command" phase (the time it waited);
// cgroup usage counts the setup, as it does without prewarming.

#ifndef SANDBOX_PREWARM_H_
#define SANDBOX_PREWARM_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sandbox/command.h"
#include "sandbox/policy.h"
#include "sandbox/sandbox.h"

namespace sandbox {

// What a pool's sandboxes run: programs (exec mode, cloned by the fork
// server), or zygote workers (sandbox/worker.h: cloned by the zygote, so
// InitForkServer() in main(); the worker's name and its channel come with
// Spawn).
enum class PrewarmFor { kPrograms, kWorkers };

class PrewarmPool {
 public:
  ~PrewarmPool();
  PrewarmPool(const PrewarmPool&) = delete;
  PrewarmPool& operator=(const PrewarmPool&) = delete;

  // Runs `command` in a ready sandbox of the pool's policy, or, when none
  // is ready, as Sandbox::Spawn does. Returns what Sandbox::Spawn returns
  // for the command (InvalidArgument for a bad one, NotFound for an
  // unregistered worker), and InvalidArgument for a program in a pool of
  // workers or a worker in a pool of programs.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<Sandbox>> Spawn(
      const Command& command) ABSL_LOCKS_EXCLUDED(mu_);

  // Sandboxes ready now.
  int ready() ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until the pool is full again; false if `timeout` passed first.
  bool WaitUntilFull(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  struct Stats {
    // Spawns served by a ready sandbox, and by Sandbox::Spawn.
    uint64_t prewarmed = 0;
    uint64_t cold = 0;
    // Ready sandboxes that had ended when taken (killed from outside, or a
    // setup step failed) and were thrown away.
    uint64_t discarded = 0;
  };
  Stats stats() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend absl::StatusOr<std::unique_ptr<PrewarmPool>> Prewarm(
      const Policy& policy, int count, PrewarmFor what);
  PrewarmPool(const Policy& policy, int count, PrewarmFor what);
  // Makes count_ sandboxes, one after the other.
  [[nodiscard]] absl::Status Fill() ABSL_LOCKS_EXCLUDED(mu_);
  // The refill thread: one new sandbox whenever fewer than count_ are
  // ready, backing off after failures.
  void Refill() ABSL_LOCKS_EXCLUDED(mu_);

  const Policy policy_;
  const size_t count_;
  const bool workers_;
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Sandbox>> ready_ ABSL_GUARDED_BY(mu_);
  // Taken by Spawn, not yet launched: it may come back.
  size_t taking_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Failed makes and discarded sandboxes in a row.
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);
  std::thread refiller_;
};

// Makes a pool of `count` (1..64) sandboxes of `policy` for `what`, set up and
// waiting when this returns (and refilled the same way: ready() counts
// only those). Programs need no InitForkServer(); workers do
// (FailedPrecondition without it).
// FailedPrecondition where the policy would need the Landlock fallback
// (no user namespaces), and what Sandbox::Spawn returns for the policy
// otherwise; FailedPrecondition with the setup error where a sandbox of the
// policy cannot be set up. Destroying the pool kills the sandboxes not
// taken.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PrewarmPool>> Prewarm(
    const Policy& policy, int count, PrewarmFor what = PrewarmFor::kPrograms);

}  // namespace sandbox

#endif  // SANDBOX_PREWARM_H_
