// Helpers shared by the tests: seeding, tensor comparison, and a float64 finite-difference
// gradient check (LibTorch's C++ API has no gradcheck of its own).
#pragma once

#include <torch/torch.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "attn/kernels/isa.h"
#include "attn/model/multi_head_attention.h"
#include "attn/ops/kernel_choice.h"

namespace attn::test {

/// Seeds LibTorch from Catch's --rng-seed, so every run can use fresh random inputs
/// (`--rng-seed time`) and a failure can be replayed with the seed Catch prints.
inline void seed() { torch::manual_seed(Catch::rngSeed()); }

/// f() with LibTorch's operators in place of every attn kernel: the reference computation.
/// (Which kernel runs is decided in forward; backward follows it.)
template <class F>
auto with_reference_kernels(F&& f) {
  const KernelScope reference(KernelChoice::reference());
  return f();
}

/// Largest difference relative to the largest reference magnitude (the plain difference when
/// the reference is all zero): the kernels' comparisons with their reference paths.
inline double relative_error(const torch::Tensor& got, const torch::Tensor& want) {
  const double scale = want.abs().max().item<double>();
  const double diff = (got - want).abs().max().item<double>();
  return scale == 0 ? diff : diff / scale;
}

/// grad with whole rows (along its last axis) zeroed, each row kept with probability `keep`: the
/// gradients max-pooling sends back (the kernels then skip the zero rows, attn/ops/gradient_rows.h).
inline torch::Tensor keep_rows(const torch::Tensor& grad, double keep) {
  auto shape = grad.sizes().vec();
  shape.back() = 1;
  return grad * (torch::rand(shape) < keep).to(grad.scalar_type());
}

/// Whether the autograd graph that produced `t` holds a node whose name contains `fragment`
/// (attn's fused ops are torch::autograd::Functions: CppNode<attn::...FusedAttentionFunction>).
/// Tells a test that the kernel it compares really ran, not a fallback to the reference.
inline bool graph_has(const torch::Tensor& t, const std::string& fragment) {
  std::vector<torch::autograd::Node*> todo;
  std::vector<const torch::autograd::Node*> seen;
  if (t.grad_fn()) todo.push_back(t.grad_fn().get());
  while (!todo.empty()) {
    auto* node = todo.back();
    todo.pop_back();
    if (std::find(seen.begin(), seen.end(), node) != seen.end()) continue;
    seen.push_back(node);
    if (node->name().find(fragment) != std::string::npos) return true;
    for (const auto& edge : node->next_edges())
      if (edge.function) todo.push_back(edge.function.get());
  }
  return false;
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  REQUIRE(a.sizes() == b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

/// Every element within atol + rtol * |reference|.
inline bool close_to(const torch::Tensor& actual, const torch::Tensor& reference, double rtol,
                     double atol) {
  REQUIRE(actual.sizes() == reference.sizes());
  return torch::allclose(actual.to(torch::kFloat64), reference.to(torch::kFloat64), rtol, atol);
}

/// Compares autograd's gradient of L = sum(f() * w), for a fixed random w, with central
/// differences (L(x + eps) - L(x - eps)) / 2 eps for every element of every tensor in `wrt`.
/// The tensors must be float64 leaves; returns the largest error relative to max(1, |grad|).
inline double gradient_error(const std::function<torch::Tensor()>& f,
                             const std::vector<torch::Tensor>& wrt, double eps = 1e-6) {
  const auto w = torch::randn_like(f());
  auto loss = [&] { return (f() * w).sum(); };
  const auto grads = torch::autograd::grad({loss()}, wrt, /*grad_outputs=*/{},
                                           /*retain_graph=*/false, /*create_graph=*/false,
                                           /*allow_unused=*/true);
  torch::NoGradGuard no_grad;
  double worst = 0;
  for (size_t t = 0; t < wrt.size(); ++t) {
    REQUIRE(wrt[t].scalar_type() == torch::kFloat64);
    REQUIRE(wrt[t].is_contiguous());
    const auto analytic = grads[t].defined() ? grads[t].contiguous() : torch::zeros_like(wrt[t]);
    double* x = wrt[t].data_ptr<double>();
    const double* g = analytic.data_ptr<double>();
    for (int64_t i = 0; i < wrt[t].numel(); ++i) {
      const double saved = x[i];
      x[i] = saved + eps;
      const double up = loss().item<double>();
      x[i] = saved - eps;
      const double down = loss().item<double>();
      x[i] = saved;
      const double numeric = (up - down) / (2 * eps);
      worst = std::max(worst, std::abs(numeric - g[i]) / std::max(1.0, std::abs(g[i])));
    }
  }
  return worst;
}

/// The parameters of `module` (which must already be float64), as a vector for gradient_error.
inline std::vector<torch::Tensor> trainable(torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (auto& p : module.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

inline std::vector<torch::Tensor> concat(std::vector<torch::Tensor> a,
                                         const std::vector<torch::Tensor>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// Copies our MultiHeadAttention's weights into LibTorch's MultiheadAttention: W_q, W_k, W_v as
/// its input projection (with a zero bias, since ours have none) and W_h as its out_proj.
inline void copy_attention(MultiHeadAttentionImpl& ours, torch::nn::MultiheadAttentionImpl& ref) {
  torch::NoGradGuard no_grad;
  if (ref._qkv_same_embed_dim) {
    ref.in_proj_weight.copy_(torch::cat({ours.W_q->weight, ours.W_k->weight, ours.W_v->weight}));
  } else {
    ref.q_proj_weight.copy_(ours.W_q->weight);
    ref.k_proj_weight.copy_(ours.W_k->weight);
    ref.v_proj_weight.copy_(ours.W_v->weight);
  }
  ref.in_proj_bias.zero_();
  ref.out_proj->weight.copy_(ours.W_h->weight);
  ref.out_proj->bias.copy_(ours.W_h->bias);
}

/// Copies a k=1 convolution pair into two Linear layers (weights (out, in, 1) -> (out, in)).
inline void copy_ffn(torch::nn::Conv1dImpl& conv1, torch::nn::Conv1dImpl& conv2,
                     torch::nn::LinearImpl& lin1, torch::nn::LinearImpl& lin2) {
  torch::NoGradGuard no_grad;
  lin1.weight.copy_(conv1.weight.squeeze(-1));
  lin1.bias.copy_(conv1.bias);
  lin2.weight.copy_(conv2.weight.squeeze(-1));
  lin2.bias.copy_(conv2.bias);
}

/// An additive causal mask (T, T) for LibTorch 1.13's C++ attention: -inf above the diagonal.
inline torch::Tensor additive_causal_mask(int64_t T, const torch::TensorOptions& options) {
  return torch::full({T, T}, -INFINITY, options).triu(1);
}

// The instruction sets a test that loops over them runs: every one this build and CPU have, or
// only ATTN_KERNEL_ISA's where it names one of them. scripts/test_portability.sh runs each ISA in
// a pass of its own, so a pass checks its ISA (against the reference, on its BLAS kernel) once
// rather than every ISA again; the main pass, without the variable, checks them all.
inline std::vector<std::string> isas_under_test() {
  auto usable = kernels::kernel_isas();
  const char* env = std::getenv("ATTN_KERNEL_ISA");
  if (env && std::find(usable.begin(), usable.end(), env) != usable.end()) return {env};
  return usable;
}

}  // namespace attn::test
