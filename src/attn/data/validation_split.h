// The validation split cut from training data: shuffle with the seed, keep the first
// (1 - fraction) for training (the notebook's 90/10). Torch-free.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "attn/data/classify/text_files.h"

namespace attn {

/// Moves `fraction` of `train` (chosen by `seed`) into the returned validation split; `train`
/// keeps the rest in shuffled order. Too few examples for both splits is a DataError naming
/// `source` and saying what to do.
template <class T>
std::vector<T> cut_validation(std::vector<T>& train, double fraction, uint64_t seed, const std::string& source) {
  std::vector<size_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const auto cut = static_cast<size_t>(static_cast<double>(order.size()) * (1 - fraction));
  if (cut == 0 || cut == order.size())
    throw DataError(source + ": " + std::to_string(order.size()) +
                    " training examples are too few to cut a validation split of " + std::to_string(fraction) +
                    " (give data.valid_path)");
  std::vector<T> kept, valid;
  for (size_t i = 0; i < order.size(); ++i) (i < cut ? kept : valid).push_back(std::move(train[order[i]]));
  train = std::move(kept);
  return valid;
}

}  // namespace attn
