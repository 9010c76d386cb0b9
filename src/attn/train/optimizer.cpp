#include "attn/train/optimizer.h"

#include "attn/train/fused_adamw.h"

namespace attn {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t, std::vector<torch::Tensor> params) {
  if (t.optimizer == OptimizerKind::SGD)
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

}  // namespace attn
