// Catch2 runner: LibTorch defaults to one thread here, so use every core, as attn itself does;
// and the BLAS kernel attn runs on this CPU (a weaker OpenBLAS pick re-executes the runner once).
// `attn_tests --serve SOCKET` starts the test server ctest runs the test cases through
// (fork_server.h).
#define CATCH_CONFIG_RUNNER
#include <ATen/Parallel.h>  // not <torch/torch.h>: this file compiles in a third of the time

#include <catch2/catch.hpp>
#include <cstring>
#include <thread>

#include "attn/kernels/blas_core.h"
#include "fork_server.h"

namespace {

int run_session(int argc, char** argv) { return Catch::Session().run(argc, argv); }

}  // namespace

int main(int argc, char** argv) {
  attn::kernels::use_best_blas_core(argv);
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  if (argc == 3 && std::strcmp(argv[1], "--serve") == 0) return attn::test::serve(argv[2], run_session);
  return run_session(argc, argv);
}
