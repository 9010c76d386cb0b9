// Dropout's element loop from a counter-based random stream: element i of a call is kept when
// 32 random bits, a hash of (the call's 64-bit seed, i), reach a threshold, so any range of
// elements can be computed on its own, in parallel and vectorised, and computed again in
// backward instead of keeping a mask. LibTorch-free; the torch side, with autograd and the
// seed drawn from LibTorch's generator, is attn/ops/dropout.h.
#pragma once

#include <cstdint>

namespace attn::kernels {

/// The 32 random bits of element i under `seed`: two rounds of MurmurHash3's 32-bit finaliser
/// (a bijection with full avalanche) over the index, mixed with both halves of the seed.
inline uint32_t dropout_bits(uint64_t seed, int64_t i) {
  auto mix = [](uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
  };
  const uint64_t k = static_cast<uint64_t>(i);
  return mix(mix(static_cast<uint32_t>(k) ^ static_cast<uint32_t>(seed)) + static_cast<uint32_t>(seed >> 32) +
             static_cast<uint32_t>(k >> 32) * 0x9e3779b9u);
}

/// The threshold that keeps an element with probability 1 - p: bits >= round(p 2^32).
uint32_t dropout_threshold(double p);

/// y[i] = x[i] * scale where dropout_bits(seed, i) >= threshold, else 0, for i in [begin, end).
/// x and y may be the same array.
template <typename T>
void dropout_range(const T* x, T* y, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold, T scale);

}  // namespace attn::kernels
