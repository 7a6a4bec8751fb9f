#include "sandbox/learn.h"

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "sandbox/internal/learn_recorder.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/internal/seccomp_compiler.h"
#include "sandbox/internal/syscall_decoder.h"
#include "sandbox/internal/syscall_groups.h"
#include "sandbox/internal/violation_remedy.h"
#include "sandbox/sandbox.h"
#include "sandbox/status_macros.h"

namespace sandbox {
namespace {

constexpr absl::string_view kBegin = "# >>> learned";
constexpr absl::string_view kEnd = "# <<< learned";
// Per-call conditions only up to this many values of the key argument.
constexpr size_t kMaxKeyValues = 4;
// Examples quoted in a comment.
constexpr int kMaxExamples = 3;

// The base as the program will run under it: every call to the
// supervisor, which judges each by the base's own filter (an ERRNO default
// turned into a notification, so that calls outside the base are learned
// rather than failed).
absl::StatusOr<Policy> BuildForLearning(const PolicyBuilder& base) {
  SBX_ASSIGN_OR_RETURN(Policy built, base.Build());
  const proto::Seccomp& seccomp = built.proto().seccomp();
  if (seccomp.defer_until_lockdown()) {
    return absl::InvalidArgumentError(
        "learn mode: seccomp.defer_until_lockdown is not supported (learn "
        "the program with the filter in from the start)");
  }
  const int bootstrap_fd = internal::StateOf(built).bootstrap_fd();
  proto::Seccomp judged = seccomp;
  if (judged.default_action() == proto::Seccomp::ERRNO) {
    judged.set_default_action(proto::Seccomp::KILL);
    judged.clear_default_errno();
  }
  SBX_ASSIGN_OR_RETURN(SeccompProgram base_program,
                       CompileSeccomp(judged, {.bootstrap_fd = bootstrap_fd}));
  // No rule: everything but the bootstrap hole notifies.
  SBX_ASSIGN_OR_RETURN(
      SeccompProgram everything,
      CompileSeccomp(proto::Seccomp(), {.bootstrap_fd = bootstrap_fd}));
  everything.learn_base = std::make_shared<const std::vector<sock_filter>>(
      std::move(base_program.instructions));
  return internal::BuildWithProgram(base, std::move(everything));
}

std::string Indent(absl::string_view text, absl::string_view prefix) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty()) continue;
    absl::StrAppend(&out, prefix, line, "\n");
  }
  return out;
}

std::string Examples(const std::vector<const proto::ObservedCall*>& calls) {
  std::vector<std::string> examples;
  uint64_t total = 0;
  for (const proto::ObservedCall* call : calls) {
    total += call->count();
    if (static_cast<int>(examples.size()) < kMaxExamples) {
      examples.push_back(call->decoded().empty() ? call->syscall()
                                                 : call->decoded());
    }
  }
  return absl::StrCat(total, total == 1 ? " call" : " calls", ", e.g. ",
                      absl::StrJoin(examples, "; "));
}

std::array<uint64_t, 6> ArgsOf(const proto::ObservedCall& call) {
  std::array<uint64_t, 6> args = {};
  for (int i = 0; i < call.args_size() && i < 6; ++i) args[i] = call.args(i);
  return args;
}

// The learned block's lines for `report` (run `run`): groups where two or
// more of the calls fit one, rules for the rest, comments for what was
// denied and for missing paths.
std::string LearnedLines(const proto::LearnReport& report, int run,
                         absl::string_view label, absl::string_view earlier) {
  std::string out = absl::StrCat("  # run ", run, ": ", label, "\n");
  if (report.calls().empty()) {
    absl::StrAppend(&out, "  # run ", run,
                    ": nothing outside the policy was called\n");
  }
  // Greedy cover: the group that allows the most distinct calls still
  // uncovered, the smallest on a tie, while it covers two or more.
  std::vector<const proto::ObservedCall*> uncovered;
  for (const proto::ObservedCall& call : report.calls()) {
    uncovered.push_back(&call);
  }
  absl::StatusOr<const proto::SyscallGroupTable*> table =
      internal::SyscallGroups();
  while (table.ok()) {
    const proto::SyscallGroupDefinition* best = nullptr;
    size_t best_calls = 0;
    size_t best_size = 0;
    for (const proto::SyscallGroupDefinition& group : (*table)->groups()) {
      const std::string name = proto::SyscallGroup_Name(group.group());
      std::set<std::string> names;
      for (const proto::ObservedCall* call : uncovered) {
        if (absl::c_linear_search(
                internal::GroupsAllowing(call->nr(), ArgsOf(*call)), name)) {
          names.insert(call->syscall());
        }
      }
      size_t size = 0;
      for (const proto::SyscallRule& rule : group.rules()) {
        size += rule.syscalls_size();
      }
      if (names.size() > best_calls ||
          (names.size() == best_calls && best != nullptr && size < best_size)) {
        best = &group;
        best_calls = names.size();
        best_size = size;
      }
    }
    if (best == nullptr || best_calls < 2) break;
    const std::string name = proto::SyscallGroup_Name(best->group());
    std::vector<const proto::ObservedCall*> covered;
    std::vector<const proto::ObservedCall*> rest;
    for (const proto::ObservedCall* call : uncovered) {
      (absl::c_linear_search(
           internal::GroupsAllowing(call->nr(), ArgsOf(*call)), name)
           ? covered
           : rest)
          .push_back(call);
    }
    absl::StrAppend(&out, "  # run ", run, ": ", Examples(covered), "\n",
                    "  allow_groups: ", name, "\n");
    uncovered = std::move(rest);
  }
  // The rest, by system call.
  std::map<std::string, std::vector<const proto::ObservedCall*>> by_name;
  for (const proto::ObservedCall* call : uncovered) {
    by_name[call->syscall()].push_back(call);
  }
  for (const auto& [name, calls] : by_name) {
    absl::StrAppend(&out, "  # run ", run, ": ", Examples(calls), "\n");
    const int key = internal::LearnedKeyArgument(calls.front()->nr());
    std::set<uint64_t> values;
    for (const proto::ObservedCall* call : calls) {
      if (key >= 0) values.insert(ArgsOf(*call)[key]);
    }
    if (key < 0 || values.size() > kMaxKeyValues) {
      absl::StrAppend(&out, "  rules { action: ALLOW syscalls: \"", name,
                      "\" }\n");
      continue;
    }
    const internal::SyscallSignature* signature =
        internal::FindSignature(calls.front()->nr());
    for (uint64_t value : values) {
      // clone's flags: MASKED_EQ, so that the sandbox's check for
      // namespace flags merges into it.
      const bool masked = name == "clone";
      absl::StrAppend(
          &out, "  rules { action: ALLOW syscalls: \"", name,
          "\" args { arg: ", key,
          masked ? " op: MASKED_EQ mask: 0xffffffffffffffff" : " op: EQ",
          " value: ", value, " } }  # ",
          internal::DecodeArg(signature->args[key].kind, value), "\n");
    }
  }
  for (const proto::ObservedCall& call : report.denied()) {
    proto::Violation violation;
    violation.set_syscall(call.syscall());
    violation.set_nr(call.nr());
    violation.set_arch("x86_64");
    for (uint64_t arg : call.args()) violation.add_args(arg);
    internal::ExplainViolation(violation);
    absl::StrAppend(&out, "  # run ", run, ": denied, never learned: ",
                    call.decoded().empty() ? call.syscall() : call.decoded(),
                    " (", call.count(), "x) \u2014 ", violation.remedy(), "\n");
  }
  for (const std::string& path : report.missing_paths()) {
    // Suggested by an earlier run already.
    if (absl::StrContains(earlier, absl::StrCat("source: \"", path, "\""))) {
      continue;
    }
    absl::StrAppend(&out, "  # run ", run, ": not in the sandbox: ", path,
                    "; to give it, add to filesystem:\n",
                    "  #   mounts { bind { source: \"", path, "\" } }\n");
  }
  if (report.truncated()) {
    absl::StrAppend(&out, "  # run ", run,
                    ": more distinct calls or paths came than are kept; run "
                    "again to learn the rest\n");
  }
  return out;
}

// A file written by Learn: the text without its learned block, the
// block's lines (without the markers), and the number of runs so far.
struct LearnedFile {
  std::string base_text;
  std::string learned_lines;
  int runs = 0;
};

absl::StatusOr<LearnedFile> SplitLearnedFile(absl::string_view text) {
  LearnedFile file;
  int state = 0;  // 0 before the block, 1 in it, 2 after
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    const absl::string_view stripped = absl::StripLeadingAsciiWhitespace(line);
    if (state == 0 && absl::StartsWith(stripped, kBegin)) {
      state = 1;
      continue;
    }
    if (state == 1 && absl::StartsWith(stripped, kBegin)) continue;
    if (state == 1 && absl::StartsWith(stripped, kEnd)) {
      state = 2;
      continue;
    }
    if (state == 1) {
      absl::StrAppend(&file.learned_lines, line, "\n");
      int run = 0;
      absl::string_view rest = stripped;
      if (absl::ConsumePrefix(&rest, "# run ")) {
        const size_t colon = rest.find(':');
        if (colon != absl::string_view::npos &&
            absl::SimpleAtoi(rest.substr(0, colon), &run)) {
          file.runs = std::max(file.runs, run);
        }
      }
      continue;
    }
    absl::StrAppend(&file.base_text, line, "\n");
  }
  if (state != 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "learn mode: the earlier file has no complete learned block (\"",
        kBegin, "\" ... \"", kEnd, "\"): not written by learn mode"));
  }
  return file;
}

// Takes out of `seccomp` (the earlier file, with whatever flags added)
// one of each group and rule that the earlier learned block holds, so that
// printing it and the block again says each once.
absl::Status SubtractLearned(absl::string_view learned_lines,
                             proto::Seccomp& seccomp) {
  proto::Policy parsed;
  if (!google::protobuf::TextFormat::ParseFromString(
          absl::StrCat("seccomp {\n", learned_lines, "}\n"), &parsed)) {
    return absl::InvalidArgumentError(
        "learn mode: the earlier file's learned block does not parse; "
        "edit outside it, or move its lines above it");
  }
  for (int group : parsed.seccomp().allow_groups()) {
    auto* groups = seccomp.mutable_allow_groups();
    auto it = absl::c_find(*groups, group);
    if (it != groups->end()) groups->erase(it);
  }
  for (const proto::SyscallRule& rule : parsed.seccomp().rules()) {
    auto* rules = seccomp.mutable_rules();
    for (int i = 0; i < rules->size(); ++i) {
      if (google::protobuf::util::MessageDifferencer::Equals(rules->Get(i),
                                                             rule)) {
        rules->DeleteSubrange(i, 1);
        break;
      }
    }
  }
  return absl::OkStatus();
}

std::string PolicyText(const proto::Policy& base, absl::string_view earlier,
                       absl::string_view added, int runs) {
  google::protobuf::TextFormat::Printer printer;
  proto::Policy rest = base;
  rest.clear_seccomp();
  std::string rest_text;
  std::string seccomp_text;
  printer.PrintToString(rest, &rest_text);
  printer.PrintToString(base.seccomp(), &seccomp_text);
  return absl::StrCat(
      "# Written by sandbox-run --learn (sandbox/learn.h), ", runs,
      runs == 1 ? " run" : " runs",
      " so far: the base policy, and at the end of seccomp the calls the\n"
      "# program made beyond it. Learn mode is for trusted inputs: a call "
      "it let\n# through once is allowed from now on. Review before use; "
      "calls other\n# inputs make are not here (run --learn again with this "
      "file as OUT).\n",
      rest_text, "seccomp {\n", Indent(seccomp_text, "  "), "  ", kBegin,
      ": what learn mode added; runs merge here\n", earlier, added, "  ", kEnd,
      "\n}\n");
}

}  // namespace

absl::StatusOr<LearnedPolicy> Learn(const PolicyBuilder& base,
                                    const Command& command,
                                    const LearnOptions& options) {
  if (!command.worker.empty()) {
    return absl::InvalidArgumentError(
        "learn mode runs a program (argv), not a zygote worker");
  }
  LearnedFile earlier;
  if (!options.previous.empty()) {
    SBX_ASSIGN_OR_RETURN(earlier, SplitLearnedFile(options.previous));
  }
  SBX_ASSIGN_OR_RETURN(Policy policy, BuildForLearning(base));
  SBX_ASSIGN_OR_RETURN(std::unique_ptr<Sandbox> sandbox,
                       Sandbox::Spawn(policy, command, SpawnMode::kDirect));
  SBX_ASSIGN_OR_RETURN(proto::Result result, sandbox->Wait());

  // What is printed as the base: the policy run, less what an earlier run
  // learned (those lines are kept as they were, with their comments).
  proto::Policy base_proto = base.proto();
  if (!options.previous.empty()) {
    SBX_RETURN_IF_ERROR(
        SubtractLearned(earlier.learned_lines, *base_proto.mutable_seccomp()));
  }
  const int run = earlier.runs + 1;
  const std::string label =
      options.label.empty() ? absl::StrJoin(command.argv, " ") : options.label;
  LearnedPolicy learned;
  learned.text = PolicyText(
      base_proto, earlier.learned_lines,
      LearnedLines(result.learned(), run, label, earlier.learned_lines), run);
  learned.result = std::move(result);
  learned.run = run;
  return learned;
}

}  // namespace sandbox
