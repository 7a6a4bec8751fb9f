#include "sandbox/internal/seccomp_compiler.h"

#include <linux/audit.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sandbox/fd.h"
#include "sandbox/internal/syscall_groups.h"
#include "sandbox/internal/util.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

// Each entry lets code leave or weaken the sandbox, or reach kernel state
// that namespaces do not cover.
constexpr const char* kFixedDenyList[] = {
    // Debugging other processes, reading or writing their memory.
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    // Kernel programs and tracing.
    "bpf",
    "perf_event_open",
    // New or other namespaces.
    "unshare",
    "setns",
    "clone3",
    // The mount family: rearranging the filesystem view.
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "move_mount",
    "open_tree",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    // Kernels and modules.
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    // The kernel keyring is not namespaced.
    "keyctl",
    "add_key",
    "request_key",
    // Page-fault handling from user space widens every kernel race.
    "userfaultfd",
    // A filter of the sandboxee's own whose ERRNO or TRAP outranks our user
    // notification would hide its forbidden calls from the supervisor.
    // prctl(PR_SET_SECCOMP) is the same door: rules that allow prctl never
    // allow that option unless seccomp is named in dangerous_allow.
    "seccomp",
    // io_uring performs system calls the filter never sees.
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    // File handles bypass path-based confinement (the "shocker" escape).
    "open_by_handle_at",
    // Host-wide switches.
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "settimeofday",
    "clock_settime",
    "adjtimex",
    "clock_adjtime",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "vhangup",
};

struct ScmpFilterDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using ScmpFilter = std::unique_ptr<void, ScmpFilterDeleter>;

absl::Status FieldError(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

absl::StatusOr<scmp_compare> ToScmpOp(proto::ArgCondition::Op op,
                                      absl::string_view field) {
  switch (op) {
    case proto::ArgCondition::EQ:
      return SCMP_CMP_EQ;
    case proto::ArgCondition::NE:
      return SCMP_CMP_NE;
    case proto::ArgCondition::LT:
      return SCMP_CMP_LT;
    case proto::ArgCondition::LE:
      return SCMP_CMP_LE;
    case proto::ArgCondition::GT:
      return SCMP_CMP_GT;
    case proto::ArgCondition::GE:
      return SCMP_CMP_GE;
    case proto::ArgCondition::MASKED_EQ:
      return SCMP_CMP_MASKED_EQ;
    default:
      return FieldError(absl::StrCat(field, ".op"),
                        "must be one of EQ, NE, LT, LE, GT, GE, MASKED_EQ");
  }
}

absl::StatusOr<uint32_t> RuleAction(const proto::SyscallRule& rule,
                                    absl::string_view field) {
  switch (rule.action()) {
    case proto::SyscallRule::ALLOW:
      return SCMP_ACT_ALLOW;
    case proto::SyscallRule::LOG:
      return SCMP_ACT_LOG;
    case proto::SyscallRule::KILL:
      return SCMP_ACT_NOTIFY;
    case proto::SyscallRule::ERRNO: {
      if (rule.error().empty()) {
        return FieldError(absl::StrCat(field, ".error"),
                          "is required for action ERRNO");
      }
      absl::StatusOr<int> value = ParseErrno(rule.error());
      if (!value.ok()) {
        return FieldError(absl::StrCat(field, ".error"),
                          value.status().message());
      }
      return SCMP_ACT_ERRNO(static_cast<uint32_t>(*value));
    }
    default:
      return FieldError(absl::StrCat(field, ".action"),
                        "must be one of ALLOW, ERRNO, KILL, LOG");
  }
}

// Argument `arg` compared with `value` by `op`, any but MASKED_EQ (a mask
// and a value: SCMP_CMP64 with both). SCMP_CMP64 with a single datum leaves
// the second out of its compound literal, which clang warns about.
scmp_arg_cmp Compare(unsigned int arg, scmp_compare op, uint64_t value) {
  return scmp_arg_cmp{arg, op, value, 0};
}

bool Grants(uint32_t action) {
  return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG;
}

// Whether the 64-bit condition `c` holds for some argument whose low 32 bits
// are `low`. The kernel reads an int argument (prctl's option) from the low
// half of the register, whatever the filter saw in the high half.
bool CanHoldForLow32(const scmp_arg_cmp& c, uint32_t low) {
  constexpr uint64_t kHighest = 0xffffffff00000000ull;
  switch (c.op) {
    case SCMP_CMP_EQ:
      return static_cast<uint32_t>(c.datum_a) == low;
    case SCMP_CMP_NE:
      return true;
    case SCMP_CMP_LT:
      return c.datum_a > low;
    case SCMP_CMP_LE:
      return c.datum_a >= low;
    case SCMP_CMP_GT:
      return c.datum_a < (kHighest | low);
    case SCMP_CMP_GE:
      return c.datum_a <= (kHighest | low);
    case SCMP_CMP_MASKED_EQ:
      return (c.datum_b & ~c.datum_a) == 0 &&
             (c.datum_b & c.datum_a & 0xffffffffull) ==
                 (low & c.datum_a & 0xffffffffull);
    default:
      return true;
  }
}

// prctl's option with the high half clear and the low half anything but
// PR_SET_SECCOMP (22), as alternatives of one comparison each (libseccomp
// takes one comparison per argument and rule): 0..21, 23, 24..31, and
// >= 32 as "bit i set" for i = 5..31.
static_assert(PR_SET_SECCOMP == 22);
constexpr uint64_t kHighHalf = 0xffffffff00000000ull;
std::vector<scmp_arg_cmp> PrctlOptionsButSeccomp() {
  std::vector<scmp_arg_cmp> alternatives = {
      Compare(0, SCMP_CMP_LT, 22),
      Compare(0, SCMP_CMP_EQ, 23),
      SCMP_CMP64(0, SCMP_CMP_MASKED_EQ, ~uint64_t{0x7}, 0x18),
  };
  for (int bit = 5; bit < 32; ++bit) {
    alternatives.push_back(SCMP_CMP64(0, SCMP_CMP_MASKED_EQ,
                                      kHighHalf | (uint64_t{1} << bit),
                                      uint64_t{1} << bit));
  }
  return alternatives;
}

// Adds "no namespace flags" to the conditions of a rule allowing clone.
// libseccomp takes one comparison per argument, so a condition of the
// rule's own on the flags merges into it, which works for a MASKED_EQ
// (THREADS' "CLONE_VM and CLONE_THREAD set") and nothing else.
absl::Status WithoutNamespaceFlags(std::vector<scmp_arg_cmp>& args,
                                   absl::string_view field) {
  for (scmp_arg_cmp& condition : args) {
    if (condition.arg != 0) continue;
    if (condition.op != SCMP_CMP_MASKED_EQ) {
      return FieldError(absl::StrCat(field, ".args"),
                        "clone's flags (argument 0) are checked by the "
                        "sandbox itself (no namespace flags); a condition of "
                        "the rule's own on them must be MASKED_EQ");
    }
    // datum_a is the mask, datum_b the value.
    if ((condition.datum_b & kNamespaceCloneFlags) != 0) {
      return FieldError(absl::StrCat(field, ".args"),
                        "requires namespace flags of clone, which the "
                        "sandbox never allows");
    }
    condition.datum_a |= kNamespaceCloneFlags;
    return absl::OkStatus();
  }
  args.push_back(SCMP_CMP64(0, SCMP_CMP_MASKED_EQ, kNamespaceCloneFlags, 0));
  return absl::OkStatus();
}

absl::Status AddRule(scmp_filter_ctx ctx, uint32_t action, int nr,
                     const std::vector<scmp_arg_cmp>& args,
                     absl::string_view field, absl::string_view name) {
  const int rc = seccomp_rule_add_exact_array(
      ctx, action, nr, static_cast<unsigned>(args.size()), args.data());
  if (rc == -EEXIST) {
    return FieldError(field,
                      absl::StrCat("conflicts with an earlier rule for '", name,
                                   "' (same arguments, another "
                                   "action)"));
  }
  if (rc < 0) {
    return FieldError(field, absl::StrCat("libseccomp rejected the rule for '",
                                          name, "': ", ErrnoName(-rc)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<sock_filter>> Export(scmp_filter_ctx ctx) {
  UniqueFd memfd(memfd_create("seccomp-bpf", MFD_CLOEXEC));
  if (!memfd) return ErrnoStatus("memfd_create(seccomp-bpf)");
  const int rc = seccomp_export_bpf(ctx, memfd.get());
  if (rc < 0) {
    return absl::InternalError(
        absl::StrCat("seccomp_export_bpf: ", ErrnoName(-rc)));
  }
  const off_t size = lseek(memfd.get(), 0, SEEK_END);
  if (size < 0) return ErrnoStatus("lseek(seccomp-bpf)");
  if (size % sizeof(sock_filter) != 0 || size == 0) {
    return absl::InternalError("seccomp_export_bpf wrote a partial program");
  }
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  if (pread(memfd.get(), program.data(), size, 0) != size) {
    return ErrnoStatus("pread(seccomp-bpf)");
  }
  if (program.size() > BPF_MAXINSNS) {
    return absl::InvalidArgumentError(
        absl::StrCat("seccomp: the compiled filter has ", program.size(),
                     " instructions, more than the kernel's ", BPF_MAXINSNS));
  }
  return program;
}

}  // namespace

absl::Span<const char* const> FixedDenyList() { return kFixedDenyList; }

uint64_t NamespaceCloneFlags() { return kNamespaceCloneFlags; }

absl::StatusOr<SeccompProgram> CompileSeccomp(
    const proto::Seccomp& seccomp, const SeccompCompileOptions& options) {
  uint32_t default_action = SCMP_ACT_NOTIFY;
  if (seccomp.default_action() == proto::Seccomp::ERRNO) {
    if (seccomp.default_errno().empty()) {
      return FieldError("seccomp.default_errno",
                        "is required for default_action ERRNO");
    }
    absl::StatusOr<int> value = ParseErrno(seccomp.default_errno());
    if (!value.ok()) {
      return FieldError("seccomp.default_errno", value.status().message());
    }
    default_action = SCMP_ACT_ERRNO(static_cast<uint32_t>(*value));
  } else if (!seccomp.default_errno().empty()) {
    return FieldError("seccomp.default_errno",
                      "only applies with default_action ERRNO");
  }

  // A sandboxee allowed to install filters of its own could stack one whose
  // ERRNO or TRAP outranks our user notification and so hide a forbidden
  // call from the supervisor. Then every call the policy forbids is killed
  // outright instead (SECCOMP_RET_KILL_PROCESS outranks every action): not
  // reported by name, but never hidden.
  bool stackable = false;
  for (const std::string& name : seccomp.dangerous_allow()) {
    if (name == "seccomp") stackable = true;
  }
  if (stackable && default_action == SCMP_ACT_NOTIFY) {
    default_action = SCMP_ACT_KILL_PROCESS;
  }

  const uint32_t native_arch = seccomp_arch_native();
  absl::flat_hash_set<absl::string_view> deny(std::begin(kFixedDenyList),
                                              std::end(kFixedDenyList));
  absl::flat_hash_set<std::string> dangerous;
  for (int i = 0; i < seccomp.dangerous_allow_size(); ++i) {
    const std::string& name = seccomp.dangerous_allow(i);
    const std::string field = absl::StrCat("seccomp.dangerous_allow[", i, "]");
    if (seccomp_syscall_resolve_name_arch(native_arch, name.c_str()) ==
        __NR_SCMP_ERROR) {
      return FieldError(field,
                        absl::StrCat("unknown system call '", name, "'"));
    }
    // Namespace-creating clone is on the deny list too: naming clone lifts
    // the flags check below.
    if (!deny.contains(name) && name != "clone") {
      return FieldError(field, absl::StrCat("'", name,
                                            "' is not on the fixed deny list; "
                                            "allow it with a rule"));
    }
    dangerous.insert(name);
  }

  ScmpFilter ctx(seccomp_init(default_action));
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  // The child sets no_new_privs itself, in its own step.
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0) < 0 ||
      // Binary tree of syscall numbers: lookup cost grows with log(rules).
      seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0) {
    return absl::InternalError("seccomp_attr_set failed");
  }

  // The groups' rules first, then the policy's own, each with the field an
  // error names.
  std::vector<std::pair<const proto::SyscallRule*, std::string>> all_rules;
  for (int g = 0; g < seccomp.allow_groups_size(); ++g) {
    const std::string field = absl::StrCat("seccomp.allow_groups[", g, "]");
    const proto::SyscallGroupDefinition* group =
        internal::FindGroup(seccomp.allow_groups(g));
    if (group == nullptr) {
      SBX_RETURN_IF_ERROR(internal::SyscallGroups().status());
      return FieldError(
          field, absl::StrCat("no such group (", seccomp.allow_groups(g), ")"));
    }
    for (const proto::SyscallRule& rule : group->rules()) {
      all_rules.emplace_back(&rule, field);
    }
  }
  for (int r = 0; r < seccomp.rules_size(); ++r) {
    all_rules.emplace_back(&seccomp.rules(r),
                           absl::StrCat("seccomp.rules[", r, "]"));
  }

  // The actions the rules give each system call, for the checks on calls
  // with rules of several actions (below). Rules with errors are reported in
  // the loop.
  absl::flat_hash_map<std::string, absl::flat_hash_set<uint32_t>> actions;
  // System calls with a rule that has no argument condition.
  absl::flat_hash_set<std::string> unconditional;
  for (const auto& [rule, field] : all_rules) {
    absl::StatusOr<uint32_t> action = RuleAction(*rule, "");
    if (!action.ok()) continue;
    for (const std::string& name : rule->syscalls()) {
      actions[name].insert(*action);
      if (rule->args().empty()) unconditional.insert(name);
    }
  }

  SeccompProgram program;
  program.uses_notify = default_action == SCMP_ACT_NOTIFY;
  bool clone_allowed = false;
  for (const auto& [rule_pointer, field] : all_rules) {
    const proto::SyscallRule& rule = *rule_pointer;
    SBX_ASSIGN_OR_RETURN(uint32_t action, RuleAction(rule, field));
    if (stackable && action == SCMP_ACT_NOTIFY) action = SCMP_ACT_KILL_PROCESS;
    if (action == SCMP_ACT_NOTIFY) program.uses_notify = true;
    if (rule.syscalls().empty()) {
      return FieldError(field + ".syscalls", "names no system call");
    }
    std::vector<scmp_arg_cmp> args;
    bool conditions_on_arg0 = false;
    for (int a = 0; a < rule.args_size(); ++a) {
      const proto::ArgCondition& condition = rule.args(a);
      const std::string arg_field = absl::StrCat(field, ".args[", a, "]");
      if (condition.arg() > 5) {
        return FieldError(arg_field + ".arg",
                          absl::StrCat(condition.arg(), " is not 0..5"));
      }
      SBX_ASSIGN_OR_RETURN(const scmp_compare op,
                           ToScmpOp(condition.op(), arg_field));
      if (op != SCMP_CMP_MASKED_EQ && condition.mask() != 0) {
        return FieldError(arg_field + ".mask", "only applies to MASKED_EQ");
      }
      for (const scmp_arg_cmp& other : args) {
        if (other.arg == condition.arg()) {
          return FieldError(
              arg_field,
              absl::StrCat("a second condition on argument ", condition.arg(),
                           "; use one rule per alternative"));
        }
      }
      if (condition.arg() == 0) conditions_on_arg0 = true;
      if (op == SCMP_CMP_MASKED_EQ) {
        args.push_back(SCMP_CMP64(condition.arg(), op, condition.mask(),
                                  condition.value()));
      } else {
        args.push_back(Compare(condition.arg(), op, condition.value()));
      }
    }
    for (int s = 0; s < rule.syscalls_size(); ++s) {
      const std::string& name = rule.syscalls(s);
      const std::string name_field = absl::StrCat(field, ".syscalls[", s, "]");
      const int nr =
          seccomp_syscall_resolve_name_arch(native_arch, name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        return FieldError(name_field,
                          absl::StrCat("unknown system call '", name, "'"));
      }
      if (nr < 0) {
        return FieldError(name_field,
                          absl::StrCat("'", name, "' does not exist on ",
                                       ArchName(AUDIT_ARCH_X86_64)));
      }
      if (Grants(action) && deny.contains(name) && !dangerous.contains(name)) {
        return FieldError(
            name_field, absl::StrCat("'", name,
                                     "' is on the fixed deny list; name it in "
                                     "seccomp.dangerous_allow to allow it"));
      }
      // libseccomp lets an unconditional rule override every conditional
      // rule of the same call: "allow ioctl" next to "kill ioctl if arg1 ==
      // TIOCSTI" would silently allow TIOCSTI. Refuse the ambiguity.
      if (unconditional.contains(name) && actions[name].size() > 1) {
        return FieldError(
            name_field,
            absl::StrCat("'", name,
                         "' has a rule without conditions and rules with "
                         "other actions; the unconditional one would override "
                         "them. Give every rule for '",
                         name, "' conditions, or use one action"));
      }
      // libseccomp refuses a rule with the default action (EACCES). Alone it
      // changes nothing; next to rules with other actions for the same call,
      // dropping it could let them allow what it was written to stop.
      if (action == default_action) {
        if (actions[name].size() > 1) {
          return FieldError(
              name_field,
              absl::StrCat("a rule with the default action cannot be combined "
                           "with rules of other actions for '",
                           name, "'"));
        }
        continue;
      }
      std::vector<scmp_arg_cmp> rule_args = args;
      // An unconditional rule for sendmsg or recvmsg would swallow the
      // bootstrap hole below (libseccomp lets it override conditional
      // rules).
      if ((name == "sendmsg" || name == "recvmsg") && !Grants(action) &&
          options.bootstrap_fd >= 0 && !conditions_on_arg0) {
        rule_args.push_back(Compare(
            0, SCMP_CMP_NE, static_cast<uint64_t>(options.bootstrap_fd)));
      }
      if (name == "clone" && Grants(action) && !dangerous.contains("clone")) {
        SBX_RETURN_IF_ERROR(WithoutNamespaceFlags(rule_args, field));
      }
      if (name == "clone" && Grants(action)) clone_allowed = true;
      if (name == "prctl" && Grants(action) && !dangerous.contains("seccomp")) {
        const scmp_arg_cmp* option = nullptr;
        for (const scmp_arg_cmp& condition : args) {
          if (condition.arg == 0) option = &condition;
        }
        if (option != nullptr) {
          if (CanHoldForLow32(*option, PR_SET_SECCOMP)) {
            return FieldError(
                field + ".args",
                "allows prctl(PR_SET_SECCOMP), which is on the fixed deny "
                "list with seccomp; name seccomp in seccomp.dangerous_allow "
                "to allow it");
          }
        } else {
          // Every option but PR_SET_SECCOMP, one alternative per rule.
          for (const scmp_arg_cmp& alternative : PrctlOptionsButSeccomp()) {
            std::vector<scmp_arg_cmp> with_option = rule_args;
            with_option.push_back(alternative);
            SBX_RETURN_IF_ERROR(
                AddRule(ctx.get(), action, nr, with_option, name_field, name));
          }
          continue;
        }
      }
      SBX_RETURN_IF_ERROR(
          AddRule(ctx.get(), action, nr, rule_args, name_field, name));
    }
  }
  // Whether forbidden calls are reported: the filter's choice for foreign
  // ABIs below, whatever the execve hook adds.
  const bool reports = program.uses_notify;
  // The program's own first execve, in exec mode, is the sandbox's to
  // allow, so that no policy needs execve just to start: unless a rule
  // names execve, it goes to the supervisor, which lets through exactly one,
  // from the process that installed the filter, before anything of the
  // sandboxee has run (Sandbox::Impl::ReadNotification). Later ones meet the
  // default action: reported and killed, or failed with default_errno.
  if (!actions.contains("execve")) {
    program.first_exec_by_supervisor = true;
    if (default_action != SCMP_ACT_NOTIFY) {
      SBX_RETURN_IF_ERROR(AddRule(ctx.get(), SCMP_ACT_NOTIFY, SCMP_SYS(execve),
                                  {}, "seccomp", "execve"));
      program.uses_notify = true;
      if (seccomp.default_action() == proto::Seccomp::ERRNO) {
        program.later_exec_errno = static_cast<int>(default_action & 0xffff);
      }
    }
  }
  // clone3 passes its flags behind a pointer the filter cannot read: fail it
  // with ENOSYS so that libc falls back to clone, whose flags it can. A
  // default of ENOSYS does that already (libseccomp refuses the rule then).
  if (clone_allowed && !dangerous.contains("clone3") &&
      default_action != SCMP_ACT_ERRNO(ENOSYS)) {
    SBX_RETURN_IF_ERROR(AddRule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS),
                                SCMP_SYS(clone3), {}, "seccomp", "clone3"));
  }
  if (options.bootstrap_fd >= 0) {
    for (const char* name : {"sendmsg", "recvmsg"}) {
      SBX_RETURN_IF_ERROR(
          AddRule(ctx.get(), SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(name),
                  {Compare(0, SCMP_CMP_EQ,
                           static_cast<uint64_t>(options.bootstrap_fd))},
                  "seccomp", name));
    }
  }
  // Foreign ABIs (i386 int 0x80; x32 numbers on x86-64, which libseccomp
  // sends to the bad-arch action too) never run: the policy's names were
  // resolved for the native ABI only. Where the supervisor listens, they
  // are reported like any other forbidden call (arch and number); otherwise
  // the kernel kills the process.
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH,
                       reports ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS) < 0) {
    return absl::InternalError("seccomp_attr_set(SCMP_FLTATR_ACT_BADARCH)");
  }
  SBX_ASSIGN_OR_RETURN(program.instructions, Export(ctx.get()));
  return program;
}

absl::StatusOr<SeccompProgram> CompileLockDownPrelude(
    const proto::Seccomp& seccomp, bool lockdown_notifies) {
  absl::flat_hash_set<std::string> dangerous(seccomp.dangerous_allow().begin(),
                                             seccomp.dangerous_allow().end());
  ScmpFilter ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (ctx == nullptr) return absl::InternalError("seccomp_init failed");
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0) < 0 ||
      seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0 ||
      seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH,
                       SCMP_ACT_KILL_PROCESS) < 0) {
    return absl::InternalError("seccomp_attr_set failed");
  }
  // Killed, not reported: this filter has no listener (the policy's filter
  // brings the one a process may have), and nothing a later filter returns
  // outranks a kill.
  const uint32_t kill = SCMP_ACT_KILL_PROCESS;
  for (const char* name : kFixedDenyList) {
    if (dangerous.contains(name) || absl::string_view(name) == "seccomp" ||
        absl::string_view(name) == "clone3") {
      continue;
    }
    SBX_RETURN_IF_ERROR(AddRule(ctx.get(), kill,
                                seccomp_syscall_resolve_name(name), {},
                                "seccomp", name));
  }
  if (!dangerous.contains("clone")) {
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t flag = uint64_t{1} << bit;
      if ((kNamespaceCloneFlags & flag) == 0) continue;
      SBX_RETURN_IF_ERROR(AddRule(
          ctx.get(), kill, SCMP_SYS(clone),
          {SCMP_CMP64(0, SCMP_CMP_MASKED_EQ, flag, flag)}, "seccomp", "clone"));
    }
  }
  if (!dangerous.contains("clone3")) {
    SBX_RETURN_IF_ERROR(AddRule(ctx.get(), SCMP_ACT_ERRNO(ENOSYS),
                                SCMP_SYS(clone3), {}, "seccomp", "clone3"));
  }
  if (!dangerous.contains("seccomp")) {
    // LockDown() itself installs the policy's filter with seccomp(2), with
    // exactly these flags; no other filter, and never through prctl.
    const uint64_t flags =
        lockdown_notifies ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    SBX_RETURN_IF_ERROR(
        AddRule(ctx.get(), kill, SCMP_SYS(seccomp),
                {Compare(0, SCMP_CMP_EQ, SECCOMP_SET_MODE_FILTER),
                 Compare(1, SCMP_CMP_NE, flags)},
                "seccomp", "seccomp"));
    SBX_RETURN_IF_ERROR(AddRule(
        ctx.get(), kill, SCMP_SYS(prctl),
        {SCMP_CMP64(0, SCMP_CMP_MASKED_EQ, 0xffffffffull, PR_SET_SECCOMP)},
        "seccomp", "prctl"));
  }
  SeccompProgram program;
  SBX_ASSIGN_OR_RETURN(program.instructions, Export(ctx.get()));
  return program;
}

std::string SyscallName(uint32_t arch, int nr) {
  uint32_t token = 0;
  switch (arch) {
    case AUDIT_ARCH_X86_64:
      token = SCMP_ARCH_X86_64;
      break;
    case AUDIT_ARCH_I386:
      token = SCMP_ARCH_X86;
      break;
    default:
      token = arch;
  }
  // x32 numbers carry bit 30 on the x86-64 audit arch.
  if (arch == AUDIT_ARCH_X86_64 && (nr & 0x40000000) != 0) {
    token = SCMP_ARCH_X32;
  }
  char* name = seccomp_syscall_resolve_num_arch(token, nr);
  if (name == nullptr) return absl::StrCat("syscall_", nr);
  std::string result(name);
  free(name);
  return result;
}

std::string ArchName(uint32_t arch) {
  switch (arch) {
    case AUDIT_ARCH_X86_64:
      return "x86_64";
    case AUDIT_ARCH_I386:
      return "i386";
    case AUDIT_ARCH_AARCH64:
      return "aarch64";
    default:
      return absl::StrCat("arch_0x", absl::Hex(arch));
  }
}

}  // namespace sandbox
