#include "attn/kernels/dropout_kernels.h"

#include <algorithm>
#include <cmath>

#include "attn/kernels/isa_copies.h"

namespace attn::kernels {

namespace {

// Lanes across elements: the 32-bit multiplies vectorise (8 lanes in the AVX2 copy), the select
// becomes a blend.
template <typename T>
ATTN_INLINE inline void dropout_loop(const T* x, T* y, int64_t begin, int64_t end, uint64_t seed,
                                     uint32_t threshold, T scale) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) y[i] = dropout_bits(seed, i) >= threshold ? x[i] * scale : T(0);
}

}  // namespace

uint32_t dropout_threshold(double p) {
  return static_cast<uint32_t>(std::min(std::round(p * 4294967296.0), 4294967295.0));
}

template <typename T>
void dropout_range(const T* x, T* y, int64_t begin, int64_t end, uint64_t seed, uint32_t threshold, T scale) {
  run_widest([&]() ATTN_INLINE { dropout_loop(x, y, begin, end, seed, threshold, scale); });
}

template void dropout_range<float>(const float*, float*, int64_t, int64_t, uint64_t, uint32_t, float);
template void dropout_range<double>(const double*, double*, int64_t, int64_t, uint64_t, uint32_t, double);

}  // namespace attn::kernels
