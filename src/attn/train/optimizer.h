// The optimizer a run config's train section describes.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "attn/config/config.h"

namespace attn {

/// AdamW (decoupled weight decay) or SGD with momentum, over the given parameters.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t, std::vector<torch::Tensor> params);

/// Drops the gradients (PyTorch's zero_grad(set_to_none=True)): the next backward writes fresh
/// ones instead of adding into zeroed memory (two sweeps fewer over a 50,002 x 32 embedding).
/// The trainer gives zeros to any parameter a step did not reach, as zero_grad would have.
void clear_gradients(torch::optim::Optimizer& optimizer);

/// The parameters of `model` that train (the sinusoid table does not).
std::vector<torch::Tensor> trainable_parameters(torch::nn::Module& model);

/// The key of a parameter's entry in an optimizer's state(): LibTorch 1.x keys by a string of
/// the parameter's TensorImpl address, 2.x by the address itself.
inline auto optimizer_state_key(const torch::Tensor& p) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(p.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(p.unsafeGetTensorImpl());
#endif
}

/// Moves each parameter's optimizer state (AdamW's moments, SGD's momentum) to that parameter's
/// device: a checkpoint's state is read onto the CPU, whatever device wrote it.
void move_state_to_parameters(torch::optim::Optimizer& optimizer);

}  // namespace attn
