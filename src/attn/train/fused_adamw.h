// AdamW with one pass over memory per parameter: LibTorch's AdamW (same options, same state,
// same checkpoints) whose step, on CPU float/double parameters, reads each element's parameter,
// gradient and two moments once and writes them once, in parallel, instead of the eight tensor
// operations (eight sweeps over a 50,002 x 32 embedding) of torch::optim::AdamW::step. The
// element loop, vectorised: attn/kernels/adamw_kernels.h.
//
// The arithmetic is LibTorch's, in its order: p *= 1 - lr wd; m = beta1 m + (1 - beta1) g;
// v = beta2 v + (1 - beta2) g^2; p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
// It agrees with LibTorch's step to rounding, not to the bit (LibTorch's vector kernels fuse
// some of these products into FMAs, its scalar tails may not). Parameters it cannot take
// (another device or dtype, amsgrad) go through AdamW::step.
#pragma once

#include <torch/torch.h>

namespace attn {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace attn
