// Fuzzes the fork server's request decoder: the bytes of one SpawnRequest,
// parsed as RunForkServer parses them, then DecodeSpawnRequest with as many
// descriptors as the request asks for (and one too few), and again by
// policy id alone, as the host's next request would come. It builds the
// policy the request carries and prepares the spawn, but clones nothing.

#include <fcntl.h>
#include <linux/filter.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/stubs/logging.h"
#include "sandbox/fork_server.pb.h"
#include "sandbox/internal/fork_server.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/worker.h"

namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "fork_server_request_fuzzer: %s\n", what);
  abort();
}

// What every successfully decoded request must satisfy before it is handed
// to the clone.
void CheckDecoded(const sandbox::internal::DecodedSpawnRequest& decoded,
                  const sandbox::proto::SpawnRequest& request) {
  const sandbox::internal::LaunchRequest& launch = decoded.launch;
  if (launch.policy == nullptr || launch.command != &decoded.command) {
    Die("decoded request without a policy or its command");
  }
  if (request.has_cgroup_fd() != (launch.cgroup_fd >= 0)) {
    Die("cgroup fd does not match the request");
  }
  // The first step of the pipeline the server runs next.
  absl::StatusOr<std::unique_ptr<sandbox::internal::PreparedSpawn>> prepared =
      sandbox::internal::PrepareSpawn(launch);
  if (!prepared.ok() || (*prepared)->early_failure.has_value()) return;
  const sandbox::internal::ChildPlan& plan = (*prepared)->plan;
  if (plan.fd_count > 64) Die("more than 64 descriptors for the sandbox");
  for (size_t i = 0; i < plan.fd_count; ++i) {
    if (plan.fd_targets[i] < 0 || plan.fd_targets[i] >= plan.bootstrap_fd) {
      Die("a sandbox descriptor at or above the bootstrap fd");
    }
  }
  if (plan.filter == nullptr ||
      plan.filter->len != sandbox::internal::StateOf(*launch.policy)
                              .seccomp.instructions.size()) {
    Die("the filter the child installs is not the policy's");
  }
  if (plan.worker_entry == nullptr &&
      (plan.argv == nullptr || plan.argv[0] == nullptr)) {
    Die("neither a worker nor a program");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Quiet: protobuf logs every string field that is not UTF-8.
  google::protobuf::SetLogHandler(nullptr);
  // A registered worker, so that requests naming it get past the check.
  const absl::Status registered =
      sandbox::RegisterWorker("echo", [](sandbox::Comms&) { return 0; });
  if (!registered.ok()) Die("cannot register the echo worker");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sandbox::internal::DecodedSpawnRequest;
  using sandbox::internal::DecodeSpawnRequest;
  using sandbox::internal::ForkServerPolicies;

  sandbox::proto::SpawnRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  const size_t expected =
      1 + request.fd_targets_size() + (request.has_cgroup_fd() ? 1 : 0);
  // SCM_MAX_FD: the socket cannot carry more.
  if (expected > 253) return 0;
  static const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) Die("cannot open /dev/null");
  const std::vector<int> fds(expected, null_fd);

  ForkServerPolicies policies;
  const absl::Span<const int> too_few(fds.data(), fds.size() - 1);
  if (DecodeSpawnRequest(request, too_few, policies).ok()) {
    Die("accepted a request with too few descriptors");
  }
  absl::StatusOr<std::unique_ptr<DecodedSpawnRequest>> decoded =
      DecodeSpawnRequest(request, fds, policies);
  if (!decoded.ok()) return 0;
  CheckDecoded(**decoded, request);

  // The host's next request for the same policy names it by id alone.
  request.clear_policy();
  request.clear_seccomp_program();
  absl::StatusOr<std::unique_ptr<DecodedSpawnRequest>> again =
      DecodeSpawnRequest(request, fds, policies);
  if (!again.ok()) Die("refused by id a policy it accepted in full");
  CheckDecoded(**again, request);
  return 0;
}
