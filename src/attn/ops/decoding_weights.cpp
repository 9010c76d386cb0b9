#include "attn/ops/decoding_weights.h"

namespace attn {

namespace {
thread_local DecodingWeights* current = nullptr;
}  // namespace

DecodingWeights::DecodingWeights() : previous_(current) { current = this; }

DecodingWeights::~DecodingWeights() { current = previous_; }

DecodingWeights* DecodingWeights::active() { return current; }

const torch::Tensor& DecodingWeights::transposed(const torch::Tensor& w) {
  Key key{w.data_ptr(), w.sizes().vec(), w.strides().vec(), static_cast<int64_t>(w.scalar_type())};
  auto it = kept_.find(key);
  if (it == kept_.end()) it = kept_.emplace(std::move(key), Kept{w, w.t().contiguous()}).first;  // (K, M)
  return it->second.transposed;
}

}  // namespace attn
