#include "sandbox/worker.h"

#include <dirent.h>
#include <sys/socket.h>

#include <map>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/fork_server.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

// The registered workers, added to by RegisterWorker() in the host (any
// thread) until InitForkServer() starts the zygote.
absl::Mutex registry_mu(absl::kConstInit);
std::map<std::string, WorkerFunction>& Registry()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(registry_mu) {
  static auto* registry = new std::map<std::string, WorkerFunction>();
  return *registry;
}

// Reads the registry without the lock, in the zygote and its workers only:
// they are single-threaded, and the zygote's main() never gets past
// InitForkServer(), so nothing registers there any more; and a worker may
// already run under its seccomp filter, which a lock's slow path (futex,
// Abseil's deadlock detection) could break.
const WorkerFunction* FindWorkerInZygote(const std::string& name)
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : &it->second;
}

// Threads of this process, from /proc/self/task.
int CountThreads() {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int count = 0;
  while (struct dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

// Clones of a threaded process may find a lock held by a thread that is
// not there.
absl::Status SingleThreaded() {
  if (const int threads = CountThreads(); threads > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("InitForkServer: this process already has ", threads,
                     " threads; call it from main() before starting any"));
  }
  return absl::OkStatus();
}

bool HasRegisteredWorker(const std::string& name) {
  return FindWorkerInZygote(name) != nullptr;
}

int RunRegisteredWorker(const char* name) {
  const WorkerFunction* worker = FindWorkerInZygote(name);
  if (worker == nullptr) return 127;
  // The host made it SOCK_STREAM; no probe the filter might refuse.
  Comms comms(UniqueFd(kWorkerCommsFd), SOCK_STREAM);
  return (*worker)(comms);
}

}  // namespace

static_assert(std::string_view(kZygoteArgv0) ==
              std::string_view(internal::kZygoteName));

absl::Status RegisterWorker(std::string name, WorkerFunction fn) {
  if (name.empty()) {
    return absl::InvalidArgumentError("RegisterWorker: empty name");
  }
  if (!fn) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterWorker('", name, "'): no function"));
  }
  if (internal::ZygoteForkServer() != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "RegisterWorker('", name,
        "'): InitForkServer() already started the zygote, which knows only "
        "the workers registered before it; register every worker first"));
  }
  absl::MutexLock lock(&registry_mu);
  if (!Registry().emplace(name, std::move(fn)).second) {
    return absl::AlreadyExistsError(
        absl::StrCat("RegisterWorker('", name, "'): registered twice"));
  }
  return absl::OkStatus();
}

absl::Status InitForkServer(int argc, char** argv) {
  if (internal::StartedAsZygote(argc, argv)) {
    // The zygote: the host's InitForkServer() exec'd this binary again and
    // main() ran up to here. Serves until the host goes; returns only if
    // the library did not start this process.
    internal::SetWorkerRegistry({HasRegisteredWorker, RunRegisteredWorker});
    return internal::RunZygote(SingleThreaded());
  }
  if (internal::ZygoteForkServer() != nullptr) {
    return absl::FailedPreconditionError("InitForkServer: already called");
  }
  SBX_RETURN_IF_ERROR(SingleThreaded());
  // The host knows the zygote's workers too (a prewarmed worker's name is
  // checked here, before it is sent).
  internal::SetWorkerRegistry({HasRegisteredWorker, RunRegisteredWorker});
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<internal::ForkServerClient> zygote,
                       internal::ForkServerClient::StartZygote());
  internal::SetZygoteForkServer(std::move(zygote));
  return absl::OkStatus();
}

absl::Status LockDown() {
  // A zygote worker: the filter is in our memory.
  if (internal::LockDownDeferred() == 0) return absl::OkStatus();
  if (errno != EALREADY) {
    return ErrnoStatus("LockDown: seccomp(SECCOMP_SET_MODE_FILTER)");
  }
  // An exec'd program: the sandbox left the filter at descriptors named in
  // the environment.
  const char* where = getenv(internal::kLockDownEnv);
  if (where == nullptr) {
    return absl::FailedPreconditionError(
        "LockDown: nothing to lock down (not a sandbox with "
        "seccomp.defer_until_lockdown, or already locked)");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(where, ',');
  int sync_fd = -1;
  int filter_fd = -1;
  int notify = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &sync_fd) ||
      !absl::SimpleAtoi(parts[1], &filter_fd) ||
      !absl::SimpleAtoi(parts[2], &notify)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "LockDown: malformed ", internal::kLockDownEnv, "=", where));
  }
  unsetenv(internal::kLockDownEnv);
  if (internal::LockDownExec(sync_fd, filter_fd, notify != 0) != 0) {
    return ErrnoStatus("LockDown: installing the deferred filter");
  }
  return absl::OkStatus();
}

}  // namespace sandbox
