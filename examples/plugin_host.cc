// plugin_host: runs a third-party plugin binary in a sandbox and talks to it
// in protobuf messages.
//
// Use case: an application with plugins it did not write (format
// converters, filters, editor extensions). Each plugin is a separate
// program run in exec mode: bound read-only at /plugin inside a sandbox
// under the shipped policy policies/plugin.textproto (tighter than the
// default: no network, no new processes, a 4M /tmp, a short system-call
// list), with a Comms channel at its descriptor 3 (Command::comms_fd). The
// host sends PluginRequests and reads PluginReplies (examples/plugin.proto).
//
// What it shows:
//   1. requests and replies round-trip; the plugin exits 0 when the host
//      closes the channel;
//   2. a second plugin instance asked to open a TCP socket (as a
//      compromised plugin would) ends as a VIOLATION naming socket.
//
//   build/bin/plugin_host [--policy FILE] [--plugin FILE] [TEXT...]
//
// By default the policy is ../share/sandbox/policies/plugin.textproto and
// the plugin is ./plugin, both relative to this executable (the build tree
// and the install tree agree). TEXT... are the requests (two demo sentences
// otherwise). Exits 0 only if both outcomes are as described.

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "examples/plugin.pb.h"
#include "sandbox/comms.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"

namespace {

using sandbox::examples::PluginReply;
using sandbox::examples::PluginRequest;

// Where the plugin sits inside the sandbox.
constexpr char kSandboxPlugin[] = "/plugin";
// How long the host waits for one reply before it gives up on the plugin.
constexpr absl::Duration kReplyTimeout = absl::Seconds(5);

std::string ExecutableDir() {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return ".";
  const std::string path(self, n);
  return path.substr(0, path.rfind('/'));
}

absl::StatusOr<std::unique_ptr<sandbox::Sandbox>> StartPlugin(
    const sandbox::Policy& policy) {
  sandbox::Command command;
  command.argv = {kSandboxPlugin};
  command.comms_fd = 3;
  // Its stderr for diagnostics, nothing else of ours.
  command.inherit_stdio = false;
  command.fds.push_back({STDERR_FILENO, STDERR_FILENO});
  return sandbox::Sandbox::Spawn(policy, command);
}

std::string Describe(const sandbox::proto::Result& result) {
  switch (result.status()) {
    case sandbox::proto::Result::OK:
      return absl::StrCat("exited ", result.exit_code());
    case sandbox::proto::Result::SIGNALED:
      return absl::StrCat("killed by signal ", result.signal());
    case sandbox::proto::Result::VIOLATION:
      return absl::StrCat("violation: ", result.violation().decoded());
    case sandbox::proto::Result::SETUP_ERROR:
      return absl::StrCat("setup error: ", result.setup_error().message());
    default:
      return sandbox::proto::Result::Status_Name(result.status());
  }
}

// One request, one reply. The Sandbox acts on a violation (and on its
// wall-time limit) only inside Wait() and WaitFor(), so while the host waits
// for the reply it keeps calling WaitFor() too: a plugin stopped at a
// forbidden call is then killed at once, and its channel reports that.
absl::StatusOr<PluginReply> Ask(sandbox::Sandbox& plugin,
                                const PluginRequest& request) {
  sandbox::Comms& comms = *plugin.comms();
  if (absl::Status sent = comms.SendProto(request); !sent.ok()) return sent;
  const absl::Time deadline = absl::Now() + kReplyTimeout;
  for (;;) {
    struct pollfd ready = {comms.fd(), POLLIN, 0};
    if (poll(&ready, 1, 20) == 1) break;
    // Not ZeroDuration: WaitFor() with a deadline already passed returns
    // before looking at the sandbox at all.
    absl::StatusOr<std::optional<sandbox::proto::Result>> ended =
        plugin.WaitFor(absl::Milliseconds(1));
    if (!ended.ok()) return ended.status();
    if (ended->has_value()) break;  // what it sent first is still readable
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError("the plugin did not reply in time");
    }
  }
  PluginReply reply;
  if (absl::Status got = comms.RecvProto(&reply); !got.ok()) return got;
  return reply;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "plugin_host: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string policy_path =
      ExecutableDir() + "/../share/sandbox/policies/plugin.textproto";
  std::string plugin_path = ExecutableDir() + "/plugin";
  std::vector<std::string> texts;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--policy" || arg == "--plugin") && i + 1 < argc) {
      (arg == "--policy" ? policy_path : plugin_path) = argv[++i];
    } else if (arg.rfind("--", 0) == 0) {
      std::fprintf(stderr,
                   "usage: plugin_host [--policy FILE] [--plugin FILE] "
                   "[TEXT...]\n");
      return 2;
    } else {
      texts.push_back(arg);
    }
  }
  if (texts.empty()) {
    texts = {"hello from the host", "plugins run sandboxed and speak protobuf"};
  }

  absl::StatusOr<sandbox::PolicyBuilder> builder =
      sandbox::PolicyBuilder::FromTextFile(policy_path);
  if (!builder.ok()) return Fail(builder.status().ToString());
  // The host's own file, or one its user named: follow links on its path
  // as sandbox-run does (magic links never are).
  builder->AddBind(plugin_path, kSandboxPlugin, sandbox::MountMode::kReadOnly,
                   sandbox::SymlinkMode::kFollow);
  absl::StatusOr<sandbox::Policy> policy = builder->Build();
  if (!policy.ok()) return Fail(policy.status().ToString());
  std::printf("policy %s, plugin %s at %s\n", policy_path.c_str(),
              plugin_path.c_str(), kSandboxPlugin);

  // 1. A well-behaved exchange.
  absl::StatusOr<std::unique_ptr<sandbox::Sandbox>> plugin =
      StartPlugin(*policy);
  if (!plugin.ok()) return Fail(plugin.status().ToString());
  bool as_expected = true;
  for (const std::string& text : texts) {
    PluginRequest request;
    request.set_text(text);
    absl::StatusOr<PluginReply> reply = Ask(**plugin, request);
    if (!reply.ok()) {
      std::printf("\"%s\": %s\n", text.c_str(),
                  reply.status().ToString().c_str());
      as_expected = false;
      break;
    }
    std::printf("\"%s\" -> \"%s\", %d words\n", text.c_str(),
                reply->upper().c_str(), reply->words());
  }
  // Closing our side tells the plugin we are done.
  shutdown((*plugin)->comms()->fd(), SHUT_WR);
  absl::StatusOr<std::optional<sandbox::proto::Result>> done =
      (*plugin)->WaitFor(absl::Seconds(10));
  if (!done.ok()) return Fail(done.status().ToString());
  if (!done->has_value()) {
    (*plugin)->Kill().IgnoreError();
    return Fail("the plugin did not exit after the channel closed");
  }
  std::printf("plugin: %s\n", Describe(**done).c_str());
  if ((*done)->status() == sandbox::proto::Result::SETUP_ERROR) return 1;
  as_expected = as_expected &&
                (*done)->status() == sandbox::proto::Result::OK &&
                (*done)->exit_code() == 0;

  // 2. A plugin that reaches for the network.
  absl::StatusOr<std::unique_ptr<sandbox::Sandbox>> rogue =
      StartPlugin(*policy);
  if (!rogue.ok()) return Fail(rogue.status().ToString());
  PluginRequest probe;
  probe.set_text("phone home");
  probe.set_probe_network(true);
  absl::StatusOr<PluginReply> answer = Ask(**rogue, probe);
  if (answer.ok()) {
    // The policy let the call through; let the plugin finish.
    std::printf("network probe answered: %s\n", answer->network().c_str());
    shutdown((*rogue)->comms()->fd(), SHUT_WR);
  }
  absl::StatusOr<std::optional<sandbox::proto::Result>> ended =
      (*rogue)->WaitFor(absl::Seconds(10));
  if (!ended.ok()) return Fail(ended.status().ToString());
  if (!ended->has_value()) {
    (*rogue)->Kill().IgnoreError();
    return Fail("the probing plugin was not stopped");
  }
  std::printf("network probe: %s\n", Describe(**ended).c_str());
  as_expected = as_expected && !answer.ok() &&
                (*ended)->status() == sandbox::proto::Result::VIOLATION &&
                (*ended)->violation().syscall() == "socket";

  std::printf(as_expected ? "plugin host: everything as expected\n"
                          : "plugin host: UNEXPECTED outcome\n");
  return as_expected ? 0 : 1;
}
