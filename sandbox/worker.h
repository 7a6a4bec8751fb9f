// Zygote mode: run a function of the host binary in a sandbox, without
// exec — the cheapest spawn, and the shape of a file-parsing worker.
//
//   int ParsePng(sandbox::Comms& comms) {
//     // Initialise first (open what is needed), then lock down, then read
//     // the untrusted input.
//     if (!sandbox::LockDown().ok()) return 1;
//     absl::StatusOr<std::vector<uint8_t>> input = comms.RecvBytes();
//     if (!input.ok()) return 1;
//     return IsPng(*input) ? 0 : 2;  // the worker's exit code
//   }
//
//   absl::StatusOr<sandbox::proto::Result> ParseInSandbox(
//       const std::vector<uint8_t>& file_contents) {
//     SBX_ASSIGN_OR_RETURN(sandbox::PolicyBuilder builder,
//                          sandbox::PolicyBuilder::Default());
//     // The filter waits for the worker's LockDown().
//     builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(
//         true);
//     SBX_ASSIGN_OR_RETURN(sandbox::Policy policy, builder.Build());
//     sandbox::Command command;
//     command.worker = "parse_png";
//     SBX_ASSIGN_OR_RETURN(std::unique_ptr<sandbox::Sandbox> worker,
//                          sandbox::Sandbox::Spawn(policy, command));
//     SBX_RETURN_IF_ERROR(worker->comms()->SendBytes(file_contents));
//     return worker->Wait();
//   }
//
//   int main(int argc, char** argv) {
//     if (!sandbox::RegisterWorker("parse_png", ParsePng).ok()) return 1;
//     // First thing in main(): in the zygote, main() runs again up to here.
//     if (!sandbox::InitForkServer(argc, argv).ok()) return 1;
//     // Only now read flags, the environment, keys, ...
//     if (argc != 2) return 2;
//     absl::StatusOr<sandbox::proto::Result> result =
//         ParseInSandbox(ReadFile(argv[1]));
//     if (!result.ok()) return 1;
//     std::printf("%s, exit code %d\n",
//                 result->Status_Name(result->status()).c_str(),
//                 result->exit_code());
//     return 0;
//   }
//
// A worker runs with the same isolation as a program in exec mode:
// namespaces, the policy's filesystem, no capabilities, no_new_privs,
// rlimits, and the seccomp filter — installed before the worker is called,
// or, when the policy sets seccomp.defer_until_lockdown, when the worker
// calls LockDown(). Its Comms is the host's Sandbox::comms().
//
// What a worker's memory holds. InitForkServer() starts the zygote as a
// fresh exec of this binary — the very file this process runs, through
// /proc/self/exe — with argv {kZygoteArgv0}, no environment, /dev/null as
// stdio and no descriptor of the host's but its channel. Its main() runs
// again up to InitForkServer(), where it becomes the zygote and never
// returns; every worker is a clone of it. So a worker holds the binary's
// static data and whatever main() did before InitForkServer() (the
// RegisterWorker() calls), and nothing of the host's runtime state: not its
// argv or environment, not what it read, computed or allocated. Its
// environment is empty (Command::env and the policy's env apply to
// programs only) and the sandbox's /proc/1/cmdline reads "sandbox-zygote".
// Nor does it hold another sandbox's request: the zygote wipes each one
// (argv, env, cwd) once served. What workers do share is configuration:
// the zygote caches the policies it was sent (without their env), so a
// worker's memory holds those of earlier sandboxes.
//
// Hence: call InitForkServer() first thing in main(), on every path (the
// zygote's argv is {kZygoteArgv0}: a main() that calls it only for some
// arguments must call it for that one too), before reading secrets, flags
// or files. In the zygote those are not there, and what main() does before
// the call runs twice.

#ifndef SANDBOX_WORKER_H_
#define SANDBOX_WORKER_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "sandbox/comms.h"

namespace sandbox {

// The descriptor of a zygote worker's channel to the host.
inline constexpr int kWorkerCommsFd = 3;

// The zygote's argv[0] (and its whole argv).
inline constexpr char kZygoteArgv0[] = "sandbox-zygote";

// A worker returns its exit code.
using WorkerFunction = std::function<int(Comms&)>;

// Registers `fn` as worker `name`. Call before InitForkServer(): the zygote
// knows only the workers registered when it started. Returns
// FailedPrecondition once InitForkServer() has started the zygote,
// InvalidArgument for an empty name or function, AlreadyExists for a name
// registered before.
[[nodiscard]] absl::Status RegisterWorker(std::string name, WorkerFunction fn);

// Starts the zygote fork server: this binary exec'd again, as described
// above, and waits until its main() reaches InitForkServer() in turn. Must
// be called from main() before any thread is started. In the zygote itself
// it serves and never returns.
//
// FailedPrecondition if called twice, if this process already has more
// than one thread, if the binary cannot be exec'd again (the message names
// the errno: a noexec mount, no /proc), or if the zygote's main() ends
// before reaching InitForkServer(); DeadlineExceeded if it has not reached
// it within 30 s. A deleted or replaced binary is fine: the zygote runs
// the file this process runs. `argc` and `argv` tell the zygote from the
// host.
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

}  // namespace sandbox

#endif  // SANDBOX_WORKER_H_
