#include "sandbox/internal/learn_recorder.h"

#include <linux/audit.h>
#include <linux/prctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>

#include "absl/algorithm/container.h"
#include "absl/strings/str_join.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/exec_diagnosis.h"
#include "sandbox/internal/notification_decoder.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/internal/syscall_decoder.h"
#include "sandbox/internal/syscall_groups.h"

namespace sandbox::internal {
namespace {

// Bounds on what a run keeps: a program that makes every call with every
// value cannot grow the host without end.
constexpr size_t kMaxDistinctCalls = 4096;
constexpr size_t kMaxMissingPaths = 256;
constexpr size_t kMaxPathBytes = 4096;
constexpr uint32_t kX32Bit = 0x40000000;

// Arguments whose few values make a rule: socket's domain, ioctl's request,
// clone's flags, prctl's option, open's flags, ...
bool IsKeyKind(ArgKind kind) {
  switch (kind) {
    case ArgKind::kSocketDomain:
    case ArgKind::kIoctlRequest:
    case ArgKind::kCloneFlags:
    case ArgKind::kPrctlOption:
    case ArgKind::kOpenFlags:
    case ArgKind::kArchPrctlCode:
    case ArgKind::kFcntlCmd:
      return true;
    default:
      return false;
  }
}

}  // namespace

int LearnedKeyArgument(int nr) {
  const SyscallSignature* signature = FindSignature(nr);
  if (signature == nullptr) return -1;
  const int index = KeyArgument(*signature);
  return index >= 0 && IsKeyKind(signature->args[index].kind) ? index : -1;
}

LearnRecorder::LearnRecorder(
    std::shared_ptr<const std::vector<sock_filter>> base,
    proto::Filesystem filesystem)
    : base_(std::move(base)), filesystem_(std::move(filesystem)) {}

LearnRecorder::Answer LearnRecorder::Judge(
    int listener, const struct seccomp_notif& notification) {
  const struct seccomp_data& data = notification.data;
  // Foreign ABIs never run, whatever any policy says.
  if (data.arch != AUDIT_ARCH_X86_64 || (data.nr & kX32Bit) != 0) {
    return {.violation = true};
  }
  const uint32_t verdict = EvaluateSeccomp(*base_, data);
  switch (verdict & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW:
    case SECCOMP_RET_LOG:
      CheckPath(listener, notification);
      return {.allow = true};
    case SECCOMP_RET_ERRNO:
      return {.allow = false,
              .error = static_cast<int>(verdict & SECCOMP_RET_DATA)};
    default:
      break;
  }
  // The base forbids it.
  const std::string name = SyscallName(data.arch, data.nr);
  // Its flags sit behind a pointer: as in every sandbox, ENOSYS, and libc
  // falls back to clone, which is judged by its flags.
  if (name == "clone3") return {.allow = false, .error = ENOSYS};
  if (absl::c_linear_search(FixedDenyList(), name) ||
      (name == "clone" && (data.args[0] & kNamespaceCloneFlags) != 0) ||
      (name == "prctl" &&
       static_cast<uint32_t>(data.args[0]) == PR_SET_SECCOMP)) {
    Record(denied_, listener, notification, 0);
    return {.allow = false, .error = EPERM};
  }
  const int index = LearnedKeyArgument(static_cast<int>(data.nr));
  const uint64_t key = index >= 0 ? data.args[index] : 0;
  Record(learned_, listener, notification, key);
  CheckPath(listener, notification);
  return {.allow = true};
}

void LearnRecorder::Record(CallTable& table, int listener,
                           const struct seccomp_notif& notification,
                           uint64_t key) {
  const int nr = static_cast<int>(notification.data.nr);
  std::array<uint64_t, 6> args;
  absl::c_copy(notification.data.args, args.begin());
  const CallKey id(nr, key,
                   &table == &learned_
                       ? absl::StrJoin(GroupsAllowing(nr, args), ",")
                       : std::string());
  auto it = table.find(id);
  if (it == table.end()) {
    if (table.size() >= kMaxDistinctCalls) {
      truncated_ = true;
      return;
    }
    proto::ObservedCall& call = table[id].call;
    call.set_syscall(SyscallName(notification.data.arch, notification.data.nr));
    call.set_nr(static_cast<int32_t>(notification.data.nr));
    for (uint64_t arg : notification.data.args) call.add_args(arg);
    call.set_decoded(DecodeNotification(listener, notification));
    call.set_count(1);
    return;
  }
  it->second.call.set_count(it->second.call.count() + 1);
}

void LearnRecorder::CheckPath(int listener,
                              const struct seccomp_notif& notification) {
  const SyscallSignature* signature = FindSignature(notification.data.nr);
  if (signature == nullptr) return;
  for (int i = 0; i < signature->arg_count(); ++i) {
    if (signature->args[i].kind != ArgKind::kPath) continue;
    NotifierMemory memory(listener, notification.id,
                          static_cast<pid_t>(notification.pid));
    std::string path(kMaxPathBytes, '\0');
    const size_t got =
        memory.Read(notification.data.args[i], path.data(), path.size());
    path.resize(got);
    const size_t nul = path.find('\0');
    // Unreadable, unterminated within the bound, or relative: nothing to
    // suggest.
    if (nul == std::string::npos || nul == 0 || path[0] != '/') continue;
    path.resize(nul);
    if (missing_paths_.count(path) != 0) continue;
    const SandboxPath resolved = ResolveSandboxPath(filesystem_, path);
    if (resolved.kind != SandboxPath::Kind::kMissing) continue;
    struct stat host;
    if (lstat(resolved.missing.c_str(), &host) != 0) continue;
    if (missing_paths_.size() >= kMaxMissingPaths) {
      truncated_ = true;
      continue;
    }
    missing_paths_.insert(resolved.missing);
  }
}

proto::LearnReport LearnRecorder::Report() const {
  proto::LearnReport report;
  auto add_sorted = [](const auto& table, auto* out) {
    std::vector<const proto::ObservedCall*> calls;
    for (const auto& [id, seen] : table) calls.push_back(&seen.call);
    std::sort(calls.begin(), calls.end(),
              [](const proto::ObservedCall* a, const proto::ObservedCall* b) {
                if (a->syscall() != b->syscall()) {
                  return a->syscall() < b->syscall();
                }
                return std::lexicographical_compare(
                    a->args().begin(), a->args().end(), b->args().begin(),
                    b->args().end());
              });
    for (const proto::ObservedCall* call : calls) *out->Add() = *call;
  };
  add_sorted(learned_, report.mutable_calls());
  add_sorted(denied_, report.mutable_denied());
  for (const std::string& path : missing_paths_) {
    report.add_missing_paths(path);
  }
  report.set_truncated(truncated_);
  return report;
}

}  // namespace sandbox::internal
