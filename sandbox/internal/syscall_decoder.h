// Decodes an x86-64 system call and its six raw arguments into the line a
// person reads, as strace would print it:
//
//   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)
//   socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0)
//   clone(CLONE_NEWUSER|SIGCHLD, NULL, NULL, NULL, 0)
//
//   std::string line = DecodeCall(SYS_openat, args, &memory);
//
// The table behind it is data: one SyscallSignature per call, naming each
// argument and its ArgKind, so that other modules (a learn mode choosing
// which argument to put a condition on, a policy writer printing constants
// in comments) read the same facts:
//
//   const SyscallSignature* socket = FindSignature(SYS_socket);
//   int key = KeyArgument(*socket);                   // 0, the domain
//   DecodeArg(socket->args[key].kind, AF_NETLINK);    // "AF_NETLINK"
//
// Syscall numbers come from libseccomp, names of constants from the C
// library's and the kernel's headers. Everything here is pure: the
// arguments are the sandboxee's (hostile, any value) and memory is read
// only through the MemoryReader the caller passes, a bounded number of
// bytes per argument. The output is printable ASCII (anything else in a
// string is escaped), at most a few KiB.

#ifndef SANDBOX_INTERNAL_SYSCALL_DECODER_H_
#define SANDBOX_INTERNAL_SYSCALL_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sandbox::internal {

// What an argument is, which says how it prints. Integers of C type int
// are the low 32 bits of the register, as the kernel reads them: an fd of
// 0xffffffff prints as -1, a dirfd of 0xffffff9c as AT_FDCWD.
enum class ArgKind : uint8_t {
  kNone = 0,  // no such argument
  // Plain numbers.
  kHex,         // unknown meaning: 0x1f (0 as 0)
  kInt,         // int: -1
  kUInt,        // unsigned int: 4294967295
  kLong,        // long, off_t, loff_t: -1
  kSize,        // size_t, unsigned long: 4096
  kId,          // uid_t, gid_t: 1000, -1 for "unchanged"
  kPid,         // pid_t: -1 for every process, -5 for group 5
  kFd,          // int descriptor
  kDirFd,       // int descriptor or AT_FDCWD
  kOctalMode,   // mode_t: 0644
  kCreateMode,  // open's mode: printed only when the flags create a file
  kMknodMode,   // S_IFCHR|0600
  // Memory of the caller, read through the MemoryReader.
  kPointer,   // NULL or 0x7ffc12345678
  kPath,      // "/etc/passwd", "..." truncated, hex if unreadable
  kString,    // like kPath: a name, a value
  kArgv,      // ["sh", "-c", "id"] (at most 8 entries shown)
  kSockaddr,  // {AF_INET, 10.0.0.1:443}; its length is the next argument
  // Named constants and flags: IsSymbolic() holds for these, the last.
  kOpenFlags,        // O_RDONLY|O_CLOEXEC
  kStatusFlags,      // O_* without an access mode: pipe2, dup3, F_SETFL
  kAtFlags,          // AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH
  kAccessMode,       // F_OK, R_OK|W_OK
  kFdFlags,          // FD_CLOEXEC
  kFcntlCmd,         // F_SETFD
  kFcntlArg,         // fcntl's third: depends on the command
  kWhence,           // SEEK_SET
  kFlockOp,          // LOCK_EX|LOCK_NB
  kRenameFlags,      // RENAME_NOREPLACE
  kXattrFlags,       // XATTR_CREATE
  kSocketDomain,     // AF_INET
  kSocketType,       // SOCK_STREAM|SOCK_CLOEXEC
  kProtocol,         // IPPROTO_TCP, NETLINK_ROUTE: named after the domain
  kSocketLevel,      // SOL_SOCKET
  kSocketOption,     // SO_REUSEADDR (under SOL_SOCKET), else a number
  kMsgFlags,         // MSG_DONTWAIT|MSG_NOSIGNAL
  kShutdownHow,      // SHUT_RDWR
  kProt,             // PROT_READ|PROT_WRITE
  kMapFlags,         // MAP_PRIVATE|MAP_ANONYMOUS
  kMremapFlags,      // MREMAP_MAYMOVE
  kMsyncFlags,       // MS_SYNC
  kMadvise,          // MADV_DONTNEED
  kMlockallFlags,    // MCL_CURRENT|MCL_FUTURE
  kMemfdFlags,       // MFD_CLOEXEC|MFD_ALLOW_SEALING
  kCloneFlags,       // CLONE_VM|CLONE_FS|SIGCHLD (low byte: exit signal)
  kNamespaceFlags,   // CLONE_NEWNET|CLONE_NEWNS: unshare, setns
  kSignal,           // SIGKILL
  kSigprocmaskHow,   // SIG_BLOCK
  kWaitOptions,      // WNOHANG|__WALL
  kIdType,           // P_PIDFD: waitid's
  kIoctlRequest,     // TIOCGWINSZ, or _IOC(_IOC_READ, 0x54, 0x99, 0x8)
  kPrctlOption,      // PR_SET_SECCOMP
  kPrctlArg,         // prctl's second: depends on the option
  kArchPrctlCode,    // ARCH_SET_FS
  kPtraceRequest,    // PTRACE_TRACEME
  kSeccompOp,        // SECCOMP_SET_MODE_FILTER
  kSeccompFlags,     // SECCOMP_FILTER_FLAG_NEW_LISTENER
  kBpfCmd,           // BPF_PROG_LOAD
  kFutexOp,          // FUTEX_WAIT|FUTEX_PRIVATE_FLAG
  kMountFlags,       // MS_BIND|MS_REC
  kUmountFlags,      // MNT_DETACH
  kRlimitResource,   // RLIMIT_NOFILE
  kClockId,          // CLOCK_MONOTONIC
  kEpollOp,          // EPOLL_CTL_ADD
  kEventfdFlags,     // EFD_CLOEXEC|EFD_NONBLOCK
  kGetrandomFlags,   // GRND_NONBLOCK
  kCloseRangeFlags,  // CLOSE_RANGE_CLOEXEC
  kPriorityWhich,    // PRIO_PROCESS
  kSchedPolicy,      // SCHED_FIFO
  kItimerWhich,      // ITIMER_REAL
};

// One argument of a system call.
struct SyscallArg {
  ArgKind kind = ArgKind::kNone;
  // As in the C prototype (the man page), e.g. "pathname", "domain".
  const char* name = nullptr;
};

// A system call's x86-64 prototype.
struct SyscallSignature {
  const char* name;
  // The first arg_count() are used; the rest are kNone.
  SyscallArg args[6];

  int arg_count() const;
};

// The signature of x86-64 system call `nr`; nullptr for a call the table
// does not describe (its arguments then print in hex).
const SyscallSignature* FindSignature(int nr);
// The same by name ("openat"); nullptr if unknown.
const SyscallSignature* FindSignature(absl::string_view name);

// Whether values of `kind` are named constants or flags: what a rule
// condition or a learned policy would test, and what DecodeArg names.
bool IsSymbolic(ArgKind kind);

// The argument a rule most often conditions on: the first symbolic one
// (socket's domain, ioctl's request, clone's flags, prctl's option,
// openat's flags, mmap's prot); -1 if there is none.
int KeyArgument(const SyscallSignature& signature);

// `value` as an argument of `kind`, without context or memory: "AT_FDCWD",
// "O_RDONLY|0x40000000", "SIGKILL", "0644". Memory kinds print as
// pointers; kinds whose meaning depends on another argument (kProtocol,
// kFcntlArg, kPrctlArg, kSocketOption, kCreateMode) as numbers.
std::string DecodeArg(ArgKind kind, uint64_t value);

// The sandboxee's memory, read for DecodeCall.
class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  // Copies up to `size` bytes at `address` into `buffer`. Returns how many
  // it copied: fewer than `size` where readable memory ends, 0 when none
  // is readable or the memory can no longer be trusted to be the caller's
  // (then the argument prints as a pointer).
  virtual size_t Read(uint64_t address, char* buffer, size_t size) = 0;
};

// Strings read for DecodeCall stop after this many bytes ("..." follows).
inline constexpr size_t kMaxStringBytes = 256;

// The call as one line: "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY)".
// `args` holds the six raw argument registers (missing ones count as 0).
// `memory` may be nullptr: strings then print as pointers. A call the
// table does not describe prints as "name(0x1, 0x2, ...)" with all six
// arguments, and an unknown number as "syscall_<nr>(...)".
std::string DecodeCall(int nr, absl::Span<const uint64_t> args,
                       MemoryReader* memory);

// "name(0x1, 0x2, ...)": the six arguments in hex, for calls of another
// architecture (i386, x32), whose prototypes the table does not hold.
std::string FormatRawCall(absl::string_view name,
                          absl::Span<const uint64_t> args);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_SYSCALL_DECODER_H_
