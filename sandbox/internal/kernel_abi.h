// Kernel ABI the C library does not wrap (clone3) or this toolchain's
// headers may lack. Internal; the one place for such constants.

#ifndef SANDBOX_INTERNAL_KERNEL_ABI_H_
#define SANDBOX_INTERNAL_KERNEL_ABI_H_

#include <linux/ioctl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace sandbox::internal {

// struct clone_args of <linux/sched.h>, which clashes with <sched.h>.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

// Landlock. <linux/landlock.h> of Debian 12 (Linux 6.1) knows ABI 1 and 2:
// the filesystem rights up to LANDLOCK_ACCESS_FS_REFER and a ruleset
// attribute with handled_access_fs alone. What later ABIs added is here.
struct LandlockRulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;  // ABI 4
  uint64_t scoped;              // ABI 6
};
inline constexpr uint32_t kLandlockCreateRulesetVersion = 1U << 0;
inline constexpr uint64_t kLandlockAccessFsTruncate = 1ULL << 14;    // ABI 3
inline constexpr uint64_t kLandlockAccessFsIoctlDev = 1ULL << 15;    // ABI 5
inline constexpr uint64_t kLandlockAccessNetBindTcp = 1ULL << 0;     // ABI 4
inline constexpr uint64_t kLandlockAccessNetConnectTcp = 1ULL << 1;  // ABI 4
inline constexpr uint64_t kLandlockScopeAbstractUnixSocket = 1ULL << 0;
inline constexpr uint64_t kLandlockScopeSignal = 1ULL << 1;
inline constexpr long kLandlockNetMinAbi = 4;
inline constexpr long kLandlockScopeMinAbi = 6;

// PIDFD_GET_INFO (Linux 6.13) and the first version of its struct: what a
// pidfd names, without a /proc file. Older kernels answer ENOTTY or EINVAL.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid;
  uint32_t tgid;
  uint32_t ppid;
  uint32_t ruid;
  uint32_t rgid;
  uint32_t euid;
  uint32_t egid;
  uint32_t suid;
  uint32_t sgid;
  uint32_t fsuid;
  uint32_t fsgid;
  int32_t exit_code;
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
inline constexpr uint64_t kPidfdInfoPid = 1ULL << 0;
// PIDFS_IOCTL_MAGIC is 0xFF.
inline constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);

inline constexpr uint64_t kClonePidfd = 0x00001000ULL;
inline constexpr uint64_t kCloneClearSighand = 0x100000000ULL;
inline constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

// clone3(2) with `args`, like fork: the child returns 0 on the caller's
// stack. Where clone3 fails with ENOSYS -- the default seccomp profiles of
// Docker and Podman answer it so, since a filter cannot read its flags
// behind the pointer, to make the C library fall back to clone(2) -- the
// same with clone(2), which has no CLONE_INTO_CGROUP and no flag above bit
// 31: `args.cgroup` is not used (the host places every child in its cgroup
// before releasing it anyway, which is harmless where clone3 did). A raw
// system call.
inline long Clone3OrClone(const CloneArgs& args) {
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid >= 0 || errno != ENOSYS) return pid;
  // x86-64: clone(flags | exit signal, stack, parent_tid, child_tid, tls);
  // with CLONE_PIDFD the pidfd is stored at parent_tid.
  const uint64_t flags = (args.flags & 0xffffffffULL & ~kCloneIntoCgroup) |
                         (args.exit_signal & 0xff);
  return syscall(SYS_clone, flags, nullptr,
                 reinterpret_cast<int*>(static_cast<uintptr_t>(args.pidfd)),
                 nullptr, nullptr);
}

// The kernel's O_LARGEFILE, which 64-bit glibc defines as 0: the flag
// still arrives from 32-bit code and from callers that set it by number.
inline constexpr uint64_t kKernelOLargefile = 0100000;

// openat2(2), which glibc 2.36 does not wrap: the fd, or -1 with errno.
// A raw system call, so the child may use it between clone and execve. A
// lookup scoped by RESOLVE_BENEATH or RESOLVE_IN_ROOT fails with EAGAIN when
// a rename elsewhere on the system could have let it escape; it is tried
// again a few times before that error stands.
inline int Openat2(int dir_fd, const char* path, uint64_t flags,
                   uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags;
  how.resolve = resolve;
  long fd = -1;
  for (int attempt = 0; attempt < 8; ++attempt) {
    fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof(how));
    if (fd >= 0 || errno != EAGAIN) break;
  }
  return static_cast<int>(fd);
}

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_KERNEL_ABI_H_
