#include "attn/train/fused_adamw.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "attn/kernels/adamw_kernels.h"
#include "attn/train/optimizer.h"

namespace attn {

namespace {

bool fusable(const torch::Tensor& p, const torch::optim::AdamWOptions& o) {
  const auto& g = p.grad();
  return !o.amsgrad() && p.device().is_cpu() && p.is_contiguous() && g.is_contiguous() && !g.is_sparse() &&
         g.scalar_type() == p.scalar_type() &&
         (p.scalar_type() == torch::kFloat || p.scalar_type() == torch::kDouble);
}

template <typename T>
void update(torch::Tensor& p, const torch::Tensor& grad, torch::Tensor& exp_avg, torch::Tensor& exp_avg_sq,
            const torch::optim::AdamWOptions& o, int64_t step) {
  const double beta1 = std::get<0>(o.betas()), beta2 = std::get<1>(o.betas());
  // The scalars as LibTorch's kernels see them: computed in double, applied in T.
  kernels::AdamWProblem<T> q;
  q.p = p.data_ptr<T>();
  q.m = exp_avg.data_ptr<T>();
  q.v = exp_avg_sq.data_ptr<T>();
  q.g = grad.data_ptr<T>();
  q.n = p.numel();
  q.decay = static_cast<T>(1 - o.lr() * o.weight_decay());
  q.beta1 = static_cast<T>(beta1), q.one_minus_beta1 = static_cast<T>(1 - beta1);
  q.beta2 = static_cast<T>(beta2), q.one_minus_beta2 = static_cast<T>(1 - beta2);
  // LibTorch divides by a scalar as a product with its reciprocal.
  q.inv_root_bc2 = T(1) / static_cast<T>(std::sqrt(1 - std::pow(beta2, double(step))));
  q.eps = static_cast<T>(o.eps());
  q.neg_step = static_cast<T>(-(o.lr() / (1 - std::pow(beta1, double(step)))));
  at::parallel_for(0, q.n, 1 << 14, [&](int64_t begin, int64_t end) { kernels::adamw_update(q, begin, end); });
}

}  // namespace

torch::Tensor FusedAdamW::step(LossClosure closure) {
  for (const auto& group : param_groups())
    for (const auto& p : group.params())
      if (p.grad().defined() && !fusable(p, static_cast<const torch::optim::AdamWOptions&>(group.options())))
        return torch::optim::AdamW::step(std::move(closure));
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups()) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = state_[optimizer_state_key(p)];
      if (!slot) {  // as AdamW::step: zero moments at the first step
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*slot);
      state.step(state.step() + 1);
      auto& exp_avg = state.exp_avg();
      auto& exp_avg_sq = state.exp_avg_sq();
      AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "fused_adamw", [&] {
        update<scalar_t>(p, p.grad(), exp_avg, exp_avg_sq, options, state.step());
      });
    }
  }
  return loss;
}

}  // namespace attn
