// Writes the seed corpora of the fuzzers: what the real senders produce.
//
//   fuzz_seeds OUT_DIR POLICIES_DIR
//
// OUT_DIR/comms_fuzzer: frames Comms sends (every Send* call, with its
// descriptors), recorded off the socket in comms_fuzz_input.h's format,
// with the matching Recv* calls. OUT_DIR/fork_server_request_fuzzer:
// SpawnRequests as ForkServerClient::Spawn makes them, for the shipped
// policies. OUT_DIR/setup_error_fuzzer: ChildMessages as the child's Fail()
// writes them. OUT_DIR/syscall_decoder_fuzzer: calls a program makes, with
// the memory their pointers lead to.

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sandbox/comms.h"
#include "sandbox/fd.h"
#include "sandbox/fork_server.pb.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "tests/fuzz/comms_fuzz_input.h"
#include "tests/fuzz/syscall_decoder_fuzz_input.h"

namespace sandbox::fuzz {
namespace {

[[noreturn]] void Fail(const std::string& what) {
  fprintf(stderr, "fuzz_seeds: %s\n", what.c_str());
  exit(1);
}

void Check(const absl::Status& status, const std::string& what) {
  if (!status.ok()) Fail(absl::StrCat(what, ": ", status.ToString()));
}

void WriteSeed(const std::string& dir, const std::string& name,
               const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Fail(absl::StrCat("cannot write ", dir, "/", name));
}

// --- comms_fuzzer ---

// The chunk header for a descriptor that arrived with a recorded read.
void AppendFd(std::string& out, int fd) {
  const int seals = fcntl(fd, F_GET_SEALS);
  struct stat st;
  if (fstat(fd, &st) != 0) Fail("fstat of a received fd");
  if (seals >= 0) {
    uint8_t bits = 0;
    if (seals & F_SEAL_SEAL) bits |= kSealSeal;
    if (seals & F_SEAL_SHRINK) bits |= kSealShrink;
    if (seals & F_SEAL_GROW) bits |= kSealGrow;
    if (seals & F_SEAL_WRITE) bits |= kSealWrite;
    if (seals & F_SEAL_FUTURE_WRITE) bits |= kSealFutureWrite;
    if (st.st_size > 0xffff) Fail("a memfd too large for a seed");
    std::string content(static_cast<size_t>(st.st_size), '\0');
    if (pread(fd, content.data(), content.size(), 0) !=
        static_cast<ssize_t>(content.size())) {
      Fail("pread of a received memfd");
    }
    out.push_back(static_cast<char>(FdKind::kMemfd));
    out.push_back(static_cast<char>(bits));
    AppendU16(out, static_cast<uint16_t>(content.size()));
    out += content;
  } else if (S_ISFIFO(st.st_mode)) {
    out.push_back(static_cast<char>(FdKind::kPipe));
  } else if (S_ISSOCK(st.st_mode)) {
    out.push_back(static_cast<char>(FdKind::kSocket));
  } else {
    out.push_back(static_cast<char>(FdKind::kDevNull));
  }
}

// Drains what was sent into `reader`, as chunks.
void AppendChunks(int reader, std::string& chunks) {
  for (;;) {
    std::vector<char> buffer(0xffff);
    struct iovec iov = {buffer.data(), buffer.size()};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = recvmsg(reader, &msg, MSG_DONTWAIT);
    if (n <= 0) return;
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) Fail("a truncated record");
    std::vector<UniqueFd> fds;
    TakeReceivedFds(msg, fds);
    if (fds.size() > 1) Fail("more than one fd in a read");
    if (fds.empty()) {
      chunks.push_back(static_cast<char>(FdKind::kNone));
    } else {
      AppendFd(chunks, fds.front().get());
    }
    AppendU16(chunks, static_cast<uint16_t>(n));
    chunks.append(buffer.data(), static_cast<size_t>(n));
  }
}

using Send = std::function<void(Comms&)>;

// What `sends` write into a socketpair of `type`, as chunks: the socket is
// drained after each, so that a stream's reads do not merge two frames
// (and move an fd onto the first).
std::string RecordChunks(int type, const std::vector<Send>& sends) {
  int pair[2];
  if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, pair) != 0) {
    Fail("socketpair");
  }
  UniqueFd reader(pair[1]);
  Comms::Options options;
  options.max_message_bytes = MaxMessageBytes(0x18);
  // Small enough that the memfd path shows up in seeds.
  options.memfd_threshold = 1024;
  Comms sender(UniqueFd(pair[0]), options);
  std::string chunks;
  for (const Send& send : sends) {
    send(sender);
    AppendChunks(reader.get(), chunks);
  }
  return chunks;
}

void WriteCommsSeed(const std::string& dir, const std::string& name,
                    const std::vector<Op>& ops,
                    const std::vector<Send>& sends) {
  for (const bool seqpacket : {false, true}) {
    // max_message_bytes 65536, the peer closed, a finite timeout.
    uint8_t config = 3 << 3;
    if (seqpacket) config |= kSeqpacket;
    std::string seed(1, static_cast<char>(config));
    seed.push_back(static_cast<char>(ops.size() - 1));
    for (Op op : ops) seed.push_back(static_cast<char>(op));
    seed += RecordChunks(seqpacket ? SOCK_SEQPACKET : SOCK_STREAM, sends);
    WriteSeed(dir, absl::StrCat(name, seqpacket ? "_seqpacket" : "_stream"),
              seed);
  }
}

proto::Policy LoadPolicy(const std::string& path) {
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(path);
  Check(builder.status(), path);
  return builder->proto();
}

void WriteCommsSeeds(const std::string& dir, const std::string& policies) {
  const std::string text = "hello, host";
  const std::vector<uint8_t> bytes(3000, 0xab);  // above memfd_threshold
  proto::Result result;
  result.set_status(proto::Result::SETUP_ERROR);
  result.mutable_setup_error()->set_step("bind");
  result.mutable_setup_error()->set_errno_name("ENOENT");
  const proto::Policy policy = LoadPolicy(policies + "/plugin.textproto");

  const Send send_bytes = [&](Comms& c) {
    Check(c.SendBytes({bytes.data(), 100}), "SendBytes");
  };
  const Send send_large_bytes = [&](Comms& c) {
    Check(c.SendBytes(bytes), "SendBytes");
  };
  const Send send_string = [&](Comms& c) {
    Check(c.SendString(text), "SendString");
  };
  const Send send_result = [&](Comms& c) {
    Check(c.SendProto(result), "SendProto");
  };
  const Send send_policy = [&](Comms& c) {
    Check(c.SendProto(policy), "SendProto");
  };
  const Send send_fd = [&](Comms& c) {
    UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    Check(c.SendFd(null.get()), "SendFd");
  };
  const Send send_status = [&](Comms& c) {
    Check(c.SendStatus(absl::NotFoundError("no such plugin")), "SendStatus");
  };
  const Send send_ok = [&](Comms& c) {
    Check(c.SendStatus(absl::OkStatus()), "SendStatus");
  };
  const Send send_via_memfd = [&](Comms& c) {
    Check(c.SendBytesViaMemfd({bytes.data(), 16}), "SendBytesViaMemfd");
  };
  const Send send_region = [&](Comms& c) {
    absl::StatusOr<SharedRegion> region = SharedRegion::Create(4096);
    Check(region.status(), "SharedRegion::Create");
    Check(c.SendRegion(*region), "SendRegion");
  };

  WriteCommsSeed(dir, "bytes", {Op::kRecvBytes}, {send_bytes});
  WriteCommsSeed(dir, "bytes_memfd", {Op::kRecvBuffer}, {send_large_bytes});
  WriteCommsSeed(dir, "string", {Op::kRecvString}, {send_string});
  WriteCommsSeed(dir, "proto_result", {Op::kRecvProtoResult}, {send_result});
  WriteCommsSeed(dir, "proto_policy", {Op::kRecvProtoPolicy}, {send_policy});
  WriteCommsSeed(dir, "fd", {Op::kRecvFd}, {send_fd});
  WriteCommsSeed(dir, "status", {Op::kRecvStatus}, {send_status});
  WriteCommsSeed(dir, "region", {Op::kRecvRegion}, {send_region});
  WriteCommsSeed(
      dir, "everything",
      {Op::kRecvBytes, Op::kRecvString, Op::kRecvProtoResult, Op::kRecvFd,
       Op::kRecvStatus, Op::kRecvBuffer, Op::kSendString, Op::kRecvRegion},
      {send_bytes, send_string, send_result, send_fd, send_ok, send_via_memfd,
       send_region});
}

// --- fork_server_request_fuzzer ---

// As ForkServerClient::Spawn makes the first request for a policy.
proto::SpawnRequest FirstRequest(const PolicyBuilder& builder) {
  absl::StatusOr<Policy> policy = builder.Build();
  Check(policy.status(), "Build");
  proto::SpawnRequest request;
  request.set_policy_id(internal::StateOf(*policy).id);
  *request.mutable_policy() = policy->proto();
  const std::vector<sock_filter>& program =
      internal::StateOf(*policy).seccomp.instructions;
  request.set_seccomp_program(
      std::string(reinterpret_cast<const char*>(program.data()),
                  program.size() * sizeof(sock_filter)));
  request.set_seccomp_uses_notify(
      internal::StateOf(*policy).seccomp.uses_notify);
  return request;
}

void WriteRequestSeeds(const std::string& dir, const std::string& policies) {
  for (const char* name : {"default", "plugin"}) {
    absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(
        absl::StrCat(policies, "/", name, ".textproto"));
    Check(builder.status(), name);
    proto::SpawnRequest request = FirstRequest(*builder);
    request.add_argv("/bin/true");
    request.add_argv("--version");
    request.add_env("A=B");
    request.set_cwd("/");
    for (int fd : {0, 1, 2}) request.add_fd_targets(fd);
    WriteSeed(dir, name, request.SerializeAsString());
    request.set_has_cgroup_fd(true);
    request.add_fd_targets(3);
    WriteSeed(dir, absl::StrCat(name, "_cgroup"), request.SerializeAsString());
  }
  // A zygote worker whose policy defers its filter.
  PolicyBuilder worker;
  worker.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  worker.SetHostname("worker").AddTmpfs("/tmp", 1 << 20);
  // What LockDown() itself needs once the filter is in.
  worker.AllowSyscalls({"close", "munmap"});
  proto::SpawnRequest request = FirstRequest(worker);
  request.set_worker("echo");
  WriteSeed(dir, "worker", request.SerializeAsString());
  // A bind source the host lacks: an early failure, nothing cloned.
  PolicyBuilder missing;
  missing.AddBind("/nonexistent/fuzz-seed").SetCwd("/tmp");
  request = FirstRequest(missing);
  request.add_argv("prog");
  WriteSeed(dir, "missing_bind", request.SerializeAsString());
}

// --- setup_error_fuzzer ---

void WriteSetupErrorSeeds(const std::string& dir) {
  struct Seed {
    const char* name;
    internal::SetupStep step;
    int error;
    int detail;
    const char* what;
  };
  using internal::SetupStep;
  const Seed seeds[] = {
      {"bind", SetupStep::kBind, ENOENT, 0, "bind /usr -> /usr"},
      {"exec", SetupStep::kExec, EACCES, -1, "/testee"},
      {"mask_proc", SetupStep::kMaskProc, EPERM, 3, "/proc/sys"},
      {"rlimit", SetupStep::kSetRlimit, EPERM, 7, "RLIMIT_NOFILE"},
      {"unknown_step", static_cast<SetupStep>(999), -1, -1, ""},
  };
  for (const Seed& seed : seeds) {
    internal::ChildMessage message = {};
    message.type = internal::ChildMessage::Type::kSetupError;
    message.step = seed.step;
    message.error = seed.error;
    message.detail = seed.detail;
    strncpy(message.what, seed.what, sizeof(message.what) - 1);
    for (uint32_t& us : message.phase_us) us = internal::kPhaseNotRun;
    WriteSeed(
        dir, seed.name,
        std::string(reinterpret_cast<const char*>(&message), sizeof(message)));
  }
}

// --- syscall_decoder_fuzzer ---

void WriteSyscallDecoderSeeds(const std::string& dir) {
  auto seed = [&](const char* name, long nr, uint8_t pointer_mask,
                  std::initializer_list<uint64_t> args, std::string memory) {
    DecoderInput input;
    input.nr = static_cast<uint16_t>(nr);
    input.pointer_mask = pointer_mask;
    std::copy(args.begin(), args.end(), input.args);
    input.memory = std::move(memory);
    WriteSeed(dir, name, EncodeDecoderInput(input));
  };
  const uint64_t at_fdcwd = static_cast<uint32_t>(AT_FDCWD);
  seed("openat", SYS_openat, 1 << 1, {at_fdcwd, 0, O_RDONLY | O_CLOEXEC},
       std::string("/etc/passwd\0", 12));
  seed("openat_creat", SYS_openat, 1 << 1,
       {at_fdcwd, 0, O_WRONLY | O_CREAT | O_TRUNC, 0644},
       std::string("../../x\0", 8));
  seed("openat_unterminated", SYS_openat, 1 << 1, {at_fdcwd, 0, O_RDONLY},
       std::string(1000, 'A'));
  seed("socket", SYS_socket, 0, {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0}, "");
  seed("ioctl", SYS_ioctl, 0, {1, TIOCGWINSZ, 0x7ffc0000}, "");
  seed("clone", SYS_clone, 0, {0x10000000 | 17, 0, 0, 0, 0}, "");
  // execve("/bin/sh", ["sh", "-c"], NULL): the path at 0, the array at 16,
  // its strings at 48.
  std::string exec_memory(48, '\0');
  memcpy(exec_memory.data(), "/bin/sh", 7);
  const uint64_t argv[3] = {kMemoryBase + 48, kMemoryBase + 51, 0};
  memcpy(exec_memory.data() + 16, argv, sizeof(argv));
  exec_memory.append("sh\0-c\0", 6);
  seed("execve", SYS_execve, 0b011, {0, 16, 0}, exec_memory);
  struct sockaddr_in in = {};
  in.sin_family = AF_INET;
  in.sin_port = htons(443);
  in.sin_addr.s_addr = htonl(0x0a000001);
  seed("connect", SYS_connect, 1 << 1, {3, 0, sizeof(in)},
       std::string(reinterpret_cast<const char*>(&in), sizeof(in)));
  seed("connect_unix", SYS_connect, 1 << 1, {3, 0, 14},
       std::string("\x01\x00/run/x.sock", 13));
}

}  // namespace
}  // namespace sandbox::fuzz

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s OUT_DIR POLICIES_DIR\n", argv[0]);
    return 2;
  }
  const std::string out = argv[1];
  const std::string policies = argv[2];
  sandbox::fuzz::WriteCommsSeeds(out + "/comms_fuzzer", policies);
  sandbox::fuzz::WriteRequestSeeds(out + "/fork_server_request_fuzzer",
                                   policies);
  sandbox::fuzz::WriteSetupErrorSeeds(out + "/setup_error_fuzzer");
  sandbox::fuzz::WriteSyscallDecoderSeeds(out + "/syscall_decoder_fuzzer");
  return 0;
}
