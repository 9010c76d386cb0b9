#include "attn/data/batcher.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace attn {

std::vector<std::vector<size_t>> epoch_batches(const std::vector<EncodedExample>& data,
                                               int64_t batch_size, uint64_t seed, int64_t epoch,
                                               bool shuffle, bool bucket) {
  return epoch_batches(lengths_of(data), batch_size, seed, epoch, shuffle, bucket);
}

std::vector<size_t> lengths_of(const std::vector<EncodedExample>& data) {
  std::vector<size_t> lengths(data.size());
  for (size_t i = 0; i < data.size(); ++i) lengths[i] = data[i].ids.size();
  return lengths;
}

std::vector<std::vector<size_t>> epoch_batches(const std::vector<size_t>& lengths, int64_t batch_size,
                                               uint64_t seed, int64_t epoch, bool shuffle, bool bucket) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::seed_seq seq{seed, static_cast<uint64_t>(epoch), uint64_t{0xba7c4}};
  std::mt19937_64 rng(seq);
  if (shuffle) std::shuffle(order.begin(), order.end(), rng);
  const auto bs = static_cast<size_t>(batch_size);
  if (bucket) {
    // Sort windows of 50 batches by length, so each batch holds sets of similar size.
    const size_t window = bs * 50;
    for (size_t i = 0; i < order.size(); i += window) {
      auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + window));
      std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(i), end, [&](size_t a, size_t b) {
        return lengths[a] < lengths[b];
      });
    }
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += bs)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(i),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + bs)));
  if (bucket && shuffle) std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

std::vector<std::vector<size_t>> token_batches(const std::vector<size_t>& lengths, int64_t batch_size,
                                               int64_t batch_tokens, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<size_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  std::seed_seq fixed{seed, uint64_t{0x70cc}};  // the batches' make-up: one draw per run, not per epoch
  std::mt19937_64 ties(fixed);
  std::shuffle(order.begin(), order.end(), ties);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] < lengths[b]; });
  std::vector<std::vector<size_t>> batches;
  std::vector<size_t> batch;
  size_t longest = 0;
  for (size_t i : order) {
    const size_t wider = std::max(longest, lengths[i]);
    if (!batch.empty() && (static_cast<int64_t>(wider * (batch.size() + 1)) > batch_tokens ||
                           static_cast<int64_t>(batch.size()) == batch_size)) {
      batches.push_back(std::move(batch));
      batch.clear();
      longest = 0;
    }
    batch.push_back(i);
    longest = std::max(longest, lengths[i]);
  }
  if (!batch.empty()) batches.push_back(std::move(batch));
  if (shuffle) {
    std::seed_seq seq{seed, static_cast<uint64_t>(epoch), uint64_t{0xba7c4}};
    std::mt19937_64 rng(seq);
    std::shuffle(batches.begin(), batches.end(), rng);
  }
  return batches;
}

std::vector<std::vector<size_t>> training_batches(const std::vector<size_t>& lengths, const Config& config,
                                                  int64_t epoch) {
  const auto& t = config.train;
  if (t.batch_tokens > 0) return token_batches(lengths, t.batch_size, t.batch_tokens, config.seed, epoch, true);
  return epoch_batches(lengths, t.batch_size, config.seed, epoch, true, config.data.bucket);
}

Batch make_batch(const std::vector<EncodedExample>& data, const std::vector<size_t>& index,
                 const DataConfig& config, const torch::Device& device) {
  const auto B = static_cast<int64_t>(index.size());
  int64_t T = 0;
  for (size_t i : index) T = std::max<int64_t>(T, static_cast<int64_t>(data[i].ids.size()));
  if (config.fixed_length) T = config.max_len;
  auto ids = torch::full({B, T}, Vocab::kPad, torch::kLong);               // (B, T)
  auto labels = torch::empty({B}, torch::kLong);                           // (B)
  auto lengths = torch::empty({B}, torch::kLong);                          // (B)
  auto* id_ptr = ids.data_ptr<int64_t>();
  auto* label_ptr = labels.data_ptr<int64_t>();
  auto* length_ptr = lengths.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& e = data[index[static_cast<size_t>(b)]];
    const auto n = std::min<int64_t>(T, static_cast<int64_t>(e.ids.size()));
    std::copy(e.ids.begin(), e.ids.begin() + n, id_ptr + b * T);
    label_ptr[b] = e.label;
    length_ptr[b] = n;
  }
  Batch batch{ids.to(device), {}, labels.to(device)};
  if (config.mask_padding)
    batch.padding = (torch::arange(T).unsqueeze(0) >= lengths.unsqueeze(1)).to(device);  // (B, T)
  return batch;
}

PairBatch make_pair_batch(const std::vector<EncodedPair>& data, const std::vector<size_t>& index,
                          const torch::Device& device) {
  const auto B = static_cast<int64_t>(index.size());
  int64_t S = 1, T = 1;
  for (size_t i : index) {
    S = std::max<int64_t>(S, static_cast<int64_t>(data[i].source.size()));
    T = std::max<int64_t>(T, static_cast<int64_t>(data[i].target.size()) + 1);
  }
  auto src = torch::full({B, S}, Vocab::kPad, torch::kLong);               // (B, S)
  auto tin = torch::full({B, T}, Vocab::kPad, torch::kLong);               // (B, T)
  auto tout = torch::full({B, T}, Vocab::kPad, torch::kLong);              // (B, T)
  auto* s = src.data_ptr<int64_t>();
  auto* ti = tin.data_ptr<int64_t>();
  auto* to = tout.data_ptr<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = data[index[static_cast<size_t>(b)]];
    std::copy(p.source.begin(), p.source.end(), s + b * S);
    ti[b * T] = TextCodec::kBos;
    std::copy(p.target.begin(), p.target.end(), ti + b * T + 1);
    std::copy(p.target.begin(), p.target.end(), to + b * T);
    to[b * T + static_cast<int64_t>(p.target.size())] = TextCodec::kEos;
  }
  return {src.to(device), src.eq(Vocab::kPad).to(device), tin.to(device), tout.to(device),
          tout.eq(Vocab::kPad).to(device)};
}

}  // namespace attn
