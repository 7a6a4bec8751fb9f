#include "tests/test_util.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "sandbox/fd.h"
#include "sandbox/sandbox.h"

namespace sandbox::testing {

std::string TesteePath() { return SANDBOX_TESTEE_PATH; }
std::string SourceDir() { return SANDBOX_SOURCE_DIR; }
std::string BinDir() { return SANDBOX_BIN_DIR; }

bool IsRoot() { return geteuid() == 0; }

PolicyBuilder TesteePolicy() {
  absl::StatusOr<PolicyBuilder> builder =
      PolicyBuilder::FromTextFile(SourceDir() + "/policies/default.textproto");
  EXPECT_TRUE(builder.ok()) << builder.status();
  if (!builder.ok()) return PolicyBuilder();
  builder->AddBind(TesteePath(), kSandboxTestee, MountMode::kReadOnly);
  return *std::move(builder);
}

std::map<std::string, std::string> ParseValues(const std::string& output) {
  std::map<std::string, std::string> values;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    values[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return values;
}

TesteeRun RunTestee(const Policy& policy,
                    const std::vector<std::string>& args) {
  TesteeRun run;
  UniqueFd out(memfd_create("testee-stdout", MFD_CLOEXEC));
  EXPECT_TRUE(out.valid());
  Command command;
  command.argv.push_back(kSandboxTestee);
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.fds.push_back({out.get(), 1});
  absl::StatusOr<proto::Result> result = Run(policy, command);
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return run;
  run.result = *result;
  char buffer[4096];
  off_t offset = 0;
  ssize_t n;
  while ((n = pread(out.get(), buffer, sizeof(buffer), offset)) > 0) {
    run.output.append(buffer, n);
    offset += n;
  }
  run.values = ParseValues(run.output);
  return run;
}

std::string HostNamespaceInode(const std::string& name) {
  struct stat st;
  if (stat(absl::StrCat("/proc/self/ns/", name).c_str(), &st) != 0) return "-1";
  return absl::StrCat(st.st_ino);
}

}  // namespace sandbox::testing
