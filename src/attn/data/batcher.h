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

/// Each example's length (its ids).
std::vector<size_t> lengths_of(const std::vector<EncodedExample>& data);

/// The same from the lengths alone (any kind of example): bucketing sorts by `lengths`.
std::vector<std::vector<size_t>> epoch_batches(const std::vector<size_t>& lengths, int64_t batch_size,
                                               uint64_t seed, int64_t epoch, bool shuffle, bool bucket);

/// Batches by a token budget (train.batch_tokens): the examples sorted by length (ties in an
/// order drawn from the seed) and cut into runs of at most `batch_tokens` tokens counted as
/// (examples x the longest), and at most `batch_size` examples; an example longer than the
/// budget alone. The batches are the same every epoch (so every epoch has as many steps, as
/// the schedule counts them), their order is drawn from (seed, epoch) when shuffling.
std::vector<std::vector<size_t>> token_batches(const std::vector<size_t>& lengths, int64_t batch_size,
                                               int64_t batch_tokens, uint64_t seed, int64_t epoch, bool shuffle);

/// An epoch's training batches as the config asks: by train.batch_tokens where it is set, else
/// train.batch_size examples at a time (bucketed by length with data.bucket); shuffled.
std::vector<std::vector<size_t>> training_batches(const std::vector<size_t>& lengths, const Config& config,
                                                  int64_t epoch);

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
