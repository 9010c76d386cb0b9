// The rows of an embedding table for token ids, as torch::embedding computes them, with a
// parallel backward: LibTorch 1.13's CPU embedding backward adds the gradient rows into the
// dense (vocab x D) table gradient on one thread (1.3 ms of the notebook's 48 ms step, with the
// second core waiting). Here each thread zeroes and fills its own range of table rows, adding
// the gradient rows of its tokens in token order: the same sums, in the same order, as LibTorch.
//
// Shapes: table (V, D), ids (...) long -> (..., D).
#pragma once

#include <torch/torch.h>

namespace attn {

/// table[ids], differentiable in table; rows of `padding_idx` (-1: none) get no gradient, as
/// with torch::nn::Embedding's padding_idx. ids must lie in [0, V).
torch::Tensor embedding_lookup(const torch::Tensor& table, const torch::Tensor& ids, int64_t padding_idx);

}  // namespace attn
