#include "attn/ops/set_max_pool.h"

#include <ATen/Parallel.h>

#include <cstdint>
#include <vector>

#include "attn/ops/cpu_kernels.h"

namespace attn {

namespace {

// x (B, T, D) contiguous; padding (B, T) bool contiguous, or empty for none.
struct SetMaxPoolFunction : public torch::autograd::Function<SetMaxPoolFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& padding) {
    const int64_t B = x.size(0), T = x.size(1), D = x.size(2);
    auto out = torch::empty({B, D}, x.options());                          // (B, D)
    auto index = torch::empty({B, D}, x.options().dtype(torch::kLong));    // (B, D): -1 for an empty set
    const bool* pad = padding.numel() ? padding.data_ptr<bool>() : nullptr;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "set_max_pool_forward", [&] {
      const scalar_t* xs = x.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      int64_t* at = index.data_ptr<int64_t>();
      at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
        // The running maxima and their positions in buffers of their own (int32 alongside the
        // values): the compiler then vectorises the comparison loop.
        std::vector<scalar_t> maxima(D);
        std::vector<int32_t> where(D);
        for (int64_t b = b0; b < b1; ++b) {
          int64_t t = 0;
          while (t < T && pad && pad[b * T + t]) ++t;
          if (t == T) {                                                     // an empty set pools to 0
            std::fill(o + b * D, o + (b + 1) * D, scalar_t(0));
            std::fill(at + b * D, at + (b + 1) * D, int64_t(-1));
            continue;
          }
          scalar_t* __restrict best = maxima.data();
          int32_t* __restrict pos = where.data();
          std::copy(xs + (b * T + t) * D, xs + (b * T + t + 1) * D, best);
          std::fill(pos, pos + D, int32_t(t));
          for (++t; t < T; ++t) {
            if (pad && pad[b * T + t]) continue;
            const scalar_t* __restrict row = xs + (b * T + t) * D;
            const int32_t here = int32_t(t);
            for (int64_t d = 0; d < D; ++d) {
              // Strictly greater keeps the first maximum; a NaN (v != v) wins once and stays.
              const scalar_t v = row[d], cur = best[d];
              const bool take = (v > cur) | ((v != v) & (cur == cur));
              best[d] = take ? v : cur;
              pos[d] = take ? here : pos[d];
            }
          }
          std::copy(best, best + D, o + b * D);
          std::copy(pos, pos + D, at + b * D);
        }
      });
    });
    ctx->save_for_backward({index});
    ctx->saved_data["T"] = T;
    ctx->mark_non_differentiable({index});
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto index = ctx->get_saved_variables()[0];                      // (B, D)
    const auto grad = grads[0].contiguous();                               // (B, D)
    const int64_t B = grad.size(0), D = grad.size(1), T = ctx->saved_data["T"].toInt();
    auto dx = torch::empty({B, T, D}, grad.options());                     // (B, T, D)
    AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "set_max_pool_backward", [&] {
      const scalar_t* g = grad.data_ptr<scalar_t>();
      const int64_t* at = index.data_ptr<int64_t>();
      scalar_t* out = dx.data_ptr<scalar_t>();
      at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
        std::fill(out + b0 * T * D, out + b1 * T * D, scalar_t(0));
        for (int64_t b = b0; b < b1; ++b)
          for (int64_t d = 0; d < D; ++d)
            if (at[b * D + d] >= 0) out[(b * T + at[b * D + d]) * D + d] = g[b * D + d];
      });
    });
    return {dx, torch::Tensor()};
  }
};

}  // namespace

bool set_max_pool_applies(const torch::Tensor& x) {
  return cpu_kernels_take(x);
}

torch::Tensor set_max_pool(const torch::Tensor& x, const torch::Tensor& padding) {
  TORCH_CHECK(x.dim() == 3, "set_max_pool: x must be (B, T, D), got ", x.sizes());
  TORCH_CHECK(!padding.defined() || (padding.scalar_type() == torch::kBool && padding.dim() == 2 &&
                                     padding.size(0) == x.size(0) && padding.size(1) == x.size(1)),
              "set_max_pool: padding must be bool (B, T) = (", x.size(0), ", ", x.size(1), "), got ",
              padding.defined() ? padding.sizes() : c10::IntArrayRef{});
  const auto pad = padding.defined() ? padding.contiguous() : torch::empty({0}, x.options().dtype(torch::kBool));
  return SetMaxPoolFunction::apply(x.contiguous(), pad);                    // (B, D)
}

}  // namespace attn
