// The example at the top of sandbox/worker.h, as a program: a zygote worker
// needs a main() of its own. header_examples_test checks that the header
// shows this file from ParsePng() on, word for word, and runs it on a PNG
// and on a text file.
//
//   worker_header_example FILE   prints "OK, exit code 0" for a PNG
//                                ("... 2" for anything else)

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "sandbox/comms.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"
#include "sandbox/status_macros.h"
#include "sandbox/worker.h"

namespace {

// What the example leaves to the reader: reading the file on the host, and
// the "parsing" in the worker (the PNG signature).
std::vector<uint8_t> ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool IsPng(const std::vector<uint8_t>& bytes) {
  static constexpr uint8_t kSignature[] = {0x89, 'P',  'N',  'G',
                                           '\r', '\n', 0x1a, '\n'};
  return bytes.size() >= sizeof(kSignature) &&
         std::equal(std::begin(kSignature), std::end(kSignature),
                    bytes.begin());
}

}  // namespace

// clang-format off
int ParsePng(sandbox::Comms& comms) {
  // Initialise first (open what is needed), then lock down, then read
  // the untrusted input.
  if (!sandbox::LockDown().ok()) return 1;
  absl::StatusOr<std::vector<uint8_t>> input = comms.RecvBytes();
  if (!input.ok()) return 1;
  return IsPng(*input) ? 0 : 2;  // the worker's exit code
}

absl::StatusOr<sandbox::proto::Result> ParseInSandbox(
    const std::vector<uint8_t>& file_contents) {
  SBX_ASSIGN_OR_RETURN(sandbox::PolicyBuilder builder,
                       sandbox::PolicyBuilder::Default());
  // The filter waits for the worker's LockDown().
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(
      true);
  SBX_ASSIGN_OR_RETURN(sandbox::Policy policy, builder.Build());
  sandbox::Command command;
  command.worker = "parse_png";
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<sandbox::Sandbox> worker,
                       sandbox::Sandbox::Spawn(policy, command));
  SBX_RETURN_IF_ERROR(worker->comms()->SendBytes(file_contents));
  return worker->Wait();
}

int main(int argc, char** argv) {
  if (!sandbox::RegisterWorker("parse_png", ParsePng).ok()) return 1;
  // First thing in main(): in the zygote, main() runs again up to here.
  if (!sandbox::InitForkServer(argc, argv).ok()) return 1;
  // Only now read flags, the environment, keys, ...
  if (argc != 2) return 2;
  absl::StatusOr<sandbox::proto::Result> result =
      ParseInSandbox(ReadFile(argv[1]));
  if (!result.ok()) return 1;
  std::printf("%s, exit code %d\n",
              result->Status_Name(result->status()).c_str(),
              result->exit_code());
  return 0;
}
// clang-format on
