// The system call decoder without a kernel: calls with made-up arguments
// and a made-up memory, and the lines they decode to. One row per call,
// covering every ArgKind; then what a hostile caller may put in memory.

#include "sandbox/internal/syscall_decoder.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sandbox::internal {
namespace {

// Memory as a few regions of bytes; everything else is unmapped.
class FakeMemory : public MemoryReader {
 public:
  // Places `bytes` at `address`; returns the address.
  uint64_t Put(uint64_t address, std::string bytes) {
    regions_[address] = std::move(bytes);
    return address;
  }
  // A NUL-terminated string.
  uint64_t PutString(uint64_t address, const std::string& text) {
    return Put(address, text + std::string(1, '\0'));
  }
  template <typename T>
  uint64_t PutValue(uint64_t address, const T& value) {
    return Put(address, std::string(reinterpret_cast<const char*>(&value),
                                    sizeof(value)));
  }

  size_t Read(uint64_t address, char* buffer, size_t size) override {
    ++reads_;
    for (const auto& [start, bytes] : regions_) {
      if (address < start || address - start >= bytes.size()) continue;
      const size_t n = std::min(size, bytes.size() - (address - start));
      memcpy(buffer, bytes.data() + (address - start), n);
      return n;
    }
    return 0;
  }

  int reads() const { return reads_; }

 private:
  std::map<uint64_t, std::string> regions_;
  int reads_ = 0;
};

constexpr uint64_t kPath = 0x10000;
constexpr uint64_t kPath2 = 0x20000;
constexpr uint64_t kBuffer = 0x7ffc1000;
constexpr uint64_t kArgv = 0x30000;
constexpr uint64_t kSockaddr = 0x40000;
constexpr uint64_t kUnmapped = 0xdead0000;
// What a 32-bit int of -1 or AT_FDCWD looks like in a 64-bit register when
// the caller zero-extended it.
constexpr uint64_t kMinusOne32 = 0xffffffff;
constexpr uint64_t kAtFdcwd32 = 0xffffff9c;

struct Row {
  const char* expected;
  long nr;
  std::array<uint64_t, 6> args;
};

FakeMemory& Memory() {
  static FakeMemory* const memory = [] {
    auto* m = new FakeMemory();
    m->PutString(kPath, "/etc/passwd");
    m->PutString(kPath2, "worker");
    m->PutString(0x11000, "/bin/sh");
    m->PutString(0x11100, "sh");
    m->PutString(0x11200, "-c");
    m->PutString(0x11300, "id");
    m->PutValue(kArgv, std::array<uint64_t, 4>{0x11100, 0x11200, 0x11300, 0});
    m->PutString(0x12000, "none");
    m->PutString(0x12100, "/mnt");
    m->PutString(0x12200, "tmpfs");
    m->PutString(0x12300, "user.x");
    struct sockaddr_in in = {};
    in.sin_family = AF_INET;
    in.sin_port = htons(80);
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->PutValue(kSockaddr, in);
    struct sockaddr_in6 in6 = {};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(443);
    in6.sin6_addr = in6addr_loopback;
    m->PutValue(kSockaddr + 0x100, in6);
    m->Put(kSockaddr + 0x200, std::string("\x01\x00/run/x.sock\0", 14));
    m->Put(kSockaddr + 0x300, std::string("\x01\x00\0abstract", 11));
    return m;
  }();
  return *memory;
}

void PrintTo(const Row& row, std::ostream* os) { *os << row.expected; }

class DecodeCallTest : public ::testing::TestWithParam<Row> {};

TEST_P(DecodeCallTest, DecodesToTheExpectedLine) {
  const Row& row = GetParam();
  EXPECT_EQ(DecodeCall(static_cast<int>(row.nr), row.args, &Memory()),
            row.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Calls, DecodeCallTest,
    ::testing::Values(
        // kDirFd, kPath, kOpenFlags; kCreateMode left out without O_CREAT.
        Row{R"(openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC))",
            SYS_openat,
            {kAtFdcwd32, kPath, O_RDONLY | O_CLOEXEC, 0x1234}},
        // Sign-extended the same; kCreateMode with O_CREAT.
        Row{R"(openat(AT_FDCWD, "/etc/passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644))",
            SYS_openat,
            {static_cast<uint64_t>(AT_FDCWD), kPath,
             O_WRONLY | O_CREAT | O_TRUNC, 0644}},
        // O_TMPFILE names its O_DIRECTORY bit too; unknown bits in hex.
        Row{R"(open("/etc/passwd", O_RDWR|O_TMPFILE|0x40000000, 0600))",
            SYS_open,
            {kPath, O_RDWR | O_TMPFILE | 0x40000000, 0600}},
        // An fd of 3; kPath that cannot be read prints as a pointer.
        Row{"openat(3, 0xdead0000, O_RDONLY)", SYS_openat, {3, kUnmapped, 0}},
        // kSocketDomain, kSocketType, kProtocol (0 as 0).
        Row{"socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, 0)",
            SYS_socket,
            {AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0}},
        Row{"socket(AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK, IPPROTO_UDP)",
            SYS_socket,
            {AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP}},
        Row{"socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT)",
            SYS_socket,
            {AF_NETLINK, SOCK_RAW, 15}},
        // kPointer (NULL), kSize, kProt, kMapFlags, kFd (-1), kLong.
        Row{"mmap(NULL, 4096, PROT_READ|PROT_WRITE|PROT_EXEC, "
            "MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)",
            SYS_mmap,
            {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
             MAP_PRIVATE | MAP_ANONYMOUS, kMinusOne32, 0}},
        Row{"mprotect(0x7f0000000000, 4096, PROT_NONE)",
            SYS_mprotect,
            {0x7f0000000000, 4096, PROT_NONE}},
        // kCloneFlags: the low byte is the exit signal.
        Row{"clone(CLONE_NEWUSER|SIGCHLD, NULL, NULL, NULL, 0)",
            SYS_clone,
            {CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0}},
        Row{"clone(CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|"
            "CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|"
            "CLONE_CHILD_CLEARTID, 0x7f00001000, 0x7f00002000, "
            "0x7f00002000, 0x7f00003000)",
            SYS_clone,
            {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                 CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                 CLONE_CHILD_CLEARTID,
             0x7f00001000, 0x7f00002000, 0x7f00002000, 0x7f00003000}},
        // kNamespaceFlags: CLONE_NEWTIME sits in clone's signal byte.
        Row{"unshare(CLONE_NEWTIME|CLONE_NEWUSER|CLONE_NEWNET)",
            SYS_unshare,
            {CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWTIME}},
        Row{"setns(4, CLONE_NEWNET)", SYS_setns, {4, CLONE_NEWNET}},
        // kIoctlRequest: named, _IOC-encoded, or plain hex.
        Row{"ioctl(3, TIOCGWINSZ, 0x7ffc1000)",
            SYS_ioctl,
            {3, TIOCGWINSZ, kBuffer}},
        Row{"ioctl(0, TIOCSTI, 0x7ffc1000)", SYS_ioctl, {0, TIOCSTI, kBuffer}},
        Row{"ioctl(0, FIONREAD, 0)", SYS_ioctl, {0, FIONREAD, 0}},
        Row{"ioctl(5, _IOC(_IOC_READ|_IOC_WRITE, 0x99, 0x7, 0x10), 0)",
            SYS_ioctl,
            {5, _IOWR(0x99, 7, char[16]), 0}},
        Row{"ioctl(5, 0x1234, 0x1)", SYS_ioctl, {5, 0x1234, 1}},
        // kPid and kSignal.
        Row{"kill(-1, SIGKILL)", SYS_kill, {kMinusOne32, SIGKILL}},
        Row{"kill(-5, SIGRT_2)", SYS_kill, {static_cast<uint64_t>(-5), 34}},
        Row{"tgkill(7, 8, 99)", SYS_tgkill, {7, 8, 99}},
        // kPrctlOption and kPrctlArg, named after the option.
        Row{"prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, 0x7ffc1000, 0, 0)",
            SYS_prctl,
            {PR_SET_SECCOMP, SECCOMP_MODE_FILTER, kBuffer, 0, 0}},
        Row{R"(prctl(PR_SET_NAME, "worker", 0, 0, 0))",
            SYS_prctl,
            {PR_SET_NAME, kPath2, 0, 0, 0}},
        Row{"prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)",
            SYS_prctl,
            {PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0}},
        Row{"prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 0xc, 0, 0)",
            SYS_prctl,
            {PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, 12, 0, 0}},
        // kFcntlCmd and kFcntlArg, which depends on it.
        Row{"fcntl(3, F_SETFD, FD_CLOEXEC)",
            SYS_fcntl,
            {3, F_SETFD, FD_CLOEXEC}},
        Row{"fcntl(3, F_GETFL)", SYS_fcntl, {3, F_GETFL, 0x77}},
        Row{"fcntl(3, F_SETFL, O_NONBLOCK)",
            SYS_fcntl,
            {3, F_SETFL, O_NONBLOCK}},
        Row{"fcntl(3, F_DUPFD_CLOEXEC, 10)",
            SYS_fcntl,
            {3, F_DUPFD_CLOEXEC, 10}},
        Row{"fcntl(3, F_ADD_SEALS, F_SEAL_SHRINK|F_SEAL_GROW)",
            SYS_fcntl,
            {3, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW}},
        // kWhence with a negative kLong.
        Row{"lseek(3, -1, SEEK_END)",
            SYS_lseek,
            {3, static_cast<uint64_t>(-1), SEEK_END}},
        // kOctalMode, kMknodMode.
        Row{R"(mkdirat(AT_FDCWD, "/etc/passwd", 0755))",
            SYS_mkdirat,
            {kAtFdcwd32, kPath, 0755}},
        Row{R"(mknodat(AT_FDCWD, "/etc/passwd", S_IFIFO|0600, 0))",
            SYS_mknodat,
            {kAtFdcwd32, kPath, S_IFIFO | 0600, 0}},
        Row{R"(chmod("/etc/passwd", 04755))", SYS_chmod, {kPath, 04755}},
        Row{"umask(022)", SYS_umask, {022}},
        // kAtFlags, kAccessMode.
        Row{R"(newfstatat(3, "/etc/passwd", 0x7ffc1000, AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH))",
            SYS_newfstatat,
            {3, kPath, kBuffer, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH}},
        Row{R"(access("/etc/passwd", F_OK))", SYS_access, {kPath, F_OK}},
        Row{R"(faccessat2(AT_FDCWD, "/etc/passwd", R_OK|X_OK, AT_SYMLINK_NOFOLLOW))",
            SYS_faccessat2,
            {kAtFdcwd32, kPath, R_OK | X_OK, AT_SYMLINK_NOFOLLOW}},
        // kId: -1 means "unchanged".
        Row{"setresuid(-1, 1000, -1)",
            SYS_setresuid,
            {kMinusOne32, 1000, kMinusOne32}},
        // kSockaddr, read with the length that follows it.
        Row{"connect(3, {AF_INET, 127.0.0.1:80}, 16)",
            SYS_connect,
            {3, kSockaddr, 16}},
        Row{"connect(3, {AF_INET6, [::1]:443}, 28)",
            SYS_connect,
            {3, kSockaddr + 0x100, 28}},
        Row{R"(connect(3, {AF_UNIX, "/run/x.sock"}, 14))",
            SYS_connect,
            {3, kSockaddr + 0x200, 14}},
        Row{R"(bind(3, {AF_UNIX, @"abstract"}, 11))",
            SYS_bind,
            {3, kSockaddr + 0x300, 11}},
        Row{"connect(3, 0xdead0000, 16)", SYS_connect, {3, kUnmapped, 16}},
        // kMsgFlags.
        Row{"sendto(3, 0x7ffc1000, 5, MSG_DONTWAIT|MSG_NOSIGNAL, NULL, 0)",
            SYS_sendto,
            {3, kBuffer, 5, MSG_DONTWAIT | MSG_NOSIGNAL, 0, 0}},
        // kSocketLevel, kSocketOption (named under its level).
        Row{"setsockopt(3, SOL_SOCKET, SO_REUSEADDR, 0x7ffc1000, 4)",
            SYS_setsockopt,
            {3, SOL_SOCKET, SO_REUSEADDR, kBuffer, 4}},
        Row{"setsockopt(3, SOL_TCP, TCP_NODELAY, 0x7ffc1000, 4)",
            SYS_setsockopt,
            {3, IPPROTO_TCP, 1, kBuffer, 4}},
        Row{"shutdown(3, SHUT_RDWR)", SYS_shutdown, {3, SHUT_RDWR}},
        Row{"accept4(3, NULL, NULL, SOCK_CLOEXEC)",
            SYS_accept4,
            {3, 0, 0, SOCK_CLOEXEC}},
        // kArgv.
        Row{R"(execve("/bin/sh", ["sh", "-c", "id"], 0x7ffc1000))",
            SYS_execve,
            {0x11000, kArgv, kBuffer}},
        // kWaitOptions, kIdType.
        Row{"wait4(-1, NULL, WNOHANG|__WALL, NULL)",
            SYS_wait4,
            {kMinusOne32, 0, WNOHANG | __WALL, 0}},
        Row{"waitid(P_PIDFD, 3, 0x7ffc1000, WEXITED, NULL)",
            SYS_waitid,
            {P_PIDFD, 3, kBuffer, WEXITED, 0}},
        // The fixed deny list: kPtraceRequest, kSeccompOp, kSeccompFlags,
        // kBpfCmd, kMountFlags, kUmountFlags.
        Row{"ptrace(PTRACE_TRACEME, 0, NULL, 0)", SYS_ptrace, {0, 0, 0, 0}},
        Row{"ptrace(PTRACE_ATTACH, 1, NULL, 0)",
            SYS_ptrace,
            {PTRACE_ATTACH, 1, 0, 0}},
        Row{"seccomp(SECCOMP_SET_MODE_FILTER, "
            "SECCOMP_FILTER_FLAG_NEW_LISTENER, 0x7ffc1000)",
            SYS_seccomp,
            {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
             kBuffer}},
        Row{"bpf(BPF_PROG_LOAD, 0x7ffc1000, 128)",
            SYS_bpf,
            {BPF_PROG_LOAD, kBuffer, 128}},
        Row{R"(mount("none", "/mnt", "tmpfs", MS_NOSUID|MS_NODEV, NULL))",
            SYS_mount,
            {0x12000, 0x12100, 0x12200, MS_NOSUID | MS_NODEV, 0}},
        Row{R"(mount(NULL, "/mnt", NULL, MS_MGC_VAL|MS_RDONLY|MS_REMOUNT, NULL))",
            SYS_mount,
            {0, 0x12100, 0, MS_MGC_VAL | MS_RDONLY | MS_REMOUNT, 0}},
        Row{R"(umount2("/mnt", MNT_DETACH))",
            SYS_umount2,
            {0x12100, MNT_DETACH}},
        Row{R"(chroot("/mnt"))", SYS_chroot, {0x12100}},
        // kFutexOp, kMadvise, kRlimitResource, kClockId.
        Row{"futex(0x7ffc1000, FUTEX_WAIT|FUTEX_PRIVATE_FLAG, 0, NULL, NULL, "
            "0)",
            SYS_futex,
            {kBuffer, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, 0, 0, 0}},
        Row{"madvise(0x7ffc1000, 4096, MADV_DONTNEED)",
            SYS_madvise,
            {kBuffer, 4096, MADV_DONTNEED}},
        Row{"prlimit64(0, RLIMIT_NOFILE, 0x7ffc1000, NULL)",
            SYS_prlimit64,
            {0, RLIMIT_NOFILE, kBuffer, 0}},
        Row{"clock_gettime(CLOCK_MONOTONIC, 0x7ffc1000)",
            SYS_clock_gettime,
            {CLOCK_MONOTONIC, kBuffer}},
        // kSigprocmaskHow, kEpollOp, kEventfdFlags, kGetrandomFlags,
        // kCloseRangeFlags, kStatusFlags, kFlockOp.
        Row{"rt_sigprocmask(SIG_BLOCK, 0x7ffc1000, NULL, 8)",
            SYS_rt_sigprocmask,
            {SIG_BLOCK, kBuffer, 0, 8}},
        Row{"rt_sigaction(SIGINT, 0x7ffc1000, NULL, 8)",
            SYS_rt_sigaction,
            {SIGINT, kBuffer, 0, 8}},
        Row{"epoll_ctl(3, EPOLL_CTL_ADD, 4, 0x7ffc1000)",
            SYS_epoll_ctl,
            {3, EPOLL_CTL_ADD, 4, kBuffer}},
        Row{"eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK)",
            SYS_eventfd2,
            {0, EFD_CLOEXEC | EFD_NONBLOCK}},
        Row{"getrandom(0x7ffc1000, 16, GRND_NONBLOCK)",
            SYS_getrandom,
            {kBuffer, 16, GRND_NONBLOCK}},
        Row{"close_range(3, 4294967295, CLOSE_RANGE_CLOEXEC)",
            SYS_close_range,
            {3, kMinusOne32, 4}},
        Row{"pipe2(0x7ffc1000, O_NONBLOCK|O_CLOEXEC)",
            SYS_pipe2,
            {kBuffer, O_CLOEXEC | O_NONBLOCK}},
        Row{"flock(3, LOCK_EX|LOCK_NB)", SYS_flock, {3, LOCK_EX | LOCK_NB}},
        // kRenameFlags, kXattrFlags, kMremapFlags, kMsyncFlags,
        // kMlockallFlags, kMemfdFlags.
        Row{R"(renameat2(AT_FDCWD, "/etc/passwd", 3, "worker", RENAME_NOREPLACE))",
            SYS_renameat2,
            {kAtFdcwd32, kPath, 3, kPath2, RENAME_NOREPLACE}},
        Row{R"(setxattr("/etc/passwd", "user.x", 0x7ffc1000, 1, XATTR_CREATE))",
            SYS_setxattr,
            {kPath, 0x12300, kBuffer, 1, XATTR_CREATE}},
        Row{"mremap(0x7ffc1000, 4096, 8192, MREMAP_MAYMOVE, NULL)",
            SYS_mremap,
            {kBuffer, 4096, 8192, MREMAP_MAYMOVE, 0}},
        Row{"msync(0x7ffc1000, 4096, MS_SYNC)",
            SYS_msync,
            {kBuffer, 4096, MS_SYNC}},
        Row{"mlockall(MCL_CURRENT|MCL_FUTURE)",
            SYS_mlockall,
            {MCL_CURRENT | MCL_FUTURE}},
        Row{R"(memfd_create("worker", MFD_CLOEXEC|MFD_ALLOW_SEALING))",
            SYS_memfd_create,
            {kPath2, MFD_CLOEXEC | MFD_ALLOW_SEALING}},
        // kArchPrctlCode, kPriorityWhich, kSchedPolicy, kItimerWhich, kHex,
        // kUInt.
        Row{"arch_prctl(ARCH_SET_FS, 0x7f0000001000)",
            SYS_arch_prctl,
            {0x1002, 0x7f0000001000}},
        Row{"setpriority(PRIO_PROCESS, 0, -5)",
            SYS_setpriority,
            {PRIO_PROCESS, 0, static_cast<uint64_t>(-5)}},
        Row{"sched_setscheduler(0, SCHED_FIFO|SCHED_RESET_ON_FORK, "
            "0x7ffc1000)",
            SYS_sched_setscheduler,
            {0, SCHED_FIFO | SCHED_RESET_ON_FORK, kBuffer}},
        Row{"setitimer(ITIMER_REAL, 0x7ffc1000, NULL)",
            SYS_setitimer,
            {ITIMER_REAL, kBuffer, 0}},
        Row{"alarm(30)", SYS_alarm, {30}},
        // No arguments.
        Row{"getpid()", SYS_getpid, {1, 2, 3}},
        // Known to libseccomp, not to the table: six hex arguments.
        Row{"lookup_dcookie(0x1, 0, 0, 0, 0, 0)", SYS_lookup_dcookie, {1}},
        // Unknown to both.
        Row{"syscall_4000(0x1, 0x2, 0, 0, 0, 0)", 4000, {1, 2}}));

TEST(SyscallDecoderTest, StringsAreQuotedAndEscaped) {
  FakeMemory memory;
  memory.PutString(kPath, "a\"b\\c\nd\te\x01\xc3\xa9");
  EXPECT_EQ(DecodeCall(SYS_unlink, {kPath}, &memory),
            R"(unlink("a\"b\\c\nd\te\x01\xc3\xa9"))");
}

TEST(SyscallDecoderTest, WithoutMemoryStringsArePointers) {
  EXPECT_EQ(DecodeCall(SYS_openat, {kAtFdcwd32, kPath, O_RDONLY}, nullptr),
            "openat(AT_FDCWD, 0x10000, O_RDONLY)");
}

TEST(SyscallDecoderTest, ALongStringIsTruncated) {
  FakeMemory memory;
  memory.PutString(kPath, std::string(300, 'x'));
  EXPECT_EQ(
      DecodeCall(SYS_chdir, {kPath}, &memory),
      absl::StrCat("chdir(\"", std::string(kMaxStringBytes, 'x'), "\"...)"));
  // Exactly the limit, terminated: whole.
  memory.PutString(kPath, std::string(kMaxStringBytes, 'y'));
  EXPECT_EQ(DecodeCall(SYS_chdir, {kPath}, &memory),
            absl::StrCat("chdir(\"", std::string(kMaxStringBytes, 'y'), "\")"));
}

TEST(SyscallDecoderTest, AHugeStringWithoutNulIsReadBoundedAndTruncated) {
  FakeMemory memory;
  memory.Put(kPath, std::string(1 << 20, 'A'));
  const absl::Time start = absl::Now();
  const std::string line =
      DecodeCall(SYS_openat, {kAtFdcwd32, kPath, O_RDONLY}, &memory);
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(line, absl::StrCat("openat(AT_FDCWD, \"",
                               std::string(kMaxStringBytes, 'A'),
                               "\"..., O_RDONLY)"));
  EXPECT_EQ(memory.reads(), 1);
}

TEST(SyscallDecoderTest, AStringThatRunsIntoUnmappedMemoryIsTruncated) {
  FakeMemory memory;
  memory.Put(kPath, "abc");
  EXPECT_EQ(DecodeCall(SYS_chdir, {kPath}, &memory), R"(chdir("abc"...))");
}

TEST(SyscallDecoderTest, UnmappedMemoryPrintsThePointer) {
  FakeMemory memory;
  EXPECT_EQ(DecodeCall(SYS_execve, {kUnmapped, kUnmapped + 8, kUnmapped + 16},
                       &memory),
            "execve(0xdead0000, 0xdead0008, 0xdead0010)");
}

// A reader that claims to have copied more than it was asked for.
class LyingMemory : public MemoryReader {
 public:
  size_t Read(uint64_t address, char* buffer, size_t size) override {
    memset(buffer, 'z', size);
    return size * 1000;
  }
};

TEST(SyscallDecoderTest, AReaderIsNotBelievedBeyondWhatWasAsked) {
  LyingMemory memory;
  const std::string line = DecodeCall(SYS_chdir, {kPath}, &memory);
  EXPECT_EQ(line, absl::StrCat("chdir(\"", std::string(kMaxStringBytes, 'z'),
                               "\"...)"));
}

TEST(SyscallDecoderTest, ALongArgvIsCut) {
  FakeMemory memory;
  std::array<uint64_t, 12> argv;
  argv.fill(0x11100);
  memory.PutString(0x11100, "x");
  memory.PutValue(kArgv, argv);
  EXPECT_EQ(
      DecodeCall(SYS_execve, {0, kArgv, 0}, &memory),
      R"(execve(NULL, ["x", "x", "x", "x", "x", "x", "x", "x", ...], NULL))");
  // Eight entries and the terminating NULL: whole.
  argv[8] = 0;
  memory.PutValue(kArgv, argv);
  EXPECT_EQ(DecodeCall(SYS_execve, {0, kArgv, 0}, &memory),
            R"(execve(NULL, ["x", "x", "x", "x", "x", "x", "x", "x"], NULL))");
}

TEST(SyscallDecoderTest, AnUnterminatedUnixPathStopsAtItsLength) {
  FakeMemory memory;
  memory.Put(kSockaddr,
             std::string("\x01\x00/tmp/sock", 11) + std::string(200, 'q'));
  EXPECT_EQ(DecodeCall(SYS_connect, {3, kSockaddr, 11}, &memory),
            R"(connect(3, {AF_UNIX, "/tmp/sock"}, 11))");
}

TEST(SyscallDecoderTest, DecodeArgNamesConstantsWithoutContext) {
  EXPECT_EQ(DecodeArg(ArgKind::kDirFd, kAtFdcwd32), "AT_FDCWD");
  EXPECT_EQ(DecodeArg(ArgKind::kFd, kMinusOne32), "-1");
  EXPECT_EQ(DecodeArg(ArgKind::kOpenFlags, O_RDONLY | 0x40000000),
            "O_RDONLY|0x40000000");
  EXPECT_EQ(DecodeArg(ArgKind::kSocketDomain, AF_NETLINK), "AF_NETLINK");
  EXPECT_EQ(DecodeArg(ArgKind::kSocketDomain, 999), "999");
  EXPECT_EQ(DecodeArg(ArgKind::kIoctlRequest, TCGETS), "TCGETS");
  EXPECT_EQ(DecodeArg(ArgKind::kCloneFlags, CLONE_NEWPID), "CLONE_NEWPID");
  EXPECT_EQ(DecodeArg(ArgKind::kPrctlOption, PR_SET_NO_NEW_PRIVS),
            "PR_SET_NO_NEW_PRIVS");
  EXPECT_EQ(DecodeArg(ArgKind::kSignal, 0), "0");
  EXPECT_EQ(DecodeArg(ArgKind::kOctalMode, 0644), "0644");
  EXPECT_EQ(DecodeArg(ArgKind::kPath, kPath), "0x10000");
  EXPECT_EQ(DecodeArg(ArgKind::kProt, 0), "PROT_NONE");
  // Only the low 32 bits of an int count, as for the kernel.
  EXPECT_EQ(DecodeArg(ArgKind::kInt, 0x1234500000007), "7");
}

TEST(SyscallDecoderTest, SignaturesSayWhichArgumentIsTheKey) {
  const struct {
    long nr;
    const char* name;
    int key;
    ArgKind kind;
  } kCases[] = {
      {SYS_socket, "domain", 0, ArgKind::kSocketDomain},
      {SYS_ioctl, "request", 1, ArgKind::kIoctlRequest},
      {SYS_clone, "flags", 0, ArgKind::kCloneFlags},
      {SYS_prctl, "option", 0, ArgKind::kPrctlOption},
      {SYS_openat, "flags", 2, ArgKind::kOpenFlags},
      {SYS_mmap, "prot", 2, ArgKind::kProt},
  };
  for (const auto& c : kCases) {
    const SyscallSignature* signature = FindSignature(static_cast<int>(c.nr));
    ASSERT_NE(signature, nullptr) << c.nr;
    const int key = KeyArgument(*signature);
    EXPECT_EQ(key, c.key) << signature->name;
    EXPECT_STREQ(signature->args[key].name, c.name) << signature->name;
    EXPECT_EQ(signature->args[key].kind, c.kind) << signature->name;
  }
  EXPECT_EQ(KeyArgument(*FindSignature(SYS_getpid)), -1);
  EXPECT_EQ(FindSignature("openat"), FindSignature(SYS_openat));
  EXPECT_EQ(FindSignature("no_such_call"), nullptr);
  EXPECT_EQ(FindSignature(SYS_read)->arg_count(), 3);
}

TEST(SyscallDecoderTest, TheFixedDenyListIsInTheTable) {
  for (const char* name :
       {"ptrace",        "process_vm_readv", "process_vm_writev",
        "bpf",           "perf_event_open",  "unshare",
        "setns",         "clone3",           "mount",
        "umount2",       "pivot_root",       "chroot",
        "move_mount",    "open_tree",        "fsopen",
        "fsconfig",      "fsmount",          "fspick",
        "mount_setattr", "kexec_load",       "kexec_file_load",
        "init_module",   "finit_module",     "delete_module",
        "keyctl",        "add_key",          "request_key",
        "userfaultfd",   "seccomp"}) {
    EXPECT_NE(FindSignature(name), nullptr) << name;
  }
}

TEST(SyscallDecoderTest, EveryTableEntryIsAnX86_64Call) {
  // Each name of the table resolves: no misspelt entry sits unused.
  for (int nr = 0; nr < 512; ++nr) {
    const SyscallSignature* signature = FindSignature(nr);
    if (signature == nullptr) continue;
    EXPECT_EQ(FindSignature(signature->name), signature) << nr;
  }
  // Calls newer than the table's oldest entries are found by number too.
  for (const char* name : {"openat2", "close_range", "pidfd_getfd",
                           "faccessat2", "landlock_create_ruleset"}) {
    const int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, name);
    ASSERT_GE(nr, 0) << name;
    EXPECT_EQ(FindSignature(nr), FindSignature(name)) << name;
    EXPECT_NE(FindSignature(nr), nullptr) << name;
  }
}

TEST(SyscallDecoderTest, OutputIsBoundedForAnyArguments) {
  // Every call in the table with every argument a readable 1 MiB run of
  // 0xff bytes: each line stays a few KiB of printable ASCII.
  FakeMemory memory;
  memory.Put(kPath, std::string(1 << 20, '\xff'));
  for (int nr = 0; nr < 512; ++nr) {
    if (FindSignature(nr) == nullptr) continue;
    const std::string line =
        DecodeCall(nr, {kPath, kPath, kPath, kPath, kPath, kPath}, &memory);
    EXPECT_LT(line.size(), 8192u) << line.substr(0, 80);
    for (const char c : line) {
      ASSERT_TRUE(c >= 0x20 && c < 0x7f) << line.substr(0, 80);
    }
  }
}

}  // namespace
}  // namespace sandbox::internal
