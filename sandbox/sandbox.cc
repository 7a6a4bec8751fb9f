#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "sandbox/seccomp_compiler.h"
#include "sandbox/spawn.h"
#include "sandbox/status_macros.h"
#include "sandbox/util.h"

namespace sandbox {

using internal::ChildMessage;

absl::StatusOr<std::unique_ptr<Sandbox>> Sandbox::Spawn(
    const Policy& policy, const Command& command) {
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<internal::PreparedSpawn> prepared,
                       internal::PrepareSpawn(policy, command));
  std::unique_ptr<Sandbox> sandbox(new Sandbox());
  sandbox->policy_ = policy;
  sandbox->start_ = absl::Now();
  if (prepared->early_failure.has_value()) {
    // Found before any process existed: the program never runs.
    sandbox->setup_error_ = *prepared->early_failure;
    sandbox->prepared_ = std::move(prepared);
    sandbox->reaped_ = true;
    sandbox->Finish();
    return sandbox;
  }
  SBX_ASSIGN_OR_RETURN(internal::SpawnedProcess process,
                       internal::StartChild(*prepared, {}));
  sandbox->prepared_ = std::move(prepared);
  sandbox->pid_ = process.pid;
  sandbox->pidfd_ = std::move(process.pidfd);
  sandbox->sync_ = std::move(process.sync);
  if (fcntl(sandbox->sync_.get(), F_SETFL, O_NONBLOCK) != 0) {
    return ErrnoStatus("fcntl(sync, O_NONBLOCK)");
  }
  const double wall = policy.proto().limits().wall_time_seconds();
  if (wall > 0) sandbox->wall_deadline_ = sandbox->start_ + absl::Seconds(wall);
  return sandbox;
}

Sandbox::~Sandbox() {
  if (!reaped_ && pidfd_) {
    KillNow();
    Reap(/*block=*/true);
  }
}

absl::StatusOr<proto::Result> Sandbox::Wait() {
  SBX_ASSIGN_OR_RETURN(std::optional<proto::Result> result,
                       WaitUntil(absl::InfiniteFuture()));
  if (!result.has_value()) return absl::InternalError("Wait() returned early");
  return *std::move(result);
}

absl::StatusOr<std::optional<proto::Result>> Sandbox::WaitFor(
    absl::Duration timeout) {
  return WaitUntil(absl::Now() + timeout);
}

absl::Status Sandbox::Kill() {
  kill_requested_ = true;
  if (reaped_ || !pidfd_) return absl::OkStatus();
  if (syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0) != 0 &&
      errno != ESRCH) {
    return ErrnoStatus("pidfd_send_signal(SIGKILL)");
  }
  return absl::OkStatus();
}

void Sandbox::KillNow() {
  // With a pid namespace this is its init: the kernel kills the rest.
  syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

absl::StatusOr<std::optional<proto::Result>> Sandbox::WaitUntil(
    absl::Time deadline) {
  while (!result_.has_value()) {
    const absl::Time now = absl::Now();
    if (!timed_out_ && now >= wall_deadline_) {
      timed_out_ = true;
      KillNow();
    }
    const absl::Time until = std::min(
        deadline, timed_out_ ? absl::InfiniteFuture() : wall_deadline_);
    if (now >= deadline && until == deadline) return std::nullopt;
    int timeout_ms = -1;
    if (until != absl::InfiniteFuture()) {
      timeout_ms = static_cast<int>(
          std::max<int64_t>(0, absl::ToInt64Milliseconds(absl::Ceil(
                                   until - now, absl::Milliseconds(1)))));
    }
    struct pollfd fds[3] = {
        {pidfd_.get(), POLLIN, 0},
        {sync_.get(), POLLIN, 0},
        {notify_.get(), POLLIN, 0},
    };
    const int ready = poll(fds, 3, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("poll(sandbox)");
    }
    if (fds[1].revents != 0) ReadChildMessages();
    if (fds[2].revents & POLLIN) ReadNotification();
    if (fds[2].revents & (POLLHUP | POLLERR | POLLNVAL)) notify_.reset();
    if (fds[0].revents != 0) {
      // Messages sent before the exit are queued already; read them first.
      ReadChildMessages();
      if (notify_) ReadNotification();
      Reap(/*block=*/true);
      Finish();
    }
    if (ready == 0 && absl::Now() >= deadline && !result_.has_value()) {
      return std::nullopt;
    }
  }
  return result_;
}

void Sandbox::ReadChildMessages() {
  while (sync_) {
    ChildMessage message = {};
    struct iovec iov = {&message, sizeof(message)};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t got = recvmsg(sync_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    if (got <= 0) {
      // The last holder of the child's end exec'd or exited.
      sync_.reset();
      return;
    }
    int passed_fd = -1;
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr;
         cmsg = CMSG_NXTHDR(&msg, cmsg)) {
      if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
        memcpy(&passed_fd, CMSG_DATA(cmsg), sizeof(int));
      }
    }
    UniqueFd passed(passed_fd);
    if (got != sizeof(message)) continue;
    switch (message.type) {
      case ChildMessage::Type::kSetupError:
        if (!setup_error_.has_value()) {
          setup_error_ = internal::DescribeSetupFailure(*prepared_, message);
        }
        break;
      case ChildMessage::Type::kNotifyFd:
        if (passed) notify_ = std::move(passed);
        break;
      case ChildMessage::Type::kExitStatus:
        exit_status_received_ = true;
        payload_wait_status_ = message.wait_status;
        break;
    }
  }
}

void Sandbox::ReadNotification() {
  struct seccomp_notif notification;
  memset(&notification, 0, sizeof(notification));
  if (ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_RECV, &notification) != 0) {
    // ENOENT: the caller died before we looked; nothing to report.
    return;
  }
  if (!violation_.has_value()) {
    proto::Violation violation;
    violation.set_nr(notification.data.nr);
    violation.set_arch(ArchName(notification.data.arch));
    violation.set_syscall(
        SyscallName(notification.data.arch, notification.data.nr));
    for (uint64_t arg : notification.data.args) violation.add_args(arg);
    violation.set_pid(static_cast<int32_t>(notification.pid));
    violation_ = std::move(violation);
  }
  // The call stays blocked until the kill lands: it never runs.
  KillNow();
  if (!policy_->proto().namespaces().pid() && notification.pid != 0 &&
      ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &notification.id) ==
          0) {
    // Without a pid namespace the caller may be a grandchild of ours.
    kill(static_cast<pid_t>(notification.pid), SIGKILL);
  }
}

void Sandbox::Reap(bool block) {
  if (reaped_) return;
  siginfo_t info = {};
  struct rusage usage = {};
  for (;;) {
    const long rc = syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &info,
                            WEXITED | (block ? 0 : WNOHANG), &usage);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || info.si_pid == 0) return;
    break;
  }
  reaped_ = true;
  rusage_ = usage;
  wait_status_ = info.si_code == CLD_EXITED ? W_EXITCODE(info.si_status, 0)
                                            : W_EXITCODE(0, info.si_status);
}

void Sandbox::Finish() {
  proto::Result result;
  result.set_pid(pid_);
  proto::Usage& usage = *result.mutable_usage();
  usage.set_wall_time_seconds(absl::ToDoubleSeconds(absl::Now() - start_));
  usage.set_user_cpu_seconds(rusage_.ru_utime.tv_sec +
                             rusage_.ru_utime.tv_usec / 1e6);
  usage.set_system_cpu_seconds(rusage_.ru_stime.tv_sec +
                               rusage_.ru_stime.tv_usec / 1e6);
  usage.set_peak_memory_bytes(static_cast<uint64_t>(rusage_.ru_maxrss) * 1024);

  // With a pid namespace the payload's status comes from our init; if init
  // itself died first (killed), its own status stands.
  const int status =
      exit_status_received_ ? payload_wait_status_ : wait_status_;
  if (setup_error_.has_value()) {
    result.set_status(proto::Result::SETUP_ERROR);
    *result.mutable_setup_error() = *setup_error_;
  } else if (violation_.has_value()) {
    result.set_status(proto::Result::VIOLATION);
    *result.mutable_violation() = *violation_;
    result.set_signal(SIGSYS);
  } else if (timed_out_) {
    result.set_status(proto::Result::TIMEOUT);
  } else if (kill_requested_) {
    result.set_status(proto::Result::KILLED);
  } else if (WIFEXITED(status)) {
    result.set_status(proto::Result::OK);
    result.set_exit_code(WEXITSTATUS(status));
  } else {
    result.set_status(proto::Result::SIGNALED);
    result.set_signal(WTERMSIG(status));
  }
  result_ = std::move(result);
  // Nothing more will be read; the filter's listener goes only now, after
  // every process that holds the filter is dead.
  notify_.reset();
  sync_.reset();
}

absl::StatusOr<proto::Result> Run(const Policy& policy,
                                  const Command& command) {
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                       Sandbox::Spawn(policy, command));
  return sandbox->Wait();
}

}  // namespace sandbox
