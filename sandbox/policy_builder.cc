#include "sandbox/policy_builder.h"

#include <linux/audit.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/mounts.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/util.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;
using internal::FieldError;
using internal::NormalizeAbsolutePath;
using internal::ParseSizeField;

constexpr uint64_t kDefaultNofile = 1024;
constexpr uint64_t kMaxNofile = 65536;
constexpr uint32_t kDefaultInsideId = 1000;
constexpr char kDefaultRootSize[] = "1M";
constexpr char kDefaultHostname[] = "sandbox";

void FillNamespaceDefaults(proto::Namespaces& ns) {
  if (!ns.has_user()) ns.set_user(true);
  if (!ns.has_pid()) ns.set_pid(true);
  if (!ns.has_net()) ns.set_net(true);
  if (!ns.has_ipc()) ns.set_ipc(true);
  if (!ns.has_uts()) ns.set_uts(true);
  if (!ns.has_mount()) ns.set_mount(true);
  if (!ns.has_cgroup()) ns.set_cgroup(true);
}

absl::Status ValidateUser(proto::Policy& policy) {
  proto::User& user = *policy.mutable_user();
  if (!user.has_uid()) user.set_uid(kDefaultInsideId);
  if (!user.has_gid()) user.set_gid(kDefaultInsideId);
  if (!policy.namespaces().user() &&
      (user.has_outside_uid() || user.has_outside_gid())) {
    return FieldError("user.outside_uid",
                      "only applies with a user namespace (namespaces.user)");
  }
  if (user.has_outside_uid() && user.outside_uid() == 0) {
    return FieldError("user.outside_uid",
                      "must not be 0: the sandboxee never runs as host root");
  }
  if (user.has_outside_gid() && user.outside_gid() == 0) {
    return FieldError("user.outside_gid",
                      "must not be 0: the sandboxee never runs as host root");
  }
  if (user.uid() == static_cast<uint32_t>(-1) ||
      user.gid() == static_cast<uint32_t>(-1)) {
    return FieldError("user.uid", "-1 is not a valid id");
  }
  return absl::OkStatus();
}

absl::Status ValidateFilesystem(proto::Policy& policy, ResolvedLimits& limits) {
  proto::Filesystem& fs = *policy.mutable_filesystem();
  const proto::Namespaces& ns = policy.namespaces();
  if (!fs.has_proc()) fs.set_proc(ns.mount() && ns.pid());
  if (!fs.has_dev()) fs.set_dev(ns.mount());
  if (fs.root_size().empty()) fs.set_root_size(kDefaultRootSize);
  SBX_ASSIGN_OR_RETURN(limits.root_size,
                       ParseSizeField(fs.root_size(), "filesystem.root_size"));
  if (limits.root_size == 0) {
    return FieldError("filesystem.root_size", "must be greater than 0");
  }
  if (fs.cwd().empty()) fs.set_cwd("/");
  SBX_ASSIGN_OR_RETURN(std::string cwd,
                       NormalizeAbsolutePath(fs.cwd(), "filesystem.cwd"));
  fs.set_cwd(cwd);

  if (!ns.mount()) {
    if (fs.mounts_size() > 0) {
      return FieldError("filesystem.mounts",
                        "needs the mount namespace (namespaces.mount)");
    }
    if (fs.proc()) {
      return FieldError("filesystem.proc",
                        "needs the mount namespace (namespaces.mount)");
    }
    if (fs.dev()) {
      return FieldError("filesystem.dev",
                        "needs the mount namespace (namespaces.mount)");
    }
    if (fs.writable_root()) {
      return FieldError("filesystem.writable_root",
                        "needs the mount namespace (namespaces.mount)");
    }
  }
  if (fs.proc() && !ns.pid()) {
    return FieldError("filesystem.proc",
                      "needs the pid namespace (namespaces.pid): a /proc "
                      "without it would show every host process");
  }

  SBX_RETURN_IF_ERROR(internal::ValidateMounts(fs, limits.tmpfs_sizes));
  if (ns.landlock_fallback()) {
    // Landlock grants host paths: a bind elsewhere would not be where the
    // program looks for it.
    for (int i = 0; i < fs.mounts_size(); ++i) {
      const proto::BindMount& bind = fs.mounts(i).bind();
      if (fs.mounts(i).has_bind() && bind.target() != bind.source()) {
        return FieldError(
            absl::StrCat("filesystem.mounts[", i, "].bind.target"),
            absl::StrCat(bind.target(), " differs from its source ",
                         bind.source(),
                         ", which namespaces.landlock_fallback cannot "
                         "honour: without a mount namespace the program sees "
                         "host paths. Bind it at its own path"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateLimits(proto::Policy& policy, ResolvedLimits& limits) {
  proto::Limits& l = *policy.mutable_limits();
  if (!(l.wall_time_seconds() >= 0) || std::isinf(l.wall_time_seconds())) {
    return FieldError("limits.wall_time_seconds",
                      "must be a finite number >= 0 (0: no limit)");
  }
  if (l.nofile() == 0) l.set_nofile(kDefaultNofile);
  if (l.nofile() < 8 || l.nofile() > kMaxNofile) {
    return FieldError("limits.nofile",
                      absl::StrCat(l.nofile(), " is outside 8..", kMaxNofile));
  }
  limits.nofile = l.nofile();
  if (!l.file_size().empty()) {
    SBX_ASSIGN_OR_RETURN(limits.file_size,
                         ParseSizeField(l.file_size(), "limits.file_size"));
  }
  if (!l.address_space().empty()) {
    SBX_ASSIGN_OR_RETURN(
        limits.address_space,
        ParseSizeField(l.address_space(), "limits.address_space"));
    if (limits.address_space < (16u << 20)) {
      return FieldError("limits.address_space",
                        "below 16M no program can start");
    }
  }
  if (!l.memory().empty()) {
    SBX_ASSIGN_OR_RETURN(limits.memory,
                         ParseSizeField(l.memory(), "limits.memory"));
    if (limits.memory < (1u << 20)) {
      return FieldError("limits.memory", "must be at least 1M");
    }
  }
  if (!(l.cpus() >= 0) || std::isinf(l.cpus())) {
    return FieldError("limits.cpus",
                      "must be a finite number >= 0 (0: no cap)");
  }
  if (l.cpus() > 0 && l.cpus() < 0.01) {
    return FieldError("limits.cpus", "must be at least 0.01");
  }
  if (l.cgroup_best_effort() && l.memory().empty() && l.pids() == 0 &&
      l.cpus() == 0) {
    return FieldError("limits.cgroup_best_effort",
                      "only applies with limits.memory, pids or cpus");
  }
  if (l.allow_swap() && l.memory().empty()) {
    return FieldError("limits.allow_swap", "only applies with limits.memory");
  }
  if (l.end_on_limit() && l.memory().empty() && l.pids() == 0) {
    return FieldError("limits.end_on_limit",
                      "only applies with limits.pids or limits.memory");
  }
  return absl::OkStatus();
}

absl::Status ValidateEnv(const proto::Policy& policy) {
  for (int i = 0; i < policy.env_size(); ++i) {
    const std::string& entry = policy.env(i);
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      return FieldError(absl::StrCat("env[", i, "]"),
                        absl::StrCat("expected KEY=VALUE, got '", entry, "'"));
    }
    if (entry.find('\0') != std::string::npos) {
      return FieldError(absl::StrCat("env[", i, "]"), "contains a NUL byte");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHostname(proto::Policy& policy) {
  if (!policy.namespaces().uts()) {
    if (!policy.hostname().empty()) {
      return FieldError("hostname", "needs the UTS namespace (namespaces.uts)");
    }
    return absl::OkStatus();
  }
  if (policy.hostname().empty()) policy.set_hostname(kDefaultHostname);
  const std::string& name = policy.hostname();
  if (name.size() > 64) return FieldError("hostname", "longer than 64 bytes");
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_')) {
      return FieldError("hostname", absl::StrCat("'", name,
                                                 "' has a character outside "
                                                 "[A-Za-z0-9._-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaces(const proto::Namespaces& ns) {
  if (ns.program_is_init() && !ns.pid()) {
    return FieldError("namespaces.program_is_init",
                      "needs a pid namespace (namespaces.pid)");
  }
  if (ns.shared_net() && !ns.net()) {
    return FieldError("namespaces.shared_net",
                      "needs a network namespace (namespaces.net)");
  }
  if (ns.landlock_fallback() && !ns.user()) {
    return FieldError("namespaces.landlock_fallback",
                      "only applies with a user namespace (namespaces.user): "
                      "it is what runs where one cannot be made");
  }
  if (ns.landlock_fallback() && !ns.mount()) {
    return FieldError("namespaces.landlock_fallback",
                      "needs a mount namespace (namespaces.mount): the "
                      "fallback's Landlock rules are the policy's mounts");
  }
  // Without a user namespace only root can create the others: checked at
  // spawn time, where the host's privilege is known.
  return absl::OkStatus();
}

// Splits "a.b[2].c" into {{"a",-1},{"b",2},{"c",-1}}.
std::vector<std::pair<std::string, int>> ParseFieldPath(
    absl::string_view path) {
  std::vector<std::pair<std::string, int>> parts;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    int index = -1;
    const size_t bracket = part.find('[');
    if (bracket != absl::string_view::npos && part.back() == ']') {
      if (!absl::SimpleAtoi(part.substr(bracket + 1, part.size() - bracket - 2),
                            &index)) {
        return {};
      }
      part = part.substr(0, bracket);
    }
    parts.emplace_back(std::string(part), index);
  }
  return parts;
}

}  // namespace

// Where each field of a text policy stands, for line:column in errors.
struct PolicyBuilder::TextSource {
  std::string name;
  TextFormat::ParseInfoTree tree;
};

// --- Arg ---

proto::ArgCondition Arg::Make(proto::ArgCondition::Op op,
                              uint64_t value) const {
  proto::ArgCondition condition;
  condition.set_arg(index_);
  condition.set_op(op);
  condition.set_value(value);
  return condition;
}
proto::ArgCondition Arg::operator==(uint64_t v) const {
  return Make(proto::ArgCondition::EQ, v);
}
proto::ArgCondition Arg::operator!=(uint64_t v) const {
  return Make(proto::ArgCondition::NE, v);
}
proto::ArgCondition Arg::operator<(uint64_t v) const {
  return Make(proto::ArgCondition::LT, v);
}
proto::ArgCondition Arg::operator<=(uint64_t v) const {
  return Make(proto::ArgCondition::LE, v);
}
proto::ArgCondition Arg::operator>(uint64_t v) const {
  return Make(proto::ArgCondition::GT, v);
}
proto::ArgCondition Arg::operator>=(uint64_t v) const {
  return Make(proto::ArgCondition::GE, v);
}
proto::ArgCondition Arg::MaskedEq(uint64_t mask, uint64_t value) const {
  proto::ArgCondition condition = Make(proto::ArgCondition::MASKED_EQ, value);
  condition.set_mask(mask);
  return condition;
}

// --- PolicyBuilder ---

PolicyBuilder::PolicyBuilder() = default;
PolicyBuilder::~PolicyBuilder() = default;
PolicyBuilder::PolicyBuilder(PolicyBuilder&&) noexcept = default;
PolicyBuilder& PolicyBuilder::operator=(PolicyBuilder&&) noexcept = default;

PolicyBuilder PolicyBuilder::FromProto(proto::Policy policy) {
  PolicyBuilder builder;
  builder.proto_ = std::move(policy);
  return builder;
}

absl::StatusOr<PolicyBuilder> PolicyBuilder::FromTextFile(
    const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    const int saved_errno = errno;
    return absl::ErrnoToStatus(saved_errno,
                               absl::StrCat("cannot open policy ", path));
  }
  std::stringstream text;
  text << file.rdbuf();
  return FromText(text.str(), path);
}

absl::StatusOr<PolicyBuilder> PolicyBuilder::FromText(
    absl::string_view text, absl::string_view source_name) {
  class Collector : public google::protobuf::io::ErrorCollector {
   public:
    void AddError(int line, int column, const std::string& message) override {
      if (first_error.empty()) {
        first_error = absl::StrCat(line + 1, ":", column + 1, ": ", message);
      }
    }
    std::string first_error;
  };
  Collector collector;
  auto source = std::make_shared<TextSource>();
  source->name = std::string(source_name);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&source->tree);
  PolicyBuilder builder;
  if (!parser.ParseFromString(std::string(text), &builder.proto_)) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ":", collector.first_error));
  }
  builder.text_source_ = std::move(source);
  return builder;
}

PolicyBuilder& PolicyBuilder::SetName(std::string name) {
  proto_.set_name(std::move(name));
  return *this;
}
PolicyBuilder& PolicyBuilder::UseHostNetwork() {
  proto_.mutable_namespaces()->set_net(false);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetHostname(std::string hostname) {
  proto_.set_hostname(std::move(hostname));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetUser(uint32_t uid, uint32_t gid) {
  proto_.mutable_user()->set_uid(uid);
  proto_.mutable_user()->set_gid(gid);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetOutsideUser(uint32_t uid, uint32_t gid) {
  proto_.mutable_user()->set_outside_uid(uid);
  proto_.mutable_user()->set_outside_gid(gid);
  return *this;
}

PolicyBuilder& PolicyBuilder::AddBind(std::string source, MountMode mode) {
  std::string target = source;
  return AddBind(std::move(source), std::move(target), mode);
}
PolicyBuilder& PolicyBuilder::AddBind(std::string source, std::string target,
                                      MountMode mode, SymlinkMode symlinks) {
  proto::BindMount& bind =
      *proto_.mutable_filesystem()->add_mounts()->mutable_bind();
  bind.set_source(std::move(source));
  bind.set_target(std::move(target));
  bind.set_writable(mode == MountMode::kReadWrite);
  bind.set_follow_symlinks(symlinks == SymlinkMode::kFollow);
  return *this;
}
PolicyBuilder& PolicyBuilder::AddBindIfExists(std::string source,
                                              MountMode mode,
                                              SymlinkMode symlinks) {
  std::string target = source;
  AddBind(std::move(source), std::move(target), mode, symlinks);
  proto_.mutable_filesystem()
      ->mutable_mounts()
      ->rbegin()
      ->mutable_bind()
      ->set_optional(true);
  return *this;
}
PolicyBuilder& PolicyBuilder::AddTmpfs(std::string target,
                                       uint64_t size_bytes) {
  proto::TmpfsMount& tmpfs =
      *proto_.mutable_filesystem()->add_mounts()->mutable_tmpfs();
  tmpfs.set_target(std::move(target));
  tmpfs.set_size(absl::StrCat(size_bytes));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetRootMode(MountMode mode) {
  proto_.mutable_filesystem()->set_writable_root(mode == MountMode::kReadWrite);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetCwd(std::string cwd) {
  proto_.mutable_filesystem()->set_cwd(std::move(cwd));
  return *this;
}

PolicyBuilder& PolicyBuilder::AllowSyscall(
    std::string name, std::vector<proto::ArgCondition> conditions) {
  proto::SyscallRule rule;
  rule.add_syscalls(std::move(name));
  rule.set_action(proto::SyscallRule::ALLOW);
  for (proto::ArgCondition& condition : conditions) {
    *rule.add_args() = std::move(condition);
  }
  return AddSyscallRule(std::move(rule));
}
PolicyBuilder& PolicyBuilder::AllowGroup(proto::SyscallGroup group) {
  proto_.mutable_seccomp()->add_allow_groups(group);
  return *this;
}
PolicyBuilder& PolicyBuilder::AllowGroups(
    std::initializer_list<proto::SyscallGroup> groups) {
  for (proto::SyscallGroup group : groups) AllowGroup(group);
  return *this;
}
PolicyBuilder& PolicyBuilder::AllowStdio() { return AllowGroup(proto::STDIO); }
PolicyBuilder& PolicyBuilder::AllowDynamicStartup() {
  return AllowGroups({proto::DYNAMIC_STARTUP, proto::EXIT_AND_SIGNALS});
}
PolicyBuilder& PolicyBuilder::AllowSyscalls(
    std::initializer_list<absl::string_view> names) {
  proto::SyscallRule rule;
  for (absl::string_view name : names) rule.add_syscalls(std::string(name));
  rule.set_action(proto::SyscallRule::ALLOW);
  return AddSyscallRule(std::move(rule));
}
PolicyBuilder& PolicyBuilder::BlockSyscallWithErrno(std::string name,
                                                    int errno_value) {
  proto::SyscallRule rule;
  rule.add_syscalls(std::move(name));
  rule.set_action(proto::SyscallRule::ERRNO);
  rule.set_error(absl::StrCat(errno_value));
  return AddSyscallRule(std::move(rule));
}
PolicyBuilder& PolicyBuilder::LogSyscall(std::string name) {
  proto::SyscallRule rule;
  rule.add_syscalls(std::move(name));
  rule.set_action(proto::SyscallRule::LOG);
  return AddSyscallRule(std::move(rule));
}
PolicyBuilder& PolicyBuilder::AllowDangerousSyscall(std::string name) {
  proto_.mutable_seccomp()->add_dangerous_allow(name);
  return AllowSyscall(std::move(name));
}
PolicyBuilder& PolicyBuilder::SetDefaultErrno(int errno_value) {
  proto_.mutable_seccomp()->set_default_action(proto::Seccomp::ERRNO);
  proto_.mutable_seccomp()->set_default_errno(absl::StrCat(errno_value));
  return *this;
}
PolicyBuilder& PolicyBuilder::AddSyscallRule(proto::SyscallRule rule) {
  *proto_.mutable_seccomp()->add_rules() = std::move(rule);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetSeccomp(proto::Seccomp seccomp) {
  if (proto_.seccomp().defer_until_lockdown()) {
    seccomp.set_defer_until_lockdown(true);
  }
  *proto_.mutable_seccomp() = std::move(seccomp);
  return *this;
}

PolicyBuilder& PolicyBuilder::SetWallTime(absl::Duration limit) {
  proto_.mutable_limits()->set_wall_time_seconds(absl::ToDoubleSeconds(limit));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetCpuTime(absl::Duration limit) {
  proto_.mutable_limits()->set_cpu_time_seconds(static_cast<uint64_t>(
      absl::ToInt64Seconds(absl::Ceil(limit, absl::Seconds(1)))));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetMaxOpenFiles(uint64_t count) {
  proto_.mutable_limits()->set_nofile(count);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetMaxProcesses(uint64_t count) {
  proto_.mutable_limits()->set_nproc(count);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetMaxFileSize(uint64_t bytes) {
  proto_.mutable_limits()->set_file_size(absl::StrCat(bytes));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetAddressSpace(uint64_t bytes) {
  proto_.mutable_limits()->set_address_space(absl::StrCat(bytes));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetMemory(uint64_t bytes) {
  proto_.mutable_limits()->set_memory(absl::StrCat(bytes));
  return *this;
}
PolicyBuilder& PolicyBuilder::SetPids(uint32_t count) {
  proto_.mutable_limits()->set_pids(count);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetCpus(double cpus) {
  proto_.mutable_limits()->set_cpus(cpus);
  return *this;
}
PolicyBuilder& PolicyBuilder::SetEndOnLimit(bool end) {
  proto_.mutable_limits()->set_end_on_limit(end);
  return *this;
}
PolicyBuilder& PolicyBuilder::AddEnv(std::string key_value) {
  proto_.add_env(std::move(key_value));
  return *this;
}

absl::StatusOr<Policy> PolicyBuilder::Build() const {
  return BuildImpl(nullptr);
}

const proto::Policy& Policy::proto() const { return state_->proto; }
const ResolvedLimits& Policy::limits() const { return state_->limits; }

namespace internal {

const PolicyState& StateOf(const Policy& policy) { return *policy.state_; }

absl::StatusOr<Policy> BuildWithProgram(const PolicyBuilder& builder,
                                        SeccompProgram program) {
  return builder.BuildImpl(&program);
}

}  // namespace internal

absl::StatusOr<Policy> PolicyBuilder::BuildImpl(
    const SeccompProgram* precompiled) const {
  static std::atomic<uint64_t> next_id{1};
  auto impl = std::make_shared<internal::PolicyState>();
  impl->id = next_id.fetch_add(1, std::memory_order_relaxed);
  impl->proto = proto_;
  proto::Policy& policy = impl->proto;
  FillNamespaceDefaults(*policy.mutable_namespaces());

  absl::Status status = ValidateNamespaces(policy.namespaces());
  if (status.ok()) status = ValidateUser(policy);
  if (status.ok()) status = ValidateFilesystem(policy, impl->limits);
  if (status.ok()) status = ValidateLimits(policy, impl->limits);
  if (status.ok()) status = ValidateEnv(policy);
  if (status.ok()) status = ValidateHostname(policy);
  if (status.ok() && precompiled != nullptr) {
    impl->seccomp = *precompiled;
  } else if (status.ok()) {
    absl::StatusOr<SeccompProgram> program = CompileSeccomp(
        policy.seccomp(),
        SeccompCompileOptions{.bootstrap_fd =
                                  static_cast<int>(impl->limits.nofile)});
    if (program.ok()) {
      impl->seccomp = *std::move(program);
    } else {
      status = program.status();
    }
  }
  if (status.ok() && policy.seccomp().defer_until_lockdown()) {
    // LockDown() closes the listener (and in exec mode unmaps and closes the
    // filter's memfd) once the filter is in: a policy that forbids that
    // would kill every sandbox at its LockDown().
    for (const int nr : {__NR_close, __NR_munmap}) {
      struct seccomp_data call = {};
      call.nr = nr;
      call.arch = AUDIT_ARCH_X86_64;
      call.args[0] = 3;
      if ((EvaluateSeccomp(impl->seccomp.instructions, call) &
           SECCOMP_RET_ACTION_FULL) != SECCOMP_RET_ALLOW) {
        status = absl::InvalidArgumentError(
            absl::StrCat("seccomp.defer_until_lockdown: LockDown() calls ",
                         nr == __NR_close ? "close" : "munmap",
                         " once the filter is in; the rules must allow it"));
        break;
      }
    }
  }
  if (status.ok() && policy.seccomp().defer_until_lockdown()) {
    absl::StatusOr<SeccompProgram> prelude =
        CompileLockDownPrelude(policy.seccomp(), impl->seccomp.uses_notify);
    if (prelude.ok()) {
      impl->lockdown_prelude = *std::move(prelude);
    } else {
      status = prelude.status();
    }
  }
  if (status.ok()) {
    struct seccomp_data clock_call = {};
    clock_call.nr = __NR_clock_gettime;
    clock_call.arch = AUDIT_ARCH_X86_64;
    clock_call.args[0] = CLOCK_MONOTONIC;
    impl->filter_allows_clock =
        (EvaluateSeccomp(impl->seccomp.instructions, clock_call) &
         SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ALLOW;
  }
  if (!status.ok()) {
    if (text_source_ == nullptr ||
        status.code() != absl::StatusCode::kInvalidArgument) {
      return status;
    }
    // Prefix "<file>:<line>:<column>: " of the deepest field of the path
    // that the file spells out.
    absl::string_view message = status.message();
    const size_t colon = message.find(": ");
    std::string location;
    if (colon != absl::string_view::npos) {
      const Descriptor* descriptor = proto::Policy::descriptor();
      const TextFormat::ParseInfoTree* tree = &text_source_->tree;
      for (const auto& [name, index] :
           ParseFieldPath(message.substr(0, colon))) {
        if (descriptor == nullptr || tree == nullptr) break;
        const FieldDescriptor* field = descriptor->FindFieldByName(name);
        if (field == nullptr) break;
        const int tree_index = field->is_repeated() ? std::max(index, 0) : -1;
        TextFormat::ParseLocation where = tree->GetLocation(field, tree_index);
        if (where.line < 0) break;
        location = absl::StrCat(where.line + 1, ":", where.column + 1);
        if (field->message_type() == nullptr) break;
        tree = tree->GetTreeForNested(field, tree_index);
        descriptor = field->message_type();
      }
    }
    if (location.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(text_source_->name, ": ", message));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(text_source_->name, ":", location, ": ", message));
  }
  return Policy(std::move(impl));
}

}  // namespace sandbox
