// The example at the top of sandbox/input_worker.h, as a program: a zygote
// input worker needs a main() of its own. header_examples_test checks that
// the header shows this file from FuzzOne() on, word for word, and runs it
// on a corpus file of one input per line.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "sandbox/input_worker.h"
#include "sandbox/policy_builder.h"
#include "sandbox/status_macros.h"
#include "sandbox/worker.h"

namespace {

// What the example leaves to the reader: a parser with a bug (an input
// that starts with '!' aborts), keeping an input, and reading the corpus.
void Parse(const uint8_t* data, size_t size) {
  if (size > 0 && data[0] == '!') abort();
}

void Keep(const std::string& input) { std::printf("kept %s\n", input.c_str()); }

std::vector<std::string> ReadCorpus(const char* path) {
  std::vector<std::string> corpus;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) corpus.push_back(line);
  return corpus;
}

}  // namespace

int FuzzOne(const uint8_t* data, size_t size) {
  Parse(data, size);  // may crash, loop, allocate without end
  return 0;           // the child's exit code
}

absl::Status FuzzCorpus(const std::vector<std::string>& corpus) {
  SBX_ASSIGN_OR_RETURN(sandbox::PolicyBuilder builder,
                       sandbox::PolicyBuilder::Default());
  SBX_ASSIGN_OR_RETURN(sandbox::Policy policy, builder.Build());
  SBX_ASSIGN_OR_RETURN(
      std::unique_ptr<sandbox::InputSandbox> inputs,
      sandbox::InputSandbox::Create(policy, {.worker = "parse"}));
  for (const std::string& input : corpus) {
    SBX_ASSIGN_OR_RETURN(sandbox::InputResult result, inputs->Run(input));
    if (result.outcome != sandbox::InputOutcome::kOk) Keep(input);
  }
  return absl::OkStatus();
}

int main(int argc, char** argv) {
  if (!sandbox::RegisterInputWorker("parse", FuzzOne).ok()) return 1;
  if (!sandbox::InitForkServer(argc, argv).ok()) return 1;
  return FuzzCorpus(ReadCorpus(argv[1])).ok() ? 0 : 1;
}
