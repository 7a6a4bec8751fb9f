#include "sandbox/internal/bpf_evaluator.h"

#include <cstddef>
#include <cstring>
#include <optional>

namespace sandbox {
namespace {

constexpr uint32_t kFailClosed = SECCOMP_RET_KILL_PROCESS;

// The program counter after a jump of `offset` from `pc`, or `size` (out of
// range) when it would land past the end. 64-bit so that `pc + 1 + k` with a
// 32-bit k cannot wrap back into the program.
size_t JumpTarget(size_t pc, uint64_t offset, size_t size) {
  const uint64_t target = static_cast<uint64_t>(pc) + 1 + offset;
  return target < size ? static_cast<size_t>(target) : size;
}

// The 32-bit word at byte `offset` of `data`, if the kernel would load it:
// only aligned words inside the structure.
std::optional<uint32_t> LoadWord(const struct seccomp_data& data,
                                 uint32_t offset) {
  if (offset % sizeof(uint32_t) != 0 ||
      offset > sizeof(data) - sizeof(uint32_t)) {
    return std::nullopt;
  }
  uint32_t value = 0;
  std::memcpy(&value, reinterpret_cast<const char*>(&data) + offset,
              sizeof(value));
  return value;
}

// `a <op> operand` for BPF_ALU; nullopt when the result is undefined
// (division by zero, shift by 32 or more) or the op unknown.
std::optional<uint32_t> Alu(uint16_t op, uint32_t a, uint32_t operand) {
  switch (op) {
    case BPF_ADD:
      return a + operand;
    case BPF_SUB:
      return a - operand;
    case BPF_MUL:
      return a * operand;
    case BPF_DIV:
      if (operand == 0) return std::nullopt;
      return a / operand;
    case BPF_MOD:
      if (operand == 0) return std::nullopt;
      return a % operand;
    case BPF_AND:
      return a & operand;
    case BPF_OR:
      return a | operand;
    case BPF_XOR:
      return a ^ operand;
    case BPF_LSH:
      if (operand >= 32) return std::nullopt;
      return a << operand;
    case BPF_RSH:
      if (operand >= 32) return std::nullopt;
      return a >> operand;
    case BPF_NEG:
      return 0u - a;
    default:
      return std::nullopt;
  }
}

}  // namespace

uint32_t EvaluateSeccomp(absl::Span<const sock_filter> program,
                         const struct seccomp_data& data) {
  uint32_t a = 0;
  uint32_t x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  const size_t size = program.size();
  // Jumps only go forward, so the loop ends after at most `size` steps.
  size_t pc = 0;
  while (pc < size) {
    const sock_filter& insn = program[pc];
    const uint32_t k = insn.k;
    // Classic BPF opcodes are 8 bits wide.
    if (insn.code > 0xff) return kFailClosed;
    switch (BPF_CLASS(insn.code)) {
      case BPF_LD:
      case BPF_LDX: {
        // Every load the kernel accepts in a seccomp filter is a word.
        if (BPF_SIZE(insn.code) != BPF_W) return kFailClosed;
        uint32_t& dst = BPF_CLASS(insn.code) == BPF_LD ? a : x;
        switch (BPF_MODE(insn.code)) {
          case BPF_ABS: {
            // BPF_LDX has no absolute load.
            if (BPF_CLASS(insn.code) != BPF_LD) return kFailClosed;
            const std::optional<uint32_t> word = LoadWord(data, k);
            if (!word.has_value()) return kFailClosed;
            dst = *word;
            break;
          }
          case BPF_LEN:
            dst = sizeof(data);
            break;
          case BPF_IMM:
            dst = k;
            break;
          case BPF_MEM:
            if (k >= BPF_MEMWORDS) return kFailClosed;
            dst = mem[k];
            break;
          default:
            return kFailClosed;
        }
        ++pc;
        break;
      }
      case BPF_ST:
      case BPF_STX:
        if (insn.code != BPF_ST && insn.code != BPF_STX) return kFailClosed;
        if (k >= BPF_MEMWORDS) return kFailClosed;
        mem[k] = BPF_CLASS(insn.code) == BPF_ST ? a : x;
        ++pc;
        break;
      case BPF_ALU: {
        const uint16_t op = BPF_OP(insn.code);
        // NEG takes no operand, so only its K form exists.
        if (op == BPF_NEG && BPF_SRC(insn.code) != BPF_K) return kFailClosed;
        const std::optional<uint32_t> result =
            Alu(op, a, BPF_SRC(insn.code) == BPF_X ? x : k);
        if (!result.has_value()) return kFailClosed;
        a = *result;
        ++pc;
        break;
      }
      case BPF_JMP: {
        const uint16_t op = BPF_OP(insn.code);
        if (op == BPF_JA) {
          if (BPF_SRC(insn.code) != BPF_K) return kFailClosed;
          pc = JumpTarget(pc, k, size);
          if (pc == size) return kFailClosed;
          break;
        }
        const uint32_t operand = BPF_SRC(insn.code) == BPF_X ? x : k;
        bool taken = false;
        switch (op) {
          case BPF_JEQ:
            taken = a == operand;
            break;
          case BPF_JGT:
            taken = a > operand;
            break;
          case BPF_JGE:
            taken = a >= operand;
            break;
          case BPF_JSET:
            taken = (a & operand) != 0;
            break;
          default:
            return kFailClosed;
        }
        pc = JumpTarget(pc, taken ? insn.jt : insn.jf, size);
        if (pc == size) return kFailClosed;
        break;
      }
      case BPF_RET:
        // Exact codes: the kernel has no BPF_RET | BPF_X, nor stray bits.
        if (insn.code == (BPF_RET | BPF_K)) return k;
        if (insn.code == (BPF_RET | BPF_A)) return a;
        return kFailClosed;
      case BPF_MISC:
        if (insn.code == (BPF_MISC | BPF_TAX)) {
          x = a;
        } else if (insn.code == (BPF_MISC | BPF_TXA)) {
          a = x;
        } else {
          return kFailClosed;
        }
        ++pc;
        break;
      default:
        return kFailClosed;
    }
  }
  // Fell off the end: the kernel never loads such a program.
  return kFailClosed;
}

}  // namespace sandbox
