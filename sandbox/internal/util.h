// Small parsing and naming helpers shared by the policy, the child setup
// report and the CLI.
//
//   absl::StatusOr<uint64_t> bytes = ParseSize("64M");  // 67108864
//   absl::StatusOr<int> eperm = ParseErrno("EPERM");     // 1
//   std::string name = ErrnoName(ENOENT);                // "ENOENT"

#ifndef SANDBOX_INTERNAL_UTIL_H_
#define SANDBOX_INTERNAL_UTIL_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandbox {

// Parses a byte size: digits with an optional suffix K, M, G or T (powers of
// 1024, case-insensitive, an optional trailing "B" or "iB"). Returns
// InvalidArgument for anything else, or on overflow.
[[nodiscard]] absl::StatusOr<uint64_t> ParseSize(absl::string_view text);

// Parses an errno given as a symbolic name ("EPERM") or a number ("1").
// Returns InvalidArgument for an unknown name or a number outside 1..4095.
[[nodiscard]] absl::StatusOr<int> ParseErrno(absl::string_view text);

// The symbolic name of `errno_value`, e.g. "ENOENT"; "E<number>" if unknown.
std::string ErrnoName(int errno_value);

}  // namespace sandbox

#endif  // SANDBOX_INTERNAL_UTIL_H_
