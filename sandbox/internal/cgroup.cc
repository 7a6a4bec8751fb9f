#include "sandbox/internal/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sandbox/internal/cgroup_detect.h"
#include "sandbox/internal/util.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

using internal::CgroupLayout;
using internal::kCgroupSupervisorLeaf;
using internal::PathExists;
using internal::ReadCgroupLayout;
using internal::ReadSmallFile;

constexpr char kSandboxPrefix[] = "sandbox-";
constexpr uint64_t kCpuPeriodUsec = 100000;
constexpr uint64_t kMinCpuQuotaUsec = 1000;
constexpr absl::Duration kFreezeTimeout = absl::Seconds(2);
constexpr absl::Duration kEmptyTimeout = absl::Seconds(2);
constexpr absl::Duration kRmdirTimeout = absl::Milliseconds(500);
// How long Release waits for killed processes to leave before it gives
// the cgroup up as a spare.
constexpr absl::Duration kReuseEmptyTimeout = absl::Milliseconds(100);
// How long Release waits for memory still charged to a cgroup to be freed
// before it gives the cgroup up as a spare.
constexpr absl::Duration kResidualWait = absl::Milliseconds(50);
constexpr absl::Duration kPollInterval = absl::Milliseconds(1);
// How often a v1 pids.events is looked at (see limit_events_fd()); the
// kernel's own rate for cgroup file notifications.
constexpr absl::Duration kV1PidsEventsInterval = absl::Milliseconds(10);

constexpr char kDelegationHint[] =
    "this needs cgroup delegation: run under `systemd-run --user --scope -p "
    "Delegate=yes ...`, or have root create a cgroup directory and chown it "
    "(and its cgroup.procs) to your user, then start this program in it";

std::atomic<uint64_t> sandbox_counter{0};

absl::Mutex helper_mu(absl::kConstInit);
std::vector<pid_t>& HelperPidList() ABSL_EXCLUSIVE_LOCKS_REQUIRED(helper_mu) {
  static auto* pids = new std::vector<pid_t>();
  return *pids;
}

std::vector<pid_t> HelperPids() ABSL_LOCKS_EXCLUDED(helper_mu) {
  absl::MutexLock lock(&helper_mu);
  return HelperPidList();
}

// --- Files --------------------------------------------------------------

// Writes `value` in one write(2), as cgroup files require. Returns 0 or the
// errno of the failing open/write.
int WriteRaw(const std::string& path, absl::string_view value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  ssize_t n;
  do {
    n = write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return errno;
  if (static_cast<size_t>(n) != value.size()) return EIO;
  return 0;
}

absl::Status WriteError(const std::string& path, absl::string_view value,
                        int error) {
  return ErrnoStatus(absl::StrCat("write(", path, ", \"", value, "\")"), error);
}

absl::Status WriteFile(const std::string& path, absl::string_view value) {
  const int error = WriteRaw(path, value);
  if (error != 0) return WriteError(path, value, error);
  return absl::OkStatus();
}

// "key value" lines (memory.events, cpu.stat, cpuacct.stat, ...).
std::map<std::string, uint64_t> ParseKeyValues(absl::string_view text) {
  std::map<std::string, uint64_t> values;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    uint64_t value = 0;
    if (fields.size() == 2 && absl::SimpleAtoi(fields[1], &value)) {
      values[std::string(fields[0])] = value;
    }
  }
  return values;
}

absl::StatusOr<std::map<std::string, uint64_t>> ReadKeyValues(
    const std::string& path) {
  SBX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  return ParseKeyValues(text);
}

// "key value" lines read again from the start of an open file: reading
// through the descriptor that is polled is what re-arms kernfs's POLLPRI.
// Empty if it cannot be read.
std::map<std::string, uint64_t> RereadKeyValues(int fd) {
  std::string text;
  char buffer[4096];
  for (off_t offset = 0;;) {
    const ssize_t n = pread(fd, buffer, sizeof(buffer), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return {};
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  return ParseKeyValues(text);
}

absl::StatusOr<uint64_t> ReadNumber(const std::string& path) {
  SBX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
  uint64_t value = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value)) {
    return absl::InternalError(
        absl::StrCat("unexpected content of ", path, ": '", text, "'"));
  }
  return value;
}

// The pids of a cgroup.procs file; empty if it cannot be read (a removed
// cgroup has no processes).
std::vector<pid_t> ReadPids(const std::string& dir) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> text = ReadSmallFile(dir + "/cgroup.procs");
  if (!text.ok()) return pids;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    int pid = 0;
    if (absl::SimpleAtoi(line, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

bool IsEmpty(const std::string& dir) { return ReadPids(dir).empty(); }

// Sub-directories of `dir` (cgroups, in a cgroup directory).
std::vector<std::string> SubDirs(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (entry->d_type == DT_DIR) names.push_back(name);
  }
  closedir(d);
  return names;
}

absl::Status PermissionAwareError(absl::string_view what, int error) {
  if (error == EACCES || error == EPERM || error == EROFS) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, ": ", strerror(error), " (", ErrnoName(error), "); ",
                     kDelegationHint));
  }
  return ErrnoStatus(what, error);
}

// --- Killing and removing ----------------------------------------------

bool AllEmpty(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    if (!IsEmpty(dir)) return false;
  }
  return true;
}

bool WaitEmpty(const std::vector<std::string>& dirs, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!AllEmpty(dirs)) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
  return true;
}

// SIGKILLs every pid listed in the cgroup.procs of `dirs`; returns how many
// were listed.
size_t KillListed(const std::vector<std::string>& dirs) {
  size_t listed = 0;
  for (const std::string& dir : dirs) {
    for (pid_t pid : ReadPids(dir)) {
      ++listed;
      kill(pid, SIGKILL);  // ESRCH: it is gone already.
    }
  }
  return listed;
}

// Kills until cgroup.procs stays empty, for want of a freezer: a process
// forking between our read and its kill is caught in the next round.
void KillUntilEmpty(const std::vector<std::string>& dirs) {
  const absl::Time deadline = absl::Now() + kEmptyTimeout;
  while (KillListed(dirs) > 0 && absl::Now() < deadline) {
    absl::SleepFor(kPollInterval);
  }
}

absl::Status FreezeV1(const std::string& dir) {
  const std::string state = dir + "/freezer.state";
  const absl::Time deadline = absl::Now() + kFreezeTimeout;
  absl::Time next_write = absl::InfinitePast();
  for (;;) {
    // Old kernels needed the write repeated to retry tasks that did not
    // freeze at once; it is harmless on new ones.
    if (absl::Now() >= next_write) {
      SBX_RETURN_IF_ERROR(WriteFile(state, "FROZEN"));
      next_write = absl::Now() + absl::Milliseconds(100);
    }
    SBX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(state));
    if (absl::StripAsciiWhitespace(text) == "FROZEN") return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(state, " still reads ", absl::StripAsciiWhitespace(text),
                       " after ", absl::FormatDuration(kFreezeTimeout)));
    }
    absl::SleepFor(kPollInterval);
  }
}

absl::Status FreezeV2(const std::string& dir) {
  const std::string freeze = dir + "/cgroup.freeze";
  const int error = WriteRaw(freeze, "1");
  if (error == ENOENT) {
    return absl::FailedPreconditionError(
        absl::StrCat(freeze,
                     " does not exist: the kernel has no cgroup v2 "
                     "freezer (it needs Linux 5.2)"));
  }
  if (error != 0) return WriteError(freeze, "1", error);
  const std::string events = dir + "/cgroup.events";
  const absl::Time deadline = absl::Now() + kFreezeTimeout;
  for (;;) {
    SBX_ASSIGN_OR_RETURN(auto values, ReadKeyValues(events));
    if (values["frozen"] == 1) return absl::OkStatus();
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat(events, " does not say frozen 1 after ",
                       absl::FormatDuration(kFreezeTimeout)));
    }
    absl::SleepFor(kPollInterval);
  }
}

// Kills everything in the cgroup directory `dir` (v1 or v2) and in its
// sub-cgroups, waits for it to empty and removes it. For RemoveStale, where
// only the directory is known.
bool DestroyTree(const std::string& dir, int depth = 0) {
  if (depth < 8) {
    for (const std::string& child : SubDirs(dir))
      DestroyTree(dir + "/" + child, depth + 1);
  }
  if (!IsEmpty(dir)) {
    if (WriteRaw(dir + "/cgroup.kill", "1") != 0) {
      // No cgroup.kill (v1, or v2 before 5.14): freeze, kill, thaw, as in
      // KillAll; thawing also after a failed freeze.
      const bool v1_freezer = PathExists(dir + "/freezer.state");
      const bool v2_freezer = !v1_freezer && PathExists(dir + "/cgroup.freeze");
      if (v1_freezer) (void)FreezeV1(dir);
      if (v2_freezer) (void)FreezeV2(dir);
      KillListed({dir});
      if (v1_freezer) (void)WriteRaw(dir + "/freezer.state", "THAWED");
      if (v2_freezer) (void)WriteRaw(dir + "/cgroup.freeze", "0");
      KillUntilEmpty({dir});
    }
    WaitEmpty({dir}, kEmptyTimeout);
  }
  const absl::Time deadline = absl::Now() + kRmdirTimeout;
  while (rmdir(dir.c_str()) != 0) {
    if (errno == ENOENT) return true;
    if (errno != EBUSY || absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
  return true;
}

// "sandbox-<pid>-<n>" -> pid; 0 for any other name.
pid_t SandboxPidOf(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, kSandboxPrefix)) return 0;
  std::vector<absl::string_view> parts = absl::StrSplit(name, '-');
  int pid = 0;
  uint64_t counter = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &pid) ||
      !absl::SimpleAtoi(parts[1], &counter) || pid <= 0) {
    return 0;
  }
  return pid;
}

std::string VersionName(CgroupVersion version) {
  switch (version) {
    case CgroupVersion::kV1:
      return "cgroup v1";
    case CgroupVersion::kV2:
      return "cgroup v2";
    case CgroupVersion::kNone:
      break;
  }
  return "none";
}

}  // namespace

// --- Cgroup --------------------------------------------------------------

// Where each controller of this sandbox lives: its directory and version
// ("" / kNone when not in use).
struct Cgroup::Impl {
  struct Placement {
    std::string dir;
    CgroupVersion version = CgroupVersion::kNone;
  };
  Placement memory, pids, cpu, cpuacct, freezer;
  std::string v2_dir;

  // CgroupLimits::watch_limits. limit_events is an epoll set of the
  // sources in use: pids.events (v2: POLLPRI on change; v1: looked at on
  // each tick of pids_timer) and v2 memory.events, both re-read through
  // these descriptors; v1 an eventfd the kernel signals at an OOM.
  UniqueFd limit_events;
  UniqueFd pids_events;
  UniqueFd pids_timer;
  UniqueFd memory_events;
  UniqueFd oom_notify;
  // v1: an OOM was notified and memory.oom_control confirmed it.
  bool oom_seen = false;

  // A reused cgroup's counters when this use began (see "Spares" in the
  // header): ReadUsage and LimitHit report what was added since. 0 for a
  // new cgroup.
  uint64_t oom_kill_base = 0;
  uint64_t pids_max_base = 0;
  // memory.max_usage_in_bytes right after its reset: what the previous
  // user left charged.
  uint64_t peak_base = 0;
  uint64_t user_ticks_base = 0;
  uint64_t system_ticks_base = 0;

  // Closes what WatchLimits opened.
  void StopWatching() {
    limit_events.reset();
    pids_events.reset();
    pids_timer.reset();
    memory_events.reset();
    oom_notify.reset();
    oom_seen = false;
  }

  absl::Status WatchLimits();
  bool LimitHit();
};

namespace {

// Makes sure `controllers` are enabled in the v2 subtree_control of
// `layout.v2_dir`, applying the no-internal-processes rule as described in
// the header.
absl::Status EnableV2Controllers(const CgroupLayout& layout,
                                 const std::vector<std::string>& controllers) {
  const std::string subtree = layout.v2_dir + "/cgroup.subtree_control";
  SBX_ASSIGN_OR_RETURN(std::string enabled_text, ReadSmallFile(subtree));
  const std::vector<std::string> enabled = absl::StrSplit(
      absl::StripAsciiWhitespace(enabled_text), ' ', absl::SkipEmpty());
  std::vector<std::string> missing;
  for (const std::string& c : controllers) {
    if (std::find(enabled.begin(), enabled.end(), c) == enabled.end()) {
      missing.push_back(c);
    }
  }
  if (missing.empty()) return absl::OkStatus();
  const std::string value = absl::StrCat("+", absl::StrJoin(missing, " +"));
  int error = WriteRaw(subtree, value);
  if (error == 0) return absl::OkStatus();
  if (error != EBUSY) {
    return PermissionAwareError(
        absl::StrCat("enabling ", absl::StrJoin(missing, ", "),
                     " for sandbox cgroups: write(", subtree, ", \"", value,
                     "\")"),
        error);
  }
  // EBUSY: our cgroup has processes of its own. Step aside into a leaf if
  // they are all ours: this process and its helpers (the fork server).
  const std::vector<pid_t> procs = ReadPids(layout.v2_dir);
  std::vector<pid_t> ours = HelperPids();
  ours.push_back(getpid());
  const size_t others = std::count_if(procs.begin(), procs.end(), [&](pid_t p) {
    return std::find(ours.begin(), ours.end(), p) == ours.end();
  });
  if (others != 0 || procs.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot enable ", absl::StrJoin(missing, ", "), " in ", subtree,
        ": cgroup v2 allows no controller-enabled children in a cgroup with "
        "processes of its own (the no-internal-processes rule), and ",
        layout.v2_dir, " holds ", others,
        " process(es) other than this one (pid ", getpid(),
        "); only when alone does this process step aside into ",
        kCgroupSupervisorLeaf,
        ". Start this program in a cgroup of its own (e.g. `systemd-run "
        "--scope -p Delegate=yes ...`) or move the other processes out of ",
        layout.v2_dir));
  }
  const std::string leaf =
      absl::StrCat(layout.v2_dir, "/", kCgroupSupervisorLeaf);
  if (mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) {
    return PermissionAwareError(absl::StrCat("mkdir(", leaf, ")"), errno);
  }
  for (pid_t pid : procs) {
    SBX_RETURN_IF_ERROR(WriteFile(leaf + "/cgroup.procs", absl::StrCat(pid)));
  }
  error = WriteRaw(subtree, value);
  if (error != 0) {
    return PermissionAwareError(
        absl::StrCat("enabling ", absl::StrJoin(missing, ", "),
                     " after moving this process into ", leaf, ": write(",
                     subtree, ", \"", value, "\")"),
        error);
  }
  return absl::OkStatus();
}

// --- The layout, as Create sees it ---------------------------------------

// ReadCgroupLayout checks every hierarchy (statfs, access, cgroup.controllers:
// some 35 system calls, ~140 us on the v1 CI machine). Create reuses its last
// result while /proc/self/cgroup, our mount namespace and effective ids are
// the same and the mount table has not changed (the descriptor its
// mountinfo was read through polls POLLPRI once it has: no re-read of a
// table that has hundreds of lines on some hosts), and only a result where
// every controller is a v1 hierarchy
// we may write (and v2, if mounted, writable too): a controller bound to a v1
// hierarchy cannot move to v2 without a change of mounts, and a stale result
// can only be too permissive — a directory that has become unwritable since
// still fails at its mkdir, with the kernel's errno. Other layouts (any v2
// controller) are read every time, as before.
struct LayoutCache {
  std::string key;  // effective ids, mount namespace, /proc/self/cgroup
  UniqueFd mountinfo;
  CgroupLayout layout;
};

bool MountsChanged(const UniqueFd& mountinfo) {
  pollfd changed = {mountinfo.get(), POLLPRI, 0};
  return poll(&changed, 1, 0) != 0;
}

absl::Mutex layout_mu(absl::kConstInit);

std::optional<LayoutCache>& CachedLayout()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(layout_mu) {
  static auto* cache = new std::optional<LayoutCache>();
  return *cache;
}

absl::StatusOr<CgroupLayout> CurrentLayout() ABSL_LOCKS_EXCLUDED(layout_mu) {
  SBX_ASSIGN_OR_RETURN(std::string cgroup, ReadSmallFile("/proc/self/cgroup"));
  struct stat mount_ns;
  if (stat("/proc/self/ns/mnt", &mount_ns) != 0) {
    return ErrnoStatus("stat(/proc/self/ns/mnt)");
  }
  std::string key =
      absl::StrCat(geteuid(), " ", getegid(), " ", mount_ns.st_dev, ":",
                   mount_ns.st_ino, "\n", cgroup);
  {
    absl::MutexLock lock(&layout_mu);
    std::optional<LayoutCache>& cached = CachedLayout();
    if (cached.has_value() && cached->key == key) {
      // The poll reports a change once: the cache goes with it.
      if (!MountsChanged(cached->mountinfo)) return cached->layout;
      cached.reset();
    }
  }
  // Opened before it is read: a change after this read polls.
  UniqueFd mountinfo_fd;
  SBX_ASSIGN_OR_RETURN(std::string mountinfo,
                       ReadSmallFile("/proc/self/mountinfo", &mountinfo_fd));
  CgroupLayout layout = internal::CgroupLayoutFrom(cgroup, mountinfo);
  bool cacheable = layout.v2_dir.empty() || layout.v2_writable;
  for (const CgroupControllerInfo& info : layout.controllers) {
    if (info.version != CgroupVersion::kV1 || !info.writable) {
      cacheable = false;
    }
  }
  if (cacheable) {
    absl::MutexLock lock(&layout_mu);
    CachedLayout() =
        LayoutCache{std::move(key), std::move(mountinfo_fd), layout};
  }
  return layout;
}

// --- Spares (see the header) ----------------------------------------------

struct Spare {
  std::string key;
  std::string parents;
  std::unique_ptr<Cgroup> cgroup;
};

struct SparePool {
  // The process whose spares these are.
  pid_t owner = 0;
  bool enabled = true;
  // exit() has begun: spares are no longer kept.
  bool closed = false;
  bool at_exit_registered = false;
  // Oldest first.
  std::deque<Spare> spares;
};

absl::Mutex spare_mu(absl::kConstInit);
std::atomic<uint64_t> spares_taken{0};
std::atomic<uint64_t> cgroups_made{0};
std::atomic<uint64_t> spares_kept{0};
std::atomic<uint64_t> spares_not_kept{0};

SparePool& RawPool() ABSL_EXCLUSIVE_LOCKS_REQUIRED(spare_mu) {
  static auto* pool = new SparePool();
  return *pool;
}

// The pool of this process. A forked child inherits its parent's spares,
// which are not its own to hand out or remove: it forgets them (spares hold
// no descriptors, only memory).
SparePool& OwnPool() ABSL_EXCLUSIVE_LOCKS_REQUIRED(spare_mu) {
  SparePool& pool = RawPool();
  if (pool.owner != getpid()) {
    for (Spare& spare : pool.spares) (void)spare.cgroup.release();
    pool.spares.clear();
    pool.owner = getpid();
    pool.closed = false;
  }
  return pool;
}

bool SparesEnabled() ABSL_LOCKS_EXCLUDED(spare_mu) {
  absl::MutexLock lock(&spare_mu);
  const SparePool& pool = OwnPool();
  return pool.enabled && !pool.closed;
}

// Runs at exit(): the spares are removed with the process.
void RemoveSparesAtExit() ABSL_LOCKS_EXCLUDED(spare_mu) {
  std::deque<Spare> doomed;
  {
    absl::MutexLock lock(&spare_mu);
    SparePool& pool = RawPool();
    if (pool.owner != getpid()) return;
    pool.closed = true;
    pool.spares.swap(doomed);
  }
}

// A spare for `key`, the most recently kept (warmest) first; null if none.
// Drops spares made under other parents (our cgroup has changed).
std::unique_ptr<Cgroup> TakeSpare(const std::string& key,
                                  const std::string& parents)
    ABSL_LOCKS_EXCLUDED(spare_mu) {
  std::unique_ptr<Cgroup> taken;
  std::vector<std::unique_ptr<Cgroup>> stale;
  absl::MutexLock lock(&spare_mu);
  SparePool& pool = OwnPool();
  for (auto it = pool.spares.begin(); it != pool.spares.end();) {
    if (it->parents != parents) {
      stale.push_back(std::move(it->cgroup));
      it = pool.spares.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = pool.spares.rbegin(); it != pool.spares.rend(); ++it) {
    if (it->key == key) {
      taken = std::move(it->cgroup);
      pool.spares.erase(std::next(it).base());
      break;
    }
  }
  return taken;  // `stale` goes after `lock`, unlocked
}

absl::Status PutSpare(const std::string& key, const std::string& parents,
                      std::unique_ptr<Cgroup> cgroup)
    ABSL_LOCKS_EXCLUDED(spare_mu) {
  std::unique_ptr<Cgroup> evicted;
  absl::MutexLock lock(&spare_mu);
  SparePool& pool = OwnPool();
  if (!pool.enabled || pool.closed) {
    return absl::FailedPreconditionError(
        "not kept as a spare: spares are disabled, or the process is "
        "exiting");
  }
  if (!pool.at_exit_registered) {
    // Inherited by forked children, where it finds no spares of theirs.
    if (atexit(RemoveSparesAtExit) != 0) {
      return absl::ResourceExhaustedError(
          "not kept as a spare: atexit() has no room to remove spares at "
          "exit");
    }
    pool.at_exit_registered = true;
  }
  if (pool.spares.size() >= static_cast<size_t>(kMaxSpareCgroups)) {
    evicted = std::move(pool.spares.front().cgroup);
    pool.spares.pop_front();
  }
  pool.spares.push_back({key, parents, std::move(cgroup)});
  return absl::OkStatus();  // `evicted` goes after `lock`, unlocked
}

absl::Status MissingController(const std::string& controller,
                               const CgroupLayout& layout) {
  std::string where;
  if (!layout.v2_dir.empty()) {
    where = absl::StrCat(
        " (our cgroup v2 directory ", layout.v2_dir, " lists only: ",
        layout.v2_controllers.empty()
            ? "nothing"
            : absl::StrJoin(layout.v2_controllers, " "),
        " in cgroup.controllers; the parent cgroup must enable it in its "
        "cgroup.subtree_control, and no cgroup v1 hierarchy for it is "
        "mounted)");
  } else {
    where = " (no cgroup2 mount and no cgroup v1 hierarchy for it is mounted)";
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "the cgroup controller '", controller,
      "' is not available to this process", where, "; ", kDelegationHint));
}

}  // namespace

absl::Status Cgroup::Impl::WatchLimits() {
  if (pids.version == CgroupVersion::kNone &&
      memory.version == CgroupVersion::kNone) {
    return absl::OkStatus();
  }
  UniqueFd epoll(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return ErrnoStatus("epoll_create1");
  auto watch = [&](const UniqueFd& fd, uint32_t events,
                   const std::string& what) -> absl::Status {
    struct epoll_event event = {};
    event.events = events;
    if (epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd.get(), &event) != 0) {
      return ErrnoStatus(absl::StrCat("epoll_ctl(ADD, ", what, ")"));
    }
    return absl::OkStatus();
  };
  auto open_file = [](const std::string& path, UniqueFd& fd) -> absl::Status {
    fd.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus(absl::StrCat("open(", path, ")"));
    // kernfs reports POLLPRI on a descriptor that has not read the file
    // yet: read it once, so that only a change wakes.
    RereadKeyValues(fd.get());
    return absl::OkStatus();
  };
  if (pids.version != CgroupVersion::kNone) {
    const std::string path = pids.dir + "/pids.events";
    SBX_RETURN_IF_ERROR(open_file(path, pids_events));
    if (pids.version == CgroupVersion::kV2) {
      SBX_RETURN_IF_ERROR(watch(pids_events, EPOLLPRI, path));
    } else {
      pids_timer.reset(
          timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
      if (!pids_timer.valid()) return ErrnoStatus("timerfd_create");
      struct itimerspec every = {};
      every.it_interval = absl::ToTimespec(kV1PidsEventsInterval);
      every.it_value = every.it_interval;
      if (timerfd_settime(pids_timer.get(), 0, &every, nullptr) != 0) {
        return ErrnoStatus("timerfd_settime");
      }
      SBX_RETURN_IF_ERROR(watch(pids_timer, EPOLLIN, "timerfd"));
    }
  }
  if (memory.version == CgroupVersion::kV2) {
    const std::string path = memory.dir + "/memory.events";
    SBX_RETURN_IF_ERROR(open_file(path, memory_events));
    SBX_RETURN_IF_ERROR(watch(memory_events, EPOLLPRI, path));
  } else if (memory.version == CgroupVersion::kV1) {
    oom_notify.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!oom_notify.valid()) return ErrnoStatus("eventfd");
    UniqueFd control;
    SBX_RETURN_IF_ERROR(open_file(memory.dir + "/memory.oom_control", control));
    // The kernel keeps the registration until the eventfd is closed.
    SBX_RETURN_IF_ERROR(
        WriteFile(memory.dir + "/cgroup.event_control",
                  absl::StrCat(oom_notify.get(), " ", control.get())));
    SBX_RETURN_IF_ERROR(watch(oom_notify, EPOLLIN, "eventfd"));
  }
  limit_events = std::move(epoll);
  return absl::OkStatus();
}

bool Cgroup::Impl::LimitHit() {
  uint64_t count = 0;
  if (pids_timer.valid()) {
    (void)!read(pids_timer.get(), &count, sizeof(count));
  }
  // The notification is the hit: the kernel sends it once reclaim has
  // failed, and clears under_oom before it has chosen a victim, so
  // memory.oom_control may not show it yet. The eventfd also fires when
  // the cgroup is removed, which is no OOM.
  if (oom_notify.valid() &&
      read(oom_notify.get(), &count, sizeof(count)) == sizeof(count) &&
      PathExists(memory.dir + "/memory.oom_control")) {
    oom_seen = true;
  }
  bool hit = oom_seen;
  // Both files are read whatever the other says: each read re-arms its
  // notification.
  if (pids_events.valid() &&
      RereadKeyValues(pids_events.get())["max"] > pids_max_base) {
    hit = true;
  }
  if (memory_events.valid() &&
      RereadKeyValues(memory_events.get())["oom_kill"] > 0) {
    hit = true;
  }
  return hit;
}

absl::StatusOr<std::unique_ptr<Cgroup>> Cgroup::Create(
    const CgroupLimits& limits) {
  if (!std::isfinite(limits.cpus) || limits.cpus < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cgroup cpus must be a finite number >= 0, not ", limits.cpus));
  }
  SBX_ASSIGN_OR_RETURN(CgroupLayout layout, CurrentLayout());

  std::vector<std::string> needed;
  if (limits.memory_bytes > 0) needed.push_back("memory");
  if (limits.pids > 0) needed.push_back("pids");
  if (limits.cpus > 0) needed.push_back("cpu");

  bool use_v2 = false;
  for (const std::string& controller : needed) {
    const CgroupControllerInfo& info = layout.Find(controller);
    if (info.version == CgroupVersion::kNone) {
      return MissingController(controller, layout);
    }
    if (!info.writable) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot create cgroups for the '", controller, "' controller (",
          VersionName(info.version), ") in ", info.own_dir,
          ": not writable by uid ", geteuid(), "; ", kDelegationHint));
    }
    if (info.version == CgroupVersion::kV2) use_v2 = true;
  }
  if (needed.empty()) {
    const CgroupControllerInfo& freezer = layout.Find("freezer");
    if (layout.v2_writable) {
      use_v2 = true;
    } else if (freezer.version != CgroupVersion::kV1 || !freezer.writable) {
      return absl::FailedPreconditionError(absl::StrCat(
          "no writable cgroup hierarchy to group the sandbox's processes "
          "in (cgroup v2: ",
          layout.v2_dir.empty() ? "not mounted" : layout.v2_dir,
          "; cgroup v1 freezer: ",
          freezer.own_dir.empty() ? "not mounted" : freezer.own_dir, "); ",
          kDelegationHint));
    }
  }

  std::vector<std::string> parents;
  if (use_v2) parents.push_back(layout.v2_dir);
  for (const CgroupControllerInfo& info : layout.controllers) {
    if (info.version == CgroupVersion::kV1) parents.push_back(info.own_dir);
  }
  const uint64_t cpu_quota = std::max<uint64_t>(
      kMinCpuQuotaUsec,
      static_cast<uint64_t>(std::llround(limits.cpus * kCpuPeriodUsec)));
  // v1 only: the limits and everything that decides which directories are
  // made (see "Spares" in the header).
  std::string spare_key;
  const std::string parents_text = absl::StrJoin(parents, ":");
  if (!use_v2) {
    spare_key =
        absl::StrCat(parents_text, "|freezer ", layout.Find("freezer").writable,
                     "|cpuacct ", layout.Find("cpuacct").writable, "|memory ",
                     limits.memory_bytes, "|swap ", limits.allow_swap, "|pids ",
                     limits.pids, "|cpu ", limits.cpus > 0 ? cpu_quota : 0);
    if (std::unique_ptr<Cgroup> spare = TakeSpare(spare_key, parents_text)) {
      ++spares_taken;
      spare->reused_ = true;
      spare->make_dirs_time_ = absl::ZeroDuration();
      spare->write_limits_time_ = absl::ZeroDuration();
      // On error the spare goes with `spare`.
      if (limits.watch_limits) SBX_RETURN_IF_ERROR(spare->impl_->WatchLimits());
      return spare;
    }
  }

  ++cgroups_made;
  const absl::Time start = absl::Now();
  std::unique_ptr<Cgroup> cgroup(new Cgroup);
  cgroup->impl_ = std::make_unique<Impl>();
  Impl& impl = *cgroup->impl_;
  // A name free in every hierarchy we may use: a crashed earlier process
  // with our pid may have left one behind.
  std::string name;
  for (;;) {
    name = absl::StrCat(kSandboxPrefix, getpid(), "-", sandbox_counter++);
    if (std::none_of(parents.begin(), parents.end(),
                     [&](const std::string& parent) {
                       return PathExists(absl::StrCat(parent, "/", name));
                     })) {
      break;
    }
  }

  // From here on, an early return destroys `cgroup`, which removes what was
  // made so far.
  auto make_dir =
      [&](const std::string& parent) -> absl::StatusOr<std::string> {
    const std::string dir = absl::StrCat(parent, "/", name);
    if (mkdir(dir.c_str(), 0755) != 0) {
      return PermissionAwareError(
          absl::StrCat("creating the sandbox cgroup (cgroup v2): mkdir(", dir,
                       ")"),
          errno);
    }
    cgroup->dirs_.push_back(dir);
    return dir;
  };

  if (use_v2) {
    std::vector<std::string> v2_needed;
    for (const std::string& controller : needed) {
      if (layout.Find(controller).version == CgroupVersion::kV2) {
        v2_needed.push_back(controller);
      }
    }
    SBX_RETURN_IF_ERROR(EnableV2Controllers(layout, v2_needed));
    SBX_ASSIGN_OR_RETURN(impl.v2_dir, make_dir(layout.v2_dir));
    const Impl::Placement v2{impl.v2_dir, CgroupVersion::kV2};
    for (const std::string& controller : v2_needed) {
      if (controller == "memory") impl.memory = v2;
      if (controller == "pids") impl.pids = v2;
      if (controller == "cpu") impl.cpu = v2;
    }
    impl.cpuacct = v2;
    impl.freezer = v2;
    cgroup->clone_into_fd_.reset(
        open(impl.v2_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup->clone_into_fd_.valid()) {
      return ErrnoStatus(absl::StrCat("open(", impl.v2_dir, ")"));
    }
  }

  // v1: one directory per hierarchy (co-mounted controllers share one).
  std::map<std::string, std::string> made;  // own_dir -> sandbox dir
  auto place_v1 = [&](const std::string& controller, bool optional,
                      Impl::Placement* placement) -> absl::Status {
    const CgroupControllerInfo& info = layout.Find(controller);
    if (info.version != CgroupVersion::kV1) return absl::OkStatus();
    if (optional && !info.writable) return absl::OkStatus();
    auto it = made.find(info.own_dir);
    if (it == made.end()) {
      const std::string dir = absl::StrCat(info.own_dir, "/", name);
      if (mkdir(dir.c_str(), 0755) != 0) {
        const int error = errno;
        if (optional && (error == EACCES || error == EPERM || error == EROFS)) {
          return absl::OkStatus();
        }
        return PermissionAwareError(
            absl::StrCat("creating the sandbox cgroup for the '", controller,
                         "' controller (cgroup v1): mkdir(", dir, ")"),
            error);
      }
      cgroup->dirs_.push_back(dir);
      it = made.emplace(info.own_dir, dir).first;
    }
    *placement = {it->second, CgroupVersion::kV1};
    return absl::OkStatus();
  };
  for (const std::string& controller : needed) {
    if (layout.Find(controller).version != CgroupVersion::kV1) continue;
    Impl::Placement* placement = controller == "memory" ? &impl.memory
                                 : controller == "pids" ? &impl.pids
                                                        : &impl.cpu;
    SBX_RETURN_IF_ERROR(place_v1(controller, /*optional=*/false, placement));
  }
  if (!use_v2) {
    SBX_RETURN_IF_ERROR(place_v1("freezer", /*optional=*/true, &impl.freezer));
    SBX_RETURN_IF_ERROR(place_v1("cpuacct", /*optional=*/true, &impl.cpuacct));
  }

  const absl::Time dirs_made = absl::Now();
  cgroup->make_dirs_time_ = dirs_made - start;

  // Limits, and what their files must read for the cgroup to be kept as a
  // spare: the kernel keeps memory limits in whole pages.
  auto& limit_files = cgroup->limit_files_;
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const std::string bytes_in_pages =
      absl::StrCat(limits.memory_bytes / page * page);
  if (impl.memory.version == CgroupVersion::kV2) {
    const std::string& dir = impl.memory.dir;
    SBX_RETURN_IF_ERROR(
        WriteFile(dir + "/memory.max", absl::StrCat(limits.memory_bytes)));
    if (!limits.allow_swap) {
      // Absent when the kernel does no swap accounting: then there is no
      // swap to cap per cgroup either.
      const int error = WriteRaw(dir + "/memory.swap.max", "0");
      if (error != 0 && error != ENOENT) {
        return WriteError(dir + "/memory.swap.max", "0", error);
      }
    }
  } else if (impl.memory.version == CgroupVersion::kV1) {
    const std::string& dir = impl.memory.dir;
    const std::string bytes = absl::StrCat(limits.memory_bytes);
    SBX_RETURN_IF_ERROR(WriteFile(dir + "/memory.limit_in_bytes", bytes));
    limit_files.emplace_back(dir + "/memory.limit_in_bytes", bytes_in_pages);
    const std::string memsw = dir + "/memory.memsw.limit_in_bytes";
    if (!limits.allow_swap && PathExists(memsw)) {
      SBX_RETURN_IF_ERROR(WriteFile(memsw, bytes));
      limit_files.emplace_back(memsw, bytes_in_pages);
    }
    // v1 does not charge socket buffers to memory.limit_in_bytes: a sandbox
    // could hold hundreds of MiB in loopback TCP buffers beyond its cap.
    // Setting the TCP limit turns their accounting on, capped the same.
    // (v2 charges socket memory to memory.current by default.)
    const std::string tcp = dir + "/memory.kmem.tcp.limit_in_bytes";
    if (PathExists(tcp)) {
      SBX_RETURN_IF_ERROR(WriteFile(tcp, bytes));
      limit_files.emplace_back(tcp, bytes_in_pages);
    }
  }
  if (impl.pids.version != CgroupVersion::kNone) {
    SBX_RETURN_IF_ERROR(
        WriteFile(impl.pids.dir + "/pids.max", absl::StrCat(limits.pids)));
    limit_files.emplace_back(impl.pids.dir + "/pids.max",
                             absl::StrCat(limits.pids));
  }
  if (impl.cpu.version != CgroupVersion::kNone) {
    const uint64_t quota = cpu_quota;
    if (impl.cpu.version == CgroupVersion::kV2) {
      SBX_RETURN_IF_ERROR(WriteFile(impl.cpu.dir + "/cpu.max",
                                    absl::StrCat(quota, " ", kCpuPeriodUsec)));
    } else {
      SBX_RETURN_IF_ERROR(WriteFile(impl.cpu.dir + "/cpu.cfs_period_us",
                                    absl::StrCat(kCpuPeriodUsec)));
      SBX_RETURN_IF_ERROR(
          WriteFile(impl.cpu.dir + "/cpu.cfs_quota_us", absl::StrCat(quota)));
      limit_files.emplace_back(impl.cpu.dir + "/cpu.cfs_period_us",
                               absl::StrCat(kCpuPeriodUsec));
      limit_files.emplace_back(impl.cpu.dir + "/cpu.cfs_quota_us",
                               absl::StrCat(quota));
      // Not ours to set, but a sandbox that raised it would take more than
      // its share next time: the kernel's default.
      limit_files.emplace_back(impl.cpu.dir + "/cpu.shares", "1024");
    }
  }
  cgroup->write_limits_time_ = absl::Now() - dirs_made;
  if (limits.watch_limits) SBX_RETURN_IF_ERROR(impl.WatchLimits());
  cgroup->spare_key_ = std::move(spare_key);
  cgroup->parents_ = parents_text;
  return cgroup;
}

absl::Status Cgroup::CleanForReuse() {
  Impl& impl = *impl_;
  impl.StopWatching();
  // A spare holds no descriptor: the next user opens its own.
  v1_tasks_fds_.clear();
  v1_tasks_opened_ = false;
  // Usually the sandbox's processes are gone already. Killed ones take a
  // moment to go; one that does not (stuck in the kernel, or frozen in
  // another freezer cgroup) keeps the cgroup from being kept.
  if (!AllEmpty(dirs_)) {
    SBX_RETURN_IF_ERROR(KillAll());
    if (!WaitEmpty(dirs_, kReuseEmptyTimeout)) {
      for (const std::string& dir : dirs_) {
        const std::vector<pid_t> pids = ReadPids(dir);
        if (!pids.empty()) {
          return absl::FailedPreconditionError(absl::StrCat(
              "not kept as a spare: ", dir, "/cgroup.procs still lists ",
              pids.size(), " process(es) (pid ", pids[0], ") ",
              absl::FormatDuration(kReuseEmptyTimeout), " after SIGKILL"));
        }
      }
    }
  }
  for (const std::string& dir : dirs_) {
    // A cgroup directory's link count is 2 plus its child cgroups.
    struct stat st;
    if (stat(dir.c_str(), &st) != 0) {
      return ErrnoStatus(absl::StrCat("not kept as a spare: stat(", dir, ")"));
    }
    if (st.st_nlink != 2) {
      return absl::FailedPreconditionError(
          absl::StrCat("not kept as a spare: ", dir, " has ", st.st_nlink - 2,
                       " child cgroup(s)"));
    }
  }
  if (impl.freezer.version == CgroupVersion::kV1) {
    const std::string state = impl.freezer.dir + "/freezer.state";
    SBX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(state));
    if (absl::StripAsciiWhitespace(text) != "THAWED") {
      return absl::FailedPreconditionError(
          absl::StrCat("not kept as a spare: ", state, " reads '",
                       absl::StripAsciiWhitespace(text), "'"));
    }
  }
  for (const auto& [path, expected] : limit_files_) {
    SBX_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path));
    if (absl::StripAsciiWhitespace(text) != expected) {
      return absl::FailedPreconditionError(
          absl::StrCat("not kept as a spare: ", path, " reads '",
                       absl::StripAsciiWhitespace(text), "', not the '",
                       expected, "' written at creation"));
    }
  }
  if (impl.memory.version == CgroupVersion::kV1) {
    const std::string& dir = impl.memory.dir;
    SBX_ASSIGN_OR_RETURN(auto oom, ReadKeyValues(dir + "/memory.oom_control"));
    if (oom["oom_kill_disable"] != 0 || oom["under_oom"] != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "not kept as a spare: ", dir, "/memory.oom_control says oom_kill_",
          "disable ", oom["oom_kill_disable"], ", under_oom ",
          oom["under_oom"]));
    }
    // Page cache and kernel objects the last user left stay charged here
    // and would shrink the next one's room: only a little may stay.
    // memory.force_empty reclaims what it can, at the price of draining
    // every CPU's page lists (milliseconds), so only when needed.
    const std::string usage_file = dir + "/memory.usage_in_bytes";
    SBX_ASSIGN_OR_RETURN(uint64_t usage, ReadNumber(usage_file));
    if (usage > kMaxResidualBytes) {
      SBX_RETURN_IF_ERROR(WriteFile(dir + "/memory.force_empty", "0"));
      SBX_ASSIGN_OR_RETURN(usage, ReadNumber(usage_file));
      // Kernel objects of processes that just died (task structs, stacks)
      // are freed after an RCU grace period: a moment more.
      for (const absl::Time deadline = absl::Now() + kResidualWait;
           usage > kMaxResidualBytes && absl::Now() < deadline;) {
        absl::SleepFor(kPollInterval * 5);
        SBX_ASSIGN_OR_RETURN(usage, ReadNumber(usage_file));
      }
      if (usage > kMaxResidualBytes) {
        return absl::FailedPreconditionError(absl::StrCat(
            "not kept as a spare: ", usage_file, " reads ", usage,
            " after memory.force_empty (more than ", kMaxResidualBytes, ")"));
      }
    }
    // Writing resets them: the peak to what is charged now.
    SBX_RETURN_IF_ERROR(WriteFile(dir + "/memory.max_usage_in_bytes", "0"));
    SBX_RETURN_IF_ERROR(WriteFile(dir + "/memory.failcnt", "0"));
    SBX_ASSIGN_OR_RETURN(impl.peak_base,
                         ReadNumber(dir + "/memory.max_usage_in_bytes"));
    impl.oom_kill_base = oom["oom_kill"];
  }
  if (impl.pids.version == CgroupVersion::kV1) {
    SBX_ASSIGN_OR_RETURN(auto events,
                         ReadKeyValues(impl.pids.dir + "/pids.events"));
    impl.pids_max_base = events["max"];
  }
  if (impl.cpuacct.version == CgroupVersion::kV1) {
    // Not reset through cpuacct.usage: cpuacct.stat would then read the old
    // values until the new usage passed them (the kernel keeps user and
    // system time from going backwards).
    SBX_ASSIGN_OR_RETURN(auto stat,
                         ReadKeyValues(impl.cpuacct.dir + "/cpuacct.stat"));
    impl.user_ticks_base = stat["user"];
    impl.system_ticks_base = stat["system"];
  }
  reused_ = false;
  return absl::OkStatus();
}

absl::Status Cgroup::Release(std::unique_ptr<Cgroup> cgroup) {
  if (cgroup == nullptr) return absl::OkStatus();
  absl::Status kept = Keep(std::move(cgroup));
  ++(kept.ok() ? spares_kept : spares_not_kept);
  return kept;
}

Cgroup::SpareCounts Cgroup::spare_counts() {
  return {.taken = spares_taken,
          .made = cgroups_made,
          .kept = spares_kept,
          .not_kept = spares_not_kept};
}

absl::Status Cgroup::Keep(std::unique_ptr<Cgroup> cgroup) {
  if (cgroup->spare_key_.empty()) {
    return absl::FailedPreconditionError(
        "not kept as a spare: a cgroup v2 cgroup (only v1 cgroups are kept)");
  }
  if (!SparesEnabled()) {
    return absl::FailedPreconditionError(
        "not kept as a spare: spares are disabled");
  }
  // On error the cgroup is destroyed with `cgroup`.
  SBX_RETURN_IF_ERROR(cgroup->CleanForReuse());
  const std::string key = cgroup->spare_key_;
  const std::string parents = cgroup->parents_;
  return PutSpare(key, parents, std::move(cgroup));
}

int Cgroup::RemoveSpares() {
  std::deque<Spare> doomed;
  {
    absl::MutexLock lock(&spare_mu);
    OwnPool().spares.swap(doomed);
  }
  return static_cast<int>(doomed.size());
}

void Cgroup::SetSparesEnabled(bool enabled) {
  {
    absl::MutexLock lock(&spare_mu);
    OwnPool().enabled = enabled;
  }
  if (!enabled) RemoveSpares();
}

Cgroup::~Cgroup() {
  if (dirs_.empty()) return;
  (void)KillAll();
  if (!WaitEmpty(dirs_, kEmptyTimeout)) {
    // Killed but not gone (e.g. stuck in the kernel): try once more, then
    // leave the rest to RemoveStale.
    KillUntilEmpty(dirs_);
  }
  clone_into_fd_.reset();
  // With the descriptors of its files (limit events) before the
  // directories go.
  impl_.reset();
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const absl::Time deadline = absl::Now() + kRmdirTimeout;
    while (rmdir(it->c_str()) != 0 && errno == EBUSY &&
           absl::Now() < deadline) {
      absl::SleepFor(kPollInterval);
    }
  }
}

void Cgroup::RegisterHelperProcess(pid_t pid) {
  absl::MutexLock lock(&helper_mu);
  HelperPidList().push_back(pid);
}

void Cgroup::UnregisterHelperProcess(pid_t pid) {
  absl::MutexLock lock(&helper_mu);
  auto& pids = HelperPidList();
  pids.erase(std::remove(pids.begin(), pids.end(), pid), pids.end());
}

int Cgroup::limit_events_fd() const { return impl_->limit_events.get(); }

bool Cgroup::LimitHit() { return impl_->LimitHit(); }

absl::Status Cgroup::AddProcess(pid_t pid, bool v1_attached) {
  const std::string value = absl::StrCat(pid);
  for (const std::string& dir : dirs_) {
    if (v1_attached && dir != impl_->v2_dir) continue;
    SBX_RETURN_IF_ERROR(WriteFile(dir + "/cgroup.procs", value));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> Cgroup::V1TasksFds() {
  if (!v1_tasks_opened_) {
    for (const std::string& dir : dirs_) {
      if (dir == impl_->v2_dir) continue;
      const std::string path = dir + "/tasks";
      UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
      if (!fd.valid()) {
        v1_tasks_fds_.clear();
        return ErrnoStatus(absl::StrCat("open(", path, ")"));
      }
      v1_tasks_fds_.push_back(std::move(fd));
    }
    v1_tasks_opened_ = true;
  }
  std::vector<int> fds;
  for (const UniqueFd& fd : v1_tasks_fds_) fds.push_back(fd.get());
  return fds;
}

absl::StatusOr<CgroupUsage> Cgroup::ReadUsage() const {
  CgroupUsage usage;
  const Impl& impl = *impl_;
  if (impl.memory.version == CgroupVersion::kV2) {
    SBX_ASSIGN_OR_RETURN(auto events,
                         ReadKeyValues(impl.memory.dir + "/memory.events"));
    usage.memory_limit_hit = events["oom_kill"] > 0;
    // memory.peak is Linux 5.19+.
    absl::StatusOr<uint64_t> peak =
        ReadNumber(impl.memory.dir + "/memory.peak");
    if (peak.ok()) {
      usage.peak_memory_bytes = *peak;
    } else if (!absl::IsNotFound(peak.status())) {
      return peak.status();
    }
  } else if (impl.memory.version == CgroupVersion::kV1) {
    SBX_ASSIGN_OR_RETURN(
        auto oom, ReadKeyValues(impl.memory.dir + "/memory.oom_control"));
    if (oom.count("oom_kill") > 0) {
      usage.memory_limit_hit = oom["oom_kill"] > impl.oom_kill_base;
    } else {
      // Before Linux 4.13 there is no OOM-kill counter: hitting the limit
      // (failcnt) is the best sign left.
      SBX_ASSIGN_OR_RETURN(uint64_t failcnt,
                           ReadNumber(impl.memory.dir + "/memory.failcnt"));
      usage.memory_limit_hit = failcnt > 0;
    }
    usage.memory_limit_hit = usage.memory_limit_hit || impl.oom_seen;
    SBX_ASSIGN_OR_RETURN(
        const uint64_t peak,
        ReadNumber(impl.memory.dir + "/memory.max_usage_in_bytes"));
    usage.peak_memory_bytes = peak > impl.peak_base ? peak - impl.peak_base : 0;
  }
  if (impl.pids.version != CgroupVersion::kNone) {
    SBX_ASSIGN_OR_RETURN(auto events,
                         ReadKeyValues(impl.pids.dir + "/pids.events"));
    usage.pids_limit_hit = events["max"] > impl.pids_max_base;
  }
  if (impl.cpuacct.version == CgroupVersion::kV2) {
    SBX_ASSIGN_OR_RETURN(auto stat,
                         ReadKeyValues(impl.cpuacct.dir + "/cpu.stat"));
    if (stat.count("user_usec") > 0 && stat.count("system_usec") > 0) {
      usage.user_cpu_seconds = stat["user_usec"] / 1e6;
      usage.system_cpu_seconds = stat["system_usec"] / 1e6;
    }
  } else if (impl.cpuacct.version == CgroupVersion::kV1) {
    SBX_ASSIGN_OR_RETURN(auto stat,
                         ReadKeyValues(impl.cpuacct.dir + "/cpuacct.stat"));
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    if (ticks > 0 && stat.count("user") > 0 && stat.count("system") > 0) {
      // A counter below its baseline (none of the kernels we know) reads 0.
      auto since = [](uint64_t now, uint64_t base) {
        return now > base ? now - base : 0;
      };
      usage.user_cpu_seconds =
          since(stat["user"], impl.user_ticks_base) / ticks;
      usage.system_cpu_seconds =
          since(stat["system"], impl.system_ticks_base) / ticks;
    }
  }
  return usage;
}

absl::Status Cgroup::Freeze() {
  switch (impl_->freezer.version) {
    case CgroupVersion::kV2:
      return FreezeV2(impl_->freezer.dir);
    case CgroupVersion::kV1:
      return FreezeV1(impl_->freezer.dir);
    case CgroupVersion::kNone:
      break;
  }
  return absl::FailedPreconditionError(
      "no cgroup freezer for this sandbox: no cgroup v1 freezer hierarchy is "
      "mounted (or it is not writable)");
}

absl::Status Cgroup::Thaw() {
  switch (impl_->freezer.version) {
    case CgroupVersion::kV2: {
      const std::string freeze = impl_->freezer.dir + "/cgroup.freeze";
      const int error = WriteRaw(freeze, "0");
      if (error == ENOENT) {
        return absl::FailedPreconditionError(absl::StrCat(
            freeze, " does not exist: the kernel has no cgroup v2 freezer"));
      }
      if (error != 0) return WriteError(freeze, "0", error);
      return absl::OkStatus();
    }
    case CgroupVersion::kV1:
      return WriteFile(impl_->freezer.dir + "/freezer.state", "THAWED");
    case CgroupVersion::kNone:
      break;
  }
  return absl::FailedPreconditionError(
      "no cgroup freezer for this sandbox: no cgroup v1 freezer hierarchy is "
      "mounted (or it is not writable)");
}

absl::Status Cgroup::KillAll() {
  if (!impl_->v2_dir.empty()) {
    const std::string kill_file = impl_->v2_dir + "/cgroup.kill";
    const int error = WriteRaw(kill_file, "1");
    if (error == 0) return absl::OkStatus();
    if (error != ENOENT) return WriteError(kill_file, "1", error);
    // Before Linux 5.14: fall through to freeze, kill, thaw.
  }
  if (AllEmpty(dirs_)) return absl::OkStatus();
  absl::Status status;
  const bool have_freezer = impl_->freezer.version != CgroupVersion::kNone;
  if (have_freezer) status = Freeze();
  KillListed(dirs_);
  if (have_freezer) {
    // Thaw even after a failed (timed out) freeze: killed tasks die only
    // once thawed.
    absl::Status thawed = Thaw();
    if (status.ok()) status = thawed;
  }
  if (!have_freezer || !status.ok()) KillUntilEmpty(dirs_);
  return status;
}

int Cgroup::RemoveStale() {
  absl::StatusOr<CgroupLayout> layout = ReadCgroupLayout();
  if (!layout.ok()) return 0;
  std::vector<std::string> parents;
  for (const CgroupControllerInfo& info : layout->controllers) {
    if (!info.own_dir.empty() && std::find(parents.begin(), parents.end(),
                                           info.own_dir) == parents.end()) {
      parents.push_back(info.own_dir);
    }
  }
  if (!layout->v2_dir.empty() && std::find(parents.begin(), parents.end(),
                                           layout->v2_dir) == parents.end()) {
    parents.push_back(layout->v2_dir);
  }
  int removed = 0;
  for (const std::string& parent : parents) {
    for (const std::string& name : SubDirs(parent)) {
      const pid_t pid = SandboxPidOf(name);
      if (pid == 0) continue;
      if (kill(pid, 0) == 0 || errno != ESRCH) continue;
      if (DestroyTree(parent + "/" + name)) ++removed;
    }
  }
  return removed;
}

}  // namespace sandbox
