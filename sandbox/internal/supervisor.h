// Supervisor: one thread per host process that watches every live sandbox
// (its pidfd, its sync socket, its seccomp notification fd and its
// wall-clock deadline), so that a violation is reported and killed, and a
// deadline enforced, whether or not the host is inside Sandbox::Wait() —
// a host blocked reading the sandbox's Comms must not hang on a sandboxee
// blocked in a notification. Internal to the library.

#ifndef SANDBOX_INTERNAL_SUPERVISOR_H_
#define SANDBOX_INTERNAL_SUPERVISOR_H_

#include <poll.h>

#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sandbox/fd.h"

namespace sandbox::internal {

// What the supervisor needs from a sandbox. Both methods run on the
// supervisor's thread with its lock held (which is what lets Unregister()
// promise that Service() is over), so they must not Register() or
// Unregister() anything.
class Supervised {
 public:
  virtual ~Supervised() = default;
  // Appends the descriptors to watch; returns the deadline (or
  // InfiniteFuture()).
  virtual absl::Time Watch(std::vector<struct pollfd>& fds) = 0;
  // Handles whatever is ready (never blocks for long).
  virtual void Service() = 0;
};

class Supervisor {
 public:
  // The process's supervisor, started on first use (and anew in a fork of
  // the host, where the thread does not exist).
  static Supervisor& Get();

  void Register(Supervised* sandbox) ABSL_LOCKS_EXCLUDED(mu_);
  // After it returns, Service() is not running and will not run again for
  // `sandbox`.
  void Unregister(Supervised* sandbox) ABSL_LOCKS_EXCLUDED(mu_);
  // Re-reads the descriptors and deadlines (a new fd, a kill).
  void Wake();

 private:
  Supervisor();
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::vector<Supervised*> sandboxes_ ABSL_GUARDED_BY(mu_);
  // An eventfd; set in the constructor, never changed.
  const UniqueFd wake_;
};

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_SUPERVISOR_H_
