// Recycled network namespaces (sandbox/internal/net_pool.h), attacked: a
// sandbox leaves everything it can in its network namespace, and the next
// sandbox from the same fork server must see none of it; a sandbox that
// leaves nothing hands its namespace on (as root; an unprivileged fork
// server cannot pool and gives each sandbox a fresh one, as before).
//
// This file has its own main(): the zygote must be started before anything
// else runs.

#include "sandbox/internal/net_pool.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/in6.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sandbox/comms.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"
#include "tests/test_util.h"

namespace sandbox {
namespace {

using ::sandbox::testing::BuildOrFail;
using ::sandbox::testing::DefaultPolicyBuilder;
using ::sandbox::testing::IsOk;
using ::sandbox::testing::MustRegister;
using ::sandbox::testing::RunTestee;
using ::sandbox::testing::SpawnWorker;
using ::sandbox::testing::TesteePolicy;
using ::sandbox::testing::WaitOrDie;

// What sandbox A leaves and sandbox B looks for.
constexpr uint16_t kTcpPort = 47011;
constexpr uint16_t kUdpPort = 47012;
constexpr uint32_t kFlowLabel = 0x5b0c1;

// --- Workers (sandboxees) ---

std::string ErrnoOr(bool ok, const char* success) {
  return ok ? success : strerrorname_np(errno);
}

struct sockaddr_in Loopback(uint16_t port) {
  struct sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

socklen_t AbstractAddress(const std::string& name, struct sockaddr_un& out) {
  out = {};
  out.sun_family = AF_UNIX;
  out.sun_path[0] = '\0';
  memcpy(out.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + 1 +
                                name.size());
}

std::string NetInode() {
  struct stat st;
  return stat("/proc/self/ns/net", &st) == 0 ? absl::StrCat(st.st_ino) : "-1";
}

// An IPv6 flow label that outlives its socket (6 s): created, or with
// `exclusive`, created only if no one holds it.
bool GetFlowLabel(bool exclusive) {
  const int sock = socket(AF_INET6, SOCK_DGRAM, 0);
  if (sock < 0) return false;
  struct in6_flowlabel_req request = {};
  inet_pton(AF_INET6, "::1", &request.flr_dst);
  request.flr_label = htonl(kFlowLabel);
  request.flr_action = IPV6_FL_A_GET;
  request.flr_flags = IPV6_FL_F_CREATE | (exclusive ? IPV6_FL_F_EXCL : 0);
  request.flr_share = IPV6_FL_S_ANY;
  const bool ok = setsockopt(sock, IPPROTO_IPV6, IPV6_FLOWLABEL_MGR, &request,
                             sizeof(request)) == 0;
  const int error = errno;
  close(sock);
  errno = error;
  return ok;
}

// A TCP listener on a free loopback port, its address in `address`; -1 on
// failure.
int ListenOnLoopback(struct sockaddr_in* address, socklen_t* length) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  *address = Loopback(0);
  *length = sizeof(*address);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<sockaddr*>(address), *length) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(address), length) !=
          0) {
    return -1;
  }
  return listener;
}

// A TIME_WAIT connection on loopback: the accepted side closes first.
bool LeaveTimeWait() {
  struct sockaddr_in address;
  socklen_t length;
  const int listener = ListenOnLoopback(&address, &length);
  if (listener < 0) return false;
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(client, reinterpret_cast<sockaddr*>(&address), length) != 0) {
    return false;
  }
  const int accepted = accept(listener, nullptr, nullptr);
  if (accepted < 0) return false;
  close(accepted);
  char byte;
  // The FIN has arrived once read sees the end.
  if (read(client, &byte, 1) != 0) return false;
  close(client);
  close(listener);
  return true;
}

// A TCP Fast Open attempt on loopback, both ends then reset: no socket and
// no TIME_WAIT stays, only the namespace's TCP metrics entry for
// 127.0.0.1 (its Fast Open MSS), which a later sandbox allowed netlink
// could read.
bool LeaveFastOpenEntry() {
  struct sockaddr_in address;
  socklen_t length;
  const int listener = ListenOnLoopback(&address, &length);
  if (listener < 0) return false;
  const int client = socket(AF_INET, SOCK_STREAM, 0);
  if (sendto(client, "x", 1, MSG_FASTOPEN,
             reinterpret_cast<sockaddr*>(&address), length) != 1) {
    return false;
  }
  const int accepted = accept(listener, nullptr, nullptr);
  if (accepted < 0) return false;
  const struct linger reset = {1, 0};
  setsockopt(client, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  setsockopt(accepted, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  close(client);
  close(accepted);
  close(listener);
  return true;
}

// Sandbox A: leaves a TCP listener, a bound UDP port and an abstract unix
// name (their descriptors handed to the host, which keeps them, as any
// other holder outside the sandbox could), a TIME_WAIT and a lingering flow
// label, and tries to change the namespace itself. Reports what each got.
int NetLeaveWorker(Comms& comms) {
  absl::StatusOr<std::string> name = comms.RecvString();
  absl::StatusOr<std::string> hand_out = comms.RecvString();
  if (!name.ok() || !hand_out.ok()) return 2;
  if (*hand_out == "fast_open_only") {
    (void)comms
        .SendString(absl::StrCat("net=", NetInode(), " ",
                                 ErrnoOr(LeaveFastOpenEntry(), "fast_open=ok")))
        .ok();
    return 0;
  }
  std::vector<std::string> report = {absl::StrCat("net=", NetInode())};
  const int tcp = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in tcp_address = Loopback(kTcpPort);
  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in udp_address = Loopback(kUdpPort);
  const int unix_socket = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un unix_address;
  const socklen_t unix_length = AbstractAddress(*name, unix_address);
  report.push_back(
      ErrnoOr(bind(tcp, reinterpret_cast<sockaddr*>(&tcp_address),
                   sizeof(tcp_address)) == 0 &&
                  listen(tcp, 4) == 0 &&
                  bind(udp, reinterpret_cast<sockaddr*>(&udp_address),
                       sizeof(udp_address)) == 0 &&
                  bind(unix_socket, reinterpret_cast<sockaddr*>(&unix_address),
                       unix_length) == 0,
              "bound=ok"));
  report.push_back(ErrnoOr(LeaveTimeWait(), "time_wait=ok"));
  report.push_back(ErrnoOr(GetFlowLabel(false), "flowlabel=ok"));
  // What needs NET_ADMIN over the namespace: a route, loopback down, a net
  // sysctl.
  const int control = socket(AF_INET, SOCK_DGRAM, 0);
  struct rtentry route = {};
  struct sockaddr_in* destination =
      reinterpret_cast<struct sockaddr_in*>(&route.rt_dst);
  *destination = Loopback(0);
  inet_pton(AF_INET, "10.66.0.0", &destination->sin_addr);
  struct sockaddr_in* mask =
      reinterpret_cast<struct sockaddr_in*>(&route.rt_genmask);
  *mask = Loopback(0);
  inet_pton(AF_INET, "255.255.0.0", &mask->sin_addr);
  char device[] = "lo";
  route.rt_dev = device;
  route.rt_flags = RTF_UP;
  report.push_back(absl::StrCat(
      "route=", ErrnoOr(ioctl(control, SIOCADDRT, &route) == 0, "added")));
  struct ifreq interface = {};
  strcpy(interface.ifr_name, "lo");
  interface.ifr_flags = 0;
  report.push_back(absl::StrCat(
      "lo_down=",
      ErrnoOr(ioctl(control, SIOCSIFFLAGS, &interface) == 0, "done")));
  const int sysctl =
      open("/proc/sys/net/ipv4/ip_local_port_range", O_WRONLY | O_CLOEXEC);
  report.push_back(absl::StrCat(
      "sysctl=", ErrnoOr(sysctl >= 0 && write(sysctl, "40000 40001", 11) == 11,
                         "written")));
  // Kept alive outside the sandbox after it ends.
  if (*hand_out == "hand_out") {
    const bool sent = comms.SendFd(tcp).ok() && comms.SendFd(udp).ok() &&
                      comms.SendFd(unix_socket).ok();
    report.push_back(sent ? "sent=ok" : "sent=failed");
  }
  (void)comms.SendString(absl::StrJoin(report, " ")).ok();
  return 0;
}

std::string SockstatField(const std::string& line, const std::string& key) {
  const int fd = open("/proc/self/net/sockstat", O_RDONLY | O_CLOEXEC);
  char buffer[2048] = {};
  const ssize_t n = fd < 0 ? -1 : read(fd, buffer, sizeof(buffer) - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return "unreadable";
  for (absl::string_view row : absl::StrSplit(buffer, '\n')) {
    if (!absl::StartsWith(row, line)) continue;
    std::vector<std::string> words = absl::StrSplit(row, ' ');
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == key) return words[i + 1];
    }
  }
  return "absent";
}

std::string ReadSmall(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  char buffer[256] = {};
  const ssize_t n = fd < 0 ? -1 : read(fd, buffer, sizeof(buffer) - 1);
  if (fd >= 0) close(fd);
  if (n <= 0) return "unreadable";
  std::string text(buffer, n);
  for (char& c : text) {
    if (c == '\t' || c == '\n' || c == ' ') c = '_';
  }
  return text;
}

// Sandbox B: what it finds of A's.
int NetProbeWorker(Comms& comms) {
  absl::StatusOr<std::string> name = comms.RecvString();
  if (!name.ok()) return 2;
  std::vector<std::string> report = {absl::StrCat("net=", NetInode())};
  // Before any socket of ours.
  report.push_back(absl::StrCat("tw=", SockstatField("TCP:", "tw")));
  report.push_back(absl::StrCat("tcp_inuse=", SockstatField("TCP:", "inuse")));
  const int tcp = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in tcp_address = Loopback(kTcpPort);
  report.push_back(absl::StrCat(
      "connect=",
      ErrnoOr(connect(tcp, reinterpret_cast<sockaddr*>(&tcp_address),
                      sizeof(tcp_address)) == 0,
              "connected")));
  const int udp = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in udp_address = Loopback(kUdpPort);
  report.push_back(absl::StrCat(
      "udp_bind=", ErrnoOr(bind(udp, reinterpret_cast<sockaddr*>(&udp_address),
                                sizeof(udp_address)) == 0,
                           "ok")));
  const int unix_socket = socket(AF_UNIX, SOCK_DGRAM, 0);
  struct sockaddr_un unix_address;
  const socklen_t unix_length = AbstractAddress(*name, unix_address);
  report.push_back(absl::StrCat(
      "abstract_bind=",
      ErrnoOr(bind(unix_socket, reinterpret_cast<sockaddr*>(&unix_address),
                   unix_length) == 0,
              "ok")));
  report.push_back(
      absl::StrCat("flowlabel=", ErrnoOr(GetFlowLabel(true), "ok")));
  struct ifreq interface = {};
  strcpy(interface.ifr_name, "lo");
  const bool flags = ioctl(udp, SIOCGIFFLAGS, &interface) == 0;
  report.push_back(absl::StrCat("lo=", !flags ? "unknown"
                                       : (interface.ifr_flags & IFF_UP) != 0
                                           ? "up"
                                           : "down"));
  report.push_back(absl::StrCat(
      "port_range=", ReadSmall("/proc/sys/net/ipv4/ip_local_port_range")));
  report.push_back(
      absl::StrCat("routes=", ReadSmall("/proc/self/net/route").size()));
  (void)comms.SendString(absl::StrJoin(report, " ")).ok();
  return 0;
}

// Descriptors of the fork server's pool that reached this process: a
// namespace, a pidfd, a /proc file, a netlink socket. Their names, joined.
std::string PoolDescriptors() {
  std::string found;
  for (int fd = 0; fd < 4096; ++fd) {
    if (fcntl(fd, F_GETFD) < 0) continue;
    char target[256] = {};
    const std::string link = absl::StrCat("/proc/self/fd/", fd);
    if (readlink(link.c_str(), target, sizeof(target) - 1) < 0) continue;
    const absl::string_view name = target;
    int domain = 0;
    socklen_t length = sizeof(domain);
    const bool netlink =
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) == 0 &&
        domain == AF_NETLINK;
    if (netlink || absl::StartsWith(name, "net:") ||
        absl::StrContains(name, "pidfd") || absl::StartsWith(name, "/proc") ||
        absl::StrContains(name, "sockstat") ||
        absl::StrContains(name, "flowlabel")) {
      absl::StrAppend(&found, found.empty() ? "" : ",", fd, ":", name);
    }
  }
  return found.empty() ? "none" : found;
}

// Reports its network namespace and what it got of the pool's
// descriptors, and leaves nothing.
int NetQuietWorker(Comms& comms) {
  (void)comms.SendString(NetInode()).ok();
  (void)comms.SendString(PoolDescriptors()).ok();
  return 0;
}

// Reports its network namespace, then stays until the host says.
int NetHoldWorker(Comms& comms) {
  (void)comms.SendString(NetInode()).ok();
  (void)comms.RecvString().ok();
  return 0;
}

void RegisterNetWorkers() {
  MustRegister("net_leave", NetLeaveWorker);
  MustRegister("net_probe", NetProbeWorker);
  MustRegister("net_quiet", NetQuietWorker);
  MustRegister("net_hold", NetHoldWorker);
}

// --- Host side ---

std::map<std::string, std::string> Report(const std::string& text) {
  std::map<std::string, std::string> values;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    std::vector<std::string> kv = absl::StrSplit(word, absl::MaxSplits('=', 1));
    values[kv[0]] = kv.size() > 1 ? kv[1] : "";
  }
  return values;
}

// Runs a worker that gets `name` and answers one string.
std::string RunWorker(const Policy& policy, const std::string& worker,
                      const std::string& name,
                      std::vector<UniqueFd>* kept = nullptr,
                      absl::string_view mode = "keep") {
  std::unique_ptr<Sandbox> sandbox = SpawnWorker(policy, worker);
  if (sandbox == nullptr) return "";
  EXPECT_THAT(sandbox->comms()->SendString(name), IsOk());
  if (worker == "net_leave") {
    EXPECT_THAT(sandbox->comms()->SendString(
                    kept != nullptr ? "hand_out" : std::string(mode)),
                IsOk());
  }
  if (kept != nullptr) {
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<UniqueFd> fd = sandbox->comms()->RecvFd();
      EXPECT_THAT(fd, IsOk());
      if (fd.ok()) kept->push_back(*std::move(fd));
    }
  }
  absl::StatusOr<std::string> report = sandbox->comms()->RecvString();
  EXPECT_THAT(report, IsOk());
  if (worker == "net_quiet") {
    // Taken while the namespace is in use and the pool holds its pidfd.
    absl::StatusOr<std::string> descriptors = sandbox->comms()->RecvString();
    EXPECT_EQ(descriptors.value_or("unreadable"), "none");
  }
  const proto::Result result = WaitOrDie(*sandbox);
  EXPECT_EQ(result.status(), proto::Result::OK) << result.DebugString();
  return report.ok() ? *report : "";
}

// What B must find wherever A's namespace went: nothing of A's.
void ExpectNothingOf(const std::map<std::string, std::string>& a,
                     std::map<std::string, std::string> b) {
  EXPECT_NE(b["net"], a.at("net")) << "A's namespace was handed on";
  EXPECT_EQ(b["connect"], "ECONNREFUSED");
  EXPECT_EQ(b["udp_bind"], "ok");
  EXPECT_EQ(b["abstract_bind"], "ok");
  EXPECT_EQ(b["flowlabel"], "ok");
  EXPECT_EQ(b["tw"], "0");
  EXPECT_EQ(b["tcp_inuse"], "0");
  EXPECT_EQ(b["lo"], "up");
  EXPECT_EQ(b["port_range"], "32768_60999_");
  // The header line of an empty main table.
  EXPECT_EQ(b["routes"], "128");
}

// A's attempts on the namespace itself, which fail pooled or not.
void ExpectNamespaceUntouched(std::map<std::string, std::string> a) {
  std::string all;
  for (const auto& [key, value] : a)
    absl::StrAppend(&all, key, "=", value, " ");
  ASSERT_EQ(a["bound"], "ok") << "A could not set up its sockets: " << all;
  ASSERT_EQ(a["time_wait"], "ok");
  ASSERT_EQ(a["flowlabel"], "ok");
  EXPECT_EQ(a["route"], "EPERM");
  EXPECT_EQ(a["lo_down"], "EPERM");
  EXPECT_NE(a["sysctl"], "written");
}

TEST(NetPoolTest, SocketsKeptAliveOutsideKeepANamespaceOutOfThePool) {
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  const std::string name = absl::StrCat("sandbox-net-pool-", getpid());
  // The host keeps A's listener, UDP socket and abstract unix socket open
  // after A has ended, as anything outside the sandbox holding them could.
  std::vector<UniqueFd> kept;
  const std::map<std::string, std::string> a =
      Report(RunWorker(policy, "net_leave", name, &kept));
  ExpectNamespaceUntouched(a);
  ASSERT_EQ(a.at("sent"), "ok");
  ASSERT_EQ(kept.size(), 3u);
  ExpectNothingOf(a, Report(RunWorker(policy, "net_probe", name)));
}

TEST(NetPoolTest, WhatOutlivesASandboxKeepsItsNamespaceOutOfThePool) {
  // A's sockets die with it; its TIME_WAIT and its flow label (6 s) stay.
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  const std::string name = absl::StrCat("sandbox-net-pool-", getpid());
  const std::map<std::string, std::string> a =
      Report(RunWorker(policy, "net_leave", name));
  ExpectNamespaceUntouched(a);
  ExpectNothingOf(a, Report(RunWorker(policy, "net_probe", name)));
}

TEST(NetPoolTest, TheTcpMetricsASandboxLeftAreFlushedBeforeReuse) {
  // A Fast Open attempt leaves nothing but an entry in the namespace's TCP
  // metrics cache: the namespace passes the socket checks and, pooled, is
  // reused, with the cache flushed. Unprivileged, B's namespace is fresh.
  const bool pooled = internal::NetNamespacePool::Possible();
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  const std::map<std::string, std::string> a =
      Report(RunWorker(policy, "net_leave", "", nullptr, "fast_open_only"));
  ASSERT_EQ(a.count("fast_open"), 1u) << "A's Fast Open failed";
  ASSERT_EQ(a.at("fast_open"), "ok");
  std::unique_ptr<Sandbox> b = SpawnWorker(policy, "net_hold");
  ASSERT_NE(b, nullptr);
  absl::StatusOr<std::string> b_net = b->comms()->RecvString();
  ASSERT_THAT(b_net, IsOk());
  if (pooled) {
    EXPECT_EQ(*b_net, a.at("net"))
        << "A left nothing else, yet its namespace was not reused";
    // What a sandbox allowed netlink would dump: nothing.
    testing::ProgramRun dump = testing::RunHostProgram(
        "/usr/bin/nsenter", {absl::StrCat("--net=/proc/", b->pid(), "/ns/net"),
                             "/usr/sbin/ip", "tcp_metrics", "show"});
    EXPECT_EQ(dump.exit_status, 0) << dump.err;
    EXPECT_EQ(dump.out, "");
  } else {
    EXPECT_NE(*b_net, a.at("net"));
  }
  ASSERT_THAT(b->comms()->SendString("done"), IsOk());
  EXPECT_EQ(WaitOrDie(*b).status(), proto::Result::OK);
}

TEST(NetPoolTest, AnEmptyNamespaceServesTheNextSandbox) {
  // Pooling needs a fork server that can make a namespace and come back:
  // root owning its network namespace. Otherwise each sandbox gets a fresh
  // one, as without the pool.
  const bool pooled = internal::NetNamespacePool::Possible();
  const Policy policy = BuildOrFail(DefaultPolicyBuilder());
  const std::string first = RunWorker(policy, "net_quiet", "");
  const std::string second = RunWorker(policy, "net_quiet", "");
  ASSERT_FALSE(first.empty());
  if (pooled) {
    EXPECT_EQ(first, second) << "an empty namespace was not reused";
  } else {
    EXPECT_NE(first, second);
  }
  // Two alive at once never share one.
  std::unique_ptr<Sandbox> one = SpawnWorker(policy, "net_quiet");
  std::unique_ptr<Sandbox> two = SpawnWorker(policy, "net_quiet");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(two, nullptr);
  absl::StatusOr<std::string> one_net = one->comms()->RecvString();
  absl::StatusOr<std::string> two_net = two->comms()->RecvString();
  for (Sandbox* sandbox : {one.get(), two.get()}) {
    absl::StatusOr<std::string> descriptors = sandbox->comms()->RecvString();
    ASSERT_THAT(descriptors, IsOk());
    EXPECT_EQ(*descriptors, "none");
  }
  ASSERT_THAT(one_net, IsOk());
  ASSERT_THAT(two_net, IsOk());
  EXPECT_NE(*one_net, *two_net);
  EXPECT_EQ(WaitOrDie(*one).status(), proto::Result::OK);
  EXPECT_EQ(WaitOrDie(*two).status(), proto::Result::OK);
  // The host's own is never one of them.
  EXPECT_NE(*one_net, testing::HostNamespaceInode("net"));
}

TEST(NetPoolTest, ExecModeSandboxesReuseAnEmptyNamespaceToo) {
  const bool pooled = internal::NetNamespacePool::Possible();
  const Policy policy = BuildOrFail(TesteePolicy());
  testing::TesteeRun first = RunTestee(policy, {"ns", "report"});
  testing::TesteeRun second = RunTestee(policy, {"ns", "report"});
  ASSERT_EQ(first.result.status(), proto::Result::OK);
  ASSERT_EQ(second.result.status(), proto::Result::OK);
  ASSERT_FALSE(first.values["ns_net"].empty());
  EXPECT_NE(first.values["ns_net"], testing::HostNamespaceInode("net"));
  EXPECT_EQ(first.values["interfaces"], "lo");
  if (pooled) {
    EXPECT_EQ(first.values["ns_net"], second.values["ns_net"]);
  } else {
    EXPECT_NE(first.values["ns_net"], second.values["ns_net"]);
  }
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) {
  sandbox::RegisterNetWorkers();
  if (absl::Status status = sandbox::InitForkServer(argc, argv); !status.ok()) {
    fprintf(stderr, "InitForkServer: %s\n", status.ToString().c_str());
    return 1;
  }
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
