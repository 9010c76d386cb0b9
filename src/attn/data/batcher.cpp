#include "attn/data/batcher.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace attn {

std::vector<std::vector<size_t>> epoch_batches(const std::vector<EncodedExample>& data,
                                               int64_t batch_size, uint64_t seed, int64_t epoch,
                                               bool shuffle, bool bucket) {
  std::vector<size_t> order(data.size());
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
        return data[a].ids.size() < data[b].ids.size();
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

}  // namespace attn
