#include "sandbox/internal/supervisor.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace sandbox::internal {

Supervisor& Supervisor::Get() {
  static absl::Mutex mu(absl::kConstInit);
  static Supervisor* supervisor ABSL_GUARDED_BY(mu) = nullptr;
  static pid_t owner ABSL_GUARDED_BY(mu) = -1;
  absl::MutexLock lock(&mu);
  if (supervisor == nullptr || owner != getpid()) {
    // Never destroyed; a fork of the host leaks its parent's copy, whose
    // thread does not exist there.
    supervisor = new Supervisor();
    owner = getpid();
  }
  return *supervisor;
}

Supervisor::Supervisor() : wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  std::thread([this] { Loop(); }).detach();
}

void Supervisor::Register(Supervised* sandbox) {
  {
    absl::MutexLock lock(&mu_);
    sandboxes_.push_back(sandbox);
  }
  Wake();
}

void Supervisor::Unregister(Supervised* sandbox) {
  absl::MutexLock lock(&mu_);
  sandboxes_.erase(std::remove(sandboxes_.begin(), sandboxes_.end(), sandbox),
                   sandboxes_.end());
}

void Supervisor::Wake() {
  const uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof(one));
}

void Supervisor::Loop() {
  std::vector<struct pollfd> fds;
  // Which sandbox each group of fds belongs to: [begin, end) per entry.
  std::vector<std::pair<Supervised*, std::pair<size_t, size_t>>> owners;
  for (;;) {
    fds.clear();
    owners.clear();
    fds.push_back({wake_.get(), POLLIN, 0});
    absl::Time deadline = absl::InfiniteFuture();
    {
      absl::MutexLock lock(&mu_);
      for (Supervised* sandbox : sandboxes_) {
        const size_t begin = fds.size();
        deadline = std::min(deadline, sandbox->Watch(fds));
        owners.push_back({sandbox, {begin, fds.size()}});
      }
    }
    int timeout_ms = -1;
    if (deadline != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(std::max<int64_t>(
          0, absl::ToInt64Milliseconds(
                 absl::Ceil(deadline - absl::Now(), absl::Milliseconds(1)))));
    }
    const int ready = poll(fds.data(), fds.size(), timeout_ms);
    // ENOMEM, or more entries than RLIMIT_NOFILE: nothing is known about the
    // descriptors, so every sandbox looks for itself (Service() never
    // blocks), and the loop pauses rather than spins.
    const bool poll_failed = ready < 0 && errno != EINTR;
    if (poll_failed) poll(nullptr, 0, 10);
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      (void)!read(wake_.get(), &count, sizeof(count));
    }
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    for (const auto& [sandbox, range] : owners) {
      // Gone since we looked?
      if (std::find(sandboxes_.begin(), sandboxes_.end(), sandbox) ==
          sandboxes_.end()) {
        continue;
      }
      bool due = now >= deadline || poll_failed;
      for (size_t i = range.first; i < range.second; ++i) {
        if (fds[i].revents != 0) due = true;
      }
      if (due) sandbox->Service();
    }
  }
}

}  // namespace sandbox::internal
