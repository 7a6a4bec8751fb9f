// A userspace interpreter for classic BPF seccomp programs, so that tests can
// check what a compiled policy does to a system call without a kernel (the
// approach of Chromium's sandbox/linux). It runs the program on a synthetic
// `seccomp_data` and returns what the kernel would act on.
//
//   struct seccomp_data data = {};
//   data.nr = __NR_socket;
//   data.arch = AUDIT_ARCH_X86_64;
//   data.args[0] = AF_UNIX;
//   EXPECT_EQ(EvaluateSeccomp(StateOf(policy).seccomp.instructions, data),
//             SECCOMP_RET_ALLOW);
//
// It covers the instructions the kernel accepts in a seccomp filter, which
// includes everything libseccomp emits: BPF_LD/BPF_LDX of a 32-bit word of
// seccomp_data (BPF_W|BPF_ABS), of its length (BPF_W|BPF_LEN), of an
// immediate or of scratch memory; BPF_ST/BPF_STX; BPF_ALU with K or X
// operands; BPF_JMP JA, JEQ, JGT, JGE, JSET with K or X; BPF_RET K or A;
// BPF_MISC TAX and TXA.
//
// The evaluator fails closed. Wherever the kernel would reject the program
// at load time, or the result would be undefined, it returns
// SECCOMP_RET_KILL_PROCESS instead of guessing: an empty program, falling
// off the end, a jump past the end, a load outside seccomp_data or not
// 4-byte aligned, a scratch-memory index above 15, a division by zero, a
// shift by 32 or more, and any opcode not listed above.

#ifndef SANDBOX_INTERNAL_BPF_EVALUATOR_H_
#define SANDBOX_INTERNAL_BPF_EVALUATOR_H_

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>

#include "absl/types/span.h"

namespace sandbox {

// Runs `program` on `data` and returns the filter's full return value, the
// SECCOMP_RET_* action in the high 16 bits and its data in the low 16 bits
// (e.g. SECCOMP_RET_ERRNO | EPERM). Returns SECCOMP_RET_KILL_PROCESS for a
// malformed program (see above).
uint32_t EvaluateSeccomp(absl::Span<const sock_filter> program,
                         const struct seccomp_data& data);

}  // namespace sandbox

#endif  // SANDBOX_INTERNAL_BPF_EVALUATOR_H_
