// Which of attn's own kernels run: a setting of the calling thread, as torch.backends' flags are
// PyTorch's, so that the lecture's modules carry no kernel switches. By default every fused
// kernel runs where it applies (attn/ops/*_applies); a run sets its config's choice
// (model.attention_kernel, ffn_kernel, norm_kernel, loss_kernel) for its lifetime, and tests set
// LibTorch's operators to compare with. Torch-free.
#pragma once

#include "attn/core/choices.h"

namespace attn {

struct KernelChoice {
  Kernel attention = Kernel::Fused;  ///< the tiled attention kernel, and attention's blocked projections
  Kernel ffn = Kernel::Fused;        ///< the blocked 1-convolution
  Kernel norm = Kernel::Fused;       ///< add & LayerNorm in one pass
  Kernel loss = Kernel::Fused;       ///< the output projection and cross-entropy by blocks of rows
  /// LibTorch's operators everywhere: the reference computation.
  static KernelChoice reference() {
    return {Kernel::Reference, Kernel::Reference, Kernel::Reference, Kernel::Reference};
  }
};

/// The choice in force on this thread.
const KernelChoice& kernel_choice();

/// Sets `choice` on this thread for its lifetime, then restores the one before.
class KernelScope {
 public:
  explicit KernelScope(const KernelChoice& choice);
  ~KernelScope();
  KernelScope(const KernelScope&) = delete;
  KernelScope& operator=(const KernelScope&) = delete;

 private:
  KernelChoice saved_;
};

}  // namespace attn
