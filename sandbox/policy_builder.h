// PolicyBuilder: the one way to make a Policy, from code or from a text file
// (policies/*.textproto, protobuf text format of sandbox.proto.Policy). Both
// go through Build(), so a file and code share one validation path.
//
// A new builder starts fully isolated and allows nothing: every namespace,
// an empty read-only root with /proc and /dev, no system call allowed.
//
//   absl::StatusOr<Policy> policy =
//       PolicyBuilder()
//           .AddBind("/usr")                                // read-only
//           .AddTmpfs("/tmp", 64 << 20)
//           .AllowSyscalls({"read", "write", "exit_group"})
//           .AllowSyscall("socket", {Arg(0) == AF_UNIX})
//           .BlockSyscallWithErrno("openat", EACCES)
//           .SetWallTime(absl::Seconds(10))
//           .Build();
//
//   absl::StatusOr<PolicyBuilder> from_file =
//       PolicyBuilder::FromTextFile("policies/default.textproto");
//
// Errors: Build() returns InvalidArgument naming the field
// ("filesystem.mounts[2].bind.source: must be an absolute path"), prefixed
// with file:line:column when the field came from a text file.

#ifndef SANDBOX_POLICY_BUILDER_H_
#define SANDBOX_POLICY_BUILDER_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sandbox/policy.h"
#include "sandbox/policy.pb.h"

namespace google::protobuf {
class TextFormat;
}  // namespace google::protobuf

namespace sandbox {

class PolicyBuilder;
struct SeccompProgram;
namespace internal {
// The fork server's way in: sandbox/internal/policy_internal.h.
absl::StatusOr<Policy> BuildWithProgram(const PolicyBuilder& builder,
                                        SeccompProgram program);
}  // namespace internal

enum class MountMode { kReadOnly, kReadWrite };
// Whether symlinks in a bind's host path are followed
// (BindMount.follow_symlinks); magic links (/proc/<pid>/root, ...) never are.
enum class SymlinkMode { kRefuse, kFollow };

// Argument conditions for syscall rules: Arg(0) == AF_UNIX,
// Arg(2).MaskedEq(PROT_EXEC, 0), Arg(1) < 4096.
class Arg {
 public:
  explicit Arg(uint32_t index) : index_(index) {}
  proto::ArgCondition operator==(uint64_t value) const;
  proto::ArgCondition operator!=(uint64_t value) const;
  proto::ArgCondition operator<(uint64_t value) const;
  proto::ArgCondition operator<=(uint64_t value) const;
  proto::ArgCondition operator>(uint64_t value) const;
  proto::ArgCondition operator>=(uint64_t value) const;
  // (arg & mask) == value.
  proto::ArgCondition MaskedEq(uint64_t mask, uint64_t value) const;

 private:
  proto::ArgCondition Make(proto::ArgCondition::Op op, uint64_t value) const;
  uint32_t index_;
};

class PolicyBuilder {
 public:
  PolicyBuilder();
  ~PolicyBuilder();
  PolicyBuilder(PolicyBuilder&&) noexcept;
  PolicyBuilder& operator=(PolicyBuilder&&) noexcept;

  // Parses a text policy. A syntax error or unknown field is InvalidArgument
  // "<path>:<line>:<column>: <what>"; NotFound if the file does not exist.
  [[nodiscard]] static absl::StatusOr<PolicyBuilder> FromTextFile(
      const std::string& path);
  // As FromTextFile; `source_name` stands for the path in messages.
  [[nodiscard]] static absl::StatusOr<PolicyBuilder> FromText(
      absl::string_view text, absl::string_view source_name = "<policy>");
  static PolicyBuilder FromProto(proto::Policy policy);
  // The policy sandbox-run uses without --policy (policies/default.textproto,
  // compiled into the library): every namespace, a read-only system, a 64M
  // /tmp, 1G of memory and 512 processes, a Docker-like allow-list. Extend
  // it (AddBind, AllowSyscall, ...) and Build().
  [[nodiscard]] static absl::StatusOr<PolicyBuilder> Default();

  PolicyBuilder& SetName(std::string name);

  // --- Namespaces (all created unless turned off) ---
  // Shares the host's network instead of an empty network namespace.
  PolicyBuilder& UseHostNetwork();
  // Needs the UTS namespace.
  PolicyBuilder& SetHostname(std::string hostname);
  // Ids inside the sandbox (default 1000:1000).
  PolicyBuilder& SetUser(uint32_t uid, uint32_t gid);
  // Host ids the sandbox user maps to when the host is root (default
  // 65534:65534).
  PolicyBuilder& SetOutsideUser(uint32_t uid, uint32_t gid);

  // --- Filesystem ---
  // Binds host `source` at `target` (default: the same path). A symlink
  // anywhere in `source` fails the spawn (SETUP_ERROR, ELOOP) unless
  // `symlinks` is kFollow; follow only paths whose links nothing untrusted
  // can change (see BindMount.follow_symlinks in policy.proto).
  PolicyBuilder& AddBind(std::string source,
                         MountMode mode = MountMode::kReadOnly);
  PolicyBuilder& AddBind(std::string source, std::string target, MountMode mode,
                         SymlinkMode symlinks = SymlinkMode::kRefuse);
  // As AddBind, but a missing source is skipped.
  PolicyBuilder& AddBindIfExists(std::string source,
                                 MountMode mode = MountMode::kReadOnly,
                                 SymlinkMode symlinks = SymlinkMode::kRefuse);
  PolicyBuilder& AddTmpfs(std::string target, uint64_t size_bytes);
  PolicyBuilder& SetRootMode(MountMode mode);
  PolicyBuilder& SetCwd(std::string cwd);

  // --- System calls ---
  // Allows a named group of system calls with its argument conditions
  // (seccomp.allow_groups). policies/GROUPS.md lists every group's calls and
  // conditions, e.g. STDIO, DYNAMIC_STARTUP, FILES_READ, THREADS.
  PolicyBuilder& AllowGroup(proto::SyscallGroup group);
  PolicyBuilder& AllowGroups(std::initializer_list<proto::SyscallGroup> groups);
  // AllowGroup(proto::STDIO): read/write, poll, pipes and sends on
  // descriptors it holds, and what a process asks about itself (getpid,
  // uname, getrlimit, ...). ioctl only FIONREAD, FIONBIO, FIOCLEX, FIONCLEX.
  PolicyBuilder& AllowStdio();
  // AllowGroups({DYNAMIC_STARTUP, EXIT_AND_SIGNALS}): what a dynamically
  // linked program needs to start and end (ld.so opening its libraries
  // read-only, mmap without W+X, thread-local storage, exit_group), and
  // its signal handlers.
  PolicyBuilder& AllowDynamicStartup();
  // Allows `name`, with all `conditions` holding when given.
  PolicyBuilder& AllowSyscall(std::string name,
                              std::vector<proto::ArgCondition> conditions = {});
  PolicyBuilder& AllowSyscalls(std::initializer_list<absl::string_view> names);
  // Fails `name` with `errno_value` instead of killing.
  PolicyBuilder& BlockSyscallWithErrno(std::string name, int errno_value);
  // Allows `name` and logs it to the audit log.
  PolicyBuilder& LogSyscall(std::string name);
  // Allows a system call of the fixed deny list (ptrace, bpf, mount, ...).
  // Only for sandboxes that knowingly give up that protection.
  PolicyBuilder& AllowDangerousSyscall(std::string name);
  // Calls no rule matches fail with `errno_value` instead of being reported
  // and killed.
  PolicyBuilder& SetDefaultErrno(int errno_value);
  PolicyBuilder& AddSyscallRule(proto::SyscallRule rule);
  // Replaces the whole seccomp section (default action, rules,
  // dangerous_allow) with `seccomp`, e.g. a Docker or OCI profile imported
  // with ImportOciSeccomp() (sandbox/oci_seccomp.h). defer_until_lockdown
  // stays set if it was.
  PolicyBuilder& SetSeccomp(proto::Seccomp seccomp);

  // --- Limits ---
  PolicyBuilder& SetWallTime(absl::Duration limit);
  PolicyBuilder& SetCpuTime(absl::Duration limit);
  PolicyBuilder& SetMaxOpenFiles(uint64_t count);
  PolicyBuilder& SetMaxProcesses(uint64_t count);  // RLIMIT_NPROC
  PolicyBuilder& SetMaxFileSize(uint64_t bytes);
  PolicyBuilder& SetAddressSpace(uint64_t bytes);
  PolicyBuilder& SetMemory(uint64_t bytes);  // cgroup
  PolicyBuilder& SetPids(uint32_t count);    // cgroup
  PolicyBuilder& SetCpus(double cpus);       // cgroup
  // Ends the whole sandbox at the first fork refused at its pids cap or
  // OOM kill at its memory cap (limits.end_on_limit).
  PolicyBuilder& SetEndOnLimit(bool end = true);

  // "KEY=VALUE", passed to the sandboxee.
  PolicyBuilder& AddEnv(std::string key_value);

  // Direct access to the message, for callers that map their own options
  // (e.g. command-line flags) onto fields. Build() validates it like the rest.
  proto::Policy& mutable_proto() { return proto_; }
  const proto::Policy& proto() const { return proto_; }

  // Validates everything, fills in defaults and compiles the seccomp filter.
  [[nodiscard]] absl::StatusOr<Policy> Build() const;

 private:
  friend absl::StatusOr<Policy> internal::BuildWithProgram(
      const PolicyBuilder& builder, SeccompProgram program);
  struct TextSource;
  absl::StatusOr<Policy> BuildImpl(const SeccompProgram* precompiled) const;

  proto::Policy proto_;
  // Where each field came from, when loaded from text.
  std::shared_ptr<TextSource> text_source_;
};

}  // namespace sandbox

#endif  // SANDBOX_POLICY_BUILDER_H_
