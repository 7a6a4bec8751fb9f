// The input format of comms_fuzzer, shared with the seed writer
// (fuzz_seeds.cc), which records real senders in it.
//
//   u8 config                 ConfigBit flags, MaxMessageBytes in bits 3-4
//   u8 op count, op bytes     the receiver's calls, in order (Op)
//   chunks, to the end:       what the peer sends, one sendmsg each
//     u8 FdKind               the descriptor(s) attached
//     [u8 seals, u16 size,    kMemfd only: the memfd's seals (SealBit) and
//      size bytes]            content
//     u16 length, bytes       the bytes sent (one record on SOCK_SEQPACKET)
//
// Integers are little-endian. A truncated input ends early.

#ifndef SANDBOX_TESTS_FUZZ_COMMS_FUZZ_INPUT_H_
#define SANDBOX_TESTS_FUZZ_COMMS_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sandbox::fuzz {

enum ConfigBit : uint8_t {
  kSeqpacket = 1 << 0,
  // The peer stays open once it has sent everything: calls with nothing
  // more to read wait for the (short) receive timeout.
  kPeerStaysOpen = 1 << 1,
  // With the peer closed: no receive timeout (blocking recvmsg) rather
  // than a finite one (non-blocking recvmsg and poll).
  kNoTimeout = 1 << 2,
  // Comms(socket, type) rather than Comms(socket), which asks the socket.
  kTypeGiven = 1 << 5,
};

// Options::max_message_bytes, by bits 3-4 of the config byte.
inline size_t MaxMessageBytes(uint8_t config) {
  static constexpr size_t kSizes[] = {0, 64, 4096, 65536};
  return kSizes[(config >> 3) & 3];
}

// The receiver's calls.
enum class Op : uint8_t {
  kRecvBytes,
  kRecvBuffer,
  kRecvString,
  kRecvProtoResult,
  kRecvProtoPolicy,
  kRecvFd,
  kRecvStatus,
  kRecvRegion,
  // A reply to a peer that may be gone: an error, never SIGPIPE.
  kSendString,
  kCount,
};

enum class FdKind : uint8_t {
  kNone,
  kDevNull,
  // A memfd with the given seals and content.
  kMemfd,
  kPipe,
  kTwoFds,
  // More than Comms takes in one read (internal::kMaxFdsPerRead).
  kFiveFds,
  kSocket,
  // O_PATH of "/": neither mappable nor sealable.
  kPath,
  kCount,
};

// Seals of a kMemfd, applied in one F_ADD_SEALS.
enum SealBit : uint8_t {
  kSealSeal = 1 << 0,
  kSealShrink = 1 << 1,
  kSealGrow = 1 << 2,
  kSealWrite = 1 << 3,
  kSealFutureWrite = 1 << 4,
};

// Appends a little-endian u16 to `out`.
inline void AppendU16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value & 0xff));
  out.push_back(static_cast<char>(value >> 8));
}

}  // namespace sandbox::fuzz

#endif  // SANDBOX_TESTS_FUZZ_COMMS_FUZZ_INPUT_H_
