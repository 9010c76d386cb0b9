// Dropout on the CPU without LibTorch's serial mask: LibTorch 1.13 draws the Bernoulli mask one
// element at a time from its generator, on one thread, the other core waiting (configs/imdb.json,
// dropout 0.3 on ~16 million elements a step: 0.39 s per step with it, 0.28 s with this). Here
// each element's decision is a hash of a per-call seed and its index
// (attn/kernels/dropout_kernels.h): the same distribution as torch::dropout (each element
// zeroed with probability p, the others scaled by 1/(1-p)), computed in parallel and recomputed
// in backward rather than stored.
//
// Shapes: any; the result has x's shape.
#pragma once

#include <torch/torch.h>

namespace attn {

/// torch::dropout(x, p, training) in distribution: identity unless training with p > 0. The
/// per-call seed comes from LibTorch's default CPU generator, so torch::manual_seed (and a
/// checkpoint's saved generator state) make runs repeatable. CPU float and double here;
/// elsewhere torch::dropout itself. p must be in [0, 1).
torch::Tensor dropout(const torch::Tensor& x, double p, bool training);

}  // namespace attn
