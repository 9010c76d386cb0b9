// `attn_tests --serve SOCKET`: the test server ctest starts before the test cases (a fixture) and
// stops after them. It loads LibTorch once; for each test case fork_client.cpp asks for, it forks
// a process that runs that case with the client's arguments, working directory, environment and
// standard streams, as a process ctest had started itself would (fork_protocol.h says why).
// Returns at once, the server running on in the background; it ends on a stop request, or after
// 20 minutes without one (an interrupted ctest leaves none behind for long). Torch-free.
#pragma once

#include <string>

namespace attn::test {

/// `run` runs a test session with (argc, argv), in the forked process; returns main()'s exit code.
int serve(const std::string& socket_path, int (*run)(int argc, char** argv));

}  // namespace attn::test
