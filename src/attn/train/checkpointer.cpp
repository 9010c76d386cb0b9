#include "attn/train/checkpointer.h"

#include <filesystem>
#include <stdexcept>

#include "attn/core/atomic_file.h"

namespace attn {

namespace fs = std::filesystem;

Checkpointer::Checkpointer(std::string dir, int64_t keep_last, bool writes, std::string last_path, int64_t last_step)
    : dir_(std::move(dir)), keep_last_(keep_last), writes_(writes), last_path_(std::move(last_path)),
      saved_step_(last_step) {}

void Checkpointer::save(const CheckpointHeader& header, torch::nn::Module& model, torch::optim::Optimizer& optimizer,
                        bool best) {
  const int64_t step = header.state.step;
  if (!writes_) {
    saved_step_ = step;
    return;
  }
  const auto path = (fs::path(dir_) / step_checkpoint_name(step)).string();
  const auto bytes = serialize_checkpoint(header, model, &optimizer);
  try {
    write_file_atomically(path, bytes);
    if (best) write_file_atomically((fs::path(dir_) / "best.pt").string(), bytes);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(e.what()) + "; stopping at step " + std::to_string(step) +
                             " rather than train on without checkpoints. " +
                             (last_path_.empty() ? std::string("No checkpoint was written before this one.")
                                                 : "The last checkpoint, " + last_path_ +
                                                       ", is intact: free some space and continue with --resume"));
  }
  saved_step_ = step, last_path_ = path;
  const auto all = list_step_checkpoints(dir_);
  for (size_t i = static_cast<size_t>(keep_last_); i < all.size(); ++i) fs::remove(all[i]);
}

std::string Checkpointer::last_good() const {
  return last_path_.empty() ? "No checkpoint was written yet." : "The last good checkpoint is " + last_path_ + ".";
}

}  // namespace attn
