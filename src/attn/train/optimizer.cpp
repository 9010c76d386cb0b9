#include "attn/train/optimizer.h"

#include "attn/train/fused_adamw.h"

namespace attn {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t, std::vector<torch::Tensor> params) {
  if (t.optimizer == "sgd")
    return std::make_unique<torch::optim::SGD>(
        params, torch::optim::SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weight_decay));
  return std::make_unique<FusedAdamW>(
      params, torch::optim::AdamWOptions(t.lr).betas({t.betas[0], t.betas[1]}).weight_decay(t.weight_decay));
}

void clear_gradients(torch::optim::Optimizer& optimizer) {
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
}

std::vector<torch::Tensor> trainable_parameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> params;
  for (auto& p : model.parameters())
    if (p.requires_grad()) params.push_back(p);
  return params;
}

void move_state_to_parameters(torch::optim::Optimizer& optimizer) {
  auto& state = optimizer.state();
  for (auto& group : optimizer.param_groups())
    for (auto& p : group.params()) {
      auto found = state.find(optimizer_state_key(p));
      if (found == state.end()) continue;
      auto to = [&](const torch::Tensor& t) { return t.defined() ? t.to(p.device()) : t; };
      if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(found->second.get())) {
        adamw->exp_avg(to(adamw->exp_avg()));
        adamw->exp_avg_sq(to(adamw->exp_avg_sq()));
        adamw->max_exp_avg_sq(to(adamw->max_exp_avg_sq()));
      } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(found->second.get())) {
        sgd->momentum_buffer(to(sgd->momentum_buffer()));
      }
    }
}

}  // namespace attn
