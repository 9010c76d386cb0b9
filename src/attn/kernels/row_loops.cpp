#include "attn/kernels/row_loops.h"

#include <cstdlib>
#include <string>

#include "attn/kernels/isa_copies.h"

namespace attn::kernels {

namespace {

// The loops, each inlined into a baseline and an AVX2 copy (isa_copies.h). __restrict: the
// outputs do not overlap the inputs, so the compiler vectorises without run-time overlap checks.
template <typename T>
ATTN_INLINE inline void add_row_bias_loop(T* __restrict y, const T* __restrict b, int64_t n,
                                                             int64_t m) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) y[r * m + c] += b[c];
}

template <typename T>
ATTN_INLINE inline void rows_plus_bias_loop(T* __restrict y, const T* __restrict x,
                                                               const T* __restrict b, int64_t n, int64_t m) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) y[r * m + c] = x[r * m + c] + b[c];
}

template <typename T>
ATTN_INLINE inline void bias_relu_loop(T* __restrict h, const T* __restrict b, int64_t n,
                                                          int64_t m) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) {
      const T v = h[r * m + c] + (b ? b[c] : T(0));
      h[r * m + c] = v > T(0) ? v : T(0);
    }
}

template <typename T>
ATTN_INLINE inline void relu_backward_sums_loop(const T* __restrict h, T* __restrict dh, int64_t n,
                                                                   int64_t m, T* __restrict db) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) {
      const T v = h[r * m + c] > T(0) ? dh[r * m + c] : T(0);
      dh[r * m + c] = v;
      db[c] += v;
    }
}

template <typename T>
ATTN_INLINE inline void add_column_sums_loop(const T* __restrict x, int64_t n, int64_t m,
                                                                T* __restrict acc) {
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < m; ++c) acc[c] += x[r * m + c];
}

template <typename T>
ATTN_INLINE inline int64_t nonzero_rows_loop(const T* __restrict x, int64_t n, int64_t m, int64_t ld,
                                             int64_t limit, int64_t* __restrict rows) {
  int64_t count = 0;
  for (int64_t r = 0; r < n && count <= limit; ++r) {
    const T* row = x + r * ld;
    int nonzero = !(row[0] == T(0)) || !(row[m - 1] == T(0));  // a dense gradient's rows end here
    if (!nonzero) {  // the whole row (from 0: whole vectors for widths that are multiples of 8)
#pragma omp simd reduction(| : nonzero)
      for (int64_t c = 0; c < m; ++c) nonzero |= !(row[c] == T(0));
    }
    rows[count] = r;
    count += nonzero != 0;
  }
  return count;
}

}  // namespace

template <typename T>
void add_row_bias(T* y, const T* b, int64_t n, int64_t m) {
  run_widest([=]() ATTN_INLINE { add_row_bias_loop(y, b, n, m); });
}

template <typename T>
void rows_plus_bias(T* y, const T* x, const T* b, int64_t n, int64_t m) {
  run_widest([=]() ATTN_INLINE { rows_plus_bias_loop(y, x, b, n, m); });
}

template <typename T>
void bias_relu(T* h, const T* b, int64_t n, int64_t m) {
  run_widest([=]() ATTN_INLINE { bias_relu_loop(h, b, n, m); });
}

template <typename T>
void relu_backward_sums(const T* h, T* dh, int64_t n, int64_t m, T* db) {
  run_widest([=]() ATTN_INLINE { relu_backward_sums_loop(h, dh, n, m, db); });
}

template <typename T>
void add_column_sums(const T* x, int64_t n, int64_t m, T* acc) {
  run_widest([=]() ATTN_INLINE { add_column_sums_loop(x, n, m, acc); });
}

template <typename T>
int64_t nonzero_rows(const T* x, int64_t n, int64_t m, int64_t ld, int64_t limit, int64_t* rows) {
  int64_t count = 0;
  run_widest([&]() ATTN_INLINE { count = nonzero_rows_loop(x, n, m, ld, limit, rows); });
  return count;
}

bool skip_zero_gradient_rows() {
  static const bool skip = [] {
    const char* env = std::getenv("ATTN_SKIP_ZERO_ROWS");
    return !(env && std::string(env) == "0");
  }();
  return skip;
}

#define ATTN_ROW_LOOPS_FOR(T)                                                  \
  template void add_row_bias<T>(T*, const T*, int64_t, int64_t);               \
  template void rows_plus_bias<T>(T*, const T*, const T*, int64_t, int64_t);  \
  template void bias_relu<T>(T*, const T*, int64_t, int64_t);                  \
  template void relu_backward_sums<T>(const T*, T*, int64_t, int64_t, T*);     \
  template void add_column_sums<T>(const T*, int64_t, int64_t, T*);          \
  template int64_t nonzero_rows<T>(const T*, int64_t, int64_t, int64_t, int64_t, int64_t*);
ATTN_ROW_LOOPS_FOR(float)
ATTN_ROW_LOOPS_FOR(double)
#undef ATTN_ROW_LOOPS_FOR

}  // namespace attn::kernels
