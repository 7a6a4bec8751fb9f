// Comms: every message type round-trips (over SOCK_STREAM and
// SOCK_SEQPACKET), memfd transfer and its seal checks, a peer that dies
// before or in the middle of a message, garbage and oversized frames, size
// limits on both ends, timeouts, type mismatches, stray fds, and a long
// conversation with a forked child.

#include "sandbox/comms.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/policy.pb.h"
#include "sandbox/result.pb.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A guard against hangs: every receive in these tests gives up after this.
constexpr absl::Duration kTestTimeout = absl::Seconds(10);

std::vector<uint8_t> Pattern(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; i += sizeof(uint32_t)) {
    const uint32_t word = random();
    std::memcpy(&bytes[i], &word, std::min(sizeof(word), size - i));
  }
  return bytes;
}

Comms::Options TestOptions() {
  Comms::Options options;
  options.receive_timeout = kTestTimeout;
  options.send_timeout = kTestTimeout;
  return options;
}

// Two connected ends of a socketpair of `type`, each with its own options.
std::pair<Comms, Comms> MakePair(int type = SOCK_STREAM,
                                 Comms::Options a = TestOptions(),
                                 Comms::Options b = TestOptions()) {
  int fds[2] = {-1, -1};
  EXPECT_EQ(socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds), 0)
      << strerror(errno);
  return {Comms(UniqueFd(fds[0]), a), Comms(UniqueFd(fds[1]), b)};
}

// Writes one hand-made frame (header, then `payload`) with `fds` attached,
// in one sendmsg.
void SendRawFrame(int socket, uint16_t tag, uint16_t flags, uint64_t length,
                  absl::string_view payload = "",
                  const std::vector<int>& fds = {},
                  uint32_t magic = internal::kFrameMagic) {
  internal::FrameHeader header = {magic, tag, flags, length};
  std::string frame(reinterpret_cast<const char*>(&header), sizeof(header));
  frame.append(payload.data(), payload.size());
  ASSERT_EQ(testing::SendWithRights(socket, frame.data(), frame.size(), fds),
            static_cast<ssize_t>(frame.size()))
      << strerror(errno);
}

std::string U64(uint64_t value) {
  return std::string(reinterpret_cast<const char*>(&value), sizeof(value));
}

// A memfd holding `content` with `seals` applied.
UniqueFd MakeMemfd(absl::string_view content, int seals) {
  UniqueFd memfd(memfd_create("comms_test", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  EXPECT_TRUE(memfd.valid()) << strerror(errno);
  EXPECT_EQ(write(memfd.get(), content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  if (seals != 0) {
    EXPECT_EQ(fcntl(memfd.get(), F_ADD_SEALS, seals), 0);
  }
  return memfd;
}

// True once every copy of the write end of the pipe whose read end is
// `read_end` is closed (the read end is non-blocking).
bool WriteEndClosed(int read_end) {
  char byte;
  return read(read_end, &byte, 1) == 0;
}

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe MakePipe() {
  int fds[2] = {-1, -1};
  EXPECT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0) << strerror(errno);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// A child process holding the other end of `host`'s channel.
struct Peer {
  pid_t pid = -1;
  Comms host;
};

// Forks a child that runs `body` on its end of a fresh pair and exits with
// its return value. The host end gets `host_options`.
Peer ForkPeer(const std::function<int(Comms&)>& body,
              Comms::Options host_options = TestOptions()) {
  auto [host, child] = MakePair(SOCK_STREAM, host_options, TestOptions());
  pid_t pid = fork();
  if (pid == 0) {
    { Comms drop = std::move(host); }
    _exit(body(child));
  }
  EXPECT_GT(pid, 0) << strerror(errno);
  return {pid, std::move(host)};
}

// The child's exit code; -1 (and the child killed) if it did not exit
// normally within kTestTimeout.
int WaitForExit(pid_t pid) {
  absl::Time give_up = absl::Now() + kTestTimeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > give_up) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Joins on destruction, so that a failed ASSERT in the test body does not
// terminate the process (a blocked sender gives up after kTestTimeout).
class ScopedThread {
 public:
  template <typename Function>
  explicit ScopedThread(Function&& function)
      : thread_(std::forward<Function>(function)) {}
  ~ScopedThread() { Join(); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// --- Round trips, over both socket types -----------------------------------

class CommsRoundTripTest : public ::testing::TestWithParam<int> {
 protected:
  int socket_type() const { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(SocketTypes, CommsRoundTripTest,
                         ::testing::Values(SOCK_STREAM, SOCK_SEQPACKET),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == SOCK_STREAM ? "Stream"
                                                            : "SeqPacket";
                         });

TEST_P(CommsRoundTripTest, Bytes) {
  auto [a, b] = MakePair(socket_type());
  const std::vector<size_t> sizes = {0,     1,      4096,
                                     65537, 300000, (size_t{1} << 20) + 1};
  ScopedThread sender([&, &a = a] {
    for (size_t i = 0; i < sizes.size(); ++i) {
      EXPECT_THAT(a.SendBytes(Pattern(sizes[i], i)), IsOk());
    }
  });
  for (size_t i = 0; i < sizes.size(); ++i) {
    absl::StatusOr<std::vector<uint8_t>> got = b.RecvBytes();
    ASSERT_THAT(got, IsOk()) << "size " << sizes[i];
    EXPECT_TRUE(*got == Pattern(sizes[i], i)) << "size " << sizes[i];
  }
  sender.Join();
}

TEST_P(CommsRoundTripTest, LargeBytesThroughTheSocket) {
  Comms::Options inline_only = TestOptions();
  inline_only.memfd_threshold = 0;
  auto [a, b] = MakePair(socket_type(), inline_only, inline_only);
  const std::vector<uint8_t> data = Pattern(3 << 20, 7);
  ScopedThread sender([&, &a = a] { EXPECT_THAT(a.SendBytes(data), IsOk()); });
  absl::StatusOr<SharedBuffer> got = b.RecvBuffer();
  sender.Join();
  ASSERT_THAT(got, IsOk());
  EXPECT_FALSE(got->mapped());
  ASSERT_EQ(got->size(), data.size());
  EXPECT_EQ(std::memcmp(got->data(), data.data(), data.size()), 0);
}

TEST_P(CommsRoundTripTest, Strings) {
  auto [a, b] = MakePair(socket_type());
  const std::vector<std::string> strings = {"", "hello",
                                            std::string("nul\0inside\xff", 11),
                                            std::string(200 << 10, 'x')};
  ScopedThread sender([&, &a = a] {
    for (const std::string& s : strings) EXPECT_THAT(a.SendString(s), IsOk());
  });
  for (const std::string& s : strings) {
    absl::StatusOr<std::string> got = b.RecvString();
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(*got, s);
  }
  sender.Join();
}

proto::Result NestedResult() {
  proto::Result result;
  result.set_status(proto::Result::VIOLATION);
  result.set_exit_code(-3);
  result.set_signal(31);
  result.set_pid(4242);
  proto::Violation* violation = result.mutable_violation();
  violation->set_syscall("ptrace");
  violation->set_nr(101);
  violation->set_arch("x86_64");
  for (uint64_t arg : {uint64_t{0}, uint64_t{1}, ~uint64_t{0},
                       uint64_t{1} << 63, uint64_t{42}, uint64_t{7}}) {
    violation->add_args(arg);
  }
  violation->set_pid(4243);
  result.mutable_setup_error()->set_step("bind /usr");
  result.mutable_setup_error()->set_errno_value(2);
  result.mutable_usage()->set_wall_time_seconds(1.25);
  result.mutable_usage()->set_peak_memory_bytes(uint64_t{1} << 40);
  return result;
}

TEST_P(CommsRoundTripTest, Protos) {
  auto [a, b] = MakePair(socket_type());
  const proto::Result result = NestedResult();
  proto::Policy big_policy;  // ~2 MiB: goes as a memfd on both socket types.
  for (int i = 0; i < 20000; ++i) {
    big_policy.add_env(absl::StrCat("VARIABLE_", i, "=", std::string(90, 'v')));
  }
  ASSERT_GT(big_policy.ByteSizeLong(), size_t{1} << 20);
  ScopedThread sender([&, &a = a] {
    EXPECT_THAT(a.SendProto(result), IsOk());
    EXPECT_THAT(a.SendProto(proto::Result()), IsOk());
    EXPECT_THAT(a.SendProto(big_policy), IsOk());
  });
  proto::Result got;
  got.set_exit_code(99);  // Must be cleared by RecvProto.
  ASSERT_THAT(b.RecvProto(&got), IsOk());
  EXPECT_TRUE(MessageDifferencer::Equals(got, result)) << got.DebugString();
  EXPECT_EQ(got.violation().args(2), ~uint64_t{0});
  ASSERT_THAT(b.RecvProto(&got), IsOk());
  EXPECT_TRUE(MessageDifferencer::Equals(got, proto::Result()));
  proto::Policy got_policy;
  ASSERT_THAT(b.RecvProto(&got_policy), IsOk());
  EXPECT_TRUE(MessageDifferencer::Equals(got_policy, big_policy));
  sender.Join();
}

TEST_P(CommsRoundTripTest, FdRefersToTheSameFile) {
  auto [a, b] = MakePair(socket_type());
  char path[] = "/tmp/comms_test_XXXXXX";
  UniqueFd file(mkostemp(path, O_CLOEXEC));
  ASSERT_TRUE(file.valid()) << strerror(errno);
  unlink(path);

  ASSERT_THAT(a.SendFd(file.get()), IsOk());
  absl::StatusOr<UniqueFd> got = b.RecvFd();
  ASSERT_THAT(got, IsOk());
  ASSERT_TRUE(got->valid());
  EXPECT_NE(got->get(), file.get());
  EXPECT_TRUE(fcntl(got->get(), F_GETFD) & FD_CLOEXEC);

  struct stat sent_stat, got_stat;
  ASSERT_EQ(fstat(file.get(), &sent_stat), 0);
  ASSERT_EQ(fstat(got->get(), &got_stat), 0);
  EXPECT_EQ(got_stat.st_dev, sent_stat.st_dev);
  EXPECT_EQ(got_stat.st_ino, sent_stat.st_ino);

  // Written through the received fd, read through the original.
  ASSERT_EQ(pwrite(got->get(), "through the channel", 19, 0), 19);
  char buffer[32] = {};
  ASSERT_EQ(pread(file.get(), buffer, sizeof(buffer), 0), 19);
  EXPECT_STREQ(buffer, "through the channel");

  EXPECT_THAT(a.SendFd(-1), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("invalid file descriptor")));
}

TEST_P(CommsRoundTripTest, StatusesOfEveryCode) {
  auto [a, b] = MakePair(socket_type());
  std::vector<absl::Status> statuses = {absl::OkStatus()};
  for (int code = 1; code <= 16; ++code) {
    statuses.emplace_back(static_cast<absl::StatusCode>(code),
                          absl::StrCat("message for code ", code));
  }
  statuses.push_back(absl::NotFoundError(""));
  statuses.push_back(absl::InternalError(std::string("nul\0byte", 8)));
  ScopedThread sender([&, &a = a] {
    for (const absl::Status& s : statuses) EXPECT_THAT(a.SendStatus(s), IsOk());
  });
  for (const absl::Status& s : statuses) {
    absl::StatusOr<absl::Status> got = b.RecvStatus();
    ASSERT_THAT(got, IsOk());
    EXPECT_EQ(*got, s);
    EXPECT_EQ(got->message(), s.message());
  }
  sender.Join();
}

// --- memfd transfer --------------------------------------------------------

// The permissions of the mapping that holds `address`, from /proc/self/maps.
std::string MappingPermissions(const void* address) {
  const uintptr_t target = reinterpret_cast<uintptr_t>(address);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    std::vector<std::string> range = absl::StrSplit(fields[0], '-');
    uintptr_t begin = std::stoull(range[0], nullptr, 16);
    uintptr_t end = std::stoull(range[1], nullptr, 16);
    if (target >= begin && target < end) return fields[1];
  }
  return "";
}

TEST(CommsTest, MemfdRoundTrip64MiB) {
  auto [a, b] = MakePair();
  std::vector<uint8_t> data = Pattern(64 << 20, 64);
  const std::vector<uint8_t> expected = data;
  ASSERT_THAT(a.SendBytesViaMemfd(data), IsOk());
  data.assign(data.size(), 0);  // The receiver sees what was sent.

  absl::StatusOr<SharedBuffer> got = b.RecvBuffer();
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(got->mapped());
  ASSERT_EQ(got->size(), expected.size());
  EXPECT_EQ(std::memcmp(got->data(), expected.data(), expected.size()), 0);
  EXPECT_EQ(MappingPermissions(got->data()), "r--s");

  // RecvBytes takes memfd messages too, and an empty one works.
  ASSERT_THAT(a.SendBytesViaMemfd(absl::MakeConstSpan(expected).first(1000)),
              IsOk());
  ASSERT_THAT(a.SendBytesViaMemfd({}), IsOk());
  absl::StatusOr<std::vector<uint8_t>> copy = b.RecvBytes();
  ASSERT_THAT(copy, IsOk());
  EXPECT_TRUE(std::equal(copy->begin(), copy->end(), expected.begin()));
  EXPECT_EQ(copy->size(), 1000u);
  absl::StatusOr<SharedBuffer> empty = b.RecvBuffer();
  ASSERT_THAT(empty, IsOk());
  EXPECT_TRUE(empty->empty());
}

TEST(CommsTest, LargeSendBytesGoesAsMemfdAtTheThreshold) {
  Comms::Options options = TestOptions();
  options.memfd_threshold = 4096;
  auto [a, b] = MakePair(SOCK_STREAM, options, options);
  ASSERT_THAT(a.SendBytes(Pattern(4095, 1)), IsOk());
  ASSERT_THAT(a.SendBytes(Pattern(4096, 2)), IsOk());
  absl::StatusOr<SharedBuffer> below = b.RecvBuffer();
  absl::StatusOr<SharedBuffer> at = b.RecvBuffer();
  ASSERT_THAT(below, IsOk());
  ASSERT_THAT(at, IsOk());
  EXPECT_FALSE(below->mapped());
  EXPECT_TRUE(at->mapped());
  EXPECT_TRUE(std::vector<uint8_t>(at->data(), at->data() + at->size()) ==
              Pattern(4096, 2));
}

// A hand-made frame announcing `announced` bytes in the attached `fd`, and
// the error its receiver must give.
struct RefusedFdCase {
  const char* name;
  UniqueFd fd;
  uint64_t announced;
  absl::StatusCode code;
  const char* message;
};

// Sends each case as a (tag, flags) frame, expects `receive` to refuse it as
// the case says, and the channel to stay in sync: such a frame is read
// whole.
template <typename Receive>
void ExpectRefusedAndInSync(Comms& a, Comms& b, uint16_t tag, uint16_t flags,
                            const std::vector<RefusedFdCase>& cases,
                            Receive receive) {
  for (const RefusedFdCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<int> fds;
    if (c.fd.valid()) fds.push_back(c.fd.get());
    SendRawFrame(a.fd(), tag, flags, 8, U64(c.announced), fds);
    EXPECT_THAT(receive(b), StatusIs(c.code, HasSubstr(c.message)));
    ASSERT_THAT(a.SendString("still in sync"), IsOk());
    absl::StatusOr<std::string> next = b.RecvString();
    ASSERT_THAT(next, IsOk());
    EXPECT_EQ(*next, "still in sync");
  }
}

TEST(CommsTest, RefusesMemfdsThatAreNotSealed) {
  auto [a, b] = MakePair();
  const std::string content = "ten bytes!";
  constexpr int kAllSeals =
      F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
  Pipe pipe = MakePipe();
  std::vector<RefusedFdCase> cases;
  cases.push_back({"no seals", MakeMemfd(content, 0), 10,
                   absl::StatusCode::kInvalidArgument, "not sealed"});
  cases.push_back({"writable", MakeMemfd(content, F_SEAL_SHRINK | F_SEAL_GROW),
                   10, absl::StatusCode::kInvalidArgument, "not sealed"});
  cases.push_back({"size differs", MakeMemfd(content, kAllSeals), 100,
                   absl::StatusCode::kInvalidArgument,
                   "holds 10 bytes, the header announced 100"});
  cases.push_back({"not a memfd", std::move(pipe.write_end), 10,
                   absl::StatusCode::kInvalidArgument, "not a sealable memfd"});
  cases.push_back({"no fd", UniqueFd(), 10, absl::StatusCode::kDataLoss,
                   "without a file descriptor"});
  ExpectRefusedAndInSync(a, b, internal::kTagBytes, internal::kFlagMemfd, cases,
                         [](Comms& b) { return b.RecvBuffer(); });
}

TEST(CommsTest, SparseMemfdFromASandboxeeIsRefused) {
  // A 64 MiB memfd with no page written: reading it would allocate 64 MiB
  // charged to the reader, which the sender never spent.
  Comms::Options untrusted;
  untrusted.untrusted_peer = true;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  Comms sender(UniqueFd(fds[0]), SOCK_STREAM);
  Comms host(UniqueFd(fds[1]), SOCK_STREAM, untrusted);
  constexpr uint64_t kSize = 64 << 20;
  UniqueFd sparse(memfd_create("sparse", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  ASSERT_TRUE(sparse.valid());
  ASSERT_EQ(ftruncate(sparse.get(), kSize), 0);
  // One page present, the rest holes.
  ASSERT_EQ(pwrite(sparse.get(), "x", 1, 0), 1);
  ASSERT_EQ(fcntl(sparse.get(), F_ADD_SEALS,
                  F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL),
            0);
  SendRawFrame(sender.fd(), internal::kTagBytes, internal::kFlagMemfd,
               sizeof(uint64_t), U64(kSize), {sparse.get()});
  absl::StatusOr<SharedBuffer> got = host.RecvBuffer();
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("sparse memfd")));
  // A full one of the same size is fine.
  ASSERT_THAT(sender.SendBytesViaMemfd(std::vector<uint8_t>(kSize, 7)), IsOk());
  absl::StatusOr<SharedBuffer> full = host.RecvBuffer();
  ASSERT_THAT(full, IsOk());
  EXPECT_EQ(full->size(), kSize);
}

// --- Shared regions ---------------------------------------------------------

TEST(CommsTest, SharedRegionIsTheSameMemoryInBothProcesses) {
  auto [host, peer] = MakePair();
  constexpr size_t kSize = 4 << 20;
  absl::StatusOr<SharedRegion> region = SharedRegion::Create(kSize);
  ASSERT_THAT(region, IsOk());
  ASSERT_EQ(region->size(), kSize);
  ASSERT_THAT(host.SendRegion(*region), IsOk());
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The child maps what it receives, writes into it, and checks what the
    // parent wrote after that.
    absl::StatusOr<SharedRegion> mine = peer.RecvRegion();
    if (!mine.ok() || mine->size() != kSize) _exit(1);
    memcpy(mine->data() + kSize - 6, "child", 6);
    if (!peer.SendString("written").ok()) _exit(2);
    absl::StatusOr<std::string> go = peer.RecvString();
    if (!go.ok()) _exit(3);
    _exit(memcmp(mine->data() + 4096, "parent", 7) == 0 ? 0 : 4);
  }
  absl::StatusOr<std::string> written = host.RecvString();
  ASSERT_THAT(written, IsOk());
  EXPECT_STREQ(reinterpret_cast<const char*>(region->data() + kSize - 6),
               "child");
  memcpy(region->data() + 4096, "parent", 7);
  ASSERT_THAT(host.SendString("check"), IsOk());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

TEST(CommsTest, SharedRegionCannotShrinkGrowOrBeFrozen) {
  absl::StatusOr<SharedRegion> region = SharedRegion::Create(8192);
  ASSERT_THAT(region, IsOk());
  // Whoever holds the memfd: no SIGBUS for the other end, no write seal.
  EXPECT_EQ(ftruncate(region->fd(), 4096), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(region->fd(), 16384), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(fcntl(region->fd(), F_ADD_SEALS, F_SEAL_WRITE), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_THAT(SharedRegion::Create(0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CommsTest, RefusesRegionsThatCouldFaultOrFreeze) {
  auto [a, b] = MakePair();
  const std::string content = "ten bytes!";
  constexpr int kRegionSeals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
  Pipe pipe = MakePipe();
  std::vector<RefusedFdCase> cases;
  cases.push_back({"no seals: could shrink", MakeMemfd(content, 0), 10,
                   absl::StatusCode::kInvalidArgument, "has seals 0x0"});
  cases.push_back({"could take a write seal",
                   MakeMemfd(content, F_SEAL_SHRINK | F_SEAL_GROW), 10,
                   absl::StatusCode::kInvalidArgument, "a region needs"});
  cases.push_back({"read-only", MakeMemfd(content, kRegionSeals | F_SEAL_WRITE),
                   10, absl::StatusCode::kInvalidArgument, "no write seal"});
  cases.push_back({"size differs", MakeMemfd(content, kRegionSeals), 100,
                   absl::StatusCode::kInvalidArgument,
                   "holds 10 bytes, the header announced 100"});
  cases.push_back({"above the limit", MakeMemfd(content, kRegionSeals),
                   uint64_t{1} << 40, absl::StatusCode::kResourceExhausted,
                   "above the limit"});
  cases.push_back({"not a memfd", std::move(pipe.write_end), 10,
                   absl::StatusCode::kInvalidArgument, "not a sealable memfd"});
  cases.push_back({"no fd", UniqueFd(), 10, absl::StatusCode::kDataLoss,
                   "without a file descriptor"});
  ExpectRefusedAndInSync(a, b, internal::kTagRegion, 0, cases,
                         [](Comms& b) { return b.RecvRegion(); });
  // A region frame whose payload is not a size breaks the stream.
  SendRawFrame(a.fd(), internal::kTagRegion, 0, 3, "abc");
  EXPECT_THAT(b.RecvRegion(), StatusIs(absl::StatusCode::kDataLoss,
                                       HasSubstr("3 payload bytes")));
  // And a region is not a fd message, nor the other way round.
  absl::StatusOr<SharedRegion> region = SharedRegion::Create(4096);
  ASSERT_THAT(region, IsOk());
  auto [c, d] = MakePair();
  ASSERT_THAT(c.SendRegion(*region), IsOk());
  EXPECT_THAT(d.RecvFd(), StatusIs(absl::StatusCode::kInvalidArgument,
                                   HasSubstr("received one of type region")));
}

// --- Peer death ------------------------------------------------------------

TEST(CommsTest, PeerExitingBeforeSendingIsUnavailable) {
  signal(SIGPIPE, SIG_DFL);  // A raised SIGPIPE would kill the test.
  Peer peer = ForkPeer([](Comms&) { return 0; });
  EXPECT_THAT(peer.host.RecvBytes(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("peer closed the channel")));
  // Between messages: not broken, just closed. A transport error is
  // RecvStatus's outer status.
  EXPECT_THAT(peer.host.RecvStatus(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("peer closed the channel")));
  EXPECT_THAT(peer.host.RecvString(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("peer closed the channel")));
  EXPECT_THAT(peer.host.SendBytes(Pattern(100, 1)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("peer closed the channel")));
  EXPECT_EQ(WaitForExit(peer.pid), 0);
}

TEST(CommsTest, PeerDyingMidMessageIsDataLoss) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* message;
  };
  internal::FrameHeader header = {internal::kFrameMagic, internal::kTagBytes, 0,
                                  1000};
  const std::string header_bytes(reinterpret_cast<const char*>(&header),
                                 sizeof(header));
  const std::vector<Case> cases = {
      {"half a header", header_bytes.substr(0, 8), "got 8 of 16 header bytes"},
      {"header and part of the payload", header_bytes + "0123456789",
       "got 10 of 1000 payload bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Peer peer = ForkPeer([&c](Comms& child) {
      if (write(child.fd(), c.bytes.data(), c.bytes.size()) !=
          static_cast<ssize_t>(c.bytes.size())) {
        return 1;
      }
      _exit(0);
    });
    const absl::Time start = absl::Now();
    EXPECT_THAT(peer.host.RecvBytes(), StatusIs(absl::StatusCode::kDataLoss,
                                                AllOf(HasSubstr("mid-message"),
                                                      HasSubstr(c.message))));
    EXPECT_LT(absl::Now() - start, kTestTimeout / 2);
    EXPECT_THAT(peer.host.RecvBytes(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("channel broken by an earlier error")));
    EXPECT_EQ(WaitForExit(peer.pid), 0);
  }
}

// --- Garbage, limits, timeouts, mismatches ---------------------------------

TEST(CommsTest, GarbageFramesAreRefusedAndBreakTheChannel) {
  struct Case {
    const char* name;
    std::function<void(int)> send;
    absl::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"random bytes",
       [](int fd) {
         std::vector<uint8_t> noise = Pattern(64, 12345);
         noise[0] = 0;  // Not the magic.
         ASSERT_EQ(write(fd, noise.data(), noise.size()), 64);
       },
       absl::StatusCode::kDataLoss, "bad magic"},
      {"bad magic",
       [](int fd) {
         SendRawFrame(fd, internal::kTagBytes, 0, 0, "", {}, 0xdeadbeef);
       },
       absl::StatusCode::kDataLoss,
       "bad magic 0xdeadbeef (expected 0x43584253)"},
      {"unknown tag", [](int fd) { SendRawFrame(fd, 77, 0, 0); },
       absl::StatusCode::kDataLoss, "unknown tag 77"},
      {"unknown flags",
       [](int fd) { SendRawFrame(fd, internal::kTagBytes, 0x80, 0); },
       absl::StatusCode::kDataLoss, "unknown flags 0x80"},
      {"huge length",
       [](int fd) {
         SendRawFrame(fd, internal::kTagBytes, 0, uint64_t{1} << 62);
       },
       absl::StatusCode::kResourceExhausted,
       "4611686018427387904 bytes: above the limit of 67108864 bytes"},
      {"memfd frame of the wrong size",
       [](int fd) {
         SendRawFrame(fd, internal::kTagBytes, internal::kFlagMemfd, 5,
                      "12345");
       },
       absl::StatusCode::kDataLoss, "malformed memfd frame"},
  };
  auto [other_a, other_b] = MakePair();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto [a, b] = MakePair();
    c.send(a.fd());
    EXPECT_THAT(b.RecvBytes(), StatusIs(c.code, HasSubstr(c.message)));
    EXPECT_THAT(b.RecvBytes(),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("channel broken by an earlier error")));
    // Sending is a separate direction and still works.
    EXPECT_THAT(b.SendString("reply"), IsOk());
    // Other channels are unaffected.
    ASSERT_THAT(other_a.SendString(c.name), IsOk());
    EXPECT_THAT(other_b.RecvString(), IsOk());
  }
}

TEST(CommsTest, OversizedHeaderIsRefusedBeforeReadingThePayload) {
  Comms::Options small = TestOptions();
  small.max_message_bytes = 1 << 20;
  auto [a, b] = MakePair(SOCK_STREAM, TestOptions(), small);
  // No payload follows: a receiver that tried to read it would time out.
  SendRawFrame(a.fd(), internal::kTagBytes, 0, 2 << 20);
  EXPECT_THAT(b.RecvBuffer(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("2097152 bytes: above the limit of 1048576")));
}

TEST(CommsTest, SizeLimitsOnBothEnds) {
  Comms::Options small = TestOptions();
  small.max_message_bytes = 1024;
  {
    SCOPED_TRACE("sender refuses, nothing written");
    auto [a, b] = MakePair(SOCK_STREAM, small, TestOptions());
    EXPECT_THAT(a.SendBytes(Pattern(1025, 1)),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         HasSubstr("cannot send a bytes message of 1025")));
    EXPECT_THAT(
        a.SendBytesViaMemfd(Pattern(1025, 1)),
        StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("1025")));
    EXPECT_THAT(a.SendString(std::string(2000, 's')),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         HasSubstr("string message of 2000")));
    EXPECT_THAT(a.SendProto(NestedResult()), IsOk());
    proto::Policy big;
    big.add_env(std::string(1024, 'e'));
    EXPECT_THAT(a.SendProto(big), StatusIs(absl::StatusCode::kResourceExhausted,
                                           HasSubstr("proto message")));
    ASSERT_THAT(a.SendBytes(Pattern(1024, 2)), IsOk());
    proto::Result result;
    EXPECT_THAT(b.RecvProto(&result), IsOk());
    absl::StatusOr<std::vector<uint8_t>> got = b.RecvBytes();
    ASSERT_THAT(got, IsOk());
    EXPECT_TRUE(*got == Pattern(1024, 2));
  }
  {
    SCOPED_TRACE("receiver refuses an inline message");
    auto [a, b] = MakePair(SOCK_STREAM, TestOptions(), small);
    ASSERT_THAT(a.SendBytes(Pattern(1025, 1)), IsOk());
    EXPECT_THAT(b.RecvBytes(),
                StatusIs(absl::StatusCode::kResourceExhausted,
                         AllOf(HasSubstr("received a bytes message of 1025"),
                               HasSubstr("max_message_bytes"))));
  }
  {
    SCOPED_TRACE("receiver refuses a memfd, and stays usable");
    auto [a, b] = MakePair(SOCK_STREAM, TestOptions(), small);
    ASSERT_THAT(a.SendBytesViaMemfd(Pattern(2048, 1)), IsOk());
    ASSERT_THAT(a.SendBytes(Pattern(10, 1)), IsOk());
    EXPECT_THAT(b.RecvBuffer(), StatusIs(absl::StatusCode::kResourceExhausted,
                                         HasSubstr("message of 2048 bytes")));
    EXPECT_THAT(b.RecvBytes(), IsOk());
  }
}

TEST(CommsTest, ReceiveTimeout) {
  Comms::Options quick = TestOptions();
  quick.receive_timeout = absl::Milliseconds(100);
  auto [a, b] = MakePair(SOCK_STREAM, TestOptions(), quick);

  absl::Time start = absl::Now();
  EXPECT_THAT(b.RecvString(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                       HasSubstr("timed out after 100ms")));
  absl::Duration waited = absl::Now() - start;
  EXPECT_GE(waited, absl::Milliseconds(100));
  EXPECT_LT(waited, absl::Seconds(5));

  // Nothing was read: the channel still works.
  ASSERT_THAT(a.SendString("late"), IsOk());
  EXPECT_THAT(b.RecvString(), IsOk());

  // A message that stops arriving half-way times out too, and breaks.
  SendRawFrame(a.fd(), internal::kTagString, 0, 100, "only ten..");
  start = absl::Now();
  EXPECT_THAT(b.RecvString(), StatusIs(absl::StatusCode::kDeadlineExceeded,
                                       HasSubstr("timed out")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_THAT(b.RecvString(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                       HasSubstr("channel broken")));
}

TEST(CommsTest, SendTimeoutWhenThePeerDoesNotRead) {
  Comms::Options quick = TestOptions();
  quick.send_timeout = absl::Milliseconds(100);
  quick.memfd_threshold = 0;
  auto [a, b] = MakePair(SOCK_STREAM, quick, TestOptions());
  const absl::Time start = absl::Now();
  EXPECT_THAT(a.SendBytes(Pattern(16 << 20, 1)),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("waiting to send")));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // Half a frame went out: sending is broken, receiving is not.
  EXPECT_THAT(a.SendString("x"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("channel broken by an earlier error")));
  ASSERT_THAT(b.SendString("the other way"), IsOk());
  EXPECT_THAT(a.RecvString(), IsOk());
}

TEST(CommsTest, TypeMismatchNamesBothTypes) {
  {
    auto [a, b] = MakePair();
    ASSERT_THAT(a.SendString("a string"), IsOk());
    proto::Result result;
    EXPECT_THAT(
        b.RecvProto(&result),
        StatusIs(
            absl::StatusCode::kInvalidArgument,
            HasSubstr("expected a message of type proto, received one of type "
                      "string")));
  }
  {
    auto [a, b] = MakePair();
    ASSERT_THAT(a.SendBytes(Pattern(3, 3)), IsOk());
    EXPECT_THAT(b.RecvFd(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("type fd, received one of "
                                               "type bytes")));
  }
  {
    auto [a, b] = MakePair();
    ASSERT_THAT(a.SendProto(NestedResult()), IsOk());
    proto::Policy policy;
    EXPECT_THAT(b.RecvProto(&policy),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("expected a proto message of type "
                                   "sandbox.proto.Policy, received one of "
                                   "type sandbox.proto.Result")));
    // The whole frame was read: the next message comes through.
    ASSERT_THAT(a.SendStatus(absl::OkStatus()), IsOk());
    EXPECT_THAT(b.RecvStatus(), IsOk());
  }
}

TEST(CommsTest, MalformedPayloads) {
  auto [a, b] = MakePair();
  const std::string name = "sandbox.proto.Result";
  const std::string bad_proto =
      std::string("\x14\0\0\0", 4) + name + "\xff\xff\xff";
  SendRawFrame(a.fd(), internal::kTagProto, 0, bad_proto.size(), bad_proto);
  proto::Result result;
  EXPECT_THAT(b.RecvProto(&result),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("received sandbox.proto.Result does not "
                                 "parse")));

  const std::string bad_status = std::string("\x63\0\0\0", 4) + "what";
  SendRawFrame(a.fd(), internal::kTagStatus, 0, bad_status.size(), bad_status);
  EXPECT_THAT(b.RecvStatus(), StatusIs(absl::StatusCode::kDataLoss,
                                       HasSubstr("unknown code 99")));

  SendRawFrame(a.fd(), internal::kTagFd, 0, 0);
  EXPECT_THAT(b.RecvFd(), StatusIs(absl::StatusCode::kDataLoss,
                                   HasSubstr("without a file descriptor")));
  // All three frames were read whole.
  ASSERT_THAT(a.SendString("ok"), IsOk());
  EXPECT_THAT(b.RecvString(), IsOk());
}

// --- File descriptors nobody asked for -------------------------------------

TEST(CommsTest, UnexpectedFdsAreClosed) {
  auto [a, b] = MakePair();
  Pipe on_bytes = MakePipe();
  Pipe extra = MakePipe();
  Pipe wanted = MakePipe();

  SendRawFrame(a.fd(), internal::kTagBytes, 0, 3, "abc",
               {on_bytes.write_end.get()});
  SendRawFrame(a.fd(), internal::kTagFd, 0, 0, "",
               {wanted.write_end.get(), extra.write_end.get()});
  on_bytes.write_end.reset();
  extra.write_end.reset();
  wanted.write_end.reset();

  absl::StatusOr<std::vector<uint8_t>> bytes = b.RecvBytes();
  ASSERT_THAT(bytes, IsOk());
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), "abc");
  EXPECT_TRUE(WriteEndClosed(on_bytes.read_end.get()));

  absl::StatusOr<UniqueFd> fd = b.RecvFd();
  ASSERT_THAT(fd, IsOk());
  EXPECT_TRUE(WriteEndClosed(extra.read_end.get()));
  EXPECT_FALSE(WriteEndClosed(wanted.read_end.get()));  // Held by `fd`.
  fd->reset();
  EXPECT_TRUE(WriteEndClosed(wanted.read_end.get()));
}

TEST(CommsTest, TooManyFdsIsAnErrorAndLeaksNothing) {
  auto [a, b] = MakePair();
  Pipe pipe = MakePipe();
  std::vector<UniqueFd> copies;
  std::vector<int> fds;
  for (size_t i = 0; i < internal::kMaxFdsPerRead + 4; ++i) {
    copies.emplace_back(fcntl(pipe.write_end.get(), F_DUPFD_CLOEXEC, 0));
    fds.push_back(copies.back().get());
  }
  SendRawFrame(a.fd(), internal::kTagFd, 0, 0, "", fds);
  copies.clear();
  pipe.write_end.reset();
  EXPECT_THAT(b.RecvFd(), StatusIs(absl::StatusCode::kDataLoss,
                                   HasSubstr("control message truncated")));
  EXPECT_TRUE(WriteEndClosed(pipe.read_end.get()));
}

TEST(CommsTest, MovedFromCommsRefusesCalls) {
  auto [a, b] = MakePair();
  Comms moved = std::move(a);
  EXPECT_EQ(a.fd(), -1);  // NOLINT(bugprone-use-after-move)
  EXPECT_THAT(
      a.SendString("x"),  // NOLINT(bugprone-use-after-move)
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("moved from")));
  ASSERT_THAT(moved.SendString("x"), IsOk());
  EXPECT_THAT(b.RecvString(), IsOk());
}

// --- A conversation with a forked child ------------------------------------

// The child answers each request: a string with the string reversed, a
// Result with its pid doubled into exit_code, bytes with a status carrying
// their size; "fd" with an fd it writes into first; "bye" ends it.
int EchoServer(Comms& comms) {
  for (;;) {
    absl::StatusOr<std::string> request = comms.RecvString();
    if (!request.ok()) return 10;
    if (*request == "bye") return 0;
    if (*request == "string") {
      absl::StatusOr<std::string> s = comms.RecvString();
      if (!s.ok()) return 11;
      if (!comms.SendString(std::string(s->rbegin(), s->rend())).ok()) {
        return 12;
      }
    } else if (*request == "proto") {
      proto::Result result;
      if (!comms.RecvProto(&result).ok()) return 13;
      result.set_exit_code(result.pid() * 2);
      if (!comms.SendProto(result).ok()) return 14;
    } else if (*request == "bytes") {
      absl::StatusOr<std::vector<uint8_t>> bytes = comms.RecvBytes();
      if (!bytes.ok()) return 15;
      absl::Status reply(static_cast<absl::StatusCode>(bytes->size() % 17),
                         absl::StrCat(bytes->size()));
      if (!comms.SendStatus(reply).ok()) return 16;
    } else if (*request == "fd") {
      absl::StatusOr<UniqueFd> fd = comms.RecvFd();
      if (!fd.ok() || write(fd->get(), "child", 5) != 5) return 17;
      if (!comms.SendFd(fd->get()).ok()) return 18;
    } else {
      return 19;
    }
  }
}

TEST(CommsTest, ManyMessagesBothWaysAcrossFork) {
  Peer peer = ForkPeer(EchoServer);
  Comms& host = peer.host;
  constexpr int kRounds = 300;
  for (int i = 0; i < kRounds; ++i) {
    SCOPED_TRACE(i);
    switch (i % 4) {
      case 0: {
        ASSERT_THAT(host.SendString("string"), IsOk());
        ASSERT_THAT(host.SendString(absl::StrCat("abc", i)), IsOk());
        absl::StatusOr<std::string> reply = host.RecvString();
        ASSERT_THAT(reply, IsOk());
        std::string expected = absl::StrCat("abc", i);
        EXPECT_EQ(*reply, std::string(expected.rbegin(), expected.rend()));
        break;
      }
      case 1: {
        proto::Result result = NestedResult();
        result.set_pid(i);
        ASSERT_THAT(host.SendString("proto"), IsOk());
        ASSERT_THAT(host.SendProto(result), IsOk());
        proto::Result reply;
        ASSERT_THAT(host.RecvProto(&reply), IsOk());
        EXPECT_EQ(reply.exit_code(), 2 * i);
        EXPECT_EQ(reply.violation().syscall(), "ptrace");
        break;
      }
      case 2: {
        ASSERT_THAT(host.SendString("bytes"), IsOk());
        ASSERT_THAT(host.SendBytes(Pattern(i * 37, i)), IsOk());
        absl::StatusOr<absl::Status> reply = host.RecvStatus();
        ASSERT_THAT(reply, IsOk());
        EXPECT_EQ(*reply,
                  absl::Status(static_cast<absl::StatusCode>(i * 37 % 17),
                               absl::StrCat(i * 37)));
        break;
      }
      case 3: {
        Pipe pipe = MakePipe();
        ASSERT_THAT(host.SendString("fd"), IsOk());
        ASSERT_THAT(host.SendFd(pipe.write_end.get()), IsOk());
        absl::StatusOr<UniqueFd> back = host.RecvFd();
        ASSERT_THAT(back, IsOk());
        char buffer[8] = {};
        ASSERT_EQ(read(pipe.read_end.get(), buffer, sizeof(buffer)), 5);
        EXPECT_STREQ(buffer, "child");
        struct stat ours, theirs;
        ASSERT_EQ(fstat(pipe.write_end.get(), &ours), 0);
        ASSERT_EQ(fstat(back->get(), &theirs), 0);
        EXPECT_EQ(ours.st_ino, theirs.st_ino);
        break;
      }
    }
  }
  // Pipelined: many requests before reading any reply.
  constexpr int kPipelined = 100;
  for (int i = 0; i < kPipelined; ++i) {
    ASSERT_THAT(host.SendString("string"), IsOk());
    ASSERT_THAT(host.SendString(std::string(i, 'p') + "q"), IsOk());
  }
  for (int i = 0; i < kPipelined; ++i) {
    absl::StatusOr<std::string> reply = host.RecvString();
    ASSERT_THAT(reply, IsOk());
    EXPECT_EQ(*reply, "q" + std::string(i, 'p'));
  }
  ASSERT_THAT(host.SendString("bye"), IsOk());
  EXPECT_EQ(WaitForExit(peer.pid), 0);
  EXPECT_THAT(host.RecvString(),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("peer closed the channel")));
}

}  // namespace
}  // namespace sandbox
