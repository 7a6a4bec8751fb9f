// Fuzzes what Comms reads: a peer (a sandboxee) sends arbitrary bytes, with
// descriptors of every kind attached, into one end of a socketpair, and the
// other end makes a sequence of Recv* calls under small size caps and a
// receive timeout. None may crash, hang, or leave a descriptor or a mapping
// behind. The input format is in comms_fuzz_input.h.

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/stubs/logging.h"
#include "sandbox/comms.h"
#include "sandbox/fd.h"
#include "sandbox/policy.pb.h"
#include "sandbox/result.pb.h"
#include "tests/fuzz/comms_fuzz_input.h"

namespace sandbox::fuzz {
namespace {

constexpr char kMemfdName[] = "comms-fuzzer-payload";

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return size_ == 0; }
  uint8_t U8() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  uint16_t U16() {
    const uint16_t low = U8();
    return static_cast<uint16_t>(low | (U8() << 8));
  }
  // Up to `n` bytes (fewer at the end of the input).
  std::string Bytes(size_t n) {
    n = std::min(n, size_);
    std::string bytes(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return bytes;
  }

 private:
  const uint8_t* data_;
  size_t size_;
};

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "comms_fuzzer: %s\n", what);
  abort();
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) Die("cannot list /proc/self/fd");
  int count = 0;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

bool HasMemfdMapping() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(kMemfdName) != std::string::npos) return true;
  }
  return false;
}

UniqueFd MakeMemfd(uint8_t seals, const std::string& content) {
  UniqueFd memfd(memfd_create(kMemfdName, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) Die("memfd_create failed");
  if (!content.empty() && write(memfd.get(), content.data(), content.size()) !=
                              static_cast<ssize_t>(content.size())) {
    Die("write(memfd) failed");
  }
  int flags = 0;
  if (seals & kSealShrink) flags |= F_SEAL_SHRINK;
  if (seals & kSealGrow) flags |= F_SEAL_GROW;
  if (seals & kSealWrite) flags |= F_SEAL_WRITE;
  if (seals & kSealFutureWrite) flags |= F_SEAL_FUTURE_WRITE;
  if (seals & kSealSeal) flags |= F_SEAL_SEAL;
  if (flags != 0 && fcntl(memfd.get(), F_ADD_SEALS, flags) != 0) {
    Die("F_ADD_SEALS failed");
  }
  return memfd;
}

// The descriptors a chunk carries; the caller closes them once sent.
std::vector<UniqueFd> MakeFds(FdKind kind, Input& input, bool& sent_memfd) {
  std::vector<UniqueFd> fds;
  auto dev_null = [] {
    return UniqueFd(open("/dev/null", O_RDWR | O_CLOEXEC));
  };
  switch (kind) {
    case FdKind::kNone:
    case FdKind::kCount:
      break;
    case FdKind::kDevNull:
      fds.push_back(dev_null());
      break;
    case FdKind::kMemfd: {
      const uint8_t seals = input.U8();
      const uint16_t size = input.U16();
      fds.push_back(MakeMemfd(seals, input.Bytes(size)));
      sent_memfd = true;
      break;
    }
    case FdKind::kPipe: {
      int pipe_fds[2];
      if (pipe2(pipe_fds, O_CLOEXEC) != 0) Die("pipe2 failed");
      fds.emplace_back(pipe_fds[0]);
      fds.emplace_back(pipe_fds[1]);
      fds.pop_back();  // closes the write end: only the read end goes
      break;
    }
    case FdKind::kTwoFds:
      fds.push_back(dev_null());
      fds.push_back(dev_null());
      break;
    case FdKind::kFiveFds:
      for (int i = 0; i < 5; ++i) fds.push_back(dev_null());
      break;
    case FdKind::kSocket: {
      int pair[2];
      if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        Die("socketpair failed");
      }
      fds.emplace_back(pair[0]);
      close(pair[1]);
      break;
    }
    case FdKind::kPath:
      fds.emplace_back(open("/", O_PATH | O_CLOEXEC));
      break;
  }
  for (const UniqueFd& fd : fds) {
    if (!fd) Die("could not make a descriptor to send");
  }
  return fds;
}

// Sends one chunk. False once the socket is full (the rest is dropped).
bool SendChunk(int socket, const std::string& bytes,
               const std::vector<UniqueFd>& fds) {
  struct iovec iov = {const_cast<char*>(bytes.data()), bytes.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
  if (!fds.empty()) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    for (size_t i = 0; i < fds.size(); ++i) {
      const int fd = fds[i].get();
      memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof(int));
    }
  }
  return sendmsg(socket, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0;
}

// Reads every byte, so that a mapping that went away would fault here.
uint8_t Touch(const uint8_t* data, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum ^= data[i];
  return sum;
}

// COMMS_FUZZER_VERBOSE=1 prints what each call returned, to see what an
// input (a seed, a crash) does.
void Report(Op op, const absl::Status& status) {
  static const bool verbose = getenv("COMMS_FUZZER_VERBOSE") != nullptr;
  if (verbose) {
    fprintf(stderr, "op %d: %s\n", static_cast<int>(op),
            status.ToString().c_str());
  }
}

void RunOps(Comms& comms, const std::vector<Op>& ops) {
  volatile uint8_t sink = 0;
  for (Op op : ops) {
    absl::Status status;
    switch (op) {
      case Op::kRecvBytes: {
        absl::StatusOr<std::vector<uint8_t>> bytes = comms.RecvBytes();
        status = bytes.status();
        if (bytes.ok()) {
          if (bytes->size() > comms.options().max_message_bytes) {
            Die("RecvBytes returned more than max_message_bytes");
          }
          sink = sink ^ Touch(bytes->data(), bytes->size());
        }
        break;
      }
      case Op::kRecvBuffer: {
        absl::StatusOr<SharedBuffer> buffer = comms.RecvBuffer();
        status = buffer.status();
        if (buffer.ok()) {
          if (buffer->size() > comms.options().max_message_bytes) {
            Die("RecvBuffer returned more than max_message_bytes");
          }
          sink = sink ^ Touch(buffer->data(), buffer->size());
        }
        break;
      }
      case Op::kRecvString: {
        absl::StatusOr<std::string> s = comms.RecvString();
        status = s.status();
        if (s.ok() && s->size() > comms.options().max_message_bytes) {
          Die("RecvString returned more than max_message_bytes");
        }
        break;
      }
      case Op::kRecvProtoResult: {
        proto::Result result;
        status = comms.RecvProto(&result);
        break;
      }
      case Op::kRecvProtoPolicy: {
        proto::Policy policy;
        status = comms.RecvProto(&policy);
        break;
      }
      case Op::kRecvFd: {
        absl::StatusOr<UniqueFd> fd = comms.RecvFd();
        status = fd.status();
        if (fd.ok() && !fd->valid()) Die("RecvFd returned no descriptor");
        break;
      }
      case Op::kRecvStatus: {
        absl::StatusOr<absl::Status> remote = comms.RecvStatus();
        status = remote.status();
        if (remote.ok()) sink = sink ^ remote->message().size();
        break;
      }
      case Op::kRecvRegion: {
        absl::StatusOr<SharedRegion> region = comms.RecvRegion();
        status = region.status();
        if (region.ok()) {
          if (region->size() == 0 ||
              region->size() > comms.options().max_message_bytes) {
            Die("RecvRegion returned a region of a size out of bounds");
          }
          sink = sink ^ Touch(region->data(), region->size());
          region->data()[region->size() - 1] = 1;
        }
        break;
      }
      case Op::kSendString:
        status = comms.SendString("reply");
        break;
      case Op::kCount:
        break;
    }
    Report(op, status);
  }
}

}  // namespace
}  // namespace sandbox::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Quiet: protobuf logs every string field that is not UTF-8.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sandbox;
  using namespace sandbox::fuzz;
  const int fds_before = CountOpenFds();
  Input input(data, size);
  const uint8_t config = input.U8();
  std::vector<Op> ops(1 + input.U8() % 8);
  for (Op& op : ops) {
    op = static_cast<Op>(input.U8() % static_cast<uint8_t>(Op::kCount));
  }

  const int type = (config & kSeqpacket) ? SOCK_SEQPACKET : SOCK_STREAM;
  int pair[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) != 0) {
    Die("socketpair failed");
  }
  UniqueFd peer(pair[0]);
  UniqueFd ours(pair[1]);

  bool sent_memfd = false;
  while (!input.empty()) {
    const FdKind kind =
        static_cast<FdKind>(input.U8() % static_cast<uint8_t>(FdKind::kCount));
    std::vector<UniqueFd> fds = MakeFds(kind, input, sent_memfd);
    const std::string bytes = input.Bytes(input.U16());
    if (!SendChunk(peer.get(), bytes, fds)) break;
  }

  Comms::Options options;
  options.max_message_bytes = MaxMessageBytes(config);
  if (config & kPeerStaysOpen) {
    options.receive_timeout = absl::Milliseconds(1);
  } else {
    peer.reset();
    options.receive_timeout = (config & kNoTimeout) ? absl::InfiniteDuration()
                                                    : absl::Milliseconds(100);
  }
  options.send_timeout = absl::Milliseconds(1);
  {
    Comms comms = (config & kTypeGiven) ? Comms(std::move(ours), type, options)
                                        : Comms(std::move(ours), options);
    RunOps(comms, ops);
  }
  peer.reset();

  if (CountOpenFds() != fds_before) Die("a descriptor leaked");
  if (sent_memfd && HasMemfdMapping()) Die("a memfd mapping leaked");
  return 0;
}
