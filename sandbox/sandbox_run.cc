// sandbox-run: runs one program in a sandbox from the command line. Flags
// are written into the same policy message a text file fills, and the result
// goes through the same PolicyBuilder::Build() validation.

#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "sandbox/afl_bridge.h"
#include "sandbox/internal/syscall_groups.h"
#include "sandbox/internal/util.h"
#include "sandbox/learn.h"
#include "sandbox/oci_seccomp.h"
#include "sandbox/policy_builder.h"
#include "sandbox/sandbox.h"

namespace sandbox {
namespace {

constexpr int kExitTimeout = 124;
constexpr int kExitSetupFailed = 125;
constexpr int kExitNotExecutable = 126;
constexpr int kExitNotFound = 127;
constexpr char kDefaultTmpfsSize[] = "64M";

constexpr char kUsage[] =
    R"USAGE(Usage: sandbox-run [OPTIONS] -- PROGRAM [ARGS...]

Runs PROGRAM in a sandbox: its own user, pid, net, ipc, uts, mount and cgroup
namespaces, a read-only tmpfs root with only the listed host paths, no
capabilities, no_new_privs, and a seccomp allow-list. Without --policy the
shipped policies/default.textproto is used; flags override the file.

Options:
  --policy FILE        policy in protobuf text format (sandbox/policy.proto)
  --ro-bind SRC[:DST]  bind host path SRC read-only at DST (default: SRC);
                       symlinks in SRC are followed, /proc magic links not
  --bind SRC[:DST]     bind host path SRC writable at DST (default: SRC)
  --tmpfs DST[:SIZE]   writable tmpfs at DST, SIZE like 64M (default 64M)
  --memory BYTES       memory cap (cgroup), e.g. 64M; the sandbox ends as
                       MEMORY_LIMIT when the kernel OOM-kills in it
  --pids N             cap on live processes and threads (cgroup)
  --end-on-limit       end the whole sandbox the moment it hits its --pids
                       or --memory cap (a fork bomb ends as PIDS_LIMIT at
                       once instead of spinning until --timeout)
  --cpus F             CPU bandwidth in CPUs (cgroup), e.g. 0.25
                       Unprivileged, these need a delegated cgroup (systemd
                       Delegate=yes, or a directory chowned to you)
  --cpu-time SEC       RLIMIT_CPU: SIGXCPU after SEC seconds of CPU
  --timeout SEC        wall-clock limit; the sandbox is killed after SEC
  --net none|host      none: an empty network namespace with loopback
                       (default); host: the host's network
  --landlock-fallback  where user namespaces cannot be made (Ubuntu's
                       AppArmor restriction, user.max_user_namespaces=0, a
                       container's seccomp profile), run without namespaces,
                       confined by Landlock: read and execute beneath the
                       read-only binds, write beneath the writable ones and
                       a private directory in /tmp for each tmpfs (cwd,
                       TMPDIR and env values under a tmpfs point there);
                       no TCP bind or connect without --net host (Landlock
                       ABI 4), no signals or abstract unix sockets beyond
                       the sandbox (ABI 6). Same seccomp filter, rlimits,
                       cgroup caps, no capabilities. Lost, and listed as
                       warnings: every namespace (host processes, network,
                       IPC, hostname visible; paths are the host's, binds
                       must be at their own path), the private /proc and
                       /dev/shm, the sandbox user (nobody for root, else
                       your own user). Without it such a spawn fails (125)
  --hostname NAME      hostname inside the sandbox
  --env K=V            set an environment variable (repeatable); nothing of
                       the host's environment is passed otherwise
  --cwd DIR            working directory inside the sandbox
  --allow GROUP[,...]  also allow these system call groups, e.g.
                       --allow INET_SOCKETS (see --groups)
  --groups             print every system call group, its calls and their
                       conditions (policies/GROUPS.md), and exit
  --seccomp-profile FILE
                       system call rules from a Docker or OCI seccomp profile
                       (JSON) instead of the policy's; the fixed deny list
                       and the foreign-ABI kill still apply. What the import
                       dropped or ignored goes to stderr, one line each
  --export-seccomp-profile
                       print the policy's system call rules (after the flags)
                       as an OCI seccomp profile (JSON) on stdout and exit;
                       no PROGRAM
  --learn OUT          learn mode, for trusted inputs: run PROGRAM with
                       every system call outside the policy let through and
                       recorded, and write OUT: the policy plus groups and
                       rules that allow what was seen, commented with what
                       came how often, calls the sandbox refuses whatever
                       the policy says, and paths the program looked for
                       that the sandbox lacks (as binds to add). Without
                       --policy the base is policies/default.textproto
                       with no system call allowed. If OUT exists it is the
                       base and this run merges into it (no --policy);
                       run it again on other inputs to learn more. Still a
                       sandbox: namespaces, mounts and limits apply
  --afl                be the fork server of afl-fuzz (AFL++ 4.04c) for
                       PROGRAM built with afl-clang-fast, run in one sandbox
                       whose own fork server forks a child per input:
                         afl-fuzz -i IN -o OUT -- sandbox-run --afl
                           --ro-bind ./target:/target -- /target @@
                       (or without @@: the input on stdin). afl-fuzz's
                       coverage map and pipes stay on the host; the @@ file
                       is a copy bound read-only at its path; the pid
                       afl-fuzz kills on a timeout is a stand-in process
                       of sandbox-run's own, whose end it passes on to the
                       child the kernel lists as the fork server's, never
                       a pid the sandbox claims. Needs the pid and IPC
                       namespaces; adds to the policy the calls AFL's
                       runtime and the shim make, unless a rule of the
                       policy names them: clone fork wait4 kill shmget
                       shmat shmdt shmctl execve pidfd_open sendmsg
                       rt_sigaction. A sandbox that ends
                       during an input (a violation, --timeout) makes that
                       input a crash (SIGSYS for a violation, else SIGKILL)
                       and a fresh sandbox goes on; stderr (afl-fuzz shows
                       it with AFL_DEBUG_CHILD=1) says why. Exits 0 when
                       afl-fuzz closes its pipe, 125 when no sandbox or
                       fork server can be started
  --result-json FILE   write the Result as JSON (protobuf field names)
  -v, --verbose        print the Result on stderr
  -h, --help           this text

Exit status:
  N        the program exited with N
  128+N    the program was killed by signal N
  159      the program made a forbidden system call (128+SIGSYS); stderr
           has one line "sandbox-run: violation: <call>", its arguments
           decoded, e.g. openat(AT_FDCWD, "/etc/shadow", O_RDONLY)
  124      the wall-clock limit (--timeout) was reached
  With --memory or --pids, the program's own status (N, or 128+N) all the
  same, and stderr says "memory limit reached" or "process limit reached"
  when the sandbox hit its cap: 137 when the cap ended it (an OOM kill,
  or --end-on-limit), N when the program lived through a refused fork
  125      the sandbox could not be set up, or the policy or flags are
           invalid (stderr says what and why)
  126      PROGRAM is not executable
  127      PROGRAM was not found
)USAGE";

// A flag that edits the policy, and the field it set: a field path of the
// policy message, with an index relative to what the file had for
// repeated fields (mounts, env).
struct FlagEdit {
  std::string flag;   // as typed: "--tmpfs tmp2"
  std::string field;  // "filesystem.mounts" or "limits.memory"
  int index = -1;     // into the flags' own mounts or env
};

struct Options {
  std::string policy_path;
  std::string seccomp_profile;
  bool export_seccomp_profile = false;
  std::string learn_path;
  bool afl = false;
  std::vector<FlagEdit> edits;
  std::string result_json;
  bool verbose = false;
  // A cgroup flag was given: no rlimit fallback.
  bool strict_cgroup = false;
  std::vector<std::string> argv;
};

[[noreturn]] void Die(absl::string_view message) {
  std::cerr << "sandbox-run: " << message << "\n";
  std::exit(kExitSetupFailed);
}

// `name` relative to the directory of this executable.
std::string SiblingPath(absl::string_view name) {
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) Die("cannot find own executable (/proc/self/exe)");
  std::string dir(self, n);
  dir.resize(dir.rfind('/'));
  return absl::StrCat(dir, "/", name);
}

// The shipped default policy, relative to this executable: build/bin and
// <prefix>/bin both have ../share/sandbox/policies beside them.
std::string DefaultPolicyPath() {
  return SiblingPath("../share/sandbox/policies/default.textproto");
}

std::pair<std::string, std::string> SplitPair(absl::string_view value) {
  const size_t colon = value.find(':');
  if (colon == absl::string_view::npos) {
    return {std::string(value), std::string()};
  }
  return {std::string(value.substr(0, colon)),
          std::string(value.substr(colon + 1))};
}

// A bind source as the user meant it: relative to our working directory,
// where the shell resolved the rest of the command line. The file's real
// path where it exists (symlinks in a typed path are followed anyway);
// otherwise the joined path, for Build() or the bind to report.
std::string AbsoluteSource(const std::string& source) {
  if (source.empty() || source[0] == '/') return source;
  char real[PATH_MAX];
  if (realpath(source.c_str(), real) != nullptr) return real;
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) return source;
  return absl::StrCat(cwd, "/", source);
}

double ParseSeconds(absl::string_view flag, absl::string_view value) {
  double seconds = 0;
  if (!absl::SimpleAtod(value, &seconds) || !(seconds > 0)) {
    Die(absl::StrCat(flag, ": expected a number of seconds > 0, got '", value,
                     "'"));
  }
  return seconds;
}

// Parses argv into options and edits of the policy message. Returns the
// edits as a function applied once the policy file is loaded.
Options ParseFlags(int argc, char** argv, proto::Policy& overrides,
                   std::vector<proto::Mount>& extra_mounts) {
  Options options;
  int i = 1;
  auto value_of = [&](absl::string_view flag) -> std::string {
    if (i + 1 >= argc) Die(absl::StrCat(flag, " needs a value"));
    return argv[++i];
  };
  int mounts = 0;
  int env = 0;
  for (; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    // What this flag sets, for errors Build() finds in it.
    auto sets = [&](std::string field, int index = -1) {
      options.edits.push_back(
          {absl::StrCat(arg,
                        i + 1 < argc ? absl::StrCat(" ", argv[i + 1]) : ""),
           std::move(field), index});
    };
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (arg == "-v" || arg == "--verbose") {
      options.verbose = true;
    } else if (arg == "--policy") {
      options.policy_path = value_of(arg);
    } else if (arg == "--ro-bind" || arg == "--bind") {
      sets("filesystem.mounts", mounts++);
      auto [source, target] = SplitPair(value_of(arg));
      source = AbsoluteSource(source);
      proto::Mount mount;
      mount.mutable_bind()->set_source(source);
      mount.mutable_bind()->set_target(target);
      mount.mutable_bind()->set_writable(arg == "--bind");
      // As bubblewrap does: the user typed this path, links and all, and
      // means what it leads to now. Magic links are still never followed.
      mount.mutable_bind()->set_follow_symlinks(true);
      extra_mounts.push_back(std::move(mount));
    } else if (arg == "--tmpfs") {
      sets("filesystem.mounts", mounts++);
      auto [target, size] = SplitPair(value_of(arg));
      proto::Mount mount;
      mount.mutable_tmpfs()->set_target(target);
      mount.mutable_tmpfs()->set_size(size.empty() ? kDefaultTmpfsSize : size);
      extra_mounts.push_back(std::move(mount));
    } else if (arg == "--memory") {
      sets("limits.memory");
      const std::string value = value_of(arg);
      if (!ParseSize(value).ok()) {
        Die(absl::StrCat("--memory: ", ParseSize(value).status().message()));
      }
      overrides.mutable_limits()->set_memory(value);
      options.strict_cgroup = true;
    } else if (arg == "--pids") {
      sets("limits.pids");
      const std::string value = value_of(arg);
      uint32_t pids = 0;
      if (!absl::SimpleAtoi(value, &pids) || pids == 0) {
        Die(absl::StrCat("--pids: expected a number > 0, got '", value, "'"));
      }
      overrides.mutable_limits()->set_pids(pids);
      options.strict_cgroup = true;
    } else if (arg == "--end-on-limit") {
      options.edits.push_back({"--end-on-limit", "limits.end_on_limit"});
      overrides.mutable_limits()->set_end_on_limit(true);
    } else if (arg == "--cpus") {
      sets("limits.cpus");
      const std::string value = value_of(arg);
      double cpus = 0;
      if (!absl::SimpleAtod(value, &cpus) || !(cpus > 0)) {
        Die(absl::StrCat("--cpus: expected a fraction of CPUs > 0, got '",
                         value, "'"));
      }
      overrides.mutable_limits()->set_cpus(cpus);
      options.strict_cgroup = true;
    } else if (arg == "--cpu-time") {
      sets("limits.cpu_time_seconds");
      const double seconds = ParseSeconds(arg, value_of(arg));
      overrides.mutable_limits()->set_cpu_time_seconds(
          static_cast<uint64_t>(seconds + 0.999));
    } else if (arg == "--timeout") {
      sets("limits.wall_time_seconds");
      overrides.mutable_limits()->set_wall_time_seconds(
          ParseSeconds(arg, value_of(arg)));
    } else if (arg == "--net") {
      sets("namespaces.net");
      const std::string mode = value_of(arg);
      if (mode != "none" && mode != "host") {
        Die(absl::StrCat("--net: expected none or host, got '", mode, "'"));
      }
      overrides.mutable_namespaces()->set_net(mode == "none");
    } else if (arg == "--landlock-fallback") {
      options.edits.push_back(
          {"--landlock-fallback", "namespaces.landlock_fallback"});
      overrides.mutable_namespaces()->set_landlock_fallback(true);
    } else if (arg == "--hostname") {
      sets("hostname");
      overrides.set_hostname(value_of(arg));
    } else if (arg == "--env") {
      sets("env", env++);
      overrides.add_env(value_of(arg));
    } else if (arg == "--cwd") {
      sets("filesystem.cwd");
      overrides.mutable_filesystem()->set_cwd(value_of(arg));
    } else if (arg == "--allow") {
      const std::string value = value_of(arg);
      for (absl::string_view name : absl::StrSplit(value, ',')) {
        proto::SyscallGroup group;
        if (!proto::SyscallGroup_Parse(std::string(name), &group) ||
            group == proto::SYSCALL_GROUP_UNSPECIFIED) {
          Die(absl::StrCat("--allow: no system call group '", name,
                           "' (see --groups)"));
        }
        overrides.mutable_seccomp()->add_allow_groups(group);
      }
    } else if (arg == "--groups") {
      std::cout << internal::GroupsMarkdown();
      std::exit(0);
    } else if (arg == "--result-json") {
      options.result_json = value_of(arg);
    } else if (arg == "--seccomp-profile") {
      sets("seccomp");
      options.seccomp_profile = value_of(arg);
    } else if (arg == "--export-seccomp-profile") {
      options.export_seccomp_profile = true;
    } else if (arg == "--learn") {
      options.learn_path = value_of(arg);
    } else if (arg == "--afl") {
      options.afl = true;
    } else {
      Die(absl::StrCat("unknown option '", arg, "' (see --help)"));
    }
  }
  for (; i < argc; ++i) options.argv.push_back(argv[i]);
  if (options.export_seccomp_profile && !options.argv.empty()) {
    Die("--export-seccomp-profile runs no program");
  }
  if (options.export_seccomp_profile && !options.learn_path.empty()) {
    Die("--export-seccomp-profile and --learn: choose one");
  }
  if (options.afl &&
      (options.export_seccomp_profile || !options.learn_path.empty())) {
    Die("--afl: not with --learn or --export-seccomp-profile");
  }
  if (options.argv.empty() && !options.export_seccomp_profile) {
    Die("no program given (see --help)");
  }
  return options;
}

// The call as the library decoded it (raw hex only from a Result that has
// no decoding), then what the policy could change to allow it.
std::string FormatViolation(const proto::Violation& violation) {
  std::string line = violation.decoded();
  if (line.empty()) {
    std::vector<std::string> args;
    for (uint64_t arg : violation.args()) {
      args.push_back(absl::StrCat("0x", absl::Hex(arg)));
    }
    line =
        absl::StrCat(violation.syscall(), "(", absl::StrJoin(args, ", "), ")");
  }
  // Then what would allow it: " — allowed by group X".
  if (!violation.remedy().empty()) {
    absl::StrAppend(&line, " \u2014 ", violation.remedy());
  }
  return line;
}

int ExitStatusFor(const proto::Result& result) {
  switch (result.status()) {
    case proto::Result::OK:
      return result.exit_code();
    case proto::Result::SIGNALED:
      return 128 + result.signal();
    case proto::Result::VIOLATION:
      std::cerr << "sandbox-run: violation: "
                << FormatViolation(result.violation()) << "\n";
      return 128 + SIGSYS;
    case proto::Result::TIMEOUT:
      std::cerr << "sandbox-run: timeout: the wall-clock limit was reached\n";
      return kExitTimeout;
    case proto::Result::SETUP_ERROR: {
      const proto::SetupError& error = result.setup_error();
      std::cerr << "sandbox-run: setup failed: " << error.message() << "\n";
      if (error.step() == "execve") {
        if (error.errno_value() == ENOENT || error.errno_value() == ENOTDIR) {
          return kExitNotFound;
        }
        return kExitNotExecutable;
      }
      return kExitSetupFailed;
    }
    // The program's own status, as for OK and SIGNALED: 137 when the cap
    // killed it, its exit code when it lived through a refused fork or a
    // child's OOM kill. The line on stderr says which cap it hit.
    case proto::Result::MEMORY_LIMIT:
      std::cerr << "sandbox-run: memory limit reached\n";
      return result.signal() > 0 ? 128 + result.signal() : result.exit_code();
    case proto::Result::PIDS_LIMIT:
      std::cerr << "sandbox-run: process limit reached\n";
      return result.signal() > 0 ? 128 + result.signal() : result.exit_code();
    case proto::Result::KILLED:
      return 128 + SIGKILL;
    case proto::Result::LOST:
      std::cerr << "sandbox-run: how the program ended is unknown\n";
      return kExitSetupFailed;
    default:
      return kExitSetupFailed;
  }
}

// "--tmpfs tmp2: filesystem.mounts[7].tmpfs.target: must be an absolute
// path": an error of Build() in a field a flag set, said of that flag.
std::string NameTheFlag(const absl::Status& error,
                        const std::vector<FlagEdit>& edits, int file_mounts,
                        int file_env) {
  const absl::string_view message = error.message();
  for (const FlagEdit& edit : edits) {
    std::string field = edit.field;
    if (edit.index >= 0) {
      const int base = field == "env" ? file_env : file_mounts;
      absl::StrAppend(&field, "[", base + edit.index, "]");
    }
    if (absl::StartsWith(message, field) &&
        (message.size() == field.size() ||
         absl::string_view(".:[").find(message[field.size()]) !=
             absl::string_view::npos)) {
      return absl::StrCat(edit.flag, ": ", message);
    }
  }
  return absl::StrCat("the flags: ", message);
}

// The seccomp section of the Docker or OCI profile at `path`; what the
// import dropped or ignored goes to stderr.
proto::Seccomp ReadSeccompProfile(const std::string& path) {
  const std::string flag = absl::StrCat("--seccomp-profile ", path);
  std::ifstream file(path);
  if (!file) {
    Die(absl::ErrnoToStatus(errno, absl::StrCat(flag, ": cannot open"))
            .message());
  }
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<OciSeccompImport> profile = ImportOciSeccomp(text.str());
  if (!profile.ok()) Die(absl::StrCat(flag, ": ", profile.status().message()));
  for (const std::string& note : profile->notes) {
    std::cerr << "sandbox-run: seccomp profile: " << note << "\n";
  }
  return std::move(profile->seccomp);
}

// --verbose and --result-json.
void PrintResult(const Options& options, const proto::Result& result) {
  if (options.verbose) {
    for (const std::string& warning : result.warnings()) {
      std::cerr << "sandbox-run: warning: " << warning << "\n";
    }
  }
  if (!options.verbose && options.result_json.empty()) return;
  google::protobuf::util::JsonPrintOptions print;
  print.preserve_proto_field_names = true;
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(result, &json, print).ok()) {
    Die("cannot print the result as JSON");
  }
  if (options.verbose) std::cerr << "sandbox-run: result: " << json << "\n";
  if (!options.result_json.empty()) {
    std::ofstream out(options.result_json);
    out << json << "\n";
    if (!out) Die(absl::StrCat("cannot write ", options.result_json));
  }
}

// Writes `text` to `path` whole or not at all: a temporary file beside it,
// renamed over it.
void WriteAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::remove(temporary.c_str());
      Die(absl::StrCat("--learn ", path, ": cannot write ", temporary));
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    std::remove(temporary.c_str());
    Die(absl::ErrnoToStatus(error, absl::StrCat("--learn ", path,
                                                ": cannot rename ", temporary))
            .message());
  }
}

int RunLearning(const Options& options, const PolicyBuilder& base,
                const std::string& previous) {
  Command command;
  command.argv = options.argv;
  command.inherit_stdio = true;
  absl::StatusOr<LearnedPolicy> learned =
      Learn(base, command,
            {.previous = previous, .label = absl::StrJoin(options.argv, " ")});
  if (!learned.ok()) Die(learned.status().ToString());
  PrintResult(options, learned->result);
  // A sandbox that never ran its program learned nothing: OUT stays.
  if (learned->result.status() != proto::Result::SETUP_ERROR) {
    WriteAtomically(options.learn_path, learned->text);
    const proto::LearnReport& report = learned->result.learned();
    std::cerr << "sandbox-run: learn: run " << learned->run << ": "
              << report.calls_size() << " distinct calls outside the policy, "
              << report.denied_size()
              << " refused by the sandbox whatever the policy says, "
              << report.missing_paths_size()
              << " paths not in the sandbox; wrote " << options.learn_path
              << "\n"
              << "sandbox-run: learn: for trusted inputs only; review "
              << options.learn_path
              << ", and run --learn again on other inputs to learn the "
                 "calls they make\n";
  }
  return ExitStatusFor(learned->result);
}

int Main(int argc, char** argv) {
  // A root caller's supplementary groups would otherwise need setgroups
  // left allowed in the sandbox for the child to drop them.
  if (geteuid() == 0) setgroups(0, nullptr);
  proto::Policy overrides;
  std::vector<proto::Mount> extra_mounts;
  Options options = ParseFlags(argc, argv, overrides, extra_mounts);
  // --learn OUT with an existing OUT: OUT is the policy, and this run
  // merges into it.
  std::string previous;
  if (!options.learn_path.empty()) {
    std::ifstream existing(options.learn_path);
    if (existing) {
      if (!options.policy_path.empty()) {
        Die(absl::StrCat("--learn ", options.learn_path,
                         ": the file exists, so it is this run's policy and "
                         "the run merges into it; --policy cannot be given "
                         "too (remove the file to start again)"));
      }
      std::stringstream text;
      text << existing.rdbuf();
      previous = text.str();
    }
  }
  const bool merging = !previous.empty();
  const std::string path = merging                       ? options.learn_path
                           : options.policy_path.empty() ? DefaultPolicyPath()
                                                         : options.policy_path;
  absl::StatusOr<PolicyBuilder> builder = PolicyBuilder::FromTextFile(path);
  if (!builder.ok()) Die(builder.status().ToString());
  // Learning from the default policy: its sandbox, none of its calls.
  if (!options.learn_path.empty() && !merging && options.policy_path.empty()) {
    builder->mutable_proto().clear_seccomp();
    builder->mutable_proto().mutable_seccomp()->set_default_action(
        proto::Seccomp::KILL);
  }
  const int file_mounts = builder->proto().filesystem().mounts_size();
  const int file_env = builder->proto().env_size();
  // Flags override the file: scalar fields replace, mounts and env add.
  proto::Policy& policy = builder->mutable_proto();
  policy.MergeFrom(overrides);
  for (proto::Mount& mount : extra_mounts) {
    // A learn run merging into its file is given the same flags again:
    // what the file already has is not added twice.
    if (merging &&
        absl::c_any_of(
            policy.filesystem().mounts(), [&](const proto::Mount& existing) {
              return google::protobuf::util::MessageDifferencer::Equals(
                  existing, mount);
            })) {
      continue;
    }
    *policy.mutable_filesystem()->add_mounts() = std::move(mount);
  }
  if (merging) {
    std::vector<std::string> env;
    for (const std::string& variable : policy.env()) {
      if (!absl::c_linear_search(env, variable)) env.push_back(variable);
    }
    policy.clear_env();
    for (std::string& variable : env) policy.add_env(std::move(variable));
  }
  // A limit asked for on the command line is never silently weakened.
  if (options.strict_cgroup) {
    policy.mutable_limits()->set_cgroup_best_effort(false);
  }
  if (!options.seccomp_profile.empty()) {
    builder->SetSeccomp(ReadSeccompProfile(options.seccomp_profile));
    // --allow adds to the profile's rules as to the file's.
    for (int group : overrides.seccomp().allow_groups()) {
      builder->AllowGroup(static_cast<proto::SyscallGroup>(group));
    }
  }
  // --afl: the bridge's binds, environment and calls, checked by Build()
  // with the rest.
  std::unique_ptr<AflBridge> afl;
  if (options.afl) {
    absl::StatusOr<std::unique_ptr<AflBridge>> bridge = AflBridge::Create(
        options.argv, SiblingPath("sandbox-afl-shim"), policy);
    if (!bridge.ok()) Die(bridge.status().ToString());
    afl = *std::move(bridge);
  }
  absl::StatusOr<Policy> built = builder->Build();
  if (!built.ok()) {
    // The file's own mistakes keep their line:column; if the file alone is
    // fine, a flag broke it: the same check, named by that flag.
    absl::StatusOr<Policy> file_alone =
        PolicyBuilder::FromTextFile(path)->Build();
    if (!file_alone.ok()) Die(file_alone.status().ToString());
    const absl::Status flags_error =
        PolicyBuilder::FromProto(builder->proto()).Build().status();
    Die(NameTheFlag(flags_error.ok() ? built.status() : flags_error,
                    options.edits, file_mounts, file_env));
  }

  if (options.export_seccomp_profile) {
    absl::StatusOr<std::string> json =
        ExportOciSeccomp(built->proto().seccomp());
    if (!json.ok()) Die(json.status().ToString());
    std::cout << *json << "\n";
    return 0;
  }
  if (!options.learn_path.empty()) {
    return RunLearning(options, *builder, previous);
  }
  if (afl != nullptr) {
    const absl::Status served = afl->Serve(*built);
    if (!served.ok()) Die(served.ToString());
    return 0;
  }

  Command command;
  command.argv = options.argv;
  // A command-line tool's program talks to the user like any other.
  command.inherit_stdio = true;
  // One spawn: no fork server process for it.
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Spawn(*built, command, SpawnMode::kDirect);
  if (!sandbox.ok()) Die(sandbox.status().ToString());
  absl::StatusOr<proto::Result> result = (*sandbox)->Wait();
  if (!result.ok()) Die(result.status().ToString());
  PrintResult(options, *result);
  return ExitStatusFor(*result);
}

}  // namespace
}  // namespace sandbox

int main(int argc, char** argv) { return sandbox::Main(argc, argv); }
