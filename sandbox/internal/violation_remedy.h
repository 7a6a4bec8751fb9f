// What would allow a forbidden call: the groups whose rules match it, or
// why nothing a policy's rules say can (the fixed deny list, namespace
// flags, a foreign ABI). For Violation.groups and Violation.remedy.

#ifndef SANDBOX_INTERNAL_VIOLATION_REMEDY_H_
#define SANDBOX_INTERNAL_VIOLATION_REMEDY_H_

#include "sandbox/result.pb.h"

namespace sandbox::internal {

// Fills violation.groups and violation.remedy from its arch, nr, syscall
// and args.
void ExplainViolation(proto::Violation& violation);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_VIOLATION_REMEDY_H_
