#include "sandbox/comms.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/message_lite.h"
#include "sandbox/internal/untrusted_fd.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

using internal::FrameHeader;
using internal::kFlagMemfd;
using internal::kFrameMagic;
using internal::kMaxChunkBytes;
using internal::kMaxFdsPerRead;
using internal::kTagBytes;
using internal::kTagFd;
using internal::kTagProto;
using internal::kTagRegion;
using internal::kTagStatus;
using internal::kTagString;

constexpr int kRequiredSeals =
    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
constexpr char kPeerClosed[] = "peer closed the channel";
constexpr uint16_t kMaxStatusCode = 16;  // absl::StatusCode::kUnauthenticated

absl::Status Broken(const absl::Status& first_error) {
  return absl::FailedPreconditionError(absl::StrCat(
      "channel broken by an earlier error: ", first_error.ToString()));
}

absl::Status NoSocket() {
  return absl::FailedPreconditionError("Comms has no socket (moved from)");
}

// Name of a frame tag for messages; nullptr if unknown.
const char* TagName(uint16_t tag) {
  switch (tag) {
    case kTagBytes:
      return "bytes";
    case kTagString:
      return "string";
    case kTagProto:
      return "proto";
    case kTagFd:
      return "fd";
    case kTagStatus:
      return "status";
    case kTagRegion:
      return "region";
    default:
      return nullptr;
  }
}

absl::Status TooLarge(absl::string_view verb, uint16_t tag, uint64_t size,
                      size_t limit) {
  return absl::ResourceExhaustedError(absl::StrFormat(
      "%s a %s message of %d bytes: above the limit of %d bytes "
      "(Comms::Options::max_message_bytes)",
      verb, TagName(tag), size, limit));
}

// The error form of StatusOr<absl::Status>: built straight from an
// absl::Status, a StatusOr<absl::Status> holds it as its *value*. Going
// through StatusOr<const absl::Status> makes it the error.
absl::StatusOr<absl::Status> TransportError(absl::Status error) {
  return absl::StatusOr<const absl::Status>(std::move(error));
}

absl::Span<const uint8_t> AsBytes(absl::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A memfd holding `data`, sealed so that a receiver can trust its size and
// content.
absl::StatusOr<UniqueFd> MakeSealedMemfd(absl::Span<const uint8_t> data) {
  UniqueFd memfd(
      memfd_create("sandbox-comms", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd.valid()) return ErrnoStatus("memfd_create");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(memfd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write(memfd)");
    }
    done += static_cast<size_t>(n);
  }
  if (fcntl(memfd.get(), F_ADD_SEALS, kRequiredSeals) != 0) {
    return ErrnoStatus("fcntl(memfd, F_ADD_SEALS)");
  }
  return memfd;
}

}  // namespace

// ---------------------------------------------------------------------------
// SharedBuffer

SharedBuffer::SharedBuffer(std::vector<uint8_t> bytes)
    : bytes_(std::move(bytes)) {}

SharedBuffer::SharedBuffer(SharedBuffer&& other) noexcept
    : bytes_(std::move(other.bytes_)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_size_(std::exchange(other.mapping_size_, 0)) {
  other.bytes_.clear();
}

SharedBuffer& SharedBuffer::operator=(SharedBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    bytes_ = std::move(other.bytes_);
    other.bytes_.clear();
    mapping_ = std::exchange(other.mapping_, nullptr);
    mapping_size_ = std::exchange(other.mapping_size_, 0);
  }
  return *this;
}

SharedBuffer::~SharedBuffer() { Release(); }

void SharedBuffer::Release() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_size_);
  mapping_ = nullptr;
  mapping_size_ = 0;
  bytes_.clear();
}

absl::StatusOr<SharedRegion> SharedRegion::Create(size_t size) {
  if (size == 0) {
    return absl::InvalidArgumentError("SharedRegion::Create: size 0");
  }
  UniqueFd fd(memfd_create("sandbox-region", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return ErrnoStatus("memfd_create(sandbox-region)");
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
    return ErrnoStatus("ftruncate(sandbox-region)");
  }
  if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) !=
      0) {
    return ErrnoStatus("fcntl(F_ADD_SEALS, sandbox-region)");
  }
  return Map(std::move(fd), size);
}

absl::StatusOr<SharedRegion> SharedRegion::Map(UniqueFd fd, size_t size) {
  void* address =
      mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (address == MAP_FAILED) return ErrnoStatus("mmap(sandbox-region)");
  SharedRegion region;
  region.fd_ = std::move(fd);
  region.address_ = address;
  region.size_ = size;
  return region;
}

SharedRegion::SharedRegion(SharedRegion&& other) noexcept
    : fd_(std::move(other.fd_)),
      address_(std::exchange(other.address_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedRegion& SharedRegion::operator=(SharedRegion&& other) noexcept {
  if (this != &other) {
    Release();
    fd_ = std::move(other.fd_);
    address_ = std::exchange(other.address_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedRegion::~SharedRegion() { Release(); }

void SharedRegion::Release() {
  if (address_ != nullptr) munmap(address_, size_);
  address_ = nullptr;
  size_ = 0;
  fd_.reset();
}

SharedBuffer SharedBuffer::FromMapping(void* address, size_t size) {
  SharedBuffer buffer;
  buffer.mapping_ = address;
  buffer.mapping_size_ = size;
  return buffer;
}

const uint8_t* SharedBuffer::data() const {
  return mapping_ != nullptr ? static_cast<const uint8_t*>(mapping_)
                             : bytes_.data();
}

size_t SharedBuffer::size() const {
  return mapping_ != nullptr ? mapping_size_ : bytes_.size();
}

// ---------------------------------------------------------------------------
// Comms internals

// A frame whose header has been read and checked.
struct Comms::Incoming {
  Incoming() = default;
  Incoming(Incoming&&) = default;
  Incoming& operator=(Incoming&&) = default;
  // A descriptor nobody took goes where its close cannot block us.
  ~Incoming() {
    if (untrusted && fd) internal::CloseUntrusted(std::move(fd));
  }

  uint16_t tag = 0;
  uint64_t length = 0;
  bool memfd = false;
  bool untrusted = false;
  // The fd the frame carries (kTagFd, or the memfd), if one arrived.
  UniqueFd fd;
};

// When a Send*/Recv* call must give up; one per call, so the timeout covers
// the whole message.
class Comms::Deadline {
 public:
  explicit Deadline(absl::Duration timeout)
      : timeout_(timeout),
        end_(timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                 : absl::Now() + timeout) {}

  bool infinite() const { return end_ == absl::InfiniteFuture(); }

  // Waits until `fd` has one of `events`, or returns DeadlineExceeded.
  // POLLHUP/POLLERR count as ready: the next call reports them.
  absl::Status Wait(int fd, short events, absl::string_view what) const {
    for (;;) {
      int millis = -1;
      if (end_ != absl::InfiniteFuture()) {
        absl::Duration left = end_ - absl::Now();
        if (left <= absl::ZeroDuration()) {
          return absl::DeadlineExceededError(absl::StrCat(
              "timed out after ", absl::FormatDuration(timeout_), " ", what));
        }
        // Round up, so that poll does not return just before the deadline.
        millis = static_cast<int>(std::min<int64_t>(
            absl::ToInt64Milliseconds(left + absl::Milliseconds(1) -
                                      absl::Nanoseconds(1)),
            INT_MAX));
      }
      struct pollfd pfd = {fd, events, 0};
      int ready = poll(&pfd, 1, millis);
      if (ready < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("poll");
      }
      if (ready > 0) return absl::OkStatus();
    }
  }

 private:
  absl::Duration timeout_;
  absl::Time end_;
};

absl::Status Comms::BreakSend(absl::Status status) {
  send_error_ = status;
  return status;
}

absl::Status Comms::BreakRecv(absl::Status status) {
  recv_error_ = status;
  return status;
}

Comms::Comms(UniqueFd socket, Options options)
    : socket_(std::move(socket)), options_(options) {
  int type = 0;
  socklen_t length = sizeof(type);
  stream_ =
      socket_.valid() &&
      getsockopt(socket_.get(), SOL_SOCKET, SO_TYPE, &type, &length) == 0 &&
      type == SOCK_STREAM;
}

Comms::Comms(UniqueFd socket, int socket_type, Options options)
    : socket_(std::move(socket)),
      options_(options),
      stream_(socket_type == SOCK_STREAM) {}

absl::StatusOr<std::pair<Comms, Comms>> Comms::CreatePair(Options options) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus("socketpair(AF_UNIX, SOCK_STREAM)");
  }
  return std::make_pair(Comms(UniqueFd(fds[0]), options),
                        Comms(UniqueFd(fds[1]), options));
}

// ---------------------------------------------------------------------------
// Sending

absl::Status Comms::SendAll(struct iovec* iov, size_t iov_count, int fd_to_pass,
                            const Deadline& deadline, size_t* sent) {
  // The fd rides on the first byte; a SOCK_SEQPACKET record is sent whole.
  while (iov_count > 0) {
    if (iov->iov_len == 0) {
      ++iov;
      --iov_count;
      continue;
    }
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = iov_count;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (fd_to_pass >= 0) {
      std::memset(control, 0, sizeof(control));
      msg.msg_control = control;
      msg.msg_controllen = sizeof(control);
      struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
    }
    ssize_t n = sendmsg(socket_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        SBX_RETURN_IF_ERROR(
            deadline.Wait(socket_.get(), POLLOUT, "waiting to send"));
        continue;
      }
      if (errno == EPIPE || errno == ECONNRESET) {
        return absl::UnavailableError(kPeerClosed);
      }
      return ErrnoStatus("sendmsg");
    }
    *sent += static_cast<size_t>(n);
    fd_to_pass = -1;
    // Skip what went out; a stream may take part of an iovec.
    size_t left = static_cast<size_t>(n);
    while (iov_count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --iov_count;
    }
    if (left > 0) {
      iov->iov_base = static_cast<uint8_t*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return absl::OkStatus();
}

absl::Status Comms::SendFrame(uint16_t tag, uint16_t flags,
                              absl::Span<const uint8_t> payload,
                              int fd_to_pass) {
  if (!socket_.valid()) return NoSocket();
  if (!send_error_.ok()) return Broken(send_error_);
  FrameHeader header = {kFrameMagic, tag, flags, payload.size()};
  Deadline deadline(options_.send_timeout);
  size_t sent = 0;
  absl::Status status;
  if (stream_) {
    // One sendmsg for the whole frame; a stream keeps no record boundaries.
    struct iovec iov[2] = {
        {&header, sizeof(header)},
        {const_cast<uint8_t*>(payload.data()), payload.size()}};
    status = SendAll(iov, 2, fd_to_pass, deadline, &sent);
  } else {
    struct iovec iov = {&header, sizeof(header)};
    status = SendAll(&iov, 1, fd_to_pass, deadline, &sent);
    // Records of at most kMaxChunkBytes, the sizes the receiver asks for.
    for (size_t offset = 0; status.ok() && offset < payload.size();
         offset += kMaxChunkBytes) {
      struct iovec chunk = {const_cast<uint8_t*>(payload.data()) + offset,
                            std::min(kMaxChunkBytes, payload.size() - offset)};
      status = SendAll(&chunk, 1, -1, deadline, &sent);
    }
  }
  if (!status.ok() && sent > 0) return BreakSend(status);
  return status;
}

absl::Status Comms::SendMemfd(uint16_t tag, absl::Span<const uint8_t> payload,
                              const UniqueFd& memfd) {
  const uint64_t size = payload.size();
  return SendFrame(tag, kFlagMemfd,
                   {reinterpret_cast<const uint8_t*>(&size), sizeof(size)},
                   memfd.get());
}

absl::Status Comms::SendPayload(uint16_t tag,
                                absl::Span<const uint8_t> payload) {
  if (payload.size() > options_.max_message_bytes) {
    return TooLarge("cannot send", tag, payload.size(),
                    options_.max_message_bytes);
  }
  if (options_.memfd_threshold != 0 &&
      payload.size() >= options_.memfd_threshold) {
    absl::StatusOr<UniqueFd> memfd = MakeSealedMemfd(payload);
    if (memfd.ok()) return SendMemfd(tag, payload, *memfd);
    // memfd_create may be denied by a seccomp policy or out of fds; the
    // socket always works.
  }
  return SendFrame(tag, 0, payload, -1);
}

absl::Status Comms::SendBytes(absl::Span<const uint8_t> data) {
  return SendPayload(kTagBytes, data);
}

absl::Status Comms::SendBytesViaMemfd(absl::Span<const uint8_t> data) {
  if (data.size() > options_.max_message_bytes) {
    return TooLarge("cannot send", kTagBytes, data.size(),
                    options_.max_message_bytes);
  }
  SBX_ASSIGN_OR_RETURN(UniqueFd memfd, MakeSealedMemfd(data));
  return SendMemfd(kTagBytes, data, memfd);
}

absl::Status Comms::SendRegion(const SharedRegion& region) {
  if (!region.fd_.valid()) {
    return absl::InvalidArgumentError("SendRegion: an empty SharedRegion");
  }
  const uint64_t size = region.size();
  return SendFrame(kTagRegion, 0,
                   {reinterpret_cast<const uint8_t*>(&size), sizeof(size)},
                   region.fd());
}

absl::Status Comms::SendString(absl::string_view s) {
  return SendPayload(kTagString, AsBytes(s));
}

absl::Status Comms::SendProto(const google::protobuf::MessageLite& message) {
  const std::string name = message.GetTypeName();
  if (!message.IsInitialized()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot send a ", name,
        ": required fields missing: ", message.InitializationErrorString()));
  }
  const size_t body = message.ByteSizeLong();
  const uint32_t name_size = static_cast<uint32_t>(name.size());
  const size_t total = sizeof(name_size) + name.size() + body;
  if (total > options_.max_message_bytes || body > INT_MAX) {
    return TooLarge("cannot send", kTagProto, total,
                    options_.max_message_bytes);
  }
  std::vector<uint8_t> payload(total);
  std::memcpy(payload.data(), &name_size, sizeof(name_size));
  std::memcpy(payload.data() + sizeof(name_size), name.data(), name.size());
  if (!message.SerializePartialToArray(
          payload.data() + sizeof(name_size) + name.size(),
          static_cast<int>(body))) {
    return absl::InternalError(absl::StrCat("cannot serialize a ", name));
  }
  return SendPayload(kTagProto, payload);
}

absl::Status Comms::SendFd(int fd) {
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SendFd: invalid file descriptor ", fd));
  }
  return SendFrame(kTagFd, 0, {}, fd);
}

absl::Status Comms::SendStatus(const absl::Status& status) {
  const uint32_t code = static_cast<uint32_t>(status.code());
  std::string payload(sizeof(code), '\0');
  std::memcpy(payload.data(), &code, sizeof(code));
  // Not memcpy: an OK status's message has no data pointer at all.
  absl::StrAppend(&payload, status.message());
  return SendPayload(kTagStatus, AsBytes(payload));
}

// ---------------------------------------------------------------------------
// Receiving

absl::Status Comms::RecvAll(uint8_t* data, size_t size,
                            const Deadline& deadline,
                            std::vector<UniqueFd>* fds, size_t* received) {
  while (size > 0) {
    // On SOCK_SEQPACKET each read must take exactly one record, and the
    // sender cut the payload into kMaxChunkBytes records.
    const size_t want = stream_ ? size : std::min(size, kMaxChunkBytes);
    struct iovec iov = {data, want};
    alignas(
        struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerRead)];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    // Without a deadline, block in recvmsg itself: no EAGAIN and poll round
    // trip per message.
    ssize_t n =
        recvmsg(socket_.get(), &msg,
                MSG_CMSG_CLOEXEC | (deadline.infinite() ? 0 : MSG_DONTWAIT));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        SBX_RETURN_IF_ERROR(
            deadline.Wait(socket_.get(), POLLIN, "waiting for a message"));
        continue;
      }
      // A peer that closes with unread data resets the connection.
      if (errno != ECONNRESET) return ErrnoStatus("recvmsg");
      n = 0;
    }
    // Take ownership of every fd first, so that none leaks on any path.
    // Those the caller does not want (fds == nullptr) close right here.
    std::vector<UniqueFd> taken;
    TakeReceivedFds(msg, taken);
    for (UniqueFd& fd : taken) {
      if (fds != nullptr) {
        fds->push_back(std::move(fd));
      } else if (options_.untrusted_peer) {
        internal::CloseUntrusted(std::move(fd));
      }
    }
    *received += static_cast<size_t>(n);
    if (msg.msg_flags & MSG_CTRUNC) {
      return absl::DataLossError(absl::StrFormat(
          "control message truncated: the peer attached more than %d file "
          "descriptors, or this process is at its fd limit",
          kMaxFdsPerRead));
    }
    if (msg.msg_flags & MSG_TRUNC) {
      return absl::DataLossError(
          "record longer than the frame announced: the peer is not framing "
          "its SOCK_SEQPACKET records as Comms does");
    }
    if (n == 0) return absl::UnavailableError(kPeerClosed);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::StatusOr<Comms::Incoming> Comms::RecvHeader(uint16_t expected_tag,
                                                  const Deadline& deadline) {
  if (!socket_.valid()) return NoSocket();
  if (!recv_error_.ok()) return Broken(recv_error_);

  FrameHeader header;
  std::vector<UniqueFd> fds;
  // Whatever the frame carried and no one takes, on every return path.
  absl::Cleanup drop_fds = [&fds, this] {
    if (!options_.untrusted_peer) return;
    for (UniqueFd& fd : fds) internal::CloseUntrusted(std::move(fd));
  };
  size_t received = 0;
  absl::Status status = RecvAll(reinterpret_cast<uint8_t*>(&header),
                                sizeof(header), deadline, &fds, &received);
  if (!status.ok()) {
    // Nothing read: the stream is still at a frame boundary.
    if (received == 0) return status;
    if (absl::IsUnavailable(status)) {
      return BreakRecv(absl::DataLossError(absl::StrFormat(
          "peer closed the channel mid-message: got %d of %d header bytes",
          received, sizeof(header))));
    }
    return BreakRecv(status);
  }

  if (header.magic != kFrameMagic) {
    return BreakRecv(absl::DataLossError(absl::StrFormat(
        "received a frame with bad magic 0x%08x (expected 0x%08x): the peer "
        "does not speak Comms, or the stream is corrupt",
        header.magic, kFrameMagic)));
  }
  const char* sent_type = TagName(header.tag);
  if (sent_type == nullptr) {
    return BreakRecv(absl::DataLossError(
        absl::StrFormat("received a frame with unknown tag %d", header.tag)));
  }
  if ((header.flags & ~kFlagMemfd) != 0) {
    return BreakRecv(absl::DataLossError(
        absl::StrFormat("received a %s frame with unknown flags 0x%x",
                        sent_type, header.flags)));
  }
  if (header.tag != expected_tag) {
    return BreakRecv(absl::InvalidArgumentError(
        absl::StrCat("expected a message of type ", TagName(expected_tag),
                     ", received one of type ", sent_type)));
  }

  Incoming incoming;
  incoming.tag = header.tag;
  incoming.length = header.length;
  incoming.memfd = (header.flags & kFlagMemfd) != 0;
  if (incoming.memfd) {
    if (header.tag == kTagFd || header.tag == kTagRegion ||
        header.length != sizeof(uint64_t)) {
      return BreakRecv(absl::DataLossError(absl::StrFormat(
          "received a malformed memfd frame (%s, %d payload bytes)", sent_type,
          header.length)));
    }
  } else if (header.tag == kTagFd && header.length != 0) {
    return BreakRecv(absl::DataLossError(absl::StrFormat(
        "received an fd frame with %d payload bytes (expected 0)",
        header.length)));
  } else if (header.tag == kTagRegion && header.length != sizeof(uint64_t)) {
    return BreakRecv(absl::DataLossError(absl::StrFormat(
        "received a region frame with %d payload bytes (expected 8)",
        header.length)));
  } else if (header.length > options_.max_message_bytes) {
    // Checked before anything is allocated for the payload.
    return BreakRecv(TooLarge("received", header.tag, header.length,
                              options_.max_message_bytes));
  }
  // Only kTagFd, kTagRegion and memfd frames carry an fd; any other, or
  // extra, fds close with `fds`.
  incoming.untrusted = options_.untrusted_peer;
  if ((header.tag == kTagFd || header.tag == kTagRegion || incoming.memfd) &&
      !fds.empty()) {
    incoming.fd = std::move(fds.front());
  }
  return incoming;
}

absl::Status Comms::RecvPayloadInline(uint8_t* data, size_t size,
                                      const Deadline& deadline) {
  // The header is consumed: any failure from here on leaves a frame half
  // read.
  size_t received = 0;
  absl::Status status = RecvAll(data, size, deadline, nullptr, &received);
  if (status.ok()) return status;
  if (absl::IsUnavailable(status)) {
    return BreakRecv(absl::DataLossError(absl::StrFormat(
        "peer closed the channel mid-message: got %d of %d payload bytes",
        received, size)));
  }
  return BreakRecv(status);
}

absl::StatusOr<SharedBuffer> Comms::RecvMemfd(Incoming& incoming,
                                              const Deadline& deadline) {
  uint64_t size = 0;
  SBX_RETURN_IF_ERROR(RecvPayloadInline(reinterpret_cast<uint8_t*>(&size),
                                        sizeof(size), deadline));
  // The frame is fully read: the errors below leave the channel usable.
  if (!incoming.fd.valid()) {
    return absl::DataLossError(
        "memfd message arrived without a file descriptor");
  }
  if (size > options_.max_message_bytes) {
    return TooLarge("received", incoming.tag, size, options_.max_message_bytes);
  }
  // Seals first: only once the memfd can no longer shrink, grow or change is
  // its size worth checking and its mapping safe to read (no SIGBUS, no
  // content changing under the reader).
  const int seals = fcntl(incoming.fd.get(), F_GET_SEALS);
  if (seals < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("memfd message: the attached fd is not a sealable memfd (",
                     ErrnoStatus("fcntl(F_GET_SEALS)").message(), ")"));
  }
  if ((seals & kRequiredSeals) != kRequiredSeals) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memfd message: the memfd is not sealed (seals 0x%x, need 0x%x: "
        "F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE|F_SEAL_SEAL)",
        seals, kRequiredSeals));
  }
  struct stat st;
  if (fstat(incoming.fd.get(), &st) != 0) return ErrnoStatus("fstat(memfd)");
  if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
      static_cast<uint64_t>(st.st_size) != size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "memfd message: the memfd holds %d bytes, the header announced %d",
        st.st_size, size));
  }
  if (size == 0) return SharedBuffer();
  void* address =
      mmap(nullptr, size, PROT_READ, MAP_SHARED, incoming.fd.get(), 0);
  if (address == MAP_FAILED) return ErrnoStatus("mmap(memfd)");
  SharedBuffer buffer = SharedBuffer::FromMapping(address, size);
  // Every page must be there already: reading a hole of a sparse memfd
  // allocates the page, charged to the reader's memory, so a peer could make
  // us spend what it announced without spending it itself. The write seal
  // keeps holes from being punched later.
  // (Checked where the peer is a sandboxee; a sandboxee trusts its host and
  // need not be allowed mincore.)
  if (!options_.untrusted_peer) return buffer;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  if (mincore(address, size, resident.data()) != 0) {
    return ErrnoStatus("mincore(memfd)");
  }
  for (size_t i = 0; i < resident.size(); ++i) {
    if ((resident[i] & 1) == 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "memfd message: page %d of %d is not present (a sparse memfd, "
          "whose holes the reader would pay for)",
          i, resident.size()));
    }
  }
  return buffer;
}

template <typename Container>
absl::Status Comms::RecvContainer(uint16_t tag, Container* out) {
  using Char = typename Container::value_type;
  Deadline deadline(options_.receive_timeout);
  SBX_ASSIGN_OR_RETURN(Incoming incoming, RecvHeader(tag, deadline));
  if (incoming.memfd) {
    SBX_ASSIGN_OR_RETURN(SharedBuffer buffer, RecvMemfd(incoming, deadline));
    const Char* begin = reinterpret_cast<const Char*>(buffer.data());
    out->assign(begin, begin + buffer.size());
    return absl::OkStatus();
  }
  out->resize(incoming.length);
  return RecvPayloadInline(reinterpret_cast<uint8_t*>(out->data()),
                           incoming.length, deadline);
}

absl::StatusOr<SharedBuffer> Comms::RecvShared(uint16_t tag) {
  Deadline deadline(options_.receive_timeout);
  SBX_ASSIGN_OR_RETURN(Incoming incoming, RecvHeader(tag, deadline));
  if (incoming.memfd) return RecvMemfd(incoming, deadline);
  std::vector<uint8_t> bytes(incoming.length);
  SBX_RETURN_IF_ERROR(
      RecvPayloadInline(bytes.data(), incoming.length, deadline));
  return SharedBuffer(std::move(bytes));
}

absl::StatusOr<std::vector<uint8_t>> Comms::RecvBytes() {
  std::vector<uint8_t> bytes;
  SBX_RETURN_IF_ERROR(RecvContainer(kTagBytes, &bytes));
  return bytes;
}

absl::StatusOr<SharedBuffer> Comms::RecvBuffer() {
  return RecvShared(kTagBytes);
}

absl::StatusOr<std::string> Comms::RecvString() {
  std::string s;
  SBX_RETURN_IF_ERROR(RecvContainer(kTagString, &s));
  return s;
}

absl::Status Comms::RecvProto(google::protobuf::MessageLite* message) {
  if (message == nullptr) {
    return absl::InvalidArgumentError("RecvProto: null message");
  }
  SBX_ASSIGN_OR_RETURN(SharedBuffer buffer, RecvShared(kTagProto));
  uint32_t name_size = 0;
  if (buffer.size() < sizeof(name_size)) {
    return absl::DataLossError("proto message too short for its type name");
  }
  std::memcpy(&name_size, buffer.data(), sizeof(name_size));
  if (name_size > buffer.size() - sizeof(name_size)) {
    return absl::DataLossError(absl::StrFormat(
        "proto message announces a %d-byte type name in %d bytes", name_size,
        buffer.size()));
  }
  const absl::string_view sent_name =
      buffer.view().substr(sizeof(name_size), name_size);
  const std::string expected_name = message->GetTypeName();
  if (sent_name != expected_name) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a proto message of type ", expected_name,
                     ", received one of type ", absl::CHexEscape(sent_name)));
  }
  const size_t offset = sizeof(name_size) + name_size;
  const size_t body = buffer.size() - offset;
  if (body > INT_MAX) {
    return TooLarge("received", kTagProto, body, INT_MAX);
  }
  if (!message->ParseFromArray(buffer.data() + offset,
                               static_cast<int>(body))) {
    return absl::InvalidArgumentError(
        absl::StrCat("received ", expected_name, " does not parse"));
  }
  return absl::OkStatus();
}

absl::StatusOr<UniqueFd> Comms::RecvFd() {
  Deadline deadline(options_.receive_timeout);
  SBX_ASSIGN_OR_RETURN(Incoming incoming, RecvHeader(kTagFd, deadline));
  if (!incoming.fd.valid()) {
    return absl::DataLossError("fd message arrived without a file descriptor");
  }
  return std::move(incoming.fd);
}

absl::StatusOr<SharedRegion> Comms::RecvRegion() {
  Deadline deadline(options_.receive_timeout);
  SBX_ASSIGN_OR_RETURN(Incoming incoming, RecvHeader(kTagRegion, deadline));
  uint64_t size = 0;
  SBX_RETURN_IF_ERROR(RecvPayloadInline(reinterpret_cast<uint8_t*>(&size),
                                        sizeof(size), deadline));
  // The frame is fully read: the errors below leave the channel usable.
  if (!incoming.fd.valid()) {
    return absl::DataLossError(
        "region message arrived without a file descriptor");
  }
  if (size > options_.max_message_bytes) {
    return TooLarge("received", kTagRegion, size, options_.max_message_bytes);
  }
  // Only a memfd that can neither shrink nor grow, nor take new seals, is
  // safe to map: no SIGBUS past a truncated end, no F_SEAL_WRITE later.
  constexpr int kRegionSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
  const int seals = fcntl(incoming.fd.get(), F_GET_SEALS);
  if (seals < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region message: the attached fd is not a sealable memfd (",
        ErrnoStatus("fcntl(F_GET_SEALS)").message(), ")"));
  }
  if ((seals & kRegionSeals) != kRegionSeals || (seals & F_SEAL_WRITE) ||
      (seals & F_SEAL_FUTURE_WRITE)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "region message: the memfd has seals 0x%x; a region needs "
        "F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL (0x%x) and no write seal",
        seals, kRegionSeals));
  }
  struct stat st;
  if (fstat(incoming.fd.get(), &st) != 0) return ErrnoStatus("fstat(memfd)");
  if (!S_ISREG(st.st_mode) || st.st_size <= 0 ||
      static_cast<uint64_t>(st.st_size) != size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "region message: the memfd holds %d bytes, the header announced %d",
        st.st_size, size));
  }
  return SharedRegion::Map(std::move(incoming.fd), size);
}

absl::StatusOr<absl::Status> Comms::RecvStatus() {
  std::string payload;
  if (absl::Status status = RecvContainer(kTagStatus, &payload); !status.ok()) {
    return TransportError(std::move(status));
  }
  uint32_t code = 0;
  if (payload.size() < sizeof(code)) {
    return TransportError(absl::DataLossError(absl::StrFormat(
        "status message of %d bytes, too short for a code", payload.size())));
  }
  std::memcpy(&code, payload.data(), sizeof(code));
  if (code > kMaxStatusCode) {
    return TransportError(absl::DataLossError(
        absl::StrFormat("status message with unknown code %d", code)));
  }
  return absl::Status(static_cast<absl::StatusCode>(code),
                      absl::string_view(payload).substr(sizeof(code)));
}

}  // namespace sandbox
