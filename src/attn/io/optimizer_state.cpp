#include "attn/io/optimizer_state.h"

namespace attn {

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
