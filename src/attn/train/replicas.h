// The processes of one run, seen from one of them: alone, or one of several data-parallel
// replicas joined through c10d (distributed.h). The training loop calls the same methods either
// way; alone each is the identity or does nothing, so the loop has no branch on the world size.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "attn/train/distributed.h"

namespace attn {

/// What one training step summed over its batches: the loss and counts for the progress line,
/// and what would stop it.
struct StepTotals {
  double loss = 0, correct = 0, units = 0, samples = 0;
  bool nonfinite_loss = false;  ///< some rank's loss was not finite
  int signal = 0;               ///< SIGINT / SIGTERM seen by some rank (SIGINT first), else 0
};

/// A validation's verdict on the best checkpoint: rank 0's is every rank's, so that early
/// stopping agrees everywhere.
struct ValidationVerdict {
  bool improved = false;
  double best = 0;          ///< TrainState::best
  int64_t best_step = -1;   ///< TrainState::best_step
  int64_t stale = 0;        ///< TrainState::stale
};

class Replicas {
 public:
  /// From torchrun's variables (read_dist_env): alone without them, else joins the others
  /// (rendezvous, then a check that every rank was asked the same: `fingerprint`).
  explicit Replicas(const std::string& fingerprint);
  ~Replicas();

  const DistEnv& env() const { return env_; }
  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  bool several() const { return comm_ != nullptr; }
  /// Rank 0: the only one that reads the run directory and writes to it.
  bool lead() const { return env_.rank == 0; }

  /// Runs `part` here; with several ranks, all then learn whether every rank succeeded, so that
  /// one rank's bad input stops the job at once instead of leaving the others waiting.
  template <class F>
  void on_every_rank(const std::string& what, F&& part);

  /// Rank 0's bytes on every rank.
  std::string broadcast_bytes(const std::string& bytes, const std::string& what);
  /// Rank 0's values into every rank's tensors, in place.
  void broadcast(const std::vector<torch::Tensor>& tensors, const std::string& what);
  /// The part of a global batch this rank computes (all of it alone).
  std::vector<size_t> shard(const std::vector<size_t>& batch) const;
  /// Rank 0's verdict on every rank (alone: as it is).
  void agree(ValidationVerdict& verdict, int64_t step);
  /// Sums a step's gradients (in place) and its totals over the ranks.
  void sum_step(const std::vector<torch::Tensor>& gradients, StepTotals& totals, int64_t step);
  /// The signal that stops the run after this step, or 0. Alone: one received so far (also
  /// during the step's validation); several: the one the step's totals carry, which every rank
  /// saw at the same step, so that all stop together.
  int stop_signal(const StepTotals& step) const;
  /// Seconds spent in collectives so far, waiting for other ranks included (0 alone).
  double seconds() const;

 private:
  void check_all_succeeded(bool ok, const std::string& what);

  DistEnv env_;
  std::unique_ptr<Communicator> comm_;
};

template <class F>
void Replicas::on_every_rank(const std::string& what, F&& part) {
  if (!comm_) return part();
  std::exception_ptr error;
  try {
    part();
  } catch (...) {
    error = std::current_exception();
  }
  check_all_succeeded(!error, what);  // throws DistributedError when another rank failed
  if (error) std::rethrow_exception(error);
}

}  // namespace attn
