// Catch2 runner: LibTorch defaults to one thread here, so use every core, as attn itself does;
// and the BLAS kernel attn runs on this CPU (a weaker OpenBLAS pick re-executes the runner once).
#define CATCH_CONFIG_RUNNER
#include <ATen/Parallel.h>  // not <torch/torch.h>: this file compiles in a third of the time

#include <catch2/catch.hpp>
#include <thread>

#include "attn/kernels/blas_core.h"

int main(int argc, char** argv) {
  attn::kernels::use_best_blas_core(argv);
  at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return Catch::Session().run(argc, argv);
}
