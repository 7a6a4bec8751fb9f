// tabs: a browser-like host that gives every tab its own sandbox.
//
// Use case: Chrome's renderer model. Each tab's content runs in a separate
// sandboxed process with its own pid namespace, so a compromised tab can
// neither see nor signal the other tabs or the browser, and the browser can
// kill a hung or misbehaving tab without disturbing the rest.
//
// Each tab here is a zygote worker (a function of this binary, forked from
// the zygote InitForkServer() starts) that answers the browser's requests
// over its Comms channel: "report" (its pid and the pids its /proc shows),
// "probe PID..." (kill(PID, 0) for each, as an attack on another tab would
// start), "ping". The browser checks that
//   1. every tab is pid 2 of its own pid namespace and sees only itself and
//      its init (pid 1),
//   2. no two tabs share a pid namespace, nor any tab the browser's,
//   3. kill(<any other tab's host pid>, 0), kill(<the browser>, 0) and
//      kill(-1, 0) fail with ESRCH in every tab,
//   4. after Sandbox::Kill() of the first tab, it ends KILLED and every
//      other tab still answers a ping.
//
//   build/bin/tabs [N]      # N tabs, default 4 (2 to 32)
//
// Prints one line per check and exits 0 only if every check held.

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sandbox/comms.h"
#include "sandbox/policy_builder.h"
#include "sandbox/result.pb.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"

namespace {

// --- A tab (runs in the sandbox) ---

std::string VisiblePids() {
  std::set<int> pids;
  if (DIR* proc = opendir("/proc")) {
    while (struct dirent* entry = readdir(proc)) {
      int pid;
      if (absl::SimpleAtoi(entry->d_name, &pid)) pids.insert(pid);
    }
    closedir(proc);
  }
  return absl::StrJoin(pids, " ");
}

std::string PidNamespace() {
  char target[64] = {};
  const ssize_t n = readlink("/proc/self/ns/pid", target, sizeof(target) - 1);
  return n > 0 ? std::string(target, n) : "unknown";
}

std::string Probe(absl::string_view pids) {
  std::vector<std::string> outcomes;
  for (absl::string_view word : absl::StrSplit(pids, ' ', absl::SkipEmpty())) {
    int pid;
    if (!absl::SimpleAtoi(word, &pid)) continue;
    const int rc = kill(pid, 0);
    outcomes.push_back(
        absl::StrCat(pid, "=", rc == 0 ? "signalled" : strerrorname_np(errno)));
  }
  return absl::StrJoin(outcomes, " ");
}

int TabWorker(sandbox::Comms& comms) {
  for (;;) {
    absl::StatusOr<std::string> request = comms.RecvString();
    // The browser closed the tab.
    if (!request.ok()) return 0;
    std::string reply;
    if (*request == "report") {
      reply = absl::StrCat("pid=", getpid(), "\nvisible=", VisiblePids(),
                           "\nns=", PidNamespace(), "\n");
    } else if (absl::StartsWith(*request, "probe ")) {
      reply = Probe(absl::string_view(*request).substr(6));
    } else if (*request == "ping") {
      reply = "pong";
    } else {
      reply = "unknown request";
    }
    if (!comms.SendString(reply).ok()) return 1;
  }
}

// --- The browser ---

absl::StatusOr<sandbox::Policy> TabPolicy() {
  return sandbox::PolicyBuilder()  // every namespace, an empty root, /proc
      .SetName("tab")
      // Comms (getsockopt once when the worker's Comms is made, sendmsg,
      // recvmsg, poll, close, fcntl, fstat, mmap, munmap), memory, listing
      // /proc (openat, getdents64, newfstatat, readlink), the kill(pid, 0)
      // probes, exit.
      .AllowSyscalls({"getsockopt", "sendmsg", "recvmsg",    "poll",
                      "close",      "fcntl",   "fstat",      "newfstatat",
                      "mmap",       "munmap",  "brk",        "madvise",
                      "futex",      "openat",  "getdents64", "readlink",
                      "getpid",     "kill",    "exit",       "exit_group"})
      .SetMaxOpenFiles(16)
      .SetCpuTime(absl::Seconds(10))
      .Build();
}

struct Tab {
  std::unique_ptr<sandbox::Sandbox> sandbox;
  std::map<std::string, std::string> report;
};

// Sends `request` and returns the tab's reply, or the error. The Sandbox
// acts on a violation only inside Wait() and WaitFor(), so while waiting for
// the reply the browser keeps calling WaitFor() too: a tab stopped at a
// forbidden call is killed at once instead of hanging the browser.
std::string Ask(Tab& tab, const std::string& request) {
  sandbox::Comms& comms = *tab.sandbox->comms();
  if (absl::Status sent = comms.SendString(request); !sent.ok()) {
    return sent.ToString();
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (;;) {
    struct pollfd ready = {comms.fd(), POLLIN, 0};
    if (poll(&ready, 1, 20) == 1) break;
    // Not ZeroDuration: WaitFor() with a deadline already passed returns
    // before looking at the sandbox at all.
    absl::StatusOr<std::optional<sandbox::proto::Result>> ended =
        tab.sandbox->WaitFor(absl::Milliseconds(1));
    if (!ended.ok()) return ended.status().ToString();
    if (ended->has_value()) {
      return absl::StrCat("the tab ended: ", (*ended)->ShortDebugString());
    }
    if (absl::Now() > deadline) return "no reply within 5 s";
  }
  absl::StatusOr<std::string> reply = comms.RecvString();
  return reply.ok() ? *reply : reply.status().ToString();
}

std::map<std::string, std::string> ParseReport(const std::string& text) {
  std::map<std::string, std::string> values;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, '=');
    values[kv.first] = kv.second;
  }
  return values;
}

int g_failures = 0;

void Check(bool held, const std::string& what) {
  std::printf("[%s] %s\n", held ? "ok" : "FAILED", what.c_str());
  if (!held) ++g_failures;
}

}  // namespace

int main(int argc, char** argv) {
  // First thing in main, while single-threaded: the workers, then the
  // zygote.
  absl::Status started = sandbox::RegisterWorker("tab", TabWorker);
  if (started.ok()) started = sandbox::InitForkServer(argc, argv);
  if (!started.ok()) {
    std::fprintf(stderr, "tabs: %s\n", started.ToString().c_str());
    return 1;
  }
  int count = 4;
  if (argc > 2 || (argc == 2 && (!absl::SimpleAtoi(argv[1], &count) ||
                                 count < 2 || count > 32))) {
    std::fprintf(stderr, "usage: tabs [N]   (2 <= N <= 32, default 4)\n");
    return 2;
  }
  absl::StatusOr<sandbox::Policy> policy = TabPolicy();
  if (!policy.ok()) {
    std::fprintf(stderr, "tabs: %s\n", policy.status().ToString().c_str());
    return 1;
  }

  std::vector<Tab> tabs(count);
  std::vector<std::string> host_pids;
  for (Tab& tab : tabs) {
    sandbox::Command command;
    command.worker = "tab";
    command.inherit_stdio = false;
    absl::StatusOr<std::unique_ptr<sandbox::Sandbox>> sandbox =
        sandbox::Sandbox::Spawn(*policy, command);
    if (!sandbox.ok()) {
      std::fprintf(stderr, "tabs: opening a tab: %s\n",
                   sandbox.status().ToString().c_str());
      return 1;
    }
    tab.sandbox = *std::move(sandbox);
    host_pids.push_back(absl::StrCat(tab.sandbox->pid()));
  }
  std::printf("browser pid %d opened %d tabs, host pids %s\n", getpid(), count,
              absl::StrJoin(host_pids, " ").c_str());

  // 1. and 2.: what each tab sees.
  char own_ns[64] = {};
  readlink("/proc/self/ns/pid", own_ns, sizeof(own_ns) - 1);
  bool sees_only_itself = true;
  std::set<std::string> namespaces = {own_ns};
  for (int i = 0; i < count; ++i) {
    tabs[i].report = ParseReport(Ask(tabs[i], "report"));
    std::printf("tab %d: pid %s, sees pids [%s], %s\n", i,
                tabs[i].report["pid"].c_str(),
                tabs[i].report["visible"].c_str(),
                tabs[i].report["ns"].c_str());
    sees_only_itself = sees_only_itself && tabs[i].report["pid"] == "2" &&
                       tabs[i].report["visible"] == "1 2";
    namespaces.insert(tabs[i].report["ns"]);
  }
  Check(sees_only_itself, "each tab is pid 2 and sees only pids 1 and 2");
  Check(namespaces.size() == static_cast<size_t>(count) + 1,
        "each tab has its own pid namespace, none the browser's");

  // 3.: no tab can signal another, nor the browser, nor anything at all.
  int probes = 0;
  bool all_esrch = true;
  for (int i = 0; i < count; ++i) {
    std::vector<std::string> targets;
    for (int j = 0; j < count; ++j) {
      if (j != i) targets.push_back(host_pids[j]);
    }
    const std::string reply =
        Ask(tabs[i], absl::StrCat("probe ", absl::StrJoin(targets, " ")));
    for (const std::string& target : targets) {
      ++probes;
      if (reply.find(absl::StrCat(target, "=ESRCH")) == std::string::npos) {
        all_esrch = false;
        std::printf("tab %d: kill(%s, 0): %s\n", i, target.c_str(),
                    reply.c_str());
      }
    }
  }
  Check(all_esrch, absl::StrCat("kill(<another tab>, 0) fails with ESRCH (",
                                probes, " probes)"));
  bool browser_safe = true;
  for (int i = 0; i < count; ++i) {
    const std::string reply =
        Ask(tabs[i], absl::StrCat("probe ", getpid(), " -1"));
    if (reply != absl::StrCat(getpid(), "=ESRCH -1=ESRCH")) {
      browser_safe = false;
      std::printf("tab %d: %s\n", i, reply.c_str());
    }
  }
  Check(browser_safe, "kill(<the browser>, 0) and kill(-1, 0) fail with ESRCH");

  // 4.: killing one tab leaves the others running.
  absl::Status killed = tabs[0].sandbox->Kill();
  absl::StatusOr<sandbox::proto::Result> result = tabs[0].sandbox->Wait();
  Check(killed.ok() && result.ok() &&
            result->status() == sandbox::proto::Result::KILLED,
        absl::StrCat("tab 0 killed: ",
                     result.ok()
                         ? sandbox::proto::Result::Status_Name(result->status())
                         : result.status().ToString()));
  bool others_alive = true;
  for (int i = 1; i < count; ++i) {
    const std::string reply = Ask(tabs[i], "ping");
    absl::StatusOr<std::optional<sandbox::proto::Result>> state =
        tabs[i].sandbox->WaitFor(absl::Milliseconds(1));
    if (reply != "pong" || !state.ok() || state->has_value()) {
      others_alive = false;
      std::printf("tab %d: ping: %s\n", i, reply.c_str());
    }
  }
  Check(others_alive,
        absl::StrCat("tabs 1..", count - 1, " still run and answer ping"));

  // Closing a tab's channel ends it normally.
  bool closed_cleanly = true;
  for (int i = 1; i < count; ++i) {
    shutdown(tabs[i].sandbox->comms()->fd(), SHUT_WR);
    absl::StatusOr<sandbox::proto::Result> closed = tabs[i].sandbox->Wait();
    closed_cleanly = closed_cleanly && closed.ok() &&
                     closed->status() == sandbox::proto::Result::OK &&
                     closed->exit_code() == 0;
  }
  Check(closed_cleanly, "the other tabs close cleanly (exit 0)");

  std::printf(g_failures == 0 ? "all checks held\n" : "%d checks FAILED\n",
              g_failures);
  return g_failures == 0 ? 0 : 1;
}
