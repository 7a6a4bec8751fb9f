#include "sandbox/internal/net_pool.h"

#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/tcp_metrics.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "sandbox/internal/child_setup.h"
#include "sandbox/internal/spawn.h"

namespace sandbox::internal {
namespace {

// The pool's netlink socket binds this port id rather than letting the
// kernel pick the server's pid, which a sandbox could read in
// /proc/net/netlink. Each namespace has its own port space.
constexpr uint32_t kPoolPortId = 0x5b0c;

// The whole of a small /proc file read through a descriptor bound to the
// namespace; empty on failure.
std::string ReadAt(int fd) {
  char buffer[4096];
  const ssize_t n = pread(fd, buffer, sizeof(buffer), 0);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buffer)) return "";
  return std::string(buffer, static_cast<size_t>(n));
}

// The value after `key` on the line starting with `line`, e.g. ("TCP:",
// "tw") in "TCP: inuse 0 orphan 0 tw 0 alloc 1 mem 0"; -1 if absent.
int64_t Field(absl::string_view text, absl::string_view line,
              absl::string_view key) {
  for (absl::string_view row : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(row, line)) continue;
    // The line's label comes first: it is never a key.
    absl::string_view previous;
    for (absl::string_view word : absl::StrSplit(row, ' ', absl::SkipEmpty())) {
      int64_t value = -1;
      if (previous == key && absl::SimpleAtoi(word, &value)) return value;
      previous = word;
    }
  }
  return -1;
}

// One request to the kernel over `sock` and its single reply (an ack or
// the answer) into `reply`; false on any failure. The reply is already
// queued when sendto returns (generic netlink answers in the sender's
// context), so the receive never waits; only the kernel can write to this
// socket (generic netlink lets no unprivileged socket send to a port).
bool Transact(int sock, uint32_t sequence, void* request, size_t length,
              char* reply, size_t capacity, size_t& got) {
  struct nlmsghdr* header = static_cast<struct nlmsghdr*>(request);
  header->nlmsg_len = static_cast<uint32_t>(length);
  header->nlmsg_seq = sequence;
  header->nlmsg_pid = kPoolPortId;
  struct sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  if (sendto(sock, request, length, 0,
             reinterpret_cast<const sockaddr*>(&kernel),
             sizeof(kernel)) != static_cast<ssize_t>(length)) {
    return false;
  }
  const ssize_t n = recv(sock, reply, capacity, MSG_DONTWAIT);
  if (n < static_cast<ssize_t>(NLMSG_HDRLEN)) return false;
  const struct nlmsghdr* answer = reinterpret_cast<struct nlmsghdr*>(reply);
  if (!NLMSG_OK(answer, static_cast<uint32_t>(n)) ||
      answer->nlmsg_seq != sequence) {
    return false;
  }
  got = static_cast<size_t>(n);
  return true;
}

}  // namespace

// Flushing the TCP metrics cache (GENL_ADMIN_PERM) takes CAP_NET_ADMIN in
// the initial user namespace, whoever owns the network namespace: root in
// a container cannot, and its sandboxes get fresh namespaces.
bool NetNamespacePool::Possible() {
  return CanReturnToOwnNetNamespace() && InInitialUserNamespace();
}

NetNamespacePool::NetNamespacePool(int home_net_fd)
    : home_net_fd_(home_net_fd), enabled_(home_net_fd >= 0 && Possible()) {}

bool NetNamespacePool::Make(Slot& slot) {
  if (unshare(CLONE_NEWNET) != 0) return false;
  slot.ns.reset(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  slot.sockstat.reset(
      open("/proc/thread-self/net/sockstat", O_RDONLY | O_CLOEXEC));
  slot.sockstat6.reset(
      open("/proc/thread-self/net/sockstat6", O_RDONLY | O_CLOEXEC));
  slot.flowlabels.reset(
      open("/proc/thread-self/net/ip6_flowlabel", O_RDONLY | O_CLOEXEC));
  slot.netlink.reset(
      socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
  bool ok = slot.ns.valid() && slot.sockstat.valid() && slot.netlink.valid();
  if (ok) {
    struct sockaddr_nl self = {};
    self.nl_family = AF_NETLINK;
    self.nl_pid = kPoolPortId;
    ok = bind(slot.netlink.get(), reinterpret_cast<const sockaddr*>(&self),
              sizeof(self)) == 0;
  }
  // Loopback up, as a sandbox with its own namespace has it; the sandbox
  // could not bring it up itself (the namespace is not its user
  // namespace's).
  ok = ok && LoopbackUp() == 0;
  // Never clone another sandbox from the wrong namespace.
  if (setns(home_net_fd_, CLONE_NEWNET) != 0) _exit(3);
  // A freshly made namespace passes the same check as a returned one.
  return ok && Clean(slot);
}

bool NetNamespacePool::FlushTcpMetrics(Slot& slot) {
  char reply[4096];
  size_t got = 0;
  if (tcp_metrics_family_ < 0) {
    // The family's id is the same in every namespace: looked up once.
    struct {
      struct nlmsghdr header;
      struct genlmsghdr genl;
      struct nlattr name_attr;
      char name[sizeof(TCP_METRICS_GENL_NAME)];
      char pad[4];
    } request = {};
    request.header.nlmsg_type = GENL_ID_CTRL;
    request.header.nlmsg_flags = NLM_F_REQUEST;
    request.genl.cmd = CTRL_CMD_GETFAMILY;
    request.genl.version = 1;
    request.name_attr.nla_type = CTRL_ATTR_FAMILY_NAME;
    request.name_attr.nla_len =
        static_cast<uint16_t>(NLA_HDRLEN + sizeof(TCP_METRICS_GENL_NAME));
    memcpy(request.name, TCP_METRICS_GENL_NAME, sizeof(TCP_METRICS_GENL_NAME));
    const size_t length =
        NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(request.name_attr.nla_len);
    if (!Transact(slot.netlink.get(), ++sequence_, &request, length, reply,
                  sizeof(reply), got)) {
      return false;
    }
    const struct nlmsghdr* answer = reinterpret_cast<struct nlmsghdr*>(reply);
    if (answer->nlmsg_type != GENL_ID_CTRL) return false;
    size_t offset = NLMSG_HDRLEN + GENL_HDRLEN;
    while (offset + NLA_HDRLEN <= answer->nlmsg_len) {
      struct nlattr attr;
      memcpy(&attr, reply + offset, sizeof(attr));
      if (attr.nla_len < NLA_HDRLEN || offset + attr.nla_len > got) break;
      if (attr.nla_type == CTRL_ATTR_FAMILY_ID &&
          attr.nla_len >= NLA_HDRLEN + sizeof(uint16_t)) {
        uint16_t id = 0;
        memcpy(&id, reply + offset + NLA_HDRLEN, sizeof(id));
        tcp_metrics_family_ = id;
        break;
      }
      offset += NLA_ALIGN(attr.nla_len);
    }
    if (tcp_metrics_family_ < 0) return false;
  }
  // TCP_METRICS_CMD_DEL without an address flushes the whole cache (what a
  // sandbox's connections left: per-destination RTTs and Fast Open
  // cookies, which a later sandbox could read back).
  struct {
    struct nlmsghdr header;
    struct genlmsghdr genl;
  } flush = {};
  flush.header.nlmsg_type = static_cast<uint16_t>(tcp_metrics_family_);
  flush.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  flush.genl.cmd = TCP_METRICS_CMD_DEL;
  flush.genl.version = TCP_METRICS_GENL_VERSION;
  if (!Transact(slot.netlink.get(), ++sequence_, &flush,
                NLMSG_HDRLEN + GENL_HDRLEN, reply, sizeof(reply), got)) {
    return false;
  }
  const struct nlmsghdr* answer = reinterpret_cast<struct nlmsghdr*>(reply);
  if (answer->nlmsg_type != NLMSG_ERROR ||
      got < NLMSG_HDRLEN + sizeof(struct nlmsgerr)) {
    return false;
  }
  struct nlmsgerr ack;
  memcpy(&ack, reply + NLMSG_HDRLEN, sizeof(ack));
  return ack.error == 0;
}

bool NetNamespacePool::Clean(Slot& slot) {
  // Every socket of the namespace, of any family (listening, bound,
  // connected, abstract or unnamed unix, in flight in a message, held by a
  // process outside), is counted in "sockets: used"; ours is the one.
  // TIME_WAIT and request sockets are not full sockets: counted apart.
  const std::string v4 = ReadAt(slot.sockstat.get());
  if (Field(v4, "sockets:", "used") != 1 || Field(v4, "TCP:", "inuse") != 0 ||
      Field(v4, "TCP:", "orphan") != 0 || Field(v4, "TCP:", "tw") != 0 ||
      Field(v4, "UDP:", "inuse") != 0 || Field(v4, "RAW:", "inuse") != 0 ||
      Field(v4, "FRAG:", "inuse") != 0) {
    return false;
  }
  if (slot.sockstat6) {
    const std::string v6 = ReadAt(slot.sockstat6.get());
    if (Field(v6, "TCP6:", "inuse") != 0 || Field(v6, "UDP6:", "inuse") != 0 ||
        Field(v6, "RAW6:", "inuse") != 0 || Field(v6, "FRAG6:", "inuse") != 0) {
      return false;
    }
  }
  // IPv6 flow labels outlive their socket (6 s at least): the header line
  // only.
  if (slot.flowlabels) {
    const std::string labels = ReadAt(slot.flowlabels.get());
    if (labels.empty() || labels.find('\n') + 1 != labels.size()) return false;
  }
  // Loopback up, as it was made (the sandbox holds no NET_ADMIN over the
  // namespace to change it; this checks the claim).
  struct ifreq request = {};
  strcpy(request.ifr_name, "lo");
  if (ioctl(slot.netlink.get(), SIOCGIFFLAGS, &request) != 0 ||
      (request.ifr_flags & IFF_UP) == 0) {
    return false;
  }
  return FlushTcpMetrics(slot);
}

void NetNamespacePool::Reclaim() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  for (size_t i = 0; i < slots_.size();) {
    Slot& slot = slots_[i];
    if (slot.in_use) {
      struct pollfd ended = {slot.owner.get(), POLLIN, 0};
      if (poll(&ended, 1, 0) != 1) {
        ++i;
        continue;
      }
      // Its init has exited: the kernel killed and reaped the rest of its
      // pid namespace before that exit completed, and every exiting
      // process had closed its descriptors.
      slot.owner.reset();
      slot.in_use = false;
      slot.ended = true;
      slot.ended_at = now;
      slot.ended_order = ++ended_count_;
      if ((ended.revents & POLLIN) == 0) {
        slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
        continue;
      }
    }
    if (!slot.ended) {
      ++i;
      continue;
    }
    if (Clean(slot)) {
      slot.ended = false;
      ++i;
      continue;
    }
    // A closed netlink socket counts until an RCU grace period has passed:
    // the check is tried again at later spawns, for a while.
    const int64_t waited_ms = (now.tv_sec - slot.ended_at.tv_sec) * 1000 +
                              (now.tv_nsec - slot.ended_at.tv_nsec) / 1000000;
    if (waited_ms >= kSettleMs) {
      slots_.erase(slots_.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

int NetNamespacePool::Acquire() {
  if (!enabled_) return -1;
  Reclaim();
  // The namespace whose sandbox ended last: a spawn after a spawn gets the
  // same one.
  int newest = -1;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    if (!slot.in_use && !slot.ended &&
        (newest < 0 || slot.ended_order > slots_[newest].ended_order)) {
      newest = static_cast<int>(i);
    }
  }
  if (newest >= 0) {
    slots_[newest].in_use = true;
    return newest;
  }
  if (slots_.size() >= kMaxNamespaces) return -1;
  Slot slot;
  if (!Make(slot)) {
    // What failed once (a check this host cannot pass) would fail for every
    // spawn, each paying a namespace made and torn down for nothing.
    enabled_ = false;
    return -1;
  }
  slot.in_use = true;
  slots_.push_back(std::move(slot));
  return static_cast<int>(slots_.size() - 1);
}

void NetNamespacePool::Bind(int slot_index, int pidfd) {
  Slot& slot = slots_[slot_index];
  if (pidfd < 0) {
    slot.in_use = false;
    return;
  }
  slot.owner.reset(fcntl(pidfd, F_DUPFD_CLOEXEC, 0));
  if (!slot.owner) {
    // Without a way to see the sandbox end, never reuse the namespace.
    slots_.erase(slots_.begin() + slot_index);
  }
}

}  // namespace sandbox::internal
