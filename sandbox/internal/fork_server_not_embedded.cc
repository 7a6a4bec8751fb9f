// For programs that link sandbox_core but never start a fork server: the
// helper binary itself (which does not embed itself) and the fuzz targets.
// fork_server.cc refers to the embedded helper strongly, so that a program
// that spawns sandboxes cannot link without the library proper
// (fork_server_embed.cc); these definitions are its empty stand-in, and
// starting a fork server with them is an InternalError.

extern "C" const char sandbox_forkserver_begin[] = {};
extern "C" const char sandbox_forkserver_end[] = {};
