// spawn_driver: times spawns one at a time, for bench/compare.sh.
//
//   spawn_driver fork-exec N      bare fork + execve(/bin/true) + wait
//   spawn_driver exec N           the library, exec mode: /bin/true under
//                                 policies/default.textproto without its
//                                 cgroup caps (bench::Variant::kFull)
//   spawn_driver zygote N         the library, zygote mode: a no-op worker
//                                 under the same policy
//   spawn_driver exec-cmd N [@FD=PATH ...] -- PROGRAM [ARGS...]
//                                 fork + execvp of any command line, N times
//   spawn_driver interleave N OUT.tsv NAME=SPEC ...
//                                 for i in 1..N, each tool once in rotation
//   spawn_driver seccomp-bpf FILE the default policy's compiled filter, raw
//                                 sock_filter array (for bwrap --seccomp)
//   spawn_driver oci-seccomp      the default policy's seccomp section as an
//                                 OCI runtime-spec "linux.seccomp" object
//
// The per-spawn modes print one time per line, in microseconds, and a
// summary (median, p10, p90) on stderr. Each time runs from just before the
// fork (or Sandbox::Spawn) to just after the wait: the library's host stays
// alive across spawns, as a real host would, so its fork server and
// compiled policy are started and sent once, before the first timed spawn
// (one untimed warm-up spawn per tool).
//
// A SPEC for interleave is "builtin:fork-exec", "builtin:sandbox-exec",
// "builtin:sandbox-zygote", "builtin:sandbox-prewarmed" (exec mode from a
// PrewarmPool of one, refilled while the other tools run),
// "builtin:sandbox-exec-default" (the default
// policy as shipped, with its cgroup caps), or a command line split on
// spaces. Its leading
// "@FD=PATH" words open PATH (read-only, anew for every spawn) at
// descriptor FD of the child, e.g. "@10=/tmp/filter.bpf bwrap --seccomp 10
// ...". "{i}" in a word becomes a unique run number (for container names).
// The commands get /dev/null as stdin, stdout and stderr. Output: a TSV of
// name, iteration, microseconds, exit status; and a table of medians on
// stdout, with each tool's ratio to the first one.

#include <fcntl.h>
#include <linux/filter.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "bench/bench_util.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/oci_seccomp.h"
#include "sandbox/prewarm.h"
#include "sandbox/sandbox.h"
#include "sandbox/worker.h"

namespace sandbox::bench {
namespace {

int Usage() {
  fprintf(stderr,
          "usage: spawn_driver fork-exec|exec|zygote N\n"
          "       spawn_driver exec-cmd N [@FD=PATH ...] -- PROGRAM [ARGS...]\n"
          "       spawn_driver interleave N OUT.tsv NAME=SPEC ...\n"
          "       spawn_driver seccomp-bpf FILE\n"
          "       spawn_driver oci-seccomp\n");
  return 2;
}

// One external command line: descriptors to open, then argv.
struct ExternalCommand {
  std::vector<std::pair<int, std::string>> fds;
  std::vector<std::string> argv;
};

absl::StatusOr<ExternalCommand> ParseCommand(
    const std::vector<std::string>& words) {
  ExternalCommand command;
  size_t i = 0;
  for (; i < words.size() && words[i].size() > 1 && words[i][0] == '@'; ++i) {
    const size_t eq = words[i].find('=');
    int fd = -1;
    if (eq == std::string::npos ||
        !absl::SimpleAtoi(words[i].substr(1, eq - 1), &fd) || fd < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected @FD=PATH with FD >= 3, got ", words[i]));
    }
    command.fds.emplace_back(fd, words[i].substr(eq + 1));
  }
  command.argv.assign(words.begin() + i, words.end());
  if (command.argv.empty()) {
    return absl::InvalidArgumentError("no program to run");
  }
  return command;
}

// fork + execvp + wait. Returns the wait status; `ns` gets the time.
int RunExternal(const ExternalCommand& command, uint64_t run, int64_t* ns) {
  std::vector<std::string> words;
  for (const std::string& word : command.argv) {
    words.push_back(absl::StrReplaceAll(word, {{"{i}", absl::StrCat(run)}}));
  }
  std::vector<char*> argv;
  for (std::string& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  const int64_t start = NowNs();
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) dup2(null, fd);
    for (const auto& [target, path] : command.fds) {
      const int fd = open(path.c_str(), O_RDONLY);
      if (fd < 0 || dup2(fd, target) < 0) _exit(126);
      if (fd != target) close(fd);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = -1;
  if (pid > 0) waitpid(pid, &status, 0);
  *ns = NowNs() - start;
  return status;
}

int ForkExecTrue(int64_t* ns) {
  static const ExternalCommand kTrue = {{}, {"/bin/true"}};
  return RunExternal(kTrue, 0, ns);
}

void PrintSummary(const char* name, const std::vector<double>& us) {
  fprintf(stderr, "%s: n=%zu median=%.1f us p10=%.1f p90=%.1f\n", name,
          us.size(), Quantile(us, 0.5), Quantile(us, 0.1), Quantile(us, 0.9));
}

// A tool of the interleaved run: times one spawn, returns its wait status
// (0: it worked) or -1 with `error` set.
struct Tool {
  std::string name;
  std::function<int(uint64_t run, int64_t* ns, std::string* error)> spawn;
  std::vector<double> us;
  int failures = 0;
  std::string first_failure;
};

std::function<int(uint64_t, int64_t*, std::string*)> LibrarySpawner(
    const Policy& policy, Command command) {
  return [policy, command](uint64_t, int64_t* ns, std::string* error) {
    absl::StatusOr<int64_t> time = TimeSpawn(policy, command);
    if (!time.ok()) {
      *error = time.status().ToString();
      return -1;
    }
    *ns = *time;
    return 0;
  };
}

absl::StatusOr<Tool> MakeTool(const std::string& spec_text) {
  const size_t eq = spec_text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected NAME=SPEC, got ", spec_text));
  }
  Tool tool;
  tool.name = spec_text.substr(0, eq);
  const std::string spec = spec_text.substr(eq + 1);
  if (spec == "builtin:fork-exec") {
    tool.spawn = [](uint64_t, int64_t* ns, std::string*) {
      return ForkExecTrue(ns);
    };
    return tool;
  }
  if (spec == "builtin:sandbox-exec" || spec == "builtin:sandbox-zygote" ||
      spec == "builtin:sandbox-exec-default") {
    absl::StatusOr<Policy> policy = LoadPolicy(
        spec == "builtin:sandbox-exec-default" ? Variant::kDefaultPolicy
                                               : Variant::kFull);
    if (!policy.ok()) return policy.status();
    tool.spawn = LibrarySpawner(*policy, spec == "builtin:sandbox-zygote"
                                             ? NoopWorkerCommand()
                                             : TrueCommand());
    return tool;
  }
  if (spec == "builtin:sandbox-prewarmed") {
    absl::StatusOr<Policy> policy = LoadPolicy(Variant::kFull);
    if (!policy.ok()) return policy.status();
    absl::StatusOr<std::unique_ptr<PrewarmPool>> made = Prewarm(*policy, 1);
    if (!made.ok()) return made.status();
    std::shared_ptr<PrewarmPool> pool = *std::move(made);
    tool.spawn = [pool](uint64_t, int64_t* ns, std::string* error) {
      const int64_t start = NowNs();
      absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
          pool->Spawn(TrueCommand());
      absl::StatusOr<proto::Result> result =
          sandbox.ok() ? (*sandbox)->Wait() : sandbox.status();
      *ns = NowNs() - start;
      if (!result.ok() || result->status() != proto::Result::OK ||
          result->exit_code() != 0) {
        *error = result.ok() ? result->ShortDebugString()
                             : result.status().ToString();
        return -1;
      }
      return 0;
    };
    return tool;
  }
  absl::StatusOr<ExternalCommand> command = ParseCommand(
      std::vector<std::string>(absl::StrSplit(spec, ' ', absl::SkipEmpty())));
  if (!command.ok()) return command.status();
  tool.spawn = [command = *command](uint64_t run, int64_t* ns, std::string*) {
    return RunExternal(command, run, ns);
  };
  return tool;
}

std::string DescribeStatus(int status) {
  if (status < 0) return "could not start";
  if (WIFEXITED(status)) return absl::StrCat("exit ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("signal ", WTERMSIG(status));
  return absl::StrCat("status ", status);
}

int Interleave(uint64_t n, const std::string& out_path,
               const std::vector<std::string>& specs) {
  std::vector<Tool> tools;
  for (const std::string& spec : specs) {
    absl::StatusOr<Tool> tool = MakeTool(spec);
    if (!tool.ok()) {
      fprintf(stderr, "%s\n", tool.status().ToString().c_str());
      return 2;
    }
    tools.push_back(*std::move(tool));
  }
  std::ofstream out(out_path);
  out << "tool\titeration\tmicroseconds\tstatus\n";
  // Run numbers unique across invocations, for crun's container names.
  uint64_t run = static_cast<uint64_t>(getpid()) * 1000000;
  for (uint64_t i = 0; i <= n; ++i) {  // i == 0: warm-up, not recorded
    for (Tool& tool : tools) {
      int64_t ns = 0;
      std::string error;
      const int status = tool.spawn(++run, &ns, &error);
      if (i == 0) continue;
      out << tool.name << "\t" << i << "\t" << ns / 1000.0 << "\t" << status
          << "\n";
      if (status != 0) {
        if (tool.failures++ == 0) {
          tool.first_failure = error.empty() ? DescribeStatus(status) : error;
        }
        continue;
      }
      tool.us.push_back(ns / 1000.0);
    }
  }
  const double base = Quantile(tools.front().us, 0.5);
  printf("%-16s %10s %10s %10s %8s %8s\n", "tool", "median_us", "p10_us",
         "p90_us", "ok/runs",
         "x_"
         "base");
  for (const Tool& tool : tools) {
    const double median = Quantile(tool.us, 0.5);
    printf("%-16s %10.1f %10.1f %10.1f %4zu/%-3llu %8.2f%s%s\n",
           tool.name.c_str(), median, Quantile(tool.us, 0.1),
           Quantile(tool.us, 0.9), tool.us.size(),
           static_cast<unsigned long long>(n), base > 0 ? median / base : 0,
           tool.failures > 0 ? "  first failure: " : "",
           tool.first_failure.c_str());
  }
  return 0;
}

int Repeat(uint64_t n, const char* name,
           const std::function<int(int64_t*, std::string*)>& spawn) {
  std::vector<double> us;
  for (uint64_t i = 0; i <= n; ++i) {
    int64_t ns = 0;
    std::string error;
    const int status = spawn(&ns, &error);
    if (status != 0) {
      fprintf(stderr, "%s: run %llu failed: %s\n", name,
              static_cast<unsigned long long>(i),
              error.empty() ? DescribeStatus(status).c_str() : error.c_str());
      return 1;
    }
    if (i == 0) continue;  // warm-up
    us.push_back(ns / 1000.0);
    printf("%.1f\n", ns / 1000.0);
  }
  PrintSummary(name, us);
  return 0;
}

int WriteSeccompBpf(const std::string& path) {
  absl::StatusOr<Policy> policy = LoadPolicy(Variant::kFull);
  if (!policy.ok()) {
    fprintf(stderr, "%s\n", policy.status().ToString().c_str());
    return 1;
  }
  const std::vector<sock_filter>& program =
      internal::StateOf(*policy).seccomp.instructions;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(program.data()),
            program.size() * sizeof(sock_filter));
  return out.good() ? 0 : 1;
}

// The policy's rules as OCI seccomp (sandbox/oci_seccomp.h): same
// allow-list, same argument checks, clone without namespace flags (as the
// library enforces) and clone3 ENOSYS.
int PrintOciSeccomp() {
  absl::StatusOr<Policy> policy = LoadPolicy(Variant::kFull);
  if (!policy.ok()) {
    fprintf(stderr, "%s\n", policy.status().ToString().c_str());
    return 1;
  }
  absl::StatusOr<std::string> json =
      ExportOciSeccomp(policy->proto().seccomp());
  if (!json.ok()) {
    fprintf(stderr, "%s\n", json.status().ToString().c_str());
    return 1;
  }
  printf("%s\n", json->c_str());
  return 0;
}

int Main(int argc, char** argv) {
  if (argc < 2) return Usage();
  const std::string mode = argv[1];
  if (mode == "seccomp-bpf" && argc == 3) return WriteSeccompBpf(argv[2]);
  if (mode == "oci-seccomp" && argc == 2) return PrintOciSeccomp();
  uint64_t n = 0;
  if (argc < 3 || !absl::SimpleAtoi(argv[2], &n) || n == 0) return Usage();
  if (mode == "fork-exec") {
    return Repeat(n, "fork-exec",
                  [](int64_t* ns, std::string*) { return ForkExecTrue(ns); });
  }
  if (mode == "exec" || mode == "zygote") {
    absl::StatusOr<Policy> policy = LoadPolicy(Variant::kFull);
    if (!policy.ok()) {
      fprintf(stderr, "%s\n", policy.status().ToString().c_str());
      return 1;
    }
    auto spawn = LibrarySpawner(
        *policy, mode == "exec" ? TrueCommand() : NoopWorkerCommand());
    return Repeat(n, mode.c_str(), [&](int64_t* ns, std::string* error) {
      return spawn(0, ns, error);
    });
  }
  if (mode == "exec-cmd") {
    std::vector<std::string> words;
    bool seen_dashes = false;
    for (int i = 3; i < argc; ++i) {
      if (!seen_dashes && std::string(argv[i]) == "--") {
        seen_dashes = true;
        continue;
      }
      words.push_back(argv[i]);
    }
    // "@FD=PATH" words may stand before "--" or after it.
    absl::StatusOr<ExternalCommand> command = ParseCommand(words);
    if (!command.ok()) {
      fprintf(stderr, "%s\n", command.status().ToString().c_str());
      return 2;
    }
    uint64_t run = static_cast<uint64_t>(getpid()) * 1000000;
    return Repeat(n, command->argv[0].c_str(), [&](int64_t* ns, std::string*) {
      return RunExternal(*command, ++run, ns);
    });
  }
  if (mode == "interleave" && argc >= 5) {
    return Interleave(n, argv[3],
                      std::vector<std::string>(argv + 4, argv + argc));
  }
  return Usage();
}

}  // namespace
}  // namespace sandbox::bench

int main(int argc, char** argv) {
  // Zygote mode starts the zygote before anything else. The zygote is this
  // binary run again with argv {kZygoteArgv0}: it must get here too.
  sandbox::bench::RegisterNoopWorker();
  const bool needs_zygote =
      (argc >= 2 && (std::string(argv[1]) == "zygote" ||
                     std::string(argv[1]) == "interleave")) ||
      (argc == 1 && std::string(argv[0]) == sandbox::kZygoteArgv0);
  if (needs_zygote) {
    if (absl::Status s = sandbox::InitForkServer(argc, argv); !s.ok()) {
      fprintf(stderr, "InitForkServer: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return sandbox::bench::Main(argc, argv);
}
