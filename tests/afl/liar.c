// A hostile fork server for tests/afl_test.sh: it forks a child that waits
// forever, tells the bridge that its child is HOST_PID -- a process of the
// host's, which afl-fuzz would kill when the input times out if the bridge
// passed the claim on -- and never reports a status. Built with plain cc:
// it speaks AFL's fork-server protocol itself.
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

int main(void) {
  uint32_t hello = 0;
  if (write(199, &hello, sizeof(hello)) != sizeof(hello)) return 1;
  for (;;) {
    uint32_t go;
    if (read(198, &go, sizeof(go)) != sizeof(go)) return 0;
    if (fork() == 0) {
      pause();
      _exit(0);
    }
    int32_t pid = HOST_PID;
    if (write(199, &pid, sizeof(pid)) != sizeof(pid)) return 1;
  }
}
