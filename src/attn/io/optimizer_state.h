// An optimizer's per-parameter state (AdamW's step and moments, SGD's momentum) as named tensors
// in a checkpoint, and where LibTorch keeps it; for older checkpoints, moving the state read
// onto the CPU to each parameter's device.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/io/safetensors.h"

namespace attn {

/// The key of a parameter's entry in an optimizer's state(): LibTorch 1.x keys by a string of
/// the parameter's TensorImpl address, 2.x by the address itself.
inline auto optimizer_state_key(const torch::Tensor& p) {
#if TORCH_VERSION_MAJOR >= 2
  return static_cast<void*>(p.unsafeGetTensorImpl());
#else
  return c10::guts::to_string(p.unsafeGetTensorImpl());
#endif
}

/// Appends the state of each parameter that has one to `out`, as "optimizer.<i>.<field>" (i: the
/// parameter's place in the optimizer, in the order of its groups); returns the optimizer's kind,
/// "adamw" or "sgd". The options (lr, betas, ...) are not saved: they come from the config.
std::string optimizer_state_tensors(torch::optim::Optimizer& optimizer, safetensors::Named& out);

/// Restores what optimizer_state_tensors wrote, onto each parameter's device; throws
/// std::invalid_argument when `kind` is not this optimizer's or a tensor does not fit.
void load_optimizer_state(torch::optim::Optimizer& optimizer, const std::string& kind, const safetensors::View& file);

/// Moves each parameter's optimizer state to that parameter's device: an older checkpoint's
/// state is read onto the CPU, whatever device wrote it.
void move_state_to_parameters(torch::optim::Optimizer& optimizer);

}  // namespace attn
