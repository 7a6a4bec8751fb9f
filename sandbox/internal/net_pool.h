// Network namespaces recycled by the fork server, one live sandbox each.
//
// Creating a network namespace costs a spawn little; destroying one costs
// the machine a lot (cleanup_net in a kworker, expedited RCU). A fork server
// that can make namespaces and come back (root owning its own network
// namespace) keeps a bounded pool of empty ones, each with loopback up:
//
//   NetNamespacePool pool(home_net_fd);
//   const int slot = pool.Acquire();   // -1: clone with CLONE_NEWNET instead
//   // setns(pool.fd(slot)), clone without CLONE_NEWNET, setns back home
//   pool.Bind(slot, child_pidfd);       // -1 if no process was created
//
// A namespace serves one sandbox at a time. It goes back to the pool only
// when that sandbox's init has exited (its pid namespace, and so every
// process of the sandbox, is gone) and the namespace is found empty: no
// socket but the pool's own (no listener, bound port, abstract unix name,
// TIME_WAIT or orphaned connection), no lingering IPv6 flow label, no IP
// fragment queued, loopback still up; its TCP metrics cache is flushed.
// Anything else keeps it out (checked again at later spawns for 250 ms,
// then discarded). The pool's namespaces belong to the fork
// server's user namespace, so a sandbox (in a user namespace of its own, or
// without capabilities) holds no CAP_NET_ADMIN over them: it cannot change
// routes, addresses, interfaces or net sysctls at all. README.md, "Network
// namespaces recycled", argues the rest.

#ifndef SANDBOX_INTERNAL_NET_POOL_H_
#define SANDBOX_INTERNAL_NET_POOL_H_

#include <time.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/fd.h"

namespace sandbox::internal {

class NetNamespacePool {
 public:
  // At most this many namespaces, in use or free: more sandboxes alive at
  // once get fresh namespaces, as without the pool.
  static constexpr size_t kMaxNamespaces = 32;
  // How long a namespace whose sandbox has ended may take to pass the check
  // (a closed netlink socket counts until an RCU grace period has passed)
  // before it is discarded.
  static constexpr int64_t kSettleMs = 250;

  // `home_net_fd`: the server's own network namespace, to come back to
  // (not owned). The pool is disabled unless the server is root in the
  // initial user namespace and owns its network namespace (a container's
  // root cannot flush the TCP metrics cache): Acquire() then returns -1, as
  // it does from the first time a new namespace cannot be made or fails its
  // check.
  explicit NetNamespacePool(int home_net_fd);
  NetNamespacePool(const NetNamespacePool&) = delete;
  NetNamespacePool& operator=(const NetNamespacePool&) = delete;

  // A clean namespace for one sandbox: first takes back the namespaces whose
  // sandbox has ended (checked, or discarded), then a free one or a new one.
  // -1 if there is none (the pool disabled, full of live sandboxes, or a new
  // namespace failed).
  int Acquire();
  // The namespace of `slot`, for setns.
  int fd(int slot) const { return slots_[slot].ns.get(); }
  // The sandbox cloned into `slot` (its init's pidfd, duplicated), or -1 if
  // no process was created: the namespace is free again at once. Call right
  // after Acquire().
  void Bind(int slot, int pidfd);

  // Whether this process could pool: root in the initial user namespace,
  // owning its network namespace (for tests).
  static bool Possible();

 private:
  struct Slot {
    UniqueFd ns;
    // Opened inside the namespace: a /proc/<pid>/net file stays bound to
    // the namespace of the opener's thread, so pread from 0 reads this
    // namespace's tables from anywhere.
    UniqueFd sockstat;
    UniqueFd sockstat6;
    UniqueFd flowlabels;  // -1 without IPv6
    // A generic netlink socket made inside: flushes the TCP metrics cache
    // and reads loopback's flags. The one socket an empty namespace holds.
    UniqueFd netlink;
    // The live sandbox's init; invalid while free.
    UniqueFd owner;
    bool in_use = false;
    // Its sandbox has ended and it has not passed the check yet (since
    // `ended_at`).
    bool ended = false;
    struct timespec ended_at = {};
    // When its last sandbox ended, in the order the pool saw them.
    uint64_t ended_order = 0;
  };

  bool Make(Slot& slot);
  // Empty and unchanged, the TCP metrics flushed; false: discard it.
  bool Clean(Slot& slot);
  bool FlushTcpMetrics(Slot& slot);
  void Reclaim();

  const int home_net_fd_;
  // False where the server cannot pool, or once making a namespace failed.
  bool enabled_;
  int tcp_metrics_family_ = -1;
  uint32_t sequence_ = 0;
  uint64_t ended_count_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_NET_POOL_H_
