#include "attn/train/replicas.h"

#include <csignal>

#include "attn/train/interrupt.h"

namespace attn {

Replicas::Replicas(const std::string& fingerprint) : env_(read_dist_env()) {
  if (env_.distributed())
    comm_ = std::make_unique<Communicator>(env_, std::chrono::seconds(env_.timeout_s), fingerprint);
}

Replicas::~Replicas() = default;

void Replicas::check_all_succeeded(bool ok, const std::string& what) {
  const auto failed = comm_->failed_ranks(ok, what);
  if (!ok || failed.empty()) return;  // this rank's own error is rethrown by the caller
  std::string ranks;
  for (int r : failed) ranks += (ranks.empty() ? "" : ", ") + std::to_string(r);
  throw DistributedError("rank " + std::to_string(comm_->rank()) + ": rank " + ranks + " failed while " + what +
                         " (its message says why); stopping");
}

std::string Replicas::broadcast_bytes(const std::string& bytes, const std::string& what) {
  return comm_ ? comm_->broadcast_bytes(bytes, what) : bytes;
}

void Replicas::broadcast(const std::vector<torch::Tensor>& tensors, const std::string& what) {
  if (comm_) comm_->broadcast(tensors, what);
}

std::vector<size_t> Replicas::shard(const std::vector<size_t>& batch) const {
  return comm_ ? shard_of(batch, env_.rank, env_.world_size) : batch;
}

void Replicas::agree(ValidationVerdict& v, int64_t step) {
  if (!comm_) return;
  auto values = torch::tensor({double(v.improved), v.best, double(v.best_step), double(v.stale)}, torch::kDouble);  // (4)
  comm_->broadcast({values}, "the validation verdict of step " + std::to_string(step));
  v.improved = values[0].item<double>() != 0, v.best = values[1].item<double>();
  v.best_step = static_cast<int64_t>(values[2].item<double>()), v.stale = static_cast<int64_t>(values[3].item<double>());
}

void Replicas::sum_step(const std::vector<torch::Tensor>& gradients, StepTotals& t, int64_t step) {
  if (!comm_) return;
  const auto name = "step " + std::to_string(step);
  comm_->all_reduce_sum(gradients, "the gradient all-reduce of " + name);
  // Which signal each rank has seen, one slot per signal, so that a rank whose own copy of a
  // Ctrl-C arrives a moment later stops at the same step, reporting the same signal.
  auto stats = torch::tensor({t.loss, t.correct, t.units, t.samples, t.nonfinite_loss ? 1.0 : 0.0,
                              t.signal == SIGINT ? 1.0 : 0.0, t.signal && t.signal != SIGINT ? 1.0 : 0.0},
                             torch::kDouble);  // (7)
  comm_->all_reduce_sum({stats}, "the loss all-reduce of " + name);
  t.loss = stats[0].item<double>(), t.correct = stats[1].item<double>();
  t.units = stats[2].item<double>(), t.samples = stats[3].item<double>();
  t.nonfinite_loss = stats[4].item<double>() > 0;
  if (!t.signal && stats[5].item<double>() > 0) t.signal = SIGINT;  // another rank's
  if (!t.signal && stats[6].item<double>() > 0) t.signal = SIGTERM;
}

int Replicas::stop_signal(const StepTotals& step) const {
  return comm_ ? step.signal : InterruptGuard::pending();
}

double Replicas::seconds() const { return comm_ ? comm_->seconds() : 0; }

}  // namespace attn
