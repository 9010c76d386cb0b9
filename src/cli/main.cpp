// attn: the command line. The foundation ships the library and this entry point; the train,
// eval, predict, inspect and config subcommands come with the trainer.
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"attn: a trainer for the Transformer of Canziani's attention lecture"};
  bool version = false;
  app.add_flag("--version", version, "Print the versions of attn and LibTorch");
  CLI11_PARSE(app, argc, argv);
  if (version || argc == 1) {
    std::cout << "attn " << ATTN_VERSION << " (LibTorch " << TORCH_VERSION << ", "
              << (torch::cuda::is_available() ? "CUDA available" : "CPU only") << ")\n";
  }
  return 0;
}
