// sandbox_bench: what a sandbox costs, next to what a bare process costs.
//
//   build/bin/sandbox_bench --benchmark_repetitions=3
//                           --benchmark_report_aggregates_only=true
//
// Spawns (real time per spawn and wait):
//   BM_ForkWaitBaseline           fork + _exit + wait, no isolation
//   BM_ForkExecBaseline           fork + execve(/bin/true) + wait
//   BM_SpawnExec/full             /bin/true through the fork server under
//                                 policies/default.textproto without its
//                                 cgroup caps: every namespace, tmpfs root,
//                                 binds, no caps, no_new_privs, seccomp
//   BM_SpawnExec/full_cgroup      the same plus limits.memory 256M and
//                                 limits.pids 64: a cgroup per sandbox
//   BM_SpawnExec/default_policy   policies/default.textproto as shipped (its
//                                 1G / 512 caps: a cgroup per sandbox)
//   BM_SpawnExec/<variant>        one isolation step taken away (no_net,
//                                 no_mount, ...): the setup breakdown
//   BM_SpawnExec/full_direct      SpawnMode::kDirect instead of the server
//   BM_SpawnZygote/full           a registered no-op worker, default policy
//   BM_SpawnZygote/<variant>      no_net, no_mount, no_pid, no_isolation
//   BM_SpawnThroughput/threads:2  spawns per second from two host threads
//   BM_SpawnPrewarmed/<variant>   a PrewarmPool of 1 (sandbox/prewarm.h),
//                                 refilled before each timed spawn: the
//                                 latency of a spawn that finds one ready
//                                 (spawn_us: until Spawn returned); its
//                                 machine_cpu_us includes the refill
//   BM_SpawnPrewarmed/zygote/full the same for a no-op zygote worker
//                                 (PrewarmFor::kWorkers)
//   BM_SpawnPrewarmed/full/back_to_back  a pool of 2, spawns one after the
//                                 other without waiting for refills
//                                 (prewarmed: the share that found one)
//   (counters: server_cpu_us, sandbox_cpu_us and machine_cpu_us, the last
//   every CPU's busy time per spawn, kernel workers included: the cost
//   that latency hides; read it on an idle machine)
// System calls (ns per call, measured in a forked child that installs the
// filter; a batch per iteration):
//   BM_SyscallNoFilter            getppid(), no filter
//   BM_SyscallAllowAllFilter      getppid() under a 1-instruction allow-all
//   BM_SyscallFilteredNoArgs      getppid() under the default policy
//   BM_SyscallFilteredArgs        personality(0xffffffff) under the default
//                                 policy (a rule with argument checks)
//   BM_SyscallNoFilterPersonality personality(0xffffffff), no filter
// Comms, policy, memory:
//   BM_CommsRoundTrip/64, /65536  ping-pong with a forked echo process
//   BM_SocketpairRoundTrip/64, /65536  the same bytes with plain write/read:
//                                 the floor under the Comms numbers
//   BM_CommsBulk/1GiB/memfd, /socket
//   BM_PolicyCompile/default      CompileSeccomp of the default policy
//   BM_PolicyLoad/default         parse the text file, Build() (compiles)
//   BM_ForkServerMemory           VmHWM of the exec fork server and zygote
//   BM_HostMemoryPerSandbox/200   host RSS, heap and fds per live sandbox
//                                 (and, for context, the machine's kernel
//                                 memory per sandbox)
// Cgroups (us per cgroup, step by step in counters):
//   BM_CgroupSteps/default_policy_caps  create (a spare taken), migrate a
//                                 process (cgroup.procs), Release (cleaned
//                                 into a spare)
//   BM_CgroupSteps/default_policy_caps_no_spares  the same with spares off:
//                                 mkdirs + limit writes, migrate, rmdir
// SANDBOX_BENCH_CGROUP_SPARES=0 in the environment turns spares off for the
// spawn benchmarks (the cgroup_spare_taken counter says how many spawns got
// one).
//
// Google Benchmark appends /real_time, /manual_time, /iterations:N and
// /repeats:N to names; the reporters here leave them out, so that the names
// are the ones above.

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "benchmark/benchmark.h"
#include "sandbox/comms.h"
#include "sandbox/input_worker.h"
#include "sandbox/internal/cgroup.h"
#include "sandbox/internal/fork_server.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/policy_builder.h"
#include "sandbox/prewarm.h"
#include "sandbox/sandbox.h"
#include "sandbox/status_macros.h"
#include "sandbox/worker.h"

namespace sandbox::bench {
namespace {

// --- Policies, loaded once ---

struct VariantName {
  Variant variant;
  const char* name;
};
constexpr VariantName kVariants[] = {
    {Variant::kFull, "full"},
    {Variant::kFullCgroup, "full_cgroup"},
    {Variant::kDefaultPolicy, "default_policy"},
    {Variant::kNoNet, "no_net"},
    {Variant::kSharedNet, "shared_net"},
    {Variant::kNoMount, "no_mount"},
    {Variant::kNoProcDev, "no_proc_dev"},
    {Variant::kNoPid, "no_pid"},
    {Variant::kProgramIsInit, "program_is_init"},
    {Variant::kNoUser, "no_user"},
    {Variant::kNoIpcUtsCgroup, "no_ipc_uts_cgroup"},
    {Variant::kSmallSeccomp, "small_seccomp"},
    {Variant::kNoIsolation, "no_isolation"},
};

const absl::StatusOr<Policy>& CachedPolicy(Variant variant) {
  static absl::Mutex mu(absl::kConstInit);
  // A map: references to its values stay valid as it grows.
  static auto* policies = new std::map<Variant, absl::StatusOr<Policy>>();
  absl::MutexLock lock(&mu);
  auto it = policies->find(variant);
  if (it == policies->end()) {
    it = policies->emplace(variant, LoadPolicy(variant)).first;
  }
  return it->second;
}

// --- Accounting ---

// CPU time and page faults of a process (the fork server), and of the
// host's reaped children (the sandboxes: with CLONE_PARENT the host reaps
// each sandbox's first process, whose own reaped children are included).
struct CpuAndFaults {
  double cpu_ns = 0;
  double faults = 0;
};

CpuAndFaults ReadProcess(pid_t pid) {
  CpuAndFaults out;
  if (pid <= 0) return out;
  std::ifstream schedstat(absl::StrCat("/proc/", pid, "/schedstat"));
  schedstat >> out.cpu_ns;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // Fields after "(comm) ": state ppid pgrp session tty tpgid flags minflt.
  const size_t paren = text.rfind(')');
  if (paren != std::string::npos) {
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    for (int i = 0; i < 8 && (fields >> field); ++i) {
    }
    out.faults = std::strtod(field.c_str(), nullptr);
  }
  return out;
}

CpuAndFaults ReadChildren() {
  struct rusage usage;
  getrusage(RUSAGE_CHILDREN, &usage);
  CpuAndFaults out;
  out.cpu_ns = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1e9 +
               (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e3;
  out.faults = static_cast<double>(usage.ru_minflt);
  return out;
}

// The busy time of every CPU of the machine so far, from /proc/stat's
// first line (user nice system idle iowait irq softirq steal, in clock
// ticks): every process and kernel worker, and anything else that runs.
double MachineBusyNs() {
  std::ifstream stat("/proc/stat");
  std::string cpu;
  double ticks[8] = {};
  stat >> cpu;
  for (double& t : ticks) stat >> t;
  const double busy =
      ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7];
  return busy * 1e9 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Per-spawn counters: where the CPU goes besides the host thread (the
// benchmark's own CPU column) and how many page faults each side takes;
// machine_cpu_us is all of it, kernel workers included (the network
// namespace teardown runs in one), on an otherwise idle machine, in
// 1/CLK_TCK steps summed over the run.
class SpawnAccounting {
 public:
  explicit SpawnAccounting(pid_t server)
      : server_(server),
        server_start_(ReadProcess(server)),
        children_start_(ReadChildren()),
        machine_start_ns_(MachineBusyNs()) {}
  void Report(benchmark::State& state) const {
    const CpuAndFaults server = ReadProcess(server_);
    const CpuAndFaults children = ReadChildren();
    const auto per = benchmark::Counter::kAvgIterations;
    state.counters["machine_cpu_us"] =
        benchmark::Counter((MachineBusyNs() - machine_start_ns_) / 1e3, per);
    if (server_ > 0) {
      state.counters["server_cpu_us"] =
          benchmark::Counter((server.cpu_ns - server_start_.cpu_ns) / 1e3, per);
      state.counters["server_faults"] =
          benchmark::Counter(server.faults - server_start_.faults, per);
    }
    state.counters["sandbox_cpu_us"] = benchmark::Counter(
        (children.cpu_ns - children_start_.cpu_ns) / 1e3, per);
    state.counters["sandbox_faults"] =
        benchmark::Counter(children.faults - children_start_.faults, per);
  }

 private:
  pid_t server_;
  CpuAndFaults server_start_;
  CpuAndFaults children_start_;
  double machine_start_ns_;
};

pid_t ExecServerPid() {
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
      internal::DefaultForkServer();
  return server.ok() ? (*server)->pid() : -1;
}

pid_t ZygotePid() {
  internal::ForkServerClient* zygote = internal::ZygoteForkServer();
  return zygote != nullptr ? zygote->pid() : -1;
}

// --- Baselines ---

void BM_ForkWaitBaseline(benchmark::State& state) {
  const SpawnAccounting accounting(-1);
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) _exit(0);
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) {
      state.SkipWithError("fork/waitpid failed");
      return;
    }
  }
  accounting.Report(state);
}

// --- Many inputs, each in a fork of a template (sandbox/input_worker.h) ---

constexpr char kNoopInputWorker[] = "noop_input";

// An empty input function in a pristine child of a template in a sandbox of
// `variant`, timed from the host: copy the input to the region, request,
// fork, run, reap, sweep, report. Against BM_ForkWaitBaseline, a bare
// fork + _exit + waitpid of this (larger) process.
void BM_ForkPerInput(benchmark::State& state, Variant variant, bool clean_tmp) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(variant);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  InputOptions options;
  options.clean_tmp = clean_tmp;
  absl::StatusOr<std::unique_ptr<InputSandbox>> inputs =
      InputSandbox::Create(*policy, {.worker = kNoopInputWorker}, options);
  if (!inputs.ok()) {
    state.SkipWithError(inputs.status().ToString().c_str());
    return;
  }
  const std::string input(64, 'a');
  for (auto _ : state) {
    absl::StatusOr<InputResult> result = (*inputs)->Run(input);
    if (!result.ok() || result->outcome != InputOutcome::kOk) {
      state.SkipWithError(result.ok() ? InputOutcomeName(result->outcome)
                                      : result.status().ToString().c_str());
      return;
    }
  }
}

void BM_ForkExecBaseline(benchmark::State& state) {
  char program[] = "/bin/true";
  char* argv[] = {program, nullptr};
  char* envp[] = {nullptr};
  const SpawnAccounting accounting(-1);
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) {
      execve(program, argv, envp);
      _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0) {
      state.SkipWithError("fork/execve(/bin/true)/waitpid failed");
      return;
    }
  }
  accounting.Report(state);
}

// --- Spawns ---

// The sandbox's init, when it has one, is the process whose cgroups the
// host sees; a sandbox cgroup shows as a path different from ours.
std::string ReadCgroups(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cgroup"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// For full_cgroup: is a cgroup really made per sandbox? A limit that is
// silently dropped would make this benchmark measure `full` again.
absl::Status CheckCgroupApplied(const Policy& policy) {
  Command sleeper;
  sleeper.argv = {"/bin/sleep", "30"};
  sleeper.inherit_stdio = false;
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(policy, sleeper);
  if (!sandbox.ok()) return sandbox.status();
  // On v2 the child starts in its cgroup (CLONE_INTO_CGROUP); on v1 it
  // moves itself as the first step after Spawn releases it.
  const std::string ours = ReadCgroups(getpid());
  std::string theirs = ReadCgroups((*sandbox)->pid());
  for (int i = 0; i < 200 && theirs == ours; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
    theirs = ReadCgroups((*sandbox)->pid());
  }
  (void)(*sandbox)->Kill();
  (void)(*sandbox)->Wait();
  if (theirs.empty()) {
    return absl::InternalError("cannot read the sandbox's /proc/<pid>/cgroup");
  }
  if (theirs == ours) {
    return absl::UnimplementedError(
        "limits.memory/limits.pids accepted but the sandbox runs in the "
        "host's own cgroups (no cgroup per sandbox yet)");
  }
  return absl::OkStatus();
}

// Sums the child's own phase times (Result.usage.setup_us) over the spawns
// of a benchmark and reports their means as setup_<phase>_us counters: the
// per-step breakdown of where a spawn's setup time goes.
class SetupPhases {
 public:
  void Add(const proto::Result& result) {
    for (const auto& [phase, us] : result.usage().setup_us()) {
      sums_[phase] += us;
    }
    ++count_;
  }
  void Report(benchmark::State& state) const {
    if (count_ == 0) return;
    for (const auto& [phase, sum] : sums_) {
      state.counters[absl::StrCat("setup_", phase, "_us")] = sum / count_;
    }
  }

 private:
  std::map<std::string, double> sums_;
  int64_t count_ = 0;
};

// The timed loop of the spawn benchmarks: one spawn and wait per
// iteration, then the CPU counters of `server_pid` and the sandboxes, and
// the child's setup phases.
void TimedSpawns(benchmark::State& state, const Policy& policy,
                 const Command& command, SpawnMode mode, pid_t server_pid) {
  const SpawnAccounting accounting(server_pid);
  SetupPhases phases;
  proto::Result result;
  for (auto _ : state) {
    absl::StatusOr<int64_t> ns = TimeSpawn(policy, command, mode, &result);
    if (!ns.ok()) {
      state.SkipWithError(ns.status().ToString().c_str());
      return;
    }
    phases.Add(result);
  }
  accounting.Report(state);
  phases.Report(state);
}

void BM_SpawnExec(benchmark::State& state, Variant variant, SpawnMode mode) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(variant);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  if (variant == Variant::kFullCgroup || variant == Variant::kDefaultPolicy) {
    const absl::Status applied = CheckCgroupApplied(*policy);
    if (!applied.ok()) {
      state.SkipWithError(applied.ToString().c_str());
      return;
    }
  }
  const Command command = TrueCommand();
  // The first spawn starts the fork server and sends it the policy.
  if (absl::StatusOr<int64_t> warm = TimeSpawn(*policy, command, mode);
      !warm.ok()) {
    state.SkipWithError(warm.status().ToString().c_str());
    return;
  }
  const Cgroup::SpareCounts before = Cgroup::spare_counts();
  TimedSpawns(state, *policy, command, mode,
              mode == SpawnMode::kForkServer ? ExecServerPid() : -1);
  if (variant == Variant::kFullCgroup || variant == Variant::kDefaultPolicy) {
    // Of the spawns, how many got a spare cgroup (cgroup.h, "Spares").
    state.counters["cgroup_spare_taken"] =
        static_cast<double>(Cgroup::spare_counts().taken - before.taken) /
        static_cast<double>(state.iterations());
  }
}

void BM_SpawnZygote(benchmark::State& state, Variant variant) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(variant);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  const Command command = NoopWorkerCommand();
  if (absl::StatusOr<int64_t> warm = TimeSpawn(*policy, command); !warm.ok()) {
    state.SkipWithError(warm.status().ToString().c_str());
    return;
  }
  TimedSpawns(state, *policy, command, SpawnMode::kForkServer, ZygotePid());
}

void BM_SpawnThroughput(benchmark::State& state) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(Variant::kFull);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  const Command command = TrueCommand();
  // The machine's CPU, once (thread 0): counters are summed over the
  // threads, and divided by all their iterations.
  const double machine_start_ns =
      state.thread_index() == 0 ? MachineBusyNs() : 0;
  for (auto _ : state) {
    absl::StatusOr<int64_t> ns = TimeSpawn(*policy, command);
    if (!ns.ok()) {
      state.SkipWithError(ns.status().ToString().c_str());
      return;
    }
  }
  // Summed over the threads and divided by the (per-thread) real time: the
  // host's spawns per second.
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["machine_cpu_us"] =
        benchmark::Counter((MachineBusyNs() - machine_start_ns) / 1e3,
                           benchmark::Counter::kAvgIterations);
  }
}

// A pool of `pool_size`; with `refill_first`, each timed spawn waits
// (untimed) until the pool is full again.
void BM_SpawnPrewarmed(benchmark::State& state, Variant variant, int pool_size,
                       bool refill_first, PrewarmFor what) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(variant);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  // The fork server started and the policy sent, as in BM_SpawnExec.
  const Command command =
      what == PrewarmFor::kWorkers ? NoopWorkerCommand() : TrueCommand();
  if (absl::StatusOr<int64_t> warm = TimeSpawn(*policy, command); !warm.ok()) {
    state.SkipWithError(warm.status().ToString().c_str());
    return;
  }
  absl::StatusOr<std::unique_ptr<PrewarmPool>> pool =
      Prewarm(*policy, pool_size, what);
  if (!pool.ok()) {
    state.SkipWithError(pool.status().ToString().c_str());
    return;
  }
  const SpawnAccounting accounting(
      what == PrewarmFor::kWorkers ? ZygotePid() : ExecServerPid());
  SetupPhases phases;
  double spawn_ns = 0;
  for (auto _ : state) {
    if (refill_first) {
      state.PauseTiming();
      (*pool)->WaitUntilFull(absl::Seconds(10));
      state.ResumeTiming();
    }
    const int64_t start = NowNs();
    absl::StatusOr<std::unique_ptr<Sandbox>> sandbox = (*pool)->Spawn(command);
    if (!sandbox.ok()) {
      state.SkipWithError(sandbox.status().ToString().c_str());
      return;
    }
    spawn_ns += static_cast<double>(NowNs() - start);
    absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
    if (!result.ok() || result->status() != proto::Result::OK) {
      state.SkipWithError("the prewarmed sandbox did not exit 0");
      return;
    }
    phases.Add(*result);
  }
  accounting.Report(state);
  phases.Report(state);
  const auto per = benchmark::Counter::kAvgIterations;
  state.counters["spawn_us"] = benchmark::Counter(spawn_ns / 1e3, per);
  const PrewarmPool::Stats stats = (*pool)->stats();
  state.counters["prewarmed"] =
      benchmark::Counter(static_cast<double>(stats.prewarmed), per);
}

// --- System calls under seccomp ---

enum class Filter { kNone, kAllowAll, kDefaultPolicy };
enum class Call { kGetppid, kPersonalityQuery };

// A forked child that installs a filter and then runs batches of one system
// call on request: the parent writes a count to `request`, the child answers
// with the nanoseconds the batch took on `reply`. Timing in the child keeps
// pipe and scheduling costs out of the numbers.
class SyscallChild {
 public:
  static absl::StatusOr<std::unique_ptr<SyscallChild>> Start(Filter filter,
                                                             Call call) {
    struct sock_filter allow_all[] = {
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
    struct sock_fprog program = {};
    if (filter == Filter::kAllowAll) {
      program.len = 1;
      program.filter = allow_all;
    } else if (filter == Filter::kDefaultPolicy) {
      const absl::StatusOr<Policy>& policy = CachedPolicy(Variant::kFull);
      if (!policy.ok()) return policy.status();
      const std::vector<sock_filter>& instructions =
          internal::StateOf(*policy).seccomp.instructions;
      program.len = static_cast<unsigned short>(instructions.size());
      program.filter = const_cast<sock_filter*>(instructions.data());
    }
    int request[2];
    int reply[2];
    if (pipe2(request, O_CLOEXEC) != 0 || pipe2(reply, O_CLOEXEC) != 0) {
      return ErrnoStatus("pipe2");
    }
    const pid_t pid = fork();
    if (pid < 0) return ErrnoStatus("fork");
    if (pid == 0) {
      close(request[1]);
      close(reply[0]);
      RunChild(program, filter != Filter::kNone, call, request[0], reply[1]);
    }
    close(request[0]);
    close(reply[1]);
    auto child = std::unique_ptr<SyscallChild>(new SyscallChild());
    child->pid_ = pid;
    child->request_ = request[1];
    child->reply_ = reply[0];
    // The first answer says whether the filter went in.
    int64_t status = 0;
    if (read(child->reply_, &status, sizeof(status)) != sizeof(status)) {
      return absl::InternalError("syscall child died before reporting");
    }
    if (status != 0) {
      return ErrnoStatus("seccomp(SECCOMP_SET_MODE_FILTER) in the child",
                         static_cast<int>(status));
    }
    return child;
  }

  ~SyscallChild() {
    close(request_);
    close(reply_);
    int status;
    waitpid(pid_, &status, 0);
  }

  // Runs `count` calls in the child; returns their total nanoseconds.
  absl::StatusOr<int64_t> Run(uint64_t count) {
    if (write(request_, &count, sizeof(count)) != sizeof(count)) {
      return ErrnoStatus("write(request)");
    }
    int64_t ns = 0;
    if (read(reply_, &ns, sizeof(ns)) != sizeof(ns)) {
      return absl::InternalError("the syscall child died (killed by seccomp?)");
    }
    return ns;
  }

 private:
  SyscallChild() = default;

  [[noreturn]] static void RunChild(const struct sock_fprog& program,
                                    bool install, Call call, int request,
                                    int reply) {
    int64_t status = 0;
    if (install) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
        status = errno;
      }
    }
    if (write(reply, &status, sizeof(status)) != sizeof(status) ||
        status != 0) {
      _exit(1);
    }
    uint64_t count;
    while (read(request, &count, sizeof(count)) == sizeof(count)) {
      const int64_t start = NowNs();
      if (call == Call::kGetppid) {
        for (uint64_t i = 0; i < count; ++i) {
          benchmark::DoNotOptimize(syscall(SYS_getppid));
        }
      } else {
        for (uint64_t i = 0; i < count; ++i) {
          benchmark::DoNotOptimize(syscall(SYS_personality, 0xffffffffUL));
        }
      }
      const int64_t ns = NowNs() - start;
      if (write(reply, &ns, sizeof(ns)) != sizeof(ns)) break;
    }
    _exit(0);
  }

  pid_t pid_ = -1;
  int request_ = -1;
  int reply_ = -1;
};

void BM_Syscall(benchmark::State& state, Filter filter, Call call) {
  absl::StatusOr<std::unique_ptr<SyscallChild>> child =
      SyscallChild::Start(filter, call);
  if (!child.ok()) {
    state.SkipWithError(child.status().ToString().c_str());
    return;
  }
  constexpr uint64_t kBatch = 20000;
  (void)(*child)->Run(kBatch);  // warm up
  while (state.KeepRunningBatch(kBatch)) {
    absl::StatusOr<int64_t> ns = (*child)->Run(kBatch);
    if (!ns.ok()) {
      state.SkipWithError(ns.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(static_cast<double>(*ns) * 1e-9);
  }
  if (filter == Filter::kDefaultPolicy) {
    state.counters["filter_instructions"] =
        static_cast<double>(internal::StateOf(*CachedPolicy(Variant::kFull))
                                .seccomp.instructions.size());
  }
}

// --- Comms ---

// A forked process that echoes every message it receives.
class EchoChild {
 public:
  static absl::StatusOr<std::unique_ptr<EchoChild>> Start(
      Comms::Options options = Comms::Options()) {
    absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair(options);
    if (!pair.ok()) return pair.status();
    const pid_t pid = fork();
    if (pid < 0) return ErrnoStatus("fork");
    if (pid == 0) {
      pair->first = Comms(UniqueFd());
      for (;;) {
        absl::StatusOr<std::vector<uint8_t>> message = pair->second.RecvBytes();
        if (!message.ok() || !pair->second.SendBytes(*message).ok()) _exit(0);
      }
    }
    auto child = std::unique_ptr<EchoChild>(new EchoChild());
    child->pid_ = pid;
    child->comms_ = std::make_unique<Comms>(std::move(pair->first));
    return child;
  }
  ~EchoChild() {
    comms_.reset();
    int status;
    waitpid(pid_, &status, 0);
  }
  Comms& comms() { return *comms_; }

 private:
  EchoChild() = default;
  pid_t pid_ = -1;
  std::unique_ptr<Comms> comms_;
};

// Pins this thread (and so what it forks next) to the CPU it runs on, for
// the one_cpu variants: a round trip then costs two context switches on one
// CPU rather than two cross-CPU wakeups, whose price in a VM is the
// hypervisor's and varies from run to run. Restores the old mask when done.
class PinToOneCpu {
 public:
  explicit PinToOneCpu(bool pin) {
    if (!pin || sched_getaffinity(0, sizeof(old_), &old_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(sched_getcpu(), &one);
    pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  ~PinToOneCpu() {
    if (pinned_) sched_setaffinity(0, sizeof(old_), &old_);
  }

 private:
  cpu_set_t old_;
  bool pinned_ = false;
};

void BM_CommsRoundTrip(benchmark::State& state, size_t size, bool one_cpu) {
  PinToOneCpu pin(one_cpu);
  absl::StatusOr<std::unique_ptr<EchoChild>> echo = EchoChild::Start();
  if (!echo.ok()) {
    state.SkipWithError(echo.status().ToString().c_str());
    return;
  }
  Comms& comms = (*echo)->comms();
  std::vector<uint8_t> payload(size, 0x5a);
  for (auto _ : state) {
    absl::Status sent = comms.SendBytes(payload);
    absl::StatusOr<std::vector<uint8_t>> back = comms.RecvBytes();
    if (!sent.ok() || !back.ok() || back->size() != size) {
      state.SkipWithError("round trip failed");
      return;
    }
  }
  // Both ways.
  state.SetBytesProcessed(state.iterations() * size * 2);
}

// The floor under BM_CommsRoundTrip: plain write/read of the same bytes on
// a socketpair with a forked echo process, no framing.
void BM_SocketpairRoundTrip(benchmark::State& state, size_t size,
                            bool one_cpu) {
  PinToOneCpu pin(one_cpu);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  auto transfer = [](int fd, uint8_t* data, size_t size, bool send) {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = send ? write(fd, data + done, size - done)
                             : read(fd, data + done, size - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  };
  std::vector<uint8_t> buffer(size, 0x5a);
  const pid_t pid = fork();
  if (pid == 0) {
    close(pair[0]);
    while (transfer(pair[1], buffer.data(), size, false) &&
           transfer(pair[1], buffer.data(), size, true)) {
    }
    _exit(0);
  }
  close(pair[1]);
  for (auto _ : state) {
    if (!transfer(pair[0], buffer.data(), size, true) ||
        !transfer(pair[0], buffer.data(), size, false)) {
      state.SkipWithError("round trip failed");
      break;
    }
  }
  close(pair[0]);
  int status;
  waitpid(pid, &status, 0);
  state.SetBytesProcessed(state.iterations() * size * 2);
}

// One 1 GiB message per iteration, from a sender thread to this one, which
// touches every page it receives (a mapped memfd costs its page faults
// there, as it would for any consumer).
void BM_CommsBulk(benchmark::State& state, bool memfd) {
  constexpr size_t kSize = size_t{1} << 30;
  static uint8_t* source = [] {
    auto* data = static_cast<uint8_t*>(
        mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
    if (data != MAP_FAILED) memset(data, 0xa5, kSize);
    return data == MAP_FAILED ? nullptr : data;
  }();
  if (source == nullptr) {
    state.SkipWithError("mmap(1 GiB) failed");
    return;
  }
  Comms::Options options;
  options.max_message_bytes = kSize + 4096;
  options.memfd_threshold = 0;  // the socket path sends inline
  absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair(options);
  if (!pair.ok()) {
    state.SkipWithError(pair.status().ToString().c_str());
    return;
  }
  auto& [sender, receiver] = *pair;
  for (auto _ : state) {
    absl::Status sent;
    std::thread thread([&] {
      const absl::Span<const uint8_t> data(source, kSize);
      sent = memfd ? sender.SendBytesViaMemfd(data) : sender.SendBytes(data);
    });
    uint64_t sum = 0;
    size_t got = 0;
    if (memfd) {
      absl::StatusOr<SharedBuffer> buffer = receiver.RecvBuffer();
      if (buffer.ok()) {
        got = buffer->size();
        for (size_t i = 0; i < got; i += 4096) sum += buffer->data()[i];
        if (!buffer->mapped()) sum = 0;  // not the zero-copy path
      }
    } else {
      absl::StatusOr<std::vector<uint8_t>> bytes = receiver.RecvBytes();
      if (bytes.ok()) {
        got = bytes->size();
        for (size_t i = 0; i < got; i += 4096) sum += (*bytes)[i];
      }
    }
    thread.join();
    if (!sent.ok() || got != kSize || sum == 0) {
      state.SkipWithError(
          absl::StrCat("transfer failed: ", sent.ToString(), ", got ", got)
              .c_str());
      return;
    }
  }
  state.SetBytesProcessed(state.iterations() * kSize);
}

// One 1 GiB transfer per iteration through a SharedRegion both ends mapped
// once: the sender copies into it and says so with a small message; the
// receiver touches every page, as above. Making and first touching the
// region (fresh pages, what every sealed memfd pays) happen once, before
// timing, and are reported as region_setup_ms.
void BM_CommsBulkRegion(benchmark::State& state) {
  constexpr size_t kSize = size_t{1} << 30;
  std::vector<uint8_t> source(kSize, 0xa5);
  Comms::Options options;
  options.max_message_bytes = kSize;
  absl::StatusOr<std::pair<Comms, Comms>> pair = Comms::CreatePair(options);
  if (!pair.ok()) {
    state.SkipWithError(pair.status().ToString().c_str());
    return;
  }
  auto& [sender, receiver] = *pair;
  const int64_t setup_start = NowNs();
  absl::StatusOr<SharedRegion> mine = SharedRegion::Create(kSize);
  absl::Status sent = mine.ok() ? sender.SendRegion(*mine) : mine.status();
  absl::StatusOr<SharedRegion> theirs =
      sent.ok() ? receiver.RecvRegion() : sent;
  if (!theirs.ok()) {
    state.SkipWithError(theirs.status().ToString().c_str());
    return;
  }
  memset(mine->data(), 0, kSize);
  const double setup_ms = (NowNs() - setup_start) / 1e6;
  for (auto _ : state) {
    std::thread thread([&] {
      memcpy(mine->data(), source.data(), kSize);
      const uint64_t length = kSize;
      sent = sender.SendBytes(
          {reinterpret_cast<const uint8_t*>(&length), sizeof(length)});
    });
    uint64_t sum = 0;
    absl::StatusOr<std::vector<uint8_t>> ready = receiver.RecvBytes();
    uint64_t length = 0;
    if (ready.ok() && ready->size() == sizeof(length)) {
      memcpy(&length, ready->data(), sizeof(length));
      for (size_t i = 0; i < length && i < kSize; i += 4096) {
        sum += theirs->data()[i];
      }
    }
    thread.join();
    if (!sent.ok() || length != kSize || sum == 0) {
      state.SkipWithError(
          absl::StrCat("transfer failed: ", sent.ToString()).c_str());
      return;
    }
  }
  state.SetBytesProcessed(state.iterations() * kSize);
  state.counters["region_setup_ms"] = setup_ms;
}

// --- Policy ---

void BM_PolicyCompile(benchmark::State& state) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(Variant::kFull);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    absl::StatusOr<SeccompProgram> program = CompileSeccomp(
        policy->proto().seccomp(),
        {.bootstrap_fd = static_cast<int>(policy->limits().nofile)});
    if (!program.ok()) {
      state.SkipWithError(program.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(program->instructions.data());
  }
  state.counters["instructions"] = static_cast<double>(
      internal::StateOf(*policy).seccomp.instructions.size());
}

void BM_PolicyLoad(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<Policy> policy = LoadPolicy(Variant::kFull);
    if (!policy.ok()) {
      state.SkipWithError(policy.status().ToString().c_str());
      return;
    }
  }
}

// --- Memory ---

void ReportProcessMemory(benchmark::State& state, const std::string& prefix,
                         pid_t pid) {
  const ProcMemory memory = ReadProcMemory(pid);
  state.counters[prefix + "_peak_rss"] =
      benchmark::Counter(memory.vm_hwm, benchmark::Counter::kDefaults,
                         benchmark::Counter::kIs1024);
  state.counters[prefix + "_rss_anon"] =
      benchmark::Counter(memory.rss_anon, benchmark::Counter::kDefaults,
                         benchmark::Counter::kIs1024);
  state.counters[prefix + "_rss_file"] =
      benchmark::Counter(memory.rss_file, benchmark::Counter::kDefaults,
                         benchmark::Counter::kIs1024);
  state.counters[prefix + "_pss"] = benchmark::Counter(
      memory.pss, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
}

// After the spawn benchmarks: how much memory the fork servers reached.
void BM_ForkServerMemory(benchmark::State& state) {
  const absl::StatusOr<Policy>& policy = CachedPolicy(Variant::kFull);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    // Makes sure both servers exist and have served the default policy.
    for (const Command& command : {TrueCommand(), NoopWorkerCommand()}) {
      if (absl::StatusOr<int64_t> ns = TimeSpawn(*policy, command); !ns.ok()) {
        state.SkipWithError(ns.status().ToString().c_str());
        return;
      }
    }
  }
  absl::StatusOr<std::shared_ptr<internal::ForkServerClient>> server =
      internal::DefaultForkServer();
  if (!server.ok()) {
    state.SkipWithError(server.status().ToString().c_str());
    return;
  }
  ReportProcessMemory(state, "exec_server", (*server)->pid());
  if (internal::ForkServerClient* zygote = internal::ZygoteForkServer()) {
    ReportProcessMemory(state, "zygote", zygote->pid());
  }
}

// Kernel memory of the whole machine (Slab + KernelStack + PageTables from
// /proc/meminfo), in bytes: what 200 live sandboxes cost the kernel (their
// namespaces, mounts, processes), noisy with anything else running.
double KernelMemory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  double total = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "Slab:" || key == "KernelStack:" || key == "PageTables:") {
      total += kib * 1024;
    }
  }
  return total;
}

uint64_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Host-side memory per live sandbox: `count` sandboxes sleeping at once.
void BM_HostMemoryPerSandbox(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  const absl::StatusOr<Policy>& policy = CachedPolicy(Variant::kFull);
  if (!policy.ok()) {
    state.SkipWithError(policy.status().ToString().c_str());
    return;
  }
  Command sleeper;
  sleeper.argv = {"/bin/sleep", "1000"};
  sleeper.inherit_stdio = false;
  double rss_per = 0;
  double heap_per = 0;
  double fds_per = 0;
  double kernel_per = 0;
  auto count_fds = [] {
    int n = 0;
    for (int fd = 0; fd < 65536; ++fd) {
      if (fcntl(fd, F_GETFD) >= 0) ++n;
    }
    return n;
  };
  for (auto _ : state) {
    state.PauseTiming();
    {
      // Warm: the fork server runs and knows the policy; the vector has its
      // room.
      std::vector<std::unique_ptr<Sandbox>> sandboxes;
      sandboxes.reserve(count);
      if (absl::StatusOr<int64_t> ns = TimeSpawn(*policy, TrueCommand());
          !ns.ok()) {
        state.SkipWithError(ns.status().ToString().c_str());
        return;
      }
      malloc_trim(0);
      const uint64_t rss_before = ReadProcMemory(getpid()).vm_rss;
      const uint64_t heap_before = HeapInUse();
      const int fds_before = count_fds();
      const double kernel_before = KernelMemory();
      state.ResumeTiming();
      for (size_t i = 0; i < count; ++i) {
        absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
            Sandbox::Spawn(*policy, sleeper);
        if (!sandbox.ok()) {
          state.SkipWithError(sandbox.status().ToString().c_str());
          return;
        }
        sandboxes.push_back(*std::move(sandbox));
      }
      state.PauseTiming();
      const uint64_t rss_after = ReadProcMemory(getpid()).vm_rss;
      const uint64_t heap_after = HeapInUse();
      rss_per = (static_cast<double>(rss_after) - rss_before) / count;
      heap_per = (static_cast<double>(heap_after) - heap_before) / count;
      fds_per = static_cast<double>(count_fds() - fds_before) / count;
      kernel_per = (KernelMemory() - kernel_before) / count;
      for (auto& sandbox : sandboxes) (void)sandbox->Kill();
      for (auto& sandbox : sandboxes) (void)sandbox->Wait();
    }
    state.ResumeTiming();
  }
  state.counters["host_rss_per_sandbox"] = benchmark::Counter(
      rss_per, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["host_heap_per_sandbox"] = benchmark::Counter(
      heap_per, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["host_fds_per_sandbox"] = fds_per;
  state.counters["kernel_per_sandbox"] = benchmark::Counter(
      kernel_per, benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
}

// --- Names as the issue has them ---

template <typename Base>
class ExactNames : public Base {
 public:
  using Base::Base;
  void ReportRuns(
      const std::vector<benchmark::BenchmarkReporter::Run>& runs) override {
    std::vector<benchmark::BenchmarkReporter::Run> renamed = runs;
    for (benchmark::BenchmarkReporter::Run& run : renamed) {
      run.run_name.min_time.clear();
      run.run_name.iterations.clear();
      run.run_name.repetitions.clear();
      run.run_name.time_type.clear();
    }
    Base::ReportRuns(renamed);
  }
};

void RegisterCgroupBenchmarks();

// SANDBOX_BENCH_CGROUP_SPARES=0 turns spare cgroups off for every
// benchmark but BM_CgroupSteps/default_policy_caps: the cost of a spawn
// with a cgroup made and removed each time, in the same binary.
bool SparesWanted() {
  const char* value = getenv("SANDBOX_BENCH_CGROUP_SPARES");
  return value == nullptr || std::string(value) != "0";
}

void RegisterAll() {
  using benchmark::kMicrosecond;
  using benchmark::kMillisecond;
  using benchmark::kNanosecond;
  benchmark::RegisterBenchmark("BM_ForkWaitBaseline", BM_ForkWaitBaseline)
      ->UseRealTime()
      ->MinTime(0.3)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_ForkPerInput/full", BM_ForkPerInput,
                               Variant::kFull, false)
      ->UseRealTime()
      ->MinTime(0.5)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_ForkPerInput/full_cgroup", BM_ForkPerInput,
                               Variant::kFullCgroup, false)
      ->UseRealTime()
      ->MinTime(0.5)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_ForkPerInput/full_clean_tmp",
                               BM_ForkPerInput, Variant::kFull, true)
      ->UseRealTime()
      ->MinTime(0.5)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_ForkExecBaseline", BM_ForkExecBaseline)
      ->UseRealTime()
      ->MinTime(0.3)
      ->Unit(kMicrosecond);
  for (const VariantName& v : kVariants) {
    benchmark::RegisterBenchmark(absl::StrCat("BM_SpawnExec/", v.name).c_str(),
                                 BM_SpawnExec, v.variant,
                                 SpawnMode::kForkServer)
        ->UseRealTime()
        ->MinTime(v.variant == Variant::kFull ? 1.0 : 0.3)
        ->Unit(kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_SpawnExec/full_direct", BM_SpawnExec,
                               Variant::kFull, SpawnMode::kDirect)
      ->UseRealTime()
      ->MinTime(0.3)
      ->Unit(kMicrosecond);
  for (const VariantName& v : kVariants) {
    if (v.variant != Variant::kFull && v.variant != Variant::kNoNet &&
        v.variant != Variant::kNoMount && v.variant != Variant::kNoPid &&
        v.variant != Variant::kNoIsolation) {
      continue;
    }
    benchmark::RegisterBenchmark(
        absl::StrCat("BM_SpawnZygote/", v.name).c_str(), BM_SpawnZygote,
        v.variant)
        ->UseRealTime()
        ->MinTime(v.variant == Variant::kFull ? 1.0 : 0.3)
        ->Unit(kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_SpawnThroughput", BM_SpawnThroughput)
      ->Threads(2)
      ->UseRealTime()
      ->MinTime(1.0)
      ->Unit(kMicrosecond);
  for (const VariantName& v : kVariants) {
    if (v.variant != Variant::kFull && v.variant != Variant::kDefaultPolicy) {
      continue;
    }
    benchmark::RegisterBenchmark(
        absl::StrCat("BM_SpawnPrewarmed/", v.name).c_str(), BM_SpawnPrewarmed,
        v.variant, 1, true, PrewarmFor::kPrograms)
        ->UseRealTime()
        ->MinTime(0.5)
        ->Unit(kMicrosecond);
  }
  benchmark::RegisterBenchmark("BM_SpawnPrewarmed/zygote/full",
                               BM_SpawnPrewarmed, Variant::kFull, 1, true,
                               PrewarmFor::kWorkers)
      ->UseRealTime()
      ->MinTime(0.5)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_SpawnPrewarmed/full/back_to_back",
                               BM_SpawnPrewarmed, Variant::kFull, 2, false,
                               PrewarmFor::kPrograms)
      ->UseRealTime()
      ->MinTime(0.5)
      ->Unit(kMicrosecond);

  struct SyscallCase {
    const char* name;
    Filter filter;
    Call call;
  };
  for (const SyscallCase& c : {
           SyscallCase{"BM_SyscallNoFilter", Filter::kNone, Call::kGetppid},
           SyscallCase{"BM_SyscallAllowAllFilter", Filter::kAllowAll,
                       Call::kGetppid},
           SyscallCase{"BM_SyscallFilteredNoArgs", Filter::kDefaultPolicy,
                       Call::kGetppid},
           SyscallCase{"BM_SyscallFilteredArgs", Filter::kDefaultPolicy,
                       Call::kPersonalityQuery},
           SyscallCase{"BM_SyscallNoFilterPersonality", Filter::kNone,
                       Call::kPersonalityQuery},
       }) {
    benchmark::RegisterBenchmark(c.name, BM_Syscall, c.filter, c.call)
        ->UseManualTime()
        ->MinTime(0.2)
        ->Unit(kNanosecond);
  }

  for (const char* name : {"BM_CommsRoundTrip", "BM_SocketpairRoundTrip"}) {
    const bool comms = std::string(name) == "BM_CommsRoundTrip";
    for (const size_t size : {size_t{64}, size_t{65536}}) {
      for (const bool one_cpu : {false, true}) {
        const std::string full_name =
            absl::StrCat(name, "/", size, one_cpu ? "/one_cpu" : "");
        (comms ? benchmark::RegisterBenchmark(full_name.c_str(),
                                              BM_CommsRoundTrip, size, one_cpu)
               : benchmark::RegisterBenchmark(
                     full_name.c_str(), BM_SocketpairRoundTrip, size, one_cpu))
            ->UseRealTime()
            ->MinTime(0.3)
            ->Unit(kMicrosecond);
      }
    }
  }
  benchmark::RegisterBenchmark("BM_CommsBulk/1GiB/memfd", BM_CommsBulk, true)
      ->UseRealTime()
      ->Iterations(2)
      ->Unit(kMillisecond);
  benchmark::RegisterBenchmark("BM_CommsBulk/1GiB/socket", BM_CommsBulk, false)
      ->UseRealTime()
      ->Iterations(2)
      ->Unit(kMillisecond);
  benchmark::RegisterBenchmark("BM_CommsBulk/1GiB/region", BM_CommsBulkRegion)
      ->UseRealTime()
      ->Iterations(5)
      ->Unit(kMillisecond);
  benchmark::RegisterBenchmark("BM_PolicyCompile/default", BM_PolicyCompile)
      ->MinTime(0.3)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_PolicyLoad/default", BM_PolicyLoad)
      ->MinTime(0.3)
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_ForkServerMemory", BM_ForkServerMemory)
      ->Iterations(1)
      ->Repetitions(1)
      ->UseRealTime()
      ->Unit(kMicrosecond);
  benchmark::RegisterBenchmark("BM_HostMemoryPerSandbox",
                               BM_HostMemoryPerSandbox)
      ->Arg(200)
      ->Iterations(1)
      ->Repetitions(1)
      ->UseRealTime()
      ->Unit(kMillisecond);
  RegisterCgroupBenchmarks();
}

// --- The cgroup path, step by step (issue 15's "measured step by step") ---

// One sandbox's cgroup life with the default policy's caps (1 GiB of
// memory, 512 pids), each step timed apart: Create (the mkdirs and limit
// writes, one directory per hierarchy in use), AddProcess (the
// cgroup.procs migration of a live process: v1's path; v2 spawns use
// CLONE_INTO_CGROUP instead) and the teardown (the destructor's KillAll,
// wait and rmdirs, with the process already reaped). The iteration's time
// is their sum; the counters are each step's mean in microseconds.
// The v1 (or v2) cgroup of the default policy's caps, step by step: its
// creation (the mkdirs and the limit writes, or taking a spare), the
// migration of a process into it (cgroup.procs), and its end (a removal, or
// Release's cleaning into a spare). `spares`: as by default; without, every
// cgroup is made and removed, as before spares.
void BM_CgroupSteps(benchmark::State& state, bool spares) {
  const bool spares_before = SparesWanted();
  Cgroup::SetSparesEnabled(spares);
  const CgroupLimits limits{.memory_bytes = 1ull << 30, .pids = 512};
  if (absl::StatusOr<std::unique_ptr<Cgroup>> probe = Cgroup::Create(limits);
      !probe.ok()) {
    state.SkipWithError(probe.status().ToString().c_str());
    return;
  } else {
    (void)Cgroup::Release(*std::move(probe));
  }
  using Clock = std::chrono::steady_clock;
  auto us = [](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
  };
  double create_us = 0;
  double mkdir_us = 0;
  double limits_us = 0;
  double add_us = 0;
  double end_us = 0;
  double reused = 0;
  double kept = 0;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = Cgroup::Create(limits);
    const Clock::time_point created = Clock::now();
    if (!cgroup.ok()) {
      state.SkipWithError(cgroup.status().ToString().c_str());
      return;
    }
    mkdir_us += absl::ToDoubleMicroseconds((*cgroup)->make_dirs_time());
    limits_us += absl::ToDoubleMicroseconds((*cgroup)->write_limits_time());
    reused += (*cgroup)->reused() ? 1 : 0;
    const pid_t child = fork();
    if (child == 0) {
      pause();
      _exit(0);
    }
    const Clock::time_point forked = Clock::now();
    const absl::Status added = (*cgroup)->AddProcess(child);
    const Clock::time_point moved = Clock::now();
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    if (!added.ok()) {
      state.SkipWithError(added.ToString().c_str());
      return;
    }
    const Clock::time_point reaped = Clock::now();
    kept += Cgroup::Release(*std::move(cgroup)).ok() ? 1 : 0;
    const Clock::time_point ended = Clock::now();
    create_us += us(created - start);
    add_us += us(moved - forked);
    end_us += us(ended - reaped);
    state.SetIterationTime(std::chrono::duration<double>((created - start) +
                                                         (moved - forked) +
                                                         (ended - reaped))
                               .count());
  }
  Cgroup::SetSparesEnabled(spares_before);
  const double n = static_cast<double>(state.iterations());
  state.counters["create_us"] = create_us / n;
  state.counters["create_mkdir_us"] = mkdir_us / n;
  state.counters["create_limits_us"] = limits_us / n;
  state.counters["add_process_us"] = add_us / n;
  // A removal without spares; with them, Release's cleaning (or the
  // removal of a cgroup it did not keep).
  state.counters["end_us"] = end_us / n;
  state.counters["reused"] = reused / n;
  state.counters["kept"] = kept / n;
}

void RegisterCgroupBenchmarks() {
  benchmark::RegisterBenchmark("BM_CgroupSteps/default_policy_caps",
                               BM_CgroupSteps, /*spares=*/true)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("BM_CgroupSteps/default_policy_caps_no_spares",
                               BM_CgroupSteps, /*spares=*/false)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace
}  // namespace sandbox::bench

int main(int argc, char** argv) {
  // The zygote is a fork of this process as it is now: before any thread.
  sandbox::bench::RegisterNoopWorker();
  if (absl::Status s = sandbox::RegisterInputWorker(
          sandbox::bench::kNoopInputWorker,
          [](const uint8_t*, size_t) { return 0; });
      !s.ok()) {
    fprintf(stderr, "RegisterInputWorker: %s\n", s.ToString().c_str());
  }
  if (absl::Status s = sandbox::InitForkServer(argc, argv); !s.ok()) {
    fprintf(stderr, "InitForkServer: %s (BM_SpawnZygote will fail)\n",
            s.ToString().c_str());
  }
  // 200 live sandboxes hold a few descriptors each.
  struct rlimit nofile;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // Which reporters to make, read before Initialize() removes its flags.
  bool json = false;
  bool out_file = false;
  std::string out_format = "json";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--benchmark_format=json") json = true;
    if (arg.rfind("--benchmark_out=", 0) == 0) out_file = true;
    if (arg.rfind("--benchmark_out_format=", 0) == 0) {
      out_format = arg.substr(strlen("--benchmark_out_format="));
    }
  }
  sandbox::Cgroup::SetSparesEnabled(sandbox::bench::SparesWanted());
  sandbox::bench::RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::unique_ptr<benchmark::BenchmarkReporter> display;
  if (json) {
    display =
        std::make_unique<sandbox::bench::ExactNames<benchmark::JSONReporter>>();
  } else {
    display = std::make_unique<
        sandbox::bench::ExactNames<benchmark::ConsoleReporter>>(
        isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_Color
                              : benchmark::ConsoleReporter::OO_None);
  }
  // With --benchmark_out: JSON or console through ExactNames; CSV (which
  // this Google Benchmark deprecates) through its own reporter, long names.
  std::unique_ptr<benchmark::BenchmarkReporter> file;
  if (out_file && out_format == "json") {
    file =
        std::make_unique<sandbox::bench::ExactNames<benchmark::JSONReporter>>();
  } else if (out_file && out_format == "console") {
    file = std::make_unique<
        sandbox::bench::ExactNames<benchmark::ConsoleReporter>>(
        benchmark::ConsoleReporter::OO_None);
  }
  benchmark::RunSpecifiedBenchmarks(display.get(), file.get());
  benchmark::Shutdown();
  return 0;
}
