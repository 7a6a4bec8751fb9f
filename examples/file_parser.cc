// file_parser: a host that hands untrusted files to a sandboxed parser.
//
// Use case: a mail scanner, an upload service or a desktop indexer must look
// inside files that anyone could have crafted, with parsing code it cannot
// fully trust. Here the format is gzip and the parser is zlib (Debian's
// libz); each file goes to a fresh zygote worker (no exec: the worker is a
// function of this binary) that
//   - initialises zlib while it still has the policy's full set of calls,
//   - locks itself down (seccomp.defer_until_lockdown, then LockDown()):
//     from then on it may only talk over its Comms channel and manage
//     memory — no open, no exec, no network,
//   - receives the file as a sealed memfd, gunzips it, and replies with a
//     summary.
// Whatever a file does to the worker, the host reports it and goes on with
// the next file:
//   <file>: ok <size, crc32, first line>
//   <file>: rejected <why>          the parser refused the file cleanly
//   <file>: crashed (signal N)
//   <file>: timeout                 the wall-time limit (2 s) ended it
//   <file>: violation <syscall>     it tried a call the policy forbids
//
// To show containment the worker carries four bugs that real parsers have
// had, each marked BUG below: a null decoder called for an unknown
// compression method (crash), the whole output kept in memory (a
// decompression bomb exhausts the 256 MiB address-space limit: abort), a
// loop that waits for more input that never comes (timeout), and `gunzip
// -N`-style restoring of the stored file name without sanitising it (a path
// traversal, stopped at the open).
//
//   build/bin/file_parser              # makes demo inputs in a temp dir
//   build/bin/file_parser FILE...      # your own files
//
// Exit status: 0 when every file got an outcome, 1 if the host itself
// failed (bad usage, a sandbox could not be started).

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "sandbox/comms.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"

namespace {

// --- The worker (runs in the sandbox) ---

constexpr uint8_t kFlagHeaderCrc = 0x02;
constexpr uint8_t kFlagExtra = 0x04;
constexpr uint8_t kFlagName = 0x08;
constexpr uint8_t kFlagComment = 0x10;

struct GzipHeader {
  uint8_t method = 0;
  uint32_t mtime = 0;
  std::string name;  // FNAME: the original file name, if stored
};

// The fixed part and the optional fields of RFC 1952's member header.
bool ParseHeader(absl::Span<const uint8_t> in, GzipHeader& header) {
  if (in.size() < 10 || in[0] != 0x1f || in[1] != 0x8b) return false;
  header.method = in[2];
  const uint8_t flags = in[3];
  header.mtime = in[4] | in[5] << 8 | in[6] << 16 | uint32_t{in[7]} << 24;
  size_t at = 10;
  if (flags & kFlagExtra) {
    if (at + 2 > in.size()) return false;
    at += 2 + (in[at] | in[at + 1] << 8);
  }
  for (uint8_t field : {kFlagName, kFlagComment}) {
    if (!(flags & field)) continue;
    const size_t start = at;
    while (at < in.size() && in[at] != 0) ++at;
    if (at >= in.size()) return false;
    if (field == kFlagName) {
      header.name.assign(reinterpret_cast<const char*>(&in[start]), at - start);
    }
    ++at;
  }
  if (flags & kFlagHeaderCrc) at += 2;
  return at <= in.size();
}

using Decoder = bool (*)(z_stream& stream, absl::Span<const uint8_t> in,
                         std::vector<uint8_t>& out, std::string& error);

bool Inflate(z_stream& stream, absl::Span<const uint8_t> in,
             std::vector<uint8_t>& out, std::string& error) {
  stream.next_in = const_cast<Bytef*>(in.data());
  stream.avail_in = static_cast<uInt>(in.size());
  // BUG: the whole output is kept in memory, however large it gets: a small
  // decompression bomb grows it until the allocator gives up.
  // BUG: the loop ends only at the end of the stream or on corrupt data. A
  // truncated file makes inflate() return Z_BUF_ERROR (no progress
  // possible) forever.
  for (;;) {
    const size_t used = out.size();
    out.resize(used + (64 << 10));
    stream.next_out = out.data() + used;
    stream.avail_out = 64 << 10;
    const int ret = inflate(&stream, Z_NO_FLUSH);
    out.resize(out.size() - stream.avail_out);
    if (ret == Z_STREAM_END) return true;
    if (ret == Z_DATA_ERROR || ret == Z_MEM_ERROR || ret == Z_NEED_DICT) {
      error = stream.msg != nullptr ? stream.msg : "corrupt data";
      return false;
    }
  }
}

// By the header's compression method; gzip defines only 8, deflate.
Decoder g_decoders[256];

int GunzipWorker(sandbox::Comms& comms) {
  // Initialisation happens before the lockdown, with the policy's whole
  // allow-list available (a real parser might load tables or fonts here).
  g_decoders[Z_DEFLATED] = Inflate;
  z_stream stream = {};
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return 2;  // 16: gzip framing
  if (!sandbox::LockDown().ok()) return 2;

  // From here on the input is hostile.
  absl::StatusOr<sandbox::SharedBuffer> input = comms.RecvBuffer();
  if (!input.ok()) return 2;
  GzipHeader header;
  if (!ParseHeader(input->span(), header)) {
    return comms.SendString("not a gzip file").ok() ? 1 : 2;
  }
  // BUG: no check that a decoder exists for this method: an unknown one
  // calls a null pointer.
  Decoder decode = g_decoders[header.method];
  std::vector<uint8_t> output;
  std::string error;
  if (!decode(stream, input->span(), output, error)) {
    return comms.SendString(error).ok() ? 1 : 2;
  }
  // Like `gunzip -N`: restore the name the file had when it was compressed.
  // BUG: the name is not sanitised, so "../../.bashrc" escapes the output
  // directory. In the sandbox the open itself is forbidden.
  if (!header.name.empty()) {
    const int fd = open(header.name.c_str(),
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      if (write(fd, output.data(), output.size()) < 0) return 2;
      close(fd);
    }
  }
  std::string first_line(output.begin(), output.end());
  first_line = first_line.substr(0, first_line.find('\n')).substr(0, 40);
  const uLong crc = crc32(crc32(0, nullptr, 0), output.data(),
                          static_cast<uInt>(output.size()));
  return comms.SendString(
                  absl::StrFormat("%d bytes, crc32 %08x, first line \"%s\"",
                                  output.size(), crc, first_line))
                 .ok()
             ? 0
             : 2;
}

// --- The host ---

absl::StatusOr<sandbox::Policy> WorkerPolicy() {
  sandbox::PolicyBuilder builder;  // every namespace, an empty root
  builder
      .SetName("gunzip-worker")
      // After LockDown(): Comms (sendmsg, recvmsg, poll, close, fcntl for
      // the memfd's seals, fstat/newfstatat for its size, mmap/munmap to
      // map it), memory, exit, and what abort() needs to raise SIGABRT.
      .AllowSyscalls(
          {"sendmsg",    "recvmsg",        "poll",         "close",  "fcntl",
           "fstat",      "newfstatat",     "mmap",         "munmap", "mremap",
           "brk",        "madvise",        "futex",        "write",  "exit",
           "exit_group", "rt_sigprocmask", "rt_sigaction", "getpid", "gettid",
           "tgkill"})
      .SetWallTime(absl::Seconds(2))
      .SetCpuTime(absl::Seconds(3))
      .SetAddressSpace(uint64_t{256} << 20)
      .SetMaxOpenFiles(16);
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  return builder.Build();
}

std::string Outcome(const sandbox::Policy& policy, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "unreadable";
  std::stringstream contents;
  contents << in.rdbuf();
  const std::string bytes = contents.str();

  sandbox::Command command;
  command.worker = "gunzip";
  command.inherit_stdio = false;
  absl::StatusOr<std::unique_ptr<sandbox::Sandbox>> worker =
      sandbox::Sandbox::Spawn(policy, command);
  if (!worker.ok()) return absl::StrCat("error ", worker.status().ToString());
  sandbox::Comms& comms = *(*worker)->comms();
  // As a memfd, whatever the size: the send never waits for the worker, so
  // a worker that never reads cannot block the host.
  absl::Status sent = comms.SendBytesViaMemfd(
      {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  // Wait() enforces the wall-time limit; the reply, if any, waits in the
  // socket.
  absl::StatusOr<sandbox::proto::Result> result = (*worker)->Wait();
  if (!result.ok()) return absl::StrCat("error ", result.status().ToString());
  switch (result->status()) {
    case sandbox::proto::Result::OK: {
      if (!sent.ok()) return absl::StrCat("error ", sent.ToString());
      absl::StatusOr<std::string> reply = comms.RecvString();
      if (!reply.ok()) {
        return absl::StrCat("exited ", result->exit_code(), " without reply");
      }
      return absl::StrCat(result->exit_code() == 0 ? "ok " : "rejected ",
                          *reply);
    }
    case sandbox::proto::Result::SIGNALED:
      return absl::StrCat("crashed (signal ", result->signal(), ")");
    case sandbox::proto::Result::TIMEOUT:
      return "timeout";
    case sandbox::proto::Result::VIOLATION:
      return absl::StrCat("violation ", result->violation().decoded());
    default:
      return absl::AsciiStrToLower(
          sandbox::proto::Result::Status_Name(result->status()));
  }
}

// --- Demo inputs ---

bool WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  return static_cast<bool>(out);
}

// gzip of `size` bytes from `chunk` repeated, with `name` stored in the
// header when not empty.
std::string Gzip(const std::string& chunk, size_t size,
                 const std::string& name = "", int level = Z_BEST_COMPRESSION) {
  z_stream stream = {};
  deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  gz_header header = {};
  std::string stored_name = name;
  if (!name.empty()) {
    header.name = reinterpret_cast<Bytef*>(stored_name.data());
    deflateSetHeader(&stream, &header);
  }
  std::string out;
  std::vector<uint8_t> buffer(1 << 16);
  size_t remaining = size;
  int flush = Z_NO_FLUSH;
  do {
    const size_t take = std::min(remaining, chunk.size());
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    stream.avail_in = static_cast<uInt>(take);
    remaining -= take;
    flush = remaining == 0 ? Z_FINISH : Z_NO_FLUSH;
    do {
      stream.next_out = buffer.data();
      stream.avail_out = buffer.size();
      deflate(&stream, flush);
      out.append(reinterpret_cast<char*>(buffer.data()),
                 buffer.size() - stream.avail_out);
    } while (stream.avail_out == 0);
  } while (flush != Z_FINISH);
  deflateEnd(&stream);
  return out;
}

std::string Lines(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    absl::StrAppend(&text, "line ", i, ": the quick brown fox\n");
  }
  return text;
}

// A valid file, a text file, and one hostile file per bug, then a valid one
// again: the host must get to it.
std::vector<std::string> MakeDemoInputs(const std::string& dir) {
  const std::string hello = "Hello from a sandboxed gunzip!\n";
  std::string truncated = Gzip(Lines(2000), 2000 * 30);
  truncated.resize(truncated.size() / 2);
  std::string bad_method = Gzip(hello, hello.size());
  bad_method[2] = 9;  // CM: not deflate
  const std::vector<std::pair<std::string, std::string>> files = {
      {"hello.gz", Gzip(hello, hello.size())},
      {"notes.txt", "not compressed at all\n"},
      {"truncated.gz", truncated},
      // 384 MiB of zeros in 1.7 MB (fast to make; a real bomb packs more).
      {"bomb.gz",
       Gzip(std::string(1 << 20, '\0'), size_t{384} << 20, "", Z_BEST_SPEED)},
      {"bad-method.gz", bad_method},
      {"traversal.gz", Gzip(hello, hello.size(), "../../../tmp/.bashrc")},
      {"lines.gz", Gzip(Lines(100), Lines(100).size())},
  };
  std::vector<std::string> paths;
  for (const auto& [name, bytes] : files) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (!WriteFile(path, bytes)) return {};
    paths.push_back(path);
  }
  return paths;
}

}  // namespace

int main(int argc, char** argv) {
  // First thing in main, while single-threaded: the workers, then the
  // zygote.
  absl::Status started = sandbox::RegisterWorker("gunzip", GunzipWorker);
  if (started.ok()) started = sandbox::InitForkServer(argc, argv);
  if (!started.ok()) {
    std::fprintf(stderr, "file_parser: %s\n", started.ToString().c_str());
    return 1;
  }
  absl::StatusOr<sandbox::Policy> policy = WorkerPolicy();
  if (!policy.ok()) {
    std::fprintf(stderr, "file_parser: %s\n",
                 policy.status().ToString().c_str());
    return 1;
  }
  std::vector<std::string> paths(argv + 1, argv + argc);
  std::string demo_dir;
  if (paths.empty()) {
    char dir[] = "/tmp/file_parser-XXXXXX";
    if (mkdtemp(dir) == nullptr) {
      std::perror("file_parser: mkdtemp");
      return 1;
    }
    demo_dir = dir;
    paths = MakeDemoInputs(demo_dir);
    if (paths.empty()) {
      std::fprintf(stderr, "file_parser: cannot write demo inputs\n");
      return 1;
    }
    std::printf("demo inputs in %s\n", demo_dir.c_str());
  }
  int status = 0;
  for (const std::string& path : paths) {
    const std::string outcome = Outcome(*policy, path);
    if (outcome.rfind("error ", 0) == 0) status = 1;
    std::printf("%s: %s\n", path.c_str(), outcome.c_str());
    std::fflush(stdout);
  }
  if (!demo_dir.empty()) {
    for (const std::string& path : paths) unlink(path.c_str());
    rmdir(demo_dir.c_str());
  }
  return status;
}
