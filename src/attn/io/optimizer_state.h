// Where an optimizer keeps each parameter's state, and moving that state to the parameter's
// device after a checkpoint is read (onto the CPU, whatever device wrote it).
#pragma once

#include <torch/torch.h>

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

/// Moves each parameter's optimizer state (AdamW's moments, SGD's momentum) to that parameter's
/// device: a checkpoint's state is read onto the CPU, whatever device wrote it.
void move_state_to_parameters(torch::optim::Optimizer& optimizer);

}  // namespace attn
