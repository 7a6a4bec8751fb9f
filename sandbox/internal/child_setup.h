// The child side of a spawn: the ordered setup steps between clone and
// execve. Internal to the library.
//
// Everything here runs in a process cloned from a possibly multi-threaded
// host, so it may only make raw system calls: no allocation, no locks, no
// libc wrappers that keep state (setresuid, fork), no Abseil or libseccomp.
// libcap is used only for calls that wrap one prctl or capset on memory the
// parent allocated (cap_drop_bound, cap_set_proc, cap_reset_ambient). The
// parent prepares a ChildPlan of plain memory; the child reads it and
// reports a failing step as a ChildMessage {step, errno} on the sync socket,
// then _exits. The parent turns that into a SETUP_ERROR Result.

#ifndef SANDBOX_INTERNAL_CHILD_SETUP_H_
#define SANDBOX_INTERNAL_CHILD_SETUP_H_

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

// libcap's capability set (cap_t is a pointer to it).
struct _cap_struct;

namespace sandbox::internal {

// Where the host's root stays reachable in the child between pivot_root and
// its detach. No mount may target it (PolicyBuilder refuses).
inline constexpr char kOldRoot[] = "/.oldroot";

// The setup steps a SETUP_ERROR can name, in the order they first run in
// RunChild() with a user and a pid namespace (without a user namespace,
// setresgid and setresuid come after securebits). Some run again: the
// parent-death signal after every credential change and in the payload;
// the signal reset, first for init's SIGCHLD, again in the payload. Names
// (SetupStepName) appear in Results and messages. Waiting for the parent's
// go, and handing it the notification fd, are no steps: when they fail
// the parent is gone or broken, no one would read a report, and the child
// just exits.
enum class SetupStep : uint32_t {
  kParentDeathSignal = 1,
  kSetgroups,
  kSetresgid,
  kSetresuid,
  kUserNamespaceLimits,
  kSetsid,
  kMakeMountsPrivate,
  kMountRoot,
  kPivotRoot,
  kMountDev,
  kMkdir,
  kBind,
  kBindAttributes,
  kTmpfs,
  kMountProc,
  kMaskProc,
  kDetachOldRoot,
  kRootReadOnly,
  kChdir,
  kSetHostname,
  kLoopbackUp,
  kCgroupNamespace,
  kDropBoundingSet,
  kSecurebits,
  kDropCapabilities,
  kNoNewPrivs,
  kLandlockRestrict,
  kLandlockScope,
  kResetSignals,
  kForkPayload,
  kMapFds,
  kCloseFds,
  kSetRlimit,
  // Also the deferred filter's memfd (exec mode) and the LockDown()
  // prelude.
  kInstallSeccomp,
  kExec,
  // Host-side: taking the listener from the child (pidfd_getfd).
  kTakeListener,
  kCgroupAttach,
  // A prewarmed child (ChildPlan::await_command) reading its command.
  kReceiveCommand,
};

const char* SetupStepName(SetupStep step);

// The /proc path that ChildMessage::detail `index` names for kMaskProc.
const char* ProcCoverPath(int index);

// Where the child's setup time goes: phases of the steps above, each timed
// by the child itself (CLOCK_MONOTONIC through the vDSO, no system call) and
// reported to the host, which shows them in Result.usage.setup_us.
enum class SetupPhase : uint32_t {
  kWaitForParent,   // until "go": id maps, cgroup placement, the host's go
  kIdentity,        // setgroups, the sandbox user, setsid
  kNewRoot,         // private mounts, the root tmpfs, pivot_root
  kDev,             // the minimal /dev
  kBinds,           // the policy's binds and tmpfs mounts
  kProc,            // /proc and its covers
  kFinishRoot,      // old root detached, root read-only, chdir
  kNetwork,         // hostname, loopback, cgroup namespace
  kDropPrivileges,  // capabilities, securebits, no_new_privs, Landlock
  kForkPayload,     // init forks the payload (seen from the payload)
  kWaitForCommand,  // prewarmed: ready, until the host sent the command
  kArrangeFds,      // descriptors, rlimits, signal dispositions
  kSeccomp,         // the filter installed
  kCount,
};
inline constexpr size_t kSetupPhaseCount =
    static_cast<size_t>(SetupPhase::kCount);
const char* SetupPhaseName(SetupPhase phase);
// A phase that did not run.
inline constexpr uint32_t kPhaseNotRun = UINT32_MAX;

// One message on the sync socket from child to parent.
struct ChildMessage {
  enum class Type : uint32_t {
    // A step failed; the child exits.
    kSetupError = 1,
    // The seccomp listener is descriptor `detail` of the sender, and
    // phase_us. The host takes it with pidfd_getfd and answers one byte
    // ('L'); only then does the sender go on.
    kNotifyFd = 2,
    // From the sandbox's init: the payload ended with `wait_status`.
    kExitStatus = 3,
    // phase_us, from the payload just before it runs, when no kNotifyFd
    // message carried them.
    kSetupTimes = 4,
    // From a prewarmed child (ChildPlan::await_command): set up, waiting
    // for its command.
    kReady = 5,
  };
  Type type;
  SetupStep step;
  int32_t error;
  // What the step was working on, as a number; -1 for nothing. An index
  // into ChildPlan::mounts (kMkdir, kBind, kBindAttributes, kTmpfs), the
  // /proc covers (kMaskProc, ProcCoverPath()) or ChildPlan::user_ns_limits
  // (kUserNamespaceLimits); the resource (kSetRlimit), descriptor (kMapFds,
  // kCloseFds) or capability (kDropBoundingSet); for kNotifyFd the
  // listener's descriptor.
  int32_t detail;
  int32_t wait_status;
  // What the failing step was working on ("bind /usr -> /usr", a path, an
  // rlimit), NUL-terminated: the host names it in the SETUP_ERROR.
  char what[256];
  // Microseconds per SetupPhase (kPhaseNotRun for those that did not run).
  uint32_t phase_us[kSetupPhaseCount];
};

struct ChildMount {
  enum class Kind : uint32_t { kBind, kTmpfs };
  Kind kind;
  // kBind: the canonical host path of the object the parent opened ("/usr"
  // for /usr, "/usr/lib" for a followed /lib), which the child finds again
  // beneath kOldRoot following no link at all.
  const char* source;
  // kBind: what the parent's fstat of it gave. The child mounts the object
  // only if its own open shows the same: the parent's descriptor, which
  // the child inherits, keeps that inode alive, so its number cannot have
  // gone to another file in between.
  uint64_t source_dev;
  uint64_t source_ino;
  // Absolute path in the new root.
  const char* target;
  // kTmpfs: its "size" in bytes and "mode" in octal, for fsconfig.
  const char* tmpfs_size;
  const char* tmpfs_mode;
  bool writable;
  // kBind: whether the source is a directory (else a file is the mount
  // point).
  bool source_is_dir;
};

// A per-user-namespace limit (/proc/sys/user/max_*) the child writes into
// its own namespace, so that what it charges to the host user's quotas
// (inotify instances, nested namespaces, ...) is capped per sandbox.
struct ChildSysctl {
  const char* path;
  const char* value;
};

struct ChildRlimit {
  int resource;
  struct rlimit64 value;
};

// Everything the child needs, prepared by the parent as plain memory.
struct ChildPlan {
  bool new_user_ns = false;
  bool new_mount_ns = false;
  bool new_pid_ns = false;
  bool new_net_ns = false;
  bool new_uts_ns = false;
  bool new_cgroup_ns = false;
  // With new_pid_ns: no init process; the program is pid 1.
  bool program_is_init = false;
  // Drop supplementary groups (possible when a privileged parent wrote the
  // gid map without denying setgroups).
  bool clear_groups = false;

  // Filesystem (new_mount_ns only).
  const char* root_tmpfs_data = nullptr;
  const ChildMount* mounts = nullptr;
  // For messages: "bind /usr -> /usr", parallel to mounts.
  const char* const* mount_descriptions = nullptr;
  size_t mount_count = 0;
  bool mount_proc = false;
  bool mount_dev = false;
  bool writable_root = false;
  // A detached tree of the read-only root with /dev and every bind in place
  // (mounts.h, MountTemplateFor), which the child clones in one call instead
  // of making them; it adds only its tmpfs mounts, /dev/shm and /proc. -1:
  // the child makes everything itself, as it also does where the kernel
  // refuses the clone.
  int mount_template_fd = -1;
  const char* cwd = "/";

  const char* hostname = nullptr;  // null: keep
  // A Landlock domain scoping abstract unix sockets to this sandbox (for a
  // network namespace shared with other sandboxes).
  bool scope_abstract_unix = false;
  // namespaces.landlock_fallback: the ruleset the child enforces on itself
  // after no_new_privs (landlock_restrict_self), or -1.
  int landlock_ruleset_fd = -1;
  // Drop the bounding set and lock securebits, which needs CAP_SETPCAP: not
  // for an unprivileged host without a user namespace (the fallback), which
  // holds no capability to begin with.
  bool drop_bounding_set = true;

  // Credentials of the sandboxee, as seen inside its namespace.
  uid_t uid = 0;
  gid_t gid = 0;
  // Highest capability number the kernel knows.
  int last_cap = 0;
  // An empty libcap capability set (cap_t), allocated by the parent.
  ::_cap_struct* empty_caps = nullptr;

  const ChildRlimit* rlimits = nullptr;
  size_t rlimit_count = 0;
  // new_user_ns only.
  const ChildSysctl* user_ns_limits = nullptr;
  size_t user_ns_limit_count = 0;

  // fds of the sandboxee: fd_targets[i] becomes a copy of fd_sources[i];
  // everything else is closed. Targets are below bootstrap_fd.
  const int* fd_sources = nullptr;
  const int* fd_targets = nullptr;
  size_t fd_count = 0;
  // Where the sync socket sits while the seccomp filter is installed; see
  // seccomp_compiler.h.
  int bootstrap_fd = -1;
  // The host's hard RLIMIT_NOFILE; the soft limit is raised to it so that
  // the bootstrap fd number can be reached.
  rlim_t host_nofile_hard = 0;

  const struct sock_fprog* filter = nullptr;  // null: no filter
  bool filter_notify = false;
  // Whether the filter allows clock_gettime(CLOCK_MONOTONIC), so that the
  // seccomp phase may be timed after the filter is in (the vDSO falls back
  // to the system call where the clock source has no vDSO support).
  bool time_seccomp = false;
  // The fork server's channel to the host, which the clone copied: closed
  // first thing, so that a server that dies mid-spawn is seen as gone (EOF)
  // by the host rather than kept open by a child waiting for the host.
  int server_channel_fd = -1;
  // The `tasks` files of the sandbox's v1 cgroups, opened by the host (their
  // writes are checked against the opener's credentials): the child writes
  // "0" to each, moving itself, first thing, before anything of the
  // sandboxee exists. A single thread moving itself skips the wait for an
  // RCU grace period that moving another process by pid costs v1 when no
  // move happened in the last few milliseconds (7.7 ms measured).
  const int* cgroup_tasks_fds = nullptr;
  size_t cgroup_tasks_fd_count = 0;

  // Candidate paths for the program (a PATH search done ahead), argv, envp.
  const char* const* exec_candidates = nullptr;
  size_t exec_candidate_count = 0;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  // A prewarmed child (PrewarmPool): argv, envp, cwd, the candidates and the
  // descriptors above are not in the plan. Every setup step runs up to the
  // payload (privileges dropped, init forked); the payload then closes all
  // but the sync socket, says kReady, waits there for one CommandHeader
  // message with its descriptors, enters its cwd and goes on.
  bool await_command = false;

  // Zygote mode: called instead of execve, in a child forked from the
  // single-threaded fork server, once every step (seccomp included, unless
  // deferred) is done; its return value is the exit code.
  int (*worker_entry)(const void* arg) = nullptr;
  const void* worker_arg = nullptr;
  // The policy defers seccomp until the sandboxee calls LockDown().
  bool defer_seccomp = false;
  // With defer_seccomp: installed in its place, until LockDown() (the fixed
  // deny list; see CompileLockDownPrelude).
  const struct sock_fprog* lockdown_prelude = nullptr;
};

// A prewarmed child's command: one message on the sync socket, this header
// then `fd_count` int32 targets (ascending, each below bootstrap_fd) then
// NUL-terminated strings: cwd, `argc` args, `envc` env entries,
// `candidate_count` exec candidates. The descriptors travel with it
// (SCM_RIGHTS), in the targets' order. Made by EncodeCommand (spawn.h).
struct CommandHeader {
  uint32_t size;  // of the whole message
  uint32_t argc;
  uint32_t envc;
  uint32_t candidate_count;
  uint32_t fd_count;
};
inline constexpr size_t kMaxCommandBytes = 128 << 10;
inline constexpr size_t kMaxCommandFds = 64;

// Brings the loopback interface of the current network namespace up: 0, or
// -1 with errno. Raw system calls only.
int LoopbackUp();

// Runs the setup steps and execs the program; never returns. `sync_fd` is
// the child's end of the SOCK_SEQPACKET sync socket, `parent_end` the
// parent's end, which the child closes first. The parent, after
// clone, writes the id maps, places the child in its cgroup and then sends
// one byte; the child waits for it before anything else.
[[noreturn]] void RunChild(const ChildPlan& plan, int sync_fd, int parent_end);

// In a zygote worker whose policy defers seccomp: installs the filter now.
// -1 with errno EALREADY if there is none to install (already done, or not
// a deferred sandbox).
int LockDownDeferred();

// In an exec'd sandboxee whose policy defers seccomp: installs the filter
// left in the sealed memfd `filter_fd`, handing the listener (with
// `notify`) to the supervisor on `sync_fd`. -1 with errno on failure.
int LockDownExec(int sync_fd, int filter_fd, bool notify);

// The sync socket a sandboxee still holds (a zygote worker, or an exec'd
// program after LockDownExec()), -1 if none: an input server closes it in
// the processes it forks for inputs.
int SandboxSyncFd();

// Environment variable that tells an exec'd sandboxee where its deferred
// filter is: "<sync fd>,<filter fd>,<notify 0|1>".
inline constexpr char kLockDownEnv[] = "SANDBOX_LOCKDOWN";

// Device nodes of the minimal /dev, bound from the host's /dev (a user
// namespace cannot mknod).
inline constexpr const char* kMinimalDevNodes[] = {"null", "zero", "full",
                                                   "random", "urandom"};

// Opens the mount point `target` (absolute, normalised) beneath `root_fd`,
// making what is missing (directories on the way, then a directory, or an
// empty file unless `directory`), one component at a time and following no
// symlink: an O_PATH descriptor, or -1 with errno. Raw system calls only.
int OpenMountPoint(int root_fd, const char* target, bool directory);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_CHILD_SETUP_H_
