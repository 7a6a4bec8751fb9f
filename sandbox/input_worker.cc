#include "sandbox/input_worker.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "sandbox/internal/bpf_evaluator.h"
#include "sandbox/internal/input_server.h"
#include "sandbox/internal/policy_internal.h"
#include "sandbox/sandbox.h"
#include "sandbox/status_macros.h"
#include "sandbox/worker.h"

namespace sandbox {
namespace {

using internal::InputConfig;
using internal::InputReply;
using internal::InputReplyKind;
using internal::InputRequest;

size_t PageRound(size_t bytes) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return (bytes + page - 1) / page * page;
}

// Locks down (when the policy defers seccomp), then serves; tells the host
// why if it cannot.
absl::Status LockDownAndServe(Comms& comms, const InputFunction& fn) {
  absl::Status served = [&]() -> absl::Status {
    SBX_ASSIGN_OR_RETURN(internal::InputServerSetup setup,
                         internal::ReceiveInputSetup(comms));
    if (absl::Status locked = LockDown();
        !locked.ok() &&
        locked.code() != absl::StatusCode::kFailedPrecondition) {
      return locked;
    }
    return internal::ServeInputsOn(comms, setup, fn);
  }();
  internal::ReportInputServerFailure(comms, served);
  return served;
}

// What a failing template said (kFailed), escaped: its words, not ours.
std::string FailureMessage(Comms& comms) {
  absl::StatusOr<std::string> message = comms.RecvString();
  if (!message.ok()) return "(no message)";
  return absl::CHexEscape(message->substr(0, internal::kMaxFailureMessage));
}

// Whether `policy`'s filter allows `nr` with these first arguments.
bool Allows(const Policy& policy, int nr, uint64_t arg0) {
  struct seccomp_data data = {};
  data.nr = nr;
  data.arch = AUDIT_ARCH_X86_64;
  data.args[0] = arg0;
  data.args[1] = sizeof(cpu_set_t);
  return EvaluateSeccomp(internal::StateOf(policy).seccomp.instructions,
                         data) == SECCOMP_RET_ALLOW;
}

// "oom_kill N" in a memory.events or memory.oom_control file; -1 if absent.
int64_t ReadOomKills(const std::string& path) {
  std::ifstream in(path);
  std::string key;
  int64_t value;
  while (in >> key >> value) {
    if (key == "oom_kill") return value;
  }
  return -1;
}

}  // namespace

const char* InputOutcomeName(InputOutcome outcome) {
  switch (outcome) {
    case InputOutcome::kOk:
      return "ok";
    case InputOutcome::kCrash:
      return "crash";
    case InputOutcome::kViolation:
      return "violation";
    case InputOutcome::kTimeout:
      return "timeout";
    case InputOutcome::kMemoryLimit:
      return "memory_limit";
    case InputOutcome::kSandboxEnded:
      return "sandbox_ended";
  }
  return "unknown";
}

absl::Status RegisterInputWorker(std::string name, InputFunction fn,
                                 std::function<void()> init) {
  if (!fn) {
    return absl::InvalidArgumentError(
        absl::StrCat("RegisterInputWorker('", name, "'): no function"));
  }
  return RegisterWorker(
      std::move(name),
      [fn = std::move(fn), init = std::move(init)](Comms& comms) {
        if (init) init();
        // Only on an error (or the host gone): the template ends.
        return LockDownAndServe(comms, fn).ok() ? 0 : 1;
      });
}

absl::Status ServeInputs(InputFunction fn) {
  const char* where = getenv(internal::kInputCommsEnv);
  int fd = -1;
  if (where == nullptr || !absl::SimpleAtoi(where, &fd) || fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("ServeInputs: not started by an InputSandbox (",
                     internal::kInputCommsEnv, " is not set)"));
  }
  unsetenv(internal::kInputCommsEnv);
  Comms comms(UniqueFd(fd), SOCK_STREAM);
  return LockDownAndServe(comms, fn);
}

void WriteInputOutput(absl::Span<const uint8_t> output) {
  internal::WriteInputOutputInChild(output);
}

InputSandbox::InputSandbox(const Policy& policy, const Command& command,
                           const InputOptions& options)
    : policy_(policy), command_(command), options_(options) {}

InputSandbox::~InputSandbox() {
  if (sandbox_ != nullptr) End("the InputSandbox was destroyed");
}

absl::StatusOr<std::unique_ptr<InputSandbox>> InputSandbox::Create(
    const Policy& policy, const Command& command, const InputOptions& options) {
  if (!policy.proto().namespaces().pid()) {
    return absl::InvalidArgumentError(
        "InputSandbox: the policy needs namespaces.pid (what an input leaves "
        "running is killed with kill(-1) in it)");
  }
  if (options.max_input_bytes == 0 || options.timeout <= absl::ZeroDuration() ||
      options.start_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "InputSandbox: max_input_bytes, timeout and start_timeout must be "
        "positive");
  }
  if (command.comms_fd >= 0) {
    return absl::InvalidArgumentError(
        "InputSandbox: command.comms_fd must be -1 (the channel to the "
        "template is the library's)");
  }
  std::unique_ptr<InputSandbox> inputs(
      new InputSandbox(policy, command, options));
  Command& own = inputs->command_;
  // Replies are a few bytes: nothing bigger is ever read from the template.
  own.comms_options.max_message_bytes = 4096;
  own.comms_options.memfd_threshold = 0;
  own.comms_options.receive_timeout = options.timeout + absl::Seconds(1);
  own.comms_options.send_timeout = absl::Seconds(5);
  if (own.worker.empty()) {
    own.comms_fd = kWorkerCommsFd;
    own.env.push_back(
        absl::StrCat(internal::kInputCommsEnv, "=", kWorkerCommsFd));
  }
  SBX_ASSIGN_OR_RETURN(
      inputs->region_,
      SharedRegion::Create(PageRound(options.max_input_bytes) +
                           PageRound(options.max_output_bytes)));
  SBX_RETURN_IF_ERROR(inputs->Start());
  return inputs;
}

absl::Status InputSandbox::Start() {
  ++starts_;
  SBX_ASSIGN_OR_RETURN(sandbox_, Sandbox::SpawnTemplate(policy_, command_));
  Comms& comms = *sandbox_->comms();
  InputConfig config = {};
  config.magic = internal::kInputConfigMagic;
  config.flags = options_.clean_tmp ? internal::kInputCleanTmp : 0;
  // Both calls as the template and each input make them, on themselves.
  if (Allows(policy_, __NR_sched_getaffinity, 0) &&
      Allows(policy_, __NR_sched_setaffinity, 0)) {
    config.flags |= internal::kInputPinTemplate;
  }
  config.input_capacity = PageRound(options_.max_input_bytes);
  config.output_capacity = PageRound(options_.max_output_bytes);
  config.timeout_ns =
      static_cast<uint64_t>(absl::ToInt64Nanoseconds(options_.timeout));
  absl::Status sent = comms.SendRegion(region_);
  if (sent.ok()) {
    sent = comms.SendBytes(
        {reinterpret_cast<const uint8_t*>(&config), sizeof(config)});
  }
  auto failed = [&](const std::string& what) {
    const proto::Result result = End(what);
    std::string how = proto::Result::Status_Name(result.status());
    if (result.has_violation()) {
      how = absl::StrCat("violation: ", result.violation().decoded());
    } else if (result.has_setup_error()) {
      how = absl::StrCat("setup error: ", result.setup_error().message());
    } else if (result.status() == proto::Result::OK) {
      how = absl::StrCat("exit code ", result.exit_code());
    } else if (result.signal() != 0) {
      how = absl::StrCat(how, ", signal ", result.signal());
    }
    return absl::InternalError(
        absl::StrCat("InputSandbox: the template did not start serving (", what,
                     "); the sandbox ended with ", how));
  };
  if (!sent.ok()) return failed(sent.ToString());
  const absl::Time start_deadline = absl::Now() + options_.start_timeout;
  for (;;) {
    absl::StatusOr<std::vector<uint8_t>> ready = comms.RecvBytes();
    if (!ready.ok() &&
        ready.status().code() == absl::StatusCode::kDeadlineExceeded &&
        absl::Now() < start_deadline) {
      continue;  // an idle timeout leaves the channel usable
    }
    if (!ready.ok() &&
        ready.status().code() == absl::StatusCode::kDeadlineExceeded) {
      End("start timeout");
      return absl::DeadlineExceededError(
          absl::StrCat("InputSandbox: the template did not start serving "
                       "within start_timeout (",
                       absl::FormatDuration(options_.start_timeout), ")"));
    }
    if (!ready.ok()) return failed(ready.status().ToString());
    InputReply reply;
    if (ready->size() != sizeof(reply)) {
      return failed(
          absl::StrCat("a ready message of ", ready->size(), " bytes"));
    }
    memcpy(&reply, ready->data(), sizeof(reply));
    if (reply.kind == static_cast<uint32_t>(InputReplyKind::kFailed)) {
      return failed(
          absl::StrCat("the template reported: ", FailureMessage(comms)));
    }
    if (reply.sequence != 0 ||
        reply.kind != static_cast<uint32_t>(InputReplyKind::kReady)) {
      return failed("a malformed ready message");
    }
    break;
  }
  oom_counter_path_.clear();
  for (const std::string& dir : sandbox_->cgroup_dirs()) {
    for (const char* file : {"/memory.events", "/memory.oom_control"}) {
      if (oom_counter_path_.empty() &&
          access((dir + file).c_str(), R_OK) == 0) {
        oom_counter_path_ = dir + file;
      }
    }
  }
  return absl::OkStatus();
}

int64_t InputSandbox::OomKills() {
  if (oom_counter_path_.empty()) return -1;
  return ReadOomKills(oom_counter_path_);
}

proto::Result InputSandbox::End(const std::string& why) {
  proto::Result result;
  if (sandbox_ == nullptr) return result;
  sandbox_->Kill().IgnoreError();
  // The supervisor reaps it; killed, it ends at once.
  absl::StatusOr<std::optional<proto::Result>> ended =
      sandbox_->WaitFor(absl::Seconds(10));
  if (ended.ok() && ended->has_value()) {
    result = **ended;
  } else {
    result.set_status(proto::Result::KILLED);
  }
  result.add_warnings(absl::StrCat("InputSandbox: ", why));
  sandbox_.reset();
  return result;
}

absl::StatusOr<InputResult> InputSandbox::Run(absl::Span<const uint8_t> input) {
  const absl::Time start = absl::Now();
  if (input.size() > options_.max_input_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "InputSandbox::Run: an input of ", input.size(),
        " bytes (max_input_bytes ", options_.max_input_bytes, ")"));
  }
  if (sandbox_ == nullptr) {
    SBX_RETURN_IF_ERROR(Start());
  }
  const int64_t oom_before = OomKills();
  if (!input.empty()) memcpy(region_.data(), input.data(), input.size());
  InputRequest request = {++sequence_, input.size()};
  Comms& comms = *sandbox_->comms();

  InputResult result;
  auto ended = [&](const std::string& why) {
    result.outcome = InputOutcome::kSandboxEnded;
    result.detail = why;
    std::vector<proto::Violation> violations =
        sandbox_->TakeProcessViolations();
    if (!violations.empty()) result.violation = violations.front();
    result.sandbox_result = End(why);
    if (!result.violation.has_value() &&
        result.sandbox_result->has_violation()) {
      result.violation = result.sandbox_result->violation();
    }
    result.wall_time = absl::Now() - start;
    return result;
  };
  if (absl::Status sent = comms.SendBytes(
          {reinterpret_cast<const uint8_t*>(&request), sizeof(request)});
      !sent.ok()) {
    return ended(absl::StrCat("sending the input failed: ", sent.ToString()));
  }
  absl::StatusOr<std::vector<uint8_t>> bytes = comms.RecvBytes();
  if (!bytes.ok()) {
    if (bytes.status().code() == absl::StatusCode::kDeadlineExceeded) {
      return ended(
          absl::StrCat("the template did not answer within ",
                       absl::FormatDuration(comms.options().receive_timeout),
                       "; the sandbox was killed"));
    }
    return ended(absl::StrCat("the template's channel failed: ",
                              bytes.status().ToString()));
  }
  InputReply reply;
  if (bytes->size() != sizeof(reply)) {
    return ended(absl::StrCat("the template sent a report of ", bytes->size(),
                              " bytes (expected ", sizeof(reply),
                              "); the sandbox was killed"));
  }
  memcpy(&reply, bytes->data(), sizeof(reply));
  if (reply.kind == static_cast<uint32_t>(InputReplyKind::kFailed)) {
    return ended(absl::StrCat("the template stopped serving; it reported: ",
                              FailureMessage(comms)));
  }
  const uint64_t output_capacity = PageRound(options_.max_output_bytes);
  const auto kind = static_cast<InputReplyKind>(reply.kind);
  bool valid = reply.sequence == request.sequence &&
               reply.output_size <= output_capacity &&
               reply.output_size <= options_.max_output_bytes;
  switch (kind) {
    case InputReplyKind::kExited:
      valid = valid && reply.value >= 0 && reply.value <= 255;
      break;
    case InputReplyKind::kSignaled:
      valid = valid && reply.value >= 1 && reply.value <= 64;
      break;
    case InputReplyKind::kTimedOut:
    case InputReplyKind::kOutOfMemory:
      break;
    default:
      valid = false;
  }
  if (!valid) {
    return ended(absl::StrCat(
        "the template sent a report the host did not ask for or cannot be "
        "(sequence ",
        reply.sequence, " for ", request.sequence, ", kind ", reply.kind,
        ", value ", reply.value, ", output ", reply.output_size,
        " bytes); the sandbox was killed"));
  }
  // The host's own word first: the supervisor saw a forbidden call.
  std::vector<proto::Violation> violations = sandbox_->TakeProcessViolations();
  if (!violations.empty()) {
    result.outcome = InputOutcome::kViolation;
    result.violation = violations.front();
    result.signal = SIGKILL;
  } else if (kind == InputReplyKind::kExited) {
    result.outcome = InputOutcome::kOk;
    result.exit_code = reply.value;
  } else if (kind == InputReplyKind::kTimedOut) {
    result.outcome = InputOutcome::kTimeout;
    result.signal = SIGKILL;
  } else if (kind == InputReplyKind::kOutOfMemory) {
    result.outcome = InputOutcome::kMemoryLimit;
  } else if (reply.value == SIGKILL && oom_before >= 0 &&
             OomKills() > oom_before) {
    result.outcome = InputOutcome::kMemoryLimit;
    result.signal = SIGKILL;
  } else {
    result.outcome = InputOutcome::kCrash;
    result.signal = reply.value;
  }
  if (reply.flags & internal::kInputTmpNotEmptied) {
    result.detail = "/tmp could not be emptied after this input";
  }
  // Copied once, size checked above; the bytes are the input's.
  const uint8_t* output = region_.data() + PageRound(options_.max_input_bytes);
  result.output.assign(output, output + reply.output_size);
  result.wall_time = absl::Now() - start;
  return result;
}

}  // namespace sandbox
