// Dropping a descriptor that a sandboxee handed us, without letting it
// block the thread that drops it. Internal to the library.
//
// The last close of a file runs its release code in the closing thread: a
// TCP socket with unsent data and SO_LINGER set waits up to the linger time,
// a file on a FUSE or NFS mount flushes to a server the sandboxee may
// control. A descriptor that came from a sandboxee (attached to a sync
// message, an unexpected Comms frame, a refused listener) is therefore
// handed to CloseUntrusted(), which returns at once: a thread of the
// library's own resets linger on sockets (an abortive close never waits)
// and closes it there, so the supervisor, Wait() and Comms deadlines never
// wait for it.

#ifndef SANDBOX_INTERNAL_UNTRUSTED_FD_H_
#define SANDBOX_INTERNAL_UNTRUSTED_FD_H_

#include "sandbox/fd.h"

namespace sandbox::internal {

// Closes `fd` on the closer thread (started on first use, and anew in a
// fork of the host). Never blocks the caller.
void CloseUntrusted(UniqueFd fd);

// Descriptors handed to CloseUntrusted() and not closed yet. For tests.
size_t PendingUntrustedCloses();

}  // namespace sandbox::internal

#endif  // SANDBOX_INTERNAL_UNTRUSTED_FD_H_
