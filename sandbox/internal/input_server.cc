#include "sandbox/internal/input_server.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/status_macros.h"

namespace sandbox::internal {
namespace {

// What an input's process tells its template, in a shared anonymous page
// the template made (the host never sees it). The input can write it too:
// it can only mislabel itself.
struct ChildState {
  uint32_t out_of_memory;
  // The input's private mapping failed (errno); the input never ran.
  uint32_t setup_errno;
  uint64_t output_size;
};

// Set in an input's process only.
ChildState* g_child_state = nullptr;
uint8_t* g_output = nullptr;
size_t g_output_capacity = 0;

void OnOutOfMemory() {
  g_child_state->out_of_memory = 1;
  _exit(1);
}

absl::Status SendReply(Comms& comms, const InputReply& reply) {
  return comms.SendBytes(
      {reinterpret_cast<const uint8_t*>(&reply), sizeof(reply)});
}

// Empties the directory at `dir` (depth-first, without following symlinks),
// making subdirectories an input locked (mode 000) accessible first. True
// if it ends empty.
bool EmptyDirectory(int dir, int depth) {
  bool removed_any = true;
  for (int pass = 0; removed_any && pass < 8; ++pass) {
    removed_any = false;
    bool left = false;
    if (lseek(dir, 0, SEEK_SET) != 0) return false;
    alignas(8) char buffer[4096];
    for (;;) {
      const long got = syscall(SYS_getdents64, dir, buffer, sizeof(buffer));
      if (got <= 0) break;
      for (long offset = 0; offset < got;) {
        struct linux_dirent64 {
          ino64_t d_ino;
          off64_t d_off;
          unsigned short d_reclen;
          unsigned char d_type;
          char d_name[];
        };
        auto* entry = reinterpret_cast<linux_dirent64*>(buffer + offset);
        offset += entry->d_reclen;
        const char* name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
        if (unlinkat(dir, name, 0) == 0) {
          removed_any = true;
          continue;
        }
        if (errno != EISDIR || depth >= 32) {
          left = true;
          continue;
        }
        fchmodat(dir, name, 0700, 0);
        const int sub =
            openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          EmptyDirectory(sub, depth + 1);
          close(sub);
        }
        if (unlinkat(dir, name, AT_REMOVEDIR) == 0) {
          removed_any = true;
        } else {
          left = true;
        }
      }
    }
    if (!left && !removed_any) return true;
  }
  return false;
}

// Reaps children of ours (inputs' orphans come to us: we are their
// subreaper) without waiting; the status of `input` if it was among them.
bool ReapReady(pid_t input, int* input_status) {
  bool found = false;
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
    if (pid <= 0) return found;
    if (pid == input) {
      *input_status = status;
      found = true;
    }
  }
}

// Kills whatever an input left running (every process of the pid namespace
// but its init and us) and reaps it, so that nothing of it runs on into the
// next input.
void Sweep() {
  int status;
  if (waitpid(-1, &status, WNOHANG | __WALL) < 0) return;  // ECHILD: none
  kill(-1, SIGKILL);
  while (waitpid(-1, &status, __WALL) > 0 || errno == EINTR) {
  }
}

}  // namespace

absl::StatusOr<InputServerSetup> ReceiveInputSetup(Comms& comms) {
  InputServerSetup setup;
  SBX_ASSIGN_OR_RETURN(setup.region, comms.RecvRegion());
  SBX_ASSIGN_OR_RETURN(std::vector<uint8_t> config, comms.RecvBytes());
  if (config.size() != sizeof(InputConfig)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input server: a configuration of ", config.size(),
                     " bytes (expected ", sizeof(InputConfig), ")"));
  }
  memcpy(&setup.config, config.data(), sizeof(setup.config));
  const InputConfig& c = setup.config;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (c.magic != kInputConfigMagic || c.input_capacity == 0 ||
      c.input_capacity % page != 0 || c.output_capacity % page != 0 ||
      c.input_capacity + c.output_capacity != setup.region.size()) {
    return absl::InvalidArgumentError(
        "input server: the configuration does not fit the region");
  }
  return setup;
}

absl::Status ServeInputsOn(
    Comms& comms, InputServerSetup& setup,
    const std::function<int(const uint8_t*, size_t)>& fn) {
  const InputConfig& config = setup.config;
  uint8_t* const input_area = setup.region.data();
  uint8_t* const output_area = input_area + config.input_capacity;
  // Orphans of inputs come back to us, to be swept.
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    return ErrnoStatus("input server: prctl(PR_SET_CHILD_SUBREAPER)");
  }
  // An input (same uid) cannot open our /proc/<pid>/mem, fd or environ.
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    return ErrnoStatus("input server: prctl(PR_SET_DUMPABLE, 0)");
  }
  // Signals an input sends us stay pending, harmless; SIGCHLD is taken with
  // sigtimedwait.
  sigset_t all;
  sigset_t original;
  sigfillset(&all);
  if (sigprocmask(SIG_SETMASK, &all, &original) != 0) {
    return ErrnoStatus("input server: sigprocmask");
  }
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  void* state_page = mmap(nullptr, sizeof(ChildState), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (state_page == MAP_FAILED) {
    return ErrnoStatus("input server: mmap(child state)");
  }
  auto* state = static_cast<ChildState*>(state_page);
  UniqueFd tmp;
  if (config.flags & kInputCleanTmp) {
    tmp.reset(open("/tmp", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!tmp) return ErrnoStatus("input server: open(/tmp) for clean_tmp");
  }
  const int sync_fd = SandboxSyncFd();
  cpu_set_t all_cpus;
  CPU_ZERO(&all_cpus);
  bool pinned = (config.flags & kInputPinTemplate) &&
                sched_getaffinity(0, sizeof(all_cpus), &all_cpus) == 0 &&
                CPU_COUNT(&all_cpus) > 1;
  if (pinned) {
    cpu_set_t one;
    CPU_ZERO(&one);
    const int cpu = sched_getcpu();
    CPU_SET(cpu >= 0 && CPU_ISSET(cpu, &all_cpus) ? cpu : 0, &one);
    pinned = sched_setaffinity(0, sizeof(one), &one) == 0;
  }

  InputReply reply = {};
  reply.kind = static_cast<uint32_t>(InputReplyKind::kReady);
  SBX_RETURN_IF_ERROR(SendReply(comms, reply));
  for (;;) {
    SBX_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, comms.RecvBytes());
    InputRequest request;
    if (bytes.size() != sizeof(request)) {
      return absl::InvalidArgumentError(
          absl::StrCat("input server: a request of ", bytes.size(), " bytes"));
    }
    memcpy(&request, bytes.data(), sizeof(request));
    if (request.size > config.input_capacity) {
      return absl::InvalidArgumentError(
          absl::StrCat("input server: an input of ", request.size,
                       " bytes (capacity ", config.input_capacity, ")"));
    }
    // The last input's output (the host has copied it) and whatever an
    // input wrote there besides: gone, the pages freed.
    if (config.output_capacity > 0 &&
        madvise(output_area, config.output_capacity, MADV_REMOVE) != 0) {
      return ErrnoStatus("input server: madvise(output, MADV_REMOVE)");
    }
    memset(state, 0, sizeof(*state));

    const pid_t child = fork();
    if (child < 0) return ErrnoStatus("input server: fork");
    if (child == 0) {
      // Only the template speaks for the sandbox.
      close(comms.fd());
      if (sync_fd >= 0) close(sync_fd);
      // The input is a private, read-only copy: writes to it (after an
      // mprotect) never reach the region, so the next input cannot see
      // them.
      if (mmap(input_area, config.input_capacity, PROT_READ,
               MAP_PRIVATE | MAP_FIXED, setup.region.fd(), 0) == MAP_FAILED) {
        state->setup_errno = static_cast<uint32_t>(errno);
        _exit(127);
      }
      // Every CPU the template had, before the input runs (if this fails,
      // the input runs on the template's one: slower, nothing else).
      if (pinned) sched_setaffinity(0, sizeof(all_cpus), &all_cpus);
      g_child_state = state;
      g_output = output_area;
      g_output_capacity = config.output_capacity;
      std::set_new_handler(OnOutOfMemory);
      sigprocmask(SIG_SETMASK, &original, nullptr);
      _exit(fn(input_area, request.size) & 0xff);
    }

    int status = 0;
    bool done = false;
    bool timed_out = false;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += static_cast<time_t>(config.timeout_ns / 1000000000);
    deadline.tv_nsec += static_cast<long>(config.timeout_ns % 1000000000);
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_nsec -= 1000000000;
      ++deadline.tv_sec;
    }
    while (!(done = ReapReady(child, &status))) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      int64_t left_ns = (int64_t{deadline.tv_sec} - now.tv_sec) * 1000000000 +
                        (deadline.tv_nsec - now.tv_nsec);
      if (left_ns <= 0) {
        timed_out = true;
        kill(child, SIGKILL);
        while (waitpid(child, &status, __WALL) < 0 && errno == EINTR) {
        }
        break;
      }
      struct timespec wait = {static_cast<time_t>(left_ns / 1000000000),
                              static_cast<long>(left_ns % 1000000000)};
      sigtimedwait(&child_signal, nullptr, &wait);
    }
    Sweep();
    if (state->setup_errno != 0) {
      return absl::ErrnoToStatus(
          static_cast<int>(state->setup_errno),
          "input server: mmap(MAP_PRIVATE) of the input in its process");
    }

    reply = {};
    reply.sequence = request.sequence;
    if (timed_out) {
      reply.kind = static_cast<uint32_t>(InputReplyKind::kTimedOut);
      reply.value = SIGKILL;
    } else if (state->out_of_memory != 0) {
      reply.kind = static_cast<uint32_t>(InputReplyKind::kOutOfMemory);
    } else if (WIFSIGNALED(status)) {
      reply.kind = static_cast<uint32_t>(InputReplyKind::kSignaled);
      reply.value = WTERMSIG(status);
    } else {
      reply.kind = static_cast<uint32_t>(InputReplyKind::kExited);
      reply.value = WEXITSTATUS(status);
    }
    reply.output_size =
        std::min<uint64_t>(state->output_size, config.output_capacity);
    if (tmp && !EmptyDirectory(tmp.get(), 0)) {
      reply.flags |= kInputTmpNotEmptied;
    }
    SBX_RETURN_IF_ERROR(SendReply(comms, reply));
  }
}

void ReportInputServerFailure(Comms& comms, const absl::Status& why) {
  if (why.ok() || why.code() == absl::StatusCode::kUnavailable) return;
  InputReply reply = {};
  reply.kind = static_cast<uint32_t>(InputReplyKind::kFailed);
  reply.value = static_cast<int32_t>(why.code());
  if (SendReply(comms, reply).ok()) {
    (void)comms.SendString(why.message().substr(0, kMaxFailureMessage)).ok();
  }
}

void WriteInputOutputInChild(absl::Span<const uint8_t> output) {
  if (g_child_state == nullptr) return;
  const size_t size = std::min(output.size(), g_output_capacity);
  memcpy(g_output, output.data(), size);
  g_child_state->output_size = size;
}

}  // namespace sandbox::internal
