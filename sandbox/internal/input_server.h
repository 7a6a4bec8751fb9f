// The template's side of an InputSandbox (sandbox/input_worker.h): receives
// the shared region and the configuration, then forks one child per input,
// waits for it under the input timeout, sweeps what it left behind and
// reports. Also the wire format both sides speak over Comms. Internal to
// the library.
//
// Protocol, after the sandbox starts:
//   host -> template   SendRegion(region), SendBytes(InputConfig)
//   template -> host   SendBytes(InputReply{sequence 0, kReady})
//   then per input:
//   host               copies the input to region[0, size)
//   host -> template   SendBytes(InputRequest{sequence, size})
//   template -> host   SendBytes(InputReply{sequence, outcome, value,
//                      output_size}); the output is at
//                      region[input_capacity, + output_size)

#ifndef SANDBOX_INTERNAL_INPUT_SERVER_H_
#define SANDBOX_INTERNAL_INPUT_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "sandbox/comms.h"

namespace sandbox::internal {

inline constexpr uint32_t kInputConfigMagic = 0x4e505553;  // "SUPN"

// Set in InputConfig::flags.
inline constexpr uint32_t kInputCleanTmp = 1;
// The policy allows sched_getaffinity and sched_setaffinity: the template
// stays on one CPU, and each input takes back the CPUs it had before it
// runs. A fork write-
// protects the template's memory, and the kernel then flushes the TLB of
// every CPU its memory was used on (an IPI each, costly in a VM): on one
// CPU, that is a local flush (measured: the round trip about 45% shorter).
inline constexpr uint32_t kInputPinTemplate = 2;

struct InputConfig {
  uint32_t magic;
  uint32_t flags;
  // Region layout: the input at [0, input_capacity), the output at
  // [input_capacity, input_capacity + output_capacity). Both multiples of
  // the page size.
  uint64_t input_capacity;
  uint64_t output_capacity;
  uint64_t timeout_ns;
};

struct InputRequest {
  uint64_t sequence;
  uint64_t size;
};

enum class InputReplyKind : uint32_t {
  kReady = 1,
  // value: the exit code.
  kExited = 2,
  // value: the signal.
  kSignaled = 3,
  kTimedOut = 4,
  // A C++ allocation failed in the input (the new_handler ran).
  kOutOfMemory = 5,
  // The template cannot serve (value: an absl::StatusCode); a SendString
  // with the message follows, then the template ends.
  kFailed = 6,
};

// The longest failure message a template sends (ReportInputServerFailure).
inline constexpr size_t kMaxFailureMessage = 1024;

// Set in InputReply::flags.
inline constexpr uint32_t kInputTmpNotEmptied = 1;

struct InputReply {
  uint64_t sequence;
  uint32_t kind;
  int32_t value;
  uint64_t output_size;
  uint32_t flags;
  uint32_t reserved;
};

// The environment variable that tells a program started by an InputSandbox
// (exec style) the descriptor of its channel.
inline constexpr char kInputCommsEnv[] = "SANDBOX_INPUTS";

struct InputServerSetup {
  SharedRegion region;
  InputConfig config = {};
};

// Receives the region and the configuration (the host's, trusted here) and
// checks that they fit together.
[[nodiscard]] absl::StatusOr<InputServerSetup> ReceiveInputSetup(Comms& comms);

// Reports ready and serves inputs with `fn` until the host goes (returns
// its Unavailable) or a step of the template fails (returns it). Call after
// the template locked down.
[[nodiscard]] absl::Status ServeInputsOn(
    Comms& comms, InputServerSetup& setup,
    const std::function<int(const uint8_t*, size_t)>& fn);

// Tells the host why the template stops serving (best effort: the channel
// may be what failed). Not for Unavailable (the host went).
void ReportInputServerFailure(Comms& comms, const absl::Status& why);

// WriteInputOutput() in an input's process; nothing elsewhere.
void WriteInputOutputInChild(absl::Span<const uint8_t> output);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_INPUT_SERVER_H_
