#include "bench/bench_util.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "sandbox/status_macros.h"
#include "sandbox/worker.h"

namespace sandbox::bench {

std::string DefaultPolicyPath() {
  return SANDBOX_SOURCE_DIR "/policies/default.textproto";
}

absl::StatusOr<PolicyBuilder> LoadPolicyBuilder(Variant variant) {
  SBX_ASSIGN_OR_RETURN(PolicyBuilder builder,
                       PolicyBuilder::FromTextFile(DefaultPolicyPath()));
  proto::Policy& p = builder.mutable_proto();
  auto small_seccomp = [&p] {
    // What /bin/true (dynamically linked, glibc 2.36) calls, by strace,
    // and getsockopt for a zygote worker's Comms.
    proto::Seccomp& seccomp = *p.mutable_seccomp();
    seccomp.clear_rules();
    proto::SyscallRule& rule = *seccomp.add_rules();
    rule.set_action(proto::SyscallRule::ALLOW);
    for (const char* name :
         {"access",          "arch_prctl", "brk",    "close",
          "execve",          "exit_group", "mmap",   "mprotect",
          "munmap",          "newfstatat", "openat", "pread64",
          "prlimit64",       "read",       "rseq",   "set_robust_list",
          "set_tid_address", "getrandom",  "fstat",  "write",
          "getsockopt"}) {
      rule.add_syscalls(name);
    }
  };
  if (variant != Variant::kDefaultPolicy) {
    proto::Limits& limits = *p.mutable_limits();
    limits.clear_memory();
    limits.clear_pids();
    limits.clear_cpus();
    limits.clear_allow_swap();
    limits.clear_cgroup_best_effort();
  }
  switch (variant) {
    case Variant::kFull:
    case Variant::kDefaultPolicy:
      break;
    case Variant::kFullCgroup:
      builder.SetMemory(uint64_t{256} << 20).SetPids(64);
      break;
    case Variant::kNoNet:
      builder.UseHostNetwork();
      break;
    case Variant::kProgramIsInit:
      p.mutable_namespaces()->set_program_is_init(true);
      break;
    case Variant::kSharedNet:
      p.mutable_namespaces()->set_shared_net(true);
      break;
    case Variant::kNoMount:
      p.mutable_namespaces()->set_mount(false);
      p.mutable_filesystem()->clear_mounts();
      p.mutable_filesystem()->set_cwd("/");
      break;
    case Variant::kNoProcDev:
      p.mutable_filesystem()->set_proc(false);
      p.mutable_filesystem()->set_dev(false);
      break;
    case Variant::kNoPid:
      p.mutable_namespaces()->set_pid(false);
      p.mutable_filesystem()->set_proc(false);
      break;
    case Variant::kNoUser:
      p.mutable_namespaces()->set_user(false);
      break;
    case Variant::kNoIpcUtsCgroup:
      p.mutable_namespaces()->set_ipc(false);
      p.mutable_namespaces()->set_uts(false);
      p.mutable_namespaces()->set_cgroup(false);
      p.clear_hostname();
      break;
    case Variant::kSmallSeccomp:
      small_seccomp();
      break;
    case Variant::kNoIsolation: {
      proto::Namespaces& ns = *p.mutable_namespaces();
      ns.set_user(false);
      ns.set_pid(false);
      ns.set_net(false);
      ns.set_ipc(false);
      ns.set_uts(false);
      ns.set_mount(false);
      ns.set_cgroup(false);
      p.clear_hostname();
      p.mutable_filesystem()->clear_mounts();
      p.mutable_filesystem()->set_cwd("/");
      small_seccomp();
      break;
    }
  }
  return builder;
}

absl::StatusOr<Policy> LoadPolicy(Variant variant) {
  SBX_ASSIGN_OR_RETURN(PolicyBuilder builder, LoadPolicyBuilder(variant));
  return builder.Build();
}

Command TrueCommand() {
  Command command;
  command.argv = {"/bin/true"};
  command.inherit_stdio = false;
  return command;
}

void RegisterNoopWorker() {
  // Only a second registration can fail here, which changes nothing.
  RegisterWorker(kNoopWorker, [](Comms&) { return 0; }).IgnoreError();
}

Command NoopWorkerCommand() {
  Command command;
  command.worker = kNoopWorker;
  command.inherit_stdio = false;
  return command;
}

absl::StatusOr<int64_t> TimeSpawn(const Policy& policy, const Command& command,
                                  SpawnMode mode, proto::Result* out) {
  const int64_t start = NowNs();
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                       Sandbox::Spawn(policy, command, mode));
  SBX_ASSIGN_OR_RETURN(proto::Result result, sandbox->Wait());
  const int64_t elapsed = NowNs() - start;
  if (out != nullptr) *out = result;
  if (result.status() != proto::Result::OK || result.exit_code() != 0) {
    return absl::InternalError(absl::StrCat("the sandbox did not exit 0: ",
                                            result.ShortDebugString()));
  }
  return elapsed;
}

ProcMemory ReadProcMemory(pid_t pid) {
  ProcMemory memory;
  auto read_kib = [](const std::string& path, const char* key) -> uint64_t {
    std::ifstream in(path);
    std::string line;
    const size_t key_length = strlen(key);
    while (std::getline(in, line)) {
      if (line.compare(0, key_length, key) == 0) {
        return std::strtoull(line.c_str() + key_length, nullptr, 10) * 1024;
      }
    }
    return 0;
  };
  const std::string status = absl::StrCat("/proc/", pid, "/status");
  memory.vm_hwm = read_kib(status, "VmHWM:");
  memory.vm_rss = read_kib(status, "VmRSS:");
  memory.rss_anon = read_kib(status, "RssAnon:");
  memory.rss_file = read_kib(status, "RssFile:");
  memory.rss_shmem = read_kib(status, "RssShmem:");
  memory.pss = read_kib(absl::StrCat("/proc/", pid, "/smaps_rollup"), "Pss:");
  return memory;
}

int64_t NowNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double position = q * (values.size() - 1);
  const size_t lower = static_cast<size_t>(position);
  const size_t upper = std::min(lower + 1, values.size() - 1);
  const double fraction = position - lower;
  return values[lower] * (1 - fraction) + values[upper] * fraction;
}

}  // namespace sandbox::bench
