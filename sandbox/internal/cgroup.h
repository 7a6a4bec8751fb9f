// Cgroup: one control group per sandbox, with memory, pids and CPU caps, on
// cgroup v2 or v1 behind one interface. Internal to the library; Sandbox
// creates one when the policy has limits.memory, limits.pids or
// limits.cpus.
//
//   SBX_ASSIGN_OR_RETURN(std::unique_ptr<Cgroup> cgroup,
//                        Cgroup::Create({.memory_bytes = 64 << 20,
//                                        .pids = 16}));
//   // The child waits until it is in (v1; on v2 clone3 can start it there
//   // with CLONE_INTO_CGROUP and cgroup->clone_into_fd()).
//   SBX_RETURN_IF_ERROR(cgroup->AddProcess(child));
//   Release(child);
//   Reap(child);
//   SBX_ASSIGN_OR_RETURN(CgroupUsage usage, cgroup->ReadUsage());
//   // Kills what is left; keeps the cgroup as a spare for the next Create
//   // with the same limits (v1, if every check passes) or removes it, as
//   // cgroup.reset() always does.
//   Cgroup::Release(std::move(cgroup)).IgnoreError();
//
// Where: cgroup_detect.h finds, for each controller, the hierarchy that
// provides it (v2 or v1) and our own cgroup there. Sandbox cgroups are
// created under the process's own cgroup, never elsewhere, and named
// "sandbox-<pid>-<counter>" (pid as getpid() sees it), so that a later
// start can remove leftovers of processes that no longer exist
// (RemoveStale).
//
// Permissions. As root this works wherever the controllers exist. Without
// root it needs a delegated cgroup: our own cgroup directory (and, on v2,
// its cgroup.procs and cgroup.subtree_control) must be writable by us, as
// systemd arranges with `systemd-run --user --scope -p Delegate=yes ...`, or
// as root does by creating a directory, chowning it (and its cgroup.procs /
// tasks) to the user and starting the program in it. Without that, Create
// returns FailedPrecondition saying so: early when access(2) already says
// our directory is not writable, and also when the kernel refuses a mkdir
// or write that access(2) allowed (LSMs, nsdelegate, read-only mounts) —
// every such error names the file and errno.
//
// cgroup v2 and the no-internal-processes rule. A v2 controller limits
// children only once it is enabled in the parent's cgroup.subtree_control,
// and a non-root cgroup with processes of its own cannot enable a domain
// controller such as memory there (EBUSY; pids and cpu, which are threaded
// controllers, are allowed).
// Create therefore enables the needed controllers in our own cgroup's
// cgroup.subtree_control when they are not yet enabled; if the kernel says
// EBUSY and this process is the only one in our cgroup, it moves this
// process (all its threads) into a leaf "<own>/sandbox-supervisor" and
// enables them then; sandbox cgroups become siblings of that leaf, and later
// detection treats "<own>" as our cgroup. With other processes in our
// cgroup, Create returns FailedPrecondition: the caller must start us in a
// cgroup of our own (a delegated scope does exactly that).
//
// cgroup v1. Each controller in use gets a directory in its hierarchy; the
// freezer (when mounted) and cpuacct (when mounted) are used as well, for a
// race-free KillAll and for CPU accounting, but are skipped when we may not
// write there. A sandbox's first process moves itself in (V1TasksFds); other
// processes are placed with AddProcess.
//
// Spares (cgroup v1 only). Making a v1 sandbox cgroup (a mkdir per
// hierarchy, the limit writes) and removing it cost more than cleaning one:
// Release() cleans a finished sandbox's cgroup and keeps it as a spare, and
// Create() with the same limits under the same parent cgroups takes it
// instead of making one. The pool is per process (forked copies start with
// none), bounded (kMaxSpareCgroups), and removed at exit(); spares keep the
// "sandbox-<pid>-<n>" names, so RemoveStale still removes those of a crashed
// process. A cgroup is kept only if every check of Release passes, and is
// destroyed otherwise (fail closed):
//   - no process in any of its hierarchies (after KillAll), no child cgroup,
//     freezer THAWED, no OOM in progress and oom_kill_disable 0;
//   - every limit file reads what Create wrote (a sandboxee cannot write
//     them: it does not see the cgroup filesystem, holds no capability and
//     may not mount; this re-check covers a policy that binds it in);
//   - at most kMaxResidualBytes still charged to the memory cgroup (page
//     cache, kernel objects), after memory.force_empty if more was left.
// What the next user's ReadUsage and LimitHit report is its own:
// memory.max_usage_in_bytes and memory.failcnt are reset, and the counters
// that cannot be reset (memory.oom_control oom_kill, pids.events max,
// cpuacct.stat) are read as baselines that ReadUsage subtracts; the peak
// is counted from what was still charged at the reset, so it may be short
// by what of that was freed later (at most kMaxResidualBytes). cgroup v2
// cgroups are never kept: they are made and removed as before (their
// counters, memory.peak and memory.events, cannot be reset on every kernel
// we support, and v2 is only tested in the qemu guest).

#ifndef SANDBOX_INTERNAL_CGROUP_H_
#define SANDBOX_INTERNAL_CGROUP_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sandbox/fd.h"

namespace sandbox {

struct CgroupLimits {
  // memory.max / memory.limit_in_bytes; 0: no cap.
  uint64_t memory_bytes = 0;
  // Without it, swap is capped at 0 (memory.swap.max = 0, or
  // memory.memsw.limit_in_bytes = memory_bytes on v1 when present).
  bool allow_swap = false;
  // pids.max; 0: no cap.
  uint32_t pids = 0;
  // cpu.max / cpu.cfs_quota_us as a fraction of one CPU over a 100 ms
  // period; 0: no cap. At least 0.01 (the kernel's 1 ms minimum quota).
  double cpus = 0;
  // Makes limit_events_fd() say when the memory or pids cap is hit.
  bool watch_limits = false;
};

// At most this many spare cgroups are kept per process (see "Spares").
inline constexpr int kMaxSpareCgroups = 8;
// A spare may keep at most this much memory charged to it (see "Spares").
inline constexpr uint64_t kMaxResidualBytes = 1 << 20;

struct CgroupUsage {
  // The kernel OOM-killed a process of this cgroup (memory.events oom_kill
  // on v2; on v1 memory.oom_control oom_kill, or failcnt with an OOM kill,
  // or an OOM that LimitHit() saw).
  bool memory_limit_hit = false;
  // A fork failed at pids.max (pids.events max > 0).
  bool pids_limit_hit = false;
  // memory.peak (v2, where the kernel has it) or memory.max_usage_in_bytes
  // (v1); 0 if unknown.
  uint64_t peak_memory_bytes = 0;
  // cpu.stat usage (v2) or cpuacct.stat (v1, USER_HZ resolution) when
  // available; -1 if unknown.
  double user_cpu_seconds = -1;
  double system_cpu_seconds = -1;
};

class Cgroup {
 public:
  // Creates the sandbox's cgroup(s) and writes the limits; only the
  // controllers the limits need (memory, pids, cpu), plus freezer and
  // cpuacct on v1 where available. With no limits at all, a cgroup is still
  // made (v2 if writable, else the v1 freezer) so that KillAll can reach
  // every descendant. Returns InvalidArgument for a negative or non-finite
  // `cpus`; FailedPrecondition, naming the controller or directory and
  // saying how to get delegation (systemd `Delegate=yes`, or a cgroup
  // directory chowned to the user), when a needed controller is missing,
  // our cgroup is not writable or v2 controllers cannot be enabled (see the
  // file comment); the error of the failing write otherwise (naming the
  // file and errno). On error, nothing is left behind.
  //
  // Takes a spare cgroup (see "Spares" above) when one with the same limits
  // under the same parents exists; reused() then says so.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Cgroup>> Create(
      const CgroupLimits& limits);

  // Ends `cgroup`'s use: kills what is left in it, and either keeps it as
  // a spare (OK) or destroys it as the destructor does, returning why it
  // was not kept (FailedPrecondition naming the check and file: a process
  // still inside, a changed limit, too much memory still charged, ...;
  // also for v2 cgroups and while spares are disabled). Either way the
  // caller is done with it.
  static absl::Status Release(std::unique_ptr<Cgroup> cgroup);

  // Removes every spare cgroup of this process; returns how many (cgroups,
  // not directories). Runs at exit() too.
  static int RemoveSpares();

  // Turns the spare pool on (the default) or off (then Release destroys
  // every cgroup and Create always makes one); for benchmarks and tests.
  // Turning it off removes the spares.
  static void SetSparesEnabled(bool enabled);

  // Since the process started: how many cgroups Create took from the
  // spares and made anew, and how many Release kept and did not keep
  // (including v2 ones and those released while spares were off).
  struct SpareCounts {
    uint64_t taken = 0;
    uint64_t made = 0;
    uint64_t kept = 0;
    uint64_t not_kept = 0;
  };
  static SpareCounts spare_counts();

  // Whether Create took this cgroup from the spares.
  bool reused() const { return reused_; }

  // How long the steps of making this cgroup took (zero when reused): the
  // mkdirs and the limit writes; for BM_CgroupSteps.
  absl::Duration make_dirs_time() const { return make_dirs_time_; }
  absl::Duration write_limits_time() const { return write_limits_time_; }

  // Kills every process left in the cgroup(s), waits (up to 2 s) until they
  // are gone and removes the directories. What cannot be removed is left
  // for RemoveStale.
  ~Cgroup();
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // An O_DIRECTORY fd of the v2 cgroup for clone3's CLONE_INTO_CGROUP, or
  // -1 when every controller in use is v1 (then use AddProcess).
  int clone_into_fd() const { return clone_into_fd_.get(); }
  // Moves `pid` (the whole process) into the cgroup in every hierarchy in
  // use; harmless where it is there already (clone3 CLONE_INTO_CGROUP).
  // Returns the failing write's error, naming the file. With `v1_attached`
  // (the child moved itself through V1TasksFds), only the v2 directory.
  [[nodiscard]] absl::Status AddProcess(pid_t pid, bool v1_attached = false);
  // The `tasks` file of each v1 directory, write-only, opened on first use
  // and kept until the cgroup ends or is kept as a spare (which holds no
  // descriptor): a single-threaded child that writes "0"
  // to each moves itself, which v1 does without the RCU grace period that a
  // move of another process by pid waits for after a quiet spell. Empty
  // without v1 directories; an error names the file.
  [[nodiscard]] absl::StatusOr<std::vector<int>> V1TasksFds();

  // With CgroupLimits::watch_limits and a memory or pids cap: a descriptor
  // that polls readable (POLLIN) when a cap may have been hit, for the
  // caller to ask LimitHit(); -1 otherwise. Owned by this Cgroup.
  //
  // Behind it: v2 pids.events and memory.events, which the kernel notifies
  // (POLLPRI) on change; v1 the memory.oom_control notification
  // (cgroup.event_control). v1 pids.events counts refused forks but is
  // never notified (neither poll nor inotify wakes, as of Linux 6.18), so
  // there a 10 ms timer stands in: a sandbox with a v1 pids cap wakes its
  // watcher 100 times a second, and ends within about 10 ms of the hit.
  int limit_events_fd() const;
  // Whether the memory cap (v2 an OOM kill, memory.events oom_kill; v1 the
  // OOM notification, sent when the OOM killer is about to choose) or the
  // pids cap (a fork refused: pids.events max) has been hit so far. Takes what
  // limit_events_fd() reported, so that it is quiet until the next event.
  // False where the counters cannot be read (ReadUsage then says why).
  [[nodiscard]] bool LimitHit();

  // Reads the counters listed in CgroupUsage. Returns the error of a
  // missing or unreadable counter file the backend relies on.
  [[nodiscard]] absl::StatusOr<CgroupUsage> ReadUsage() const;

  // Stops and resumes every process of the cgroup (v2 cgroup.freeze, v1
  // freezer.state). Freeze returns once the kernel reports the cgroup
  // frozen, or DeadlineExceeded after 2 s. FailedPrecondition without a
  // freezer (v1 without a freezer hierarchy, or a v2 kernel before 5.2).
  [[nodiscard]] absl::Status Freeze();
  [[nodiscard]] absl::Status Thaw();

  // SIGKILLs every process in the cgroup: v2 cgroup.kill where the kernel
  // has it (5.14); otherwise freeze, kill each pid of cgroup.procs, thaw —
  // so that nothing forks in between. Without any freezer it kills until
  // cgroup.procs stays empty (bounded). Does not wait for the processes to
  // exit.
  [[nodiscard]] absl::Status KillAll();

  // Paths of the cgroup directories (one per hierarchy in use), for tests
  // and messages.
  const std::vector<std::string>& dirs() const { return dirs_; }

  // Removes sandbox-<pid>-<n> directories under our own cgroups whose <pid>
  // is no longer alive (kill(pid, 0) fails with ESRCH), left by a crashed
  // host or fork server: kills what is still in them first. Returns how
  // many directories it removed (one sandbox may have one per hierarchy).
  // Caveat: <pid> is judged in our pid namespace.
  static int RemoveStale();

  // Processes of the library's own (the fork servers) that may share our
  // cgroup: when cgroup v2's no-internal-processes rule makes us step aside
  // into a leaf, they move with us. Without this they would block the move.
  static void RegisterHelperProcess(pid_t pid);
  static void UnregisterHelperProcess(pid_t pid);

 private:
  Cgroup() = default;
  // Release's checks and resets (see "Spares"), and the pool.
  absl::Status CleanForReuse();
  static absl::Status Keep(std::unique_ptr<Cgroup> cgroup);

  std::vector<std::string> dirs_;
  // Limits and parents, as a key of the spare pool; empty if the cgroup
  // may not be kept (cgroup v2).
  std::string spare_key_;
  // The parent directories, to drop spares made under other ones.
  std::string parents_;
  // Limit files and what they must read (see CleanForReuse).
  std::vector<std::pair<std::string, std::string>> limit_files_;
  bool reused_ = false;
  absl::Duration make_dirs_time_;
  absl::Duration write_limits_time_;
  UniqueFd clone_into_fd_;
  std::vector<UniqueFd> v1_tasks_fds_;
  bool v1_tasks_opened_ = false;
  // Implementation detail of the backends.
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandbox

#endif  // SANDBOX_INTERNAL_CGROUP_H_
