#include "sandbox/prewarm.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sandbox/result.pb.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

// How long a sandbox may take to be set up before it counts as failed.
constexpr absl::Duration kSetupTimeout = absl::Seconds(30);

}  // namespace

absl::StatusOr<std::unique_ptr<PrewarmPool>> Prewarm(const Policy& policy,
                                                     int count,
                                                     PrewarmFor what) {
  if (count < 1 || count > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("Prewarm: count ", count, " is outside 1..64"));
  }
  std::unique_ptr<PrewarmPool> pool(new PrewarmPool(policy, count, what));
  // Filled here, so that what the policy cannot do is said now.
  SBX_RETURN_IF_ERROR(pool->Fill());
  pool->refiller_ = std::thread([p = pool.get()] { p->Refill(); });
  return pool;
}

PrewarmPool::PrewarmPool(const Policy& policy, int count, PrewarmFor what)
    : policy_(policy),
      count_(static_cast<size_t>(count)),
      workers_(what == PrewarmFor::kWorkers) {}

absl::Status PrewarmPool::Fill() {
  for (size_t i = 0; i < count_; ++i) {
    SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                         Sandbox::SpawnPrewarmed(policy_, workers_));
    if (!sandbox->AwaitPrewarmed(kSetupTimeout)) {
      absl::StatusOr<std::optional<proto::Result>> ended =
          sandbox->WaitFor(absl::ZeroDuration());
      if (!ended.ok()) return ended.status();
      if (!ended->has_value()) {
        return absl::DeadlineExceededError(
            absl::StrCat("Prewarm: a sandbox was not set up within ",
                         absl::FormatDuration(kSetupTimeout)));
      }
      const proto::Result& result = **ended;
      return absl::FailedPreconditionError(absl::StrCat(
          "Prewarm: a sandbox of this policy ended during its setup: ",
          result.has_setup_error() ? result.setup_error().message()
                                   : result.ShortDebugString()));
    }
    absl::MutexLock lock(&mu_);
    ready_.push_back(std::move(sandbox));
  }
  return absl::OkStatus();
}

PrewarmPool::~PrewarmPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (refiller_.joinable()) refiller_.join();
  // Each kills and reaps its waiting child.
  absl::MutexLock lock(&mu_);
  ready_.clear();
}

void PrewarmPool::Refill() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      auto wanted = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || ready_.size() + taking_ < count_;
      };
      mu_.Await(absl::Condition(&wanted));
      if (stopping_) return;
      if (failures_ > 0) {
        // Whatever fails keeps failing for a while (a missing bind source,
        // exhausted namespaces): at most one attempt per backoff.
        const absl::Duration backoff =
            std::min(absl::Seconds(1),
                     absl::Milliseconds(10) * (1 << std::min(failures_, 7)));
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
        if (stopping_) return;
      }
    }
    absl::StatusOr<std::unique_ptr<Sandbox>> made =
        Sandbox::SpawnPrewarmed(policy_, workers_);
    // Ready means set up: only its command is missing.
    if (made.ok() && !(*made)->AwaitPrewarmed(kSetupTimeout)) {
      made = absl::UnavailableError("ended or stuck in its setup");
    }
    absl::MutexLock lock(&mu_);
    if (!made.ok()) {
      ++failures_;
      continue;
    }
    ready_.push_back(*std::move(made));
  }
}

absl::StatusOr<std::unique_ptr<Sandbox>> PrewarmPool::Spawn(
    const Command& command) {
  if (workers_ && command.worker.empty()) {
    return absl::InvalidArgumentError(
        "command.argv: this pool's sandboxes run zygote workers "
        "(command.worker), not programs");
  }
  if (!workers_ && !command.worker.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("command.worker '", command.worker,
                     "': this pool's sandboxes run programs (Prewarm with "
                     "PrewarmFor::kWorkers for zygote workers)"));
  }
  for (;;) {
    std::unique_ptr<Sandbox> sandbox;
    {
      absl::MutexLock lock(&mu_);
      if (ready_.empty()) break;
      sandbox = std::move(ready_.front());
      ready_.pop_front();
      ++taking_;
    }
    const absl::Status launched = sandbox->LaunchPrewarmed(command);
    absl::MutexLock lock(&mu_);
    --taking_;
    if (launched.ok()) {
      ++stats_.prewarmed;
      failures_ = 0;
      return sandbox;
    }
    if (absl::IsUnavailable(launched)) {
      // It ended while it waited, or took no command: of no use.
      ++stats_.discarded;
      ++failures_;
      continue;
    }
    // Nothing was sent: the sandbox still waits, and goes back.
    ready_.push_front(std::move(sandbox));
    // Larger than a prewarmed sandbox takes: spawned the usual way.
    if (absl::IsResourceExhausted(launched)) break;
    return launched;
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.cold;
  }
  return Sandbox::Spawn(policy_, command);
}

int PrewarmPool::ready() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(ready_.size());
}

bool PrewarmPool::WaitUntilFull(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return ready_.size() >= count_;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&full), timeout);
}

PrewarmPool::Stats PrewarmPool::stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace sandbox
