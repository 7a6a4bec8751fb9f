// testee: the static helper the integration tests run inside sandboxes.
//
// Each named sub-command does one thing a sandbox allows, denies or limits,
// and reports what happened as key=value lines on stdout, one pair per line:
//
//   $ testee syscall getppid
//   ret=1
//   errno=0
//
//   $ testee read /etc/shadow
//   read=error
//   errno=EACCES
//
// The exit status is 0 unless the sub-command says otherwise (`exit`,
// `signal`, a failed `alloc`); usage errors go to stderr with exit status 2.
// `testee help` lists the sub-commands.
//
// The binary is static and needs only the kernel: libseccomp is linked in to
// resolve syscall names, and nothing reads /proc unless the sub-command is
// about /proc (`ns report` and `orphans` print -1 for what they cannot get).
// Output goes straight to write(2), never through a stdio buffer, so nothing
// is lost by _exit() or duplicated by fork().

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace {

using Args = std::vector<std::string>;

constexpr int kUsageExit = 2;

// ---------------------------------------------------------------------------
// Output

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void Emit(std::string_view key, std::string_view value) {
  std::string line;
  line.reserve(key.size() + value.size() + 2);
  line.append(key).append("=").append(value).append("\n");
  WriteAll(STDOUT_FILENO, line);
}

void EmitInt(std::string_view key, long long value) {
  Emit(key, std::to_string(value));
}

// "EACCES", or the number if the C library has no name for it.
std::string ErrnoName(int err) {
  if (err == 0) return "0";
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : std::to_string(err);
}

// `key=ok`, or `key=error` and `errno=ENAME` when err is not 0.
void EmitOutcome(std::string_view key, int err) {
  if (err == 0) {
    Emit(key, "ok");
  } else {
    Emit(key, "error");
    Emit("errno", ErrnoName(err));
  }
}

// ---------------------------------------------------------------------------
// Command table and usage errors

struct Command {
  const char* name;      // One or two words: "fds", "ns report".
  const char* synopsis;  // Arguments, for help and usage errors.
  const char* help;      // One line.
  int min_args;
  int max_args;  // kVariadic: no upper bound.
  int (*run)(const Args& args);
};

constexpr int kVariadic = -1;

// The command being run, so that argument parsers can print its usage.
const Command* current_command = nullptr;

[[noreturn]] void UsageError(const std::string& message) {
  std::string text = "testee: " + message + "\n";
  if (current_command != nullptr) {
    text += std::string("usage: testee ") + current_command->name + " " +
            current_command->synopsis + "\n";
  }
  WriteAll(STDERR_FILENO, text);
  _exit(kUsageExit);
}

// ---------------------------------------------------------------------------
// Argument parsing; each exits with a usage error on bad input.

// Decimal, 0x-prefixed hex, either optionally negative. Values above
// LLONG_MAX (0xffffffffffffffff) wrap, as syscall arguments expect.
long long ParseInt(const std::string& text) {
  std::string_view digits = text;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' &&
      (digits[1] == 'x' || digits[1] == 'X')) {
    base = 16;
    digits.remove_prefix(2);
  }
  if (digits.empty() || !isxdigit(static_cast<unsigned char>(digits[0]))) {
    UsageError("not an integer: '" + text + "'");
  }
  std::string copy(digits);
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(copy.c_str(), &end, base);
  if (errno != 0 || *end != '\0') {
    UsageError("not an integer: '" + text + "'");
  }
  long long result = static_cast<long long>(value);
  return negative ? -result : result;
}

// Non-negative seconds; fractions allowed.
double ParseSeconds(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  double value = strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || *end != '\0' || !(value >= 0)) {
    UsageError("not a number of seconds: '" + text + "'");
  }
  return value;
}

// Bytes: 4096, 64K, 64M, 1G, 1T (powers of 1024; an optional trailing B).
uint64_t ParseSize(const std::string& text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long value = strtoull(text.c_str(), &end, 10);
  if (text.empty() || !isdigit(static_cast<unsigned char>(text[0])) ||
      errno != 0) {
    UsageError("not a size: '" + text + "'");
  }
  std::string_view suffix = end;
  int shift = 0;
  if (!suffix.empty()) {
    switch (suffix[0]) {
      case 'k':
      case 'K':
        shift = 10;
        break;
      case 'm':
      case 'M':
        shift = 20;
        break;
      case 'g':
      case 'G':
        shift = 30;
        break;
      case 't':
      case 'T':
        shift = 40;
        break;
      case 'b':
      case 'B':
        break;
      default:
        UsageError("not a size: '" + text + "'");
    }
    suffix.remove_prefix(1);
    if (shift != 0 && !suffix.empty() && (suffix == "B" || suffix == "b")) {
      suffix.remove_prefix(1);
    }
    if (!suffix.empty()) UsageError("not a size: '" + text + "'");
  }
  if (shift != 0 && value > (UINT64_MAX >> shift)) {
    UsageError("size too large: '" + text + "'");
  }
  return static_cast<uint64_t>(value) << shift;
}

// Namespace names of clone-ns and unshare.
int ParseNamespaceFlag(const std::string& name) {
  static constexpr struct {
    const char* name;
    int flag;
  } kNamespaces[] = {
      {"user", CLONE_NEWUSER},     {"pid", CLONE_NEWPID}, {"net", CLONE_NEWNET},
      {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS}, {"mnt", CLONE_NEWNS},
      {"cgroup", CLONE_NEWCGROUP},
  };
  for (const auto& ns : kNamespaces) {
    if (name == ns.name) return ns.flag;
  }
  UsageError("unknown namespace '" + name +
             "' (user, pid, net, ipc, uts, mnt, cgroup)");
}

// "rw", "rx", "wx", "rwx", "r", ... or "none".
int ParseProt(const std::string& text) {
  if (text == "none") return PROT_NONE;
  int prot = PROT_NONE;
  for (char c : text) {
    switch (c) {
      case 'r':
        prot |= PROT_READ;
        break;
      case 'w':
        prot |= PROT_WRITE;
        break;
      case 'x':
        prot |= PROT_EXEC;
        break;
      default:
        UsageError("bad protection '" + text + "' (letters r, w, x or none)");
    }
  }
  if (text.empty()) UsageError("empty protection");
  return prot;
}

// ---------------------------------------------------------------------------
// Small system helpers

double MonotonicSeconds() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;
}

void SleepSeconds(double seconds) {
  timespec request;
  request.tv_sec = static_cast<time_t>(seconds);
  request.tv_nsec = static_cast<long>((seconds - request.tv_sec) * 1e9);
  while (nanosleep(&request, &request) != 0 && errno == EINTR) {
  }
}

// The whole file, or nullopt if it cannot be opened or read.
std::optional<std::string> ReadFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string contents;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

// The value of "Field:\tvalue" in a /proc/<pid>/status text, trimmed.
std::optional<std::string> StatusField(const std::string& status,
                                       std::string_view field) {
  size_t pos = 0;
  while (pos < status.size()) {
    size_t eol = status.find('\n', pos);
    if (eol == std::string::npos) eol = status.size();
    std::string_view line(status.data() + pos, eol - pos);
    if (line.size() > field.size() && line.substr(0, field.size()) == field &&
        line[field.size()] == ':') {
      line.remove_prefix(field.size() + 1);
      size_t begin = line.find_first_not_of(" \t");
      if (begin == std::string_view::npos) return std::string();
      size_t last = line.find_last_not_of(" \t");
      return std::string(line.substr(begin, last - begin + 1));
    }
    pos = eol + 1;
  }
  return std::nullopt;
}

std::string Join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) joined.append(sep);
    joined.append(parts[i]);
  }
  return joined;
}

std::string RlimitValue(rlim_t value) {
  return value == RLIM_INFINITY ? "inf" : std::to_string(value);
}

void EmitRlimit(std::string_view name, int resource) {
  rlimit limit;
  std::string key = "rlimit_" + std::string(name);
  if (getrlimit(resource, &limit) != 0) {
    Emit(key, "-1");
    return;
  }
  Emit(key, RlimitValue(limit.rlim_cur) + ":" + RlimitValue(limit.rlim_max));
}

// ---------------------------------------------------------------------------
// Identity and isolation

int NsReport(const Args&) {
  EmitInt("pid", getpid());
  EmitInt("ppid", getppid());
  EmitInt("uid", getuid());
  EmitInt("gid", getgid());
  EmitInt("euid", geteuid());
  EmitInt("egid", getegid());

  std::vector<std::string> groups;
  int count = getgroups(0, nullptr);
  if (count > 0) {
    std::vector<gid_t> gids(static_cast<size_t>(count));
    count = getgroups(count, gids.data());
    for (int i = 0; i < count; ++i) groups.push_back(std::to_string(gids[i]));
  }
  Emit("groups", count < 0 ? "-1" : Join(groups, ","));

  utsname uts;
  Emit("hostname", uname(&uts) == 0 ? uts.nodename : "-1");

  // /proc/net/dev first: if_nameindex() needs a netlink socket, which the
  // default policy refuses.
  std::vector<std::string> names;
  if (std::optional<std::string> dev = ReadFile("/proc/net/dev")) {
    size_t start = 0;
    while (start < dev->size()) {
      size_t end = dev->find('\n', start);
      if (end == std::string::npos) end = dev->size();
      const std::string line = dev->substr(start, end - start);
      start = end + 1;
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      const size_t first = line.find_first_not_of(' ');
      names.push_back(line.substr(first, colon - first));
    }
  } else if (struct if_nameindex* interfaces = if_nameindex()) {
    for (struct if_nameindex* it = interfaces; it->if_index != 0; ++it) {
      names.push_back(it->if_name);
    }
    if_freenameindex(interfaces);
  }
  std::sort(names.begin(), names.end());
  Emit("interfaces", names.empty() ? "-1" : Join(names, ","));

  for (const char* ns : {"user", "pid", "net", "ipc", "uts", "mnt", "cgroup"}) {
    struct stat st;
    std::string path = std::string("/proc/self/ns/") + ns;
    EmitInt(std::string("ns_") + ns, stat(path.c_str(), &st) == 0
                                         ? static_cast<long long>(st.st_ino)
                                         : -1);
  }

  EmitInt("no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  std::string status = ReadFile("/proc/self/status").value_or("");
  Emit("seccomp", StatusField(status, "Seccomp").value_or("-1"));
  Emit("cap_eff", StatusField(status, "CapEff").value_or("-1"));
  Emit("cap_prm", StatusField(status, "CapPrm").value_or("-1"));
  Emit("cap_inh", StatusField(status, "CapInh").value_or("-1"));
  Emit("cap_bnd", StatusField(status, "CapBnd").value_or("-1"));
  Emit("cap_amb", StatusField(status, "CapAmb").value_or("-1"));

  EmitInt("sid", getsid(0));
  EmitInt("pgid", getpgid(0));
  char cwd[PATH_MAX];
  Emit("cwd", getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : "-1");
  EmitInt("dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  return 0;
}

// Probes with fcntl rather than listing /proc/self/fd, which may be absent.
int Fds(const Args&) {
  std::vector<std::string> fds;
  for (int fd = 0; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) fds.push_back(std::to_string(fd));
  }
  Emit("fds", Join(fds, ","));
  return 0;
}

int Env(const Args&) {
  long long count = 0;
  for (char** entry = environ; *entry != nullptr; ++entry) ++count;
  EmitInt("env_count", count);
  for (char** entry = environ; *entry != nullptr; ++entry) Emit("env", *entry);
  return 0;
}

int Rlimits(const Args&) {
  EmitRlimit("as", RLIMIT_AS);
  EmitRlimit("cpu", RLIMIT_CPU);
  EmitRlimit("fsize", RLIMIT_FSIZE);
  EmitRlimit("nofile", RLIMIT_NOFILE);
  EmitRlimit("nproc", RLIMIT_NPROC);
  EmitRlimit("core", RLIMIT_CORE);
  return 0;
}

// ---------------------------------------------------------------------------
// File system

int Exists(const Args& args) {
  for (const std::string& path : args) {
    struct stat st;
    Emit("exists:" + path, lstat(path.c_str(), &st) == 0 ? "1" : "0");
  }
  return 0;
}

int Read(const Args& args) {
  int fd = open(args[0].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    EmitOutcome("read", errno);
    return 0;
  }
  long long bytes = 0;
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      EmitOutcome("read", errno);
      close(fd);
      return 0;
    }
    if (n == 0) break;
    bytes += n;
  }
  close(fd);
  EmitOutcome("read", 0);
  EmitInt("bytes", bytes);
  return 0;
}

// Opens with `flags` and writes `data`; reports under the key `write`.
int OpenAndWrite(const std::string& path, int flags, std::string_view data) {
  int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) {
    EmitOutcome("write", errno);
    return 0;
  }
  ssize_t n = write(fd, data.data(), data.size());
  int err = n < 0 ? errno : 0;
  if (close(fd) != 0 && err == 0) err = errno;
  EmitOutcome("write", err);
  return 0;
}

int Write(const Args& args) {
  return OpenAndWrite(args[0], O_WRONLY | O_CREAT | O_TRUNC, "x");
}

int ProcWrite(const Args& args) {
  return OpenAndWrite(args[0], O_WRONLY, args.size() > 1 ? args[1] : "x");
}

int Mkdir(const Args& args) {
  EmitOutcome("mkdir", mkdir(args[0].c_str(), 0755) == 0 ? 0 : errno);
  return 0;
}

int Rmdir(const Args& args) {
  EmitOutcome("rmdir", rmdir(args[0].c_str()) == 0 ? 0 : errno);
  return 0;
}

int Symlink(const Args& args) {
  EmitOutcome("symlink",
              symlink(args[0].c_str(), args[1].c_str()) == 0 ? 0 : errno);
  return 0;
}

// The first 64 KiB of the file as one value: NULs (a /proc/N/cmdline's
// separators) and line breaks become spaces.
int Cat(const Args& args) {
  int fd = open(args[0].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    EmitOutcome("cat", errno);
    return 0;
  }
  std::string text(65536, '\0');
  size_t size = 0;
  int err = 0;
  while (size < text.size()) {
    ssize_t n = read(fd, text.data() + size, text.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    size += static_cast<size_t>(n);
  }
  close(fd);
  text.resize(size);
  for (char& c : text) {
    if (c == '\0' || c == '\n') c = ' ';
  }
  EmitOutcome("cat", err);
  if (err == 0) Emit("text", text);
  return 0;
}

int Fsize(const Args& args) {
  uint64_t wanted = ParseSize(args[0]);
  signal(SIGXFSZ, SIG_IGN);
  int fd =
      open(args[1].c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int err = errno;
    EmitInt("written", 0);
    Emit("errno", ErrnoName(err));
    return 0;
  }
  std::string chunk(65536, 'x');
  uint64_t written = 0;
  int err = 0;
  while (written < wanted) {
    size_t size =
        static_cast<size_t>(std::min<uint64_t>(chunk.size(), wanted - written));
    ssize_t n = write(fd, chunk.data(), size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    written += static_cast<uint64_t>(n);
  }
  close(fd);
  EmitInt("written", static_cast<long long>(written));
  if (written < wanted) Emit("errno", ErrnoName(err));
  return 0;
}

int NoFile(const Args&) {
  long long opened = 0;
  while (open("/dev/null", O_RDONLY) >= 0) ++opened;
  int err = errno;
  EmitInt("opened", opened);
  Emit("errno", ErrnoName(err));
  EmitRlimit("nofile", RLIMIT_NOFILE);
  return 0;
}

// ---------------------------------------------------------------------------
// System calls

// Prints ret= and errno= for a raw syscall() result.
void EmitSyscallResult(long ret, int err) {
  EmitInt("ret", ret);
  Emit("errno", ret == -1 ? ErrnoName(err) : "0");
}

// NAME in the native (x86-64) table, or a plain number.
int ResolveNative(const std::string& name) {
  if (!name.empty() && isdigit(static_cast<unsigned char>(name[0]))) {
    return static_cast<int>(ParseInt(name));
  }
  int nr = seccomp_syscall_resolve_name(name.c_str());
  if (nr < 0) UsageError("unknown syscall '" + name + "'");
  return nr;
}

int Syscall(const Args& args) {
  long nr = ResolveNative(args[0]);
  long a[6] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 1; i < args.size(); ++i) {
    a[i - 1] = static_cast<long>(ParseInt(args[i]));
  }
  errno = 0;
  long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
  EmitSyscallResult(ret, errno);
  return 0;
}

#if defined(__x86_64__)
// The legacy 32-bit entry, reachable from 64-bit code; all arguments 0
// (ebx, ecx, edx, esi, edi, ebp). rbp is saved by hand as it may be the
// frame pointer; the stack pointer first skips the red zone. Kernels before
// 4.17 zero r8-r11 on return.
int Int80(int nr) {
  long ret;
  asm volatile(
      "sub $128, %%rsp\n\t"
      "push %%rbp\n\t"
      "xor %%ebp, %%ebp\n\t"
      "int $0x80\n\t"
      "pop %%rbp\n\t"
      "add $128, %%rsp"
      : "=a"(ret)
      : "a"(static_cast<long>(nr)), "b"(0L), "c"(0L), "d"(0L), "S"(0L), "D"(0L)
      : "memory", "cc", "r8", "r9", "r10", "r11");
  return static_cast<int>(ret);
}
#endif

int I386(const Args& args) {
#if defined(__x86_64__)
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, args[0].c_str());
  if (nr < 0) UsageError("unknown i386 syscall '" + args[0] + "'");
  int ret = Int80(nr);
  EmitInt("ret", ret);
  Emit("errno", ret < 0 && ret >= -4095 ? ErrnoName(-ret) : "0");
  return 0;
#else
  UsageError("i386 needs an x86-64 build");
#endif
}

int X32(const Args& args) {
  constexpr long kX32SyscallBit = 0x40000000;
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X32, args[0].c_str());
  if (nr < 0) UsageError("unknown x32 syscall '" + args[0] + "'");
  errno = 0;
  long ret = syscall(nr | kX32SyscallBit, 0, 0, 0, 0, 0, 0);
  EmitSyscallResult(ret, errno);
  return 0;
}

int Ptrace(const Args&) {
  EmitOutcome("ptrace",
              ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 ? 0 : errno);
  return 0;
}

// Stacks a filter of its own that fails ptrace with EPERM (everything else
// allowed), installed with seccomp(2) or prctl(PR_SET_SECCOMP), then calls
// ptrace: an attempt to turn a forbidden call into a quiet error. The four
// instructions are the attacker's own (libseccomp would probe the kernel
// with seccomp(2) first).
int StackFilter(const Args& args) {
  const bool use_prctl = args[0] == "prctl";
  if (!use_prctl && args[0] != "seccomp") {
    UsageError("stack-filter: seccomp or prctl, not '" + args[0] + "'");
  }
  struct sock_filter program[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_ptrace, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog fprog = {sizeof(program) / sizeof(program[0]), program};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  const long rc =
      use_prctl ? prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0)
                : syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog);
  EmitOutcome("stack", rc == 0 ? 0 : errno);
  EmitOutcome("ptrace",
              ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) == 0 ? 0 : errno);
  return 0;
}

int Kill(const Args& args) {
  pid_t pid = static_cast<pid_t>(ParseInt(args[0]));
  int sig = static_cast<int>(ParseInt(args[1]));
  EmitOutcome("kill", kill(pid, sig) == 0 ? 0 : errno);
  return 0;
}

int CloneNs(const Args& args) {
  long flags = ParseNamespaceFlag(args[0]) | SIGCHLD;
  long pid = syscall(SYS_clone, flags, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid < 0) {
    EmitOutcome("ret", errno);
    return 0;
  }
  while (waitpid(static_cast<pid_t>(pid), nullptr, 0) < 0 && errno == EINTR) {
  }
  EmitOutcome("ret", 0);
  return 0;
}

int Unshare(const Args& args) {
  EmitOutcome("unshare", unshare(ParseNamespaceFlag(args[0])) == 0 ? 0 : errno);
  return 0;
}

// The kernel's struct mount_attr and flags (Debian 12's headers lack them).
struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};
constexpr uint64_t kMountAttrRdonly = 0x1;
constexpr uint64_t kMountAttrNosuid = 0x2;
constexpr uint64_t kMountAttrNodev = 0x4;

// Tries to make the mount at PATH writable, suid or with devices, and to
// reveal what is under it: in the sandbox's own namespaces, then in a
// nested user and mount namespace of its own, where it has every
// capability over its copy of the tree. <prefix>remount_rw, setattr_rw,
// setattr_suid_dev, write (a new file), umount: 0 or the errno.
void EmitErrno(const std::string& key, int err) { Emit(key, ErrnoName(err)); }

void TryUnlockMount(const std::string& path, const std::string& prefix) {
  EmitErrno(prefix + "remount_rw", mount(nullptr, path.c_str(), nullptr,
                                         MS_REMOUNT | MS_BIND, nullptr) == 0
                                       ? 0
                                       : errno);
  MountAttr attr = {};
  attr.attr_clr = kMountAttrRdonly;
  EmitErrno(prefix + "setattr_rw",
            syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), 0, &attr,
                    sizeof(attr)) == 0
                ? 0
                : errno);
  attr.attr_clr = kMountAttrNosuid | kMountAttrNodev;
  EmitErrno(prefix + "setattr_suid_dev",
            syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), 0, &attr,
                    sizeof(attr)) == 0
                ? 0
                : errno);
  const std::string file = path + "/.unlock_mount_probe";
  const int fd =
      open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  EmitErrno(prefix + "write", fd >= 0 ? 0 : errno);
  if (fd >= 0) {
    close(fd);
    unlink(file.c_str());
  }
  EmitErrno(prefix + "umount",
            umount2(path.c_str(), MNT_DETACH) == 0 ? 0 : errno);
}

int UnlockMount(const Args& args) {
  TryUnlockMount(args[0], "");
  const int nested = unshare(CLONE_NEWUSER | CLONE_NEWNS);
  EmitErrno("nested_unshare", nested == 0 ? 0 : errno);
  if (nested == 0) TryUnlockMount(args[0], "nested_");
  return 0;
}

// Pushes a space into the terminal's input queue. Tries stdin, then the
// controlling terminal if stdin is not a terminal; reports the stdin error if
// there is no controlling terminal either.
int Tiocsti(const Args&) {
  char c = ' ';
  if (ioctl(STDIN_FILENO, TIOCSTI, &c) == 0) {
    EmitOutcome("tiocsti", 0);
    Emit("tiocsti_target", "stdin");
    return 0;
  }
  int err = errno;
  std::string target = "stdin";
  if (err == ENOTTY || err == EBADF) {
    int tty = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty >= 0) {
      target = "/dev/tty";
      err = ioctl(tty, TIOCSTI, &c) == 0 ? 0 : errno;
      close(tty);
    }
  }
  EmitOutcome("tiocsti", err);
  Emit("tiocsti_target", target);
  return 0;
}

int Ioctl(const Args& args) {
  unsigned long request;
  if (args[0] == "TCGETS") {
    request = TCGETS;
  } else if (args[0] == "FIONREAD") {
    request = FIONREAD;
  } else if (args[0] == "TIOCSTI") {
    request = TIOCSTI;
  } else {
    request = static_cast<unsigned long>(ParseInt(args[0]));
  }
  // Larger than anything these requests read or write.
  alignas(16) char buffer[4096] = {};
  EmitOutcome("ioctl", ioctl(STDIN_FILENO, request, buffer) == 0 ? 0 : errno);
  return 0;
}

int Socket(const Args& args) {
  static constexpr struct {
    const char* name;
    int domain;
    int type;
    int protocol;
  } kFamilies[] = {
      {"unix", AF_UNIX, SOCK_STREAM, 0},
      {"inet", AF_INET, SOCK_STREAM, 0},
      {"inet6", AF_INET6, SOCK_STREAM, 0},
      {"netlink", AF_NETLINK, SOCK_RAW, NETLINK_ROUTE},
      {"raw", AF_INET, SOCK_RAW, IPPROTO_ICMP},
      {"packet", AF_PACKET, SOCK_RAW, 0},
  };
  for (const auto& family : kFamilies) {
    if (args[0] != family.name) continue;
    int fd = socket(family.domain, family.type | SOCK_CLOEXEC, family.protocol);
    EmitOutcome("socket", fd >= 0 ? 0 : errno);
    if (fd >= 0) close(fd);
    return 0;
  }
  UsageError("unknown family '" + args[0] +
             "' (unix, inet, inet6, netlink, raw, packet)");
}

constexpr size_t kPageBytes = 4096;

int Mmap(const Args& args) {
  int prot = ParseProt(args[0]);
  void* p = mmap(nullptr, kPageBytes, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EmitOutcome("mmap", p != MAP_FAILED ? 0 : errno);
  return 0;
}

int Mprotect(const Args& args) {
  int prot = ParseProt(args[0]);
  void* p = mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    EmitOutcome("mprotect", errno);
    return 0;
  }
  EmitOutcome("mprotect", mprotect(p, kPageBytes, prot) == 0 ? 0 : errno);
  return 0;
}

// openat(AT_FDCWD, PATH, O_RDONLY|O_CLOEXEC), with PATH from the command
// line or a hostile one: "unmapped" (an address with no memory behind it)
// or "unterminated" (1 MiB of 'A' with no NUL, an unmapped page after it).
// A hostile path's address comes first: address=0x...
int Openat(const Args& args) {
  const char* path = args[0].c_str();
  if (args[0] == "unmapped" || args[0] == "unterminated") {
    constexpr size_t kBytes = 1 << 20;
    void* p = mmap(nullptr, kBytes + kPageBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      EmitOutcome("mmap", errno);
      return 0;
    }
    char* bytes = static_cast<char*>(p);
    munmap(bytes + kBytes, kPageBytes);
    if (args[0] == "unmapped") {
      munmap(bytes, kBytes);
    } else {
      memset(bytes, 'A', kBytes);
    }
    char address[32];
    snprintf(address, sizeof(address), "0x%lx",
             static_cast<unsigned long>(reinterpret_cast<uintptr_t>(bytes)));
    Emit("address", address);
    path = bytes;
  }
  const long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  EmitOutcome("openat", fd >= 0 ? 0 : errno);
  if (fd >= 0) close(static_cast<int>(fd));
  return 0;
}

int Chroot(const Args& args) {
  EmitOutcome("chroot", chroot(args[0].c_str()) == 0 ? 0 : errno);
  return 0;
}

// ---------------------------------------------------------------------------
// Processes and limits

int Exit(const Args& args) { _exit(static_cast<int>(ParseInt(args[0]))); }

int Signal(const Args& args) {
  int sig = static_cast<int>(ParseInt(args[0]));
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  raise(sig);
  _exit(3);
}

int Sleep(const Args& args) {
  SleepSeconds(ParseSeconds(args[0]));
  Emit("slept", "1");
  return 0;
}

int Spin(const Args& args) {
  double seconds = args[0] == "forever" ? 0 : ParseSeconds(args[0]);
  double deadline = MonotonicSeconds() + seconds;
  volatile uint64_t counter = 0;
  while (seconds == 0 || MonotonicSeconds() < deadline) {
    for (int i = 0; i < 100000; ++i) counter = counter + 1;
  }
  Emit("spun", "1");
  return 0;
}

int Alloc(const Args& args) {
  uint64_t size = ParseSize(args[0]);
  double hold = args.size() > 1 ? ParseSeconds(args[1]) : 0;
  char* memory = size <= SIZE_MAX ? static_cast<char*>(malloc(size)) : nullptr;
  if (memory == nullptr) {
    Emit("alloc", "error");
    return 1;
  }
  // Touch every page so that the memory is really charged.
  volatile char* touch = memory;
  for (uint64_t offset = 0; offset < size; offset += kPageBytes) {
    touch[offset] = 1;
  }
  EmitInt("allocated", static_cast<long long>(size));
  if (hold > 0) SleepSeconds(hold);
  free(memory);
  return 0;
}

// A child allocates SIZE (touching it) while this process waits: under a
// memory cap below SIZE the kernel OOM-kills the child, not this small
// process, which reports how the child ended and sleeps SECONDS.
int OomChild(const Args& args) {
  pid_t pid = fork();
  if (pid < 0) {
    Emit("fork", "error");
    return 1;
  }
  if (pid == 0) _exit(Alloc({args[0]}));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    EmitInt("child_signal", WTERMSIG(status));
  } else {
    EmitInt("child_exit", WEXITSTATUS(status));
  }
  SleepSeconds(ParseSeconds(args[1]));
  Emit("slept", "1");
  return 0;
}

// A fork bomb bounded in time: every process, the top one included, keeps
// forking until the deadline, pausing 10 ms between attempts so that none
// spins, then exits; the top one reaps its children first. As a guard for
// sandboxes that fail to cap processes, the bomb stops growing after
// kForkBombCap forks in all (a counter in shared memory) and then prints
// fork_capped=1.
int ForkBomb(const Args& args) {
  constexpr long kForkBombCap = 4096;
  constexpr double kPauseSeconds = 0.01;
  double seconds = args.empty() ? 5 : ParseSeconds(args[0]);
  double deadline = MonotonicSeconds() + seconds;
  void* shared = mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  long* total_forks =
      shared != MAP_FAILED ? static_cast<long*>(shared) : nullptr;

  bool top = true;
  bool failed = false;
  bool capped = false;
  long long forks = 0;
  while (MonotonicSeconds() < deadline) {
    if (total_forks != nullptr &&
        __atomic_add_fetch(total_forks, 1, __ATOMIC_RELAXED) > kForkBombCap) {
      __atomic_sub_fetch(total_forks, 1, __ATOMIC_RELAXED);
      capped = true;
      SleepSeconds(kPauseSeconds);
      continue;
    }
    pid_t pid = fork();
    if (pid == 0) {
      top = false;
      continue;
    }
    if (pid < 0) {
      int err = errno;
      if (total_forks != nullptr) {
        __atomic_sub_fetch(total_forks, 1, __ATOMIC_RELAXED);
      }
      if (top && !failed) {
        failed = true;
        Emit("fork_failed", "1");
        Emit("errno", ErrnoName(err));
      }
    } else if (top) {
      ++forks;
    }
    SleepSeconds(kPauseSeconds);
  }
  if (!top) _exit(0);
  while (wait(nullptr) > 0 || errno == EINTR) {
  }
  if (capped) Emit("fork_capped", "1");
  EmitInt("forks", forks);
  return 0;
}

// Zombies among the processes visible in /proc, or -1 without /proc.
long long CountZombies() {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return -1;
  long long zombies = 0;
  bool any = false;
  while (dirent* entry = readdir(proc)) {
    if (!isdigit(static_cast<unsigned char>(entry->d_name[0]))) continue;
    std::optional<std::string> status =
        ReadFile(std::string("/proc/") + entry->d_name + "/status");
    if (!status) continue;  // Exited meanwhile.
    any = true;
    std::optional<std::string> state = StatusField(*status, "State");
    if (state && !state->empty() && (*state)[0] == 'Z') ++zombies;
  }
  closedir(proc);
  // A directory with no processes is not a mounted proc.
  return any ? zombies : -1;
}

// Leaves grandchildren to be reaped by the pid namespace's init: each child
// forks a grandchild that lives 0.1 s and exits at once itself.
int Orphans(const Args& args) {
  long long count = ParseInt(args[0]);
  if (count < 0) UsageError("negative count");
  std::vector<pid_t> children;
  for (long long i = 0; i < count; ++i) {
    pid_t pid = fork();
    if (pid == 0) {
      if (fork() == 0) {
        SleepSeconds(0.1);
        _exit(0);
      }
      _exit(0);
    }
    if (pid > 0) children.push_back(pid);
  }
  for (pid_t pid : children) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  SleepSeconds(0.5);
  EmitInt("zombies", CountZombies());
  return 0;
}

// ---------------------------------------------------------------------------
// Input and output

int Stdin(const Args&) {
  long long bytes = 0;
  char buffer[65536];
  int err = 0;
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    bytes += n;
  }
  EmitInt("stdin_bytes", bytes);
  if (err != 0) Emit("errno", ErrnoName(err));
  return 0;
}

int Echo(const Args& args) {
  Emit("echo", Join(args, " "));
  return 0;
}

// Where the testee sits in the sandbox (tests bind it at /testee).
constexpr char kSelf[] = "/testee";

int ExecSelf(const Args& args) {
  std::vector<char*> argv = {const_cast<char*>(kSelf)};
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  char* const envp[] = {nullptr};
  execve(kSelf, argv.data(), envp);
  Emit("exec_errno", ErrnoName(errno));
  return 0;
}

int Help(const Args&);

// clang-format off
constexpr Command kCommands[] = {
    {"help", "", "list the sub-commands", 0, 0, Help},
    // Identity and isolation.
    {"ns report", "", "pid, ids, hostname, interfaces, namespaces, seccomp, caps, ...", 0, 0, NsReport},
    {"fds", "", "open fds 0..4095 (probed with fcntl)", 0, 0, Fds},
    {"env", "", "env_count, then one env=KEY=VALUE per entry", 0, 0, Env},
    {"rlimits", "", "rlimit_<as|cpu|fsize|nofile|nproc|core>=soft:hard", 0, 0, Rlimits},
    // File system.
    {"exists", "PATH...", "exists:<PATH>=1|0 per path (lstat)", 1, kVariadic, Exists},
    {"read", "PATH", "read the file: read=ok, bytes=N", 1, 1, Read},
    {"write", "PATH", "create/truncate PATH and write \"x\"", 1, 1, Write},
    {"proc-write", "PATH [DATA]", "open PATH O_WRONLY (no create) and write DATA (default \"x\")", 1, 2, ProcWrite},
    {"mkdir", "PATH", "mkdir PATH", 1, 1, Mkdir},
    {"rmdir", "PATH", "rmdir PATH", 1, 1, Rmdir},
    {"symlink", "TARGET LINKPATH", "symlink(TARGET, LINKPATH)", 2, 2, Symlink},
    {"cat", "PATH", "cat=ok and text=<the file, NULs and newlines as spaces>", 1, 1, Cat},
    {"fsize", "BYTES PATH", "write BYTES to PATH ignoring SIGXFSZ: written=N", 2, 2, Fsize},
    {"nofile", "", "open /dev/null until it fails: opened=N, errno", 0, 0, NoFile},
    // System calls.
    {"syscall", "NAME|NR [ARG...]", "raw x86-64 syscall with up to 6 integer args: ret, errno", 1, 7, Syscall},
    {"i386", "NAME", "i386 syscall through int $0x80, args 0: ret, errno", 1, 1, I386},
    {"x32", "NAME", "x32 syscall (bit 30 set), args 0: ret, errno", 1, 1, X32},
    {"ptrace", "", "ptrace(PTRACE_TRACEME)", 0, 0, Ptrace},
    {"stack-filter", "seccomp|prctl", "install a filter of its own failing ptrace with EPERM, then ptrace: stack, ptrace", 1, 1, StackFilter},
    {"kill", "PID SIG", "kill(PID, SIG)", 2, 2, Kill},
    {"clone-ns", "NS", "clone a child into a new user|pid|net|ipc|uts|mnt|cgroup ns: ret", 1, 1, CloneNs},
    {"unshare", "NS", "unshare(user|pid|net|ipc|uts|mnt|cgroup)", 1, 1, Unshare},
    {"unlock_mount", "PATH", "try to remount PATH rw, suid, dev or unmount it, also from a nested user+mount namespace", 1, 1, UnlockMount},
    {"tiocsti", "", "push a character into the terminal (stdin, else /dev/tty)", 0, 0, Tiocsti},
    {"ioctl", "REQUEST", "ioctl(0, TCGETS|FIONREAD|TIOCSTI|number, buffer)", 1, 1, Ioctl},
    {"socket", "FAMILY", "socket(unix|inet|inet6|netlink|raw|packet)", 1, 1, Socket},
    {"mmap", "PROT", "mmap an anonymous page with PROT (r, w, x letters or none)", 1, 1, Mmap},
    {"mprotect", "PROT", "mmap a page rw, then mprotect it to PROT", 1, 1, Mprotect},
    {"openat", "PATH|unmapped|unterminated", "openat(AT_FDCWD, PATH, O_RDONLY|O_CLOEXEC); a hostile PATH's address=0x...", 1, 1, Openat},
    {"chroot", "PATH", "chroot(PATH)", 1, 1, Chroot},
    // Processes and limits.
    {"exit", "CODE", "_exit(CODE)", 1, 1, Exit},
    {"signal", "SIG", "raise(SIG) with the default action; exit 3 if alive", 1, 1, Signal},
    {"sleep", "SECONDS", "sleep, then slept=1", 1, 1, Sleep},
    {"spin", "SECONDS|forever", "burn CPU for SECONDS of wall time (0: forever), then spun=1", 1, 1, Spin},
    {"alloc", "SIZE [HOLD_SECONDS]", "malloc SIZE (64M, 1G, ...) and touch it; exit 1 if malloc fails", 1, 2, Alloc},
    {"oom-child", "SIZE SECONDS", "a child allocs SIZE: child_signal or child_exit, then sleep SECONDS", 2, 2, OomChild},
    {"forkbomb", "[SECONDS]", "fork bomb for SECONDS (5): fork_failed, errno, forks", 0, 1, ForkBomb},
    {"orphans", "N", "leave N orphans to the pid ns init, then count zombies", 1, 1, Orphans},
    // Input and output.
    {"stdin", "", "read stdin to the end: stdin_bytes=N", 0, 0, Stdin},
    {"echo", "WORDS...", "echo=WORDS joined by spaces", 0, kVariadic, Echo},
    {"exec-self", "ARGS...", "execve /testee ARGS; on failure exec_errno", 0, kVariadic, ExecSelf},
};
// clang-format on

std::string HelpText() {
  std::string text = "usage: testee SUB-COMMAND [ARG...]\n";
  for (const Command& command : kCommands) {
    std::string call = std::string(command.name) + " " + command.synopsis;
    char line[256];
    snprintf(line, sizeof(line), "  %-34s %s\n", call.c_str(), command.help);
    text += line;
  }
  return text;
}

int Help(const Args&) {
  WriteAll(STDOUT_FILENO, HelpText());
  return 0;
}

// Matches a possibly multi-word command name against the start of `words`;
// returns how many words it took, or 0.
size_t MatchName(std::string_view name, const std::vector<std::string>& words) {
  size_t used = 0;
  while (!name.empty()) {
    size_t space = name.find(' ');
    std::string_view word = name.substr(0, space);
    if (used >= words.size() || words[used] != word) return 0;
    ++used;
    name = space == std::string_view::npos ? std::string_view()
                                           : name.substr(space + 1);
  }
  return used;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty()) {
    WriteAll(STDERR_FILENO, HelpText());
    return kUsageExit;
  }
  for (const Command& command : kCommands) {
    size_t used = MatchName(command.name, words);
    if (used == 0) continue;
    current_command = &command;
    Args args(words.begin() + static_cast<long>(used), words.end());
    int count = static_cast<int>(args.size());
    if (count < command.min_args ||
        (command.max_args != kVariadic && count > command.max_args)) {
      UsageError("wrong number of arguments");
    }
    return command.run(args);
  }
  WriteAll(STDERR_FILENO, "testee: unknown sub-command '" + words[0] +
                              "'; `testee help` lists them\n");
  return kUsageExit;
}
