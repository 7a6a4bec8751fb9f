#include "sandbox/internal/util.h"

#include <string.h>

#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sandbox {

absl::StatusOr<uint64_t> ParseSize(absl::string_view text) {
  absl::string_view digits = text;
  size_t end = 0;
  while (end < digits.size() && absl::ascii_isdigit(digits[end])) ++end;
  absl::string_view suffix = digits.substr(end);
  digits = digits.substr(0, end);
  uint64_t value = 0;
  if (digits.empty() || !absl::SimpleAtoi(digits, &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid size '", text, "': expected e.g. 4096, 64K, 256M, 2G"));
  }
  std::string unit = absl::AsciiStrToUpper(suffix);
  if (unit.size() > 1 && (unit.substr(1) == "B" || unit.substr(1) == "IB")) {
    unit.resize(1);
  }
  int shift = 0;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "K") {
    shift = 10;
  } else if (unit == "M") {
    shift = 20;
  } else if (unit == "G") {
    shift = 30;
  } else if (unit == "T") {
    shift = 40;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("invalid size '", text,
                                                   "': unknown unit '", suffix,
                                                   "' (use K, M, G or T)"));
  }
  if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return absl::InvalidArgumentError(
        absl::StrCat("size '", text, "' is too large"));
  }
  return value << shift;
}

absl::StatusOr<int> ParseErrno(absl::string_view text) {
  int number = 0;
  if (absl::SimpleAtoi(text, &number)) {
    if (number < 1 || number > 4095) {
      return absl::InvalidArgumentError(
          absl::StrCat("errno ", text, " is outside 1..4095"));
    }
    return number;
  }
  for (int candidate = 1; candidate < 4096; ++candidate) {
    const char* name = strerrorname_np(candidate);
    if (name != nullptr && text == name) return candidate;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown errno '", text, "' (expected e.g. EPERM or 1)"));
}

std::string ErrnoName(int errno_value) {
  const char* name = strerrorname_np(errno_value);
  if (name == nullptr) return absl::StrCat("E", errno_value);
  return name;
}

}  // namespace sandbox
