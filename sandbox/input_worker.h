// Many inputs, each in a pristine process, at the cost of a fork: the
// sandbox is set up once (namespaces, mounts, cgroup, filter); inside it a
// template process initialises once and then forks a child per input. The
// host gets one InputResult per input, and the sandbox lives on.
//
// Zygote style, a function of the host binary:
//
//   int FuzzOne(const uint8_t* data, size_t size) {
//     Parse(data, size);  // may crash, loop, allocate without end
//     return 0;           // the child's exit code
//   }
//
//   absl::Status FuzzCorpus(const std::vector<std::string>& corpus) {
//     SBX_ASSIGN_OR_RETURN(sandbox::PolicyBuilder builder,
//                          sandbox::PolicyBuilder::Default());
//     SBX_ASSIGN_OR_RETURN(sandbox::Policy policy, builder.Build());
//     SBX_ASSIGN_OR_RETURN(
//         std::unique_ptr<sandbox::InputSandbox> inputs,
//         sandbox::InputSandbox::Create(policy, {.worker = "parse"}));
//     for (const std::string& input : corpus) {
//       SBX_ASSIGN_OR_RETURN(sandbox::InputResult result, inputs->Run(input));
//       if (result.outcome != sandbox::InputOutcome::kOk) Keep(input);
//     }
//     return absl::OkStatus();
//   }
//
//   int main(int argc, char** argv) {
//     if (!sandbox::RegisterInputWorker("parse", FuzzOne).ok()) return 1;
//     if (!sandbox::InitForkServer(argc, argv).ok()) return 1;
//     return FuzzCorpus(ReadCorpus(argv[1])).ok() ? 0 : 1;
//   }
//
// Exec style, a program that links the library: after its own
// initialisation it calls ServeInputs(FuzzOne), which returns only on an
// error; the host creates the InputSandbox with
// {.argv = {"/path/to/program"}}.
//
// What each input gets. A fork of the template as it was when it started
// serving: what one input does to memory (its own, the heap, globals) the
// next never sees; its input is a private, read-only mapping. The
// descriptors the template opened during its initialisation stay (shared
// with the template: a file offset moves for both), but not its channel to
// the host. Files are not reset: what an input writes in the sandbox's
// tmpfs or a writable bind stays for later inputs, unless
// InputOptions::clean_tmp empties /tmp after each input. After an input's
// process ends, every process it left behind is killed (kill(-1) in the
// sandbox's pid namespace, which is therefore required), and the template
// must not keep other processes of its own.
//
// Outcomes, and whom they come from. A violation of the policy is the
// host's own: the supervisor sees the forbidden call, kills the process
// that made it, and the input ends as kViolation whatever else is said.
// So is kMemoryLimit with a cgroup (the cgroup's OOM-kill counter rose).
// Exit codes, crash signals and per-input timeouts are the template's
// report: it is the input's parent, in the sandbox. The host checks every
// field of that report (known outcome, exit code 0..255, signal 1..64,
// output within the region, the sequence number it sent) and waits for it
// at most InputOptions::timeout plus a second; a template that sends
// anything else, or nothing, ends the sandbox (kSandboxEnded), and the next
// Run() starts a new one. A lying template can mislabel its own inputs,
// never make the host hang, read outside the region, or keep what it sent.
//
// Memory limits. With the policy's limits.memory in a cgroup (root, or a
// delegated cgroup), an input that exceeds it is OOM-killed: kMemoryLimit.
// The OOM killer picks the largest process, the input, not the small
// template. Without a cgroup (limits.cgroup_best_effort falls back to
// RLIMIT_AS) an allocation fails instead: a C++ allocation failure in the
// input ends it as kMemoryLimit (a std::new_handler the input process
// installs); a failed malloc is whatever the input makes of it.
//
// The template's seccomp policy must allow what serving needs, as the
// default policy does: clone (fork, without namespace flags), wait4, kill,
// rt_sigprocmask, rt_sigtimedwait, prctl, mmap, madvise, close, sendmsg,
// recvmsg, poll, exit_group; with clean_tmp also openat, getdents64,
// unlinkat, newfstatat, lseek. A call it lacks is a violation of the
// template, which ends the sandbox; Create() says which.
//
// The policy's limits are the sandbox's, not an input's: memory and pids
// cap the template and the input together; wall_time ends the sandbox (the
// next Run() starts a new one); cpu_time is per process, so the template's
// own grows over the inputs it serves (some 10 µs each) until it too ends
// the sandbox.
//
// CPUs. When the policy allows sched_getaffinity and sched_setaffinity (the
// default policy does), the template stays on the CPU it started serving on
// and gives each input every CPU it had: its forks then flush only that
// CPU's TLB, not every CPU's (about half the round trip in a VM).
//
// The template should be single-threaded when it serves: an input is a
// fork, which holds only the forking thread (locks other threads held stay
// held in it).
//
// The template itself. It is not dumpable once it serves (an input cannot
// read or write its memory through /proc), and it blocks every signal an
// input could send it but SIGKILL and SIGSTOP; an input that kills it ends
// the sandbox (kSandboxEnded, and the next Run() starts a new one).

#ifndef SANDBOX_INPUT_WORKER_H_
#define SANDBOX_INPUT_WORKER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sandbox/command.h"
#include "sandbox/comms.h"
#include "sandbox/policy.h"
#include "sandbox/result.pb.h"

namespace sandbox {

class Sandbox;

// Runs one input; returns the input process's exit code (low 8 bits). Like
// LLVMFuzzerTestOneInput.
using InputFunction = std::function<int(const uint8_t* data, size_t size)>;

// Registers `fn` as zygote worker `name` that serves inputs: InputSandbox
// with Command::worker = name. `init`, if given, runs once in the template
// before it locks down (LockDown()) and serves: open what every input needs
// there. Errors as RegisterWorker().
[[nodiscard]] absl::Status RegisterInputWorker(
    std::string name, InputFunction fn,
    std::function<void()> init = std::function<void()>());

// Exec style: in a program an InputSandbox runs, serves inputs with `fn`
// until the host goes. Call after the program's own initialisation; locks
// the sandbox down first when its policy defers seccomp. Returns only on an
// error (FailedPrecondition when the program was not started by an
// InputSandbox, or the channel's error); the program should then exit.
[[nodiscard]] absl::Status ServeInputs(InputFunction fn);

// In an input's process: hands `output` to the host as
// InputResult::output (cut at InputOptions::max_output_bytes; a later call
// replaces it). No effect outside an input.
void WriteInputOutput(absl::Span<const uint8_t> output);

enum class InputOutcome {
  // The input's process exited; InputResult::exit_code.
  kOk,
  // Killed by a signal (InputResult::signal) that is not one of the below.
  kCrash,
  // It made a call the policy forbids (InputResult::violation); killed.
  kViolation,
  // Still running after InputOptions::timeout; killed.
  kTimeout,
  // It exceeded the sandbox's memory limit.
  kMemoryLimit,
  // The sandbox ended (the template died, stopped answering or broke the
  // protocol; the sandbox's wall time ran out): InputResult::sandbox_result
  // and detail say how. The input may or may not be the cause. The next
  // Run() starts a new sandbox.
  kSandboxEnded,
};

// "ok", "crash", "violation", "timeout", "memory_limit", "sandbox_ended".
const char* InputOutcomeName(InputOutcome outcome);

struct InputResult {
  InputOutcome outcome = InputOutcome::kOk;
  // kOk: the exit code (0..255).
  int exit_code = 0;
  // kCrash: the signal; kTimeout, kMemoryLimit, kViolation: SIGKILL when
  // the template saw it.
  int signal = 0;
  // kViolation: the forbidden call, decoded.
  std::optional<proto::Violation> violation;
  // What the input passed to WriteInputOutput(), copied.
  std::vector<uint8_t> output;
  // From Run() being called to its return.
  absl::Duration wall_time;
  // kSandboxEnded (and a rejected report): what happened, for a person.
  std::string detail;
  // kSandboxEnded: the sandbox's own Result.
  std::optional<proto::Result> sandbox_result;
};

struct InputOptions {
  // Largest input Run() accepts (InvalidArgument beyond it).
  size_t max_input_bytes = size_t{1} << 20;
  // Largest output kept of an input (WriteInputOutput).
  size_t max_output_bytes = size_t{64} << 10;
  // Per input; then the template kills it (kTimeout). The host waits a
  // second more for the template's report, then ends the sandbox.
  absl::Duration timeout = absl::Seconds(5);
  // How long Create() (and a restart) waits for the template to initialise.
  absl::Duration start_timeout = absl::Seconds(30);
  // Empty the sandbox's /tmp after each input (the template removes what
  // it finds there; costs a getdents64 when the input wrote nothing).
  // Without it, files an input wrote there are seen by later inputs.
  bool clean_tmp = false;
};

// The host's side: one sandbox with a template in it. One thread at a time.
class InputSandbox {
 public:
  // Spawns the sandbox for `command` (a worker registered with
  // RegisterInputWorker, or a program that calls ServeInputs) and waits
  // until the template serves. InvalidArgument without a pid namespace in
  // the policy, for zero sizes or timeouts, or a command with comms_fd set
  // (the channel is the library's); Sandbox::Spawn's errors; Internal,
  // naming what the sandbox did, if it ended before it served (a violation
  // of the template names the call), DeadlineExceeded after
  // options.start_timeout.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<InputSandbox>> Create(
      const Policy& policy, const Command& command,
      const InputOptions& options = InputOptions());

  ~InputSandbox();
  InputSandbox(const InputSandbox&) = delete;
  InputSandbox& operator=(const InputSandbox&) = delete;

  // Runs one input in a fresh fork of the template. What the input did is
  // the OK result's outcome. InvalidArgument for an input above
  // max_input_bytes; a restart's error when the last sandbox ended and a
  // new one cannot start.
  [[nodiscard]] absl::StatusOr<InputResult> Run(
      absl::Span<const uint8_t> input);
  [[nodiscard]] absl::StatusOr<InputResult> Run(absl::string_view input) {
    return Run(absl::Span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(input.data()), input.size()));
  }

  // The sandbox serving now (nullptr between an end and the next Run()),
  // e.g. for its pid or cgroup.
  Sandbox* sandbox() { return sandbox_.get(); }
  // Sandboxes started so far (1 + restarts).
  int starts() const { return starts_; }

 private:
  InputSandbox(const Policy& policy, const Command& command,
               const InputOptions& options);
  [[nodiscard]] absl::Status Start();
  // Kills the sandbox and returns its Result (bounded wait).
  proto::Result End(const std::string& why);
  // The cgroup's OOM-kill count, -1 without a memory cgroup.
  int64_t OomKills();

  Policy policy_;
  Command command_;
  InputOptions options_;
  std::unique_ptr<Sandbox> sandbox_;
  SharedRegion region_;
  uint64_t sequence_ = 0;
  int starts_ = 0;
  // memory.events (v2) or memory.oom_control (v1) of the sandbox's cgroup.
  std::string oom_counter_path_;
};

}  // namespace sandbox

#endif  // SANDBOX_INPUT_WORKER_H_
