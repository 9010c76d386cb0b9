#include "attn/ops/dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <mutex>

#include "attn/kernels/dropout_kernels.h"
#include "attn/ops/cpu_kernels.h"

namespace attn {

namespace {

uint64_t next_seed() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return at::check_generator<at::CPUGeneratorImpl>(gen)->random64();
}

// y = x * keep / (1 - p) over the flat elements of a contiguous tensor.
torch::Tensor masked(const torch::Tensor& x, uint64_t seed, double p) {
  auto y = torch::empty_like(x);
  const uint32_t threshold = kernels::dropout_threshold(p);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "attn_dropout", [&] {
    const scalar_t* in = x.data_ptr<scalar_t>();
    scalar_t* out = y.data_ptr<scalar_t>();
    const auto scale = static_cast<scalar_t>(1.0 / (1.0 - p));
    at::parallel_for(0, x.numel(), 32768, [&](int64_t begin, int64_t end) {
      kernels::dropout_range(in, out, begin, end, seed, threshold, scale);
    });
  });
  return y;
}

// The gradient is the same mask and scale applied to dy: the seed regenerates the mask.
struct DropoutFunction : public torch::autograd::Function<DropoutFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, double p) {
    const uint64_t seed = next_seed();
    ctx->saved_data["seed"] = static_cast<int64_t>(seed);
    ctx->saved_data["p"] = p;
    return masked(x, seed, p);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto seed = static_cast<uint64_t>(ctx->saved_data["seed"].toInt());
    return {masked(grads[0].contiguous(), seed, ctx->saved_data["p"].toDouble()), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor dropout(const torch::Tensor& x, double p, bool training) {
  TORCH_CHECK(p >= 0 && p < 1, "dropout: p must be in [0, 1), got ", p);
  if (!training || p == 0) return x;
  if (!cpu_kernels_take(x))
    return torch::dropout(x, p, training);
  return DropoutFunction::apply(x.contiguous(), p);
}

}  // namespace attn
