// The fork server helper, embedded in the library and exec'd from a memfd
// (see fork_server.h). Its channel to the host is descriptor 3.

#include <sys/socket.h>

#include "sandbox/internal/fork_server.h"

int main() {
  int type = 0;
  socklen_t length = sizeof(type);
  if (getsockopt(sandbox::internal::kForkServerChannelFd, SOL_SOCKET, SO_TYPE,
                 &type, &length) != 0) {
    return 2;  // not started by the library
  }
  sandbox::internal::RunForkServer(sandbox::internal::kForkServerChannelFd);
  return 0;
}
