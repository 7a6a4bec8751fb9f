// RunCapturingOutput (sandbox.h): the sandboxee's stdio as data. The host
// reads the output pipes without blocking, next to the sandbox's pidfd, so
// neither a sandboxee that floods them nor one that never closes them can
// hold it.

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "sandbox/fd.h"
#include "sandbox/internal/util.h"
#include "sandbox/sandbox.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

// The stdin bytes in a memfd sealed against any change, at offset 0.
absl::StatusOr<UniqueFd> StdinMemfd(const std::string& data) {
  UniqueFd memfd(
      memfd_create("sandbox-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!memfd) return ErrnoStatus("memfd_create(stdin)");
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        write(memfd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoStatus("write(stdin memfd)");
    done += static_cast<size_t>(n);
  }
  if (lseek(memfd.get(), 0, SEEK_SET) != 0) {
    return ErrnoStatus("lseek(stdin memfd)");
  }
  if (fcntl(memfd.get(), F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    return ErrnoStatus("fcntl(stdin memfd, F_ADD_SEALS)");
  }
  return memfd;
}

// One output stream: the host's non-blocking read end and what it kept.
struct Stream {
  UniqueFd read_end;
  std::string* kept = nullptr;
  uint64_t* discarded = nullptr;
  bool open = true;
};

// Reads what is there now, keeping up to `cap` bytes in all; false at end
// of file or on an error (the stream is done).
bool Drain(Stream& stream, size_t cap) {
  char buffer[64 << 10];
  for (;;) {
    const ssize_t n = read(stream.read_end.get(), buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    const size_t room = cap - std::min(cap, stream.kept->size());
    const size_t keep = std::min(room, static_cast<size_t>(n));
    stream.kept->append(buffer, keep);
    *stream.discarded += static_cast<uint64_t>(n) - keep;
  }
}

}  // namespace

absl::StatusOr<CapturedRun> RunCapturingOutput(const Policy& policy,
                                               const Command& command,
                                               const CaptureOptions& options,
                                               SpawnMode mode) {
  CapturedRun run;
  SBX_ASSIGN_OR_RETURN(UniqueFd stdin_memfd, StdinMemfd(options.stdin_data));
  Stream streams[2];
  UniqueFd write_ends[2];
  for (int i = 0; i < 2; ++i) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe2(output)");
    streams[i].read_end.reset(pipe_fds[0]);
    write_ends[i].reset(pipe_fds[1]);
    if (fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK) != 0) {
      return ErrnoStatus("fcntl(output, O_NONBLOCK)");
    }
  }
  streams[0].kept = &run.stdout_data;
  streams[0].discarded = &run.stdout_discarded;
  streams[1].kept = &run.stderr_data;
  streams[1].discarded = &run.stderr_discarded;

  Command captured = command;
  captured.inherit_stdio = false;
  captured.fds.erase(std::remove_if(captured.fds.begin(), captured.fds.end(),
                                    [](const FdMapping& m) {
                                      return m.sandbox_fd >= 0 &&
                                             m.sandbox_fd <= 2;
                                    }),
                     captured.fds.end());
  captured.fds.push_back({stdin_memfd.get(), 0});
  captured.fds.push_back({write_ends[0].get(), 1});
  captured.fds.push_back({write_ends[1].get(), 2});
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                       Sandbox::Spawn(policy, captured, mode));
  // Only the sandbox holds the write ends now: its end is their end.
  stdin_memfd.reset();
  for (UniqueFd& end : write_ends) end.reset();

  const size_t cap = options.max_output_bytes;
  bool ended = sandbox->pidfd() < 0;
  while (!ended && (streams[0].open || streams[1].open)) {
    struct pollfd fds[3] = {
        {streams[0].open ? streams[0].read_end.get() : -1, POLLIN, 0},
        {streams[1].open ? streams[1].read_end.get() : -1, POLLIN, 0},
        {sandbox->pidfd(), POLLIN, 0},
    };
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll(sandbox output)");
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents != 0) streams[i].open = Drain(streams[i], cap);
    }
    ended = fds[2].revents != 0;
  }
  SBX_ASSIGN_OR_RETURN(run.result, sandbox->Wait());
  // What it wrote before it ended; nothing more is waited for.
  for (Stream& stream : streams) {
    if (stream.open) Drain(stream, cap);
  }
  return run;
}

}  // namespace sandbox
