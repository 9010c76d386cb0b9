// The attention kernels of the instruction set in force (isa.h), and their tile grids.
#include <algorithm>

#include "attn/kernels/flash_kernels.h"

namespace attn::kernels {

namespace generic {
template <typename T>
const FlashKernels<T>& table();
}
#ifdef ATTN_HAVE_AVX2_KERNELS
namespace avx2 {
template <typename T>
const FlashKernels<T>& table();
}
#endif
#ifdef ATTN_HAVE_AVX512_KERNELS
namespace avx512 {
template <typename T>
const FlashKernels<T>& table();
}
#endif

namespace {

// A grid of tiles of at most `max_tile`, evened out (200 queries: 4 tiles of 50, not 64+64+64+8).
void grid(int64_t n, int64_t max_tile, int64_t& tile, int64_t& tiles) {
  tiles = std::max<int64_t>(1, (n + max_tile - 1) / max_tile);
  tile = std::max<int64_t>(1, (n + tiles - 1) / tiles);
  tiles = std::max<int64_t>(1, (n + tile - 1) / tile);
}

}  // namespace

template <typename T>
void plan_tiles(FlashProblem<T>& p) {
  grid(p.Tq, 64, p.q_tile, p.q_tiles);
  grid(p.Tk, 256, p.k_tile, p.k_tiles);
}

template <typename T>
const FlashKernels<T>& flash_kernels() {
  switch (kernel_isa()) {
#ifdef ATTN_HAVE_AVX512_KERNELS
    case Isa::Avx512: return avx512::table<T>();
#endif
#ifdef ATTN_HAVE_AVX2_KERNELS
    case Isa::Avx2: return avx2::table<T>();
#endif
    default: return generic::table<T>();
  }
}

template void plan_tiles<float>(FlashProblem<float>&);
template void plan_tiles<double>(FlashProblem<double>&);
template const FlashKernels<float>& flash_kernels<float>();
template const FlashKernels<double>& flash_kernels<double>();

}  // namespace attn::kernels
