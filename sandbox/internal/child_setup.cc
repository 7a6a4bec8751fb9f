// The order of the steps is the security argument; each says why it sits
// where it does. Only raw system calls below this line (see the header).

#include "sandbox/internal/child_setup.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/prctl.h>
#include <linux/seccomp.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/internal/kernel_abi.h"

namespace sandbox::internal {
namespace {

// Where the new root tmpfs is mounted before pivot_root. Any directory that
// exists on the host will do: the mount is private to the new namespace.
constexpr char kNewRootBase[] = "/tmp";
constexpr char kHostDevNull[] = "/.oldroot/dev/null";
// Where the host's root waits after pivot_root into a template's clone.
constexpr char kTemplateOldRoot[] = "/dev/shm";
constexpr char kShmData[] = "size=64M,mode=1777";

// Host-wide kernel state under /proc: made read-only, because a process
// with capabilities in its own user namespace could otherwise still reach
// knobs that are not namespaced.
constexpr const char* kProcReadOnly[] = {
    "/proc/sys",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
};
// Hidden outright (a file gets /dev/null on top, a directory an empty
// read-only tmpfs): kernel memory, key material, timing side channels,
// hardware and the magic SysRq trigger.
constexpr const char* kProcMasked[] = {
    "/proc/kcore",         "/proc/keys",        "/proc/key-users",
    "/proc/timer_list",    "/proc/sched_debug", "/proc/latency_stats",
    "/proc/sysrq-trigger", "/proc/kallsyms",    "/proc/kmsg",
    "/proc/acpi",          "/proc/scsi",        "/proc/asound",
    "/proc/firmware",      "/proc/driver",      "/proc/tty",
    "/proc/interrupts",    "/proc/vmallocinfo", "/proc/pagetypeinfo",
    "/proc/slabinfo",
};

int g_sync_fd = -1;

// The setup's phase times; a fork carries them on to the payload.
uint32_t g_phase_us[kSetupPhaseCount];
int64_t g_phase_start_ns = 0;

int64_t MonotonicNs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
}

void StartPhases() {
  for (uint32_t& us : g_phase_us) us = kPhaseNotRun;
  g_phase_start_ns = MonotonicNs();
}

// `phase` took the time since the last phase ended.
void EndPhase(SetupPhase phase) {
  const int64_t now = MonotonicNs();
  const int64_t us = (now - g_phase_start_ns) / 1000;
  g_phase_us[static_cast<size_t>(phase)] = static_cast<uint32_t>(
      std::min<int64_t>(std::max<int64_t>(us, 0), kPhaseNotRun - 1));
  g_phase_start_ns = now;
}

// Sends one message; for the seccomp notification fd with SCM_RIGHTS.
// sendmsg is what the bootstrap hole of the filter allows, so messages keep
// flowing after the filter is installed.
void SendMessage(ChildMessage& message, int fd_to_pass) {
  memcpy(message.phase_us, g_phase_us, sizeof(g_phase_us));
  struct iovec iov = {&message, sizeof(message)};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (fd_to_pass >= 0) {
    memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd_to_pass, sizeof(int));
  }
  while (sendmsg(g_sync_fd, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// A filter the sandboxee installs itself, through LockDown().
const struct sock_fprog* g_deferred_filter = nullptr;
bool g_deferred_notify = false;

// The host's answer once it holds the listener (ChildMessage kNotifyFd).
constexpr char kListenerTaken = 'L';

// Installs `filter`; with `notify`, tells the supervisor the listener's
// number and waits until the host has taken it from us (pidfd_getfd): no
// descriptor is ever in flight, so no per-user quota another sandbox could
// exhaust stands between the supervisor and the listener, and the payload
// never runs unsupervised (no answer, no payload). The filter's bootstrap
// hole allows exactly this sendmsg and recvmsg. Before an execve the
// listener goes with close-on-exec; without one (`close_listener`) it is
// closed here, since a sandboxee holding it could answer its own
// notifications. A policy that does not allow close then kills the
// sandbox: closed either way.
int InstallSeccompFilter(const struct sock_fprog* filter, bool notify,
                         bool close_listener, bool timed) {
  const unsigned int flags = notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  if (notify) {
    // pidfd_getfd needs ptrace access: an unprivileged host has it to a
    // process of its own uid only while that process is dumpable (the
    // credential change of the setup cleared it; an exec would set it
    // again anyway).
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return -1;
  }
  const long notify_fd =
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, filter);
  if (notify_fd < 0) return -1;
  if (timed) EndPhase(SetupPhase::kSeccomp);
  if (notify) {
    ChildMessage message = {};
    message.type = ChildMessage::Type::kNotifyFd;
    message.detail = static_cast<int32_t>(notify_fd);
    SendMessage(message, -1);
    char answer = 0;
    struct iovec iov = {&answer, 1};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t got;
    do {
      got = recvmsg(g_sync_fd, &msg, 0);
    } while (got < 0 && errno == EINTR);
    // The host refused or is gone: it kills us; never run unsupervised.
    if (got != 1 || answer != kListenerTaken) _exit(125);
    if (close_listener) close(static_cast<int>(notify_fd));
  }
  return 0;
}

const ChildPlan* g_plan = nullptr;

void CopyText(char* out, size_t size, const char* text) {
  if (text == nullptr) return;
  size_t i = 0;
  for (; i + 1 < size && text[i] != '\0'; ++i) out[i] = text[i];
  out[i] = '\0';
}

// "fd 12" without snprintf.
void FormatNumber(char* out, size_t size, const char* prefix, int value) {
  char digits[16];
  int n = 0;
  unsigned int v = value < 0 ? 0u - static_cast<unsigned int>(value)
                             : static_cast<unsigned int>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 15);
  size_t i = 0;
  for (; prefix[i] != '\0' && i + 1 < size; ++i) out[i] = prefix[i];
  if (value < 0 && i + 1 < size) out[i++] = '-';
  while (n > 0 && i + 1 < size) out[i++] = digits[--n];
  out[i] = '\0';
}

const char* RlimitName(int resource) {
  switch (resource) {
    case RLIMIT_NOFILE:
      return "RLIMIT_NOFILE";
    case RLIMIT_CPU:
      return "RLIMIT_CPU";
    case RLIMIT_FSIZE:
      return "RLIMIT_FSIZE";
    case RLIMIT_AS:
      return "RLIMIT_AS";
    case RLIMIT_NPROC:
      return "RLIMIT_NPROC";
    case RLIMIT_CORE:
      return "RLIMIT_CORE";
    case RLIMIT_SIGPENDING:
      return "RLIMIT_SIGPENDING";
    case RLIMIT_MSGQUEUE:
      return "RLIMIT_MSGQUEUE";
    default:
      return "rlimit";
  }
}

// What `step` with `detail` was working on.
void DescribeWhat(SetupStep step, int detail, char* out, size_t size) {
  const ChildPlan* plan = g_plan;
  if (plan == nullptr) return;
  switch (step) {
    case SetupStep::kMkdir:
    case SetupStep::kBind:
    case SetupStep::kBindAttributes:
    case SetupStep::kTmpfs:
      if (detail >= 0 && static_cast<size_t>(detail) < plan->mount_count &&
          plan->mount_descriptions != nullptr) {
        CopyText(out, size, plan->mount_descriptions[detail]);
      }
      break;
    case SetupStep::kMaskProc:
      CopyText(out, size, ProcCoverPath(detail));
      break;
    case SetupStep::kSetRlimit:
      CopyText(out, size, RlimitName(detail));
      break;
    case SetupStep::kUserNamespaceLimits:
      if (detail >= 0 &&
          static_cast<size_t>(detail) < plan->user_ns_limit_count) {
        CopyText(out, size, plan->user_ns_limits[detail].path);
      }
      break;
    case SetupStep::kMapFds:
    case SetupStep::kCloseFds:
      if (detail >= 0) FormatNumber(out, size, "fd ", detail);
      break;
    case SetupStep::kDropBoundingSet:
      if (detail >= 0) FormatNumber(out, size, "capability ", detail);
      break;
    case SetupStep::kExec:
      if (plan->argv != nullptr) CopyText(out, size, plan->argv[0]);
      break;
    case SetupStep::kChdir:
      CopyText(out, size, plan->cwd);
      break;
    case SetupStep::kSetHostname:
      CopyText(out, size, plan->hostname);
      break;
    default:
      break;
  }
}

[[noreturn]] void Fail(SetupStep step, int error, int detail = -1) {
  ChildMessage message = {};
  message.type = ChildMessage::Type::kSetupError;
  message.step = step;
  message.error = error;
  message.detail = detail;
  DescribeWhat(step, detail, message.what, sizeof(message.what));
  SendMessage(message, -1);
  _exit(125);
}

// A negative `expr` fails `step` with errno, `detail` saying on what.
#define SBX_CHILD_CHECK(expr, step, detail)                 \
  do {                                                      \
    if ((expr) < 0) Fail(SetupStep::step, errno, (detail)); \
  } while (false)

// mkdir -p for an absolute path, in a stack buffer.
int MakeDirs(const char* path, bool include_last) {
  char buffer[PATH_MAX];
  const size_t length = strlen(path);
  if (length >= sizeof(buffer)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buffer, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (buffer[i] != '/' && buffer[i] != '\0') continue;
    if (buffer[i] == '\0' && !include_last) break;
    const char saved = buffer[i];
    buffer[i] = '\0';
    if (mkdir(buffer, 0755) < 0 && errno != EEXIST) return -1;
    buffer[i] = saved;
  }
  return 0;
}

int SetMountAttributes(const char* path, uint64_t set, bool recursive) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  return static_cast<int>(syscall(SYS_mount_setattr, AT_FDCWD, path,
                                  recursive ? AT_RECURSIVE : 0, &attr,
                                  sizeof(attr)));
}

// Closes `fd`, keeping errno for the caller's report.
void CloseKeepingErrno(int fd) {
  const int saved = errno;
  close(fd);
  errno = saved;
}

}  // namespace

// Opens the mount point `target` (absolute, normalised by the builder) in
// the new root `root_fd`, making what is missing: directories on the way,
// then a directory, or an empty file unless `directory`. One component at
// a time, none of them a symlink or "..": a symlink that an earlier bind
// brought in (a sandbox may have planted it in a shared directory) fails
// with ELOOP instead of leading the mkdir and the mount elsewhere, such as
// onto the host through kOldRoot. Returns an O_PATH fd, or -1 with errno.
int OpenMountPoint(int root_fd, const char* target, bool directory) {
  constexpr uint64_t kOneStep =
      RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int dir = root_fd;
  const char* rest = target;
  for (;;) {
    while (*rest == '/') ++rest;
    char name[NAME_MAX + 1];
    size_t length = 0;
    while (rest[length] != '\0' && rest[length] != '/') {
      if (length == NAME_MAX) {
        if (dir != root_fd) close(dir);
        errno = ENAMETOOLONG;
        return -1;
      }
      name[length] = rest[length];
      ++length;
    }
    name[length] = '\0';
    rest += length;
    while (*rest == '/') ++rest;
    const bool last = *rest == '\0';
    if (length == 0) {  // "/": the builder never lets it through
      if (dir != root_fd) close(dir);
      errno = EINVAL;
      return -1;
    }
    // Neither follows a symlink at `name`: an existing one is EEXIST here
    // and ELOOP below.
    const bool make_dir = !last || directory;
    const int made = make_dir ? mkdirat(dir, name, 0755)
                              : mknodat(dir, name, S_IFREG | 0644, 0);
    int next = -1;
    if (made == 0 || errno == EEXIST) {
      next =
          Openat2(dir, name, O_PATH | O_CLOEXEC | (make_dir ? O_DIRECTORY : 0),
                  kOneStep);
    }
    if (dir != root_fd) CloseKeepingErrno(dir);
    if (next < 0 || last) return next;
    dir = next;
  }
}

namespace {

// Mounts bind `m` on `mount_point`: the host object the parent opened,
// found again beneath the host's root (`old_root_fd`) following no link at
// all, and refused (ESTALE) unless it is that very inode. The copy gets its
// flags before it is attached, so it is never seen writable, suid or with
// devices unless asked.
void Bind(const ChildMount& m, int old_root_fd, int mount_point, int detail) {
  const int source =
      Openat2(old_root_fd, m.source, O_PATH | O_CLOEXEC,
              RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  SBX_CHILD_CHECK(source, kBind, detail);
  struct stat st;
  SBX_CHILD_CHECK(fstat(source, &st), kBind, detail);
  if (st.st_dev != m.source_dev || st.st_ino != m.source_ino) {
    Fail(SetupStep::kBind, ESTALE, detail);
  }
  const int tree = static_cast<int>(syscall(
      SYS_open_tree, source, "",
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  SBX_CHILD_CHECK(tree, kBind, detail);
  close(source);
  // Recursively, so submounts too.
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (!m.writable) attr.attr_set |= MOUNT_ATTR_RDONLY;
  SBX_CHILD_CHECK(syscall(SYS_mount_setattr, tree, "",
                          AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)),
                  kBindAttributes, detail);
  SBX_CHILD_CHECK(syscall(SYS_move_mount, tree, "", mount_point, "",
                          MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
                  kBind, detail);
  close(tree);
}

// A sized tmpfs on `mount_point`, made with the file system context calls:
// mount(2) would want a path, looked up again.
void MountTmpfs(const ChildMount& m, int mount_point, int detail) {
  const int context =
      static_cast<int>(syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC));
  SBX_CHILD_CHECK(context, kTmpfs, detail);
  SBX_CHILD_CHECK(syscall(SYS_fsconfig, context, FSCONFIG_SET_STRING, "size",
                          m.tmpfs_size, 0),
                  kTmpfs, detail);
  SBX_CHILD_CHECK(syscall(SYS_fsconfig, context, FSCONFIG_SET_STRING, "mode",
                          m.tmpfs_mode, 0),
                  kTmpfs, detail);
  SBX_CHILD_CHECK(
      syscall(SYS_fsconfig, context, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0),
      kTmpfs, detail);
  const int tree =
      static_cast<int>(syscall(SYS_fsmount, context, FSMOUNT_CLOEXEC,
                               MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  SBX_CHILD_CHECK(tree, kTmpfs, detail);
  close(context);
  SBX_CHILD_CHECK(syscall(SYS_move_mount, tree, "", mount_point, "",
                          MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
                  kTmpfs, detail);
  close(tree);
}

// The parent died: nobody would read our reports, and an orphaned sandbox
// must not run.
void ExitIfParentGone() {
  struct pollfd pfd = {g_sync_fd, POLLRDHUP, 0};
  if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLRDHUP | POLLHUP))) _exit(125);
}

void SetParentDeathSignal() {
  SBX_CHILD_CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), kParentDeathSignal,
                  -1);
  ExitIfParentGone();
}

// A /proc of the sandbox's own with its covers. The host's root must still
// be in the namespace: the kernel mounts a procfs only where a whole one is
// already visible.
void MountProc(const ChildPlan& plan) {
  SBX_CHILD_CHECK(MakeDirs("/proc", true), kMountProc, -1);
  SBX_CHILD_CHECK(
      mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr),
      kMountProc, -1);
  // Unconditionally, whatever access() would claim: every listed path
  // that exists is covered. A path this kernel lacks needs no cover.
  int index = -1;
  for (const char* path : kProcReadOnly) {
    ++index;
    if (mount(path, path, nullptr, MS_BIND | MS_REC, nullptr) < 0) {
      if (errno == ENOENT) continue;
      Fail(SetupStep::kMaskProc, errno, index);
    }
    SBX_CHILD_CHECK(SetMountAttributes(path,
                                       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                           MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                                       true),
                    kMaskProc, index);
  }
  // Directories get one empty read-only tmpfs, the first made and the
  // rest bound from it (same flags): a bind is cheaper than a superblock.
  const char* empty_dir = nullptr;
  for (const char* path : kProcMasked) {
    ++index;
    struct stat st;
    if (lstat(path, &st) < 0) {
      if (errno == ENOENT) continue;
      Fail(SetupStep::kMaskProc, errno, index);
    }
    if (S_ISDIR(st.st_mode) && empty_dir != nullptr) {
      SBX_CHILD_CHECK(mount(empty_dir, path, nullptr, MS_BIND, nullptr),
                      kMaskProc, index);
    } else if (S_ISDIR(st.st_mode)) {
      SBX_CHILD_CHECK(mount("tmpfs", path, "tmpfs",
                            MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                            "size=0,mode=555"),
                      kMaskProc, index);
      empty_dir = path;
    } else if (plan.mount_dev) {
      // Our /dev/null is read-only, nosuid and noexec already, and a
      // bind takes the flags of its source.
      SBX_CHILD_CHECK(mount("/dev/null", path, nullptr, MS_BIND, nullptr),
                      kMaskProc, index);
    } else {
      SBX_CHILD_CHECK(mount(kHostDevNull, path, nullptr, MS_BIND, nullptr),
                      kMaskProc, index);
      SBX_CHILD_CHECK(
          SetMountAttributes(
              path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
              false),
          kMaskProc, index);
    }
  }
}

// The template's clone becomes the root, if the kernel lets us clone it
// here: false (nothing done) where it does not.
bool AttachMountTemplate(const ChildPlan& plan) {
  const int tree = static_cast<int>(syscall(
      SYS_open_tree, plan.mount_template_fd, "",
      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE));
  if (tree < 0) return false;
  const long moved = syscall(SYS_move_mount, tree, "", AT_FDCWD, kNewRootBase,
                             MOVE_MOUNT_F_EMPTY_PATH);
  close(tree);
  return moved == 0;
}

// The rest on top of the template's clone: pivot_root into it, the
// policy's tmpfs mounts (their mount points are in the template), /proc,
// then the host's root away and the sandbox's own /dev/shm where it sat.
// The root, /dev and the binds came read-only, nosuid and nodev as
// BuildFilesystem would make them.
void FinishFromTemplate(const ChildPlan& plan) {
  SBX_CHILD_CHECK(chdir(kNewRootBase), kPivotRoot, -1);
  // /dev/shm: the one mount point of the template that is covered later.
  SBX_CHILD_CHECK(syscall(SYS_pivot_root, ".", kTemplateOldRoot + 1),
                  kPivotRoot, -1);
  SBX_CHILD_CHECK(chdir("/"), kPivotRoot, -1);
  EndPhase(SetupPhase::kNewRoot);
  EndPhase(SetupPhase::kDev);  // the template's
  const int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  SBX_CHILD_CHECK(root_fd, kPivotRoot, -1);
  for (size_t i = 0; i < plan.mount_count; ++i) {
    const ChildMount& m = plan.mounts[i];
    if (m.kind != ChildMount::Kind::kTmpfs) continue;
    const int detail = static_cast<int>(i);
    const int mount_point = OpenMountPoint(root_fd, m.target, true);
    SBX_CHILD_CHECK(mount_point, kMkdir, detail);
    MountTmpfs(m, mount_point, detail);
    close(mount_point);
  }
  close(root_fd);
  EndPhase(SetupPhase::kBinds);
  if (plan.mount_proc) {
    MountProc(plan);
    EndPhase(SetupPhase::kProc);
  }
  SBX_CHILD_CHECK(umount2(kTemplateOldRoot, MNT_DETACH), kDetachOldRoot, -1);
  SBX_CHILD_CHECK(mount("tmpfs", kTemplateOldRoot, "tmpfs",
                        MS_NOSUID | MS_NODEV | MS_NOEXEC, kShmData),
                  kMountDev, -1);
}

// The child's side of the mounts: carries out the plan mounts.h prepared
// (and Build() checked) in a new root, then leaves the host's root behind.
void BuildFilesystem(const ChildPlan& plan) {
  // Mount events must not leak to the host, nor host events in.
  SBX_CHILD_CHECK(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
                  kMakeMountsPrivate, -1);
  if (plan.mount_template_fd >= 0 && AttachMountTemplate(plan)) {
    FinishFromTemplate(plan);
    return;
  }
  // A fresh tmpfs becomes the root: nothing of the host is visible unless
  // bound below. pivot_root (not chroot) leaves no path back.
  SBX_CHILD_CHECK(mount("tmpfs", kNewRootBase, "tmpfs", MS_NOSUID | MS_NODEV,
                        plan.root_tmpfs_data),
                  kMountRoot, -1);
  SBX_CHILD_CHECK(chdir(kNewRootBase), kPivotRoot, -1);
  SBX_CHILD_CHECK(mkdir(kOldRoot + 1, 0700), kPivotRoot, -1);
  SBX_CHILD_CHECK(syscall(SYS_pivot_root, ".", kOldRoot + 1), kPivotRoot, -1);
  SBX_CHILD_CHECK(chdir("/"), kPivotRoot, -1);
  EndPhase(SetupPhase::kNewRoot);

  // The minimal /dev comes first: /proc masks use its /dev/null.
  if (plan.mount_dev) {
    SBX_CHILD_CHECK(mkdir("/dev", 0755), kMountDev, -1);
    SBX_CHILD_CHECK(mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC,
                          "size=64k,mode=755"),
                    kMountDev, -1);
    char source[64];
    char target[64];
    for (const char* node : kMinimalDevNodes) {
      strcpy(source, "/.oldroot/dev/");
      strcat(source, node);
      strcpy(target, "/dev/");
      strcat(target, node);
      const int fd =
          open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      SBX_CHILD_CHECK(fd, kMountDev, -1);
      close(fd);
      SBX_CHILD_CHECK(mount(source, target, nullptr, MS_BIND, nullptr),
                      kMountDev, -1);
    }
    SBX_CHILD_CHECK(symlink("/proc/self/fd", "/dev/fd"), kMountDev, -1);
    SBX_CHILD_CHECK(symlink("/proc/self/fd/0", "/dev/stdin"), kMountDev, -1);
    SBX_CHILD_CHECK(symlink("/proc/self/fd/1", "/dev/stdout"), kMountDev, -1);
    SBX_CHILD_CHECK(symlink("/proc/self/fd/2", "/dev/stderr"), kMountDev, -1);
    SBX_CHILD_CHECK(mkdir("/dev/shm", 01777), kMountDev, -1);
    // /dev and every node bound in it at once: read-only, never suid or
    // executable (device nodes need "dev"; read-only changes nothing for
    // them). Then the writable /dev/shm on top.
    SBX_CHILD_CHECK(
        SetMountAttributes(
            "/dev", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
            true),
        kMountDev, -1);
    SBX_CHILD_CHECK(mount("tmpfs", "/dev/shm", "tmpfs",
                          MS_NOSUID | MS_NODEV | MS_NOEXEC, kShmData),
                    kMountDev, -1);
  }

  if (plan.mount_dev) EndPhase(SetupPhase::kDev);
  // Every path below is looked up from one of these two, never from "/" or
  // the working directory.
  const int root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  SBX_CHILD_CHECK(root_fd, kPivotRoot, -1);
  const int old_root_fd = open(kOldRoot, O_PATH | O_DIRECTORY | O_CLOEXEC);
  SBX_CHILD_CHECK(old_root_fd, kPivotRoot, -1);
  for (size_t i = 0; i < plan.mount_count; ++i) {
    const ChildMount& m = plan.mounts[i];
    const int detail = static_cast<int>(i);
    const bool directory =
        m.kind == ChildMount::Kind::kTmpfs || m.source_is_dir;
    const int mount_point = OpenMountPoint(root_fd, m.target, directory);
    SBX_CHILD_CHECK(mount_point, kMkdir, detail);
    if (m.kind == ChildMount::Kind::kTmpfs) {
      MountTmpfs(m, mount_point, detail);
    } else {
      Bind(m, old_root_fd, mount_point, detail);
    }
    close(mount_point);
  }
  close(old_root_fd);
  close(root_fd);

  EndPhase(SetupPhase::kBinds);
  if (plan.mount_proc) MountProc(plan);
  if (plan.mount_proc) EndPhase(SetupPhase::kProc);
  // The host's root goes away for good.
  SBX_CHILD_CHECK(umount2(kOldRoot, MNT_DETACH), kDetachOldRoot, -1);
  SBX_CHILD_CHECK(rmdir(kOldRoot), kDetachOldRoot, -1);
  if (!plan.writable_root) {
    SBX_CHILD_CHECK(SetMountAttributes("/", MOUNT_ATTR_RDONLY, false),
                    kRootReadOnly, -1);
  }
}

void BringUpLoopback() { SBX_CHILD_CHECK(LoopbackUp(), kLoopbackUp, -1); }

// Becomes the sandbox user. Raw system calls: libc's setresuid would try to
// signal threads that only exist in the host.
void SwitchIds(const ChildPlan& plan) {
  SBX_CHILD_CHECK(syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid),
                  kSetresgid, -1);
  SBX_CHILD_CHECK(syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid),
                  kSetresuid, -1);
  // A credential change clears the parent-death signal.
  SetParentDeathSignal();
}

// Drops every capability for good, with libcap on the empty set the parent
// prepared. The bounding set and securebits need CAP_SETPCAP, so without a
// user namespace they go before root's uid change (with one, the switch to
// the sandbox user came first and kept the namespace's capabilities); the
// explicit empty capset at the end is needed because a uid change away
// from a non-zero (unmapped) id keeps them.
void DropPrivileges(const ChildPlan& plan) {
  if (plan.drop_bounding_set) {
    for (int cap = 0; cap <= plan.last_cap; ++cap) {
      if (cap_drop_bound(cap) < 0 && errno != EINVAL) {
        Fail(SetupStep::kDropBoundingSet, errno, cap);
      }
    }
    // uid 0 gains nothing by exec, and no one can undo that.
    SBX_CHILD_CHECK(
        prctl(PR_SET_SECUREBITS,
              SECBIT_NOROOT | SECBIT_NOROOT_LOCKED |
                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                  SECBIT_NO_CAP_AMBIENT_RAISE |
                  SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
              0, 0, 0),
        kSecurebits, -1);
  }
  if (!plan.new_user_ns) SwitchIds(plan);
  SBX_CHILD_CHECK(cap_reset_ambient(), kDropCapabilities, -1);
  SBX_CHILD_CHECK(cap_set_proc(plan.empty_caps), kDropCapabilities, -1);
  SBX_CHILD_CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), kNoNewPrivs, -1);
  // The credential change cleared the parent-death signal.
  SetParentDeathSignal();
}

void ScopeAbstractUnixSockets() {
  struct LandlockRulesetAttr attr = {};
  attr.scoped = kLandlockScopeAbstractUnixSocket;
  const long ruleset =
      syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
  SBX_CHILD_CHECK(ruleset, kLandlockScope, -1);
  SBX_CHILD_CHECK(syscall(SYS_landlock_restrict_self, ruleset, 0),
                  kLandlockScope, -1);
  close(static_cast<int>(ruleset));
}

// Closes every fd in [from, to].
void CloseRange(int from, int to) {
  if (from > to) return;
  SBX_CHILD_CHECK(close_range(from, to, 0), kCloseFds, from);
}

// Closes every descriptor but `keep`.
void KeepOnlyFds(int keep) {
  CloseRange(0, keep - 1);
  CloseRange(keep + 1, INT_MAX);
}

// Exec mode with seccomp deferred to LockDown(): the program gets its
// filter in a sealed memfd at bootstrap_fd + 1 and keeps the sync socket at
// bootstrap_fd across execve, both above RLIMIT_NOFILE, so that it cannot
// open anything else there (kLockDownEnv tells it where they are,
// LockDownExec() installs the filter).
void PassFilterAcrossExec(const ChildPlan& plan) {
  const int memfd = static_cast<int>(syscall(SYS_memfd_create, "sandbox-filter",
                                             MFD_CLOEXEC | MFD_ALLOW_SEALING));
  SBX_CHILD_CHECK(memfd, kInstallSeccomp, -1);
  const size_t size = plan.filter->len * sizeof(struct sock_filter);
  const char* bytes = reinterpret_cast<const char*>(plan.filter->filter);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = write(memfd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    SBX_CHILD_CHECK(n, kInstallSeccomp, -1);
    done += static_cast<size_t>(n);
  }
  SBX_CHILD_CHECK(
      fcntl(memfd, F_ADD_SEALS,
            F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL),
      kInstallSeccomp, -1);
  // dup2 leaves both without close-on-exec.
  SBX_CHILD_CHECK(dup2(memfd, plan.bootstrap_fd + 1), kInstallSeccomp, -1);
  close(memfd);
  SBX_CHILD_CHECK(fcntl(plan.bootstrap_fd, F_SETFD, 0), kInstallSeccomp, -1);
}

// Puts the sync socket at the bootstrap number, the mapped fds at their
// targets, and closes everything else.
void ArrangeFds(const ChildPlan& plan) {
  const struct rlimit64 raised = {plan.host_nofile_hard, plan.host_nofile_hard};
  SBX_CHILD_CHECK(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &raised, nullptr),
                  kMapFds, -1);
  SBX_CHILD_CHECK(dup3(g_sync_fd, plan.bootstrap_fd, O_CLOEXEC), kMapFds, -1);
  g_sync_fd = plan.bootstrap_fd;
  // Sources first move above every target, so that no dup2 clobbers a
  // source still to be copied.
  int moved[64];
  if (plan.fd_count > sizeof(moved) / sizeof(moved[0]))
    Fail(SetupStep::kMapFds, E2BIG);
  for (size_t i = 0; i < plan.fd_count; ++i) {
    moved[i] =
        fcntl(plan.fd_sources[i], F_DUPFD_CLOEXEC, plan.bootstrap_fd + 1);
    SBX_CHILD_CHECK(moved[i], kMapFds, plan.fd_sources[i]);
  }
  for (size_t i = 0; i < plan.fd_count; ++i) {
    SBX_CHILD_CHECK(dup2(moved[i], plan.fd_targets[i]), kMapFds,
                    plan.fd_targets[i]);
  }
  // Targets are sorted ascending.
  int next = 0;
  for (size_t i = 0; i < plan.fd_count; ++i) {
    CloseRange(next, plan.fd_targets[i] - 1);
    next = plan.fd_targets[i] + 1;
  }
  CloseRange(next, plan.bootstrap_fd - 1);
  CloseRange(plan.bootstrap_fd + 1, INT_MAX);
  if (plan.defer_seccomp && plan.worker_entry == nullptr &&
      plan.filter != nullptr) {
    PassFilterAcrossExec(plan);
  }
}

void ResetSignals() {
  struct sigaction action = {};
  action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < _NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    // Signals glibc reserves for itself fail with EINVAL; nothing to reset.
    sigaction(sig, &action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  SBX_CHILD_CHECK(sigprocmask(SIG_SETMASK, &none, nullptr), kResetSignals, -1);
}

[[noreturn]] void RunPayload(const ChildPlan& plan) {
  ArrangeFds(plan);
  for (size_t i = 0; i < plan.rlimit_count; ++i) {
    SBX_CHILD_CHECK(syscall(SYS_prlimit64, 0, plan.rlimits[i].resource,
                            &plan.rlimits[i].value, nullptr),
                    kSetRlimit, plan.rlimits[i].resource);
  }
  ResetSignals();
  // The program is found before the filter goes in, so that the payload
  // makes exactly one execve: the one the supervisor lets through when the
  // policy does not allow execve itself (first_exec_by_supervisor). Like
  // execvp, the first candidate it may execute wins, and permission
  // problems win over "not found".
  const char* program = nullptr;
  int exec_error = ENOENT;
  for (size_t i = 0; program == nullptr && i < plan.exec_candidate_count; ++i) {
    if (access(plan.exec_candidates[i], X_OK) == 0) {
      program = plan.exec_candidates[i];
    } else if (errno != ENOENT && errno != ENOTDIR) {
      exec_error = errno;
    }
  }
  if (program == nullptr && plan.worker_entry == nullptr) {
    Fail(SetupStep::kExec, exec_error);
  }
  EndPhase(SetupPhase::kArrangeFds);
  // Last before execve, so the policy need not allow any setup call. From
  // here on only sendmsg on the bootstrap fd is allowed beyond the policy.
  if (plan.filter != nullptr && !plan.defer_seccomp) {
    if (InstallSeccompFilter(plan.filter, plan.filter_notify,
                             /*close_listener=*/plan.worker_entry != nullptr,
                             /*timed=*/plan.time_seccomp) < 0) {
      Fail(SetupStep::kInstallSeccomp, errno);
    }
  }
  // Until LockDown() the fixed deny list holds all the same: the kernel's
  // most exposed calls, nested namespaces, filters of its own.
  if (plan.defer_seccomp && plan.lockdown_prelude != nullptr) {
    SBX_CHILD_CHECK(
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, plan.lockdown_prelude),
        kInstallSeccomp, -1);
  }
  // The phase times went with the listener; otherwise on their own.
  if (plan.filter == nullptr || plan.defer_seccomp || !plan.filter_notify) {
    ChildMessage message = {};
    message.type = ChildMessage::Type::kSetupTimes;
    SendMessage(message, -1);
  }
  if (plan.worker_entry != nullptr) {
    if (plan.defer_seccomp) {
      g_deferred_filter = plan.filter;
      g_deferred_notify = plan.filter_notify;
    }
    _exit(plan.worker_entry(plan.worker_arg));
  }
  execve(program, plan.argv, plan.envp);
  Fail(SetupStep::kExec, errno);
}

// ChildPlan::await_command: the received descriptors, in the targets' order.
int g_command_fds[kMaxCommandFds];

// The next NUL-terminated string at `*at`, which must end before `end`.
char* NextString(char** at, const char* end) {
  char* text = *at;
  const void* nul = memchr(text, 0, static_cast<size_t>(end - text));
  if (text >= end || nul == nullptr) Fail(SetupStep::kReceiveCommand, EINVAL);
  *at = static_cast<char*>(const_cast<void*>(nul)) + 1;
  return text;
}

// A prewarmed child waits here for its command (CommandHeader) and points
// `plan` at it: a private mapping holds the strings and their pointer
// arrays until execve. The host is gone when the socket ends. (Raw calls
// only, so not the fork server's ReceiveWithFds.)
void ReceiveCommand(ChildPlan& plan) {
  constexpr size_t kPointerBytes = (kMaxCommandBytes + 3) * sizeof(char*);
  void* region =
      mmap(nullptr, kMaxCommandBytes + kPointerBytes, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) Fail(SetupStep::kReceiveCommand, errno);
  char* bytes = static_cast<char*>(region);
  struct iovec iov = {bytes, kMaxCommandBytes};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(g_command_fds))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t got;
  do {
    got = recvmsg(g_sync_fd, &msg, MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got == 0) _exit(125);
  if (got < 0) Fail(SetupStep::kReceiveCommand, errno);
  size_t fd_count = 0;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count && fd_count < kMaxCommandFds; ++i) {
      memcpy(&g_command_fds[fd_count++], CMSG_DATA(cmsg) + i * sizeof(int),
             sizeof(int));
    }
  }
  CommandHeader header;
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
      static_cast<size_t>(got) < sizeof(header)) {
    Fail(SetupStep::kReceiveCommand, EMSGSIZE);
  }
  memcpy(&header, bytes, sizeof(header));
  const size_t strings =
      uint64_t{header.argc} + header.envc + header.candidate_count + 1;
  if (header.size != static_cast<size_t>(got) || header.fd_count != fd_count ||
      sizeof(header) + fd_count * sizeof(int32_t) > static_cast<size_t>(got) ||
      strings > kMaxCommandBytes) {
    Fail(SetupStep::kReceiveCommand, EINVAL);
  }
  int32_t* targets = reinterpret_cast<int32_t*>(bytes + sizeof(header));
  char* at = bytes + sizeof(header) + fd_count * sizeof(int32_t);
  const char* end = bytes + got;
  char** pointers = reinterpret_cast<char**>(bytes + kMaxCommandBytes);
  plan.cwd = NextString(&at, end);
  char** argv = pointers;
  for (uint32_t i = 0; i < header.argc; ++i) *pointers++ = NextString(&at, end);
  *pointers++ = nullptr;
  char** envp = pointers;
  for (uint32_t i = 0; i < header.envc; ++i) *pointers++ = NextString(&at, end);
  *pointers++ = nullptr;
  const char** candidates = const_cast<const char**>(pointers);
  for (uint32_t i = 0; i < header.candidate_count; ++i) {
    *pointers++ = NextString(&at, end);
  }
  plan.argv = argv;
  plan.envp = envp;
  // A zygote worker: its name is the one argument.
  if (plan.worker_entry != nullptr) {
    if (header.argc != 1) Fail(SetupStep::kReceiveCommand, EINVAL);
    plan.worker_arg = argv[0];
  }
  plan.exec_candidates = candidates;
  plan.exec_candidate_count = header.candidate_count;
  plan.fd_sources = g_command_fds;
  plan.fd_targets = targets;
  plan.fd_count = fd_count;
}

// pid 1 of the sandbox's pid namespace: reaps every orphan and reports how
// the payload ended. When it exits, the kernel kills what is left.
[[noreturn]] void RunInit(pid_t payload) {
  // Nothing of the host stays open here but the sync socket.
  if (g_sync_fd > 0) close_range(0, g_sync_fd - 1, 0);
  close_range(g_sync_fd + 1, INT_MAX, 0);
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      _exit(126);  // No payload left to wait for: cannot happen.
    }
    if (pid == payload) {
      ChildMessage message = {};
      message.type = ChildMessage::Type::kExitStatus;
      message.wait_status = status;
      SendMessage(message, -1);
      _exit(0);
    }
  }
}

}  // namespace

int LockDownExec(int sync_fd, int filter_fd, bool notify) {
  // The filter, sealed so that nothing changed it since the sandbox made it.
  if (fcntl(filter_fd, F_GET_SEALS) !=
      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
    errno = EBADF;
    return -1;
  }
  struct stat st;
  if (fstat(filter_fd, &st) != 0) return -1;
  if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0 ||
      st.st_size > BPF_MAXINSNS * static_cast<off_t>(sizeof(sock_filter))) {
    errno = EINVAL;
    return -1;
  }
  void* map = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, filter_fd, 0);
  if (map == MAP_FAILED) return -1;
  struct sock_fprog program = {};
  program.len = static_cast<unsigned short>(st.st_size / sizeof(sock_filter));
  program.filter = static_cast<struct sock_filter*>(map);
  g_sync_fd = sync_fd;
  StartPhases();  // a new program: no setup phases to report
  const int rc = InstallSeccompFilter(&program, notify, /*close_listener=*/true,
                                      /*timed=*/false);
  const int saved = errno;
  munmap(map, st.st_size);
  close(filter_fd);
  // The sync socket stays: closing it is a call the policy may not allow,
  // and only the host's supervisor reads what comes out of it.
  errno = saved;
  return rc;
}

int SandboxSyncFd() { return g_sync_fd; }

int LockDownDeferred() {
  if (g_deferred_filter == nullptr) {
    errno = EALREADY;
    return -1;
  }
  const struct sock_fprog* filter = g_deferred_filter;
  g_deferred_filter = nullptr;
  return InstallSeccompFilter(filter, g_deferred_notify,
                              /*close_listener=*/true, /*timed=*/false);
}

const char* ProcCoverPath(int index) {
  constexpr int kReadOnlyCount =
      sizeof(kProcReadOnly) / sizeof(kProcReadOnly[0]);
  constexpr int kMaskedCount = sizeof(kProcMasked) / sizeof(kProcMasked[0]);
  if (index < 0) return "/proc";
  if (index < kReadOnlyCount) return kProcReadOnly[index];
  if (index < kReadOnlyCount + kMaskedCount) {
    return kProcMasked[index - kReadOnlyCount];
  }
  return "/proc";
}

const char* SetupPhaseName(SetupPhase phase) {
  switch (phase) {
    case SetupPhase::kWaitForParent:
      return "wait_for_parent";
    case SetupPhase::kIdentity:
      return "identity";
    case SetupPhase::kNewRoot:
      return "new_root";
    case SetupPhase::kDev:
      return "dev";
    case SetupPhase::kBinds:
      return "binds";
    case SetupPhase::kProc:
      return "proc";
    case SetupPhase::kFinishRoot:
      return "finish_root";
    case SetupPhase::kNetwork:
      return "network";
    case SetupPhase::kWaitForCommand:
      return "wait_for_command";
    case SetupPhase::kDropPrivileges:
      return "drop_privileges";
    case SetupPhase::kForkPayload:
      return "fork_payload";
    case SetupPhase::kArrangeFds:
      return "arrange_fds";
    case SetupPhase::kSeccomp:
      return "seccomp";
    case SetupPhase::kCount:
      break;
  }
  return "unknown";
}

const char* SetupStepName(SetupStep step) {
  switch (step) {
    case SetupStep::kParentDeathSignal:
      return "parent_death_signal";
    case SetupStep::kSetgroups:
      return "setgroups";
    case SetupStep::kSetresgid:
      return "setresgid";
    case SetupStep::kSetresuid:
      return "setresuid";
    case SetupStep::kUserNamespaceLimits:
      return "user_namespace_limits";
    case SetupStep::kSetsid:
      return "setsid";
    case SetupStep::kMakeMountsPrivate:
      return "make_mounts_private";
    case SetupStep::kMountRoot:
      return "mount_root_tmpfs";
    case SetupStep::kPivotRoot:
      return "pivot_root";
    case SetupStep::kMountDev:
      return "mount_dev";
    case SetupStep::kMkdir:
      return "mkdir";
    case SetupStep::kBind:
      return "bind";
    case SetupStep::kBindAttributes:
      return "bind_attributes";
    case SetupStep::kTmpfs:
      return "tmpfs";
    case SetupStep::kMountProc:
      return "mount_proc";
    case SetupStep::kMaskProc:
      return "mask_proc";
    case SetupStep::kDetachOldRoot:
      return "detach_old_root";
    case SetupStep::kRootReadOnly:
      return "root_read_only";
    case SetupStep::kChdir:
      return "chdir";
    case SetupStep::kSetHostname:
      return "sethostname";
    case SetupStep::kLoopbackUp:
      return "loopback_up";
    case SetupStep::kCgroupNamespace:
      return "cgroup_namespace";
    case SetupStep::kDropBoundingSet:
      return "drop_bounding_set";
    case SetupStep::kSecurebits:
      return "securebits";
    case SetupStep::kDropCapabilities:
      return "drop_capabilities";
    case SetupStep::kNoNewPrivs:
      return "no_new_privs";
    case SetupStep::kLandlockRestrict:
      return "landlock_restrict_self";
    case SetupStep::kLandlockScope:
      return "landlock_scope";
    case SetupStep::kResetSignals:
      return "reset_signals";
    case SetupStep::kForkPayload:
      return "fork_payload";
    case SetupStep::kMapFds:
      return "map_fds";
    case SetupStep::kCloseFds:
      return "close_fds";
    case SetupStep::kSetRlimit:
      return "setrlimit";
    case SetupStep::kInstallSeccomp:
      return "install_seccomp";
    case SetupStep::kExec:
      return "execve";
    case SetupStep::kTakeListener:
      return "take_listener";
    case SetupStep::kCgroupAttach:
      return "cgroup_attach";
    case SetupStep::kReceiveCommand:
      return "receive_command";
  }
  return "unknown";
}

int LoopbackUp() {
  const int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return -1;
  struct ifreq request = {};
  strcpy(request.ifr_name, "lo");
  int rc = ioctl(sock, SIOCGIFFLAGS, &request);
  if (rc == 0) {
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    rc = ioctl(sock, SIOCSIFFLAGS, &request);
  }
  const int error = errno;
  close(sock);
  errno = error;
  return rc;
}

void RunChild(const ChildPlan& plan, int sync_fd, int parent_end) {
  StartPhases();
  g_sync_fd = sync_fd;
  g_plan = &plan;
  // The parent's end must not stay open here, or the parent's death would
  // go unnoticed; nor the fork server's channel, or its death would.
  close(parent_end);
  if (plan.server_channel_fd >= 0) close(plan.server_channel_fd);
  // 1. Die with the parent, and wait until it has written our id maps and
  //    placed us in our cgroup: until then we have no identity to act as.
  SetParentDeathSignal();
  char go = 0;
  ssize_t got;
  do {
    got = read(g_sync_fd, &go, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1) _exit(125);
  // Into the sandbox's v1 cgroups, before anything of the sandboxee exists.
  for (size_t i = 0; i < plan.cgroup_tasks_fd_count; ++i) {
    if (write(plan.cgroup_tasks_fds[i], "0", 1) != 1) {
      Fail(SetupStep::kCgroupAttach, errno, static_cast<int>(i));
    }
    close(plan.cgroup_tasks_fds[i]);
  }
  EndPhase(SetupPhase::kWaitForParent);
  if (plan.clear_groups) {
    SBX_CHILD_CHECK(syscall(SYS_setgroups, 0, nullptr), kSetgroups, -1);
  }
  // In a user namespace we become the sandbox user at once: files the setup
  // creates need an owner the namespace maps (a root host's own uid is not
  // mapped), and the namespace's capabilities stay, since the old uid was
  // not the namespace's root. Without one, root keeps its uid until the end.
  if (plan.new_user_ns) SwitchIds(plan);
  // Our namespace's own limits, while we hold CAP_SYS_RESOURCE in it and
  // the host's /proc still shows them (the files name the opener's
  // namespace). Every sandbox's namespace is created by the same host user,
  // whose quotas (inotify instances, namespaces) it is charged against as
  // well: one sandbox must not be able to spend them all.
  for (size_t i = 0; i < plan.user_ns_limit_count; ++i) {
    const ChildSysctl& limit = plan.user_ns_limits[i];
    const int fd = open(limit.path, O_WRONLY | O_CLOEXEC);
    SBX_CHILD_CHECK(fd, kUserNamespaceLimits, static_cast<int>(i));
    const size_t length = strlen(limit.value);
    if (write(fd, limit.value, length) != static_cast<ssize_t>(length)) {
      Fail(SetupStep::kUserNamespaceLimits, errno, static_cast<int>(i));
    }
    close(fd);
  }
  // A new session: no controlling terminal, so no TIOCSTI into the caller's.
  SBX_CHILD_CHECK(setsid(), kSetsid, -1);
  EndPhase(SetupPhase::kIdentity);

  // 2. The filesystem, while we still hold capabilities in our namespaces.
  if (plan.new_mount_ns) BuildFilesystem(plan);
  if (!plan.await_command) SBX_CHILD_CHECK(chdir(plan.cwd), kChdir, -1);
  EndPhase(SetupPhase::kFinishRoot);

  // 3. Hostname and loopback.
  if (plan.new_uts_ns && plan.hostname != nullptr) {
    SBX_CHILD_CHECK(sethostname(plan.hostname, strlen(plan.hostname)),
                    kSetHostname, -1);
  }
  if (plan.new_net_ns) BringUpLoopback();
  // The cgroup namespace last: its root is the cgroup the parent put us in.
  if (plan.new_cgroup_ns) {
    SBX_CHILD_CHECK(unshare(CLONE_NEWCGROUP), kCgroupNamespace, -1);
  }

  EndPhase(SetupPhase::kNetwork);
  // 4. No capability, no way to gain one.
  DropPrivileges(plan);
  // Sandboxes sharing a network namespace would otherwise reach each
  // other's abstract unix sockets (and pass descriptors through them).
  // After no_new_privs, which an unprivileged Landlock domain needs.
  if (plan.scope_abstract_unix) ScopeAbstractUnixSockets();
  // namespaces.landlock_fallback: the policy's view, in place of the
  // namespaces this host cannot make. After no_new_privs, like the above.
  if (plan.landlock_ruleset_fd >= 0) {
    SBX_CHILD_CHECK(
        syscall(SYS_landlock_restrict_self, plan.landlock_ruleset_fd, 0),
        kLandlockRestrict, -1);
    close(plan.landlock_ruleset_fd);
  }
  EndPhase(SetupPhase::kDropPrivileges);

  // 5. With a pid namespace we are its init: the payload runs as our child
  //    and we stay to reap.
  if (plan.new_pid_ns && !plan.program_is_init) {
    // Nothing in the sandbox may read or write our memory.
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    // A host that ignores SIGCHLD passes that on (through the fork
    // server's exec too): then the kernel would reap the payload before we
    // could learn its status.
    struct sigaction default_action = {};
    default_action.sa_handler = SIG_DFL;
    SBX_CHILD_CHECK(sigaction(SIGCHLD, &default_action, nullptr), kResetSignals,
                    -1);
    const long payload =
        syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0);
    SBX_CHILD_CHECK(payload, kForkPayload, -1);
    if (payload > 0) RunInit(static_cast<pid_t>(payload));
    EndPhase(SetupPhase::kForkPayload);
    // Die with init, which is the one the host watches.
    SetParentDeathSignal();
  }
  // 6. A prewarmed sandbox is ready: only its command is missing, and
  //    nothing of the sandboxee exists yet.
  if (!plan.await_command) RunPayload(plan);
  // It may wait long: nothing the process that cloned it held stays open
  // meanwhile (bind sources, other sandboxes' namespaces), only the sync
  // socket.
  KeepOnlyFds(g_sync_fd);
  ChildMessage ready = {};
  ready.type = ChildMessage::Type::kReady;
  SendMessage(ready, -1);
  ChildPlan commanded = plan;
  ReceiveCommand(commanded);
  g_plan = &commanded;
  EndPhase(SetupPhase::kWaitForCommand);
  // With the sandboxee's own permissions, which a program it then runs
  // has too (without prewarming the cwd is entered before privileges go).
  SBX_CHILD_CHECK(chdir(commanded.cwd), kChdir, -1);
  RunPayload(commanded);
}

}  // namespace sandbox::internal
