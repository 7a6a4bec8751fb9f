// Kernel ABI the C library does not wrap (clone3) or this toolchain's
// headers may lack. Internal; the one place for such constants.

#ifndef SANDBOX_KERNEL_ABI_H_
#define SANDBOX_KERNEL_ABI_H_

#include <sys/syscall.h>

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

inline constexpr uint64_t kClonePidfd = 0x00001000ULL;
inline constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

}  // namespace sandbox::internal

#endif  // SANDBOX_KERNEL_ABI_H_
