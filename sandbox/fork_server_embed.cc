// Links the fork server helper binary (sandbox-forkserver, built first)
// into the library, so that a host needs no path to find it.

#ifndef SANDBOX_FORKSERVER_BINARY
#error "SANDBOX_FORKSERVER_BINARY must name the helper binary"
#endif

__asm__(
    ".section .rodata\n"
    ".balign 16\n"
    ".globl sandbox_forkserver_begin\n"
    "sandbox_forkserver_begin:\n"
    ".incbin \"" SANDBOX_FORKSERVER_BINARY
    "\"\n"
    ".globl sandbox_forkserver_end\n"
    "sandbox_forkserver_end:\n"
    ".previous\n");
