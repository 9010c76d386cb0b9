// Batches: the epoch's order from the seed (so a resumed run sees the same batches), optional
// bucketing by length, and padding with <pad> plus a key-padding mask.
//
// Shapes: B batch, T longest set in the batch (or data.max_len with fixed_length).
#pragma once

#include <torch/torch.h>

#include <vector>

#include "attn/config/config.h"
#include "attn/data/classify/classification_data.h"
#include "attn/data/seq2seq/seq2seq_data.h"

namespace attn {

struct Batch {
  torch::Tensor ids;      ///< (B, T) long, <pad> = 1 after each set
  torch::Tensor padding;  ///< (B, T) bool, true = padding; undefined when data.mask_padding is off
  torch::Tensor labels;   ///< (B) long
};

/// The batches of one epoch as lists of example indices. shuffle=false keeps the data order
/// (evaluation). The order depends only on (seed, epoch), never on what ran before.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<EncodedExample>& data,
                                               int64_t batch_size, uint64_t seed, int64_t epoch,
                                               bool shuffle, bool bucket);

/// The same from the lengths alone (any kind of example): bucketing sorts by `lengths`.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<size_t>& lengths, int64_t batch_size,
                                               uint64_t seed, int64_t epoch, bool shuffle, bool bucket);

/// Stacks the examples `index` of `data` into a batch on `device`.
Batch make_batch(const std::vector<EncodedExample>& data, const std::vector<size_t>& index,
                 const DataConfig& config, const torch::Device& device);

/// Sentence pairs for teacher forcing. S longest source, T longest target + 1.
struct PairBatch {
  torch::Tensor source;          ///< (B, S) long, <pad> after each sentence
  torch::Tensor source_padding;  ///< (B, S) bool, true = padding
  torch::Tensor target_in;       ///< (B, T): <s> y1 .. yn, then <pad>
  torch::Tensor target_out;      ///< (B, T): y1 .. yn </s>, then <pad>
  torch::Tensor target_padding;  ///< (B, T) bool, true = padding
};

/// Stacks the pairs `index` of `data` into a batch on `device`.
PairBatch make_pair_batch(const std::vector<EncodedPair>& data, const std::vector<size_t>& index,
                          const torch::Device& device);

}  // namespace attn
