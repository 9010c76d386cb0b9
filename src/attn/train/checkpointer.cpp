#include "attn/train/checkpointer.h"

#include <filesystem>
#include <stdexcept>

#include "attn/core/atomic_file.h"
#include "attn/io/checkpoint_reader.h"

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
    // best.pt first: a step_N.pt on disk means step N's best.pt is too, so a run resumed from
    // it never believes in a best model that was not written.
    if (best) write_file_atomically((fs::path(dir_) / "best.pt").string(), bytes);
    write_file_atomically(path, bytes);
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

void Checkpointer::reconcile_best(TrainState& state, spdlog::logger& log) {
  if (!writes_ || state.best_step < 0) return;
  const auto best_path = (fs::path(dir_) / "best.pt").string();
  int64_t holds = -1;  // the step best.pt holds; -1: missing or unreadable
  try {
    holds = CheckpointReader(best_path).header().state.step;
  } catch (const CheckpointError&) {
  }
  if (holds == state.best_step) return;
  const auto source = (fs::path(dir_) / step_checkpoint_name(state.best_step)).string();
  try {
    CheckpointReader step_file(source);
    if (step_file.header().state.step == state.best_step) {
      write_file_atomically(best_path, read_checkpoint_file(source));
      log.warn("[run] best.pt did not hold step {}, the best validation so far; restored it from {}", state.best_step,
               source);
      return;
    }
  } catch (const CheckpointError&) {
  }
  log.warn("[run] the best model so far (step {}) is in neither best.pt nor {}; the next validation is taken as the "
           "best so far",
           state.best_step, source);
  state.best_step = -1, state.stale = 0;
}

std::string Checkpointer::last_good() const {
  return last_path_.empty() ? "No checkpoint was written yet." : "The last good checkpoint is " + last_path_ + ".";
}

}  // namespace attn
