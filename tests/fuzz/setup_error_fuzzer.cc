// Fuzzes what the host makes of a setup-failure message from the sync
// socket: Sandbox::ReadChildMessages takes a ChildMessage of exactly its
// size, bytes as they came, and DescribeSetupFailure turns it into the
// SetupError of the Result. Any step, any errno, a `what` without its NUL.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/spawn.h"
#include "sandbox/result.pb.h"

namespace {

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "setup_error_fuzzer: %s\n", what);
  abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sandbox::internal::ChildMessage;
  // The bytes the host would read; a short input is padded with 'x' (not
  // NUL), so that an unterminated `what` is the common case.
  ChildMessage message;
  memset(&message, 'x', sizeof(message));
  memcpy(&message, data, std::min(size, sizeof(message)));

  const sandbox::proto::SetupError error =
      sandbox::internal::DescribeSetupFailure(message);
  if (error.step().empty() || error.errno_name().empty()) {
    Die("a SetupError without its step or errno name");
  }
  if (error.errno_value() != message.error) Die("errno_value is not the errno");
  // Everything of `what` and no more: never past the array.
  if (error.message().size() > sizeof(message.what) * 4 + 512) {
    Die("a message longer than `what` and the step and errno can make");
  }
  // It must survive the Result's round trip: proto3 strings are UTF-8.
  sandbox::proto::SetupError parsed;
  if (!parsed.ParseFromString(error.SerializeAsString()) ||
      parsed.message() != error.message()) {
    Die("the SetupError does not parse after serialization (not UTF-8?)");
  }
  return 0;
}
