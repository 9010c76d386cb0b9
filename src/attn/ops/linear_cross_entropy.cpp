#include "attn/ops/linear_cross_entropy.h"

#include "attn/kernels/onednn_gemm.h"
#include "attn/kernels/cross_entropy_kernels.h"
#include "attn/ops/block_sums.h"
#include "attn/ops/cpu_kernels.h"
#include "attn/ops/kernel_choice.h"
#include "attn/ops/parallel_guided.h"

namespace attn {

namespace {

// The loss is a scalar, so its gradient is known up to the factor backward brings: forward
// computes it (with the loss, block by block) and backward scales it.
struct LinearCrossEntropyFunction : public torch::autograd::Function<LinearCrossEntropyFunction> {
  // h (n, D), weight (V, D), bias (V) or empty (no bias: autograd takes no undefined input), all
  // contiguous; target (n), every row counted.
  // -> (loss (), argmax (n))
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& h,
                                                const torch::Tensor& weight, const torch::Tensor& bias,
                                                const torch::Tensor& target, double smoothing, bool gradient) {
    const int64_t n = h.size(0), D = h.size(1), V = weight.size(0);
    auto rows = torch::empty({n}, h.options());                            // (n)
    auto argmax = torch::empty({n}, target.options());                     // (n)
    auto dh = gradient ? torch::empty_like(h) : torch::Tensor();           // (n, D)
    torch::Tensor sums;                                                    // (V D + V)
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "linear_cross_entropy", [&] {
      kernels::LinearCrossEntropyProblem<scalar_t> p;
      p.N = n, p.D = D, p.V = V;
      p.h = h.data_ptr<scalar_t>(), p.w = weight.data_ptr<scalar_t>();
      p.b = bias.numel() ? bias.data_ptr<scalar_t>() : nullptr;
      p.target = target.data_ptr<int64_t>();
      p.smoothing = static_cast<scalar_t>(smoothing);
      p.scale = static_cast<scalar_t>(1.0 / static_cast<double>(std::max<int64_t>(n, 1)));
      p.loss = rows.data_ptr<scalar_t>(), p.argmax = argmax.data_ptr<int64_t>();
      p.block = kernels::cross_entropy_block_rows(V);
      const kernels::Bf16Constants rounded_once({{p.w, V, D}});  // under bf16: not per block
      if (!gradient) {
        scalar_t* none = nullptr;
        parallel_guided(p.blocks(), [&](int64_t b, int64_t e) { kernels::linear_cross_entropy(p, b, e, none, none); });
        return;
      }
      p.dh = dh.data_ptr<scalar_t>();
      sums = sum_over_block_chunks<scalar_t>(p.blocks(), V * D + V, h.options(),
                                             [&](int64_t b, int64_t e, scalar_t* s) {
                                               kernels::linear_cross_entropy(p, b, e, s, p.b ? s + V * D : nullptr);
                                             });
    });
    if (gradient) {
      ctx->saved_data["dh"] = dh;
      ctx->saved_data["dw"] = sums.narrow(0, 0, V * D).view({V, D});
      ctx->saved_data["db"] = bias.numel() ? sums.narrow(0, V * D, V) : torch::Tensor();
    }
    ctx->mark_non_differentiable({argmax});
    return {rows.sum() / static_cast<double>(n), argmax};  // (), (n)
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto g = grads[0];                                                // ()
    auto dh = ctx->saved_data["dh"].toTensor(), dw = ctx->saved_data["dw"].toTensor();
    auto db = ctx->saved_data["db"].toTensor();  // undefined without bias
    return {dh * g, dw * g, db.defined() ? db * g : torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

TokenLoss reference_loss(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& bias,
                         const torch::Tensor& target, int64_t ignore_index, double smoothing) {
  auto logits = torch::nn::functional::linear(hidden, weight, bias).flatten(0, -2);  // (N, V)
  auto flat = target.flatten();                                                      // (N)
  TokenLoss r;
  r.loss = torch::nn::functional::cross_entropy(
      logits, flat,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(ignore_index).label_smoothing(smoothing));
  auto counted = flat.ne(ignore_index);                                              // (N)
  r.tokens = counted.sum().item<int64_t>();
  r.correct = (logits.argmax(1).eq(flat) & counted).sum().item<int64_t>();
  return r;
}

}  // namespace

bool fused_loss_applies(const torch::Tensor& hidden) {
  return kernel_choice().loss == Kernel::Fused && cpu_kernels_take(hidden);
}

TokenLoss linear_cross_entropy(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& target, int64_t ignore_index, double label_smoothing) {
  const int64_t D = hidden.size(-1), V = weight.size(0);
  TORCH_CHECK(weight.dim() == 2 && weight.size(1) == D && (!bias.defined() || bias.numel() == V),
              "linear_cross_entropy: hidden (..., ", D, ") does not fit weight ", weight.sizes(),
              bias.defined() ? ", bias " : "", bias.defined() ? bias.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(target.scalar_type() == torch::kLong, "linear_cross_entropy: targets must be int64, got ",
              target.scalar_type());
  TORCH_CHECK(target.numel() * D == hidden.numel(), "linear_cross_entropy: ", target.numel(),
              " targets for hidden ", hidden.sizes());
  if (!fused_loss_applies(hidden) || weight.scalar_type() != hidden.scalar_type())
    return reference_loss(hidden, weight, bias, target, ignore_index, label_smoothing);
  auto h = hidden.reshape({-1, D});                                        // (N, D)
  auto t = target.reshape({-1});                                           // (N)
  // Only the counted rows go through the kernel: padding costs nothing.
  auto counted = t.ne(ignore_index);                                       // (N)
  const int64_t n = counted.sum().item<int64_t>();
  const bool gathered = n < t.numel();
  auto index = gathered ? counted.nonzero().squeeze(1) : torch::Tensor();  // (n)
  if (gathered) h = h.index_select(0, index), t = t.index_select(0, index);
  TORCH_CHECK(n == 0 || (t.min().item<int64_t>() >= 0 && t.max().item<int64_t>() < V),
              "linear_cross_entropy: a target outside [0, ", V, ")");
  const bool gradient = torch::GradMode::is_enabled() &&
                        (hidden.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
  auto out = LinearCrossEntropyFunction::apply(h.contiguous(), weight.contiguous(),
                                               bias.defined() ? bias.contiguous() : torch::empty({0}, h.options()),
                                               t.contiguous(), label_smoothing, gradient);
  TokenLoss r;
  r.loss = out[0];
  r.tokens = n;
  r.correct = out[1].eq(t).sum().item<int64_t>();
  return r;
}

}  // namespace attn
