// The weights of a decode, laid out once for its steps. A decoding step multiplies a few rows
// (one per sentence and beam) by every weight of the decoder and by the output projection:
// there OpenBLAS's general path spends as long packing the weight as multiplying (the 8,000 x
// 256 output projection of 16 rows: 0.95 ms a step, 2 threads). While a DecodingWeights is
// alive on a thread (greedy or beam search over one batch), few_rows_linear keeps each
// parameter it meets transposed, (K, M) contiguous, made on first use; its products then run
// in blocks of output columns that OpenBLAS's small-matrix kernels take without packing,
// one block per thread at a time (0.40-0.51 ms).
//
// Only tensors that require grad (parameters) are kept: a temporary's address may be reused.
// The weights must not change while the scope is alive (decoding runs without gradients).
#pragma once

#include <torch/torch.h>

#include <map>
#include <tuple>
#include <vector>

namespace attn {

class DecodingWeights {
 public:
  DecodingWeights();   ///< becomes this thread's scope
  ~DecodingWeights();  ///< the previous one (or none) again
  DecodingWeights(const DecodingWeights&) = delete;
  DecodingWeights& operator=(const DecodingWeights&) = delete;

  /// This thread's scope, or nullptr.
  static DecodingWeights* active();

  /// w (M, K), a parameter -> w^T (K, M) contiguous, the same tensor on every later call.
  const torch::Tensor& transposed(const torch::Tensor& w);
  /// How many weights it keeps.
  size_t size() const { return kept_.size(); }

 private:
  using Key = std::tuple<const void*, std::vector<int64_t>, std::vector<int64_t>, int64_t>;
  struct Kept {
    torch::Tensor source;      ///< held, so that no other tensor takes its address
    torch::Tensor transposed;  ///< (K, M)
  };
  std::map<Key, Kept> kept_;
  DecodingWeights* previous_;
};

}  // namespace attn
