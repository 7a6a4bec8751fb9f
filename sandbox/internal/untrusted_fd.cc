#include "sandbox/internal/untrusted_fd.h"

#include <sys/socket.h>
#include <unistd.h>

#include <deque>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sandbox::internal {
namespace {

class Closer {
 public:
  // The process's closer; a fork of the host makes its own (the thread
  // does not exist there), leaking the parent's copy.
  static Closer& Get() {
    static absl::Mutex mu(absl::kConstInit);
    static Closer* closer ABSL_GUARDED_BY(mu) = nullptr;
    static pid_t owner ABSL_GUARDED_BY(mu) = -1;
    absl::MutexLock lock(&mu);
    if (closer == nullptr || owner != getpid()) {
      closer = new Closer();
      owner = getpid();
    }
    return *closer;
  }

  void Add(int fd) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(fd);
  }

  size_t pending() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return queue_.size() + (busy_ ? 1 : 0);
  }

 private:
  Closer() {
    std::thread([this] { Loop(); }).detach();
  }

  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty();
  }

  void Loop() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      int fd;
      {
        absl::MutexLock lock(&mu_);
        busy_ = false;
        mu_.Await(absl::Condition(this, &Closer::HasWork));
        fd = queue_.front();
        queue_.pop_front();
        busy_ = true;
      }
      // An abortive close (RST) for a TCP socket: never waits for unsent
      // data. Harmless on other sockets; ENOTSOCK on anything else.
      const struct linger abort_on_close = {1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close,
                 sizeof(abort_on_close));
      close(fd);
    }
  }

  absl::Mutex mu_;
  std::deque<int> queue_ ABSL_GUARDED_BY(mu_);
  bool busy_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

void CloseUntrusted(UniqueFd fd) {
  if (!fd) return;
  Closer::Get().Add(fd.release());
}

size_t PendingUntrustedCloses() { return Closer::Get().pending(); }

}  // namespace sandbox::internal
