#include "sandbox/oci_seccomp.h"

#include <seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/internal/syscall_groups.h"
#include "sandbox/internal/util.h"
#include "sandbox/oci_seccomp.pb.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

namespace oci = proto::oci;

absl::Status PathError(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

// The host architecture in the profiles' two vocabularies: libseccomp's
// (OCI `architectures`, Docker `archMap`) and Go's (Docker's `arches`, which
// also spells it the kernel's way now and then).
struct HostArch {
  const char* scmp;
  const char* go;
  const char* kernel;
};

HostArch Host() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
      return {"SCMP_ARCH_X86_64", "amd64", "x86_64"};
    case SCMP_ARCH_AARCH64:
      return {"SCMP_ARCH_AARCH64", "arm64", "aarch64"};
    default:
      // Nothing a profile names is this host: architecture lists fail and
      // arch-specific entries are skipped, never wrongly applied.
      return {"SCMP_ARCH_NATIVE", "native", "native"};
  }
}

bool IsHost(const HostArch& host, absl::string_view docker_arch) {
  return docker_arch == host.go || docker_arch == host.kernel;
}

struct KernelVersion {
  int major = 0;
  int minor = 0;
  bool AtLeast(const KernelVersion& other) const {
    return major != other.major ? major > other.major : minor >= other.minor;
  }
  std::string ToString() const { return absl::StrCat(major, ".", minor); }
};

// "<major>.<minor>", optionally ".<patch>"; with `leading`, anything may
// follow the minor number's digits (a kernel release, "6.1.0-18-amd64").
std::optional<KernelVersion> ParseKernelVersion(absl::string_view text,
                                                bool leading) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('.', 2));
  if (parts.size() < 2) return std::nullopt;
  if (leading) {
    size_t digits = 0;
    while (digits < parts[1].size() && absl::ascii_isdigit(parts[1][digits])) {
      ++digits;
    }
    parts[1] = parts[1].substr(0, digits);
  } else if (parts.size() == 3) {
    int patch = 0;
    if (!absl::SimpleAtoi(parts[2], &patch)) return std::nullopt;
  }
  KernelVersion version;
  for (absl::string_view part : {parts[0], parts[1]}) {
    if (part.empty() || !absl::c_all_of(part, absl::ascii_isdigit)) {
      return std::nullopt;
    }
  }
  if (!absl::SimpleAtoi(parts[0], &version.major) ||
      !absl::SimpleAtoi(parts[1], &version.minor)) {
    return std::nullopt;
  }
  return version;
}

absl::StatusOr<KernelVersion> RunningKernel() {
  struct utsname name;
  if (uname(&name) != 0) return ErrnoStatus("uname");
  std::optional<KernelVersion> version =
      ParseKernelVersion(name.release, /*leading=*/true);
  if (!version) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read the kernel version from its release '",
                     name.release, "' for the profile's minKernel"));
  }
  return *version;
}

// How the policy writes errno `value`: its name where ParseErrno() reads
// it back, else the number.
std::string ErrnoText(int value) {
  const std::string name = ErrnoName(value);
  absl::StatusOr<int> back = ParseErrno(name);
  return back.ok() && *back == value ? name : absl::StrCat(value);
}

// A profile action as the sandbox honours it.
struct Action {
  proto::SyscallRule::Action action = proto::SyscallRule::ACTION_UNSPECIFIED;
  int errno_value = 0;
  // Why the sandbox does something else than the profile says, if it does.
  const char* note = nullptr;
  bool Grants() const {
    return action == proto::SyscallRule::ALLOW ||
           action == proto::SyscallRule::LOG;
  }
};

absl::StatusOr<Action> MapAction(absl::string_view name, bool has_errno,
                                 uint32_t errno_ret, absl::string_view path,
                                 absl::string_view errno_path) {
  if (name == "SCMP_ACT_ALLOW") return Action{proto::SyscallRule::ALLOW};
  if (name == "SCMP_ACT_LOG") return Action{proto::SyscallRule::LOG};
  if (name == "SCMP_ACT_ERRNO") {
    const uint32_t value = has_errno ? errno_ret : EPERM;
    if (value == 0) {
      return PathError(errno_path,
                       "0 would have the calls succeed without running; the "
                       "sandbox takes an errno, 1..4095");
    }
    if (value > 4095) {
      return PathError(errno_path,
                       absl::StrCat(value, " is not an errno (1..4095)"));
    }
    return Action{proto::SyscallRule::ERRNO, static_cast<int>(value)};
  }
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD" ||
      name == "SCMP_ACT_KILL_PROCESS") {
    return Action{proto::SyscallRule::KILL};
  }
  if (name == "SCMP_ACT_TRAP") {
    return Action{proto::SyscallRule::KILL, 0,
                  "SCMP_ACT_TRAP becomes KILL: the call is reported and the "
                  "sandbox ends, where the program could have caught SIGSYS"};
  }
  if (name == "SCMP_ACT_TRACE") {
    return Action{proto::SyscallRule::ERRNO, ENOSYS,
                  "SCMP_ACT_TRACE becomes ERRNO ENOSYS, what the kernel "
                  "answers with no tracer attached: the sandbox never has "
                  "one"};
  }
  if (name == "SCMP_ACT_NOTIFY") {
    return Action{proto::SyscallRule::KILL, 0,
                  "SCMP_ACT_NOTIFY becomes KILL: the call is reported and the "
                  "sandbox ends, there is no agent to ask"};
  }
  if (name.empty()) return PathError(path, "missing");
  return PathError(path, absl::StrCat("unknown action \"", name, "\""));
}

constexpr std::pair<const char*, proto::ArgCondition::Op> kOperators[] = {
    {"SCMP_CMP_NE", proto::ArgCondition::NE},
    {"SCMP_CMP_LT", proto::ArgCondition::LT},
    {"SCMP_CMP_LE", proto::ArgCondition::LE},
    {"SCMP_CMP_EQ", proto::ArgCondition::EQ},
    {"SCMP_CMP_GE", proto::ArgCondition::GE},
    {"SCMP_CMP_GT", proto::ArgCondition::GT},
    {"SCMP_CMP_MASKED_EQ", proto::ArgCondition::MASKED_EQ},
};

absl::StatusOr<proto::ArgCondition> MapArg(const oci::Arg& arg,
                                           const std::string& path) {
  if (!arg.has_index()) return PathError(path + ".index", "missing");
  if (arg.index() > 5) {
    return PathError(path + ".index",
                     absl::StrCat(arg.index(), " is not an argument (0..5)"));
  }
  if (arg.op().empty()) return PathError(path + ".op", "missing");
  proto::ArgCondition condition;
  for (const auto& [name, op] : kOperators) {
    if (arg.op() == name) condition.set_op(op);
  }
  if (condition.op() == proto::ArgCondition::OP_UNSPECIFIED) {
    return PathError(path + ".op",
                     absl::StrCat("unknown operator \"", arg.op(), "\""));
  }
  condition.set_arg(arg.index());
  if (condition.op() == proto::ArgCondition::MASKED_EQ) {
    // libseccomp's order: the mask first, then the value to compare with.
    condition.set_mask(arg.value());
    condition.set_value(arg.value_two());
  } else {
    condition.set_value(arg.value());
  }
  return condition;
}

// Why an entry does not apply in the sandbox, evaluated as Docker does
// (moby's profiles/seccomp): every `includes` must hold, no `excludes` may.
enum class Skip { kNo, kCapabilities, kArchitecture, kKernel };

absl::StatusOr<Skip> WhetherToSkip(const oci::Syscall& entry,
                                   const std::string& path,
                                   const HostArch& host,
                                   const KernelVersion& kernel) {
  auto min_kernel = [&](const oci::Filter& filter, absl::string_view name)
      -> absl::StatusOr<std::optional<KernelVersion>> {
    if (filter.min_kernel().empty()) return std::nullopt;
    std::optional<KernelVersion> version =
        ParseKernelVersion(filter.min_kernel(), /*leading=*/false);
    if (!version) {
      return PathError(absl::StrCat(path, ".", name, ".minKernel"),
                       absl::StrCat("\"", filter.min_kernel(),
                                    "\" is not a kernel version "
                                    "<major>.<minor>"));
    }
    return version;
  };
  SBX_ASSIGN_OR_RETURN(const std::optional<KernelVersion> include_kernel,
                       min_kernel(entry.includes(), "includes"));
  SBX_ASSIGN_OR_RETURN(const std::optional<KernelVersion> exclude_kernel,
                       min_kernel(entry.excludes(), "excludes"));
  // The sandboxee holds no capability: an entry for some never applies, one
  // excluded by some always does.
  if (!entry.includes().caps().empty()) return Skip::kCapabilities;
  if (!entry.includes().arches().empty() &&
      !absl::c_any_of(entry.includes().arches(),
                      [&](const std::string& a) { return IsHost(host, a); })) {
    return Skip::kArchitecture;
  }
  if (absl::c_any_of(entry.excludes().arches(),
                     [&](const std::string& a) { return IsHost(host, a); })) {
    return Skip::kArchitecture;
  }
  if (include_kernel && !kernel.AtLeast(*include_kernel)) return Skip::kKernel;
  if (exclude_kernel && kernel.AtLeast(*exclude_kernel)) return Skip::kKernel;
  return Skip::kNo;
}

// Names in the order first seen, each once.
class NameList {
 public:
  void Add(absl::string_view name) {
    if (seen_.insert(std::string(name)).second) names_.emplace_back(name);
  }
  bool empty() const { return names_.empty(); }
  size_t size() const { return names_.size(); }
  // The names, or the first `most` of them and "...".
  std::string Joined(size_t most = SIZE_MAX) const {
    if (names_.size() <= most) return absl::StrJoin(names_, ", ");
    return absl::StrCat(
        absl::StrJoin(names_.begin(), names_.begin() + most, ", "), ", ...");
  }

 private:
  std::vector<std::string> names_;
  absl::flat_hash_set<std::string> seen_;
};

// What the import makes of clone(2)'s own condition on its flags (argument
// 0) in a rule that allows it. The sandbox allows clone only with no
// namespace flag set and refuses rules with conditions of their own on the
// flags (libseccomp takes one comparison per argument and rule).
enum class CloneFlags {
  // Implied by the sandbox's check (Docker's MASKED_EQ on the namespace
  // flags): dropped, the sandbox's check stands in for it.
  kImplied,
  // Holds only with namespace flags: the sandbox denies all of those clones
  // anyway.
  kOnlyDenied,
  // Never holds (the value has bits outside the mask): allows nothing.
  kNever,
  // A MASKED_EQ on other flags too (e.g. "CLONE_THREAD clear"): kept, and
  // the compiler merges the namespace check into its mask.
  kMerged,
  // Another comparison (EQ, LT, ...) on the flags: the compiler cannot
  // combine it with its own check, and the rule is dropped.
  kNarrower,
};

CloneFlags ClassifyCloneFlags(const proto::ArgCondition& condition) {
  const uint64_t namespaces = NamespaceCloneFlags();
  if (condition.op() != proto::ArgCondition::MASKED_EQ) {
    return CloneFlags::kNarrower;
  }
  if ((condition.value() & ~condition.mask()) != 0) return CloneFlags::kNever;
  if ((condition.value() & namespaces) != 0) return CloneFlags::kOnlyDenied;
  // value has no namespace flag and lies within mask: with mask within the
  // namespace flags it is 0, and the condition says "none of mask".
  if ((condition.mask() & ~namespaces) == 0) return CloneFlags::kImplied;
  return CloneFlags::kMerged;
}

bool RuleNames(const proto::SyscallRule& rule, absl::string_view name) {
  return absl::c_any_of(rule.syscalls(),
                        [&](const std::string& s) { return s == name; });
}

bool RuleGrants(const proto::SyscallRule& rule) {
  return rule.action() == proto::SyscallRule::ALLOW ||
         rule.action() == proto::SyscallRule::LOG;
}

// Protobuf's JSON printer writes 64-bit integers as strings (the proto3
// JSON mapping, for JavaScript's doubles), but runc and crun read an
// argument's value and valueTwo as JSON numbers only: unquote those. A key's
// quotes are never escaped and a string's inner quotes always are, so
// `"value": "` is only ever that key.
std::string UnquoteArgValues(std::string json) {
  for (const std::string key : {"\"value\": \"", "\"valueTwo\": \""}) {
    size_t pos = 0;
    while ((pos = json.find(key, pos)) != std::string::npos) {
      const size_t open = pos + key.size() - 1;
      const size_t close = json.find('"', open + 1);
      if (close == std::string::npos) break;
      const absl::string_view digits(json.data() + open + 1, close - open - 1);
      if (!digits.empty() && absl::c_all_of(digits, absl::ascii_isdigit)) {
        json.erase(close, 1);
        json.erase(open, 1);
      }
      pos = open;
    }
  }
  return json;
}

const char* OperatorName(proto::ArgCondition::Op op) {
  for (const auto& [name, value] : kOperators) {
    if (value == op) return name;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<OciSeccompImport> ImportOciSeccomp(
    absl::string_view json, const OciSeccompImportOptions& options) {
  oci::Seccomp profile;
  const google::protobuf::util::Status parsed =
      google::protobuf::util::JsonStringToMessage(
          google::protobuf::StringPiece(json.data(), json.size()), &profile,
          google::protobuf::util::JsonParseOptions());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a seccomp profile: ", parsed.message().ToString()));
  }
  KernelVersion kernel;
  if (options.kernel_version.empty()) {
    SBX_ASSIGN_OR_RETURN(kernel, RunningKernel());
  } else {
    std::optional<KernelVersion> version =
        ParseKernelVersion(options.kernel_version, /*leading=*/false);
    if (!version) {
      return absl::InvalidArgumentError(
          absl::StrCat("OciSeccompImportOptions.kernel_version: \"",
                       options.kernel_version, "\" is not <major>.<minor>"));
    }
    kernel = *version;
  }
  const HostArch host = Host();
  OciSeccompImport out;
  proto::Seccomp& seccomp = out.seccomp;
  // One note per sentence; the paths it concerns, in order.
  std::map<std::string, std::vector<std::string>> action_notes;

  SBX_ASSIGN_OR_RETURN(
      const Action default_action,
      MapAction(profile.default_action(), profile.has_default_errno_ret(),
                profile.default_errno_ret(), "defaultAction",
                "defaultErrnoRet"));
  if (default_action.Grants()) {
    return PathError("defaultAction",
                     absl::StrCat(profile.default_action(),
                                  " would allow every call no entry names; "
                                  "the sandbox runs allow-lists only (give "
                                  "SCMP_ACT_ERRNO or SCMP_ACT_KILL_PROCESS)"));
  }
  if (default_action.action == proto::SyscallRule::ERRNO) {
    seccomp.set_default_action(proto::Seccomp::ERRNO);
    seccomp.set_default_errno(ErrnoText(default_action.errno_value));
  } else {
    seccomp.set_default_action(proto::Seccomp::KILL);
  }
  if (default_action.note != nullptr) {
    action_notes[default_action.note].push_back("defaultAction");
  }
  if (profile.has_default_errno_ret() &&
      profile.default_action() != "SCMP_ACT_ERRNO") {
    out.notes.push_back(absl::StrCat("defaultErrnoRet: ignored with ",
                                     profile.default_action()));
  }

  // Only the host's calls were resolved, and the compiler kills every other
  // ABI. An OCI list without the host's is a profile for another machine;
  // Docker's archMap only matters for the host's entry.
  NameList killed_arches;
  if (!profile.architectures().empty()) {
    if (!absl::c_linear_search(profile.architectures(), host.scmp)) {
      return PathError("architectures",
                       absl::StrCat("none is this host's, ", host.scmp));
    }
    for (const std::string& arch : profile.architectures()) {
      if (arch != host.scmp) killed_arches.Add(arch);
    }
  }
  for (const oci::ArchMap& map : profile.arch_map()) {
    if (map.architecture() != host.scmp) continue;
    for (const std::string& arch : map.sub_architectures()) {
      if (arch != host.scmp) killed_arches.Add(arch);
    }
  }
  if (!killed_arches.empty()) {
    out.notes.push_back(absl::StrCat("the sandbox runs ", host.scmp,
                                     " system calls alone: those of ",
                                     killed_arches.Joined(), " are killed"));
  }
  NameList ignored_flags;
  for (int i = 0; i < profile.flags_size(); ++i) {
    const std::string& flag = profile.flags(i);
    if (flag != "SECCOMP_FILTER_FLAG_TSYNC" &&
        flag != "SECCOMP_FILTER_FLAG_LOG" &&
        flag != "SECCOMP_FILTER_FLAG_SPEC_ALLOW" &&
        flag != "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") {
      return PathError(absl::StrCat("flags[", i, "]"),
                       absl::StrCat("unknown flag \"", flag, "\""));
    }
    ignored_flags.Add(flag);
  }
  if (!ignored_flags.empty()) {
    out.notes.push_back(
        absl::StrCat("flags: ignored: ", ignored_flags.Joined()));
  }
  if (!profile.listener_path().empty() ||
      !profile.listener_metadata().empty()) {
    out.notes.push_back(
        "listenerPath: ignored: the sandbox reports and kills notified "
        "calls itself");
  }

  const absl::flat_hash_set<absl::string_view> deny(FixedDenyList().begin(),
                                                    FixedDenyList().end());
  const uint32_t native = seccomp_arch_native();
  NameList unknown_calls, foreign_calls, denied_calls, needed_caps;
  std::vector<std::string> clone_notes;
  int skipped_for_arch = 0;
  int skipped_for_kernel = 0;
  // The profile entry each rule comes from, for the compiler's errors.
  std::vector<int> rule_entry;
  for (int i = 0; i < profile.syscalls_size(); ++i) {
    const oci::Syscall& entry = profile.syscalls(i);
    const std::string path = absl::StrCat("syscalls[", i, "]");
    if (!entry.name().empty() && !entry.names().empty()) {
      return PathError(path, "has both name and names; use names");
    }
    std::vector<std::string> names(entry.names().begin(), entry.names().end());
    if (!entry.name().empty()) names.push_back(entry.name());
    if (names.empty()) return PathError(path + ".names", "missing");
    SBX_ASSIGN_OR_RETURN(
        const Action action,
        MapAction(entry.action(), entry.has_errno_ret(), entry.errno_ret(),
                  path + ".action", path + ".errnoRet"));
    proto::SyscallRule rule;
    rule.set_action(action.action);
    if (action.action == proto::SyscallRule::ERRNO) {
      rule.set_error(ErrnoText(action.errno_value));
    }
    int flags_condition = -1;  // the condition on argument 0
    for (int a = 0; a < entry.args_size(); ++a) {
      const std::string arg_path = absl::StrCat(path, ".args[", a, "]");
      SBX_ASSIGN_OR_RETURN(proto::ArgCondition condition,
                           MapArg(entry.args(a), arg_path));
      for (const proto::ArgCondition& other : rule.args()) {
        if (other.arg() == condition.arg()) {
          return PathError(
              arg_path,
              absl::StrCat("a second condition on argument ", condition.arg(),
                           ": runc reads that as either one holding, crun as "
                           "both; write one entry per alternative"));
        }
      }
      if (condition.arg() == 0) flags_condition = rule.args_size();
      *rule.add_args() = std::move(condition);
    }
    SBX_ASSIGN_OR_RETURN(const Skip skip,
                         WhetherToSkip(entry, path, host, kernel));
    switch (skip) {
      case Skip::kNo:
        break;
      case Skip::kCapabilities:
        for (const std::string& cap : entry.includes().caps()) {
          needed_caps.Add(cap);
        }
        continue;
      case Skip::kArchitecture:
        ++skipped_for_arch;
        continue;
      case Skip::kKernel:
        ++skipped_for_kernel;
        continue;
    }
    if (action.note != nullptr) action_notes[action.note].push_back(path);

    proto::SyscallRule clone_rule;
    for (const std::string& name : names) {
      const int nr = seccomp_syscall_resolve_name_arch(native, name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        unknown_calls.Add(name);
        continue;
      }
      // Known, but only on other architectures (chown32, socketcall, ...).
      if (nr < 0) {
        foreign_calls.Add(name);
        continue;
      }
      if (action.Grants() && deny.contains(name)) {
        denied_calls.Add(name);
        continue;
      }
      if (action.Grants() && name == "clone" && flags_condition >= 0) {
        switch (ClassifyCloneFlags(rule.args(flags_condition))) {
          case CloneFlags::kImplied:
            clone_rule = rule;
            clone_rule.clear_syscalls();
            clone_rule.clear_args();
            for (const proto::ArgCondition& condition : rule.args()) {
              if (condition.arg() != 0) *clone_rule.add_args() = condition;
            }
            clone_rule.add_syscalls(name);
            break;
          case CloneFlags::kMerged:
            clone_rule = rule;
            clone_rule.clear_syscalls();
            clone_rule.add_syscalls(name);
            break;
          case CloneFlags::kOnlyDenied:
            denied_calls.Add("clone with namespace flags");
            break;
          case CloneFlags::kNever:
            break;
          case CloneFlags::kNarrower:
            clone_notes.push_back(absl::StrCat(
                path,
                ": dropped clone: its condition on the flags (argument 0) "
                "cannot be combined with the sandbox's own check for "
                "namespace flags"));
            break;
        }
        continue;
      }
      rule.add_syscalls(name);
    }
    if (!rule.syscalls().empty()) {
      *seccomp.add_rules() = std::move(rule);
      rule_entry.push_back(i);
    }
    if (!clone_rule.syscalls().empty()) {
      *seccomp.add_rules() = std::move(clone_rule);
      rule_entry.push_back(i);
    }
  }

  // Where clone is allowed, the sandbox fails clone3 with ENOSYS itself (its
  // flags sit behind a pointer no filter can read) so that libc falls back
  // to clone; a rule of the profile for clone3 would contend with that.
  const bool clone_allowed =
      absl::c_any_of(seccomp.rules(), [](const proto::SyscallRule& rule) {
        return RuleGrants(rule) && RuleNames(rule, "clone");
      });
  if (clone_allowed) {
    for (int r = seccomp.rules_size() - 1; r >= 0; --r) {
      proto::SyscallRule& rule = *seccomp.mutable_rules(r);
      if (RuleGrants(rule) || !RuleNames(rule, "clone3")) continue;
      if (rule.action() != proto::SyscallRule::ERRNO ||
          rule.error() != ErrnoText(ENOSYS)) {
        clone_notes.push_back(absl::StrCat(
            "syscalls[", rule_entry[r],
            "]: clone3 fails with ENOSYS instead: the sandbox answers it so "
            "wherever clone is allowed, for libc to fall back to clone"));
      }
      auto& names = *rule.mutable_syscalls();
      names.erase(std::remove(names.begin(), names.end(), "clone3"),
                  names.end());
      if (names.empty()) {
        seccomp.mutable_rules()->erase(seccomp.mutable_rules()->begin() + r);
        rule_entry.erase(rule_entry.begin() + r);
      }
    }
  }

  for (const auto& [note, paths] : action_notes) {
    out.notes.push_back(absl::StrCat(absl::StrJoin(paths, ", "), ": ", note));
  }
  if (!denied_calls.empty()) {
    out.notes.push_back(absl::StrCat("allows ", denied_calls.Joined(),
                                     ", which the sandbox still denies"));
  }
  out.notes.insert(out.notes.end(), clone_notes.begin(), clone_notes.end());
  if (!unknown_calls.empty()) {
    out.notes.push_back(
        absl::StrCat("skipped system calls this libseccomp does not know, "
                     "which fail as the default action says: ",
                     unknown_calls.Joined()));
  }
  if (!foreign_calls.empty()) {
    out.notes.push_back(absl::StrCat("skipped ", foreign_calls.size(),
                                     " system calls of other architectures (",
                                     foreign_calls.Joined(3), ")"));
  }
  if (!needed_caps.empty()) {
    out.notes.push_back(absl::StrCat(
        "skipped the entries that need capabilities, which the sandboxee "
        "never has: ",
        needed_caps.Joined()));
  }
  if (skipped_for_arch > 0) {
    out.notes.push_back(absl::StrCat("skipped ", skipped_for_arch,
                                     " entries for other architectures"));
  }
  if (skipped_for_kernel > 0) {
    out.notes.push_back(absl::StrCat("skipped ", skipped_for_kernel,
                                     " entries for other kernels than ",
                                     kernel.ToString()));
  }

  // The imported section must compile as it is; an error of the compiler
  // names the profile's entry ("seccomp.rules[3].args: ..." of entry 5 is
  // "syscalls[5]: ...").
  absl::StatusOr<SeccompProgram> program =
      CompileSeccomp(seccomp, SeccompCompileOptions{});
  if (!program.ok()) {
    const absl::string_view message = program.status().message();
    int rule = -1;
    const size_t colon = message.find(": ");
    if (absl::StartsWith(message, "seccomp.rules[") &&
        colon != absl::string_view::npos &&
        absl::SimpleAtoi(message.substr(14, message.find(']') - 14), &rule) &&
        rule >= 0 && rule < static_cast<int>(rule_entry.size())) {
      return PathError(absl::StrCat("syscalls[", rule_entry[rule], "]"),
                       message.substr(colon + 2));
    }
    return absl::Status(program.status().code(),
                        absl::StrCat("the imported profile: ", message));
  }
  return out;
}

absl::StatusOr<std::string> ExportOciSeccomp(
    const proto::Seccomp& policy_seccomp) {
  // Groups spelled out as rules. The program's own first execve, which
  // the sandbox allows by itself where no rule names execve, is one a
  // runtime makes under the profile too: allowed, as a profile can say
  // "allowed" but not "once".
  proto::Seccomp seccomp = policy_seccomp;
  SBX_RETURN_IF_ERROR(internal::InlineGroups(seccomp));
  if (absl::c_none_of(seccomp.rules(), [](const proto::SyscallRule& rule) {
        return absl::c_linear_search(rule.syscalls(), "execve");
      })) {
    proto::SyscallRule& exec = *seccomp.add_rules();
    exec.add_syscalls("execve");
    exec.set_action(proto::SyscallRule::ALLOW);
  }
  oci::Seccomp out;
  if (seccomp.default_action() == proto::Seccomp::ERRNO) {
    absl::StatusOr<int> value = ParseErrno(seccomp.default_errno());
    if (!value.ok()) {
      return PathError("seccomp.default_errno", value.status().message());
    }
    out.set_default_action("SCMP_ACT_ERRNO");
    out.set_default_errno_ret(static_cast<uint32_t>(*value));
  } else {
    out.set_default_action("SCMP_ACT_KILL_PROCESS");
  }
  out.add_architectures(Host().scmp);

  const absl::flat_hash_set<std::string> dangerous(
      seccomp.dangerous_allow().begin(), seccomp.dangerous_allow().end());
  bool clone_allowed = false;
  bool names_clone3 = false;
  for (int r = 0; r < seccomp.rules_size(); ++r) {
    const proto::SyscallRule& rule = seccomp.rules(r);
    const std::string field = absl::StrCat("seccomp.rules[", r, "]");
    oci::Syscall entry;
    switch (rule.action()) {
      case proto::SyscallRule::ALLOW:
        entry.set_action("SCMP_ACT_ALLOW");
        break;
      case proto::SyscallRule::LOG:
        entry.set_action("SCMP_ACT_LOG");
        break;
      case proto::SyscallRule::KILL:
        entry.set_action("SCMP_ACT_KILL_PROCESS");
        break;
      case proto::SyscallRule::ERRNO: {
        absl::StatusOr<int> value = ParseErrno(rule.error());
        if (!value.ok()) {
          return PathError(field + ".error", value.status().message());
        }
        entry.set_action("SCMP_ACT_ERRNO");
        entry.set_errno_ret(static_cast<uint32_t>(*value));
        break;
      }
      default:
        return PathError(field + ".action",
                         "must be one of ALLOW, ERRNO, KILL, LOG");
    }
    bool conditions_on_flags = false;
    for (int a = 0; a < rule.args_size(); ++a) {
      const proto::ArgCondition& condition = rule.args(a);
      const char* op = OperatorName(condition.op());
      if (op == nullptr) {
        return PathError(absl::StrCat(field, ".args[", a, "].op"),
                         "must be one of EQ, NE, LT, LE, GT, GE, MASKED_EQ");
      }
      oci::Arg& arg = *entry.add_args();
      arg.set_index(condition.arg());
      arg.set_op(op);
      if (condition.op() == proto::ArgCondition::MASKED_EQ) {
        arg.set_value(condition.mask());
        arg.set_value_two(condition.value());
      } else {
        arg.set_value(condition.value());
      }
      if (condition.arg() == 0) conditions_on_flags = true;
    }
    for (const std::string& name : rule.syscalls()) {
      if (name == "clone3") names_clone3 = true;
      if (name == "clone" && RuleGrants(rule)) {
        clone_allowed = true;
        if (!dangerous.contains("clone") && !conditions_on_flags) {
          // The sandbox's own check, written out.
          oci::Syscall clone = entry;
          clone.clear_names();
          clone.add_names(name);
          oci::Arg& flags = *clone.add_args();
          flags.set_index(0);
          flags.set_op("SCMP_CMP_MASKED_EQ");
          flags.set_value(NamespaceCloneFlags());
          flags.set_value_two(0);
          *out.add_syscalls() = std::move(clone);
          continue;
        }
      }
      entry.add_names(name);
    }
    if (!entry.names().empty()) *out.add_syscalls() = std::move(entry);
  }
  if (clone_allowed && !dangerous.contains("clone3") && !names_clone3) {
    oci::Syscall& clone3 = *out.add_syscalls();
    clone3.add_names("clone3");
    clone3.set_action("SCMP_ACT_ERRNO");
    clone3.set_errno_ret(ENOSYS);
  }

  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = true;
  std::string json;
  const google::protobuf::util::Status printed =
      google::protobuf::util::MessageToJsonString(out, &json, print);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("printing the profile as JSON: ",
                                            printed.message().ToString()));
  }
  return UnquoteArgValues(std::move(json));
}

}  // namespace sandbox
