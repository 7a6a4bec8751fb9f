// Comms: the channel between the host and a sandboxee, and between the host
// and the fork server. One Comms owns one end of a Unix socketpair and moves
// framed, typed messages over it: bytes, strings, protobufs, file
// descriptors and absl::Status values. Large payloads travel as a sealed
// memfd, so they are not copied through the socket.
//
//   absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair();
//   if (!pair.ok()) return pair.status();
//   auto& [host, sandboxee] = *pair;
//   // The child answers on `sandboxee`, the parent asks on `host`.
//   const pid_t child = fork();
//   if (child == 0) _exit(Answer(sandboxee).ok() ? 0 : 1);
//   SBX_RETURN_IF_ERROR(host.SendProto(request));
//   SBX_RETURN_IF_ERROR(host.RecvProto(&reply));
//   SBX_ASSIGN_OR_RETURN(UniqueFd output, host.RecvFd());
//   SBX_ASSIGN_OR_RETURN(absl::Status remote, host.RecvStatus());
//
// Every message is received with the Recv* call matching the Send* call
// that sent it; a mismatch is an error naming both types.
//
// Sandboxee side: Comms may be used after a seccomp filter is installed. It
// only makes these system calls: sendmsg, recvmsg, poll, close, fcntl
// (F_ADD_SEALS, F_GET_SEALS), fstat, memfd_create, write, mmap, munmap,
// ftruncate (SharedRegion::Create), plus
// getsockopt(SO_TYPE) once in the constructor (a failure there is harmless),
// clock_gettime (vDSO) when a timeout is set, and what the allocator needs.
// When memfd_create is denied, payloads above the memfd threshold go through
// the socket instead. Comms never aborts, throws (beyond std::bad_alloc from
// the standard containers it returns) or raises SIGPIPE.
//
// Errors, common to every call:
//   Unavailable        "peer closed the channel": the peer closed its end
//                      (or died) between two messages.
//   DataLoss           the peer closed mid-message, or sent bytes that are
//                      not a frame (bad magic, unknown tag or flags).
//   InvalidArgument    the message is not of the type asked for, or its
//                      content is malformed (unsealed memfd, a proto that
//                      does not parse).
//   ResourceExhausted  a message larger than Options::max_message_bytes,
//                      refused by the sender before anything is written, or
//                      by the receiver before anything is allocated.
//   DeadlineExceeded   the receive (or send) timeout expired.
//   FailedPrecondition "channel broken by an earlier error": an earlier
//                      error left a message half read (or half written), so
//                      the stream can no longer be parsed. Receiving and
//                      sending break separately; other Comms objects are
//                      never affected.
//   anything else      a failed system call, named in the message.
// Which errors break the channel: those that stop reading (or writing) in
// the middle of a frame: DataLoss from the stream, a message of the wrong
// type, an oversized header, a timeout or failed call mid-frame. Errors found
// once a whole frame is read (an unsealed or oversized memfd, a proto of
// another type or that does not parse, a missing fd) and errors before its
// first byte (a receive timeout while idle, a send refused for its size)
// leave the channel usable.
//
// Thread safety: one thread at a time per direction. One thread may send
// while another receives on the same Comms; two concurrent senders (or two
// concurrent receivers) are not supported.

#ifndef SANDBOX_COMMS_H_
#define SANDBOX_COMMS_H_

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sandbox/fd.h"

namespace google::protobuf {
class MessageLite;
}  // namespace google::protobuf

namespace sandbox {

// Message bytes received without a copy (a read-only mapping of a memfd the
// peer sent) or with one (heap). Move-only; the mapping is released on
// destruction.
class SharedBuffer {
 public:
  SharedBuffer() = default;
  explicit SharedBuffer(std::vector<uint8_t> bytes);
  SharedBuffer(SharedBuffer&& other) noexcept;
  SharedBuffer& operator=(SharedBuffer&& other) noexcept;
  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;
  ~SharedBuffer();

  const uint8_t* data() const;
  size_t size() const;
  bool empty() const { return size() == 0; }
  absl::Span<const uint8_t> span() const { return {data(), size()}; }
  absl::string_view view() const {
    return {reinterpret_cast<const char*>(data()), size()};
  }

  // True when the bytes are a read-only mapping of a sealed memfd (no copy
  // was made); false when they sit on the heap.
  bool mapped() const { return mapping_ != nullptr; }

 private:
  friend class Comms;
  static SharedBuffer FromMapping(void* address, size_t size);
  void Release();

  std::vector<uint8_t> bytes_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
};

// Memory that both ends map read-write: made once, sent once, then used for
// any number of transfers with no copy through the kernel and no new pages,
// where a sealed memfd per message (SendBytesViaMemfd) pays for fresh pages
// every time. Its size cannot change (F_SEAL_SHRINK, F_SEAL_GROW,
// F_SEAL_SEAL), so neither end can make the other's accesses fault; its
// content can change at any moment. Which end may touch which bytes when is
// the two ends' protocol, e.g. a small message that says "bytes [0, n) are
// ready". A host sharing a region with a sandbox treats what it reads there
// as changing under it: copy first, then validate the copy.
//
//   SBX_ASSIGN_OR_RETURN(SharedRegion region, SharedRegion::Create(32 << 20));
//   SBX_RETURN_IF_ERROR(comms.SendRegion(region));     // once
//   memcpy(region.data(), input, n);                   // per transfer
//   SBX_RETURN_IF_ERROR(comms.SendString(absl::StrCat(n)));
//
// Move-only; unmapped and closed on destruction.
class SharedRegion {
 public:
  // A new region of `size` bytes (> 0), zero-filled, pages allocated on
  // first touch. Errors: memfd_create's, ftruncate's, fcntl's or mmap's
  // errno.
  [[nodiscard]] static absl::StatusOr<SharedRegion> Create(size_t size);

  SharedRegion() = default;
  SharedRegion(SharedRegion&& other) noexcept;
  SharedRegion& operator=(SharedRegion&& other) noexcept;
  SharedRegion(const SharedRegion&) = delete;
  SharedRegion& operator=(const SharedRegion&) = delete;
  ~SharedRegion();

  uint8_t* data() const { return static_cast<uint8_t*>(address_); }
  size_t size() const { return size_; }
  absl::Span<uint8_t> span() const { return {data(), size()}; }
  // The memfd, e.g. to pass it on some other way.
  int fd() const { return fd_.get(); }

 private:
  friend class Comms;
  // Maps `fd` (checked by the caller) read-write.
  static absl::StatusOr<SharedRegion> Map(UniqueFd fd, size_t size);
  void Release();

  UniqueFd fd_;
  void* address_ = nullptr;
  size_t size_ = 0;
};

struct CommsOptions {
  // Largest message accepted, in bytes of payload (for a memfd message, the
  // size of the memfd). The sender refuses to send a larger one and the
  // receiver refuses a header announcing one, before allocating or mapping
  // anything. Both ends should agree.
  size_t max_message_bytes = size_t{64} << 20;
  // Longest a Recv* call waits for its whole message. Infinite by default.
  absl::Duration receive_timeout = absl::InfiniteDuration();
  // Longest a Send* call waits for room in the socket (a peer that does not
  // read). Infinite by default.
  absl::Duration send_timeout = absl::InfiniteDuration();
  // Payloads (of SendBytes, SendString, SendProto, SendStatus) of at least
  // this many bytes go as a sealed memfd instead of through the socket, when
  // memfd_create works. 0 turns this off.
  size_t memfd_threshold = size_t{1} << 20;
  // The peer is a sandboxee (Sandbox::comms() sets this): descriptors it
  // sent that no call takes (extra ones, refused memfds) are closed on a
  // thread of the library's own, since a last close can block (a TCP
  // socket with SO_LINGER and unsent data, a file on FUSE) and the caller's
  // timeouts must hold.
  bool untrusted_peer = false;
};

class Comms {
 public:
  using Options = CommsOptions;

  // Takes ownership of one end of a SOCK_STREAM or SOCK_SEQPACKET Unix
  // socketpair. Both ends must use Comms. With SOCK_SEQPACKET, the socket's
  // SO_SNDBUF must exceed 64 KiB (the default is about 208 KiB).
  explicit Comms(UniqueFd socket, Options options = Options());
  // As above for a socket of known type (SOCK_STREAM or SOCK_SEQPACKET):
  // no getsockopt, for a sandboxee whose filter may not allow it.
  Comms(UniqueFd socket, int socket_type, Options options = Options());

  Comms(Comms&&) = default;
  Comms& operator=(Comms&&) = default;
  Comms(const Comms&) = delete;
  Comms& operator=(const Comms&) = delete;
  ~Comms() = default;

  // A connected pair over a new SOCK_STREAM socketpair (close-on-exec), both
  // with `options`. Errors: socketpair's errno.
  [[nodiscard]] static absl::StatusOr<std::pair<Comms, Comms>> CreatePair(
      Options options = Options());

  // Sends an arbitrary byte string (which may be empty). At or above
  // Options::memfd_threshold it goes as a sealed memfd when memfd_create
  // works, through the socket otherwise.
  [[nodiscard]] absl::Status SendBytes(absl::Span<const uint8_t> data);
  // Receives a message sent with SendBytes or SendBytesViaMemfd, copied
  // into a vector.
  [[nodiscard]] absl::StatusOr<std::vector<uint8_t>> RecvBytes();

  // Sends `data` as a memfd sealed with F_SEAL_SHRINK, F_SEAL_GROW,
  // F_SEAL_WRITE and F_SEAL_SEAL, whatever its size. The receiver checks the
  // seals before trusting the size, so the content cannot change or shrink
  // under it. Errors as above, plus memfd_create's, write's and fcntl's
  // errno (no fallback to the socket: use SendBytes for that).
  [[nodiscard]] absl::Status SendBytesViaMemfd(absl::Span<const uint8_t> data);
  // Receives a message sent with SendBytes or SendBytesViaMemfd. A memfd is
  // mapped read-only and not copied (SharedBuffer::mapped()); an inline
  // payload is copied to the heap. InvalidArgument if the memfd is not
  // sealed as above or its size differs from the announced one.
  [[nodiscard]] absl::StatusOr<SharedBuffer> RecvBuffer();

  // Passes `region`'s memfd; the peer maps the same memory with RecvRegion.
  [[nodiscard]] absl::Status SendRegion(const SharedRegion& region);
  // Receives a region sent with SendRegion and maps it read-write.
  // ResourceExhausted above Options::max_message_bytes; InvalidArgument if
  // the fd is not a memfd sealed against shrinking, growing and further
  // seals (F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL) but writable, or if its
  // size differs from the announced one.
  [[nodiscard]] absl::StatusOr<SharedRegion> RecvRegion();

  // A text or binary string, as bytes; same transport as SendBytes.
  [[nodiscard]] absl::Status SendString(absl::string_view s);
  [[nodiscard]] absl::StatusOr<std::string> RecvString();

  // Sends `message` serialized, together with its type name. InvalidArgument
  // if it cannot be serialized (missing proto2 required fields).
  [[nodiscard]] absl::Status SendProto(
      const google::protobuf::MessageLite& message);
  // Receives a message sent with SendProto into `message` (cleared first).
  // InvalidArgument, naming both, if the sender's type differs from
  // `message`'s, or if the payload does not parse.
  [[nodiscard]] absl::Status RecvProto(google::protobuf::MessageLite* message);

  // Passes a duplicate of `fd` (SCM_RIGHTS); the caller keeps its own.
  // InvalidArgument for a negative fd; sendmsg's EBADF for a closed one.
  [[nodiscard]] absl::Status SendFd(int fd);
  // Receives an fd sent with SendFd, close-on-exec. DataLoss if the message
  // arrived without one.
  [[nodiscard]] absl::StatusOr<UniqueFd> RecvFd();

  // Sends the code and message of `status`, OK included (payloads are not
  // sent). RecvStatus's outer status is the transport's; its value is the
  // status that was sent. DataLoss if the code is not canonical.
  //
  //   absl::StatusOr<absl::Status> remote = comms.RecvStatus();
  //   if (!remote.ok()) return remote.status();  // the channel failed
  //   if (!remote->ok()) return *remote;          // the peer reported this
  //
  // Beware that a StatusOr<absl::Status> constructed from an absl::Status
  // holds it as its value, not as its error.
  [[nodiscard]] absl::Status SendStatus(const absl::Status& status);
  [[nodiscard]] absl::StatusOr<absl::Status> RecvStatus();

  // The socket, e.g. to poll it for readability or to hand it to a child.
  // -1 for a moved-from Comms.
  int fd() const { return socket_.get(); }
  const Options& options() const { return options_; }

 private:
  struct Incoming;
  class Deadline;

  [[nodiscard]] absl::Status SendPayload(uint16_t tag,
                                         absl::Span<const uint8_t> payload);
  [[nodiscard]] absl::Status SendMemfd(uint16_t tag,
                                       absl::Span<const uint8_t> payload,
                                       const UniqueFd& memfd);
  [[nodiscard]] absl::Status SendFrame(uint16_t tag, uint16_t flags,
                                       absl::Span<const uint8_t> payload,
                                       int fd_to_pass);
  [[nodiscard]] absl::Status SendAll(struct iovec* iov, size_t iov_count,
                                     int fd_to_pass, const Deadline& deadline,
                                     size_t* sent);

  [[nodiscard]] absl::StatusOr<Incoming> RecvHeader(uint16_t expected_tag,
                                                    const Deadline& deadline);
  [[nodiscard]] absl::Status RecvPayloadInline(uint8_t* data, size_t size,
                                               const Deadline& deadline);
  [[nodiscard]] absl::StatusOr<SharedBuffer> RecvMemfd(
      Incoming& incoming, const Deadline& deadline);
  [[nodiscard]] absl::StatusOr<SharedBuffer> RecvShared(uint16_t tag);
  template <typename Container>
  [[nodiscard]] absl::Status RecvContainer(uint16_t tag, Container* out);
  [[nodiscard]] absl::Status RecvAll(uint8_t* data, size_t size,
                                     const Deadline& deadline,
                                     std::vector<UniqueFd>* fds,
                                     size_t* received);

  absl::Status BreakSend(absl::Status status);
  absl::Status BreakRecv(absl::Status status);

  UniqueFd socket_;
  Options options_;
  // SOCK_STREAM: a header and a small payload go in one sendmsg. Otherwise
  // (SOCK_SEQPACKET, or unknown) every piece is its own record, of the size
  // the receiver asks for.
  bool stream_ = false;
  // The first error that left a frame half sent / half received.
  absl::Status send_error_;
  absl::Status recv_error_;
};

namespace internal {

// The wire format, for tests and for readers of a packet capture. Both ends
// run on the same host, so integers are in host byte order.
//
// A frame is a FrameHeader, then `length` payload bytes. File descriptors
// ride as SCM_RIGHTS on the header's first byte. On SOCK_SEQPACKET the
// header is one record and the payload follows in records of at most
// kMaxChunkBytes.
inline constexpr uint32_t kFrameMagic = 0x43584253;  // "SBXC"

// What the payload is.
inline constexpr uint16_t kTagBytes = 1;   // raw bytes
inline constexpr uint16_t kTagString = 2;  // raw bytes
// uint32 type-name length, type name, serialized message.
inline constexpr uint16_t kTagProto = 3;
inline constexpr uint16_t kTagFd = 4;  // empty; one fd attached
// uint32 absl::StatusCode, message.
inline constexpr uint16_t kTagStatus = 5;

// uint64 size; the region's memfd attached.
inline constexpr uint16_t kTagRegion = 6;

// The payload is a uint64 size; the real payload is in the attached memfd,
// of that size, sealed with F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
// F_SEAL_SEAL. Only for payload-carrying tags.
inline constexpr uint16_t kFlagMemfd = 1;

struct FrameHeader {
  uint32_t magic;
  uint16_t tag;
  uint16_t flags;
  uint64_t length;
};
static_assert(sizeof(FrameHeader) == 16, "FrameHeader must be packed");

inline constexpr size_t kMaxChunkBytes = 64 << 10;
// File descriptors accepted on one recvmsg; more is a truncated control
// message (an error).
inline constexpr size_t kMaxFdsPerRead = 4;

}  // namespace internal
}  // namespace sandbox

#endif  // SANDBOX_COMMS_H_
