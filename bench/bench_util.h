// Helpers shared by the benchmarks (sandbox_bench) and the comparison driver
// (spawn_driver): the policies they spawn under, a no-op zygote worker,
// process memory readings, and medians.
//
//   absl::StatusOr<Policy> policy = bench::LoadPolicy(bench::Variant::kFull);
//   absl::StatusOr<int64_t> ns = bench::TimeSpawn(*policy,
//   bench::TrueCommand()); ProcMemory memory = bench::ReadProcMemory(getpid());

#ifndef SANDBOX_BENCH_BENCH_UTIL_H_
#define SANDBOX_BENCH_BENCH_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/policy.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"

namespace sandbox::bench {

// policies/default.textproto of the source tree (the build passes its path).
std::string DefaultPolicyPath();

// What a spawn benchmark sets up. kFull is policies/default.textproto
// without its cgroup caps (limits.memory, pids, cpus): every namespace, the
// tmpfs root and binds, no capabilities, no_new_privs, the default seccomp
// policy. The others take one step away from it (or add one), so that their
// difference to kFull is what that step costs.
enum class Variant {
  kFull,
  // + limits.memory 256M, limits.pids 64: a cgroup per sandbox.
  kFullCgroup,
  // policies/default.textproto as shipped (it caps memory at 1G and pids at
  // 512, best effort): a cgroup per sandbox too.
  kDefaultPolicy,
  // namespaces.net false: the host's network, no new netns, no loopback.
  kNoNet,
  // namespaces.shared_net: one empty network namespace kept by the fork
  // server (root hosts) instead of a new one per sandbox.
  kSharedNet,
  // namespaces.mount false: no new root, no binds, no /proc, no /dev.
  kNoMount,
  // filesystem.proc and filesystem.dev false: no /proc masks, no /dev nodes.
  kNoProcDev,
  // namespaces.pid false: no pid namespace, so no init process either.
  kNoPid,
  // namespaces.program_is_init: a pid namespace without the init process.
  kProgramIsInit,
  // namespaces.user false (root only): no user namespace, no id maps.
  kNoUser,
  // namespaces.ipc / uts / cgroup false.
  kNoIpcUtsCgroup,
  // The seccomp allow-list cut to the 21 calls /bin/true (or a no-op
  // zygote worker) makes.
  kSmallSeccomp,
  // Every namespace off, no mounts, the small filter: what is left is the
  // fork server round trip, clone, capability drop, rlimits, exec and wait.
  kNoIsolation,
};

// Loads the default policy and applies `variant`. Policy ids differ per
// call, so a fork server is sent each loaded policy once.
[[nodiscard]] absl::StatusOr<Policy> LoadPolicy(Variant variant);
[[nodiscard]] absl::StatusOr<PolicyBuilder> LoadPolicyBuilder(Variant variant);

// /bin/true with no stdio inherited.
Command TrueCommand();

// The no-op zygote worker the benchmarks spawn ("bench_noop"); registered by
// RegisterNoopWorker(), which main() calls before InitForkServer().
inline constexpr char kNoopWorker[] = "bench_noop";
void RegisterNoopWorker();
Command NoopWorkerCommand();

// Spawns `command` under `policy`, waits, and checks that it exited 0.
// Returns the wall time in nanoseconds, or why it did not work (a failed
// Status, or a Result that is not OK/0, described). With `result`, also the
// sandbox's Result.
[[nodiscard]] absl::StatusOr<int64_t> TimeSpawn(
    const Policy& policy, const Command& command,
    SpawnMode mode = SpawnMode::kForkServer, proto::Result* result = nullptr);

// Memory of a process from /proc/<pid>/status, in bytes (0 if missing).
struct ProcMemory {
  uint64_t vm_hwm = 0;  // peak resident set
  uint64_t vm_rss = 0;
  uint64_t rss_anon = 0;
  uint64_t rss_file = 0;
  uint64_t rss_shmem = 0;
  uint64_t pss = 0;  // proportional set size, from smaps_rollup
};
ProcMemory ReadProcMemory(pid_t pid);

// Monotonic clock in nanoseconds.
int64_t NowNs();

// The q-quantile (0..1) of `values` (copied and sorted); 0 for none.
double Quantile(std::vector<double> values, double q);

}  // namespace sandbox::bench

#endif  // SANDBOX_BENCH_BENCH_UTIL_H_
