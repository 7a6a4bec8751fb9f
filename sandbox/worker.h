// Zygote mode: run a function of the host binary in a sandbox, without
// exec — the cheapest spawn, and the shape of a file-parsing worker.
//
//   int ParsePng(sandbox::Comms& comms) {
//     // Initialise first (open what is needed), then lock down, then read
//     // the untrusted input.
//     if (!sandbox::LockDown().ok()) return 1;
//     absl::StatusOr<std::vector<uint8_t>> input = comms.RecvBytes();
//     ...
//     return 0;  // the worker's exit code
//   }
//
//   int main(int argc, char** argv) {
//     sandbox::RegisterWorker("parse_png", ParsePng);
//     // Before any thread exists: forks the zygote.
//     if (absl::Status s = sandbox::InitForkServer(argc, argv); !s.ok()) ...
//     ...
//     sandbox::Command command;
//     command.worker = "parse_png";
//     auto sandbox = sandbox::Sandbox::Spawn(policy, command);
//     (*sandbox)->comms()->SendBytes(file_contents);
//
// A worker runs with the same isolation as a program in exec mode:
// namespaces, the policy's filesystem, no capabilities, no_new_privs,
// rlimits, and the seccomp filter — installed before the worker is called,
// or, when the policy sets seccomp.defer_until_lockdown, when the worker
// calls LockDown(). Its Comms is the host's Sandbox::comms().

#ifndef SANDBOX_WORKER_H_
#define SANDBOX_WORKER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "sandbox/comms.h"

namespace sandbox {

// The descriptor of a zygote worker's channel to the host.
inline constexpr int kWorkerCommsFd = 3;

// A worker returns its exit code.
using WorkerFunction = std::function<int(Comms&)>;

// Registers `fn` as worker `name`. Call before InitForkServer(); workers
// registered later are unknown to the zygote.
void RegisterWorker(std::string name, WorkerFunction fn);

// Starts the zygote fork server as a fork of this process. Must be called
// from main() before any thread is started (the zygote is a copy of the
// process as it is now). FailedPrecondition if called twice or if this
// process already has more than one thread.
[[nodiscard]] absl::Status InitForkServer(int argc, char** argv);

// In a sandboxee whose policy sets seccomp.defer_until_lockdown — a zygote
// worker, or a program in exec mode that links this library — installs the
// seccomp filter now. Until then the sandboxee runs without it (still in
// its namespaces, without capabilities, with no_new_privs). An exec'd
// program finds its filter in a sealed memfd named by the environment
// variable SANDBOX_LOCKDOWN. The policy must allow close (the listener is
// closed right after it is handed to the supervisor). FailedPrecondition if
// there is nothing to lock down (not a deferred sandbox, or already
// locked).
[[nodiscard]] absl::Status LockDown();

namespace internal {
bool HasRegisteredWorker(const std::string& name);
// Runs worker `name` on the channel at kWorkerCommsFd; returns its exit code.
int RunRegisteredWorker(const char* name);
}  // namespace internal

}  // namespace sandbox

#endif  // SANDBOX_WORKER_H_
