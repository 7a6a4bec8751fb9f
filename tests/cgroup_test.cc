// Cgroup on the real kernel: detection, memory/pids/cpu caps, freezer,
// KillAll, cleanup, RemoveStale, unprivileged refusal and delegation.
//
// The same binary runs on a cgroup v1 (or hybrid) host and on a pure cgroup
// v2 host, as root and as an unprivileged user; a test skips (loudly) only
// when the kernel layout it is about is not there.

#include "sandbox/internal/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/internal/cgroup_detect.h"
#include "sandbox/internal/kernel_abi.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::IsOk;
using ::sandbox::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uid_t kNobody = 65534;

bool IsRoot() { return geteuid() == 0; }

// --- Helpers -------------------------------------------------------------

std::string ReadText(const std::string& path) {
  std::string text;
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd.get(), buffer, sizeof(buffer))) > 0)
    text.append(buffer, n);
  return text;
}

bool WriteText(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  return fd.valid() && write(fd.get(), value.data(), value.size()) ==
                           static_cast<ssize_t>(value.size());
}

bool PathExists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

std::vector<pid_t> Procs(const std::string& dir) {
  std::vector<pid_t> pids;
  for (absl::string_view line :
       absl::StrSplit(ReadText(dir + "/cgroup.procs"), '\n')) {
    int pid;
    if (absl::SimpleAtoi(line, &pid)) pids.push_back(pid);
  }
  return pids;
}

CgroupControllerInfo Info(const std::string& controller) {
  absl::StatusOr<std::vector<CgroupControllerInfo>> infos = DetectCgroups();
  if (infos.ok()) {
    for (const CgroupControllerInfo& info : *infos) {
      if (info.controller == controller) return info;
    }
  }
  return CgroupControllerInfo{};
}

bool AnyControllerIs(CgroupVersion version) {
  for (const char* c : {"memory", "pids", "cpu"}) {
    if (Info(c).version == version) return true;
  }
  return false;
}

// The directory among `dirs` that has `file`, "" if none.
std::string DirWith(const Cgroup& cgroup, const std::string& file) {
  for (const std::string& dir : cgroup.dirs()) {
    if (PathExists(dir + "/" + file)) return dir;
  }
  return "";
}

std::string DescribeWait(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

// Touches `bytes` of fresh anonymous memory, page by page.
void TouchMemory(uint64_t bytes) {
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) _exit(120);
  volatile char* p = static_cast<volatile char*>(memory);
  for (uint64_t i = 0; i < bytes; i += 4096) p[i] = 1;
}

// A forked child that waits until Release() before running `body`, so
// that the parent can put it into a cgroup first. Killed and reaped on
// destruction if still running.
class Child {
 public:
  explicit Child(std::function<int()> body) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    UniqueFd read_end(fds[0]);
    release_.reset(fds[1]);
    pid_ = fork();
    if (pid_ == 0) {
      release_.reset();
      char byte;
      if (read(read_end.get(), &byte, 1) != 1) _exit(99);
      _exit(body());
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  pid_t pid() const { return pid_; }
  bool Release() {
    const bool ok = write(release_.get(), "x", 1) == 1;
    release_.reset();
    return ok;
  }
  // The wait status, or -1 if it did not end within `timeout` (then it is
  // killed).
  int Wait(absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (absl::Now() >= deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        reaped_ = true;
        return -1;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd release_;
};

// Reaps orphaned grandchildren (we are a child subreaper, see Environment),
// waiting up to `timeout` for `count` of them.
void ReapOrphans(int count = 0, absl::Duration timeout = absl::ZeroDuration()) {
  const absl::Time deadline = absl::Now() + timeout;
  int reaped = 0;
  for (;;) {
    const pid_t pid = waitpid(-1, nullptr, WNOHANG);
    if (pid > 0) {
      ++reaped;
      continue;
    }
    if (pid < 0 || reaped >= count || absl::Now() >= deadline) return;
    absl::SleepFor(absl::Milliseconds(2));
  }
}

// Grandchildren of killed children come back to us, so that tests can
// check how they died and nothing is left to the host's init.
class SubreaperEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { prctl(PR_SET_CHILD_SUBREAPER, 1); }
};
const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new SubreaperEnvironment);

// Why Create may fail here without that being a bug, "" if it must work:
// unprivileged without a delegated cgroup (UnprivilegedWithoutDelegation-
// FailsClearly checks that error), or a needed controller missing from the
// kernel. As root with the controllers present, a failure is a failure.
std::string SkipReason(const CgroupLimits& limits, const absl::Status& status) {
  const std::pair<const char*, bool> needs[] = {
      {"memory", limits.memory_bytes > 0},
      {"pids", limits.pids > 0},
      {"cpu", limits.cpus > 0}};
  for (const auto& [controller, needed] : needs) {
    if (needed && Info(controller).version == CgroupVersion::kNone) {
      return absl::StrCat("the kernel offers no ", controller,
                          " cgroup controller to this process");
    }
  }
  if (!IsRoot() && absl::IsFailedPrecondition(status)) {
    return absl::StrCat(
        "unprivileged without a delegated cgroup (the root run covers this "
        "test; UnprivilegedWithoutDelegationFailsClearly checks the error): ",
        status.ToString());
  }
  return "";
}

#define CREATE_OR_SKIP(var, ...)                                           \
  std::unique_ptr<Cgroup> var;                                             \
  {                                                                        \
    absl::StatusOr<std::unique_ptr<Cgroup>> created_ =                     \
        Cgroup::Create(__VA_ARGS__);                                       \
    if (!created_.ok()) {                                                  \
      const std::string why_ = SkipReason(__VA_ARGS__, created_.status()); \
      if (!why_.empty()) GTEST_SKIP() << why_;                             \
    }                                                                      \
    ASSERT_THAT(created_, IsOk());                                         \
    var = std::move(created_).value();                                     \
  }

// Removes the cgroup `dir` and its sub-cgroups (test scaffolding).
void RemoveCgroupTree(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> children;
  while (struct dirent* e = readdir(d)) {
    if (e->d_type == DT_DIR && e->d_name[0] != '.') {
      children.push_back(dir + "/" + e->d_name);
    }
  }
  closedir(d);
  for (const std::string& child : children) RemoveCgroupTree(child);
  const absl::Time deadline = absl::Now() + absl::Seconds(2);
  while (rmdir(dir.c_str()) != 0 && errno == EBUSY && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
}

class CgroupTest : public ::testing::Test {
 protected:
  void TearDown() override { ReapOrphans(); }
};

// --- Detection -----------------------------------------------------------

// Mount point of the cgroup (v1) mount with `controller`, from /proc/mounts
// (a different file from the one the library reads).
std::string V1MountPoint(const std::string& controller) {
  for (absl::string_view line :
       absl::StrSplit(ReadText("/proc/mounts"), '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() < 4 || f[2] != "cgroup") continue;
    std::vector<std::string> options = absl::StrSplit(f[3], ',');
    if (std::find(options.begin(), options.end(), controller) != options.end())
      return f[1];
  }
  return "";
}

std::string V2MountPoint() {
  for (absl::string_view line :
       absl::StrSplit(ReadText("/proc/mounts"), '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() >= 3 && f[2] == "cgroup2") return f[1];
  }
  return "";
}

std::string ProcCgroupPath(const std::string& controller) {
  for (absl::string_view line :
       absl::StrSplit(ReadText("/proc/self/cgroup"), '\n')) {
    std::vector<std::string> f = absl::StrSplit(line, absl::MaxSplits(':', 2));
    if (f.size() != 3) continue;
    std::vector<std::string> names = absl::StrSplit(f[1], ',');
    if (std::find(names.begin(), names.end(), controller) != names.end())
      return f[2];
  }
  return "";
}

TEST_F(CgroupTest, DetectionReportsVerifiedHierarchies) {
  absl::StatusOr<std::vector<CgroupControllerInfo>> infos = DetectCgroups();
  ASSERT_THAT(infos, IsOk());
  std::vector<std::string> names;
  for (const CgroupControllerInfo& info : *infos) {
    names.push_back(info.controller);
    if (info.version == CgroupVersion::kNone) {
      EXPECT_EQ(info.own_dir, "") << info.controller;
      continue;
    }
    struct statfs fs;
    ASSERT_EQ(statfs(info.own_dir.c_str(), &fs), 0) << info.own_dir;
    EXPECT_EQ(static_cast<int64_t>(fs.f_type),
              info.version == CgroupVersion::kV1 ? CGROUP_SUPER_MAGIC
                                                 : CGROUP2_SUPER_MAGIC)
        << info.controller << " at " << info.own_dir;
    if (IsRoot()) {
      EXPECT_TRUE(info.writable) << info.own_dir;
    }
  }
  EXPECT_THAT(names, ::testing::ElementsAre("memory", "pids", "cpu", "cpuacct",
                                            "freezer"));

  // Independently: a controller in a v1 hierarchy that the v2 cgroup does
  // not list must be reported as v1, at <mount point><our path>.
  const std::string v2_controllers = [] {
    for (absl::string_view line :
         absl::StrSplit(ReadText("/proc/mounts"), '\n')) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      if (f.size() >= 3 && f[2] == "cgroup2") {
        std::string path;
        for (absl::string_view l :
             absl::StrSplit(ReadText("/proc/self/cgroup"), '\n')) {
          if (absl::ConsumePrefix(&l, "0::")) path = std::string(l);
        }
        if (absl::EndsWith(path, "/sandbox-supervisor")) {
          path.resize(path.size() - strlen("/sandbox-supervisor"));
        }
        return ReadText(f[1] + (path == "/" ? "" : path) +
                        "/cgroup.controllers");
      }
    }
    return std::string();
  }();
  int checked = 0;
  for (const char* c : {"memory", "pids", "cpu"}) {
    const std::vector<std::string> v2 =
        absl::StrSplit(absl::StripAsciiWhitespace(v2_controllers), ' ');
    const bool in_v2 = std::find(v2.begin(), v2.end(), c) != v2.end();
    const std::string mount = V1MountPoint(c);
    const std::string path = ProcCgroupPath(c);
    if (in_v2) {
      EXPECT_EQ(Info(c).version, CgroupVersion::kV2) << c;
      ++checked;
    } else if (!mount.empty() && !path.empty()) {
      EXPECT_EQ(Info(c).version, CgroupVersion::kV1) << c;
      EXPECT_EQ(Info(c).own_dir, path == "/" ? mount : mount + path) << c;
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no memory/pids/cpu controller at all";
}

// Builds a one-line mountinfo claiming a cgroup mount at `dir`.
std::string FakeMountInfo(const std::string& dir, const std::string& fstype,
                          const std::string& options) {
  return absl::StrCat("35 31 0:32 / ", dir, " rw,relatime - ", fstype, " ",
                      fstype, " ", options, "\n");
}

TEST_F(CgroupTest, DetectionNeverTrustsAPlainDirectory) {
  // A plain directory made to look like a cgroup, as on a hybrid host's
  // tmpfs /sys/fs/cgroup.
  char dir_template[] = "/tmp/cgroup_test_fake.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string fake = dir_template;
  ASSERT_TRUE(WriteText(fake + "/cgroup.procs", "") ||
              close(open((fake + "/cgroup.procs").c_str(),
                         O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0);
  {
    UniqueFd f(open((fake + "/cgroup.controllers").c_str(),
                    O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    ASSERT_TRUE(f.valid());
    ASSERT_EQ(write(f.get(), "memory pids cpu\n", 16), 16);
  }
  ASSERT_TRUE(PathExists(fake + "/cgroup.procs"));

  auto version_of = [](const std::vector<CgroupControllerInfo>& infos,
                       const std::string& c) {
    for (const CgroupControllerInfo& info : infos) {
      if (info.controller == c) return info.version;
    }
    return CgroupVersion::kNone;
  };
  EXPECT_EQ(version_of(
                internal::DetectCgroupsFrom(
                    "4:memory:/\n", FakeMountInfo(fake, "cgroup", "rw,memory")),
                "memory"),
            CgroupVersion::kNone);
  EXPECT_EQ(version_of(internal::DetectCgroupsFrom(
                           "0::/\n", FakeMountInfo(fake, "cgroup2", "rw")),
                       "memory"),
            CgroupVersion::kNone);
  // /sys/fs/cgroup itself is a tmpfs on hybrid hosts (cgroup2 on pure v2
  // ones, which is not v1 either).
  EXPECT_EQ(
      version_of(internal::DetectCgroupsFrom(
                     "4:memory:/\n",
                     FakeMountInfo("/sys/fs/cgroup", "cgroup", "rw,memory")),
                 "memory"),
      CgroupVersion::kNone);

  unlink((fake + "/cgroup.procs").c_str());
  unlink((fake + "/cgroup.controllers").c_str());
  rmdir(fake.c_str());

  // The control: the same kind of text pointing at the real hierarchy is
  // accepted, so the refusals above are the statfs check at work.
  const std::string real_v1 = V1MountPoint("memory");
  const std::string real_v2 = V2MountPoint();
  if (!real_v1.empty()) {
    const std::vector<CgroupControllerInfo> infos = internal::DetectCgroupsFrom(
        "4:memory:/\n", FakeMountInfo(real_v1, "cgroup", "rw,memory"));
    EXPECT_EQ(version_of(infos, "memory"), CgroupVersion::kV1);
    EXPECT_EQ(infos[0].own_dir, real_v1);
  } else if (!real_v2.empty() &&
             absl::StrContains(ReadText(real_v2 + "/cgroup.controllers"),
                               "memory")) {
    const std::vector<CgroupControllerInfo> infos = internal::DetectCgroupsFrom(
        "0::/\n", FakeMountInfo(real_v2, "cgroup2", "rw"));
    EXPECT_EQ(version_of(infos, "memory"), CgroupVersion::kV2);
    EXPECT_EQ(infos[0].own_dir, real_v2);
  } else {
    GTEST_SKIP() << "no memory cgroup hierarchy for the positive control";
  }
}

TEST_F(CgroupTest, RejectsBadCpus) {
  EXPECT_THAT(Cgroup::Create({.cpus = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cpus")));
}

// --- Limits --------------------------------------------------------------

TEST_F(CgroupTest, WritesLimitsToTheKernelFiles) {
  CREATE_OR_SKIP(cgroup, {.memory_bytes = 64 * kMiB, .pids = 16, .cpus = 0.5});
  ASSERT_FALSE(cgroup->dirs().empty());
  for (const std::string& dir : cgroup->dirs()) {
    EXPECT_THAT(dir, ::testing::ContainsRegex(
                         absl::StrCat("/sandbox-", getpid(), "-[0-9]+$")));
    struct statfs fs;
    ASSERT_EQ(statfs(dir.c_str(), &fs), 0);
    EXPECT_TRUE(fs.f_type == CGROUP_SUPER_MAGIC ||
                fs.f_type == CGROUP2_SUPER_MAGIC)
        << dir;
  }
  auto read = [](const std::string& path) {
    return std::string(absl::StripAsciiWhitespace(ReadText(path)));
  };
  if (Info("memory").version == CgroupVersion::kV2) {
    const std::string dir = DirWith(*cgroup, "memory.max");
    ASSERT_NE(dir, "");
    EXPECT_EQ(read(dir + "/memory.max"), "67108864");
    if (PathExists(dir + "/memory.swap.max")) {
      EXPECT_EQ(read(dir + "/memory.swap.max"), "0");
    }
    EXPECT_GE(cgroup->clone_into_fd(), 0);
  } else {
    const std::string dir = DirWith(*cgroup, "memory.limit_in_bytes");
    ASSERT_NE(dir, "");
    EXPECT_EQ(read(dir + "/memory.limit_in_bytes"), "67108864");
    if (PathExists(dir + "/memory.memsw.limit_in_bytes")) {
      EXPECT_EQ(read(dir + "/memory.memsw.limit_in_bytes"), "67108864");
    }
    // Socket buffers are capped too (uncharged otherwise on v1).
    if (PathExists(dir + "/memory.kmem.tcp.limit_in_bytes")) {
      EXPECT_EQ(read(dir + "/memory.kmem.tcp.limit_in_bytes"), "67108864");
    }
  }
  const std::string pids_dir = DirWith(*cgroup, "pids.max");
  ASSERT_NE(pids_dir, "");
  EXPECT_EQ(read(pids_dir + "/pids.max"), "16");
  if (Info("cpu").version == CgroupVersion::kV2) {
    EXPECT_EQ(read(DirWith(*cgroup, "cpu.max") + "/cpu.max"), "50000 100000");
  } else {
    const std::string dir = DirWith(*cgroup, "cpu.cfs_quota_us");
    ASSERT_NE(dir, "");
    EXPECT_EQ(read(dir + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(read(dir + "/cpu.cfs_period_us"), "100000");
  }
  if (!AnyControllerIs(CgroupVersion::kV2)) {
    EXPECT_EQ(cgroup->clone_into_fd(), -1);
  }
}

TEST_F(CgroupTest, UsesOnlyTheControllersTheLimitsNeed) {
  CREATE_OR_SKIP(cgroup, {.pids = 8});
  const std::string pids_dir = DirWith(*cgroup, "pids.max");
  ASSERT_NE(pids_dir, "");
  EXPECT_EQ(absl::StripAsciiWhitespace(ReadText(pids_dir + "/pids.max")), "8");
  const CgroupControllerInfo memory = Info("memory");
  if (memory.version == CgroupVersion::kV1) {
    // No directory in the memory hierarchy at all.
    for (const std::string& dir : cgroup->dirs()) {
      EXPECT_FALSE(absl::StartsWith(dir, memory.own_dir + "/")) << dir;
    }
  } else if (memory.version == CgroupVersion::kV2) {
    // One directory carries every controller its parent enables; memory is
    // left uncapped.
    const std::string dir = DirWith(*cgroup, "memory.max");
    if (!dir.empty()) {
      EXPECT_EQ(absl::StripAsciiWhitespace(ReadText(dir + "/memory.max")),
                "max");
    }
  }
}

TEST_F(CgroupTest, MemoryCapOomKillsAHog) {
  CREATE_OR_SKIP(cgroup, {.memory_bytes = 64 * kMiB});
  Child child([] {
    TouchMemory(256 * kMiB);
    return 0;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  const int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << DescribeWait(status);
  absl::StatusOr<CgroupUsage> usage = cgroup->ReadUsage();
  ASSERT_THAT(usage, IsOk());
  EXPECT_TRUE(usage->memory_limit_hit);
  EXPECT_FALSE(usage->pids_limit_hit);
  const bool has_peak = Info("memory").version == CgroupVersion::kV1 ||
                        !DirWith(*cgroup, "memory.peak").empty();
  if (has_peak) {
    EXPECT_GE(usage->peak_memory_bytes, 32 * kMiB);
    EXPECT_LE(usage->peak_memory_bytes, 80 * kMiB);
  }
  std::printf("oom: %s, peak=%llu bytes\n", DescribeWait(status).c_str(),
              static_cast<unsigned long long>(usage->peak_memory_bytes));
}

TEST_F(CgroupTest, SmallAllocationUnderTheCapSurvives) {
  CREATE_OR_SKIP(cgroup, {.memory_bytes = 64 * kMiB});
  Child child([] {
    TouchMemory(16 * kMiB);
    return 7;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  const int status = child.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7)
      << DescribeWait(status);
  absl::StatusOr<CgroupUsage> usage = cgroup->ReadUsage();
  ASSERT_THAT(usage, IsOk());
  EXPECT_FALSE(usage->memory_limit_hit);
}

TEST_F(CgroupTest, PidsCapStopsAForkBomb) {
  CREATE_OR_SKIP(cgroup, {.pids = 16});
  const std::string dir = DirWith(*cgroup, "pids.max");
  ASSERT_NE(dir, "");
  Child child([] {
    for (;;) {
      if (fork() < 0) usleep(1000);
    }
    return 0;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  // Until the bomb has filled the cap and a fork was refused there (or
  // 10 s): the most processes it had at once.
  size_t most = 0;
  absl::StatusOr<CgroupUsage> usage;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    absl::SleepFor(absl::Milliseconds(5));
    most = std::max(most, Procs(dir).size());
    usage = cgroup->ReadUsage();
  } while ((most < 12 || !usage.ok() || !usage->pids_limit_hit) &&
           absl::Now() < deadline);
  ASSERT_THAT(cgroup->KillAll(), IsOk());
  EXPECT_NE(child.Wait(), -1);
  ASSERT_THAT(usage, IsOk());
  EXPECT_LE(most, 16u);
  EXPECT_GE(most, 12u) << "the bomb should have filled the cap";
  EXPECT_TRUE(usage->pids_limit_hit);
  EXPECT_FALSE(usage->memory_limit_hit);
  std::printf("fork bomb: at most %zu processes under pids.max=16\n", most);
}

// limit_events_fd() wakes a poll at the first fork refused at the cap. On
// v2 the kernel notifies pids.events, so nothing wakes before; on v1 a
// timer ticks and LimitHit() says whether it was a hit.
TEST_F(CgroupTest, LimitEventsWakeAtTheFirstRefusedFork) {
  CREATE_OR_SKIP(cgroup, {.pids = 4, .watch_limits = true});
  const int fd = cgroup->limit_events_fd();
  ASSERT_GE(fd, 0);
  struct pollfd quiet = {fd, POLLIN, 0};
  if (Info("pids").version == CgroupVersion::kV2) {
    EXPECT_EQ(poll(&quiet, 1, 50), 0) << "woke with no event";
  }
  EXPECT_FALSE(cgroup->LimitHit());
  Child child([] {
    for (int i = 0; i < 8; ++i) {
      if (fork() == 0) {
        pause();
        _exit(0);
      }
    }
    pause();
    return 0;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  bool hit = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!hit && absl::Now() < deadline) {
    struct pollfd ready = {fd, POLLIN, 0};
    if (poll(&ready, 1, 1000) > 0) hit = cgroup->LimitHit();
  }
  ASSERT_THAT(cgroup->KillAll(), IsOk());
  EXPECT_NE(child.Wait(), -1);
  EXPECT_TRUE(hit);
}

TEST_F(CgroupTest, LimitEventsFdOnlyWhenAsked) {
  CREATE_OR_SKIP(cgroup, {.pids = 4});
  EXPECT_EQ(cgroup->limit_events_fd(), -1);
}

TEST_F(CgroupTest, CpuCapGivesAboutAQuarterOfACore) {
  CREATE_OR_SKIP(cgroup, {.cpus = 0.25});
  Child child([] {
    for (volatile uint64_t i = 0;; i = i + 1) {
    }
    return 0;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(child.Release());
  absl::SleepFor(absl::Seconds(2));
  absl::StatusOr<CgroupUsage> usage = cgroup->ReadUsage();
  const double wall = absl::ToDoubleSeconds(absl::Now() - start);
  kill(child.pid(), SIGKILL);
  struct rusage rusage = {};
  int status = 0;
  ASSERT_EQ(wait4(child.pid(), &status, 0, &rusage), child.pid());
  child.Wait(absl::ZeroDuration());  // marks it reaped (ECHILD)
  ASSERT_THAT(usage, IsOk());
  double cpu = 0;
  if (usage->user_cpu_seconds >= 0) {
    cpu = usage->user_cpu_seconds + usage->system_cpu_seconds;
  } else {
    cpu = absl::ToDoubleSeconds(absl::DurationFromTimeval(rusage.ru_utime) +
                                absl::DurationFromTimeval(rusage.ru_stime));
  }
  std::printf("cpus=0.25: %.3f s of CPU in %.3f s (%.2f)\n", cpu, wall,
              cpu / wall);
  EXPECT_GE(cpu / wall, 0.10);
  EXPECT_LE(cpu / wall, 0.45);
}

// --- Freezer and KillAll -------------------------------------------------

TEST_F(CgroupTest, FreezeStopsAndThawResumes) {
  if (Info("freezer").version == CgroupVersion::kNone) {
    GTEST_SKIP() << "no cgroup freezer (v1 hierarchy or v2 cgroup.freeze)";
  }
  CREATE_OR_SKIP(cgroup, {.pids = 8});
  auto* counter = static_cast<std::atomic<uint64_t>*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
           -1, 0));
  ASSERT_NE(counter, MAP_FAILED);
  counter->store(0);
  Child child([counter] {
    for (;;) counter->fetch_add(1);
    return 0;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (counter->load() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_GT(counter->load(), 0u);

  ASSERT_THAT(cgroup->Freeze(), IsOk());
  const uint64_t frozen_at = counter->load();
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(counter->load(), frozen_at) << "the child ran while frozen";

  ASSERT_THAT(cgroup->Thaw(), IsOk());
  const absl::Time resume_deadline = absl::Now() + absl::Seconds(5);
  while (counter->load() == frozen_at && absl::Now() < resume_deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_GT(counter->load(), frozen_at) << "the child did not resume in 5 s";
  munmap(counter, 4096);
}

TEST_F(CgroupTest, KillAllKillsChildAndGrandchildren) {
  CREATE_OR_SKIP(cgroup, {.pids = 32});
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const int report = write_end.get();
  Child child([report] {
    for (int i = 0; i < 3; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        for (;;) pause();
      }
      if (write(report, &pid, sizeof(pid)) != sizeof(pid)) return 1;
    }
    for (;;) pause();
    return 0;
  });
  write_end.reset();
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  std::vector<pid_t> grandchildren(3);
  size_t got_bytes = 0;
  const size_t want_bytes = grandchildren.size() * sizeof(pid_t);
  while (got_bytes < want_bytes) {
    const ssize_t n =
        read(read_end.get(),
             reinterpret_cast<char*>(grandchildren.data()) + got_bytes,
             want_bytes - got_bytes);
    ASSERT_GT(n, 0) << "the child did not report its grandchildren";
    got_bytes += static_cast<size_t>(n);
  }
  ASSERT_EQ(Procs(cgroup->dirs()[0]).size(), 4u);

  ASSERT_THAT(cgroup->KillAll(), IsOk());
  const int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << DescribeWait(status);
  // Orphaned, they come back to us (the subreaper) to be reaped.
  for (pid_t pid : grandchildren) {
    int grandchild_status = 0;
    const absl::Time deadline = absl::Now() + absl::Seconds(5);
    pid_t got;
    while ((got = waitpid(pid, &grandchild_status, WNOHANG)) == 0 &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    ASSERT_EQ(got, pid) << "grandchild " << pid << " not reaped";
    EXPECT_TRUE(WIFSIGNALED(grandchild_status) &&
                WTERMSIG(grandchild_status) == SIGKILL)
        << DescribeWait(grandchild_status);
  }
}

// Without limits the cgroup still groups the processes: on v2 (this
// hybrid host's controller-less unified hierarchy included) for cgroup.kill
// and cpu.stat, else in the v1 freezer.
TEST_F(CgroupTest, NoLimitsStillGroupsProcesses) {
  CREATE_OR_SKIP(cgroup, CgroupLimits{});
  ASSERT_EQ(cgroup->dirs().size(), 1u);
  const std::string dir = cgroup->dirs()[0];
  std::printf("no limits: %s\n", dir.c_str());
  struct statfs fs;
  ASSERT_EQ(statfs(dir.c_str(), &fs), 0);
  if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    EXPECT_GE(cgroup->clone_into_fd(), 0);
  } else {
    EXPECT_TRUE(PathExists(dir + "/freezer.state")) << dir;
  }
  Child child([] {
    if (fork() == 0) {
      for (;;) pause();
    }
    for (volatile uint64_t i = 0; i < 50'000'000; i = i + 1) {
    }
    for (;;) pause();
    return 0;
  });
  ASSERT_THAT(cgroup->AddProcess(child.pid()), IsOk());
  ASSERT_TRUE(child.Release());
  for (const absl::Time deadline = absl::Now() + absl::Seconds(5);
       Procs(dir).size() < 2 && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(Procs(dir).size(), 2u);
  ASSERT_THAT(cgroup->Freeze(), IsOk());
  ASSERT_THAT(cgroup->KillAll(), IsOk());  // also while frozen
  const int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << DescribeWait(status);
  ReapOrphans(1, absl::Seconds(2));
  for (const absl::Time deadline = absl::Now() + absl::Seconds(2);
       !Procs(dir).empty() && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_THAT(Procs(dir), ::testing::IsEmpty());
  absl::StatusOr<CgroupUsage> usage = cgroup->ReadUsage();
  ASSERT_THAT(usage, IsOk());
  EXPECT_FALSE(usage->memory_limit_hit);
  EXPECT_FALSE(usage->pids_limit_hit);
  if (fs.f_type == CGROUP2_SUPER_MAGIC) {
    EXPECT_GT(usage->user_cpu_seconds + usage->system_cpu_seconds, 0.0);
  }
  cgroup.reset();
  EXPECT_FALSE(PathExists(dir));
}

// --- Cleanup -------------------------------------------------------------

// Our sandbox-<pid>-* directories under the own dirs of every hierarchy.
std::vector<std::string> OurSandboxDirs() {
  std::vector<std::string> found;
  absl::StatusOr<std::vector<CgroupControllerInfo>> infos = DetectCgroups();
  if (!infos.ok()) return found;
  const std::string prefix = absl::StrCat("sandbox-", getpid(), "-");
  std::vector<std::string> seen;
  for (const CgroupControllerInfo& info : *infos) {
    if (info.own_dir.empty() ||
        std::find(seen.begin(), seen.end(), info.own_dir) != seen.end()) {
      continue;
    }
    seen.push_back(info.own_dir);
    DIR* d = opendir(info.own_dir.c_str());
    if (d == nullptr) continue;
    while (struct dirent* e = readdir(d)) {
      if (absl::StartsWith(e->d_name, prefix)) {
        found.push_back(info.own_dir + "/" + e->d_name);
      }
    }
    closedir(d);
  }
  return found;
}

TEST_F(CgroupTest, ManyCyclesLeaveNothingBehind) {
  { CREATE_OR_SKIP(probe, {.memory_bytes = 64 * kMiB, .pids = 16}); }
  std::vector<std::string> leftovers;
  for (int i = 0; i < 500; ++i) {
    const int mode = i % 4;
    CgroupLimits limits{.memory_bytes = 64 * kMiB, .pids = 16};
    if (i % 2 == 1) limits.cpus = 0.5;
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = Cgroup::Create(limits);
    ASSERT_THAT(cgroup, IsOk()) << "cycle " << i;
    const std::vector<std::string> dirs = (*cgroup)->dirs();
    Child child([mode] {
      switch (mode) {
        case 0:
          return 3;
        case 1: {
          struct rlimit no_core = {0, 0};
          setrlimit(RLIMIT_CORE, &no_core);
          // Raised, not a null store: a sanitizer would report that and
          // exit 1 instead of dying of the signal.
          signal(SIGSEGV, SIG_DFL);
          raise(SIGSEGV);
          return 0;
        }
        case 2:
          for (;;) pause();
        default:
          if (fork() == 0) {
            for (;;) pause();
          }
          for (;;) pause();
      }
    });
    ASSERT_THAT((*cgroup)->AddProcess(child.pid()), IsOk()) << "cycle " << i;
    ASSERT_TRUE(child.Release());
    int status = 0;
    switch (mode) {
      case 0:
        status = child.Wait();
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3)
            << DescribeWait(status);
        cgroup->reset();
        break;
      case 1:
        status = child.Wait();
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
            << DescribeWait(status);
        cgroup->reset();
        break;
      case 2:
        cgroup->reset();  // kills the running child
        status = child.Wait();
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << DescribeWait(status);
        break;
      default:
        for (const absl::Time deadline = absl::Now() + absl::Seconds(5);
             Procs(dirs[0]).size() < 2 && absl::Now() < deadline;) {
          absl::SleepFor(absl::Milliseconds(1));
        }
        ASSERT_EQ(Procs(dirs[0]).size(), 2u) << "cycle " << i;
        ASSERT_THAT((*cgroup)->KillAll(), IsOk());
        status = child.Wait();
        ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
            << DescribeWait(status);
        cgroup->reset();
        ReapOrphans(1, absl::Seconds(2));
        break;
    }
    for (const std::string& dir : dirs) {
      if (PathExists(dir)) leftovers.push_back(dir);
    }
  }
  EXPECT_THAT(leftovers, ::testing::IsEmpty());
  EXPECT_THAT(OurSandboxDirs(), ::testing::IsEmpty());
}

TEST_F(CgroupTest, RemoveStaleRemovesDeadOwnersOnly) {
  CgroupControllerInfo info = Info("memory");
  if (info.version == CgroupVersion::kNone) info = Info("pids");
  if (info.version == CgroupVersion::kNone) {
    GTEST_SKIP() << "no memory or pids cgroup hierarchy";
  }
  if (!info.writable) {
    GTEST_SKIP() << "cannot write " << info.own_dir
                 << " (unprivileged without delegation)";
  }
  // A pid that is surely dead: a reaped child's.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(waitpid(dead, nullptr, 0), dead);
  ASSERT_EQ(kill(dead, 0), -1);

  Child live([] {
    for (;;) pause();
    return 0;
  });
  Child inmate([] {
    for (;;) pause();
    return 0;
  });
  const std::string stale = absl::StrCat(info.own_dir, "/sandbox-", dead, "-0");
  const std::string alive =
      absl::StrCat(info.own_dir, "/sandbox-", live.pid(), "-0");
  ASSERT_EQ(mkdir(stale.c_str(), 0755), 0) << stale << ": " << strerror(errno);
  ASSERT_EQ(mkdir(alive.c_str(), 0755), 0) << alive << ": " << strerror(errno);
  // Something left running in the stale cgroup must be killed first.
  ASSERT_TRUE(WriteText(stale + "/cgroup.procs", absl::StrCat(inmate.pid())));
  ASSERT_TRUE(inmate.Release());

  const int removed = Cgroup::RemoveStale();
  const bool stale_exists = PathExists(stale);
  const bool alive_exists = PathExists(alive);
  const int inmate_status = inmate.Wait(absl::Seconds(5));
  rmdir(alive.c_str());
  if (stale_exists) {
    kill(inmate.pid(), SIGKILL);
    rmdir(stale.c_str());
  }
  EXPECT_GE(removed, 1);
  EXPECT_FALSE(stale_exists);
  EXPECT_TRUE(alive_exists);
  EXPECT_TRUE(WIFSIGNALED(inmate_status) && WTERMSIG(inmate_status) == SIGKILL)
      << DescribeWait(inmate_status);
}

// --- Spares --------------------------------------------------------------

// Spares (cgroup.h): a cgroup Release keeps goes to the next Create with the
// same limits. Each test starts and ends with no spares of its own.
constexpr CgroupLimits kSpareLimits{.memory_bytes = 64 * kMiB, .pids = 16};

// Why spares cannot be tested here ("" if they can): they are cgroup v1
// only.
std::string SparesMissing() {
  for (const char* controller : {"memory", "pids"}) {
    if (Info(controller).version != CgroupVersion::kV1) {
      return absl::StrCat("spare cgroups are cgroup v1 only, and ", controller,
                          " is not v1 here (v2 cgroups are made and removed "
                          "per sandbox, as CgroupTest covers)");
    }
  }
  return "";
}

#define SPARES_OR_SKIP()                                            \
  do {                                                              \
    Cgroup::RemoveSpares();                                         \
    const std::string missing_ = SparesMissing();                   \
    if (!missing_.empty()) {                                        \
      CREATE_OR_SKIP(v2_, kSpareLimits);                            \
      EXPECT_THAT(Cgroup::Release(std::move(v2_)),                  \
                  StatusIs(absl::StatusCode::kFailedPrecondition)); \
      EXPECT_EQ(Cgroup::RemoveSpares(), 0);                         \
      GTEST_SKIP() << missing_;                                     \
    }                                                               \
  } while (0)

std::string Trimmed(const std::string& path) {
  return std::string(absl::StripAsciiWhitespace(ReadText(path)));
}

// Runs `body` in a child placed in `cgroup`; returns its wait status.
int RunIn(Cgroup& cgroup, std::function<int()> body) {
  Child child(std::move(body));
  if (!cgroup.AddProcess(child.pid()).ok() || !child.Release()) return -1;
  return child.Wait();
}

TEST_F(CgroupTest, SpareReportsOnlyItsOwnMemoryUse) {
  SPARES_OR_SKIP();
  CREATE_OR_SKIP(first, kSpareLimits);
  const std::vector<std::string> dirs = first->dirs();
  const int hog = RunIn(*first, [] {
    TouchMemory(256 * kMiB);
    return 0;
  });
  ASSERT_TRUE(WIFSIGNALED(hog) && WTERMSIG(hog) == SIGKILL)
      << DescribeWait(hog);
  absl::StatusOr<CgroupUsage> used = first->ReadUsage();
  ASSERT_THAT(used, IsOk());
  ASSERT_TRUE(used->memory_limit_hit);
  ASSERT_GE(used->peak_memory_bytes, 32 * kMiB);
  ASSERT_THAT(Cgroup::Release(std::move(first)), IsOk());

  absl::StatusOr<std::unique_ptr<Cgroup>> second = Cgroup::Create(kSpareLimits);
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE((*second)->reused());
  EXPECT_EQ((*second)->dirs(), dirs);
  used = (*second)->ReadUsage();
  ASSERT_THAT(used, IsOk());
  EXPECT_FALSE(used->memory_limit_hit) << "the first user's OOM kill";
  EXPECT_LE(used->peak_memory_bytes, kMaxResidualBytes)
      << "the first user's peak";
  const int small = RunIn(**second, [] {
    TouchMemory(8 * kMiB);
    return 7;
  });
  EXPECT_TRUE(WIFEXITED(small) && WEXITSTATUS(small) == 7)
      << DescribeWait(small);
  used = (*second)->ReadUsage();
  ASSERT_THAT(used, IsOk());
  EXPECT_FALSE(used->memory_limit_hit);
  // Its own peak, give or take what the first user left charged (at most
  // kMaxResidualBytes, which the baseline subtracts).
  EXPECT_GE(used->peak_memory_bytes, 8 * kMiB - kMaxResidualBytes);
  EXPECT_LE(used->peak_memory_bytes, 16 * kMiB);
  const std::string memory = DirWith(**second, "memory.limit_in_bytes");
  EXPECT_EQ(Trimmed(memory + "/memory.limit_in_bytes"),
            absl::StrCat(64 * kMiB));
  EXPECT_EQ(Trimmed(DirWith(**second, "pids.max") + "/pids.max"), "16");
  ASSERT_THAT(Cgroup::Release(*std::move(second)), IsOk());
  EXPECT_EQ(Cgroup::RemoveSpares(), 1);
  for (const std::string& dir : dirs) EXPECT_FALSE(PathExists(dir)) << dir;
}

TEST_F(CgroupTest, SpareReportsOnlyItsOwnPidsHit) {
  SPARES_OR_SKIP();
  CREATE_OR_SKIP(first, kSpareLimits);
  const std::vector<std::string> dirs = first->dirs();
  // Forks until the cap refuses one, then waits with its children.
  auto fork_past_the_cap = [] {
    for (int i = 0; i < 32; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        pause();
        _exit(0);
      }
      if (pid < 0) break;
    }
    pause();
    return 0;
  };
  Child forker(fork_past_the_cap);
  ASSERT_THAT(first->AddProcess(forker.pid()), IsOk());
  ASSERT_TRUE(forker.Release());
  absl::StatusOr<CgroupUsage> used;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       absl::Now() < deadline;) {
    used = first->ReadUsage();
    if (used.ok() && used->pids_limit_hit) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_THAT(used, IsOk());
  ASSERT_TRUE(used->pids_limit_hit);
  // Release kills them all.
  ASSERT_THAT(Cgroup::Release(std::move(first)), IsOk());
  EXPECT_NE(forker.Wait(), -1);
  ReapOrphans(15, absl::Seconds(2));

  CgroupLimits watched = kSpareLimits;
  watched.watch_limits = true;
  absl::StatusOr<std::unique_ptr<Cgroup>> second = Cgroup::Create(watched);
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE((*second)->reused());
  EXPECT_EQ((*second)->dirs(), dirs);
  EXPECT_GE((*second)->limit_events_fd(), 0);
  EXPECT_FALSE((*second)->LimitHit()) << "the first user's refused forks";
  used = (*second)->ReadUsage();
  ASSERT_THAT(used, IsOk());
  EXPECT_FALSE(used->pids_limit_hit) << "the first user's refused forks";
  EXPECT_EQ(Trimmed(DirWith(**second, "pids.max") + "/pids.max"), "16");
  // Its own hit still shows.
  Child again(fork_past_the_cap);
  ASSERT_THAT((*second)->AddProcess(again.pid()), IsOk());
  ASSERT_TRUE(again.Release());
  bool hit = false;
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       !hit && absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(5));
    hit = (*second)->LimitHit();
  }
  EXPECT_TRUE(hit);
  used = (*second)->ReadUsage();
  ASSERT_THAT(used, IsOk());
  EXPECT_TRUE(used->pids_limit_hit);
  ASSERT_THAT(Cgroup::Release(*std::move(second)), IsOk());
  EXPECT_NE(again.Wait(), -1);
  ReapOrphans(15, absl::Seconds(2));
  EXPECT_EQ(Cgroup::RemoveSpares(), 1);
}

// A process left behind that SIGKILL does not end at once (here: one frozen
// in another freezer cgroup, as a process stuck in the kernel, or half
// migrated, would be) keeps its cgroup from being kept: the next sandbox
// gets a new one.
TEST_F(CgroupTest, StrayProcessKeepsTheCgroupFromReuse) {
  SPARES_OR_SKIP();
  const CgroupControllerInfo freezer = Info("freezer");
  if (freezer.version != CgroupVersion::kV1) {
    GTEST_SKIP() << "no cgroup v1 freezer to hold the stray process in";
  }
  CREATE_OR_SKIP(first, kSpareLimits);
  const std::vector<std::string> dirs = first->dirs();
  const std::string trap =
      absl::StrCat(freezer.own_dir, "/spare-test-trap-", getpid());
  ASSERT_EQ(mkdir(trap.c_str(), 0755), 0) << trap << ": " << strerror(errno);
  Child stray([] {
    for (;;) pause();
    return 0;
  });
  ASSERT_THAT(first->AddProcess(stray.pid()), IsOk());
  ASSERT_TRUE(stray.Release());
  // Still in the memory and pids cgroups, frozen elsewhere.
  ASSERT_TRUE(WriteText(trap + "/cgroup.procs", absl::StrCat(stray.pid())));
  ASSERT_TRUE(WriteText(trap + "/freezer.state", "FROZEN"));
  for (const absl::Time deadline = absl::Now() + absl::Seconds(2);
       Trimmed(trap + "/freezer.state") != "FROZEN" &&
       absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_EQ(Trimmed(trap + "/freezer.state"), "FROZEN");

  EXPECT_THAT(Cgroup::Release(std::move(first)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("still lists")));
  absl::StatusOr<std::unique_ptr<Cgroup>> second = Cgroup::Create(kSpareLimits);
  ASSERT_THAT(second, IsOk());
  EXPECT_FALSE((*second)->reused());
  EXPECT_NE((*second)->dirs(), dirs);
  for (const std::string& dir : (*second)->dirs()) {
    EXPECT_THAT(Procs(dir), ::testing::IsEmpty()) << dir;
  }
  second->reset();

  // Let it die (the SIGKILL is pending), then remove what it held.
  ASSERT_TRUE(WriteText(trap + "/freezer.state", "THAWED"));
  const int status = stray.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << DescribeWait(status);
  for (const std::string& dir : dirs) RemoveCgroupTree(dir);
  RemoveCgroupTree(trap);
  EXPECT_EQ(Cgroup::RemoveSpares(), 0);
}

// A double-forked process that outlives the sandbox's first process is
// killed by Release before the cgroup is kept.
TEST_F(CgroupTest, SpareIsKeptOnlyOnceTheStraysAreGone) {
  SPARES_OR_SKIP();
  CREATE_OR_SKIP(first, kSpareLimits);
  const std::vector<std::string> dirs = first->dirs();
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const int status = RunIn(*first, [&] {
    const pid_t grandchild = fork();
    if (grandchild == 0) {
      setsid();
      for (;;) pause();
    }
    return write(write_end.get(), &grandchild, sizeof(grandchild)) ==
                   sizeof(grandchild)
               ? 0
               : 1;
  });
  write_end.reset();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
  pid_t grandchild = 0;
  ASSERT_EQ(read(read_end.get(), &grandchild, sizeof(grandchild)),
            static_cast<ssize_t>(sizeof(grandchild)));
  ASSERT_EQ(kill(grandchild, 0), 0) << "the stray should still be alive";
  ASSERT_THAT(Cgroup::Release(std::move(first)), IsOk());
  ReapOrphans(1, absl::Seconds(2));
  EXPECT_NE(kill(grandchild, 0), 0) << "the stray survived Release";

  absl::StatusOr<std::unique_ptr<Cgroup>> second = Cgroup::Create(kSpareLimits);
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE((*second)->reused());
  for (const std::string& dir : (*second)->dirs()) {
    EXPECT_THAT(Procs(dir), ::testing::IsEmpty()) << dir;
  }
  second->reset();
  EXPECT_EQ(Cgroup::RemoveSpares(), 0);
}

// A sandboxee cannot write its limits (cgroup.h says why); if one did, the
// cgroup is not kept, and the next one has its policy's limits.
TEST_F(CgroupTest, ChangedLimitKeepsTheCgroupFromReuse) {
  SPARES_OR_SKIP();
  for (const auto& [file, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"pids.max", "max"},
           // Not above memory.memsw.limit_in_bytes, which the kernel
           // refuses.
           {"memory.limit_in_bytes", absl::StrCat(32 * kMiB)}}) {
    SCOPED_TRACE(file);
    CREATE_OR_SKIP(first, kSpareLimits);
    const std::vector<std::string> dirs = first->dirs();
    const std::string dir = DirWith(*first, file);
    ASSERT_NE(dir, "");
    ASSERT_TRUE(WriteText(dir + "/" + file, value));
    EXPECT_THAT(
        Cgroup::Release(std::move(first)),
        StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(file)));
    absl::StatusOr<std::unique_ptr<Cgroup>> second =
        Cgroup::Create(kSpareLimits);
    ASSERT_THAT(second, IsOk());
    EXPECT_FALSE((*second)->reused());
    EXPECT_EQ(Trimmed(DirWith(**second, "pids.max") + "/pids.max"), "16");
    EXPECT_EQ(Trimmed(DirWith(**second, "memory.limit_in_bytes") +
                      "/memory.limit_in_bytes"),
              absl::StrCat(64 * kMiB));
    for (const std::string& d : dirs) EXPECT_FALSE(PathExists(d)) << d;
  }
  EXPECT_EQ(Cgroup::RemoveSpares(), 0);
}

// Page cache a sandbox left charged would shrink the next one's room:
// Release reclaims it (memory.force_empty); what cannot be reclaimed
// (tmpfs pages without swap) keeps the cgroup from being kept.
TEST_F(CgroupTest, MemoryLeftChargedIsReclaimedOrKeepsTheCgroupFromReuse) {
  SPARES_OR_SKIP();
  testing::ScratchDir scratch("spare-cache");
  const std::string cached = scratch / "cached";
  CREATE_OR_SKIP(first, kSpareLimits);
  auto write_file = [](const std::string& path) {
    return [path] {
      UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
      if (!fd.valid()) return 1;
      const std::string block(kMiB, 'x');
      for (int i = 0; i < 8; ++i) {
        if (write(fd.get(), block.data(), block.size()) !=
            static_cast<ssize_t>(block.size())) {
          return 2;
        }
      }
      return fsync(fd.get()) == 0 ? 0 : 3;
    };
  };
  int status = RunIn(*first, write_file(cached));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
  const std::string memory = DirWith(*first, "memory.usage_in_bytes");
  ASSERT_GT(std::stoull(Trimmed(memory + "/memory.usage_in_bytes")),
            kMaxResidualBytes)
      << "the file's page cache should be charged to the cgroup";
  ASSERT_THAT(Cgroup::Release(std::move(first)), IsOk());
  absl::StatusOr<std::unique_ptr<Cgroup>> second = Cgroup::Create(kSpareLimits);
  ASSERT_THAT(second, IsOk());
  ASSERT_TRUE((*second)->reused());
  EXPECT_LE(std::stoull(Trimmed(memory + "/memory.usage_in_bytes")),
            kMaxResidualBytes);

  // Past its header line, /proc/swaps lists the swap areas.
  if (absl::StrContains(Trimmed("/proc/swaps"), "\n")) {
    second->reset();
    Cgroup::RemoveSpares();
    GTEST_SKIP() << "swap is on: tmpfs pages can be reclaimed here";
  }
  const std::string shm = absl::StrCat("/dev/shm/spare-test-", getpid());
  status = RunIn(**second, write_file(shm));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
  EXPECT_THAT(Cgroup::Release(*std::move(second)),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("memory.usage_in_bytes")));
  unlink(shm.c_str());
  EXPECT_FALSE(PathExists(memory));
  EXPECT_EQ(Cgroup::RemoveSpares(), 0);
}

TEST_F(CgroupTest, SparesAreBounded) {
  SPARES_OR_SKIP();
  std::vector<std::unique_ptr<Cgroup>> live;
  for (int i = 0; i < kMaxSpareCgroups + 3; ++i) {
    CREATE_OR_SKIP(cgroup, kSpareLimits);
    live.push_back(std::move(cgroup));
  }
  const size_t dirs_each = live[0]->dirs().size();
  for (std::unique_ptr<Cgroup>& cgroup : live) {
    ASSERT_THAT(Cgroup::Release(std::move(cgroup)), IsOk());
  }
  EXPECT_EQ(OurSandboxDirs().size(), kMaxSpareCgroups * dirs_each);
  EXPECT_EQ(Cgroup::RemoveSpares(), kMaxSpareCgroups);
  EXPECT_THAT(OurSandboxDirs(), ::testing::IsEmpty());
}

// Spares are made under our own cgroups: once this process has moved to
// other ones, Create makes a cgroup there and the old spares are removed.
TEST_F(CgroupTest, SparesDoNotOutliveAMoveToAnotherCgroup) {
  SPARES_OR_SKIP();
  std::vector<std::string> moves;  // one per hierarchy
  for (const char* controller :
       {"memory", "pids", "cpu", "cpuacct", "freezer"}) {
    const CgroupControllerInfo info = Info(controller);
    if (info.version != CgroupVersion::kV1) continue;
    const std::string move =
        absl::StrCat(info.own_dir, "/spare-test-move-", getpid());
    if (std::find(moves.begin(), moves.end(), move) != moves.end()) continue;
    ASSERT_EQ(mkdir(move.c_str(), 0755), 0) << move << ": " << strerror(errno);
    moves.push_back(move);
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
        Cgroup::Create(kSpareLimits);
    if (!cgroup.ok()) _exit(2);
    const std::vector<std::string> old_dirs = (*cgroup)->dirs();
    if (!Cgroup::Release(*std::move(cgroup)).ok()) _exit(3);
    for (const std::string& move : moves) {
      if (!WriteText(move + "/cgroup.procs", absl::StrCat(getpid()))) {
        _exit(4);
      }
    }
    cgroup = Cgroup::Create(kSpareLimits);
    if (!cgroup.ok() || (*cgroup)->reused()) _exit(5);
    for (const std::string& dir : (*cgroup)->dirs()) {
      if (std::none_of(moves.begin(), moves.end(), [&](const std::string& m) {
            return absl::StartsWith(dir, m + "/sandbox-");
          })) {
        _exit(6);
      }
    }
    for (const std::string& dir : old_dirs) {
      if (PathExists(dir)) _exit(7);
    }
    cgroup->reset();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  // 2 Create, 3 Release, 4 move, 5 an old spare was taken, 6 not made under
  // the new cgroups, 7 the old spare was left.
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
  for (const std::string& move : moves) RemoveCgroupTree(move);
  for (const std::string& move : moves) EXPECT_FALSE(PathExists(move)) << move;
}

// Spares go with the process at exit(); a forked child neither uses nor
// removes its parent's.
TEST_F(CgroupTest, SparesAreRemovedAtExitAndOnlyByTheirOwner) {
  SPARES_OR_SKIP();
  CREATE_OR_SKIP(ours, kSpareLimits);
  const std::vector<std::string> our_dirs = ours->dirs();
  ASSERT_THAT(Cgroup::Release(std::move(ours)), IsOk());
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t child = fork();
  if (child == 0) {
    read_end.reset();
    // Not the parent's spare: a cgroup of its own, kept as a spare.
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
        Cgroup::Create(kSpareLimits);
    if (!cgroup.ok() || (*cgroup)->reused()) _exit(2);
    const std::string dirs = absl::StrJoin((*cgroup)->dirs(), "\n");
    if (!Cgroup::Release(*std::move(cgroup)).ok()) _exit(3);
    if (write(write_end.get(), dirs.data(), dirs.size()) !=
        static_cast<ssize_t>(dirs.size())) {
      _exit(4);
    }
    exit(0);  // runs the atexit handlers
  }
  ASSERT_GT(child, 0);
  write_end.reset();
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(read_end.get(), buffer, sizeof(buffer))) > 0) {
    text.append(buffer, n);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
  const std::vector<std::string> child_dirs =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  EXPECT_FALSE(child_dirs.empty());
  for (const std::string& dir : child_dirs) {
    EXPECT_FALSE(PathExists(dir)) << dir << " outlived its process";
  }
  Cgroup::RemoveStale();  // if the check failed
  for (const std::string& dir : our_dirs) {
    EXPECT_TRUE(PathExists(dir)) << dir << " removed by a forked child";
  }
  EXPECT_EQ(Cgroup::RemoveSpares(), 1);
}

// --- Permissions ---------------------------------------------------------

// Drops this (forked, root) process to uid/gid 65534.
bool DropToNobody() {
  return setgroups(0, nullptr) == 0 &&
         setresgid(kNobody, kNobody, kNobody) == 0 &&
         setresuid(kNobody, kNobody, kNobody) == 0;
}

TEST_F(CgroupTest, UnprivilegedWithoutDelegationFailsClearly) {
  if (Info("memory").version == CgroupVersion::kNone) {
    GTEST_SKIP() << "no memory cgroup controller at all";
  }
  // As root, ask a child dropped to 65534; unprivileged, ask directly.
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const bool forked = IsRoot();
  const pid_t pid = forked ? fork() : 0;
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string answer;
    if (forked && !DropToNobody()) {
      answer = "cannot drop to 65534";
    } else {
      const CgroupControllerInfo info = Info("memory");
      absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
          Cgroup::Create({.memory_bytes = 64 * kMiB});
      answer = absl::StrCat(info.writable ? "writable " : "not-writable ",
                            cgroup.ok() ? "OK" : cgroup.status().ToString());
    }
    (void)!write(write_end.get(), answer.data(), answer.size());
    if (forked) _exit(0);
  }
  write_end.reset();
  if (pid > 0) {
    ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  }
  std::string answer;
  char buffer[4096];
  ssize_t n;
  while ((n = read(read_end.get(), buffer, sizeof(buffer))) > 0) {
    answer.append(buffer, n);
  }
  std::printf("as uid %u: %s\n", forked ? kNobody : geteuid(), answer.c_str());
  if (absl::StartsWith(answer, "writable ")) {
    // A delegated cgroup: then it must simply work.
    EXPECT_EQ(answer, "writable OK");
  } else {
    EXPECT_THAT(answer, HasSubstr("FAILED_PRECONDITION"));
    EXPECT_THAT(answer, HasSubstr("delegat"));
    EXPECT_THAT(answer, HasSubstr("memory"));
    EXPECT_THAT(answer, HasSubstr("Delegate=yes"));
  }
}

// Sets up, as root, a cgroup per hierarchy in use chowned to 65534 the way
// an administrator would delegate one, and removes it again.
class DelegatedCgroup {
 public:
  bool Setup(const std::vector<std::string>& controllers) {
    for (const std::string& c : controllers) {
      const CgroupControllerInfo info = Info(c);
      if (info.version == CgroupVersion::kNone) continue;
      const std::string dir =
          absl::StrCat(info.own_dir, "/delegated-test-", getpid());
      if (std::find(dirs_.begin(), dirs_.end(), dir) != dirs_.end()) continue;
      if (mkdir(dir.c_str(), 0755) != 0) return false;
      dirs_.push_back(dir);
      for (const char* file : {"", "/cgroup.procs", "/tasks", "/cgroup.threads",
                               "/cgroup.subtree_control"}) {
        const std::string path = dir + file;
        if (PathExists(path) && chown(path.c_str(), kNobody, kNobody) != 0) {
          return false;
        }
      }
    }
    return !dirs_.empty();
  }
  const std::vector<std::string>& dirs() const { return dirs_; }
  ~DelegatedCgroup() {
    // The child may have left sandbox-supervisor (v2) behind.
    for (const std::string& dir : dirs_) RemoveCgroupTree(dir);
  }

 private:
  std::vector<std::string> dirs_;
};

TEST_F(CgroupTest, WorksUnprivilegedInADelegatedCgroup) {
  if (!IsRoot()) {
    GTEST_SKIP() << "needs root to delegate a cgroup to uid 65534 (the "
                    "unprivileged run checks the refusal instead)";
  }
  if (Info("memory").version == CgroupVersion::kNone) {
    GTEST_SKIP() << "no memory cgroup controller at all";
  }
  if (Info("memory").version == CgroupVersion::kV2) {
    // The delegated cgroup can have memory only once our cgroup enables it
    // for its children, which Create does.
    CREATE_OR_SKIP(enable, {.memory_bytes = 64 * kMiB});
  }
  DelegatedCgroup delegated;
  ASSERT_TRUE(delegated.Setup({"memory", "freezer"})) << strerror(errno);

  const std::vector<std::string> dirs = delegated.dirs();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (const std::string& dir : dirs) {
      if (!WriteText(dir + "/cgroup.procs", absl::StrCat(getpid()))) _exit(10);
    }
    if (!DropToNobody()) _exit(11);
    absl::StatusOr<std::unique_ptr<Cgroup>> cgroup =
        Cgroup::Create({.memory_bytes = 64 * kMiB});
    if (!cgroup.ok()) {
      std::fprintf(stderr, "Create as 65534: %s\n",
                   cgroup.status().ToString().c_str());
      _exit(12);
    }
    const pid_t hog = fork();
    if (hog == 0) {
      TouchMemory(256 * kMiB);
      _exit(0);
    }
    // The hog may have started touching already; the cap applies from the
    // move on, and 256M cannot fit either way.
    absl::Status added = (*cgroup)->AddProcess(hog);
    if (!added.ok()) {
      std::fprintf(stderr, "AddProcess as 65534: %s\n",
                   added.ToString().c_str());
      kill(hog, SIGKILL);
      _exit(13);
    }
    int status = 0;
    waitpid(hog, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) _exit(14);
    absl::StatusOr<CgroupUsage> usage = (*cgroup)->ReadUsage();
    if (!usage.ok() || !usage->memory_limit_hit) _exit(15);
    const std::vector<std::string> made = (*cgroup)->dirs();
    if (Info("memory").version == CgroupVersion::kV1) {
      // Spares work unprivileged too: the next cgroup is this one, cleaned,
      // and does not report the OOM kill.
      if (!Cgroup::Release(*std::move(cgroup)).ok()) _exit(17);
      cgroup = Cgroup::Create({.memory_bytes = 64 * kMiB});
      if (!cgroup.ok() || !(*cgroup)->reused() || (*cgroup)->dirs() != made) {
        _exit(18);
      }
      usage = (*cgroup)->ReadUsage();
      if (!usage.ok() || usage->memory_limit_hit ||
          usage->peak_memory_bytes > kMaxResidualBytes) {
        _exit(19);
      }
      if (!Cgroup::Release(*std::move(cgroup)).ok() ||
          Cgroup::RemoveSpares() != 1) {
        _exit(20);
      }
    } else {
      cgroup->reset();
    }
    for (const std::string& dir : made) {
      if (PathExists(dir)) _exit(16);
    }
    _exit(0);
  }
  int status = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  pid_t got;
  while ((got = waitpid(pid, &status, WNOHANG)) == 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  // 10 join, 11 setresuid, 12 Create, 13 AddProcess, 14 hog not OOM-killed,
  // 15 usage, 16 cleanup; v1: 17 not kept as a spare, 18 spare not taken,
  // 19 the spare reports the OOM kill or peak, 20 spare not removed.
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
}

// --- cgroup v2 only ------------------------------------------------------

TEST_F(CgroupTest, V2CloneIntoCgroupPlacesTheChild) {
  // A v2 controller if there is one; else no limits, which still makes a v2
  // cgroup where the unified hierarchy is writable (hybrid hosts).
  CgroupLimits limits;
  if (Info("pids").version == CgroupVersion::kV2) {
    limits.pids = 8;
  } else if (Info("memory").version == CgroupVersion::kV2) {
    limits.memory_bytes = 64 * kMiB;
  }
  CREATE_OR_SKIP(cgroup, limits);
  if (cgroup->clone_into_fd() < 0) {
    GTEST_SKIP() << "no cgroup v2 hierarchy here: the cgroup is v1 only ("
                 << cgroup->dirs()[0] << ")";
  }
  ASSERT_GE(cgroup->clone_into_fd(), 0);
  const std::string dir = cgroup->dirs()[0];
  const std::string name = dir.substr(dir.rfind('/'));

  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  internal::CloneArgs args = {};
  args.flags = internal::kCloneIntoCgroup;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup->clone_into_fd());
  const long pid = syscall(SYS_clone3, &args, sizeof(args));
  ASSERT_GE(pid, 0) << strerror(errno);
  if (pid == 0) {
    write_end.reset();
    char byte;
    if (read(read_end.get(), &byte, 1) != 1) _exit(99);
    const std::string self = ReadText("/proc/self/cgroup");
    _exit(absl::StrContains(self, name + "\n") ? 0 : 1);
  }
  read_end.reset();
  const std::vector<pid_t> procs = Procs(dir);
  EXPECT_THAT(procs, ::testing::ElementsAre(static_cast<pid_t>(pid)));
  // AddProcess is harmless on a child already in place.
  EXPECT_THAT(cgroup->AddProcess(static_cast<pid_t>(pid)), IsOk());
  ASSERT_EQ(write(write_end.get(), "x", 1), 1);
  int status = 0;
  ASSERT_EQ(waitpid(static_cast<pid_t>(pid), &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << DescribeWait(status);
}

// In a child alone in a fresh cgroup, Create must move it into
// <cgroup>/sandbox-supervisor to enable the controllers; with a second
// process there it must refuse.
// memory is a domain controller: unlike the threaded ones (pids, cpu),
// which a cgroup with processes may enable for its children, it falls under
// the rule.
TEST_F(CgroupTest, V2NoInternalProcessesRule) {
  if (Info("memory").version != CgroupVersion::kV2) {
    GTEST_SKIP() << "cgroup v2 does not provide memory here (this host's "
                    "cgroup2 mount has no memory/pids/cpu)";
  }
  if (!IsRoot()) GTEST_SKIP() << "needs root to make the test cgroups";
  const CgroupLimits limits{.memory_bytes = 64 * kMiB};
  {
    // Enables memory for our cgroup's children (moving this process into
    // sandbox-supervisor if it is alone in a non-root cgroup).
    CREATE_OR_SKIP(enable, limits);
  }
  const std::string base = Info("memory").own_dir;

  for (const bool alone : {true, false}) {
    const std::string test_dir =
        absl::StrCat(base, "/norule-test-", getpid(), alone ? "-a" : "-b");
    ASSERT_EQ(mkdir(test_dir.c_str(), 0755), 0) << strerror(errno);
    Child companion([] {
      for (;;) pause();
      return 0;
    });
    if (!alone) {
      ASSERT_TRUE(
          WriteText(test_dir + "/cgroup.procs", absl::StrCat(companion.pid())));
    }
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (!WriteText(test_dir + "/cgroup.procs", absl::StrCat(getpid()))) {
        _exit(10);
      }
      absl::StatusOr<std::unique_ptr<Cgroup>> cgroup = Cgroup::Create(limits);
      if (!alone) {
        std::fprintf(stderr, "with a companion: %s\n",
                     cgroup.status().ToString().c_str());
        _exit(absl::IsFailedPrecondition(cgroup.status()) &&
                      absl::StrContains(cgroup.status().message(),
                                        "no-internal-processes")
                  ? 0
                  : 20);
      }
      if (!cgroup.ok()) {
        std::fprintf(stderr, "alone: %s\n", cgroup.status().ToString().c_str());
        _exit(11);
      }
      if (!absl::StrContains(ReadText("/proc/self/cgroup"),
                             "/sandbox-supervisor\n")) {
        _exit(12);
      }
      if (!absl::StartsWith((*cgroup)->dirs()[0], test_dir + "/sandbox-")) {
        _exit(13);
      }
      // Detection now treats the supervisor's parent as our cgroup.
      absl::StatusOr<std::unique_ptr<Cgroup>> second = Cgroup::Create(limits);
      if (!second.ok() ||
          !absl::StartsWith((*second)->dirs()[0], test_dir + "/sandbox-")) {
        _exit(14);
      }
      const std::vector<std::string> made = {(*cgroup)->dirs()[0],
                                             (*second)->dirs()[0]};
      cgroup->reset();
      second->reset();
      for (const std::string& dir : made) {
        if (PathExists(dir)) _exit(15);
      }
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    kill(companion.pid(), SIGKILL);
    companion.Wait();
    RemoveCgroupTree(test_dir);
    EXPECT_FALSE(PathExists(test_dir));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << (alone ? "alone: " : "with a companion: ") << DescribeWait(status);
  }
}

}  // namespace
}  // namespace sandbox
