#include "attn/kernels/few_rows_linear.h"

#include <algorithm>
#include <cstring>

#include "attn/kernels/isa_copies.h"

namespace attn::kernels {

namespace {

// One 32-byte register of T (8 floats, 4 doubles): GCC's vector type, compiled as one AVX2
// register in run_widest's AVX2 copy and as two SSE2 ones in the baseline copy, with the same
// lanes (and, without FMA contraction, the same bits) in both.
template <typename T>
struct Lanes {
  typedef T type __attribute__((vector_size(32)));
  static constexpr int count = 32 / sizeof(T);
};

// y[r, j] for the R rows of x at `x` and the J rows of W at `w`: R x J dot products of length K,
// each in lanes (k, k + lanes, ...) summed at the end, then the tail of K one by one.
template <typename T, int R, int J>
ATTN_INLINE inline void dot_tile(const FewRowsLinear<T>& p, int64_t row, int64_t col) {
  using V = typename Lanes<T>::type;
  constexpr int L = Lanes<T>::count;
  const int64_t K = p.K;
  const T* x = p.x + row * K;
  const T* w = p.w + col * K;
  V acc[R][J];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) acc[r][j] = V{};
  int64_t k = 0;
  for (; k + L <= K; k += L) {
    V wv[J], xv;  // loaded by memcpy: unaligned
    for (int j = 0; j < J; ++j) std::memcpy(&wv[j], w + j * K + k, sizeof(V));
    for (int r = 0; r < R; ++r) {
      std::memcpy(&xv, x + r * K + k, sizeof(V));
      for (int j = 0; j < J; ++j) acc[r][j] += xv * wv[j];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < J; ++j) {
      T s = 0;
      for (int l = 0; l < L; ++l) s += acc[r][j][l];
      for (int64_t kk = k; kk < K; ++kk) s += x[r * K + kk] * w[j * K + kk];
      if (p.b) s += p.b[col + j];
      if (p.relu) s = std::max(s, T(0));
      const int64_t at = (row + r) * p.M + col + j;
      if (p.add) s += p.add[at];
      p.y[at] = s;
    }
}

// Columns [col, col + J) of y, every row: the J rows of W stay in L1 while x passes by.
template <typename T, int J>
ATTN_INLINE inline void column_group(const FewRowsLinear<T>& p, int64_t col) {
  int64_t row = 0;
  for (; row + 2 <= p.N; row += 2) dot_tile<T, 2, J>(p, row, col);
  if (row < p.N) dot_tile<T, 1, J>(p, row, col);
}

}  // namespace

template <typename T>
void few_rows_linear(const FewRowsLinear<T>& p, int64_t begin, int64_t end) {
  const int64_t first = begin * p.kColumns, last = std::min(p.M, end * p.kColumns);
  run_widest([&]() ATTN_INLINE {
    int64_t col = first;
    for (; col + 4 <= last; col += 4) column_group<T, 4>(p, col);
    for (; col < last; ++col) column_group<T, 1>(p, col);
  });
}

template void few_rows_linear<float>(const FewRowsLinear<float>&, int64_t, int64_t);
template void few_rows_linear<double>(const FewRowsLinear<double>&, int64_t, int64_t);

}  // namespace attn::kernels
