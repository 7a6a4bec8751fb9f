// The fork server: a small single-threaded process that clones sandboxed
// children on the host's request, so that the host pays for a clone of a
// small process rather than of itself, and can be multi-threaded. Internal
// to the library; Sandbox::Spawn uses it.
//
// Two kinds, one protocol (sandbox/fork_server.proto over a SOCK_SEQPACKET
// socketpair, fds with SCM_RIGHTS). Not over Comms, the framing the
// sandboxee side uses, because the server needs what Comms does not give:
//  - one request is one datagram carrying all its descriptors (up to 66),
//    so the server checks their count against the request and can never
//    serve one request with another's descriptors; Comms passes one
//    descriptor per message.
//  - every byte of a request is wiped once served (below): the server
//    receives into one buffer allocated at start and wipes exactly what
//    came, where Comms allocates and frees its own buffers per message.
//  - the peer is the trusted host: none of Comms' untrusted-peer machinery
//    (closer thread, memfd checks) belongs in a single-threaded server
//    that every sandbox is cloned from.
// What they share is in fd.h (TakeReceivedFds).
//  - exec: started by fork + exec of the helper binary embedded in the
//    library (from a sealed memfd), so any host, threaded or not, can start
//    one at any time. It inherits no fd but its channel.
//  - zygote: started by InitForkServer() as a fresh exec of the host binary
//    (/proc/self/exe) with argv {kZygoteName} and, as its environment,
//    only kZygoteEnv; its main() runs again up to InitForkServer(), which
//    finds the marker and serves (RunZygote). So it can run the workers the
//    binary registers and holds nothing of the host's runtime state. The
//    host waits for its hello, or for why it could not start.
//
// Every later sandbox is a clone of the server's memory, so the server
// wipes each request (wire bytes, parsed message, command, prepared spawn)
// once served; sandbox/wipe.h.
//
// Children are cloned with CLONE_PARENT: the host is their parent, reaps
// them (no zombies) and gets their rusage; the host receives a pidfd per
// child. Every child dies with the host (PR_SET_PDEATHSIG), and so does
// the fork server. If the server dies, Spawn returns Unavailable and the
// next Spawn starts a new one.

#ifndef SANDBOX_INTERNAL_FORK_SERVER_H_
#define SANDBOX_INTERNAL_FORK_SERVER_H_

#include <sys/types.h>

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sandbox/fd.h"
#include "sandbox/internal/spawn.h"
#include "sandbox/policy.h"

namespace sandbox::proto {
class SpawnRequest;
}  // namespace sandbox::proto

namespace sandbox::internal {

class ForkServerClient {
 public:
  enum class Kind { kExec, kZygote };

  // fork + exec of the embedded helper.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ForkServerClient>>
  StartExec();
  // fork + exec of this binary, which must then reach InitForkServer() in
  // main() (RunZygote). FailedPrecondition naming why if it cannot be
  // exec'd (noexec mount) or ends before; DeadlineExceeded if it does not
  // say hello within kZygoteStartTimeout.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<ForkServerClient>>
  StartZygote();

  // Closes the channel (the server exits) and reaps the server.
  ~ForkServerClient() ABSL_NO_THREAD_SAFETY_ANALYSIS;

  // Has the server run the spawn pipeline (SpawnChild) for `request`, whose
  // descriptors are the host's, and returns its outcome. Unavailable if the
  // server is gone. Safe to call from many threads; requests are served one
  // at a time.
  [[nodiscard]] absl::StatusOr<SpawnOutcome> Spawn(
      const LaunchRequest& request);

  bool alive() const;
  pid_t pid() const { return pid_; }
  // The process that started the server. After a fork() of the host, the
  // child must not use its parent's server: its sandboxes would become the
  // parent's children.
  pid_t owner() const { return owner_; }
  // In such a forked child: closes our copies of the descriptors without
  // touching the server, which belongs to the parent; the destructor then
  // neither signals nor waits. No lock: the thread holding it may not exist
  // in the child.
  void Disown() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  Kind kind() const { return kind_; }

 private:
  ForkServerClient() = default;
  static absl::StatusOr<std::unique_ptr<ForkServerClient>> Start(Kind kind)
      ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // Waits for the zygote's hello; `exec_error_fd` reads execveat's errno,
  // or EOF once it exec'd.
  absl::Status AwaitZygote(int exec_error_fd) ABSL_NO_THREAD_SAFETY_ANALYSIS;
  absl::Status MarkDead(absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Kind kind_ = Kind::kExec;
  pid_t pid_ = -1;
  pid_t owner_ = -1;
  UniqueFd pidfd_;
  mutable absl::Mutex mu_;
  // Requests go one at a time. Start, AwaitZygote, Disown and the
  // destructor use it unlocked: before the client is shared, in a forked
  // child where the lock's holder may not exist, and as its last owner.
  UniqueFd channel_ ABSL_GUARDED_BY(mu_);
  bool dead_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<uint64_t> known_policies_ ABSL_GUARDED_BY(mu_);
};

// The process-wide exec fork server, started on first use and again after
// it died. Returns its error if it cannot be started. Shared: a caller's
// reference keeps the client valid while it spawns, even if another thread
// finds the server dead meanwhile and starts a new one.
[[nodiscard]] absl::StatusOr<std::shared_ptr<ForkServerClient>>
DefaultForkServer();

// The zygote started by InitForkServer(), or nullptr.
ForkServerClient* ZygoteForkServer();
// In a fork of the process that started the zygote: it is the parent's.
bool ZygoteBelongsToAnotherProcess();
void SetZygoteForkServer(std::unique_ptr<ForkServerClient> client);

// The server's loop; returns when the host closes the channel.
void RunForkServer(int channel_fd);

// The registry of zygote workers lives above the fork server (worker.cc),
// which only calls into it through these, set before the zygote serves.
struct WorkerRegistryHooks {
  bool (*has)(const std::string& name) = nullptr;
  // Runs worker `name` on the channel at kWorkerCommsFd; its exit code.
  int (*run)(const char* name) = nullptr;
};
void SetWorkerRegistry(const WorkerRegistryHooks& hooks);
// Whether `name` is a registered worker (false before SetWorkerRegistry).
// The host sets the same hooks as the zygote, whose registry it shares.
bool IsWorkerRegistered(const std::string& name);

// The zygote's argv[0] (and whole argv); worker.h's kZygoteArgv0.
inline constexpr char kZygoteName[] = "sandbox-zygote";

// The policies a fork server has built, by the host's Policy::id().
using ForkServerPolicies = absl::flat_hash_map<uint64_t, Policy>;

// A spawn request as the server decoded it: checked, nothing prepared or
// cloned yet. Wipes the command it holds when destroyed.
struct DecodedSpawnRequest {
  DecodedSpawnRequest() = default;
  DecodedSpawnRequest(const DecodedSpawnRequest&) = delete;
  DecodedSpawnRequest& operator=(const DecodedSpawnRequest&) = delete;
  ~DecodedSpawnRequest();

  Command command;
  // Points at `command` and at the request's policy in the server's cache
  // (valid until the cache changes).
  LaunchRequest launch;
};

// What the server does with a request before the pipeline, apart so that it
// can be tested (and fuzzed) without spawning anything: checks that `fds`
// (what came with SCM_RIGHTS) are as many as `request` says, builds the
// policy it carries (caching it in `policies`) or finds the cached one, and
// checks the command. InvalidArgument for a wrong descriptor count, a
// malformed filter or policy or a bad command; FailedPrecondition for an
// unknown policy id; NotFound for an unregistered worker.
[[nodiscard]] absl::StatusOr<std::unique_ptr<DecodedSpawnRequest>>
DecodeSpawnRequest(const proto::SpawnRequest& request,
                   absl::Span<const int> fds, ForkServerPolicies& policies);

// Sends `data` as one message with `fds` (SCM_RIGHTS, at most 253), never
// raising SIGPIPE; `what` names the socket in errors. ResourceExhausted
// when the kernel refuses the descriptors in flight (ETOOMANYREFS).
[[nodiscard]] absl::Status SendWithFds(int socket, const std::string& data,
                                       const std::vector<int>& fds,
                                       const char* what);

// Descriptor number of the channel in the exec'd helper and zygote.
inline constexpr int kForkServerChannelFd = 3;

// The zygote's marker: "<channel fd>,<host pid>".
inline constexpr char kZygoteEnv[] = "SANDBOX_ZYGOTE";
// How long the host waits for a zygote's main() to reach InitForkServer().
inline constexpr absl::Duration kZygoteStartTimeout = absl::Seconds(30);

// Whether this process is a zygote StartZygote() exec'd: kZygoteEnv set and
// argv {kZygoteName}.
bool StartedAsZygote(int argc, char** argv);
// In such a process: says hello to the host with `readiness` (an error if
// the zygote cannot serve) and, if OK, serves until the host closes the
// channel; never returns then. Exits quietly if the host is already gone.
// FailedPrecondition, returned, if the marker is malformed or names no
// channel: the process was not started by the library.
[[nodiscard]] absl::Status RunZygote(const absl::Status& readiness);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_FORK_SERVER_H_
