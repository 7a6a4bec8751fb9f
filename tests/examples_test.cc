// The programs in examples/, run as the README runs them (build/bin/<name>
// as a subprocess), with assertions on what they print and how they exit.

#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

extern char** environ;

namespace sandbox {
namespace {

using ::sandbox::testing::BinDir;
using ::sandbox::testing::ProgramRun;
using ::sandbox::testing::RunHostProgram;
using ::sandbox::testing::SourceDir;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::Not;

// Why an example's sandboxed half cannot run sanitized (ShadowSanitizer()).
constexpr char kFileParserUnderSanitizer[] =
    "the workers' RLIMIT_AS of 256M leaves the sanitizer runtime no room "
    "(it reserves terabytes of shadow)";
constexpr char kTabsUnderSanitizer[] =
    "a tab's allow-list lacks sigaltstack, which the sanitizer runtime calls "
    "before the worker's _exit";
constexpr char kPluginUnderSanitizer[] =
    "the plugin's RLIMIT_AS of 1G leaves the sanitizer runtime no room (it "
    "reserves terabytes of shadow)";

#define SKIP_UNDER_SHADOW_SANITIZER(why)                                \
  if (const char* sanitizer = ShadowSanitizer()) {                      \
    GTEST_SKIP() << "cannot run under -fsanitize=" << sanitizer << ": " \
                 << (why);                                              \
  }

ProgramRun RunExample(const std::string& name,
                      std::vector<std::string> args = {}) {
  return RunHostProgram(BinDir() + "/" + name, std::move(args));
}

// A fresh directory under /tmp, removed (with its files) at destruction.
class TempDir {
 public:
  TempDir() {
    char path[] = "/tmp/sandbox-examples-XXXXXX";
    EXPECT_NE(mkdtemp(path), nullptr);
    path_ = path;
  }
  ~TempDir() {
    for (const std::string& file : files_) unlink(file.c_str());
    rmdir(path_.c_str());
  }
  std::string File(const std::string& name, const std::string& contents) {
    const std::string path = absl::StrCat(path_, "/", name);
    std::ofstream(path, std::ios::binary) << contents;
    files_.push_back(path);
    return path;
  }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// --- file_parser ---

TEST(ReadmeExampleTest, TheReadmeShowsTheProgramThatRuns) {
  // The README's library block is examples/readme_library.cc from its first
  // #include on.
  std::ifstream readme_file(SourceDir() + "/README.md");
  std::stringstream readme;
  readme << readme_file.rdbuf();
  std::ifstream source_file(SourceDir() + "/examples/readme_library.cc");
  std::stringstream source;
  source << source_file.rdbuf();
  const std::string program =
      source.str().substr(source.str().find("#include"));
  EXPECT_TRUE(absl::StrContains(readme.str(),
                                absl::StrCat("```c++\n", program, "```\n")))
      << "README.md's library example differs from "
         "examples/readme_library.cc";
  ProgramRun run = RunExample("readme_library");
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("hello from sandbox\n"));
  EXPECT_THAT(run.out, HasSubstr("OK exit_code=0\n"));
}

TEST(FileParserExampleTest, DemoReportsEachHostileFileAndGoesOn) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(kFileParserUnderSanitizer);
  ProgramRun run = RunExample("file_parser");
  ASSERT_EQ(run.exit_status, 0) << run.out << run.err;
  const std::vector<std::string> lines =
      absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 8u) << run.out;
  ASSERT_THAT(lines[0], HasSubstr("demo inputs in /tmp/"));
  EXPECT_THAT(lines[1],
              HasSubstr("/hello.gz: ok 31 bytes, crc32 098d66b0, first line "
                        "\"Hello from a sandboxed gunzip!\""));
  EXPECT_THAT(lines[2], HasSubstr("/notes.txt: rejected not a gzip file"));
  EXPECT_THAT(lines[3], HasSubstr("/truncated.gz: timeout"));
  EXPECT_THAT(lines[4], HasSubstr("/bomb.gz: crashed (signal 6)"));
  EXPECT_THAT(lines[5], HasSubstr("/bad-method.gz: crashed (signal 11)"));
  EXPECT_THAT(lines[6], HasSubstr("/traversal.gz: violation openat"));
  // After all that, the last file is parsed as if nothing had happened.
  EXPECT_THAT(lines[7], HasSubstr("/lines.gz: ok 2890 bytes"));
  // The demo cleans up after itself.
  const std::string dir = lines[0].substr(lines[0].find("/tmp/"));
  EXPECT_FALSE(Exists(dir)) << dir;
  // The traversal never reached the host's /tmp.
  EXPECT_FALSE(Exists("/tmp/.bashrc"));
}

// What /usr/bin/gzip -n makes of `text`, and the size and CRC-32 its
// trailer records.
struct Gzipped {
  std::string path;
  uint32_t crc = 0;
  uint32_t size = 0;
};

Gzipped GzipWithDebianGzip(TempDir& dir, const std::string& name,
                           const std::string& text) {
  Gzipped gz;
  const std::string plain = dir.File(name, text);
  gz.path = dir.File(name + ".gz", "");
  ProgramRun gzip =
      RunHostProgram("/usr/bin/gzip", {"-n", "-c", plain}, gz.path);
  EXPECT_EQ(gzip.exit_status, 0) << gzip.err;
  std::ifstream in(gz.path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string data = bytes.str();
  EXPECT_GT(data.size(), 18u);
  if (data.size() < 8) return gz;
  auto le32 = [&](size_t at) {
    return static_cast<uint32_t>(static_cast<uint8_t>(data[at])) |
           static_cast<uint32_t>(static_cast<uint8_t>(data[at + 1])) << 8 |
           static_cast<uint32_t>(static_cast<uint8_t>(data[at + 2])) << 16 |
           static_cast<uint32_t>(static_cast<uint8_t>(data[at + 3])) << 24;
  };
  gz.crc = le32(data.size() - 8);
  gz.size = le32(data.size() - 4);
  return gz;
}

TEST(FileParserExampleTest, ParsesFilesFromTheCommandLine) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(kFileParserUnderSanitizer);
  TempDir dir;
  std::string text = "first line of a real gzip file\n";
  for (int i = 0; i < 500; ++i) absl::StrAppend(&text, "row ", i, "\n");
  const Gzipped real = GzipWithDebianGzip(dir, "real.txt", text);
  ASSERT_EQ(real.size, text.size());
  // A gzip header, then a deflate block of an invalid type.
  const std::string garbage = dir.File(
      "garbage.gz",
      std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage!", 18));
  const std::string missing = dir.File("missing.gz", "");
  unlink(missing.c_str());

  ProgramRun run = RunExample("file_parser", {real.path, garbage, missing});
  ASSERT_EQ(run.exit_status, 0) << run.out << run.err;
  EXPECT_THAT(run.out, Not(HasSubstr("demo inputs")));
  EXPECT_THAT(run.out,
              HasSubstr(absl::StrFormat(
                  "%s: ok %d bytes, crc32 %08x, first line \"first line of a "
                  "real gzip file\"\n",
                  real.path, real.size, real.crc)));
  EXPECT_THAT(run.out, HasSubstr(garbage + ": rejected invalid block type\n"));
  EXPECT_THAT(run.out, HasSubstr(missing + ": unreadable\n"));
}

// --- tabs ---

TEST(TabsExampleTest, EveryCheckHoldsWithTheDefaultFourTabs) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(kTabsUnderSanitizer);
  ProgramRun run = RunExample("tabs");
  EXPECT_EQ(run.exit_status, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("opened 4 tabs"));
  EXPECT_THAT(run.out, ContainsRegex("tab 3: pid 2, sees pids \\[1 2\\], "
                                     "pid:\\[[0-9]+\\]"));
  EXPECT_THAT(run.out, HasSubstr("[ok] kill(<another tab>, 0) fails with "
                                 "ESRCH (12 probes)"));
  EXPECT_THAT(run.out, HasSubstr("[ok] tab 0 killed: KILLED"));
  EXPECT_THAT(run.out, HasSubstr("[ok] tabs 1..3 still run and answer ping"));
  EXPECT_THAT(run.out, Not(HasSubstr("FAILED")));
  EXPECT_THAT(run.out, HasSubstr("all checks held"));
}

TEST(TabsExampleTest, TakesTheNumberOfTabs) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(kTabsUnderSanitizer);
  ProgramRun six = RunExample("tabs", {"6"});
  EXPECT_EQ(six.exit_status, 0) << six.out << six.err;
  EXPECT_THAT(six.out, HasSubstr("opened 6 tabs"));
  EXPECT_THAT(six.out, HasSubstr("(30 probes)"));
  ProgramRun one = RunExample("tabs", {"1"});
  EXPECT_EQ(one.exit_status, 2);
  EXPECT_THAT(one.err, HasSubstr("usage: tabs"));
}

// --- plugin_host ---

TEST(PluginHostExampleTest, ExchangesProtosAndStopsTheNetworkProbe) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(kPluginUnderSanitizer);
  ProgramRun run = RunExample("plugin_host");
  EXPECT_EQ(run.exit_status, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("share/sandbox/policies/plugin.textproto"));
  EXPECT_THAT(run.out, HasSubstr("\"hello from the host\" -> \"HELLO FROM THE "
                                 "HOST\", 4 words"));
  EXPECT_THAT(run.out, HasSubstr("plugin: exited 0"));
  EXPECT_THAT(run.out, HasSubstr("network probe: violation: "
                                 "socket(AF_INET, SOCK_STREAM, 0)"));
  EXPECT_THAT(run.out, HasSubstr("everything as expected"));
}

TEST(PluginHostExampleTest, SendsTheTextsGivenOnTheCommandLine) {
  SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(kPluginUnderSanitizer);
  ProgramRun run = RunExample("plugin_host", {"one two  three", "x"});
  EXPECT_EQ(run.exit_status, 0) << run.out << run.err;
  EXPECT_THAT(run.out,
              HasSubstr("\"one two  three\" -> \"ONE TWO  THREE\", 3 words"));
  EXPECT_THAT(run.out, HasSubstr("\"x\" -> \"X\", 1 words"));
}

TEST(PluginHostExampleTest, TheDefaultPolicyWouldLetThePluginOntoTheNetwork) {
  if (!testing::IsRoot()) {
    SANDBOX_SKIP_UNDER_SHADOW_SANITIZER(
        testing::kUnprivilegedMemoryLimitVsSanitizer);
  }
  // The control for the test above: it is plugin.textproto that stops the
  // probe, not something else.
  ProgramRun run = RunExample(
      "plugin_host", {"--policy", SourceDir() + "/policies/default.textproto"});
  EXPECT_EQ(run.exit_status, 1) << run.out << run.err;
  EXPECT_THAT(run.out,
              HasSubstr("network probe answered: a TCP socket was opened"));
  EXPECT_THAT(run.out, HasSubstr("UNEXPECTED"));
}

TEST(PluginHostExampleTest, MissingPluginIsASetupError) {
  ProgramRun run =
      RunExample("plugin_host", {"--plugin", "/nonexistent/plugin"});
  EXPECT_EQ(run.exit_status, 1);
  EXPECT_THAT(run.out, HasSubstr("plugin: setup error: ro-bind "
                                 "/nonexistent/plugin -> /plugin"));
  EXPECT_THAT(run.out, Not(HasSubstr("network probe")));
}

TEST(PluginHostExampleTest, ThePluginAloneRefusesToRun) {
  ProgramRun run = RunExample("plugin");
  EXPECT_EQ(run.exit_status, 2);
  EXPECT_THAT(run.err, HasSubstr("plugin_host runs me"));
}

// --- fuzz_harness ---

TEST(FuzzHarnessExampleTest, FindsThePlantedCrashAndKeepsTheInputs) {
  testing::ScratchDir crashes("fuzz-harness-test-");
  ProgramRun run = RunExample("fuzz_harness", {"--runs", "2000", "--seed", "1",
                                               "--crashes", crashes.path()});
  ASSERT_EQ(run.exit_status, 0) << run.out << run.err;
  EXPECT_THAT(run.out, ContainsRegex("2000 inputs in [0-9.]+ s: [0-9]+ "
                                     "inputs/s"));
  // The planted null handler is found, the rest run clean, and one sandbox
  // served them all.
  EXPECT_THAT(run.out, ContainsRegex("outcomes: crash [1-9][0-9]*, ok "));
  EXPECT_THAT(run.out, HasSubstr("sandboxes started: 1\n"));
  int kept = 0;
  DIR* dir = opendir(crashes.path().c_str());
  ASSERT_NE(dir, nullptr);
  while (struct dirent* entry = readdir(dir)) {
    if (absl::StartsWith(entry->d_name, "crash-")) ++kept;
  }
  closedir(dir);
  EXPECT_GT(kept, 0);
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat(kept,
                                              " distinct failing "
                                              "inputs kept")));
}

}  // namespace
}  // namespace sandbox
