// The bridge behind `sandbox-run --afl`: afl-fuzz (AFL++ 4.04c) runs
// sandbox-run as its target and talks to it as to a fork server; the
// instrumented program runs in one sandbox, set up once, where its own fork
// server forks a child per input. Part of sandbox-run, not of the library.
//
//   afl-fuzz -i in -o out -- sandbox-run --afl --ro-bind ./t:/t -- /t @@
//
// What crosses: afl-fuzz's control and status pipes (descriptors 198 and
// 199) end here; afl-fuzz's System V coverage map (__AFL_SHM_ID) is attached
// here, in the host's IPC namespace, and never enters the sandbox. Inside,
// sandbox-afl-shim (internal/afl_shim_main.cc) makes a map in the sandbox's
// own IPC namespace for the program, starts it with pipes to the bridge on
// 198 and 199, sends one record (the map's address, pidfds of itself and
// the program) and then only waits. Per input the bridge zeroes that map
// and copies it into afl-fuzz's through /proc/<shim>/mem, opened while the
// kernel named the shim as a process of the sandbox. The @@ file is a copy
// the bridge writes before each input (afl-fuzz makes a new file for each),
// bound read-only at the path afl-fuzz named; a test case on stdin is
// afl-fuzz's file reopened read-only.
//
// afl-fuzz kills the pid the fork server reports when an input times out.
// The bridge reports a stand-in: a process of its own that only waits to
// be killed, and dies with the bridge. When afl-fuzz kills it, the bridge
// sends the same signal to the child the program's fork server named,
// found only then in the kernel's list of the fork server's children (by
// NSpid where it has several) and checked through a pidfd of the bridge's
// own to be the fork server's child; the signal goes through that pidfd.
// What the program claims is never passed on, and no pid is looked up per
// input. afl-fuzz's next `go` word says whether it killed, so a kill the
// bridge sees only after the status came is not passed on to the next
// input's child.
//
// Everything from the sandbox is hostile: words of four bytes gathered
// under deadlines, no wait without one once afl-fuzz has killed (the
// status must then follow within a grace period). A sandbox that ends
// during an input (a violation, a timeout of the policy), or breaks the
// protocol, ends that input as a crash (SIGSYS for a violation, else
// SIGKILL) and the bridge starts a fresh sandbox, so afl-fuzz goes on.

#ifndef SANDBOX_AFL_BRIDGE_H_
#define SANDBOX_AFL_BRIDGE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sandbox/policy.h"
#include "sandbox/policy.pb.h"

namespace sandbox {

class AflBridge {
 public:
  // Checks that afl-fuzz runs us (its pipes on 198 and 199, __AFL_SHM_ID),
  // attaches its map and edits `policy` for the run: the shim and the input
  // file bound read-only, sanitizer options and AFL's persistent/deferred
  // switches in the environment, and the calls AFL's runtime and the shim
  // make (see sandbox-run --help). `argv` is the program's. Returns
  // FailedPrecondition outside afl-fuzz or for a policy without its own pid
  // and IPC namespaces.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<AflBridge>> Create(
      std::vector<std::string> argv, const std::string& shim_path,
      proto::Policy& policy);

  ~AflBridge();
  AflBridge(const AflBridge&) = delete;
  AflBridge& operator=(const AflBridge&) = delete;

  // Serves afl-fuzz until it closes its control pipe (OK), or until a
  // sandbox cannot be started or its program's fork server cannot be
  // reached (the error; afl-fuzz then sees its fork server gone).
  [[nodiscard]] absl::Status Serve(const Policy& policy);

 private:
  class Impl;
  explicit AflBridge(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sandbox

#endif  // SANDBOX_AFL_BRIDGE_H_
