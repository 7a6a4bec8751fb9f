// A fuzz target for tests/afl_test.sh and bench/afl_compare.sh, built with
// afl-clang-fast. It reads its input from the file named by argv[1], or
// stdin, and by the first byte:
//   '!'  aborts: the planted crash afl-fuzz must find (seeds hold 'a',
//        one bit away);
//   'P'  calls ptrace(PTRACE_TRACEME): a violation in the sandbox (the
//        seeds hold 'Q', one bit away);
//   'H'  spins forever: afl-fuzz times it out and kills the pid it was
//        told (the seeds hold 'I', one bit away);
//   'D'  busy for 300 ms (the vDSO's clock, no system call), then
//        returns: a slow input that ends well (tests/afl/fake_afl.py);
//   'W'  writes MARKER_PATH, a file in a host directory;
//   'S'  opens a TCP socket;
//   'I'  looks up the host's System V segment HOST_SHM_KEY;
//   'F'  looks for any descriptor beyond stdio and its input.
// With -DBENCH only the planted crash (bench/afl_compare.sh). With
// -DSHMEM it takes its inputs in persistent mode from afl-fuzz's shared
// memory (__AFL_FUZZ_TESTCASE_BUF), the way AFL++'s docs advise.
// A side effect that works aborts, so a sandbox that let it through shows
// as a crash from the seed that asks for it.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef MARKER_PATH
#define MARKER_PATH "/tmp/afl-target-marker"
#endif
#ifndef HOST_SHM_KEY
#define HOST_SHM_KEY 0x5afe
#endif

#ifdef SHMEM
__AFL_FUZZ_INIT();
#endif

// One input; `fd` is where it came from (-1 from shared memory).
static int Run(const char* buf, ssize_t n, int fd) {
  if (n <= 0) return 0;
  if (buf[0] == '!') abort();
#ifndef BENCH  // bench/afl_compare.sh measures the fork path, not restarts
  switch (buf[0]) {
    case 'P':
      ptrace(PTRACE_TRACEME, 0, NULL, NULL);
      return 0;
    case 'H':
      for (volatile int spin = 0;; ++spin) {
      }
    case 'D': {
      struct timespec start, now;
      clock_gettime(CLOCK_MONOTONIC, &start);
      do {
        clock_gettime(CLOCK_MONOTONIC, &now);
      } while ((now.tv_sec - start.tv_sec) * 1000000000L +
                   (now.tv_nsec - start.tv_nsec) <
               300000000L);
      return 0;
    }
    case 'W': {
      int out = open(MARKER_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0 && write(out, "x", 1) == 1) abort();
      return 0;
    }
    case 'S':
      if (socket(AF_INET, SOCK_STREAM, 0) >= 0) abort();
      return 0;
    case 'I':
      if (shmget(HOST_SHM_KEY, 0, 0) >= 0) abort();
      return 0;
    case 'F':
      for (int other = 3; other < 1024; ++other) {
        if (other != fd && fcntl(other, F_GETFD) >= 0) abort();
      }
      return 0;
  }
#endif
  // Something for the coverage map to tell apart.
  if (n > 1 && buf[1] == 'x') return 1;
  return 0;
}

int main(int argc, char** argv) {
#ifdef SHMEM
  (void)argc;
  (void)argv;
  const char* buf = (const char*)__AFL_FUZZ_TESTCASE_BUF;
  while (__AFL_LOOP(10000)) Run(buf, __AFL_FUZZ_TESTCASE_LEN, -1);
  return 0;
#else
  char buf[256];
  int fd = argc > 1 ? open(argv[1], O_RDONLY) : 0;
  if (fd < 0) return 2;
  return Run(buf, read(fd, buf, sizeof(buf)), fd);
#endif
}
