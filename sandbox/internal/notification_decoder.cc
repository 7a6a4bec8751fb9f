#include "sandbox/internal/notification_decoder.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <limits>

#include "absl/strings/str_cat.h"
#include "sandbox/internal/seccomp_compiler.h"

namespace sandbox::internal {

namespace {

// Whether /proc numbers processes as our pid namespace does, which is how
// the kernel gave us the notification's pid. A /proc of another namespace
// (an unshare without a remount) would name an unrelated process.
bool ProcIsOurs() {
  char self[32] = {};
  const ssize_t length = readlink("/proc/self", self, sizeof(self) - 1);
  return length > 0 && absl::string_view(self, static_cast<size_t>(length)) ==
                           absl::StrCat(getpid());
}

}  // namespace

NotifierMemory::NotifierMemory(int listener, uint64_t id, pid_t pid)
    : listener_(listener), id_(id) {
  if (pid <= 0 || !ProcIsOurs()) return;
  const std::string path = absl::StrCat("/proc/", pid, "/mem");
  mem_.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (mem_ && !StillWaiting()) mem_.reset();
}

bool NotifierMemory::StillWaiting() const {
  uint64_t id = id_;
  return ioctl(listener_, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

size_t NotifierMemory::Read(uint64_t address, char* buffer, size_t size) {
  // pread takes a signed offset; user addresses all fit.
  if (!mem_ || size == 0 ||
      address > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
    return 0;
  }
  ssize_t got;
  do {
    got = pread(mem_.get(), buffer, size, static_cast<off_t>(address));
  } while (got < 0 && errno == EINTR);
  if (!StillWaiting()) {
    // Exec'd or killed since: neither this read nor any later one is the
    // caller's.
    mem_.reset();
    return 0;
  }
  return got > 0 ? static_cast<size_t>(got) : 0;
}

std::string DecodeNotification(int listener,
                               const struct seccomp_notif& notification) {
  const struct seccomp_data& data = notification.data;
  uint64_t args[6];
  for (int i = 0; i < 6; ++i) args[i] = data.args[i];
  // The table is x86-64's; x32 calls come with its audit arch and bit 30
  // set.
  const bool native =
      data.arch == AUDIT_ARCH_X86_64 && (data.nr & 0x40000000) == 0;
  if (!native) return FormatRawCall(SyscallName(data.arch, data.nr), args);
  NotifierMemory memory(listener, notification.id,
                        static_cast<pid_t>(notification.pid));
  return DecodeCall(data.nr, args, &memory);
}

}  // namespace sandbox::internal
