// What sandbox-run --afl's bridge (sandbox/afl_bridge.cc) and its shim in
// the sandbox (afl_shim_main.cc) agree on: AFL++ 4.04c's fork-server
// constants, where the shim's descriptors sit, and whole reads and writes
// of afl-fuzz's pipes. Header-only and libc-only, for the static shim.

#ifndef SANDBOX_INTERNAL_AFL_PROTOCOL_H_
#define SANDBOX_INTERNAL_AFL_PROTOCOL_H_

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

namespace sandbox::internal::afl {

// AFL++'s fork-server descriptors: control (the fork server reads), status
// (it writes).
constexpr int kControlFd = 198;
constexpr int kStatusFd = 199;
// The shim's SOCK_SEQPACKET channel to the bridge, for its one record.
constexpr int kShimChannelFd = 3;
// The largest map bridged.
constexpr size_t kMaxMapBytes = size_t{1} << 30;
// The largest shared-memory test case segment bridged (__AFL_SHM_FUZZ_ID:
// a 4-byte length, then MAX_FILE = 1 MiB of data in AFL++ 4.04c).
constexpr size_t kMaxFuzzBytes = (size_t{1} << 20) + 4096;
// The shim's record: where its segments are in its memory.
struct ShimRecord {
  uint64_t map_address;
  uint64_t fuzz_address;  // 0 without a test case segment
};

// FS_OPT_* of AFL++ 4.04c (include/types.h): the first word a fork server
// sends says what it wants.
constexpr uint32_t kOptEnabled = 0x80000001;
constexpr uint32_t kOptMapSize = 0x40000000;
constexpr uint32_t kOptAutodict = 0x10000000;
constexpr uint32_t kOptSharedMemFuzz = 0x01000000;
constexpr uint32_t kOptError = 0xf800008f;

// The bytes of a `map_bytes` map the program uses, by its hello: its own
// map size where it says it (FS_OPT_GET_MAPSIZE), never more than the map.
// Both sides zero and copy only these.
inline size_t MapBytesUsed(uint32_t hello, size_t map_bytes) {
  if ((hello & kOptEnabled) != kOptEnabled || (hello & kOptMapSize) == 0 ||
      (hello & kOptError) == kOptError) {
    return map_bytes;
  }
  const size_t reported = ((hello & 0x00fffffe) >> 1) + 1;
  return reported < map_bytes ? reported : map_bytes;
}

// All `size` bytes, retrying EINTR; false at EOF or on an error.
inline bool ReadAll(int fd, void* data, size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

inline bool WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace sandbox::internal::afl

#endif  // SANDBOX_INTERNAL_AFL_PROTOCOL_H_
