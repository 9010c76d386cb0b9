// The attention weights a model computes, kept for pictures (attn show): while an AttentionRecord
// is alive on a thread, every MultiHeadAttention's forward on that thread also computes its
// weights and hands them to the record, with the module that made them, in call order.
//
// Shapes: B batch, H heads, Tq queries, Tk keys.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace attn {

class MultiHeadAttentionImpl;

struct RecordedAttention {
  std::string name;                  ///< the module's path in the model, e.g. "encoder.layers.0.mha"
  torch::Tensor weights;             ///< (B, H, Tq, Tk), detached
};

class AttentionRecord {
 public:
  AttentionRecord();   ///< becomes this thread's record
  ~AttentionRecord();  ///< the previous one (or none) again
  AttentionRecord(const AttentionRecord&) = delete;
  AttentionRecord& operator=(const AttentionRecord&) = delete;

  /// This thread's record, or nullptr: MultiHeadAttention asks before each forward.
  static AttentionRecord* active();
  void add(const MultiHeadAttentionImpl* module, const torch::Tensor& weights);

  /// The weights recorded so far, each named by its module's path in `model` (modules outside
  /// `model` are named "?"), in the order they were computed.
  std::vector<RecordedAttention> named(const torch::nn::Module& model) const;

 private:
  std::vector<std::pair<const MultiHeadAttentionImpl*, torch::Tensor>> maps_;
  AttentionRecord* previous_;
};

}  // namespace attn
