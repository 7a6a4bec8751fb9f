// Docker and OCI seccomp profiles: import one (Docker's seccomp.json, or the
// OCI runtime-spec `linux.seccomp` object) into a policy's seccomp section,
// and export a policy's seccomp section as one (for runc, crun, podman).
// The JSON schema is sandbox/oci_seccomp.proto, read and written with
// protobuf's JSON support.
//
//   SBX_ASSIGN_OR_RETURN(OciSeccompImport profile, ImportOciSeccomp(json));
//   for (const std::string& note : profile.notes) {
//     std::fprintf(stderr, "seccomp profile: %s\n", note.c_str());
//   }
//   SBX_ASSIGN_OR_RETURN(PolicyBuilder builder, PolicyBuilder::Default());
//   SBX_ASSIGN_OR_RETURN(
//       Policy policy, builder.SetSeccomp(std::move(profile.seccomp)).Build());
//   SBX_ASSIGN_OR_RETURN(std::string exported,
//                        ExportOciSeccomp(policy.proto().seccomp()));
//
// The import never loosens the sandbox and never needs
// seccomp.dangerous_allow: the fixed deny list, the check of clone's
// namespace flags, clone3's ENOSYS and the kill of foreign ABIs (see
// sandbox/internal/seccomp_compiler.h) apply to an imported profile as to
// any policy.

#ifndef SANDBOX_OCI_SECCOMP_H_
#define SANDBOX_OCI_SECCOMP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sandbox/policy.pb.h"

namespace sandbox {

struct OciSeccompImportOptions {
  // The kernel version Docker's `minKernel` conditions are compared with,
  // "<major>.<minor>". Empty: the running kernel's (uname).
  std::string kernel_version;
};

struct OciSeccompImport {
  // The profile as a policy's seccomp section; it compiles (the import
  // checks).
  proto::Seccomp seccomp;
  // What the import dropped, ignored or made stricter, one sentence each,
  // for people: "allows ptrace, ... which the sandbox still denies".
  std::vector<std::string> notes;
};

// Imports a Docker or OCI seccomp profile.
//
// Actions (defaultAction, and each entry's action) become:
//   SCMP_ACT_ALLOW                   ALLOW (not as defaultAction: the
//                                    sandbox runs allow-lists only)
//   SCMP_ACT_LOG                     LOG (not as defaultAction either)
//   SCMP_ACT_ERRNO                   ERRNO with errnoRet / defaultErrnoRet
//                                    (default EPERM)
//   SCMP_ACT_KILL, _KILL_THREAD,
//   _KILL_PROCESS                    KILL: the call is reported and the whole
//                                    sandbox killed
//   SCMP_ACT_TRAP                    KILL: the SIGSYS a program could catch
//                                    ends the sandbox instead (noted)
//   SCMP_ACT_TRACE                   ERRNO ENOSYS, what the kernel answers
//                                    with no tracer attached; the sandbox
//                                    never has one (noted)
//   SCMP_ACT_NOTIFY                  KILL: there is no agent to ask (noted)
// Docker's `includes` / `excludes` are evaluated against what the sandbox
// grants: no capabilities (an entry that includes caps is skipped, one that
// excludes them applies), the host architecture ("amd64"), the running
// kernel (`options.kernel_version`). Only the host architecture runs
// (`architectures`, `archMap` are checked to name it, then ignored; the
// filter kills the others); `flags` and `listenerPath` are ignored.
// Calls libseccomp does not know on this architecture are skipped, as Docker
// skips them. Calls on the fixed deny list (FixedDenyList()) that the
// profile allows are dropped, as are clones with namespace flags; clone's
// own flags condition (Docker's MASKED_EQ on the namespace flags) is left
// to the sandbox's stricter check, and rules for clone3 give way to the
// sandbox's ENOSYS where clone is allowed. Each of these is in `notes`.
//
// Errors: InvalidArgument for JSON that protobuf cannot read as the schema
// (its message, e.g. "(syscalls[0].args[0].value): invalid value -1 for type
// TYPE_UINT64"), and for a profile that is not valid or cannot be honoured,
// naming the JSON path: `syscalls[12].args[0].op: unknown operator
// "SCMP_CMP_FOO"`, `defaultAction: SCMP_ACT_ALLOW ...`.
[[nodiscard]] absl::StatusOr<OciSeccompImport> ImportOciSeccomp(
    absl::string_view json, const OciSeccompImportOptions& options = {});

// A policy's seccomp section as an OCI `linux.seccomp` object (JSON), which
// Docker reads as well: the same default action and rules, and the checks
// the sandbox adds written out as entries (clone only without namespace
// flags, clone3 failing with ENOSYS), `architectures` the host's alone.
// KILL becomes SCMP_ACT_KILL_PROCESS, which no runtime reports by name.
// ImportOciSeccomp() of the result gives a section that compiles to a
// filter deciding every call as `seccomp` does. Not expressed: prctl's
// PR_SET_SECCOMP (the sandbox refuses it to keep its violation reports;
// a runtime without them needs no such check), defer_until_lockdown.
// InvalidArgument for an errno the policy cannot have.
[[nodiscard]] absl::StatusOr<std::string> ExportOciSeccomp(
    const proto::Seccomp& seccomp);

}  // namespace sandbox

#endif  // SANDBOX_OCI_SECCOMP_H_
