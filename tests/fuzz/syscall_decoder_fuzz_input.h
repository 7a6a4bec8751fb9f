// The input format of syscall_decoder_fuzzer, shared with the seed writer
// (fuzz_seeds.cc):
//
//   u16 nr                 the x86-64 system call number
//   u8  pointer mask       bit i set: argument i points into the memory
//                          (kMemoryBase plus its value modulo the memory's
//                          size plus one, so also just past its end)
//   6 x u64 args           the argument registers
//   bytes, to the end      the caller's memory, at kMemoryBase; everything
//                          else is unmapped
//
// Integers are little-endian. A short input is padded with zeros.

#ifndef SANDBOX_TESTS_FUZZ_SYSCALL_DECODER_FUZZ_INPUT_H_
#define SANDBOX_TESTS_FUZZ_SYSCALL_DECODER_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace sandbox::fuzz {

inline constexpr uint64_t kMemoryBase = 0x10000;

struct DecoderInput {
  uint16_t nr = 0;
  uint8_t pointer_mask = 0;
  uint64_t args[6] = {};
  std::string memory;
};

inline constexpr size_t kDecoderHeaderBytes = 2 + 1 + 6 * 8;

inline DecoderInput ParseDecoderInput(const uint8_t* data, size_t size) {
  uint8_t header[kDecoderHeaderBytes] = {};
  memcpy(header, data, std::min(size, sizeof(header)));
  DecoderInput input;
  memcpy(&input.nr, header, 2);
  input.pointer_mask = header[2];
  memcpy(input.args, header + 3, sizeof(input.args));
  if (size > sizeof(header)) {
    input.memory.assign(reinterpret_cast<const char*>(data) + sizeof(header),
                        size - sizeof(header));
  }
  for (int i = 0; i < 6; ++i) {
    if (input.pointer_mask & (1 << i)) {
      input.args[i] = kMemoryBase + input.args[i] % (input.memory.size() + 1);
    }
  }
  return input;
}

// The bytes that ParseDecoderInput reads back as `input` (pointer
// arguments given as offsets into the memory).
inline std::string EncodeDecoderInput(const DecoderInput& input) {
  std::string bytes(kDecoderHeaderBytes, '\0');
  memcpy(bytes.data(), &input.nr, 2);
  bytes[2] = static_cast<char>(input.pointer_mask);
  memcpy(bytes.data() + 3, input.args, sizeof(input.args));
  return bytes + input.memory;
}

}  // namespace sandbox::fuzz

#endif  // SANDBOX_TESTS_FUZZ_SYSCALL_DECODER_FUZZ_INPUT_H_
