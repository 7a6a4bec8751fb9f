// A seccomp user notification as a person reads it: the call and its
// arguments (internal/syscall_decoder.h), with the strings its caller
// passed read from the caller's memory while it waits in the call.
//
//   struct seccomp_notif notification = ...;  // SECCOMP_IOCTL_NOTIF_RECV
//   std::string line = DecodeNotification(listener, notification);
//   // openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)
//
// Call it before answering or killing the caller: after, its memory is
// gone or no longer what it passed.

#ifndef SANDBOX_INTERNAL_NOTIFICATION_DECODER_H_
#define SANDBOX_INTERNAL_NOTIFICATION_DECODER_H_

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "sandbox/fd.h"
#include "sandbox/internal/syscall_decoder.h"

namespace sandbox::internal {

// The memory of the process waiting in notification `id` of `listener`,
// read the way seccomp_unotify(2) prescribes: /proc/<pid>/mem is opened,
// then the notification checked to be still pending, so that the file is
// that process's and not a successor's under a reused pid; and each read
// is checked the same way after it, so that what was read is what the
// caller had while it waited (not what an exec or a death left there).
// Where a check fails, nothing more is read: Read() returns 0 and the
// decoder prints pointers.
//
// `pid` is the notification's, in the pid namespace of the thread that
// received it; /proc must be that namespace's (the host's own), or nothing
// is read. Reading another process's memory needs ptrace access to it,
// which the host has over the sandboxes it made: as root, or as the owner
// of the sandbox's user namespace.
//
// Reads go through the kernel's remote access (access_remote_vm), which
// does not wait for the sandboxee: a page it cannot supply at once (no
// userfaultfd handler can hold it; userfaultfd is on the fixed deny list)
// fails the read. Each read is one pread of at most a few hundred bytes.
class NotifierMemory final : public MemoryReader {
 public:
  NotifierMemory(int listener, uint64_t id, pid_t pid);

  size_t Read(uint64_t address, char* buffer, size_t size) override;

  // Whether the memory could be opened and was the caller's then.
  bool opened() const { return static_cast<bool>(mem_); }

 private:
  bool StillWaiting() const;

  int listener_;
  uint64_t id_;
  UniqueFd mem_;
};

// The call of `notification` on `listener`, decoded with its caller's
// memory: "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC)". Calls of
// a foreign ABI (i386, x32) print their name and six arguments in hex.
std::string DecodeNotification(int listener,
                               const struct seccomp_notif& notification);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_NOTIFICATION_DECODER_H_
