// What to run in a sandbox and how: value types, no system calls. The
// public API (sandbox.h) takes them; the spawn layer below it reads them.
//
//   Command command{.argv = {"/bin/sh", "-c", "echo hi"}};
//   command.fds.push_back({.host_fd = output_fd, .sandbox_fd = 1});

#ifndef SANDBOX_COMMAND_H_
#define SANDBOX_COMMAND_H_

#include <string>
#include <vector>

#include "sandbox/comms.h"

namespace sandbox {

struct FdMapping {
  // Descriptor in the host process; the sandbox gets a copy.
  int host_fd;
  // Number it has in the sandbox. Must be below limits.nofile.
  int sandbox_fd;
};

// Every member has a default initializer, so that a designated initializer
// naming only some of them (Command{.argv = ...}) leaves the rest at their
// defaults without gcc's -Wmissing-field-initializers.
struct Command {
  // argv[0] is the program: a path inside the sandbox, or a name looked up
  // in the PATH of the sandbox's environment (default
  // /usr/local/bin:/usr/bin:/bin).
  std::vector<std::string> argv = {};
  // "KEY=VALUE" added to the policy's environment (same key: this wins).
  // Nothing else of the host environment is passed.
  std::vector<std::string> env = {};
  // Working directory; empty: the policy's.
  std::string cwd = {};
  // The sandbox gets only these descriptors (`host_fd` of this process
  // becomes `sandbox_fd` there); every other one is closed. With
  // `inherit_stdio` it also gets the host's own 0, 1 and 2 (a mapping for 0,
  // 1 or 2 replaces the inherited one): off by default, since a terminal or
  // a socket on the host's stdio is a way out (sandbox-run turns it on).
  bool inherit_stdio = false;
  std::vector<FdMapping> fds = {};
  // A Comms channel to the sandboxee at this descriptor number (3 or above),
  // or -1 for none. The host's end is Sandbox::comms(), with
  // `comms_options` (its untrusted_peer is always set). Zygote workers
  // always get one (kWorkerCommsFd).
  int comms_fd = -1;
  CommsOptions comms_options = {};
  // Zygote mode: the name of a worker registered with RegisterWorker(); no
  // program is executed and argv must be empty.
  std::string worker = {};
};

// How the sandboxed process is created.
enum class SpawnMode {
  // Through the library's fork server (started on first use): the host pays
  // for a clone of a small process, and may have many threads.
  kForkServer,
  // clone3 from the calling process itself: no extra process, for one-shot
  // tools (sandbox-run). Safe in threaded hosts too (the child makes raw
  // system calls only), but the clone copies the host's page tables.
  kDirect,
};

}  // namespace sandbox

#endif  // SANDBOX_COMMAND_H_
