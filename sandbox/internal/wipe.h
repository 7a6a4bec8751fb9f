// Wiping request data in place before it is freed. A fork server clones
// every sandbox from its own memory, and std::string, std::vector and
// protobuf free without zeroing: what one request left in freed heap or in
// a popped stack frame would be readable in every later clone. Internal to
// the library.
//
//   proto::SpawnRequest request;
//   request.ParseFromArray(buffer, size);
//   WipeBytes(buffer, size);               // the wire bytes, once parsed
//   Serve(request);
//   WipeStrings(*request.mutable_argv());  // before the message frees them

#ifndef SANDBOX_INTERNAL_WIPE_H_
#define SANDBOX_INTERNAL_WIPE_H_

#include <cstddef>
#include <string>

namespace sandbox::internal {

// explicit_bzero: a store the compiler may not drop as dead.
void WipeBytes(void* data, size_t size);

// Zeroes the string's whole buffer (its capacity, not only its size: an
// earlier, longer value may linger past the end) and empties it. The buffer
// stays allocated, zeroed, until the string is destroyed.
void WipeString(std::string& text);

// WipeString on every element of a container of strings; the container
// keeps its (now empty) elements.
template <typename Strings>
void WipeStrings(Strings& texts) {
  for (std::string& text : texts) WipeString(text);
}

// Zeroes `bytes` of stack below the caller's frame, where deeper calls
// (the protobuf parser copies a message's last bytes into a buffer of its
// own) left copies of what they handled.
void WipeStackBelow(size_t bytes);

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_WIPE_H_
