// Fuzzes the system call decoder (internal/syscall_decoder.h) as a hostile
// sandboxee drives it: any call, any arguments, pointers into memory of any
// content (strings without a NUL, argv arrays of wild pointers, socket
// addresses of any length) or into none. The line must stay short,
// printable ASCII (a valid proto3 string), and the same for the same input;
// memory is read only where asked, never past what a read was given.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sandbox/internal/syscall_decoder.h"
#include "sandbox/result.pb.h"
#include "tests/fuzz/syscall_decoder_fuzz_input.h"

namespace {

using sandbox::fuzz::kMemoryBase;

[[noreturn]] void Die(const char* what, const std::string& line) {
  fprintf(stderr, "syscall_decoder_fuzzer: %s: %.200s\n", what, line.c_str());
  abort();
}

// The memory of the input at kMemoryBase; counts what is read.
class InputMemory : public sandbox::internal::MemoryReader {
 public:
  explicit InputMemory(const std::string& bytes) : bytes_(bytes) {}

  size_t Read(uint64_t address, char* buffer, size_t size) override {
    ++reads_;
    if (size > 4096) Die("a read larger than any argument needs", "");
    if (address < kMemoryBase || address - kMemoryBase >= bytes_.size()) {
      return 0;
    }
    const size_t offset = address - kMemoryBase;
    const size_t n = std::min(size, bytes_.size() - offset);
    memcpy(buffer, bytes_.data() + offset, n);
    return n;
  }
  int reads() const { return reads_; }

 private:
  const std::string& bytes_;
  int reads_ = 0;
};

void CheckLine(const std::string& line) {
  if (line.empty() || line.size() > 16384) Die("a line of odd length", line);
  for (const char c : line) {
    if (c < 0x20 || c >= 0x7f) Die("a byte that is not printable ASCII", line);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const sandbox::fuzz::DecoderInput input =
      sandbox::fuzz::ParseDecoderInput(data, size);
  InputMemory memory(input.memory);
  const std::string line =
      sandbox::internal::DecodeCall(input.nr, input.args, &memory);
  CheckLine(line);
  // Six arguments of an argv each: a bounded number of reads.
  if (memory.reads() > 6 * 10) Die("too many reads", line);
  InputMemory again(input.memory);
  if (sandbox::internal::DecodeCall(input.nr, input.args, &again) != line) {
    Die("two decodings of the same call differ", line);
  }
  if (sandbox::internal::DecodeCall(input.nr, input.args, nullptr).empty()) {
    Die("no line without memory", line);
  }
  // Every kind, context-free, of every argument.
  for (int kind = 0;
       kind <= static_cast<int>(sandbox::internal::ArgKind::kItimerWhich);
       ++kind) {
    for (uint64_t arg : input.args) {
      CheckLine(sandbox::internal::DecodeArg(
          static_cast<sandbox::internal::ArgKind>(kind), arg));
    }
  }
  sandbox::proto::Violation violation;
  violation.set_decoded(line);
  sandbox::proto::Violation parsed;
  if (!parsed.ParseFromString(violation.SerializeAsString()) ||
      parsed.decoded() != line) {
    Die("the line does not survive the Result's round trip", line);
  }
  return 0;
}
