// plugin: the untrusted side of examples/plugin_host. A separate program
// that plugin_host runs in exec mode, bound read-only at /plugin inside a
// sandbox under policies/plugin.textproto; it talks to the host only over
// the Comms channel the host puts at descriptor 3.
//
// It answers each PluginRequest (examples/plugin.proto) with a PluginReply:
// the text in upper case and its word count. A request with probe_network
// makes it try to open a TCP socket, as a compromised plugin would; the
// policy ends it there. It exits 0 when the host closes the channel.

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_split.h"
#include "examples/plugin.pb.h"
#include "sandbox/comms.h"
#include "sandbox/fd.h"

namespace {

constexpr int kCommsFd = 3;

sandbox::examples::PluginReply Handle(
    const sandbox::examples::PluginRequest& request) {
  sandbox::examples::PluginReply reply;
  std::string upper = request.text();
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  reply.set_upper(upper);
  const std::vector<absl::string_view> words = absl::StrSplit(
      request.text(), absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
  reply.set_words(static_cast<int>(words.size()));
  if (request.probe_network()) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    reply.set_network(fd >= 0 ? "a TCP socket was opened"
                              : std::strerror(errno));
    if (fd >= 0) close(fd);
  }
  return reply;
}

}  // namespace

int main() {
  struct stat st;
  if (fstat(kCommsFd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    std::fprintf(stderr,
                 "plugin: no channel at descriptor 3; plugin_host runs me\n");
    return 2;
  }
  sandbox::Comms comms{sandbox::UniqueFd(kCommsFd)};
  for (;;) {
    sandbox::examples::PluginRequest request;
    const absl::Status received = comms.RecvProto(&request);
    if (absl::IsUnavailable(received)) return 0;  // the host is done
    if (!received.ok()) {
      std::fprintf(stderr, "plugin: %s\n", received.ToString().c_str());
      return 1;
    }
    if (const absl::Status sent = comms.SendProto(Handle(request));
        !sent.ok()) {
      std::fprintf(stderr, "plugin: %s\n", sent.ToString().c_str());
      return 1;
    }
  }
}
