#include "attn/ops/fused_ffn.h"

#include "attn/kernels/onednn_gemm.h"
#include "attn/kernels/blas.h"
#include "attn/ops/blocked_linear.h"
#include "attn/kernels/ffn_kernels.h"
#include "attn/ops/block_sums.h"
#include "attn/ops/cpu_kernels.h"
#include "attn/ops/gradient_rows.h"
#include "attn/ops/kernel_choice.h"
#include "attn/ops/parallel_guided.h"

namespace attn {

namespace {

// The weights transposed, for the kernels' forward products (see linear_rows); they must
// outlive the problem that points into them.
struct Transposed {
  torch::Tensor w1t, w2t;  // (D, F), (F, D)
  Transposed() = default;
  Transposed(const torch::Tensor& w1, const torch::Tensor& w2) : w1t(w1.t().contiguous()), w2t(w2.t().contiguous()) {}
};

template <typename T>
kernels::FfnProblem<T> problem(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                               const torch::Tensor& w2, const torch::Tensor& b2) {
  kernels::FfnProblem<T> p;
  p.N = x.size(0), p.D = x.size(1), p.F = w1.size(0);
  p.x = x.data_ptr<T>(), p.w1 = w1.data_ptr<T>(), p.b1 = b1.data_ptr<T>();
  p.w2 = w2.data_ptr<T>(), p.b2 = b2.data_ptr<T>();
  p.block = kernels::block_rows(p.F, p.D);
  return p;
}

struct FusedFeedForwardFunction : public torch::autograd::Function<FusedFeedForwardFunction> {
  // x (N, D) and the weights contiguous.
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& w1, const torch::Tensor& b1, const torch::Tensor& w2,
                               const torch::Tensor& b2, bool residual, bool backward) {
    ctx->saved_data["residual"] = residual;
    if (x.size(0) <= kFewRows && !backward) {  // a decoding step: the weights read where they lie
      const auto h = few_rows_linear(x, w1, b1, /*relu=*/true);           // (N, F)
      return few_rows_linear(h, w2, b2, /*relu=*/false, residual ? x : torch::Tensor());  // (N, D)
    }
    auto y = torch::empty_like(x);                                         // (N, D)
    const bool keep = backward && kernels::ffn_keeps_hidden(x.size(1));  // h for backward, or recomputed there
    const auto h = keep ? x.new_empty({x.size(0), w1.size(0)}) : torch::Tensor();  // (N, F)
    ctx->save_for_backward({x, w1, b1, w2, b2, h});
    const Transposed t(w1, w2);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_ffn_forward", [&] {
      auto p = problem<scalar_t>(x, w1, b1, w2, b2);
      p.w1t = t.w1t.data_ptr<scalar_t>(), p.w2t = t.w2t.data_ptr<scalar_t>();
      p.y = y.data_ptr<scalar_t>(), p.residual = residual;
      if (keep) p.h = h.data_ptr<scalar_t>();
      const kernels::Bf16Constants rounded_once({{p.w1t, p.D, p.F}, {p.w2t, p.F, p.D}});  // under bf16
      parallel_guided(p.blocks(), [&](int64_t b, int64_t e) { kernels::ffn_forward(p, b, e); });
    });
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &w1 = saved[1], &b1 = saved[2], &w2 = saved[3], &b2 = saved[4];
    // Rows whose gradient is zero have dx = 0 and add nothing: the products run on the others.
    const auto kept = rows_with_gradient(saved[0], grads[0].contiguous());
    auto h = saved[5];                                                     // (N, F), or undefined: recomputed
    if (h.defined() && kept.rows.defined()) h = gather_rows(h, kept.rows);  // (n, F)
    const auto &x = kept.x, &dy = kept.dy;                                 // (n, D), (n, D)
    const int64_t D = x.size(1), F = w1.size(0);
    auto dx = torch::empty_like(x);                                        // (n, D)
    torch::Tensor total;                                                   // (2 F D + F + D)
    const auto t = h.defined() ? Transposed() : Transposed(w1, w2);        // the weights to recompute h
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_ffn_backward", [&] {
      auto p = problem<scalar_t>(x, w1, b1, w2, b2);
      p.dy = dy.data_ptr<scalar_t>(), p.dx = dx.data_ptr<scalar_t>();
      if (h.defined())
        p.h = h.data_ptr<scalar_t>();
      else
        p.w1t = t.w1t.data_ptr<scalar_t>(), p.w2t = t.w2t.data_ptr<scalar_t>();
      p.residual = ctx->saved_data["residual"].toBool();
      const kernels::Bf16Constants rounded_once(
          {{p.w1, F, D}, {p.w2, D, F}, {p.w1t, D, F}, {p.w2t, F, D}});  // under bf16 (w1t, w2t: when set)
      total = sum_over_block_chunks<scalar_t>(p.blocks(), 2 * F * D + F + D, x.options(),
                                              [&](int64_t begin, int64_t end, scalar_t* s) {
                                                kernels::ffn_backward(p, begin, end,
                                                                      kernels::FfnGrads<scalar_t>{
                                                                          s, s + F * D, s + F * D + F, s + 2 * F * D + F});
                                              });
    });
    auto dw1 = total.narrow(0, 0, F * D).view({F, D});
    auto db1 = total.narrow(0, F * D, F);
    auto dw2 = total.narrow(0, F * D + F, F * D).view({D, F});
    auto db2 = total.narrow(0, 2 * F * D + F, D);
    return {kept.all_rows(dx), dw1, db1, dw2, db2, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool fused_ffn_applies(const torch::Tensor& x, Activation activation, double dropout, bool training) {
  return kernel_choice().ffn == Kernel::Fused && cpu_kernels_take(x) && activation == Activation::ReLU && !(training && dropout > 0);
}

torch::Tensor fused_ffn(const torch::Tensor& x, const torch::Tensor& w1, const torch::Tensor& b1,
                        const torch::Tensor& w2, const torch::Tensor& b2, bool residual) {
  const int64_t D = x.size(-1);
  for (const auto* t : {&w1, &b1, &w2, &b2})
    TORCH_CHECK(t->scalar_type() == x.scalar_type(), "fused_ffn: the weights must have the dtype of x (",
                x.scalar_type(), "), got ", t->scalar_type());
  TORCH_CHECK(w1.dim() == 2 && w1.size(1) == D && w2.dim() == 2 && w2.size(0) == D && w2.size(1) == w1.size(0) &&
                  b1.numel() == w1.size(0) && b2.numel() == D,
              "fused_ffn: x (..., ", D, ") does not fit w1 ", w1.sizes(), ", b1 ", b1.sizes(), ", w2 ", w2.sizes(),
              ", b2 ", b2.sizes());
  auto shape = x.sizes().vec();
  bool backward = false;
  for (const auto* t : {&x, &w1, &b1, &w2, &b2}) backward = backward || t->requires_grad();
  backward = backward && torch::GradMode::is_enabled();
  auto y = FusedFeedForwardFunction::apply(x.reshape({-1, D}).contiguous(), w1.contiguous(), b1.contiguous(),
                                           w2.contiguous(), b2.contiguous(), residual, backward);  // (N, D)
  return y.view(shape);                                                    // (..., D)
}

}  // namespace attn
