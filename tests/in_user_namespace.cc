// in_user_namespace: runs a command the way a rootless container or a pod
// with user namespaces runs its processes, to test the library there
// (tests/run.sh). Root only: it writes a range map no unprivileged user may.
//
//   in_user_namespace [--uid N] -- PROGRAM [ARGS...]
//
// PROGRAM runs in new user, mount and pid namespaces, with ids 0..65535
// mapped to 100000..165535 outside (as /etc/subuid gives a container), its
// own /proc, and uid and gid N inside (default 0: the container's root; a
// non-zero N is a non-root user inside it). Exits with PROGRAM's status.

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

constexpr char kMap[] = "0 100000 65536\n";

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "in_user_namespace: %s: %s\n", what,
               std::strerror(errno));
  _exit(125);
}

bool WriteFile(const std::string& path, const char* text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = write(fd, text, std::strlen(text));
  close(fd);
  return n == static_cast<ssize_t>(std::strlen(text));
}

int ExitStatusOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

// Pid 1 of the new pid namespace: its own /proc, then the ids, then the
// program.
[[noreturn]] void RunProgram(uid_t id, char** argv) {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    Fail("make / private");
  }
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            nullptr) != 0) {
    Fail("mount /proc");
  }
  if (setgroups(0, nullptr) != 0) Fail("setgroups");
  if (setresgid(id, id, id) != 0) Fail("setresgid");
  if (setresuid(id, id, id) != 0) Fail("setresuid");
  execvp(argv[0], argv);
  Fail(argv[0]);
}

}  // namespace

int main(int argc, char** argv) {
  uid_t id = 0;
  int i = 1;
  if (i + 1 < argc && std::strcmp(argv[i], "--uid") == 0) {
    id = static_cast<uid_t>(std::strtoul(argv[i + 1], nullptr, 10));
    i += 2;
  }
  if (i < argc && std::strcmp(argv[i], "--") == 0) ++i;
  if (i >= argc) {
    std::fprintf(stderr, "usage: in_user_namespace [--uid N] -- PROGRAM...\n");
    return 125;
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "in_user_namespace: needs root to write a map\n");
    return 125;
  }
  int ready[2];
  int go[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) Fail("pipe");
  const pid_t child = fork();
  if (child < 0) Fail("fork");
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) != 0) {
      Fail("unshare");
    }
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1) Fail("write ready");
    if (read(go[0], &byte, 1) != 1) _exit(125);
    // Root of the new namespace now that the maps are in.
    if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) Fail("become 0");
    const pid_t init = fork();
    if (init < 0) Fail("fork init");
    if (init == 0) RunProgram(id, argv + i);
    int status = 0;
    while (waitpid(init, &status, 0) < 0) {
      if (errno != EINTR) Fail("waitpid");
    }
    _exit(ExitStatusOf(status));
  }
  char byte = 0;
  if (read(ready[0], &byte, 1) != 1) Fail("child did not unshare");
  const std::string proc = "/proc/" + std::to_string(child);
  if (!WriteFile(proc + "/uid_map", kMap)) Fail("write uid_map");
  if (!WriteFile(proc + "/gid_map", kMap)) Fail("write gid_map");
  if (write(go[1], &byte, 1) != 1) Fail("write go");
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) Fail("waitpid");
  }
  return ExitStatusOf(status);
}
