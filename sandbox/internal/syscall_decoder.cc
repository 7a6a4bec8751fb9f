#include "sandbox/internal/syscall_decoder.h"

#include <arpa/inet.h>
#include <asm/prctl.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/close_range.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/futex.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/nsfs.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
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
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "sandbox/internal/kernel_abi.h"

namespace sandbox::internal {
namespace {

// ---------------------------------------------------------------------------
// Named constants, from the C library's and the kernel's headers. A table
// of flags lists multi-bit values (O_SYNC, O_TMPFILE) before their parts.

struct Named {
  uint64_t value;
  const char* name;
};

#define SBX_NAMED(constant) \
  Named { static_cast<uint64_t>(constant), #constant }

constexpr Named kOpenFlags[] = {
    SBX_NAMED(O_CREAT),
    SBX_NAMED(O_EXCL),
    SBX_NAMED(O_NOCTTY),
    SBX_NAMED(O_TRUNC),
    SBX_NAMED(O_APPEND),
    SBX_NAMED(O_NONBLOCK),
    SBX_NAMED(O_SYNC),
    SBX_NAMED(O_DSYNC),
    SBX_NAMED(O_ASYNC),
    SBX_NAMED(O_DIRECT),
    {kKernelOLargefile, "O_LARGEFILE"},
    SBX_NAMED(O_TMPFILE),
    SBX_NAMED(O_DIRECTORY),
    SBX_NAMED(O_NOFOLLOW),
    SBX_NAMED(O_NOATIME),
    SBX_NAMED(O_CLOEXEC),
    SBX_NAMED(O_PATH),
};

constexpr Named kAccessModes[] = {
    SBX_NAMED(O_RDONLY),
    SBX_NAMED(O_WRONLY),
    SBX_NAMED(O_RDWR),
};

constexpr Named kAtFlags[] = {
    SBX_NAMED(AT_SYMLINK_NOFOLLOW), SBX_NAMED(AT_REMOVEDIR),
    SBX_NAMED(AT_SYMLINK_FOLLOW),   SBX_NAMED(AT_NO_AUTOMOUNT),
    SBX_NAMED(AT_EMPTY_PATH),       SBX_NAMED(AT_STATX_FORCE_SYNC),
    SBX_NAMED(AT_STATX_DONT_SYNC),  SBX_NAMED(AT_RECURSIVE),
};

constexpr Named kAccessFlags[] = {
    SBX_NAMED(R_OK),
    SBX_NAMED(W_OK),
    SBX_NAMED(X_OK),
};

constexpr Named kFdFlags[] = {SBX_NAMED(FD_CLOEXEC)};

constexpr Named kFcntlCommands[] = {
    SBX_NAMED(F_DUPFD),
    SBX_NAMED(F_GETFD),
    SBX_NAMED(F_SETFD),
    SBX_NAMED(F_GETFL),
    SBX_NAMED(F_SETFL),
    SBX_NAMED(F_GETLK),
    SBX_NAMED(F_SETLK),
    SBX_NAMED(F_SETLKW),
    SBX_NAMED(F_SETOWN),
    SBX_NAMED(F_GETOWN),
    SBX_NAMED(F_SETSIG),
    SBX_NAMED(F_GETSIG),
    SBX_NAMED(F_SETOWN_EX),
    SBX_NAMED(F_GETOWN_EX),
    SBX_NAMED(F_OFD_GETLK),
    SBX_NAMED(F_OFD_SETLK),
    SBX_NAMED(F_OFD_SETLKW),
    SBX_NAMED(F_SETLEASE),
    SBX_NAMED(F_GETLEASE),
    SBX_NAMED(F_NOTIFY),
    SBX_NAMED(F_DUPFD_CLOEXEC),
    SBX_NAMED(F_SETPIPE_SZ),
    SBX_NAMED(F_GETPIPE_SZ),
    SBX_NAMED(F_ADD_SEALS),
    SBX_NAMED(F_GET_SEALS),
    SBX_NAMED(F_GET_RW_HINT),
    SBX_NAMED(F_SET_RW_HINT),
    SBX_NAMED(F_GET_FILE_RW_HINT),
    SBX_NAMED(F_SET_FILE_RW_HINT),
};

constexpr Named kLockTypes[] = {
    SBX_NAMED(F_RDLCK),
    SBX_NAMED(F_WRLCK),
    SBX_NAMED(F_UNLCK),
};

constexpr Named kSeals[] = {
    SBX_NAMED(F_SEAL_SEAL),         SBX_NAMED(F_SEAL_SHRINK),
    SBX_NAMED(F_SEAL_GROW),         SBX_NAMED(F_SEAL_WRITE),
    SBX_NAMED(F_SEAL_FUTURE_WRITE),
};

constexpr Named kWhences[] = {
    SBX_NAMED(SEEK_SET),  SBX_NAMED(SEEK_CUR),  SBX_NAMED(SEEK_END),
    SBX_NAMED(SEEK_DATA), SBX_NAMED(SEEK_HOLE),
};

constexpr Named kFlockOps[] = {
    SBX_NAMED(LOCK_SH),
    SBX_NAMED(LOCK_EX),
    SBX_NAMED(LOCK_NB),
    SBX_NAMED(LOCK_UN),
};

constexpr Named kRenameFlags[] = {
    SBX_NAMED(RENAME_NOREPLACE),
    SBX_NAMED(RENAME_EXCHANGE),
    SBX_NAMED(RENAME_WHITEOUT),
};

constexpr Named kXattrFlags[] = {
    SBX_NAMED(XATTR_CREATE),
    SBX_NAMED(XATTR_REPLACE),
};

constexpr Named kFileTypes[] = {
    SBX_NAMED(S_IFREG),  SBX_NAMED(S_IFDIR), SBX_NAMED(S_IFCHR),
    SBX_NAMED(S_IFBLK),  SBX_NAMED(S_IFIFO), SBX_NAMED(S_IFLNK),
    SBX_NAMED(S_IFSOCK),
};

constexpr Named kSocketDomains[] = {
    SBX_NAMED(AF_UNSPEC),     SBX_NAMED(AF_UNIX),      SBX_NAMED(AF_INET),
    SBX_NAMED(AF_AX25),       SBX_NAMED(AF_IPX),       SBX_NAMED(AF_APPLETALK),
    SBX_NAMED(AF_NETROM),     SBX_NAMED(AF_BRIDGE),    SBX_NAMED(AF_ATMPVC),
    SBX_NAMED(AF_X25),        SBX_NAMED(AF_INET6),     SBX_NAMED(AF_ROSE),
    SBX_NAMED(AF_DECnet),     SBX_NAMED(AF_NETBEUI),   SBX_NAMED(AF_SECURITY),
    SBX_NAMED(AF_KEY),        SBX_NAMED(AF_NETLINK),   SBX_NAMED(AF_PACKET),
    SBX_NAMED(AF_ASH),        SBX_NAMED(AF_ECONET),    SBX_NAMED(AF_ATMSVC),
    SBX_NAMED(AF_RDS),        SBX_NAMED(AF_SNA),       SBX_NAMED(AF_IRDA),
    SBX_NAMED(AF_PPPOX),      SBX_NAMED(AF_WANPIPE),   SBX_NAMED(AF_LLC),
    SBX_NAMED(AF_IB),         SBX_NAMED(AF_MPLS),      SBX_NAMED(AF_CAN),
    SBX_NAMED(AF_TIPC),       SBX_NAMED(AF_BLUETOOTH), SBX_NAMED(AF_IUCV),
    SBX_NAMED(AF_RXRPC),      SBX_NAMED(AF_ISDN),      SBX_NAMED(AF_PHONET),
    SBX_NAMED(AF_IEEE802154), SBX_NAMED(AF_CAIF),      SBX_NAMED(AF_ALG),
    SBX_NAMED(AF_NFC),        SBX_NAMED(AF_VSOCK),     SBX_NAMED(AF_KCM),
    SBX_NAMED(AF_QIPCRTR),    SBX_NAMED(AF_SMC),       SBX_NAMED(AF_XDP),
    SBX_NAMED(AF_MCTP),
};

constexpr uint64_t kSocketTypeMask = 0xf;
constexpr Named kSocketTypes[] = {
    SBX_NAMED(SOCK_STREAM), SBX_NAMED(SOCK_DGRAM),     SBX_NAMED(SOCK_RAW),
    SBX_NAMED(SOCK_RDM),    SBX_NAMED(SOCK_SEQPACKET), SBX_NAMED(SOCK_DCCP),
    SBX_NAMED(SOCK_PACKET),
};
constexpr Named kSocketTypeFlags[] = {
    SBX_NAMED(SOCK_NONBLOCK),
    SBX_NAMED(SOCK_CLOEXEC),
};

// IPPROTO_IP (0) prints as 0, the usual "the domain's default".
constexpr Named kIpProtocols[] = {
    SBX_NAMED(IPPROTO_ICMP),     SBX_NAMED(IPPROTO_IGMP),
    SBX_NAMED(IPPROTO_IPIP),     SBX_NAMED(IPPROTO_TCP),
    SBX_NAMED(IPPROTO_EGP),      SBX_NAMED(IPPROTO_PUP),
    SBX_NAMED(IPPROTO_UDP),      SBX_NAMED(IPPROTO_IDP),
    SBX_NAMED(IPPROTO_TP),       SBX_NAMED(IPPROTO_DCCP),
    SBX_NAMED(IPPROTO_IPV6),     SBX_NAMED(IPPROTO_RSVP),
    SBX_NAMED(IPPROTO_GRE),      SBX_NAMED(IPPROTO_ESP),
    SBX_NAMED(IPPROTO_AH),       SBX_NAMED(IPPROTO_ICMPV6),
    SBX_NAMED(IPPROTO_MTP),      SBX_NAMED(IPPROTO_BEETPH),
    SBX_NAMED(IPPROTO_ENCAP),    SBX_NAMED(IPPROTO_PIM),
    SBX_NAMED(IPPROTO_COMP),     SBX_NAMED(IPPROTO_SCTP),
    SBX_NAMED(IPPROTO_UDPLITE),  SBX_NAMED(IPPROTO_MPLS),
    SBX_NAMED(IPPROTO_ETHERNET), SBX_NAMED(IPPROTO_RAW),
    SBX_NAMED(IPPROTO_MPTCP),
};

constexpr Named kNetlinkProtocols[] = {
    SBX_NAMED(NETLINK_ROUTE),      SBX_NAMED(NETLINK_UNUSED),
    SBX_NAMED(NETLINK_USERSOCK),   SBX_NAMED(NETLINK_FIREWALL),
    SBX_NAMED(NETLINK_SOCK_DIAG),  SBX_NAMED(NETLINK_NFLOG),
    SBX_NAMED(NETLINK_XFRM),       SBX_NAMED(NETLINK_SELINUX),
    SBX_NAMED(NETLINK_ISCSI),      SBX_NAMED(NETLINK_AUDIT),
    SBX_NAMED(NETLINK_FIB_LOOKUP), SBX_NAMED(NETLINK_CONNECTOR),
    SBX_NAMED(NETLINK_NETFILTER),  SBX_NAMED(NETLINK_IP6_FW),
    SBX_NAMED(NETLINK_DNRTMSG),    SBX_NAMED(NETLINK_KOBJECT_UEVENT),
    SBX_NAMED(NETLINK_GENERIC),    SBX_NAMED(NETLINK_SCSITRANSPORT),
    SBX_NAMED(NETLINK_ECRYPTFS),   SBX_NAMED(NETLINK_RDMA),
    SBX_NAMED(NETLINK_CRYPTO),     SBX_NAMED(NETLINK_SMC),
};

constexpr Named kSocketLevels[] = {
    SBX_NAMED(SOL_IP),     SBX_NAMED(SOL_SOCKET),  SBX_NAMED(SOL_TCP),
    SBX_NAMED(SOL_IPV6),   SBX_NAMED(SOL_ICMPV6),  SBX_NAMED(SOL_RAW),
    SBX_NAMED(SOL_PACKET), SBX_NAMED(SOL_NETLINK), SBX_NAMED(SOL_ALG),
    SBX_NAMED(SOL_TLS),    SBX_NAMED(SOL_XDP),
};

constexpr Named kSocketOptions[] = {
    SBX_NAMED(SO_DEBUG),         SBX_NAMED(SO_REUSEADDR),
    SBX_NAMED(SO_TYPE),          SBX_NAMED(SO_ERROR),
    SBX_NAMED(SO_DONTROUTE),     SBX_NAMED(SO_BROADCAST),
    SBX_NAMED(SO_SNDBUF),        SBX_NAMED(SO_RCVBUF),
    SBX_NAMED(SO_KEEPALIVE),     SBX_NAMED(SO_OOBINLINE),
    SBX_NAMED(SO_NO_CHECK),      SBX_NAMED(SO_PRIORITY),
    SBX_NAMED(SO_LINGER),        SBX_NAMED(SO_BSDCOMPAT),
    SBX_NAMED(SO_REUSEPORT),     SBX_NAMED(SO_PASSCRED),
    SBX_NAMED(SO_PEERCRED),      SBX_NAMED(SO_RCVLOWAT),
    SBX_NAMED(SO_SNDLOWAT),      SBX_NAMED(SO_RCVTIMEO),
    SBX_NAMED(SO_SNDTIMEO),      SBX_NAMED(SO_BINDTODEVICE),
    SBX_NAMED(SO_ATTACH_FILTER), SBX_NAMED(SO_DETACH_FILTER),
    SBX_NAMED(SO_PEERNAME),      SBX_NAMED(SO_TIMESTAMP),
    SBX_NAMED(SO_ACCEPTCONN),    SBX_NAMED(SO_PEERSEC),
    SBX_NAMED(SO_SNDBUFFORCE),   SBX_NAMED(SO_RCVBUFFORCE),
    SBX_NAMED(SO_PASSSEC),       SBX_NAMED(SO_MARK),
    SBX_NAMED(SO_PROTOCOL),      SBX_NAMED(SO_DOMAIN),
    SBX_NAMED(SO_RXQ_OVFL),      SBX_NAMED(SO_LOCK_FILTER),
    SBX_NAMED(SO_BUSY_POLL),     SBX_NAMED(SO_INCOMING_CPU),
    SBX_NAMED(SO_ATTACH_BPF),    SBX_NAMED(SO_PEERGROUPS),
    SBX_NAMED(SO_ZEROCOPY),      SBX_NAMED(SO_BINDTOIFINDEX),
};

constexpr Named kTcpOptions[] = {
    SBX_NAMED(TCP_NODELAY),      SBX_NAMED(TCP_MAXSEG),
    SBX_NAMED(TCP_CORK),         SBX_NAMED(TCP_KEEPIDLE),
    SBX_NAMED(TCP_KEEPINTVL),    SBX_NAMED(TCP_KEEPCNT),
    SBX_NAMED(TCP_SYNCNT),       SBX_NAMED(TCP_LINGER2),
    SBX_NAMED(TCP_DEFER_ACCEPT), SBX_NAMED(TCP_WINDOW_CLAMP),
    SBX_NAMED(TCP_INFO),         SBX_NAMED(TCP_QUICKACK),
    SBX_NAMED(TCP_CONGESTION),   SBX_NAMED(TCP_FASTOPEN),
    SBX_NAMED(TCP_USER_TIMEOUT), SBX_NAMED(TCP_ULP),
};

constexpr Named kMsgFlags[] = {
    SBX_NAMED(MSG_OOB),          SBX_NAMED(MSG_PEEK),
    SBX_NAMED(MSG_DONTROUTE),    SBX_NAMED(MSG_CTRUNC),
    SBX_NAMED(MSG_PROXY),        SBX_NAMED(MSG_TRUNC),
    SBX_NAMED(MSG_DONTWAIT),     SBX_NAMED(MSG_EOR),
    SBX_NAMED(MSG_WAITALL),      SBX_NAMED(MSG_FIN),
    SBX_NAMED(MSG_SYN),          SBX_NAMED(MSG_CONFIRM),
    SBX_NAMED(MSG_RST),          SBX_NAMED(MSG_ERRQUEUE),
    SBX_NAMED(MSG_NOSIGNAL),     SBX_NAMED(MSG_MORE),
    SBX_NAMED(MSG_WAITFORONE),   SBX_NAMED(MSG_BATCH),
    SBX_NAMED(MSG_ZEROCOPY),     SBX_NAMED(MSG_FASTOPEN),
    SBX_NAMED(MSG_CMSG_CLOEXEC),
};

constexpr Named kShutdownHows[] = {
    SBX_NAMED(SHUT_RD),
    SBX_NAMED(SHUT_WR),
    SBX_NAMED(SHUT_RDWR),
};

constexpr Named kProtFlags[] = {
    SBX_NAMED(PROT_READ),      SBX_NAMED(PROT_WRITE),   SBX_NAMED(PROT_EXEC),
    SBX_NAMED(PROT_GROWSDOWN), SBX_NAMED(PROT_GROWSUP),
};

constexpr Named kMapTypes[] = {
    SBX_NAMED(MAP_SHARED),
    SBX_NAMED(MAP_PRIVATE),
    SBX_NAMED(MAP_SHARED_VALIDATE),
};
constexpr Named kMapFlags[] = {
    SBX_NAMED(MAP_FIXED),     SBX_NAMED(MAP_ANONYMOUS),
    SBX_NAMED(MAP_32BIT),     SBX_NAMED(MAP_GROWSDOWN),
    SBX_NAMED(MAP_DENYWRITE), SBX_NAMED(MAP_EXECUTABLE),
    SBX_NAMED(MAP_LOCKED),    SBX_NAMED(MAP_NORESERVE),
    SBX_NAMED(MAP_POPULATE),  SBX_NAMED(MAP_NONBLOCK),
    SBX_NAMED(MAP_STACK),     SBX_NAMED(MAP_HUGETLB),
    SBX_NAMED(MAP_SYNC),      SBX_NAMED(MAP_FIXED_NOREPLACE),
};

constexpr Named kMremapFlags[] = {
    SBX_NAMED(MREMAP_MAYMOVE),
    SBX_NAMED(MREMAP_FIXED),
    SBX_NAMED(MREMAP_DONTUNMAP),
};

constexpr Named kMsyncFlags[] = {
    SBX_NAMED(MS_ASYNC),
    SBX_NAMED(MS_INVALIDATE),
    SBX_NAMED(MS_SYNC),
};

constexpr Named kMadvices[] = {
    SBX_NAMED(MADV_NORMAL),         SBX_NAMED(MADV_RANDOM),
    SBX_NAMED(MADV_SEQUENTIAL),     SBX_NAMED(MADV_WILLNEED),
    SBX_NAMED(MADV_DONTNEED),       SBX_NAMED(MADV_FREE),
    SBX_NAMED(MADV_REMOVE),         SBX_NAMED(MADV_DONTFORK),
    SBX_NAMED(MADV_DOFORK),         SBX_NAMED(MADV_MERGEABLE),
    SBX_NAMED(MADV_UNMERGEABLE),    SBX_NAMED(MADV_HUGEPAGE),
    SBX_NAMED(MADV_NOHUGEPAGE),     SBX_NAMED(MADV_DONTDUMP),
    SBX_NAMED(MADV_DODUMP),         SBX_NAMED(MADV_WIPEONFORK),
    SBX_NAMED(MADV_KEEPONFORK),     SBX_NAMED(MADV_COLD),
    SBX_NAMED(MADV_PAGEOUT),        SBX_NAMED(MADV_POPULATE_READ),
    SBX_NAMED(MADV_POPULATE_WRITE), SBX_NAMED(MADV_DONTNEED_LOCKED),
    SBX_NAMED(MADV_HWPOISON),
};

constexpr Named kMlockallFlags[] = {
    SBX_NAMED(MCL_CURRENT),
    SBX_NAMED(MCL_FUTURE),
    SBX_NAMED(MCL_ONFAULT),
};

constexpr Named kMemfdFlags[] = {
    SBX_NAMED(MFD_CLOEXEC),
    SBX_NAMED(MFD_ALLOW_SEALING),
    SBX_NAMED(MFD_HUGETLB),
};

// The low byte of clone's flags is the exit signal (CSIGNAL); CLONE_NEWTIME
// sits there too, for unshare and setns only.
constexpr uint64_t kCloneSignalMask = CSIGNAL;
constexpr Named kCloneFlags[] = {
    SBX_NAMED(CLONE_VM),
    SBX_NAMED(CLONE_FS),
    SBX_NAMED(CLONE_FILES),
    SBX_NAMED(CLONE_SIGHAND),
    SBX_NAMED(CLONE_PIDFD),
    SBX_NAMED(CLONE_PTRACE),
    SBX_NAMED(CLONE_VFORK),
    SBX_NAMED(CLONE_PARENT),
    SBX_NAMED(CLONE_THREAD),
    SBX_NAMED(CLONE_NEWNS),
    SBX_NAMED(CLONE_SYSVSEM),
    SBX_NAMED(CLONE_SETTLS),
    SBX_NAMED(CLONE_PARENT_SETTID),
    SBX_NAMED(CLONE_CHILD_CLEARTID),
    SBX_NAMED(CLONE_DETACHED),
    SBX_NAMED(CLONE_UNTRACED),
    SBX_NAMED(CLONE_CHILD_SETTID),
    SBX_NAMED(CLONE_NEWCGROUP),
    SBX_NAMED(CLONE_NEWUTS),
    SBX_NAMED(CLONE_NEWIPC),
    SBX_NAMED(CLONE_NEWUSER),
    SBX_NAMED(CLONE_NEWPID),
    SBX_NAMED(CLONE_NEWNET),
    SBX_NAMED(CLONE_IO),
    {kCloneClearSighand, "CLONE_CLEAR_SIGHAND"},
    {kCloneIntoCgroup, "CLONE_INTO_CGROUP"},
};
constexpr Named kNamespaceFlags[] = {
    SBX_NAMED(CLONE_NEWTIME),   SBX_NAMED(CLONE_FS),
    SBX_NAMED(CLONE_FILES),     SBX_NAMED(CLONE_NEWNS),
    SBX_NAMED(CLONE_SYSVSEM),   SBX_NAMED(CLONE_THREAD),
    SBX_NAMED(CLONE_SIGHAND),   SBX_NAMED(CLONE_VM),
    SBX_NAMED(CLONE_NEWCGROUP), SBX_NAMED(CLONE_NEWUTS),
    SBX_NAMED(CLONE_NEWIPC),    SBX_NAMED(CLONE_NEWUSER),
    SBX_NAMED(CLONE_NEWPID),    SBX_NAMED(CLONE_NEWNET),
};

constexpr Named kSigprocmaskHows[] = {
    SBX_NAMED(SIG_BLOCK),
    SBX_NAMED(SIG_UNBLOCK),
    SBX_NAMED(SIG_SETMASK),
};

constexpr Named kWaitOptions[] = {
    SBX_NAMED(WNOHANG),    SBX_NAMED(WUNTRACED), SBX_NAMED(WEXITED),
    SBX_NAMED(WCONTINUED), SBX_NAMED(WNOWAIT),   SBX_NAMED(__WNOTHREAD),
    SBX_NAMED(__WALL),     SBX_NAMED(__WCLONE),
};

constexpr Named kIdTypes[] = {
    SBX_NAMED(P_ALL),
    SBX_NAMED(P_PID),
    SBX_NAMED(P_PGID),
    SBX_NAMED(P_PIDFD),
};

constexpr Named kIoctlRequests[] = {
    // Terminals (<asm/ioctls.h>).
    SBX_NAMED(TCGETS),
    SBX_NAMED(TCSETS),
    SBX_NAMED(TCSETSW),
    SBX_NAMED(TCSETSF),
    SBX_NAMED(TCGETA),
    SBX_NAMED(TCSETA),
    SBX_NAMED(TCSETAW),
    SBX_NAMED(TCSETAF),
    SBX_NAMED(TCSBRK),
    SBX_NAMED(TCXONC),
    SBX_NAMED(TCFLSH),
    SBX_NAMED(TIOCEXCL),
    SBX_NAMED(TIOCNXCL),
    SBX_NAMED(TIOCSCTTY),
    SBX_NAMED(TIOCGPGRP),
    SBX_NAMED(TIOCSPGRP),
    SBX_NAMED(TIOCOUTQ),
    SBX_NAMED(TIOCSTI),
    SBX_NAMED(TIOCGWINSZ),
    SBX_NAMED(TIOCSWINSZ),
    SBX_NAMED(TIOCMGET),
    SBX_NAMED(TIOCMBIS),
    SBX_NAMED(TIOCMBIC),
    SBX_NAMED(TIOCMSET),
    SBX_NAMED(TIOCGSOFTCAR),
    SBX_NAMED(TIOCSSOFTCAR),
    SBX_NAMED(FIONREAD),
    SBX_NAMED(TIOCLINUX),
    SBX_NAMED(TIOCCONS),
    SBX_NAMED(TIOCGSERIAL),
    SBX_NAMED(TIOCSSERIAL),
    SBX_NAMED(TIOCPKT),
    SBX_NAMED(FIONBIO),
    SBX_NAMED(TIOCNOTTY),
    SBX_NAMED(TIOCSETD),
    SBX_NAMED(TIOCGETD),
    SBX_NAMED(TCSBRKP),
    SBX_NAMED(TIOCSBRK),
    SBX_NAMED(TIOCCBRK),
    SBX_NAMED(TIOCGSID),
    SBX_NAMED(TIOCGPTN),
    SBX_NAMED(TIOCSPTLCK),
    SBX_NAMED(TIOCGDEV),
    SBX_NAMED(TIOCSIG),
    SBX_NAMED(TIOCVHANGUP),
    SBX_NAMED(TIOCGPKT),
    SBX_NAMED(TIOCGPTLCK),
    SBX_NAMED(TIOCGEXCL),
    SBX_NAMED(TIOCGPTPEER),
    SBX_NAMED(FIONCLEX),
    SBX_NAMED(FIOCLEX),
    SBX_NAMED(FIOASYNC),
    SBX_NAMED(TIOCGLCKTRMIOS),
    SBX_NAMED(TIOCSLCKTRMIOS),
    SBX_NAMED(TIOCMIWAIT),
    SBX_NAMED(TIOCGICOUNT),
    SBX_NAMED(FIOQSIZE),
    // Sockets and interfaces (<bits/ioctls.h>).
    SBX_NAMED(FIOSETOWN),
    SBX_NAMED(SIOCSPGRP),
    SBX_NAMED(FIOGETOWN),
    SBX_NAMED(SIOCGPGRP),
    SBX_NAMED(SIOCATMARK),
    SBX_NAMED(SIOCADDRT),
    SBX_NAMED(SIOCDELRT),
    SBX_NAMED(SIOCGIFNAME),
    SBX_NAMED(SIOCGIFCONF),
    SBX_NAMED(SIOCGIFFLAGS),
    SBX_NAMED(SIOCSIFFLAGS),
    SBX_NAMED(SIOCGIFADDR),
    SBX_NAMED(SIOCSIFADDR),
    SBX_NAMED(SIOCGIFBRDADDR),
    SBX_NAMED(SIOCGIFNETMASK),
    SBX_NAMED(SIOCGIFMTU),
    SBX_NAMED(SIOCSIFMTU),
    SBX_NAMED(SIOCGIFHWADDR),
    SBX_NAMED(SIOCGIFINDEX),
    // Files and block devices (<linux/fs.h>).
    SBX_NAMED(FIBMAP),
    SBX_NAMED(FIGETBSZ),
    SBX_NAMED(FIFREEZE),
    SBX_NAMED(FITHAW),
    SBX_NAMED(FITRIM),
    SBX_NAMED(FICLONE),
    SBX_NAMED(FICLONERANGE),
    SBX_NAMED(FIDEDUPERANGE),
    SBX_NAMED(FS_IOC_GETFLAGS),
    SBX_NAMED(FS_IOC_SETFLAGS),
    SBX_NAMED(FS_IOC_GETVERSION),
    SBX_NAMED(FS_IOC_SETVERSION),
    SBX_NAMED(FS_IOC_FIEMAP),
    SBX_NAMED(FS_IOC_FSGETXATTR),
    SBX_NAMED(FS_IOC_FSSETXATTR),
    SBX_NAMED(BLKROSET),
    SBX_NAMED(BLKROGET),
    SBX_NAMED(BLKRRPART),
    SBX_NAMED(BLKGETSIZE),
    SBX_NAMED(BLKFLSBUF),
    SBX_NAMED(BLKSSZGET),
    SBX_NAMED(BLKGETSIZE64),
    SBX_NAMED(BLKDISCARD),
    // Namespaces, tun devices, seccomp listeners.
    SBX_NAMED(NS_GET_USERNS),
    SBX_NAMED(NS_GET_PARENT),
    SBX_NAMED(NS_GET_NSTYPE),
    SBX_NAMED(NS_GET_OWNER_UID),
    SBX_NAMED(TUNSETIFF),
    SBX_NAMED(TUNGETIFF),
    SBX_NAMED(SECCOMP_IOCTL_NOTIF_RECV),
    SBX_NAMED(SECCOMP_IOCTL_NOTIF_SEND),
    SBX_NAMED(SECCOMP_IOCTL_NOTIF_ID_VALID),
    SBX_NAMED(SECCOMP_IOCTL_NOTIF_ADDFD),
};

constexpr Named kPrctlOptions[] = {
    SBX_NAMED(PR_SET_PDEATHSIG),
    SBX_NAMED(PR_GET_PDEATHSIG),
    SBX_NAMED(PR_GET_DUMPABLE),
    SBX_NAMED(PR_SET_DUMPABLE),
    SBX_NAMED(PR_GET_UNALIGN),
    SBX_NAMED(PR_SET_UNALIGN),
    SBX_NAMED(PR_GET_KEEPCAPS),
    SBX_NAMED(PR_SET_KEEPCAPS),
    SBX_NAMED(PR_GET_FPEMU),
    SBX_NAMED(PR_SET_FPEMU),
    SBX_NAMED(PR_GET_FPEXC),
    SBX_NAMED(PR_SET_FPEXC),
    SBX_NAMED(PR_GET_TIMING),
    SBX_NAMED(PR_SET_TIMING),
    SBX_NAMED(PR_SET_NAME),
    SBX_NAMED(PR_GET_NAME),
    SBX_NAMED(PR_GET_ENDIAN),
    SBX_NAMED(PR_SET_ENDIAN),
    SBX_NAMED(PR_GET_SECCOMP),
    SBX_NAMED(PR_SET_SECCOMP),
    SBX_NAMED(PR_CAPBSET_READ),
    SBX_NAMED(PR_CAPBSET_DROP),
    SBX_NAMED(PR_GET_TSC),
    SBX_NAMED(PR_SET_TSC),
    SBX_NAMED(PR_GET_SECUREBITS),
    SBX_NAMED(PR_SET_SECUREBITS),
    SBX_NAMED(PR_SET_TIMERSLACK),
    SBX_NAMED(PR_GET_TIMERSLACK),
    SBX_NAMED(PR_TASK_PERF_EVENTS_DISABLE),
    SBX_NAMED(PR_TASK_PERF_EVENTS_ENABLE),
    SBX_NAMED(PR_MCE_KILL),
    SBX_NAMED(PR_MCE_KILL_GET),
    SBX_NAMED(PR_SET_MM),
    SBX_NAMED(PR_SET_PTRACER),
    SBX_NAMED(PR_SET_CHILD_SUBREAPER),
    SBX_NAMED(PR_GET_CHILD_SUBREAPER),
    SBX_NAMED(PR_SET_NO_NEW_PRIVS),
    SBX_NAMED(PR_GET_NO_NEW_PRIVS),
    SBX_NAMED(PR_GET_TID_ADDRESS),
    SBX_NAMED(PR_SET_THP_DISABLE),
    SBX_NAMED(PR_GET_THP_DISABLE),
    SBX_NAMED(PR_MPX_ENABLE_MANAGEMENT),
    SBX_NAMED(PR_MPX_DISABLE_MANAGEMENT),
    SBX_NAMED(PR_SET_FP_MODE),
    SBX_NAMED(PR_GET_FP_MODE),
    SBX_NAMED(PR_CAP_AMBIENT),
    SBX_NAMED(PR_SVE_SET_VL),
    SBX_NAMED(PR_SVE_GET_VL),
    SBX_NAMED(PR_GET_SPECULATION_CTRL),
    SBX_NAMED(PR_SET_SPECULATION_CTRL),
    SBX_NAMED(PR_PAC_RESET_KEYS),
    SBX_NAMED(PR_SET_TAGGED_ADDR_CTRL),
    SBX_NAMED(PR_GET_TAGGED_ADDR_CTRL),
    SBX_NAMED(PR_SET_IO_FLUSHER),
    SBX_NAMED(PR_GET_IO_FLUSHER),
    SBX_NAMED(PR_SET_SYSCALL_USER_DISPATCH),
    SBX_NAMED(PR_PAC_SET_ENABLED_KEYS),
    SBX_NAMED(PR_PAC_GET_ENABLED_KEYS),
    SBX_NAMED(PR_SCHED_CORE),
    SBX_NAMED(PR_SME_SET_VL),
    SBX_NAMED(PR_SME_GET_VL),
    SBX_NAMED(PR_SET_VMA),
};

constexpr Named kSeccompModes[] = {
    SBX_NAMED(SECCOMP_MODE_DISABLED),
    SBX_NAMED(SECCOMP_MODE_STRICT),
    SBX_NAMED(SECCOMP_MODE_FILTER),
};

constexpr Named kAmbientOps[] = {
    SBX_NAMED(PR_CAP_AMBIENT_IS_SET),
    SBX_NAMED(PR_CAP_AMBIENT_RAISE),
    SBX_NAMED(PR_CAP_AMBIENT_LOWER),
    SBX_NAMED(PR_CAP_AMBIENT_CLEAR_ALL),
};

constexpr Named kArchPrctlCodes[] = {
    SBX_NAMED(ARCH_SET_GS),         SBX_NAMED(ARCH_SET_FS),
    SBX_NAMED(ARCH_GET_FS),         SBX_NAMED(ARCH_GET_GS),
    SBX_NAMED(ARCH_GET_CPUID),      SBX_NAMED(ARCH_SET_CPUID),
    SBX_NAMED(ARCH_GET_XCOMP_SUPP), SBX_NAMED(ARCH_GET_XCOMP_PERM),
    SBX_NAMED(ARCH_REQ_XCOMP_PERM), SBX_NAMED(ARCH_MAP_VDSO_X32),
    SBX_NAMED(ARCH_MAP_VDSO_32),    SBX_NAMED(ARCH_MAP_VDSO_64),
};

constexpr Named kPtraceRequests[] = {
    SBX_NAMED(PTRACE_TRACEME),
    SBX_NAMED(PTRACE_PEEKTEXT),
    SBX_NAMED(PTRACE_PEEKDATA),
    SBX_NAMED(PTRACE_PEEKUSER),
    SBX_NAMED(PTRACE_POKETEXT),
    SBX_NAMED(PTRACE_POKEDATA),
    SBX_NAMED(PTRACE_POKEUSER),
    SBX_NAMED(PTRACE_CONT),
    SBX_NAMED(PTRACE_KILL),
    SBX_NAMED(PTRACE_SINGLESTEP),
    SBX_NAMED(PTRACE_GETREGS),
    SBX_NAMED(PTRACE_SETREGS),
    SBX_NAMED(PTRACE_GETFPREGS),
    SBX_NAMED(PTRACE_SETFPREGS),
    SBX_NAMED(PTRACE_ATTACH),
    SBX_NAMED(PTRACE_DETACH),
    SBX_NAMED(PTRACE_GETFPXREGS),
    SBX_NAMED(PTRACE_SETFPXREGS),
    SBX_NAMED(PTRACE_SYSCALL),
    SBX_NAMED(PTRACE_ARCH_PRCTL),
    SBX_NAMED(PTRACE_SYSEMU),
    SBX_NAMED(PTRACE_SYSEMU_SINGLESTEP),
    SBX_NAMED(PTRACE_SINGLEBLOCK),
    SBX_NAMED(PTRACE_SETOPTIONS),
    SBX_NAMED(PTRACE_GETEVENTMSG),
    SBX_NAMED(PTRACE_GETSIGINFO),
    SBX_NAMED(PTRACE_SETSIGINFO),
    SBX_NAMED(PTRACE_GETREGSET),
    SBX_NAMED(PTRACE_SETREGSET),
    SBX_NAMED(PTRACE_SEIZE),
    SBX_NAMED(PTRACE_INTERRUPT),
    SBX_NAMED(PTRACE_LISTEN),
    SBX_NAMED(PTRACE_PEEKSIGINFO),
    SBX_NAMED(PTRACE_GETSIGMASK),
    SBX_NAMED(PTRACE_SETSIGMASK),
    SBX_NAMED(PTRACE_SECCOMP_GET_FILTER),
    SBX_NAMED(PTRACE_SECCOMP_GET_METADATA),
    SBX_NAMED(PTRACE_GET_SYSCALL_INFO),
};

constexpr Named kSeccompOps[] = {
    SBX_NAMED(SECCOMP_SET_MODE_STRICT),
    SBX_NAMED(SECCOMP_SET_MODE_FILTER),
    SBX_NAMED(SECCOMP_GET_ACTION_AVAIL),
    SBX_NAMED(SECCOMP_GET_NOTIF_SIZES),
};

constexpr Named kSeccompFlags[] = {
    SBX_NAMED(SECCOMP_FILTER_FLAG_TSYNC),
    SBX_NAMED(SECCOMP_FILTER_FLAG_LOG),
    SBX_NAMED(SECCOMP_FILTER_FLAG_SPEC_ALLOW),
    SBX_NAMED(SECCOMP_FILTER_FLAG_NEW_LISTENER),
    SBX_NAMED(SECCOMP_FILTER_FLAG_TSYNC_ESRCH),
    SBX_NAMED(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV),
};

constexpr Named kBpfCommands[] = {
    SBX_NAMED(BPF_MAP_CREATE),
    SBX_NAMED(BPF_MAP_LOOKUP_ELEM),
    SBX_NAMED(BPF_MAP_UPDATE_ELEM),
    SBX_NAMED(BPF_MAP_DELETE_ELEM),
    SBX_NAMED(BPF_MAP_GET_NEXT_KEY),
    SBX_NAMED(BPF_PROG_LOAD),
    SBX_NAMED(BPF_OBJ_PIN),
    SBX_NAMED(BPF_OBJ_GET),
    SBX_NAMED(BPF_PROG_ATTACH),
    SBX_NAMED(BPF_PROG_DETACH),
    SBX_NAMED(BPF_PROG_TEST_RUN),
    SBX_NAMED(BPF_PROG_GET_NEXT_ID),
    SBX_NAMED(BPF_MAP_GET_NEXT_ID),
    SBX_NAMED(BPF_PROG_GET_FD_BY_ID),
    SBX_NAMED(BPF_MAP_GET_FD_BY_ID),
    SBX_NAMED(BPF_OBJ_GET_INFO_BY_FD),
    SBX_NAMED(BPF_PROG_QUERY),
    SBX_NAMED(BPF_RAW_TRACEPOINT_OPEN),
    SBX_NAMED(BPF_BTF_LOAD),
    SBX_NAMED(BPF_BTF_GET_FD_BY_ID),
    SBX_NAMED(BPF_TASK_FD_QUERY),
    SBX_NAMED(BPF_MAP_LOOKUP_AND_DELETE_ELEM),
    SBX_NAMED(BPF_MAP_FREEZE),
    SBX_NAMED(BPF_BTF_GET_NEXT_ID),
    SBX_NAMED(BPF_MAP_LOOKUP_BATCH),
    SBX_NAMED(BPF_MAP_LOOKUP_AND_DELETE_BATCH),
    SBX_NAMED(BPF_MAP_UPDATE_BATCH),
    SBX_NAMED(BPF_MAP_DELETE_BATCH),
    SBX_NAMED(BPF_LINK_CREATE),
    SBX_NAMED(BPF_LINK_UPDATE),
    SBX_NAMED(BPF_LINK_GET_FD_BY_ID),
    SBX_NAMED(BPF_LINK_GET_NEXT_ID),
    SBX_NAMED(BPF_ENABLE_STATS),
    SBX_NAMED(BPF_ITER_CREATE),
    SBX_NAMED(BPF_LINK_DETACH),
    SBX_NAMED(BPF_PROG_BIND_MAP),
};

constexpr uint64_t kFutexCommandMask = FUTEX_CMD_MASK;
constexpr Named kFutexCommands[] = {
    SBX_NAMED(FUTEX_WAIT),
    SBX_NAMED(FUTEX_WAKE),
    SBX_NAMED(FUTEX_FD),
    SBX_NAMED(FUTEX_REQUEUE),
    SBX_NAMED(FUTEX_CMP_REQUEUE),
    SBX_NAMED(FUTEX_WAKE_OP),
    SBX_NAMED(FUTEX_LOCK_PI),
    SBX_NAMED(FUTEX_UNLOCK_PI),
    SBX_NAMED(FUTEX_TRYLOCK_PI),
    SBX_NAMED(FUTEX_WAIT_BITSET),
    SBX_NAMED(FUTEX_WAKE_BITSET),
    SBX_NAMED(FUTEX_WAIT_REQUEUE_PI),
    SBX_NAMED(FUTEX_CMP_REQUEUE_PI),
    SBX_NAMED(FUTEX_LOCK_PI2),
};
constexpr Named kFutexFlags[] = {
    SBX_NAMED(FUTEX_PRIVATE_FLAG),
    SBX_NAMED(FUTEX_CLOCK_REALTIME),
};

constexpr Named kMountFlags[] = {
    SBX_NAMED(MS_RDONLY),      SBX_NAMED(MS_NOSUID),
    SBX_NAMED(MS_NODEV),       SBX_NAMED(MS_NOEXEC),
    SBX_NAMED(MS_SYNCHRONOUS), SBX_NAMED(MS_REMOUNT),
    SBX_NAMED(MS_MANDLOCK),    SBX_NAMED(MS_DIRSYNC),
    SBX_NAMED(MS_NOSYMFOLLOW), SBX_NAMED(MS_NOATIME),
    SBX_NAMED(MS_NODIRATIME),  SBX_NAMED(MS_BIND),
    SBX_NAMED(MS_MOVE),        SBX_NAMED(MS_REC),
    SBX_NAMED(MS_SILENT),      SBX_NAMED(MS_POSIXACL),
    SBX_NAMED(MS_UNBINDABLE),  SBX_NAMED(MS_PRIVATE),
    SBX_NAMED(MS_SLAVE),       SBX_NAMED(MS_SHARED),
    SBX_NAMED(MS_RELATIME),    SBX_NAMED(MS_KERNMOUNT),
    SBX_NAMED(MS_I_VERSION),   SBX_NAMED(MS_STRICTATIME),
    SBX_NAMED(MS_LAZYTIME),
};
// Old callers put this magic in the top 16 bits of mount's flags.
constexpr uint64_t kMountMagicMask = 0xffff0000;

constexpr Named kUmountFlags[] = {
    SBX_NAMED(MNT_FORCE),
    SBX_NAMED(MNT_DETACH),
    SBX_NAMED(MNT_EXPIRE),
    SBX_NAMED(UMOUNT_NOFOLLOW),
};

constexpr Named kRlimitResources[] = {
    SBX_NAMED(RLIMIT_CPU),      SBX_NAMED(RLIMIT_FSIZE),
    SBX_NAMED(RLIMIT_DATA),     SBX_NAMED(RLIMIT_STACK),
    SBX_NAMED(RLIMIT_CORE),     SBX_NAMED(RLIMIT_RSS),
    SBX_NAMED(RLIMIT_NPROC),    SBX_NAMED(RLIMIT_NOFILE),
    SBX_NAMED(RLIMIT_MEMLOCK),  SBX_NAMED(RLIMIT_AS),
    SBX_NAMED(RLIMIT_LOCKS),    SBX_NAMED(RLIMIT_SIGPENDING),
    SBX_NAMED(RLIMIT_MSGQUEUE), SBX_NAMED(RLIMIT_NICE),
    SBX_NAMED(RLIMIT_RTPRIO),   SBX_NAMED(RLIMIT_RTTIME),
};

constexpr Named kClockIds[] = {
    SBX_NAMED(CLOCK_REALTIME),
    SBX_NAMED(CLOCK_MONOTONIC),
    SBX_NAMED(CLOCK_PROCESS_CPUTIME_ID),
    SBX_NAMED(CLOCK_THREAD_CPUTIME_ID),
    SBX_NAMED(CLOCK_MONOTONIC_RAW),
    SBX_NAMED(CLOCK_REALTIME_COARSE),
    SBX_NAMED(CLOCK_MONOTONIC_COARSE),
    SBX_NAMED(CLOCK_BOOTTIME),
    SBX_NAMED(CLOCK_REALTIME_ALARM),
    SBX_NAMED(CLOCK_BOOTTIME_ALARM),
    SBX_NAMED(CLOCK_TAI),
};

constexpr Named kEpollOps[] = {
    SBX_NAMED(EPOLL_CTL_ADD),
    SBX_NAMED(EPOLL_CTL_DEL),
    SBX_NAMED(EPOLL_CTL_MOD),
};

constexpr Named kEventfdFlags[] = {
    SBX_NAMED(EFD_SEMAPHORE),
    SBX_NAMED(EFD_CLOEXEC),
    SBX_NAMED(EFD_NONBLOCK),
};

constexpr Named kGetrandomFlags[] = {
    SBX_NAMED(GRND_NONBLOCK),
    SBX_NAMED(GRND_RANDOM),
    SBX_NAMED(GRND_INSECURE),
};

constexpr Named kCloseRangeFlags[] = {
    SBX_NAMED(CLOSE_RANGE_UNSHARE),
    SBX_NAMED(CLOSE_RANGE_CLOEXEC),
};

constexpr Named kPriorityWhiches[] = {
    SBX_NAMED(PRIO_PROCESS),
    SBX_NAMED(PRIO_PGRP),
    SBX_NAMED(PRIO_USER),
};

constexpr Named kSchedPolicies[] = {
    SBX_NAMED(SCHED_OTHER), SBX_NAMED(SCHED_FIFO), SBX_NAMED(SCHED_RR),
    SBX_NAMED(SCHED_BATCH), SBX_NAMED(SCHED_IDLE), SBX_NAMED(SCHED_DEADLINE),
};
constexpr Named kSchedPolicyFlags[] = {SBX_NAMED(SCHED_RESET_ON_FORK)};

constexpr Named kItimerWhiches[] = {
    SBX_NAMED(ITIMER_REAL),
    SBX_NAMED(ITIMER_VIRTUAL),
    SBX_NAMED(ITIMER_PROF),
};

#undef SBX_NAMED

// ---------------------------------------------------------------------------
// Formatting.

// The kernel reads an int argument as the low half of the register.
int32_t Int32(uint64_t value) {
  return static_cast<int32_t>(static_cast<uint32_t>(value));
}
uint32_t UInt32(uint64_t value) { return static_cast<uint32_t>(value); }

std::string Hex(uint64_t value) {
  if (value == 0) return "0";
  return absl::StrCat("0x", absl::Hex(value));
}

std::string Pointer(uint64_t value) {
  if (value == 0) return "NULL";
  return absl::StrCat("0x", absl::Hex(value));
}

// 0644; 0 as 0.
std::string Octal(uint32_t value) {
  return value == 0 ? "0" : absl::StrFormat("0%o", value);
}

const char* NameOf(uint64_t value, absl::Span<const Named> names) {
  for (const Named& named : names) {
    if (named.value == value) return named.name;
  }
  return nullptr;
}

// A constant's name, or the number (signed, as the int it is).
std::string Enum(int64_t value, absl::Span<const Named> names) {
  const char* name = NameOf(static_cast<uint64_t>(value), names);
  return name != nullptr ? name : absl::StrCat(value);
}

// Appends the names of the bits set in `value` to `out`, '|'-separated
// (after a '|' if `out` is not empty), and what no name covers as a hex
// remainder.
void AppendFlags(std::string& out, uint64_t value,
                 absl::Span<const Named> names) {
  uint64_t rest = value;
  for (const Named& named : names) {
    if (named.value != 0 && (rest & named.value) == named.value) {
      absl::StrAppend(&out, out.empty() ? "" : "|", named.name);
      rest &= ~named.value;
    }
  }
  if (rest != 0) {
    absl::StrAppend(&out, out.empty() ? "" : "|", "0x", absl::Hex(rest));
  }
}

// `value` as flags; `zero` for 0.
std::string Flags(uint64_t value, absl::Span<const Named> names,
                  const char* zero = "0") {
  if (value == 0) return zero;
  std::string out;
  AppendFlags(out, value, names);
  return out;
}

// Kernel signal numbers: 1..31 by name, the real-time ones 32..64 as
// SIGRT_<n> counted from the kernel's first (glibc's SIGRTMIN is SIGRT_2).
std::string SignalName(int64_t signal) {
  if (signal > 0 && signal < 32) {
    const char* abbreviation = sigabbrev_np(static_cast<int>(signal));
    if (abbreviation != nullptr) return absl::StrCat("SIG", abbreviation);
  }
  if (signal >= 32 && signal <= 64) return absl::StrCat("SIGRT_", signal - 32);
  return absl::StrCat(signal);
}

std::string OpenFlags(uint64_t value) {
  const uint32_t flags = UInt32(value);
  std::string out;
  const char* mode = NameOf(flags & O_ACCMODE, kAccessModes);
  out =
      mode != nullptr ? mode : absl::StrCat("0x", absl::Hex(flags & O_ACCMODE));
  AppendFlags(out, flags & ~static_cast<uint32_t>(O_ACCMODE), kOpenFlags);
  return out;
}

std::string SocketType(uint64_t value) {
  const uint32_t type = UInt32(value);
  std::string out;
  if ((type & kSocketTypeMask) != 0) {
    out = Enum(type & kSocketTypeMask, kSocketTypes);
  }
  AppendFlags(out, type & ~kSocketTypeMask, kSocketTypeFlags);
  return out.empty() ? "0" : out;
}

std::string MapFlags(uint64_t value) {
  std::string out;
  if ((value & MAP_TYPE) != 0) {
    const char* type = NameOf(value & MAP_TYPE, kMapTypes);
    out = type != nullptr ? type
                          : absl::StrCat("0x", absl::Hex(value & MAP_TYPE));
  }
  AppendFlags(out, value & ~static_cast<uint64_t>(MAP_TYPE), kMapFlags);
  return out.empty() ? "0" : out;
}

std::string CloneFlags(uint64_t value) {
  std::string out;
  AppendFlags(out, value & ~kCloneSignalMask, kCloneFlags);
  if ((value & kCloneSignalMask) != 0) {
    absl::StrAppend(&out, out.empty() ? "" : "|",
                    SignalName(value & kCloneSignalMask));
  }
  return out.empty() ? "0" : out;
}

std::string FutexOp(uint64_t value) {
  const uint32_t op = UInt32(value);
  std::string out = Enum(op & kFutexCommandMask, kFutexCommands);
  AppendFlags(out, op & ~kFutexCommandMask, kFutexFlags);
  return out;
}

std::string MountFlags(uint64_t value) {
  std::string out;
  if ((value & kMountMagicMask) == MS_MGC_VAL) {
    out = "MS_MGC_VAL";
    value &= ~kMountMagicMask;
  }
  AppendFlags(out, value, kMountFlags);
  return out.empty() ? "0" : out;
}

std::string MknodMode(uint64_t value) {
  const uint32_t mode = UInt32(value);
  const char* type = NameOf(mode & S_IFMT, kFileTypes);
  const uint32_t rest = type != nullptr ? mode & ~S_IFMT : mode;
  const std::string permissions = Octal(rest);
  return type != nullptr ? absl::StrCat(type, "|", permissions) : permissions;
}

std::string SchedPolicy(uint64_t value) {
  const uint32_t policy = UInt32(value);
  std::string out = Enum(Int32(policy & ~SCHED_RESET_ON_FORK), kSchedPolicies);
  AppendFlags(out, policy & SCHED_RESET_ON_FORK, kSchedPolicyFlags);
  return out;
}

// _IOC(_IOC_READ, 0x54, 0x99, 0x8) for a request the table does not name
// but that is encoded as the kernel's _IOC does; hex otherwise.
std::string IoctlRequest(uint64_t value) {
  const uint32_t request = UInt32(value);
  if (const char* name = NameOf(request, kIoctlRequests)) return name;
  const uint32_t direction = _IOC_DIR(request);
  const uint32_t size = _IOC_SIZE(request);
  if (direction == _IOC_NONE && size == 0) return Hex(request);
  std::string dir;
  if (direction == _IOC_NONE) dir = "_IOC_NONE";
  if (direction & _IOC_READ) dir = "_IOC_READ";
  if (direction & _IOC_WRITE) {
    absl::StrAppend(&dir, dir.empty() ? "" : "|", "_IOC_WRITE");
  }
  return absl::StrCat("_IOC(", dir, ", 0x", absl::Hex(_IOC_TYPE(request)),
                      ", 0x", absl::Hex(_IOC_NR(request)), ", 0x",
                      absl::Hex(size), ")");
}

// `bytes` as a C string literal: printable ASCII as is, the rest escaped,
// so that the line stays one line of valid UTF-8 whatever the sandboxee
// wrote.
void AppendQuoted(std::string& out, absl::string_view bytes) {
  out.push_back('"');
  for (const char c : bytes) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out.push_back(c);
        } else {
          absl::StrAppend(
              &out, "\\x",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        }
    }
  }
  out.push_back('"');
}

// ---------------------------------------------------------------------------
// The caller's memory.

// Reads at most `size` bytes, trusting no count the reader returns.
size_t ReadBounded(MemoryReader* memory, uint64_t address, char* buffer,
                   size_t size) {
  if (memory == nullptr || address == 0) return 0;
  return std::min(memory->Read(address, buffer, size), size);
}

// The NUL-terminated string at `address` quoted, `"..."...` when it goes on
// past `max_bytes` (or past the readable memory); nullopt when not a byte
// of it is readable.
std::optional<std::string> ReadString(MemoryReader* memory, uint64_t address,
                                      size_t max_bytes) {
  char buffer[kMaxStringBytes + 1];
  max_bytes = std::min(max_bytes, kMaxStringBytes);
  const size_t got = ReadBounded(memory, address, buffer, max_bytes + 1);
  if (got == 0) return std::nullopt;
  const char* nul = static_cast<const char*>(memchr(buffer, '\0', got));
  const size_t length = nul != nullptr ? static_cast<size_t>(nul - buffer)
                                       : std::min(got, max_bytes);
  std::string out;
  AppendQuoted(out, absl::string_view(buffer, length));
  if (nul == nullptr) out += "...";
  return out;
}

std::string StringArg(MemoryReader* memory, uint64_t address,
                      size_t max_bytes = kMaxStringBytes) {
  std::optional<std::string> text = ReadString(memory, address, max_bytes);
  return text.has_value() ? *std::move(text) : Pointer(address);
}

// ["sh", "-c", "id"]: an argv array, at most kArgvEntries entries of at
// most kArgvEntryBytes each; "..." where more follow or memory ends.
constexpr size_t kArgvEntries = 8;
constexpr size_t kArgvEntryBytes = 64;

std::string ArgvArg(MemoryReader* memory, uint64_t address) {
  uint64_t pointers[kArgvEntries + 1] = {};
  const size_t got =
      ReadBounded(memory, address, reinterpret_cast<char*>(pointers),
                  sizeof(pointers)) /
      sizeof(uint64_t);
  if (got == 0) return Pointer(address);
  std::vector<std::string> entries;
  bool terminated = false;
  for (size_t i = 0; i < got && i < kArgvEntries && !terminated; ++i) {
    terminated = pointers[i] == 0;
    if (!terminated) {
      entries.push_back(StringArg(memory, pointers[i], kArgvEntryBytes));
    }
  }
  if (!terminated && !(got > kArgvEntries && pointers[kArgvEntries] == 0)) {
    entries.push_back("...");
  }
  return absl::StrCat("[", absl::StrJoin(entries, ", "), "]");
}

// {AF_INET, 10.0.0.1:443}, {AF_INET6, [::1]:80}, {AF_UNIX, "/run/x"} or
// {AF_UNIX, @"abstract"}; the family alone for others.
std::string SockaddrArg(MemoryReader* memory, uint64_t address,
                        uint64_t length_arg) {
  const uint32_t length = UInt32(length_arg);
  struct sockaddr_storage storage = {};
  char* buffer = reinterpret_cast<char*>(&storage);
  const size_t got = ReadBounded(memory, address, buffer,
                                 std::min<size_t>(length, sizeof(storage)));
  if (got < sizeof(sa_family_t)) return Pointer(address);
  const sa_family_t family = storage.ss_family;
  std::string out = absl::StrCat("{", Enum(family, kSocketDomains));
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET && got >= sizeof(struct sockaddr_in)) {
    const auto* in = reinterpret_cast<const struct sockaddr_in*>(&storage);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
    absl::StrAppend(&out, ", ", text, ":", ntohs(in->sin_port));
  } else if (family == AF_INET6 && got >= sizeof(struct sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(&storage);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
    absl::StrAppend(&out, ", [", text, "]:", ntohs(in6->sin6_port));
  } else if (family == AF_UNIX && got > sizeof(sa_family_t)) {
    const size_t offset = offsetof(struct sockaddr_un, sun_path);
    absl::string_view path(buffer + offset, got - offset);
    out += ", ";
    if (path[0] == '\0') {
      // Abstract: the name is every byte of the given length.
      out += "@";
      path.remove_prefix(1);
    } else {
      path = path.substr(0, path.find('\0'));
    }
    AppendQuoted(out, path);
  }
  out += "}";
  return out;
}

// ---------------------------------------------------------------------------
// Arguments whose meaning depends on another one.

std::string Protocol(int64_t domain, uint64_t value) {
  const int32_t protocol = Int32(value);
  if (domain == AF_NETLINK) return Enum(protocol, kNetlinkProtocols);
  if ((domain == AF_INET || domain == AF_INET6) && protocol != 0) {
    return Enum(protocol, kIpProtocols);
  }
  return absl::StrCat(protocol);
}

std::string SocketOption(int64_t level, uint64_t value) {
  const int32_t option = Int32(value);
  if (level == SOL_SOCKET) return Enum(option, kSocketOptions);
  if (level == SOL_TCP) return Enum(option, kTcpOptions);
  return absl::StrCat(option);
}

// fcntl's third argument for `command`; nullopt where it takes none.
std::optional<std::string> FcntlArg(int64_t command, uint64_t value) {
  switch (command) {
    case F_GETFD:
    case F_GETFL:
    case F_GETOWN:
    case F_GETSIG:
    case F_GETLEASE:
    case F_GETPIPE_SZ:
    case F_GET_SEALS:
      return std::nullopt;
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return DecodeArg(ArgKind::kFd, value);
    case F_SETFD:
      return DecodeArg(ArgKind::kFdFlags, value);
    case F_SETFL:
      return DecodeArg(ArgKind::kStatusFlags, value);
    case F_SETOWN:
      return DecodeArg(ArgKind::kPid, value);
    case F_SETSIG:
      return DecodeArg(ArgKind::kSignal, value);
    case F_SETLEASE:
      return Enum(Int32(value), kLockTypes);
    case F_SETPIPE_SZ:
      return DecodeArg(ArgKind::kInt, value);
    case F_ADD_SEALS:
      return Flags(UInt32(value), kSeals);
    case F_GETLK:
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_GETLK:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
    case F_GETOWN_EX:
    case F_SETOWN_EX:
      return Pointer(value);
    default:
      return Hex(value);
  }
}

// prctl's second argument for `option`.
std::string PrctlArg(int64_t option, uint64_t value, MemoryReader* memory) {
  switch (option) {
    case PR_SET_SECCOMP:
      return Enum(static_cast<int64_t>(value), kSeccompModes);
    case PR_SET_PDEATHSIG:
      return SignalName(static_cast<int64_t>(value));
    case PR_SET_NAME:
      // The kernel takes 16 bytes, NUL included.
      return StringArg(memory, value, 16);
    case PR_CAP_AMBIENT:
      return Enum(static_cast<int64_t>(value), kAmbientOps);
    case PR_SET_DUMPABLE:
    case PR_SET_KEEPCAPS:
    case PR_SET_NO_NEW_PRIVS:
    case PR_SET_CHILD_SUBREAPER:
    case PR_SET_THP_DISABLE:
    case PR_CAPBSET_READ:
    case PR_CAPBSET_DROP:
      return absl::StrCat(value);
    default:
      return Hex(value);
  }
}

// ---------------------------------------------------------------------------
// The table: x86-64 prototypes, by name (libseccomp gives the numbers).

using K = ArgKind;

constexpr SyscallSignature kSignatures[] = {
    {"read", {{K::kFd, "fd"}, {K::kPointer, "buf"}, {K::kSize, "count"}}},
    {"write", {{K::kFd, "fd"}, {K::kPointer, "buf"}, {K::kSize, "count"}}},
    {"open",
     {{K::kPath, "pathname"},
      {K::kOpenFlags, "flags"},
      {K::kCreateMode, "mode"}}},
    {"close", {{K::kFd, "fd"}}},
    {"stat", {{K::kPath, "pathname"}, {K::kPointer, "statbuf"}}},
    {"fstat", {{K::kFd, "fd"}, {K::kPointer, "statbuf"}}},
    {"lstat", {{K::kPath, "pathname"}, {K::kPointer, "statbuf"}}},
    {"poll", {{K::kPointer, "fds"}, {K::kUInt, "nfds"}, {K::kInt, "timeout"}}},
    {"lseek", {{K::kFd, "fd"}, {K::kLong, "offset"}, {K::kWhence, "whence"}}},
    {"mmap",
     {{K::kPointer, "addr"},
      {K::kSize, "length"},
      {K::kProt, "prot"},
      {K::kMapFlags, "flags"},
      {K::kFd, "fd"},
      {K::kLong, "offset"}}},
    {"mprotect",
     {{K::kPointer, "addr"}, {K::kSize, "len"}, {K::kProt, "prot"}}},
    {"munmap", {{K::kPointer, "addr"}, {K::kSize, "length"}}},
    {"brk", {{K::kPointer, "addr"}}},
    {"rt_sigaction",
     {{K::kSignal, "signum"},
      {K::kPointer, "act"},
      {K::kPointer, "oldact"},
      {K::kSize, "sigsetsize"}}},
    {"rt_sigprocmask",
     {{K::kSigprocmaskHow, "how"},
      {K::kPointer, "set"},
      {K::kPointer, "oldset"},
      {K::kSize, "sigsetsize"}}},
    {"rt_sigreturn", {}},
    {"ioctl",
     {{K::kFd, "fd"}, {K::kIoctlRequest, "request"}, {K::kHex, "arg"}}},
    {"pread64",
     {{K::kFd, "fd"},
      {K::kPointer, "buf"},
      {K::kSize, "count"},
      {K::kLong, "offset"}}},
    {"pwrite64",
     {{K::kFd, "fd"},
      {K::kPointer, "buf"},
      {K::kSize, "count"},
      {K::kLong, "offset"}}},
    {"readv", {{K::kFd, "fd"}, {K::kPointer, "iov"}, {K::kInt, "iovcnt"}}},
    {"writev", {{K::kFd, "fd"}, {K::kPointer, "iov"}, {K::kInt, "iovcnt"}}},
    {"access", {{K::kPath, "pathname"}, {K::kAccessMode, "mode"}}},
    {"pipe", {{K::kPointer, "pipefd"}}},
    {"select",
     {{K::kInt, "nfds"},
      {K::kPointer, "readfds"},
      {K::kPointer, "writefds"},
      {K::kPointer, "exceptfds"},
      {K::kPointer, "timeout"}}},
    {"sched_yield", {}},
    {"mremap",
     {{K::kPointer, "old_address"},
      {K::kSize, "old_size"},
      {K::kSize, "new_size"},
      {K::kMremapFlags, "flags"},
      {K::kPointer, "new_address"}}},
    {"msync",
     {{K::kPointer, "addr"}, {K::kSize, "length"}, {K::kMsyncFlags, "flags"}}},
    {"mincore",
     {{K::kPointer, "addr"}, {K::kSize, "length"}, {K::kPointer, "vec"}}},
    {"madvise",
     {{K::kPointer, "addr"}, {K::kSize, "length"}, {K::kMadvise, "advice"}}},
    {"shmget", {{K::kInt, "key"}, {K::kSize, "size"}, {K::kHex, "shmflg"}}},
    {"shmat",
     {{K::kInt, "shmid"}, {K::kPointer, "shmaddr"}, {K::kHex, "shmflg"}}},
    {"shmctl", {{K::kInt, "shmid"}, {K::kInt, "cmd"}, {K::kPointer, "buf"}}},
    {"dup", {{K::kFd, "oldfd"}}},
    {"dup2", {{K::kFd, "oldfd"}, {K::kFd, "newfd"}}},
    {"pause", {}},
    {"nanosleep", {{K::kPointer, "req"}, {K::kPointer, "rem"}}},
    {"getitimer", {{K::kItimerWhich, "which"}, {K::kPointer, "curr_value"}}},
    {"alarm", {{K::kUInt, "seconds"}}},
    {"setitimer",
     {{K::kItimerWhich, "which"},
      {K::kPointer, "new_value"},
      {K::kPointer, "old_value"}}},
    {"getpid", {}},
    {"sendfile",
     {{K::kFd, "out_fd"},
      {K::kFd, "in_fd"},
      {K::kPointer, "offset"},
      {K::kSize, "count"}}},
    {"socket",
     {{K::kSocketDomain, "domain"},
      {K::kSocketType, "type"},
      {K::kProtocol, "protocol"}}},
    {"connect",
     {{K::kFd, "sockfd"}, {K::kSockaddr, "addr"}, {K::kUInt, "addrlen"}}},
    {"accept",
     {{K::kFd, "sockfd"}, {K::kPointer, "addr"}, {K::kPointer, "addrlen"}}},
    {"sendto",
     {{K::kFd, "sockfd"},
      {K::kPointer, "buf"},
      {K::kSize, "len"},
      {K::kMsgFlags, "flags"},
      {K::kSockaddr, "dest_addr"},
      {K::kUInt, "addrlen"}}},
    {"recvfrom",
     {{K::kFd, "sockfd"},
      {K::kPointer, "buf"},
      {K::kSize, "len"},
      {K::kMsgFlags, "flags"},
      {K::kPointer, "src_addr"},
      {K::kPointer, "addrlen"}}},
    {"sendmsg",
     {{K::kFd, "sockfd"}, {K::kPointer, "msg"}, {K::kMsgFlags, "flags"}}},
    {"recvmsg",
     {{K::kFd, "sockfd"}, {K::kPointer, "msg"}, {K::kMsgFlags, "flags"}}},
    {"shutdown", {{K::kFd, "sockfd"}, {K::kShutdownHow, "how"}}},
    {"bind",
     {{K::kFd, "sockfd"}, {K::kSockaddr, "addr"}, {K::kUInt, "addrlen"}}},
    {"listen", {{K::kFd, "sockfd"}, {K::kInt, "backlog"}}},
    {"getsockname",
     {{K::kFd, "sockfd"}, {K::kPointer, "addr"}, {K::kPointer, "addrlen"}}},
    {"getpeername",
     {{K::kFd, "sockfd"}, {K::kPointer, "addr"}, {K::kPointer, "addrlen"}}},
    {"socketpair",
     {{K::kSocketDomain, "domain"},
      {K::kSocketType, "type"},
      {K::kProtocol, "protocol"},
      {K::kPointer, "sv"}}},
    {"setsockopt",
     {{K::kFd, "sockfd"},
      {K::kSocketLevel, "level"},
      {K::kSocketOption, "optname"},
      {K::kPointer, "optval"},
      {K::kUInt, "optlen"}}},
    {"getsockopt",
     {{K::kFd, "sockfd"},
      {K::kSocketLevel, "level"},
      {K::kSocketOption, "optname"},
      {K::kPointer, "optval"},
      {K::kPointer, "optlen"}}},
    // x86-64 order: the child's tid pointer before tls.
    {"clone",
     {{K::kCloneFlags, "flags"},
      {K::kPointer, "stack"},
      {K::kPointer, "parent_tid"},
      {K::kPointer, "child_tid"},
      {K::kHex, "tls"}}},
    {"fork", {}},
    {"vfork", {}},
    {"execve",
     {{K::kPath, "pathname"}, {K::kArgv, "argv"}, {K::kPointer, "envp"}}},
    {"exit", {{K::kInt, "status"}}},
    {"wait4",
     {{K::kPid, "pid"},
      {K::kPointer, "wstatus"},
      {K::kWaitOptions, "options"},
      {K::kPointer, "rusage"}}},
    {"kill", {{K::kPid, "pid"}, {K::kSignal, "sig"}}},
    {"uname", {{K::kPointer, "buf"}}},
    {"semget", {{K::kInt, "key"}, {K::kInt, "nsems"}, {K::kHex, "semflg"}}},
    {"semop", {{K::kInt, "semid"}, {K::kPointer, "sops"}, {K::kSize, "nsops"}}},
    {"semctl",
     {{K::kInt, "semid"},
      {K::kInt, "semnum"},
      {K::kInt, "cmd"},
      {K::kHex, "arg"}}},
    {"shmdt", {{K::kPointer, "shmaddr"}}},
    {"msgget", {{K::kInt, "key"}, {K::kHex, "msgflg"}}},
    {"msgsnd",
     {{K::kInt, "msqid"},
      {K::kPointer, "msgp"},
      {K::kSize, "msgsz"},
      {K::kHex, "msgflg"}}},
    {"msgrcv",
     {{K::kInt, "msqid"},
      {K::kPointer, "msgp"},
      {K::kSize, "msgsz"},
      {K::kLong, "msgtyp"},
      {K::kHex, "msgflg"}}},
    {"msgctl", {{K::kInt, "msqid"}, {K::kInt, "cmd"}, {K::kPointer, "buf"}}},
    {"fcntl", {{K::kFd, "fd"}, {K::kFcntlCmd, "cmd"}, {K::kFcntlArg, "arg"}}},
    {"flock", {{K::kFd, "fd"}, {K::kFlockOp, "operation"}}},
    {"fsync", {{K::kFd, "fd"}}},
    {"fdatasync", {{K::kFd, "fd"}}},
    {"truncate", {{K::kPath, "path"}, {K::kLong, "length"}}},
    {"ftruncate", {{K::kFd, "fd"}, {K::kLong, "length"}}},
    {"getdents", {{K::kFd, "fd"}, {K::kPointer, "dirp"}, {K::kUInt, "count"}}},
    {"getcwd", {{K::kPointer, "buf"}, {K::kSize, "size"}}},
    {"chdir", {{K::kPath, "path"}}},
    {"fchdir", {{K::kFd, "fd"}}},
    {"rename", {{K::kPath, "oldpath"}, {K::kPath, "newpath"}}},
    {"mkdir", {{K::kPath, "pathname"}, {K::kOctalMode, "mode"}}},
    {"rmdir", {{K::kPath, "pathname"}}},
    {"creat", {{K::kPath, "pathname"}, {K::kOctalMode, "mode"}}},
    {"link", {{K::kPath, "oldpath"}, {K::kPath, "newpath"}}},
    {"unlink", {{K::kPath, "pathname"}}},
    {"symlink", {{K::kPath, "target"}, {K::kPath, "linkpath"}}},
    {"readlink",
     {{K::kPath, "pathname"}, {K::kPointer, "buf"}, {K::kSize, "bufsiz"}}},
    {"chmod", {{K::kPath, "pathname"}, {K::kOctalMode, "mode"}}},
    {"fchmod", {{K::kFd, "fd"}, {K::kOctalMode, "mode"}}},
    {"chown", {{K::kPath, "pathname"}, {K::kId, "owner"}, {K::kId, "group"}}},
    {"fchown", {{K::kFd, "fd"}, {K::kId, "owner"}, {K::kId, "group"}}},
    {"lchown", {{K::kPath, "pathname"}, {K::kId, "owner"}, {K::kId, "group"}}},
    {"umask", {{K::kOctalMode, "mask"}}},
    {"gettimeofday", {{K::kPointer, "tv"}, {K::kPointer, "tz"}}},
    {"getrlimit", {{K::kRlimitResource, "resource"}, {K::kPointer, "rlim"}}},
    {"getrusage", {{K::kInt, "who"}, {K::kPointer, "usage"}}},
    {"sysinfo", {{K::kPointer, "info"}}},
    {"times", {{K::kPointer, "buf"}}},
    {"ptrace",
     {{K::kPtraceRequest, "request"},
      {K::kPid, "pid"},
      {K::kPointer, "addr"},
      {K::kHex, "data"}}},
    {"getuid", {}},
    {"syslog", {{K::kInt, "type"}, {K::kPointer, "bufp"}, {K::kInt, "len"}}},
    {"getgid", {}},
    {"setuid", {{K::kId, "uid"}}},
    {"setgid", {{K::kId, "gid"}}},
    {"geteuid", {}},
    {"getegid", {}},
    {"setpgid", {{K::kPid, "pid"}, {K::kPid, "pgid"}}},
    {"getppid", {}},
    {"getpgrp", {}},
    {"setsid", {}},
    {"setreuid", {{K::kId, "ruid"}, {K::kId, "euid"}}},
    {"setregid", {{K::kId, "rgid"}, {K::kId, "egid"}}},
    {"getgroups", {{K::kInt, "size"}, {K::kPointer, "list"}}},
    {"setgroups", {{K::kSize, "size"}, {K::kPointer, "list"}}},
    {"setresuid", {{K::kId, "ruid"}, {K::kId, "euid"}, {K::kId, "suid"}}},
    {"getresuid",
     {{K::kPointer, "ruid"}, {K::kPointer, "euid"}, {K::kPointer, "suid"}}},
    {"setresgid", {{K::kId, "rgid"}, {K::kId, "egid"}, {K::kId, "sgid"}}},
    {"getresgid",
     {{K::kPointer, "rgid"}, {K::kPointer, "egid"}, {K::kPointer, "sgid"}}},
    {"getpgid", {{K::kPid, "pid"}}},
    {"setfsuid", {{K::kId, "fsuid"}}},
    {"setfsgid", {{K::kId, "fsgid"}}},
    {"getsid", {{K::kPid, "pid"}}},
    {"capget", {{K::kPointer, "hdrp"}, {K::kPointer, "datap"}}},
    {"capset", {{K::kPointer, "hdrp"}, {K::kPointer, "datap"}}},
    {"rt_sigpending", {{K::kPointer, "set"}, {K::kSize, "sigsetsize"}}},
    {"rt_sigtimedwait",
     {{K::kPointer, "set"},
      {K::kPointer, "info"},
      {K::kPointer, "timeout"},
      {K::kSize, "sigsetsize"}}},
    {"rt_sigqueueinfo",
     {{K::kPid, "tgid"}, {K::kSignal, "sig"}, {K::kPointer, "info"}}},
    {"rt_sigsuspend", {{K::kPointer, "mask"}, {K::kSize, "sigsetsize"}}},
    {"sigaltstack", {{K::kPointer, "ss"}, {K::kPointer, "old_ss"}}},
    {"utime", {{K::kPath, "filename"}, {K::kPointer, "times"}}},
    {"mknod",
     {{K::kPath, "pathname"}, {K::kMknodMode, "mode"}, {K::kHex, "dev"}}},
    {"uselib", {{K::kPath, "library"}}},
    {"personality", {{K::kHex, "persona"}}},
    {"ustat", {{K::kHex, "dev"}, {K::kPointer, "ubuf"}}},
    {"statfs", {{K::kPath, "path"}, {K::kPointer, "buf"}}},
    {"fstatfs", {{K::kFd, "fd"}, {K::kPointer, "buf"}}},
    {"sysfs", {{K::kInt, "option"}, {K::kHex, "arg1"}, {K::kHex, "arg2"}}},
    {"getpriority", {{K::kPriorityWhich, "which"}, {K::kInt, "who"}}},
    {"setpriority",
     {{K::kPriorityWhich, "which"}, {K::kInt, "who"}, {K::kInt, "prio"}}},
    {"sched_setparam", {{K::kPid, "pid"}, {K::kPointer, "param"}}},
    {"sched_getparam", {{K::kPid, "pid"}, {K::kPointer, "param"}}},
    {"sched_setscheduler",
     {{K::kPid, "pid"}, {K::kSchedPolicy, "policy"}, {K::kPointer, "param"}}},
    {"sched_getscheduler", {{K::kPid, "pid"}}},
    {"sched_get_priority_max", {{K::kSchedPolicy, "policy"}}},
    {"sched_get_priority_min", {{K::kSchedPolicy, "policy"}}},
    {"sched_rr_get_interval", {{K::kPid, "pid"}, {K::kPointer, "tp"}}},
    {"mlock", {{K::kPointer, "addr"}, {K::kSize, "len"}}},
    {"munlock", {{K::kPointer, "addr"}, {K::kSize, "len"}}},
    {"mlockall", {{K::kMlockallFlags, "flags"}}},
    {"munlockall", {}},
    {"vhangup", {}},
    {"modify_ldt",
     {{K::kInt, "func"}, {K::kPointer, "ptr"}, {K::kSize, "bytecount"}}},
    {"pivot_root", {{K::kPath, "new_root"}, {K::kPath, "put_old"}}},
    {"_sysctl", {{K::kPointer, "args"}}},
    {"prctl",
     {{K::kPrctlOption, "option"},
      {K::kPrctlArg, "arg2"},
      {K::kHex, "arg3"},
      {K::kHex, "arg4"},
      {K::kHex, "arg5"}}},
    {"arch_prctl", {{K::kArchPrctlCode, "code"}, {K::kHex, "addr"}}},
    {"adjtimex", {{K::kPointer, "buf"}}},
    {"setrlimit", {{K::kRlimitResource, "resource"}, {K::kPointer, "rlim"}}},
    {"chroot", {{K::kPath, "path"}}},
    {"sync", {}},
    {"acct", {{K::kPath, "filename"}}},
    {"settimeofday", {{K::kPointer, "tv"}, {K::kPointer, "tz"}}},
    {"mount",
     {{K::kString, "source"},
      {K::kPath, "target"},
      {K::kString, "filesystemtype"},
      {K::kMountFlags, "mountflags"},
      {K::kPointer, "data"}}},
    {"umount2", {{K::kPath, "target"}, {K::kUmountFlags, "flags"}}},
    {"swapon", {{K::kPath, "path"}, {K::kHex, "swapflags"}}},
    {"swapoff", {{K::kPath, "path"}}},
    {"reboot",
     {{K::kHex, "magic"},
      {K::kHex, "magic2"},
      {K::kHex, "cmd"},
      {K::kPointer, "arg"}}},
    {"sethostname", {{K::kString, "name"}, {K::kSize, "len"}}},
    {"setdomainname", {{K::kString, "name"}, {K::kSize, "len"}}},
    {"iopl", {{K::kInt, "level"}}},
    {"ioperm", {{K::kHex, "from"}, {K::kSize, "num"}, {K::kInt, "turn_on"}}},
    {"init_module",
     {{K::kPointer, "module_image"},
      {K::kSize, "len"},
      {K::kString, "param_values"}}},
    {"delete_module", {{K::kString, "name"}, {K::kHex, "flags"}}},
    {"quotactl",
     {{K::kHex, "cmd"},
      {K::kPath, "special"},
      {K::kInt, "id"},
      {K::kPointer, "addr"}}},
    {"gettid", {}},
    {"readahead", {{K::kFd, "fd"}, {K::kLong, "offset"}, {K::kSize, "count"}}},
    {"setxattr",
     {{K::kPath, "path"},
      {K::kString, "name"},
      {K::kPointer, "value"},
      {K::kSize, "size"},
      {K::kXattrFlags, "flags"}}},
    {"lsetxattr",
     {{K::kPath, "path"},
      {K::kString, "name"},
      {K::kPointer, "value"},
      {K::kSize, "size"},
      {K::kXattrFlags, "flags"}}},
    {"fsetxattr",
     {{K::kFd, "fd"},
      {K::kString, "name"},
      {K::kPointer, "value"},
      {K::kSize, "size"},
      {K::kXattrFlags, "flags"}}},
    {"getxattr",
     {{K::kPath, "path"},
      {K::kString, "name"},
      {K::kPointer, "value"},
      {K::kSize, "size"}}},
    {"lgetxattr",
     {{K::kPath, "path"},
      {K::kString, "name"},
      {K::kPointer, "value"},
      {K::kSize, "size"}}},
    {"fgetxattr",
     {{K::kFd, "fd"},
      {K::kString, "name"},
      {K::kPointer, "value"},
      {K::kSize, "size"}}},
    {"listxattr",
     {{K::kPath, "path"}, {K::kPointer, "list"}, {K::kSize, "size"}}},
    {"llistxattr",
     {{K::kPath, "path"}, {K::kPointer, "list"}, {K::kSize, "size"}}},
    {"flistxattr", {{K::kFd, "fd"}, {K::kPointer, "list"}, {K::kSize, "size"}}},
    {"removexattr", {{K::kPath, "path"}, {K::kString, "name"}}},
    {"lremovexattr", {{K::kPath, "path"}, {K::kString, "name"}}},
    {"fremovexattr", {{K::kFd, "fd"}, {K::kString, "name"}}},
    {"tkill", {{K::kPid, "tid"}, {K::kSignal, "sig"}}},
    {"time", {{K::kPointer, "tloc"}}},
    {"futex",
     {{K::kPointer, "uaddr"},
      {K::kFutexOp, "futex_op"},
      {K::kInt, "val"},
      {K::kPointer, "timeout"},
      {K::kPointer, "uaddr2"},
      {K::kUInt, "val3"}}},
    {"sched_setaffinity",
     {{K::kPid, "pid"}, {K::kSize, "cpusetsize"}, {K::kPointer, "mask"}}},
    {"sched_getaffinity",
     {{K::kPid, "pid"}, {K::kSize, "cpusetsize"}, {K::kPointer, "mask"}}},
    {"set_thread_area", {{K::kPointer, "u_info"}}},
    {"io_setup", {{K::kUInt, "nr_events"}, {K::kPointer, "ctx_idp"}}},
    {"io_destroy", {{K::kHex, "ctx_id"}}},
    {"io_getevents",
     {{K::kHex, "ctx_id"},
      {K::kLong, "min_nr"},
      {K::kLong, "nr"},
      {K::kPointer, "events"},
      {K::kPointer, "timeout"}}},
    {"io_submit",
     {{K::kHex, "ctx_id"}, {K::kLong, "nr"}, {K::kPointer, "iocbpp"}}},
    {"io_cancel",
     {{K::kHex, "ctx_id"}, {K::kPointer, "iocb"}, {K::kPointer, "result"}}},
    {"get_thread_area", {{K::kPointer, "u_info"}}},
    {"epoll_create", {{K::kInt, "size"}}},
    {"remap_file_pages",
     {{K::kPointer, "addr"},
      {K::kSize, "size"},
      {K::kProt, "prot"},
      {K::kSize, "pgoff"},
      {K::kMapFlags, "flags"}}},
    {"getdents64",
     {{K::kFd, "fd"}, {K::kPointer, "dirp"}, {K::kUInt, "count"}}},
    {"set_tid_address", {{K::kPointer, "tidptr"}}},
    {"restart_syscall", {}},
    {"semtimedop",
     {{K::kInt, "semid"},
      {K::kPointer, "sops"},
      {K::kSize, "nsops"},
      {K::kPointer, "timeout"}}},
    {"fadvise64",
     {{K::kFd, "fd"},
      {K::kLong, "offset"},
      {K::kLong, "len"},
      {K::kInt, "advice"}}},
    {"timer_create",
     {{K::kClockId, "clockid"},
      {K::kPointer, "sevp"},
      {K::kPointer, "timerid"}}},
    {"timer_settime",
     {{K::kInt, "timerid"},
      {K::kInt, "flags"},
      {K::kPointer, "new_value"},
      {K::kPointer, "old_value"}}},
    {"timer_gettime", {{K::kInt, "timerid"}, {K::kPointer, "curr_value"}}},
    {"timer_getoverrun", {{K::kInt, "timerid"}}},
    {"timer_delete", {{K::kInt, "timerid"}}},
    {"clock_settime", {{K::kClockId, "clockid"}, {K::kPointer, "tp"}}},
    {"clock_gettime", {{K::kClockId, "clockid"}, {K::kPointer, "tp"}}},
    {"clock_getres", {{K::kClockId, "clockid"}, {K::kPointer, "res"}}},
    {"clock_nanosleep",
     {{K::kClockId, "clockid"},
      {K::kInt, "flags"},
      {K::kPointer, "request"},
      {K::kPointer, "remain"}}},
    {"exit_group", {{K::kInt, "status"}}},
    {"epoll_wait",
     {{K::kFd, "epfd"},
      {K::kPointer, "events"},
      {K::kInt, "maxevents"},
      {K::kInt, "timeout"}}},
    {"epoll_ctl",
     {{K::kFd, "epfd"},
      {K::kEpollOp, "op"},
      {K::kFd, "fd"},
      {K::kPointer, "event"}}},
    {"tgkill", {{K::kPid, "tgid"}, {K::kPid, "tid"}, {K::kSignal, "sig"}}},
    {"utimes", {{K::kPath, "filename"}, {K::kPointer, "times"}}},
    {"mbind",
     {{K::kPointer, "addr"},
      {K::kSize, "len"},
      {K::kInt, "mode"},
      {K::kPointer, "nodemask"},
      {K::kSize, "maxnode"},
      {K::kUInt, "flags"}}},
    {"set_mempolicy",
     {{K::kInt, "mode"}, {K::kPointer, "nodemask"}, {K::kSize, "maxnode"}}},
    {"get_mempolicy",
     {{K::kPointer, "mode"},
      {K::kPointer, "nodemask"},
      {K::kSize, "maxnode"},
      {K::kPointer, "addr"},
      {K::kUInt, "flags"}}},
    {"mq_open",
     {{K::kString, "name"},
      {K::kOpenFlags, "oflag"},
      {K::kCreateMode, "mode"},
      {K::kPointer, "attr"}}},
    {"mq_unlink", {{K::kString, "name"}}},
    {"mq_timedsend",
     {{K::kFd, "mqdes"},
      {K::kPointer, "msg_ptr"},
      {K::kSize, "msg_len"},
      {K::kUInt, "msg_prio"},
      {K::kPointer, "abs_timeout"}}},
    {"mq_timedreceive",
     {{K::kFd, "mqdes"},
      {K::kPointer, "msg_ptr"},
      {K::kSize, "msg_len"},
      {K::kPointer, "msg_prio"},
      {K::kPointer, "abs_timeout"}}},
    {"mq_notify", {{K::kFd, "mqdes"}, {K::kPointer, "sevp"}}},
    {"mq_getsetattr",
     {{K::kFd, "mqdes"}, {K::kPointer, "newattr"}, {K::kPointer, "oldattr"}}},
    {"kexec_load",
     {{K::kHex, "entry"},
      {K::kSize, "nr_segments"},
      {K::kPointer, "segments"},
      {K::kHex, "flags"}}},
    {"waitid",
     {{K::kIdType, "idtype"},
      {K::kInt, "id"},
      {K::kPointer, "infop"},
      {K::kWaitOptions, "options"},
      {K::kPointer, "rusage"}}},
    {"add_key",
     {{K::kString, "type"},
      {K::kString, "description"},
      {K::kPointer, "payload"},
      {K::kSize, "plen"},
      {K::kInt, "keyring"}}},
    {"request_key",
     {{K::kString, "type"},
      {K::kString, "description"},
      {K::kString, "callout_info"},
      {K::kInt, "dest_keyring"}}},
    {"keyctl",
     {{K::kInt, "operation"},
      {K::kHex, "arg2"},
      {K::kHex, "arg3"},
      {K::kHex, "arg4"},
      {K::kHex, "arg5"}}},
    {"ioprio_set", {{K::kInt, "which"}, {K::kInt, "who"}, {K::kHex, "ioprio"}}},
    {"ioprio_get", {{K::kInt, "which"}, {K::kInt, "who"}}},
    {"inotify_init", {}},
    {"inotify_add_watch",
     {{K::kFd, "fd"}, {K::kPath, "pathname"}, {K::kHex, "mask"}}},
    {"inotify_rm_watch", {{K::kFd, "fd"}, {K::kInt, "wd"}}},
    {"migrate_pages",
     {{K::kPid, "pid"},
      {K::kSize, "maxnode"},
      {K::kPointer, "old_nodes"},
      {K::kPointer, "new_nodes"}}},
    {"openat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kOpenFlags, "flags"},
      {K::kCreateMode, "mode"}}},
    {"mkdirat",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kOctalMode, "mode"}}},
    {"mknodat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kMknodMode, "mode"},
      {K::kHex, "dev"}}},
    {"fchownat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kId, "owner"},
      {K::kId, "group"},
      {K::kAtFlags, "flags"}}},
    {"futimesat",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kPointer, "times"}}},
    {"newfstatat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kPointer, "statbuf"},
      {K::kAtFlags, "flags"}}},
    {"unlinkat",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kAtFlags, "flags"}}},
    {"renameat",
     {{K::kDirFd, "olddirfd"},
      {K::kPath, "oldpath"},
      {K::kDirFd, "newdirfd"},
      {K::kPath, "newpath"}}},
    {"linkat",
     {{K::kDirFd, "olddirfd"},
      {K::kPath, "oldpath"},
      {K::kDirFd, "newdirfd"},
      {K::kPath, "newpath"},
      {K::kAtFlags, "flags"}}},
    {"symlinkat",
     {{K::kPath, "target"}, {K::kDirFd, "newdirfd"}, {K::kPath, "linkpath"}}},
    {"readlinkat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kPointer, "buf"},
      {K::kSize, "bufsiz"}}},
    // The system calls have no flags (faccessat2 does).
    {"fchmodat",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kOctalMode, "mode"}}},
    {"faccessat",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kAccessMode, "mode"}}},
    {"pselect6",
     {{K::kInt, "nfds"},
      {K::kPointer, "readfds"},
      {K::kPointer, "writefds"},
      {K::kPointer, "exceptfds"},
      {K::kPointer, "timeout"},
      {K::kPointer, "sigmask"}}},
    {"ppoll",
     {{K::kPointer, "fds"},
      {K::kUInt, "nfds"},
      {K::kPointer, "tmo_p"},
      {K::kPointer, "sigmask"},
      {K::kSize, "sigsetsize"}}},
    {"unshare", {{K::kNamespaceFlags, "flags"}}},
    {"set_robust_list", {{K::kPointer, "head"}, {K::kSize, "len"}}},
    {"get_robust_list",
     {{K::kPid, "pid"}, {K::kPointer, "head_ptr"}, {K::kPointer, "len_ptr"}}},
    {"splice",
     {{K::kFd, "fd_in"},
      {K::kPointer, "off_in"},
      {K::kFd, "fd_out"},
      {K::kPointer, "off_out"},
      {K::kSize, "len"},
      {K::kHex, "flags"}}},
    {"tee",
     {{K::kFd, "fd_in"},
      {K::kFd, "fd_out"},
      {K::kSize, "len"},
      {K::kHex, "flags"}}},
    {"sync_file_range",
     {{K::kFd, "fd"},
      {K::kLong, "offset"},
      {K::kLong, "nbytes"},
      {K::kHex, "flags"}}},
    {"vmsplice",
     {{K::kFd, "fd"},
      {K::kPointer, "iov"},
      {K::kSize, "nr_segs"},
      {K::kHex, "flags"}}},
    {"move_pages",
     {{K::kPid, "pid"},
      {K::kSize, "count"},
      {K::kPointer, "pages"},
      {K::kPointer, "nodes"},
      {K::kPointer, "status"},
      {K::kInt, "flags"}}},
    {"utimensat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kPointer, "times"},
      {K::kAtFlags, "flags"}}},
    {"epoll_pwait",
     {{K::kFd, "epfd"},
      {K::kPointer, "events"},
      {K::kInt, "maxevents"},
      {K::kInt, "timeout"},
      {K::kPointer, "sigmask"},
      {K::kSize, "sigsetsize"}}},
    {"signalfd",
     {{K::kFd, "fd"}, {K::kPointer, "mask"}, {K::kSize, "sizemask"}}},
    {"timerfd_create", {{K::kClockId, "clockid"}, {K::kStatusFlags, "flags"}}},
    {"eventfd", {{K::kUInt, "initval"}}},
    {"fallocate",
     {{K::kFd, "fd"},
      {K::kHex, "mode"},
      {K::kLong, "offset"},
      {K::kLong, "len"}}},
    {"timerfd_settime",
     {{K::kFd, "fd"},
      {K::kInt, "flags"},
      {K::kPointer, "new_value"},
      {K::kPointer, "old_value"}}},
    {"timerfd_gettime", {{K::kFd, "fd"}, {K::kPointer, "curr_value"}}},
    {"accept4",
     {{K::kFd, "sockfd"},
      {K::kPointer, "addr"},
      {K::kPointer, "addrlen"},
      {K::kSocketType, "flags"}}},
    {"signalfd4",
     {{K::kFd, "fd"},
      {K::kPointer, "mask"},
      {K::kSize, "sizemask"},
      {K::kStatusFlags, "flags"}}},
    {"eventfd2", {{K::kUInt, "initval"}, {K::kEventfdFlags, "flags"}}},
    {"epoll_create1", {{K::kStatusFlags, "flags"}}},
    {"dup3",
     {{K::kFd, "oldfd"}, {K::kFd, "newfd"}, {K::kStatusFlags, "flags"}}},
    {"pipe2", {{K::kPointer, "pipefd"}, {K::kStatusFlags, "flags"}}},
    {"inotify_init1", {{K::kStatusFlags, "flags"}}},
    {"preadv",
     {{K::kFd, "fd"},
      {K::kPointer, "iov"},
      {K::kInt, "iovcnt"},
      {K::kLong, "pos_l"},
      {K::kLong, "pos_h"}}},
    {"pwritev",
     {{K::kFd, "fd"},
      {K::kPointer, "iov"},
      {K::kInt, "iovcnt"},
      {K::kLong, "pos_l"},
      {K::kLong, "pos_h"}}},
    {"rt_tgsigqueueinfo",
     {{K::kPid, "tgid"},
      {K::kPid, "tid"},
      {K::kSignal, "sig"},
      {K::kPointer, "info"}}},
    {"perf_event_open",
     {{K::kPointer, "attr"},
      {K::kPid, "pid"},
      {K::kInt, "cpu"},
      {K::kFd, "group_fd"},
      {K::kHex, "flags"}}},
    {"recvmmsg",
     {{K::kFd, "sockfd"},
      {K::kPointer, "msgvec"},
      {K::kUInt, "vlen"},
      {K::kMsgFlags, "flags"},
      {K::kPointer, "timeout"}}},
    {"fanotify_init", {{K::kHex, "flags"}, {K::kOpenFlags, "event_f_flags"}}},
    {"fanotify_mark",
     {{K::kFd, "fanotify_fd"},
      {K::kHex, "flags"},
      {K::kHex, "mask"},
      {K::kDirFd, "dirfd"},
      {K::kPath, "pathname"}}},
    {"prlimit64",
     {{K::kPid, "pid"},
      {K::kRlimitResource, "resource"},
      {K::kPointer, "new_limit"},
      {K::kPointer, "old_limit"}}},
    {"name_to_handle_at",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kPointer, "handle"},
      {K::kPointer, "mount_id"},
      {K::kAtFlags, "flags"}}},
    {"open_by_handle_at",
     {{K::kFd, "mount_fd"}, {K::kPointer, "handle"}, {K::kOpenFlags, "flags"}}},
    {"clock_adjtime", {{K::kClockId, "clockid"}, {K::kPointer, "tx"}}},
    {"syncfs", {{K::kFd, "fd"}}},
    {"sendmmsg",
     {{K::kFd, "sockfd"},
      {K::kPointer, "msgvec"},
      {K::kUInt, "vlen"},
      {K::kMsgFlags, "flags"}}},
    {"setns", {{K::kFd, "fd"}, {K::kNamespaceFlags, "nstype"}}},
    {"getcpu",
     {{K::kPointer, "cpu"}, {K::kPointer, "node"}, {K::kPointer, "tcache"}}},
    {"process_vm_readv",
     {{K::kPid, "pid"},
      {K::kPointer, "local_iov"},
      {K::kSize, "liovcnt"},
      {K::kPointer, "remote_iov"},
      {K::kSize, "riovcnt"},
      {K::kHex, "flags"}}},
    {"process_vm_writev",
     {{K::kPid, "pid"},
      {K::kPointer, "local_iov"},
      {K::kSize, "liovcnt"},
      {K::kPointer, "remote_iov"},
      {K::kSize, "riovcnt"},
      {K::kHex, "flags"}}},
    {"kcmp",
     {{K::kPid, "pid1"},
      {K::kPid, "pid2"},
      {K::kInt, "type"},
      {K::kHex, "idx1"},
      {K::kHex, "idx2"}}},
    {"finit_module",
     {{K::kFd, "fd"}, {K::kString, "param_values"}, {K::kHex, "flags"}}},
    {"sched_setattr",
     {{K::kPid, "pid"}, {K::kPointer, "attr"}, {K::kUInt, "flags"}}},
    {"sched_getattr",
     {{K::kPid, "pid"},
      {K::kPointer, "attr"},
      {K::kUInt, "size"},
      {K::kUInt, "flags"}}},
    {"renameat2",
     {{K::kDirFd, "olddirfd"},
      {K::kPath, "oldpath"},
      {K::kDirFd, "newdirfd"},
      {K::kPath, "newpath"},
      {K::kRenameFlags, "flags"}}},
    {"seccomp",
     {{K::kSeccompOp, "operation"},
      {K::kSeccompFlags, "flags"},
      {K::kPointer, "args"}}},
    {"getrandom",
     {{K::kPointer, "buf"},
      {K::kSize, "buflen"},
      {K::kGetrandomFlags, "flags"}}},
    {"memfd_create", {{K::kString, "name"}, {K::kMemfdFlags, "flags"}}},
    {"kexec_file_load",
     {{K::kFd, "kernel_fd"},
      {K::kFd, "initrd_fd"},
      {K::kSize, "cmdline_len"},
      {K::kString, "cmdline"},
      {K::kHex, "flags"}}},
    {"bpf", {{K::kBpfCmd, "cmd"}, {K::kPointer, "attr"}, {K::kUInt, "size"}}},
    {"execveat",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kArgv, "argv"},
      {K::kPointer, "envp"},
      {K::kAtFlags, "flags"}}},
    {"userfaultfd", {{K::kStatusFlags, "flags"}}},
    {"membarrier",
     {{K::kInt, "cmd"}, {K::kUInt, "flags"}, {K::kInt, "cpu_id"}}},
    {"mlock2", {{K::kPointer, "addr"}, {K::kSize, "len"}, {K::kHex, "flags"}}},
    {"copy_file_range",
     {{K::kFd, "fd_in"},
      {K::kPointer, "off_in"},
      {K::kFd, "fd_out"},
      {K::kPointer, "off_out"},
      {K::kSize, "len"},
      {K::kUInt, "flags"}}},
    {"preadv2",
     {{K::kFd, "fd"},
      {K::kPointer, "iov"},
      {K::kInt, "iovcnt"},
      {K::kLong, "pos_l"},
      {K::kLong, "pos_h"},
      {K::kHex, "flags"}}},
    {"pwritev2",
     {{K::kFd, "fd"},
      {K::kPointer, "iov"},
      {K::kInt, "iovcnt"},
      {K::kLong, "pos_l"},
      {K::kLong, "pos_h"},
      {K::kHex, "flags"}}},
    {"pkey_mprotect",
     {{K::kPointer, "addr"},
      {K::kSize, "len"},
      {K::kProt, "prot"},
      {K::kInt, "pkey"}}},
    {"pkey_alloc", {{K::kUInt, "flags"}, {K::kHex, "access_rights"}}},
    {"pkey_free", {{K::kInt, "pkey"}}},
    {"statx",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kAtFlags, "flags"},
      {K::kHex, "mask"},
      {K::kPointer, "statxbuf"}}},
    {"io_pgetevents",
     {{K::kHex, "ctx_id"},
      {K::kLong, "min_nr"},
      {K::kLong, "nr"},
      {K::kPointer, "events"},
      {K::kPointer, "timeout"},
      {K::kPointer, "usig"}}},
    {"rseq",
     {{K::kPointer, "rseq"},
      {K::kUInt, "rseq_len"},
      {K::kInt, "flags"},
      {K::kHex, "sig"}}},
    {"pidfd_send_signal",
     {{K::kFd, "pidfd"},
      {K::kSignal, "sig"},
      {K::kPointer, "info"},
      {K::kUInt, "flags"}}},
    {"io_uring_setup", {{K::kUInt, "entries"}, {K::kPointer, "p"}}},
    {"io_uring_enter",
     {{K::kFd, "fd"},
      {K::kUInt, "to_submit"},
      {K::kUInt, "min_complete"},
      {K::kHex, "flags"},
      {K::kPointer, "sig"},
      {K::kSize, "sigsz"}}},
    {"io_uring_register",
     {{K::kFd, "fd"},
      {K::kUInt, "opcode"},
      {K::kPointer, "arg"},
      {K::kUInt, "nr_args"}}},
    {"open_tree",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kAtFlags, "flags"}}},
    {"move_mount",
     {{K::kDirFd, "from_dirfd"},
      {K::kPath, "from_pathname"},
      {K::kDirFd, "to_dirfd"},
      {K::kPath, "to_pathname"},
      {K::kHex, "flags"}}},
    {"fsopen", {{K::kString, "fsname"}, {K::kHex, "flags"}}},
    {"fsconfig",
     {{K::kFd, "fd"},
      {K::kUInt, "cmd"},
      {K::kString, "key"},
      {K::kPointer, "value"},
      {K::kInt, "aux"}}},
    {"fsmount",
     {{K::kFd, "fs_fd"}, {K::kHex, "flags"}, {K::kHex, "attr_flags"}}},
    {"fspick",
     {{K::kDirFd, "dirfd"}, {K::kPath, "pathname"}, {K::kHex, "flags"}}},
    {"pidfd_open", {{K::kPid, "pid"}, {K::kStatusFlags, "flags"}}},
    {"clone3", {{K::kPointer, "cl_args"}, {K::kSize, "size"}}},
    {"close_range",
     {{K::kUInt, "first"}, {K::kUInt, "last"}, {K::kCloseRangeFlags, "flags"}}},
    {"openat2",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kPointer, "how"},
      {K::kSize, "size"}}},
    {"pidfd_getfd",
     {{K::kFd, "pidfd"}, {K::kFd, "targetfd"}, {K::kUInt, "flags"}}},
    {"faccessat2",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kAccessMode, "mode"},
      {K::kAtFlags, "flags"}}},
    {"process_madvise",
     {{K::kFd, "pidfd"},
      {K::kPointer, "iovec"},
      {K::kSize, "vlen"},
      {K::kMadvise, "advice"},
      {K::kUInt, "flags"}}},
    {"epoll_pwait2",
     {{K::kFd, "epfd"},
      {K::kPointer, "events"},
      {K::kInt, "maxevents"},
      {K::kPointer, "timeout"},
      {K::kPointer, "sigmask"},
      {K::kSize, "sigsetsize"}}},
    {"mount_setattr",
     {{K::kDirFd, "dirfd"},
      {K::kPath, "pathname"},
      {K::kAtFlags, "flags"},
      {K::kPointer, "attr"},
      {K::kSize, "size"}}},
    {"quotactl_fd",
     {{K::kFd, "fd"},
      {K::kHex, "cmd"},
      {K::kInt, "id"},
      {K::kPointer, "addr"}}},
    {"landlock_create_ruleset",
     {{K::kPointer, "attr"}, {K::kSize, "size"}, {K::kHex, "flags"}}},
    {"landlock_add_rule",
     {{K::kFd, "ruleset_fd"},
      {K::kInt, "rule_type"},
      {K::kPointer, "rule_attr"},
      {K::kHex, "flags"}}},
    {"landlock_restrict_self", {{K::kFd, "ruleset_fd"}, {K::kHex, "flags"}}},
    {"memfd_secret", {{K::kStatusFlags, "flags"}}},
    {"process_mrelease", {{K::kFd, "pidfd"}, {K::kUInt, "flags"}}},
    {"futex_waitv",
     {{K::kPointer, "waiters"},
      {K::kUInt, "nr_futexes"},
      {K::kUInt, "flags"},
      {K::kPointer, "timeout"},
      {K::kClockId, "clockid"}}},
    {"set_mempolicy_home_node",
     {{K::kPointer, "start"},
      {K::kSize, "len"},
      {K::kSize, "home_node"},
      {K::kSize, "flags"}}},
};

struct SignatureIndex {
  absl::flat_hash_map<int, const SyscallSignature*> by_number;
  absl::flat_hash_map<absl::string_view, const SyscallSignature*> by_name;
};

// Built once; names libseccomp does not know for x86-64 are left out.
const SignatureIndex& Index() {
  static const SignatureIndex* const index = [] {
    auto* index = new SignatureIndex();
    for (const SyscallSignature& signature : kSignatures) {
      index->by_name.emplace(signature.name, &signature);
      const int nr =
          seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, signature.name);
      if (nr >= 0) index->by_number.emplace(nr, &signature);
    }
    return index;
  }();
  return *index;
}

std::string SyscallNameOf(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
  if (name == nullptr) return absl::StrCat("syscall_", nr);
  std::string result = name;
  free(name);
  return result;
}

}  // namespace

int SyscallSignature::arg_count() const {
  int count = 0;
  while (count < 6 && args[count].kind != ArgKind::kNone) ++count;
  return count;
}

const SyscallSignature* FindSignature(int nr) {
  const auto& by_number = Index().by_number;
  auto it = by_number.find(nr);
  return it != by_number.end() ? it->second : nullptr;
}

const SyscallSignature* FindSignature(absl::string_view name) {
  const auto& by_name = Index().by_name;
  auto it = by_name.find(name);
  return it != by_name.end() ? it->second : nullptr;
}

bool IsSymbolic(ArgKind kind) {
  return static_cast<uint8_t>(kind) >=
         static_cast<uint8_t>(ArgKind::kOpenFlags);
}

int KeyArgument(const SyscallSignature& signature) {
  for (int i = 0; i < signature.arg_count(); ++i) {
    if (IsSymbolic(signature.args[i].kind)) return i;
  }
  return -1;
}

std::string DecodeArg(ArgKind kind, uint64_t value) {
  switch (kind) {
    case ArgKind::kNone:
    case ArgKind::kHex:
      return Hex(value);
    case ArgKind::kInt:
    case ArgKind::kFd:
    case ArgKind::kPid:
    case ArgKind::kProtocol:
    case ArgKind::kSocketOption:
      return absl::StrCat(Int32(value));
    case ArgKind::kUInt:
      return absl::StrCat(UInt32(value));
    case ArgKind::kLong:
      return absl::StrCat(static_cast<int64_t>(value));
    case ArgKind::kSize:
      return absl::StrCat(value);
    case ArgKind::kId:
      return UInt32(value) == UINT32_MAX ? "-1" : absl::StrCat(UInt32(value));
    case ArgKind::kDirFd:
      return Int32(value) == AT_FDCWD ? "AT_FDCWD" : absl::StrCat(Int32(value));
    case ArgKind::kOctalMode:
    case ArgKind::kCreateMode:
      return Octal(UInt32(value));
    case ArgKind::kMknodMode:
      return MknodMode(value);
    case ArgKind::kPointer:
    case ArgKind::kPath:
    case ArgKind::kString:
    case ArgKind::kArgv:
    case ArgKind::kSockaddr:
      return Pointer(value);
    case ArgKind::kOpenFlags:
      return OpenFlags(value);
    case ArgKind::kStatusFlags:
      return Flags(UInt32(value), kOpenFlags);
    case ArgKind::kAtFlags:
      return Flags(UInt32(value), kAtFlags);
    case ArgKind::kAccessMode:
      return Flags(UInt32(value), kAccessFlags, "F_OK");
    case ArgKind::kFdFlags:
      return Flags(UInt32(value), kFdFlags);
    case ArgKind::kFcntlCmd:
      return Enum(Int32(value), kFcntlCommands);
    case ArgKind::kFcntlArg:
    case ArgKind::kPrctlArg:
      return Hex(value);
    case ArgKind::kWhence:
      return Enum(Int32(value), kWhences);
    case ArgKind::kFlockOp:
      return Flags(UInt32(value), kFlockOps);
    case ArgKind::kRenameFlags:
      return Flags(UInt32(value), kRenameFlags);
    case ArgKind::kXattrFlags:
      return Flags(UInt32(value), kXattrFlags);
    case ArgKind::kSocketDomain:
      return Enum(Int32(value), kSocketDomains);
    case ArgKind::kSocketType:
      return SocketType(value);
    case ArgKind::kSocketLevel:
      return Enum(Int32(value), kSocketLevels);
    case ArgKind::kMsgFlags:
      return Flags(UInt32(value), kMsgFlags);
    case ArgKind::kShutdownHow:
      return Enum(Int32(value), kShutdownHows);
    case ArgKind::kProt:
      return Flags(value, kProtFlags, "PROT_NONE");
    case ArgKind::kMapFlags:
      return MapFlags(value);
    case ArgKind::kMremapFlags:
      return Flags(value, kMremapFlags);
    case ArgKind::kMsyncFlags:
      return Flags(UInt32(value), kMsyncFlags);
    case ArgKind::kMadvise:
      return Enum(Int32(value), kMadvices);
    case ArgKind::kMlockallFlags:
      return Flags(UInt32(value), kMlockallFlags);
    case ArgKind::kMemfdFlags:
      return Flags(UInt32(value), kMemfdFlags);
    case ArgKind::kCloneFlags:
      return CloneFlags(value);
    case ArgKind::kNamespaceFlags:
      return Flags(value, kNamespaceFlags);
    case ArgKind::kSignal:
      return SignalName(Int32(value));
    case ArgKind::kSigprocmaskHow:
      return Enum(Int32(value), kSigprocmaskHows);
    case ArgKind::kWaitOptions:
      return Flags(UInt32(value), kWaitOptions);
    case ArgKind::kIdType:
      return Enum(Int32(value), kIdTypes);
    case ArgKind::kIoctlRequest:
      return IoctlRequest(value);
    case ArgKind::kPrctlOption:
      return Enum(Int32(value), kPrctlOptions);
    case ArgKind::kArchPrctlCode:
      return Enum(Int32(value), kArchPrctlCodes);
    case ArgKind::kPtraceRequest:
      return Enum(static_cast<int64_t>(value), kPtraceRequests);
    case ArgKind::kSeccompOp:
      return Enum(UInt32(value), kSeccompOps);
    case ArgKind::kSeccompFlags:
      return Flags(UInt32(value), kSeccompFlags);
    case ArgKind::kBpfCmd:
      return Enum(Int32(value), kBpfCommands);
    case ArgKind::kFutexOp:
      return FutexOp(value);
    case ArgKind::kMountFlags:
      return MountFlags(value);
    case ArgKind::kUmountFlags:
      return Flags(UInt32(value), kUmountFlags);
    case ArgKind::kRlimitResource:
      return Enum(UInt32(value), kRlimitResources);
    case ArgKind::kClockId:
      return Enum(Int32(value), kClockIds);
    case ArgKind::kEpollOp:
      return Enum(Int32(value), kEpollOps);
    case ArgKind::kEventfdFlags:
      return Flags(UInt32(value), kEventfdFlags);
    case ArgKind::kGetrandomFlags:
      return Flags(UInt32(value), kGetrandomFlags);
    case ArgKind::kCloseRangeFlags:
      return Flags(UInt32(value), kCloseRangeFlags);
    case ArgKind::kPriorityWhich:
      return Enum(Int32(value), kPriorityWhiches);
    case ArgKind::kSchedPolicy:
      return SchedPolicy(value);
    case ArgKind::kItimerWhich:
      return Enum(Int32(value), kItimerWhiches);
  }
  return Hex(value);
}

std::string DecodeCall(int nr, absl::Span<const uint64_t> args,
                       MemoryReader* memory) {
  uint64_t values[6] = {};
  for (size_t i = 0; i < args.size() && i < 6; ++i) values[i] = args[i];
  const SyscallSignature* signature = FindSignature(nr);
  if (signature == nullptr) {
    return FormatRawCall(SyscallNameOf(nr), absl::MakeConstSpan(values));
  }
  // What later arguments depend on.
  int64_t domain = -1;
  int64_t level = -1;
  int64_t fcntl_command = -1;
  int64_t prctl_option = -1;
  bool creates = false;
  std::vector<std::string> decoded;
  for (int i = 0; i < signature->arg_count(); ++i) {
    const ArgKind kind = signature->args[i].kind;
    const uint64_t value = values[i];
    switch (kind) {
      case ArgKind::kPath:
      case ArgKind::kString:
        decoded.push_back(StringArg(memory, value));
        break;
      case ArgKind::kArgv:
        decoded.push_back(ArgvArg(memory, value));
        break;
      case ArgKind::kSockaddr:
        decoded.push_back(
            SockaddrArg(memory, value, i + 1 < 6 ? values[i + 1] : 0));
        break;
      case ArgKind::kCreateMode:
        // Without O_CREAT or O_TMPFILE the mode is whatever the register
        // held; nothing after it is read either.
        if (!creates) i = 6;
        if (creates) decoded.push_back(DecodeArg(kind, value));
        break;
      case ArgKind::kProtocol:
        decoded.push_back(Protocol(domain, value));
        break;
      case ArgKind::kSocketOption:
        decoded.push_back(SocketOption(level, value));
        break;
      case ArgKind::kFcntlArg: {
        std::optional<std::string> text = FcntlArg(fcntl_command, value);
        if (text.has_value()) decoded.push_back(*std::move(text));
        break;
      }
      case ArgKind::kPrctlArg:
        decoded.push_back(PrctlArg(prctl_option, value, memory));
        break;
      default:
        decoded.push_back(DecodeArg(kind, value));
    }
    switch (kind) {
      case ArgKind::kOpenFlags:
        creates = (UInt32(value) & O_CREAT) != 0 ||
                  (UInt32(value) & O_TMPFILE) == O_TMPFILE;
        break;
      case ArgKind::kSocketDomain:
        domain = Int32(value);
        break;
      case ArgKind::kSocketLevel:
        level = Int32(value);
        break;
      case ArgKind::kFcntlCmd:
        fcntl_command = Int32(value);
        break;
      case ArgKind::kPrctlOption:
        prctl_option = Int32(value);
        break;
      default:
        break;
    }
  }
  return absl::StrCat(signature->name, "(", absl::StrJoin(decoded, ", "), ")");
}

std::string FormatRawCall(absl::string_view name,
                          absl::Span<const uint64_t> args) {
  std::vector<std::string> hex;
  for (size_t i = 0; i < 6; ++i)
    hex.push_back(Hex(i < args.size() ? args[i] : 0));
  return absl::StrCat(name, "(", absl::StrJoin(hex, ", "), ")");
}

}  // namespace sandbox::internal
