#include "sandbox/internal/wipe.h"

#include <alloca.h>
#include <string.h>

namespace sandbox::internal {

void WipeBytes(void* data, size_t size) { explicit_bzero(data, size); }

void WipeString(std::string& text) {
  explicit_bzero(text.data(), text.capacity());
  text.clear();
}

__attribute__((noinline)) void WipeStackBelow(size_t bytes) {
  // alloca, not a fixed array: the size is the caller's, and the area
  // starts right below this frame.
  void* area = alloca(bytes);
  explicit_bzero(area, bytes);
}

}  // namespace sandbox::internal
