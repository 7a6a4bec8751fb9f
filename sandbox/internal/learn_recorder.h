// The supervisor's half of learn mode (sandbox/learn.h): what to answer a
// notification with, and what was seen. Every call of a learning sandbox
// comes to the supervisor; the base policy's own filter, run in userspace,
// says what the base would have done.
//
//   LearnRecorder recorder(base_filter, policy.filesystem());
//   LearnRecorder::Answer answer = recorder.Judge(listener, notification);
//   ... SECCOMP_IOCTL_NOTIF_SEND with answer.error / answer.allow ...
//   proto::LearnReport report = recorder.Report();

#ifndef SANDBOX_INTERNAL_LEARN_RECORDER_H_
#define SANDBOX_INTERNAL_LEARN_RECORDER_H_

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sandbox/policy.pb.h"
#include "sandbox/result.pb.h"

namespace sandbox::internal {

// The argument whose values learn mode tells apart for system call `nr`
// (socket's domain, ioctl's request, clone's flags, prctl's option, open's
// flags, arch_prctl's code, fcntl's command), or -1: the others' calls are
// counted as one.
int LearnedKeyArgument(int nr);

class LearnRecorder {
 public:
  LearnRecorder(std::shared_ptr<const std::vector<sock_filter>> base,
                proto::Filesystem filesystem);

  struct Answer {
    // Let the call run (SECCOMP_USER_NOTIF_FLAG_CONTINUE); else fail it
    // with `error`.
    bool allow = false;
    int error = 0;
    // A call no policy allows (a foreign ABI): a violation, as outside
    // learn mode; the supervisor reports it and kills the sandbox.
    bool violation = false;
  };
  // Judges one notification and records it. Memory of the caller is read
  // (paths, decoded samples) only while it is still waiting in the call.
  Answer Judge(int listener, const struct seccomp_notif& notification);

  proto::LearnReport Report() const;

 private:
  struct Seen {
    proto::ObservedCall call;
  };
  // Calls are told apart by number, value of the key argument, and the
  // groups that allow them with their arguments (newfstatat on an fd and
  // on a path are different calls to a group), so that the first call of
  // each kind speaks for the rest.
  using CallKey = std::tuple<int, uint64_t, std::string>;
  using CallTable = absl::flat_hash_map<CallKey, Seen>;
  void Record(CallTable& table, int listener,
              const struct seccomp_notif& notification, uint64_t key);
  void CheckPath(int listener, const struct seccomp_notif& notification);

  std::shared_ptr<const std::vector<sock_filter>> base_;
  proto::Filesystem filesystem_;
  CallTable learned_;
  CallTable denied_;
  std::set<std::string> missing_paths_;
  bool truncated_ = false;
};

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_LEARN_RECORDER_H_
