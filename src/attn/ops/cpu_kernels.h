// Where attn's own CPU kernels run: tensors on the CPU in float or double. Elsewhere (CUDA,
// half precision) every module that has such a kernel falls back to LibTorch's operators.
#pragma once

#include <torch/torch.h>

namespace attn {

inline bool cpu_kernels_take(const torch::Tensor& x) {
  return x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
}

}  // namespace attn
