#include "attn/ops/fused_add_norm.h"

#include "attn/kernels/norm_kernels.h"
#include "attn/ops/block_sums.h"
#include "attn/ops/cpu_kernels.h"
#include "attn/ops/kernel_choice.h"
#include "attn/ops/parallel_guided.h"

namespace attn {

namespace {

template <typename T>
kernels::AddNormProblem<T> problem(const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& gamma,
                                   const torch::Tensor& beta, double eps) {
  kernels::AddNormProblem<T> p;
  p.N = x.size(0), p.D = x.size(1), p.R = r.numel() ? r.size(0) : 0;
  p.x = x.data_ptr<T>(), p.r = r.numel() ? r.data_ptr<T>() : nullptr;
  p.gamma = gamma.data_ptr<T>(), p.beta = beta.data_ptr<T>(), p.eps = T(eps);
  return p;
}

// x (N, D), r (R, D) with N a multiple of R, or empty for none; gamma, beta (D); all contiguous.
// An empty tensor stands for "no r": autograd functions take no undefined inputs.
struct FusedAddNormFunction : public torch::autograd::Function<FusedAddNormFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& r,
                               const torch::Tensor& gamma, const torch::Tensor& beta, double eps) {
    auto y = torch::empty_like(x);                                         // (N, D)
    auto rstd = torch::empty({x.size(0)}, x.options());                    // (N)
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_add_norm_forward", [&] {
      auto p = problem<scalar_t>(x, r, gamma, beta, eps);
      p.y = y.data_ptr<scalar_t>(), p.rstd = rstd.data_ptr<scalar_t>();
      parallel_guided(p.blocks(), [&](int64_t b, int64_t e) { kernels::add_norm_forward(p, b, e); });
    });
    ctx->save_for_backward({x, r, gamma, beta, rstd});
    ctx->saved_data["eps"] = eps;
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &r = saved[1], &gamma = saved[2], &beta = saved[3], &rstd = saved[4];
    const auto dy = grads[0].contiguous();                                 // (N, D)
    const int64_t N = x.size(0), D = x.size(1);
    auto dx = torch::empty_like(x);                                        // (N, D)
    torch::Tensor total;                                                   // (2 D): dgamma, dbeta
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_add_norm_backward", [&] {
      auto p = problem<scalar_t>(x, r, gamma, beta, ctx->saved_data["eps"].toDouble());
      p.rstd = rstd.data_ptr<scalar_t>(), p.dy = dy.data_ptr<scalar_t>(), p.dx = dx.data_ptr<scalar_t>();
      total = sum_over_block_chunks<scalar_t>(p.blocks(), 2 * D, x.options(),
                                              [&](int64_t begin, int64_t end, scalar_t* s) {
                                                kernels::add_norm_backward(p, begin, end, s, s + D);
                                              });
    });
    torch::Tensor dr;  // the gradient of x + r reaches r as is, or summed over the runs of R rows
    if (r.numel() && ctx->needs_input_grad(1))
      dr = r.size(0) == N ? dx : dx.view({N / r.size(0), r.size(0), D}).sum(0);  // (R, D)
    return {dx, dr, total.narrow(0, 0, D), total.narrow(0, D, D), torch::Tensor()};
  }
};

}  // namespace

bool fused_add_norm_applies(const torch::Tensor& x) {
  return kernel_choice().norm == Kernel::Fused && cpu_kernels_take(x);
}

torch::Tensor fused_add_norm(const torch::Tensor& x, const torch::Tensor& r, const torch::Tensor& weight,
                             const torch::Tensor& bias, double eps) {
  const int64_t D = x.size(-1);
  TORCH_CHECK(weight.numel() == D && bias.numel() == D, "fused_add_norm: x (..., ", D, ") does not fit weight ",
              weight.sizes(), " and bias ", bias.sizes());
  TORCH_CHECK(weight.scalar_type() == x.scalar_type() && bias.scalar_type() == x.scalar_type() &&
                  (!r.defined() || r.scalar_type() == x.scalar_type()),
              "fused_add_norm: r, weight and bias must have the dtype of x (", x.scalar_type(), ")");
  const auto rows = x.reshape({-1, D}).contiguous();                       // (N, D)
  torch::Tensor added = torch::empty({0}, x.options());
  if (r.defined()) {
    TORCH_CHECK(r.size(-1) == D && r.numel() > 0 && rows.size(0) % (r.numel() / D) == 0,
                "fused_add_norm: r ", r.sizes(), " must have the shape of x ", x.sizes(),
                " or be (R, ", D, ") with R dividing its ", rows.size(0), " rows");
    added = r.reshape({-1, D}).contiguous();                               // (R, D)
  }
  auto y = FusedAddNormFunction::apply(rows, added, weight.contiguous(), bias.contiguous(), eps);  // (N, D)
  return y.view(x.sizes());                                                // (..., D)
}

torch::Tensor add_layer_norm(const torch::Tensor& x, const torch::Tensor& r, torch::nn::LayerNorm& norm) {
  const auto& o = norm->options;
  if (fused_add_norm_applies(x) && x.numel() > 0 && o.normalized_shape().size() == 1 &&
      o.elementwise_affine())
    return fused_add_norm(x, r, norm->weight, norm->bias, o.eps());
  return norm(r.defined() ? x + r : x);
}

}  // namespace attn
