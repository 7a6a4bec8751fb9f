#include "sandbox/internal/exec_diagnosis.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "sandbox/fd.h"

namespace sandbox::internal {
namespace {

// As the kernel: links followed per lookup, #! interpreters nested.
constexpr int kMaxLinks = 40;
constexpr int kMaxInterpreterDepth = 4;

bool IsAtOrBelow(absl::string_view path, absl::string_view dir) {
  return path == dir || (absl::StartsWith(path, dir) &&
                         path.size() > dir.size() && path[dir.size()] == '/');
}

// Where `mount` sits in the sandbox; empty for a mount of no kind.
std::string MountTarget(const proto::Mount& mount) {
  if (mount.has_bind()) {
    return mount.bind().target().empty() ? mount.bind().source()
                                         : mount.bind().target();
  }
  if (mount.has_tmpfs()) return mount.tmpfs().target();
  return "";
}

// The mount that shows `path`: the one at its longest covering target,
// the later of two at the same target. nullptr for the root tmpfs.
const proto::Mount* CoveringMount(const proto::Filesystem& fs,
                                  absl::string_view path, std::string& target) {
  const proto::Mount* best = nullptr;
  for (const proto::Mount& mount : fs.mounts()) {
    std::string candidate = MountTarget(mount);
    if (candidate.empty()) continue;
    if (IsAtOrBelow(path, candidate) &&
        (best == nullptr || candidate.size() >= target.size())) {
      best = &mount;
      target = std::move(candidate);
    }
  }
  return best;
}

// Whether some mount sits below `path`, which then exists as a directory
// of the root tmpfs (or of the mount above).
bool HasMountBelow(const proto::Filesystem& fs, absl::string_view path) {
  for (const proto::Mount& mount : fs.mounts()) {
    const std::string target = MountTarget(mount);
    if (!target.empty() && target != path && IsAtOrBelow(target, path)) {
      return true;
    }
  }
  return false;
}

// Reads up to `size` bytes at `offset` of the regular host file `path`
// (opened without following a final link, without blocking on a FIFO).
std::string ReadHostFile(const std::string& path, off_t offset, size_t size) {
  UniqueFd fd(open(path.c_str(),
                   O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
  struct stat st;
  if (!fd || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return "";
  std::string bytes(size, '\0');
  const ssize_t got = pread(fd.get(), bytes.data(), size, offset);
  bytes.resize(got > 0 ? static_cast<size_t>(got) : 0);
  return bytes;
}

// PT_INTERP of the ELF file at host `path`; empty if it has none or is no
// ELF file.
template <typename Ehdr, typename Phdr>
std::string ElfInterpreter(const std::string& path, const std::string& head) {
  Ehdr header;
  if (head.size() < sizeof(header)) return "";
  memcpy(&header, head.data(), sizeof(header));
  if (header.e_phentsize != sizeof(Phdr) || header.e_phnum > 256) return "";
  const std::string table = ReadHostFile(
      path, static_cast<off_t>(header.e_phoff), header.e_phnum * sizeof(Phdr));
  for (size_t i = 0; i + sizeof(Phdr) <= table.size(); i += sizeof(Phdr)) {
    Phdr program;
    memcpy(&program, table.data() + i, sizeof(program));
    if (program.p_type != PT_INTERP || program.p_filesz > PATH_MAX) continue;
    std::string interpreter = ReadHostFile(
        path, static_cast<off_t>(program.p_offset), program.p_filesz);
    return interpreter.substr(0, interpreter.find('\0'));
  }
  return "";
}

// What the kernel would run the program at host `path` with, and how it
// names that: {"/lib64/ld-linux-x86-64.so.2", "ELF interpreter"},
// {"/bin/sh", "#! interpreter"}, or {"", ""}.
std::pair<std::string, std::string> InterpreterOf(const std::string& path) {
  const std::string head = ReadHostFile(path, 0, 256);
  if (absl::StartsWith(head, "#!")) {
    // As binfmt_script: blanks, then the path up to a blank or the line's
    // end.
    absl::string_view line = absl::string_view(head).substr(2);
    line = line.substr(0, line.find('\n'));
    const size_t start = line.find_first_not_of(" \t");
    if (start == absl::string_view::npos) return {};
    line = line.substr(start);
    return {std::string(line.substr(0, line.find_first_of(" \t"))),
            "#! interpreter"};
  }
  if (head.size() < EI_NIDENT || memcmp(head.data(), ELFMAG, SELFMAG) != 0) {
    return {};
  }
  std::string interpreter =
      head[EI_CLASS] == ELFCLASS64
          ? ElfInterpreter<Elf64_Ehdr, Elf64_Phdr>(path, head)
          : ElfInterpreter<Elf32_Ehdr, Elf32_Phdr>(path, head);
  if (interpreter.empty()) return {};
  return {std::move(interpreter), "ELF interpreter"};
}

}  // namespace

SandboxPath ResolveSandboxPath(const proto::Filesystem& fs,
                               absl::string_view path) {
  SandboxPath result;
  std::deque<std::string> todo;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    todo.emplace_back(part);
  }
  std::vector<std::string> done;
  int links = 0;
  auto joined = [&done] { return absl::StrCat("/", absl::StrJoin(done, "/")); };
  // Not there: the path asked for, or where its links led.
  auto missing = [&](const std::string& current) {
    result.kind = SandboxPath::Kind::kMissing;
    result.missing = std::string(path);
    if (links > 0) {
      result.missing = current;
      for (const std::string& rest : todo) {
        absl::StrAppend(&result.missing, "/", rest);
      }
    }
    return result;
  };
  while (!todo.empty()) {
    const std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    const std::string current = joined();
    if ((fs.proc() || !fs.has_proc()) && IsAtOrBelow(current, "/proc")) {
      return result;  // kUnknown
    }
    if ((fs.dev() || !fs.has_dev()) && IsAtOrBelow(current, "/dev")) {
      return result;
    }
    std::string target;
    const proto::Mount* mount = CoveringMount(fs, current, target);
    if (mount == nullptr || mount->has_tmpfs()) {
      // The root tmpfs or another one: only mount points are there before
      // the program runs.
      if (HasMountBelow(fs, current)) continue;
      if (mount != nullptr) return result;  // a tmpfs: cannot tell
      return missing(current);
    }
    const std::string host =
        absl::StrCat(mount->bind().source(), current.substr(target.size()));
    struct stat st;
    // The mount point itself is never a link in the sandbox: what the
    // source leads to is what was bound.
    const bool at_mount_point = current.size() == target.size();
    if ((at_mount_point ? stat(host.c_str(), &st) : lstat(host.c_str(), &st)) !=
        0) {
      if (errno != ENOENT && errno != ENOTDIR) return result;
      return missing(current);
    }
    if (!S_ISLNK(st.st_mode)) continue;
    if (++links > kMaxLinks) return result;
    char link[PATH_MAX];
    const ssize_t length = readlink(host.c_str(), link, sizeof(link));
    if (length <= 0 || static_cast<size_t>(length) >= sizeof(link)) {
      return result;
    }
    done.pop_back();
    if (link[0] == '/') done.clear();
    std::vector<std::string> parts =
        absl::StrSplit(absl::string_view(link, static_cast<size_t>(length)),
                       '/', absl::SkipEmpty());
    todo.insert(todo.begin(), parts.begin(), parts.end());
  }
  const std::string current = joined();
  std::string target;
  const proto::Mount* mount = CoveringMount(fs, current, target);
  if (mount == nullptr || !mount->has_bind()) return result;
  result.kind = SandboxPath::Kind::kOnBind;
  result.host_path =
      absl::StrCat(mount->bind().source(), current.substr(target.size()));
  return result;
}

std::optional<std::string> ExplainExecNotFound(
    const proto::Filesystem& fs, absl::Span<const std::string> candidates) {
  const std::string cwd = fs.cwd().empty() ? "/" : fs.cwd();
  for (const std::string& candidate : candidates) {
    if (candidate.empty()) continue;
    const std::string path =
        candidate[0] == '/' ? candidate : absl::StrCat(cwd, "/", candidate);
    SandboxPath program = ResolveSandboxPath(fs, path);
    if (program.kind != SandboxPath::Kind::kOnBind) continue;
    // The program is there: follow its interpreters until one is missing.
    // "X is there, but its #! interpreter A needs the ELF interpreter B,
    // which is not in the sandbox".
    std::string explanation = absl::StrCat(candidate, " is there, but its ");
    for (int depth = 0; depth < kMaxInterpreterDepth; ++depth) {
      auto [interpreter, what] = InterpreterOf(program.host_path);
      if (interpreter.empty() || interpreter[0] != '/') break;
      if (depth > 0) {
        absl::StrAppend(&explanation, depth > 1 ? ", which" : "",
                        " needs the ");
      }
      absl::StrAppend(&explanation, what, " ", interpreter);
      program = ResolveSandboxPath(fs, interpreter);
      if (program.kind == SandboxPath::Kind::kMissing) {
        if (program.missing != interpreter) {
          absl::StrAppend(&explanation, " (a link to ", program.missing, ")");
        }
        absl::StrAppend(&explanation, depth > 0 ? ", which" : "",
                        " is not in the sandbox");
        return explanation;
      }
      if (program.kind != SandboxPath::Kind::kOnBind) break;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace sandbox::internal
