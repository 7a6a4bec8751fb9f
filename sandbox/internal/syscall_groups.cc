#include "sandbox/internal/syscall_groups.h"

#include <fcntl.h>
#include <seccomp.h>

#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "sandbox/internal/syscall_decoder.h"
#include "sandbox/status_macros.h"

namespace sandbox::internal {

// sandbox/syscall_groups.textproto, from syscall_groups_data.cc (generated).
extern const char kSyscallGroupsText[];

namespace {

struct Table {
  proto::SyscallGroupTable table;
  absl::Status status;
  // Group by enum value.
  absl::flat_hash_map<int, const proto::SyscallGroupDefinition*> by_group;
  // For each x86-64 system call number, the group rules naming it.
  struct Entry {
    const proto::SyscallGroupDefinition* group;
    const proto::SyscallRule* rule;
  };
  absl::flat_hash_map<int, std::vector<Entry>> by_nr;
};

std::unique_ptr<Table> LoadTable() {
  auto loaded = std::make_unique<Table>();
  if (!google::protobuf::TextFormat::ParseFromString(kSyscallGroupsText,
                                                     &loaded->table)) {
    loaded->status = absl::InternalError(
        "the compiled-in sandbox/syscall_groups.textproto does not parse");
    return loaded;
  }
  const uint32_t arch = seccomp_arch_native();
  for (const proto::SyscallGroupDefinition& group : loaded->table.groups()) {
    const std::string name = proto::SyscallGroup_Name(group.group());
    if (group.group() == proto::SYSCALL_GROUP_UNSPECIFIED ||
        !loaded->by_group.emplace(group.group(), &group).second) {
      loaded->status = absl::InternalError(
          absl::StrCat("sandbox/syscall_groups.textproto: group ", name,
                       " is unspecified or defined twice"));
      return loaded;
    }
    for (const proto::SyscallRule& rule : group.rules()) {
      if (rule.action() != proto::SyscallRule::ALLOW) {
        loaded->status = absl::InternalError(
            absl::StrCat("sandbox/syscall_groups.textproto: group ", name,
                         " has a rule that does not allow"));
        return loaded;
      }
      for (const std::string& syscall : rule.syscalls()) {
        const int nr = seccomp_syscall_resolve_name_arch(arch, syscall.c_str());
        // The compiler names an unknown call; here it just never matches.
        if (nr < 0) continue;
        loaded->by_nr[nr].push_back({&group, &rule});
      }
    }
  }
  for (int value = proto::SyscallGroup_MIN + 1;
       value <= proto::SyscallGroup_MAX; ++value) {
    if (proto::SyscallGroup_IsValid(value) &&
        !loaded->by_group.contains(value)) {
      loaded->status = absl::InternalError(absl::StrCat(
          "sandbox/syscall_groups.textproto: no definition of group ",
          proto::SyscallGroup_Name(static_cast<proto::SyscallGroup>(value))));
      return loaded;
    }
  }
  return loaded;
}

const Table& GetTable() {
  static const Table* const table = LoadTable().release();
  return *table;
}

std::string OpText(proto::ArgCondition::Op op) {
  switch (op) {
    case proto::ArgCondition::EQ:
      return "==";
    case proto::ArgCondition::NE:
      return "!=";
    case proto::ArgCondition::LT:
      return "<";
    case proto::ArgCondition::LE:
      return "<=";
    case proto::ArgCondition::GT:
      return ">";
    case proto::ArgCondition::GE:
      return ">=";
    default:
      return "?";
  }
}

std::string Hex(uint64_t value) {
  return value < 10 ? absl::StrCat(value)
                    : absl::StrCat("0x", absl::Hex(value));
}

// E.g. "request == FIONREAD", "flags & (O_ACCMODE|O_CREAT|O_TRUNC) ==
// O_RDONLY": the argument's name and constants from the decoder's table,
// numbers where it has none.
std::string ConditionText(absl::string_view syscall,
                          const proto::ArgCondition& condition) {
  const SyscallSignature* signature = FindSignature(syscall);
  std::string arg = absl::StrCat("arg", condition.arg());
  ArgKind kind = ArgKind::kHex;
  if (signature != nullptr && condition.arg() < 6 &&
      signature->args[condition.arg()].kind != ArgKind::kNone) {
    arg = signature->args[condition.arg()].name;
    if (IsSymbolic(signature->args[condition.arg()].kind)) {
      kind = signature->args[condition.arg()].kind;
    }
  }
  auto value = [&](uint64_t v) {
    return kind == ArgKind::kHex ? Hex(v) : DecodeArg(kind, v);
  };
  if (condition.op() == proto::ArgCondition::MASKED_EQ) {
    std::string mask = value(condition.mask());
    if (kind == ArgKind::kOpenFlags && (condition.mask() & O_ACCMODE) != 0) {
      // The access mode is a two-bit field, not flags.
      mask = DecodeArg(kind, condition.mask() & ~uint64_t{O_ACCMODE});
      if (absl::StartsWith(mask, "O_RDONLY|")) mask = mask.substr(9);
      mask =
          mask == "O_RDONLY" ? "O_ACCMODE" : absl::StrCat("O_ACCMODE|", mask);
    }
    if (absl::StrContains(mask, "|")) mask = absl::StrCat("(", mask, ")");
    return absl::StrCat(
        arg, " & ", mask,
        " == ", condition.value() == 0 ? "0" : value(condition.value()));
  }
  return absl::StrCat(arg, " ", OpText(condition.op()), " ",
                      value(condition.value()));
}

}  // namespace

absl::StatusOr<const proto::SyscallGroupTable*> SyscallGroups() {
  const Table& table = GetTable();
  if (!table.status.ok()) return table.status;
  return &table.table;
}

const proto::SyscallGroupDefinition* FindGroup(proto::SyscallGroup group) {
  const Table& table = GetTable();
  auto it = table.by_group.find(group);
  return it == table.by_group.end() ? nullptr : it->second;
}

absl::Status InlineGroups(proto::Seccomp& seccomp) {
  for (int g = 0; g < seccomp.allow_groups_size(); ++g) {
    const proto::SyscallGroupDefinition* group =
        FindGroup(seccomp.allow_groups(g));
    if (group == nullptr) {
      SBX_RETURN_IF_ERROR(SyscallGroups().status());
      return absl::InvalidArgumentError(
          absl::StrCat("seccomp.allow_groups[", g, "]: no such group (",
                       seccomp.allow_groups(g), ")"));
    }
    for (const proto::SyscallRule& rule : group->rules()) {
      *seccomp.add_rules() = rule;
    }
  }
  seccomp.clear_allow_groups();
  return absl::OkStatus();
}

bool ConditionsHold(const proto::SyscallRule& rule,
                    const std::array<uint64_t, 6>& args) {
  for (const proto::ArgCondition& condition : rule.args()) {
    if (condition.arg() >= args.size()) return false;
    const uint64_t arg = args[condition.arg()];
    const uint64_t value = condition.value();
    bool holds = false;
    switch (condition.op()) {
      case proto::ArgCondition::EQ:
        holds = arg == value;
        break;
      case proto::ArgCondition::NE:
        holds = arg != value;
        break;
      case proto::ArgCondition::LT:
        holds = arg < value;
        break;
      case proto::ArgCondition::LE:
        holds = arg <= value;
        break;
      case proto::ArgCondition::GT:
        holds = arg > value;
        break;
      case proto::ArgCondition::GE:
        holds = arg >= value;
        break;
      case proto::ArgCondition::MASKED_EQ:
        holds = (arg & condition.mask()) == value;
        break;
      default:
        holds = false;
    }
    if (!holds) return false;
  }
  return true;
}

std::vector<std::string> GroupsAllowing(int nr,
                                        const std::array<uint64_t, 6>& args) {
  const Table& table = GetTable();
  std::vector<std::string> names;
  auto it = table.by_nr.find(nr);
  if (!table.status.ok() || it == table.by_nr.end()) return names;
  for (const Table::Entry& entry : it->second) {
    const std::string name = proto::SyscallGroup_Name(entry.group->group());
    if (!names.empty() && names.back() == name) continue;
    if (ConditionsHold(*entry.rule, args)) names.push_back(name);
  }
  return names;
}

std::string GroupsMarkdown() {
  const Table& table = GetTable();
  if (!table.status.ok()) return std::string(table.status.message());
  std::string out =
      "<!-- Generated from sandbox/syscall_groups.textproto by `sandbox-run "
      "--groups`; do not edit. -->\n"
      "# System call groups\n\n"
      "A policy allows a group by name: `seccomp { allow_groups: [STDIO, "
      "DYNAMIC_STARTUP] }` in a text policy, `AllowGroup(proto::STDIO)` in "
      "code. Groups only allow; the sandbox's own checks hold whatever they "
      "say: the fixed deny list, `clone` without namespace flags, `clone3` "
      "failing with ENOSYS, `prctl` without PR_SET_SECCOMP. In exec mode the "
      "sandbox itself allows the program's first `execve`.\n\n"
      "Conditions name the arguments as the system call's manual page does "
      "and compare the whole 64-bit x86-64 register: a value whose high half "
      "is set where the kernel reads an int does not match, so it is "
      "refused.\n\n"
      "| Group | What it grants |\n|---|---|\n";
  for (const proto::SyscallGroupDefinition& group : table.table.groups()) {
    absl::StrAppend(
        &out, "| [", proto::SyscallGroup_Name(group.group()), "](#",
        absl::AsciiStrToLower(proto::SyscallGroup_Name(group.group())), ") | ",
        group.summary(), " |\n");
  }
  for (const proto::SyscallGroupDefinition& group : table.table.groups()) {
    absl::StrAppend(&out, "\n## ", proto::SyscallGroup_Name(group.group()),
                    "\n\n", group.summary(), "\n\n", group.notes(), "\n\n");
    std::vector<std::string> unconditional;
    absl::flat_hash_set<std::string> seen;
    std::vector<std::string> conditional;
    for (const proto::SyscallRule& rule : group.rules()) {
      if (rule.args().empty()) {
        for (const std::string& name : rule.syscalls()) {
          if (seen.insert(name).second) {
            unconditional.push_back(absl::StrCat("`", name, "`"));
          }
        }
        continue;
      }
      for (const std::string& name : rule.syscalls()) {
        std::vector<std::string> conditions;
        for (const proto::ArgCondition& condition : rule.args()) {
          conditions.push_back(ConditionText(name, condition));
        }
        conditional.push_back(absl::StrCat(
            "- `", name, "` when `", absl::StrJoin(conditions, " && "), "`\n"));
      }
    }
    if (!unconditional.empty()) {
      absl::StrAppend(&out, "Always: ", absl::StrJoin(unconditional, ", "),
                      ".\n");
    }
    if (!conditional.empty()) {
      absl::StrAppend(&out, unconditional.empty() ? "" : "\n",
                      "With conditions (any one suffices):\n\n",
                      absl::StrJoin(conditional, ""));
    }
  }
  return out;
}

}  // namespace sandbox::internal
