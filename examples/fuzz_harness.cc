// fuzz_harness: a fuzzing loop over a zlib-based parser, every input in a
// pristine process inside one sandbox (sandbox/input_worker.h).
//
// Use case: a fuzzer runs thousands of inputs a second through code that
// will crash, and must not let one input's damage (a corrupted heap, a
// global left set, a leftover process) decide the next input's fate, nor
// let the code under test reach the host. Here the target is an
// LLVMFuzzerTestOneInput-shaped function: it inflates its input with zlib
// (gzip or zlib framing) and hands the first byte of what came out to a
// record handler, picked from a table.
//
// BUG (planted, the kind fuzzers find): the table has four handlers but is
// indexed with the low three bits of the record type, so types 4 to 7 call
// a null pointer (a crash, SIGSEGV).
//
// The sandbox is set up once (every namespace, an empty root, a tight
// seccomp allow-list installed by LockDown() after zlib is ready); the
// template forks a child per input. The loop mutates inputs from the corpus
// (bit flips, byte sets, insertions, truncations), keeps every crashing
// input as crashes/crash-<hash>, and prints inputs per second:
//
//   build/bin/fuzz_harness [--corpus DIR] [--crashes DIR] [--runs N]
//                          [--seed N]
//
// Without --corpus it makes a small seed corpus in a temp dir; without
// --crashes crashing inputs go to a temp dir, printed. Exit status: 0 when
// the loop ran (crashes are results, not failures), 1 if the host failed.

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sandbox/input_worker.h"
#include "sandbox/policy_builder.h"
#include "sandbox/worker.h"

namespace {

// --- The target (runs in the sandbox, one fresh process per input) ---

using Handler = uint32_t (*)(const uint8_t* data, size_t size);

uint32_t CountLines(const uint8_t* data, size_t size) {
  uint32_t lines = 0;
  for (size_t i = 0; i < size; ++i) lines += data[i] == '\n';
  return lines;
}
uint32_t SumBytes(const uint8_t* data, size_t size) {
  uint32_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum += data[i];
  return sum;
}
uint32_t Crc(const uint8_t* data, size_t size) {
  return static_cast<uint32_t>(crc32(0, data, static_cast<uInt>(size)));
}
uint32_t Adler(const uint8_t* data, size_t size) {
  return static_cast<uint32_t>(adler32(1, data, static_cast<uInt>(size)));
}

Handler g_handlers[8] = {CountLines, SumBytes, Crc, Adler};

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  z_stream stream = {};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) return 0;  // 32: gzip or zlib
  stream.next_in = const_cast<Bytef*>(data);
  stream.avail_in = static_cast<uInt>(size);
  static uint8_t out[64 << 10];
  stream.next_out = out;
  stream.avail_out = sizeof(out);
  // What came out is used even when the stream is corrupt further on, as
  // lenient parsers do.
  inflate(&stream, Z_FINISH);
  const size_t got = sizeof(out) - stream.avail_out;
  inflateEnd(&stream);
  if (got == 0) return 0;
  // BUG: `& 7` where the table has 4 entries.
  const uint32_t summary = g_handlers[out[0] & 7](out + 1, got - 1);
  sandbox::WriteInputOutput(absl::Span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(&summary), sizeof(summary)));
  return 0;
}

// After LockDown(), what the template and its children call: Comms
// (sendmsg, recvmsg, poll), serving (clone for the fork, set_robust_list
// in the child, wait4, kill, rt_sigtimedwait, rt_sigprocmask, prctl,
// madvise, mmap for the input's private copy, close; sched_getaffinity and
// sched_setaffinity keep the template on one CPU, which makes each fork
// cheaper), zlib's memory (brk, mmap, munmap) and exit.
absl::StatusOr<sandbox::Policy> HarnessPolicy() {
  sandbox::PolicyBuilder builder;  // every namespace, an empty root
  builder.SetName("fuzz-harness")
      .AllowSyscalls({"sendmsg",
                      "recvmsg",
                      "poll",
                      "close",
                      "clone",
                      "set_robust_list",
                      "wait4",
                      "kill",
                      "rt_sigtimedwait",
                      "rt_sigprocmask",
                      "prctl",
                      "madvise",
                      "mmap",
                      "munmap",
                      "mremap",
                      "brk",
                      "exit",
                      "exit_group",
                      "sched_getaffinity",
                      "sched_setaffinity"})
      .SetCpuTime(absl::Seconds(10))
      .SetMaxOpenFiles(16);
  builder.mutable_proto().mutable_seccomp()->set_defer_until_lockdown(true);
  return builder.Build();
}

// --- The host ---

std::vector<uint8_t> Compress(const std::string& text, int level) {
  uLongf size = compressBound(text.size());
  std::vector<uint8_t> out(size);
  compress2(out.data(), &size, reinterpret_cast<const Bytef*>(text.data()),
            text.size(), level);
  out.resize(size);
  return out;
}

bool WriteFile(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return static_cast<bool>(out);
}

std::vector<std::vector<uint8_t>> ReadCorpus(const std::string& dir) {
  std::vector<std::vector<uint8_t>> corpus;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return corpus;
  while (struct dirent* entry = readdir(d)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream in(dir + "/" + entry->d_name, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string s = bytes.str();
    if (!s.empty() && s.size() <= (1 << 20))
      corpus.emplace_back(s.begin(), s.end());
  }
  closedir(d);
  return corpus;
}

// Records of types 0..3 (the handlers that exist), stored (level 0, whose
// bytes a mutation changes directly) and compressed.
bool MakeSeedCorpus(const std::string& dir) {
  const std::string records[] = {std::string("\x00line one\nline two\n", 19),
                                 "\x01"
                                 "bytes to sum",
                                 "\x02"
                                 "crc me",
                                 "\x03"
                                 "adler me"};
  int n = 0;
  for (const std::string& record : records) {
    for (int level : {0, 9}) {
      if (!WriteFile(absl::StrFormat("%s/seed-%d", dir, n++),
                     Compress(record, level))) {
        return false;
      }
    }
  }
  return true;
}

std::vector<uint8_t> Mutate(std::vector<uint8_t> input, std::mt19937_64& rng) {
  const int mutations = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < mutations; ++i) {
    switch (rng() % 4) {
      case 0:
        if (!input.empty()) input[rng() % input.size()] ^= 1 << (rng() % 8);
        break;
      case 1:
        if (!input.empty()) input[rng() % input.size()] = rng() & 0xff;
        break;
      case 2:
        input.insert(input.begin() + (input.empty() ? 0 : rng() % input.size()),
                     rng() & 0xff);
        break;
      case 3:
        if (input.size() > 1)
          input.resize(input.size() - 1 - rng() % (input.size() / 2 + 1));
        break;
    }
  }
  return input;
}

std::string TempDir(const char* prefix) {
  std::string path = absl::StrFormat("/tmp/%s-XXXXXX", prefix);
  return mkdtemp(path.data()) != nullptr ? path : "";
}

}  // namespace

int main(int argc, char** argv) {
  // First thing in main, while single-threaded: the worker, then the zygote.
  absl::Status started = sandbox::RegisterInputWorker(
      "zlib_target", LLVMFuzzerTestOneInput,
      // The template's initialisation, before LockDown(): zlib's tables.
      [] {
        g_handlers[0](nullptr, 0);
        (void)zlibVersion();
      });
  if (started.ok()) started = sandbox::InitForkServer(argc, argv);
  if (!started.ok()) {
    std::fprintf(stderr, "fuzz_harness: %s\n", started.ToString().c_str());
    return 1;
  }
  std::string corpus_dir;
  std::string crashes_dir;
  uint64_t runs = 20000;
  uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--corpus" && has_value) {
      corpus_dir = argv[++i];
    } else if (arg == "--crashes" && has_value) {
      crashes_dir = argv[++i];
    } else if (arg == "--runs" && has_value &&
               absl::SimpleAtoi(argv[i + 1], &runs)) {
      ++i;
    } else if (arg == "--seed" && has_value &&
               absl::SimpleAtoi(argv[i + 1], &seed)) {
      ++i;
    } else {
      const bool help = arg == "--help" || arg == "-h";
      std::fprintf(help ? stdout : stderr,
                   "usage: fuzz_harness [--corpus DIR] [--crashes DIR] "
                   "[--runs N] [--seed N]\n"
                   "  --corpus DIR   inputs to mutate (default: seeds made in "
                   "a temp dir)\n"
                   "  --crashes DIR  where failing inputs are kept, as "
                   "crash-<hash> (default: a new temp dir)\n"
                   "  --runs N       inputs to run (default 20000)\n"
                   "  --seed N       the mutator's seed (default 1)\n");
      return help ? 0 : 1;
    }
  }
  std::string seed_dir;  // made here, removed at the end
  if (corpus_dir.empty()) {
    corpus_dir = seed_dir = TempDir("fuzz_harness-corpus");
    if (corpus_dir.empty() || !MakeSeedCorpus(corpus_dir)) {
      std::fprintf(stderr, "fuzz_harness: cannot write the seed corpus\n");
      return 1;
    }
  }
  if (crashes_dir.empty()) {
    crashes_dir = TempDir("fuzz_harness-crashes");
  } else if (mkdir(crashes_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::perror(("fuzz_harness: mkdir " + crashes_dir).c_str());
    return 1;
  }
  const std::vector<std::vector<uint8_t>> corpus = ReadCorpus(corpus_dir);
  if (!seed_dir.empty()) {
    for (int i = 0; i < 8; ++i) {
      unlink(absl::StrFormat("%s/seed-%d", seed_dir, i).c_str());
    }
    rmdir(seed_dir.c_str());
  }
  if (corpus.empty() || crashes_dir.empty()) {
    std::fprintf(stderr, "fuzz_harness: no corpus in %s, or no crashes dir\n",
                 corpus_dir.c_str());
    return 1;
  }
  std::printf("corpus %s (%zu inputs), crashes to %s\n",
              seed_dir.empty() ? corpus_dir.c_str() : "(seeds)", corpus.size(),
              crashes_dir.c_str());

  absl::StatusOr<sandbox::Policy> policy = HarnessPolicy();
  if (!policy.ok()) {
    std::fprintf(stderr, "fuzz_harness: %s\n",
                 policy.status().ToString().c_str());
    return 1;
  }
  sandbox::InputOptions options;
  options.max_input_bytes = 1 << 20;
  options.timeout = absl::Seconds(1);
  absl::StatusOr<std::unique_ptr<sandbox::InputSandbox>> inputs =
      sandbox::InputSandbox::Create(*policy, {.worker = "zlib_target"},
                                    options);
  if (!inputs.ok()) {
    std::fprintf(stderr, "fuzz_harness: %s\n",
                 inputs.status().ToString().c_str());
    return 1;
  }

  std::mt19937_64 rng(seed);
  std::map<std::string, uint64_t> outcomes;
  std::set<size_t> kept;
  const absl::Time start = absl::Now();
  for (uint64_t run = 0; run < runs; ++run) {
    const std::vector<uint8_t> input =
        Mutate(corpus[rng() % corpus.size()], rng);
    absl::StatusOr<sandbox::InputResult> result = (*inputs)->Run(input);
    if (!result.ok()) {
      std::fprintf(stderr, "fuzz_harness: %s\n",
                   result.status().ToString().c_str());
      return 1;
    }
    ++outcomes[sandbox::InputOutcomeName(result->outcome)];
    if (result->outcome == sandbox::InputOutcome::kOk) continue;
    const size_t hash = absl::HashOf(input);
    if (kept.size() < 100 && kept.insert(hash).second) {
      const std::string path =
          absl::StrFormat("%s/crash-%016x", crashes_dir, hash);
      if (!WriteFile(path, input)) {
        std::fprintf(stderr, "fuzz_harness: cannot write %s\n", path.c_str());
        return 1;
      }
    }
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("%llu inputs in %.2f s: %.0f inputs/s\n",
              static_cast<unsigned long long>(runs), seconds,
              seconds > 0 ? runs / seconds : 0.0);
  std::string summary;
  for (const auto& [name, count] : outcomes) {
    absl::StrAppendFormat(&summary, "%s%s %llu", summary.empty() ? "" : ", ",
                          name, static_cast<unsigned long long>(count));
  }
  std::printf("outcomes: %s; %zu distinct failing inputs kept\n",
              summary.c_str(), kept.size());
  std::printf("sandboxes started: %d\n", (*inputs)->starts());
  return 0;
}
