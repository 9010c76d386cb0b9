#include "attn/ops/blocked_linear.h"

#include <algorithm>

#include "attn/kernels/onednn_gemm.h"
#include "attn/kernels/blas.h"
#include "attn/kernels/linear_kernels.h"
#include "attn/ops/block_sums.h"
#include "attn/ops/cpu_kernels.h"
#include "attn/ops/gradient_rows.h"
#include "attn/ops/kernel_choice.h"
#include "attn/ops/parallel_guided.h"

namespace attn {

int64_t step_columns(int64_t rows, int64_t K) {
  const int64_t by_output = 1200 / std::max<int64_t>(1, rows), by_product = 1000000 / std::max<int64_t>(1, rows * K);
  return std::clamp<int64_t>(std::min(by_output, by_product) / 16 * 16, 16, 128);
}

namespace {

// y (N, M) = x (N, K) w^T + b, then relu and add, in blocks of step_columns rows of w (output
// columns), one per thread at a time: each block's product within OpenBLAS's small-matrix path,
// which reads w where it lies.
template <typename T>
void step_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, bool relu,
                 const torch::Tensor& add, torch::Tensor& y) {
  const int64_t N = x.size(0), K = x.size(1), M = w.size(0), cols = step_columns(N, K);
  const T* xp = x.data_ptr<T>();
  const T* wp = w.data_ptr<T>();
  const T* bp = b.defined() && b.numel() ? b.data_ptr<T>() : nullptr;
  const T* ap = add.defined() ? add.data_ptr<T>() : nullptr;
  T* yp = y.data_ptr<T>();
  parallel_guided((M + cols - 1) / cols, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t c0 = block * cols, n = std::min(cols, M - c0);
      if (bp)
        for (int64_t r = 0; r < N; ++r) std::copy(bp + c0, bp + c0 + n, yp + r * M + c0);
      kernels::gemm<T>(false, true, N, n, K, T(1), xp, K, wp + c0 * K, K, bp ? T(1) : T(0), yp + c0, M);
      if (!relu && !ap) continue;
      for (int64_t r = 0; r < N; ++r) {
        T* row = yp + r * M + c0;
        for (int64_t j = 0; j < n; ++j) {
          if (relu) row[j] = std::max(row[j], T(0));
          if (ap) row[j] += ap[r * M + c0 + j];
        }
      }
    }
  });
}

}  // namespace

torch::Tensor few_rows_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, bool relu,
                             const torch::Tensor& add) {
  if (x.size(0) <= kStepRows && x.dim() == 2 && x.device().is_cpu()) {  // a decoding step's rows
    auto y = torch::empty({x.size(0), w.size(0)}, x.options());            // (N, M)
    const auto xc = x.contiguous(), wc = w.contiguous();
    const auto bc = b.defined() ? b.contiguous() : b, ac = add.defined() ? add.contiguous() : add;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "step_linear", [&] { step_linear<scalar_t>(xc, wc, bc, relu, ac, y); });
    return y;
  }
  // One product with W as a transposed view: OpenBLAS reads it in place (no transposed copy).
  auto y = b.defined() && b.numel() ? torch::addmm(b, x, w.t()) : torch::mm(x, w.t());  // (N, M)
  if (relu) y.relu_();
  if (add.defined()) y.add_(add);
  return y;
}

namespace {

// x (N, K), w (M, K) and b (M, or empty when there is no bias) contiguous. An empty tensor
// stands for "no bias": autograd functions take no undefined inputs.
struct BlockedLinearFunction : public torch::autograd::Function<BlockedLinearFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& b) {
    ctx->save_for_backward({x, w, b});
    // A decoding step: the weights read where they lie, not transposed first.
    if (x.size(0) <= kFewRows) return few_rows_linear(x, w, b);           // (N, M)
    auto y = torch::empty({x.size(0), w.size(0)}, x.options());           // (N, M)
    const auto wt = w.t().contiguous();                                    // (K, M): see linear_rows
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "blocked_linear_forward", [&] {
      kernels::LinearProblem<scalar_t> p;
      p.N = x.size(0), p.K = x.size(1), p.M = w.size(0), p.block = kernels::block_rows(p.M, p.K);
      p.x = x.data_ptr<scalar_t>(), p.w = w.data_ptr<scalar_t>(), p.wt = wt.data_ptr<scalar_t>();
      p.b = b.numel() ? b.data_ptr<scalar_t>() : nullptr;
      p.y = y.data_ptr<scalar_t>();
      const kernels::Bf16Constants rounded_once({{p.wt, p.K, p.M}});  // under bf16: not per block
      parallel_guided(p.blocks(), [&](int64_t s, int64_t e) { kernels::linear_forward(p, s, e); });
    });
    return y;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &w = saved[1], &b = saved[2];
    // Rows whose gradient is zero have dx = 0 and add nothing: the products run on the others.
    const auto kept = rows_with_gradient(saved[0], grads[0].contiguous());
    const auto &x = kept.x, &dy = kept.dy;                                 // (n, K), (n, M)
    const int64_t K = x.size(1), M = w.size(0);
    const bool bias = b.numel() > 0;
    auto dx = torch::empty_like(x);                                        // (n, K)
    torch::Tensor total;                                                   // (M K + M)
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "blocked_linear_backward", [&] {
      kernels::LinearProblem<scalar_t> p;
      p.N = x.size(0), p.K = K, p.M = M, p.block = kernels::block_rows(M, K);
      p.x = x.data_ptr<scalar_t>(), p.w = w.data_ptr<scalar_t>();
      p.dy = dy.data_ptr<scalar_t>(), p.dx = dx.data_ptr<scalar_t>();
      const kernels::Bf16Constants rounded_once({{p.w, M, K}});  // under bf16: not per block
      total = sum_over_block_chunks<scalar_t>(p.blocks(), M * K + M, x.options(),
                                              [&](int64_t begin, int64_t end, scalar_t* s) {
                                                kernels::linear_backward(p, begin, end, s, bias ? s + M * K : nullptr);
                                              });
    });
    return {kept.all_rows(dx), total.narrow(0, 0, M * K).view({M, K}),
            bias ? total.narrow(0, M * K, M) : torch::Tensor()};
  }
};

}  // namespace

bool blocked_linear_applies(const torch::Tensor& x) {
  return kernel_choice().attention == Kernel::Fused && cpu_kernels_take(x);
}

torch::Tensor blocked_linear(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const int64_t K = x.size(-1);
  TORCH_CHECK(w.dim() == 2 && w.size(1) == K && (!b.defined() || b.numel() == w.size(0)),
              "blocked_linear: x (..., ", K, ") does not fit w ", w.sizes(), (b.defined() ? ", b " : ""),
              (b.defined() ? b.sizes() : c10::IntArrayRef{}));
  TORCH_CHECK(w.scalar_type() == x.scalar_type() && (!b.defined() || b.scalar_type() == x.scalar_type()),
              "blocked_linear: the weights must have the dtype of x (", x.scalar_type(), ")");
  auto shape = x.sizes().vec();
  shape.back() = w.size(0);
  const auto bias = b.defined() ? b.contiguous() : torch::empty({0}, x.options());
  auto y = BlockedLinearFunction::apply(x.reshape({-1, K}).contiguous(), w.contiguous(), bias);  // (N, M)
  return y.view(shape);                                                    // (..., M)
}

torch::Tensor linear_layer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  return blocked_linear_applies(x) ? blocked_linear(x, w, b) : torch::nn::functional::linear(x, w, b);
}

}  // namespace attn
