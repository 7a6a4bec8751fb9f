// Status helpers missing from Debian 12's Abseil (20220623): early return on
// error and errno conversion with the failing operation named.
//
//   SBX_RETURN_IF_ERROR(WriteFile(path, "1"));
//   SBX_ASSIGN_OR_RETURN(int fd, OpenDir(dir));
//   if (mkdir(p.c_str(), 0755) != 0) return ErrnoStatus("mkdir(" + p + ")");

#ifndef SANDBOX_STATUS_MACROS_H_
#define SANDBOX_STATUS_MACROS_H_

#include <cerrno>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sandbox {

// absl::ErrnoToStatus for `errno_value` (default: the current errno), with
// the message "<what>: <strerror>".
inline absl::Status ErrnoStatus(absl::string_view what,
                                int errno_value = errno) {
  return absl::ErrnoToStatus(errno_value, what);
}

}  // namespace sandbox

#define SBX_STATUS_CONCAT_INNER_(x, y) x##y
#define SBX_STATUS_CONCAT_(x, y) SBX_STATUS_CONCAT_INNER_(x, y)

#define SBX_RETURN_IF_ERROR(expr)              \
  do {                                         \
    ::absl::Status sbx_status_ = (expr);       \
    if (!sbx_status_.ok()) return sbx_status_; \
  } while (false)

#define SBX_ASSIGN_OR_RETURN(lhs, expr)                                        \
  SBX_ASSIGN_OR_RETURN_IMPL_(SBX_STATUS_CONCAT_(sbx_statusor_, __LINE__), lhs, \
                             expr)

#define SBX_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // SANDBOX_STATUS_MACROS_H_
