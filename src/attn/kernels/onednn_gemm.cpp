#include "attn/kernels/onednn_gemm.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "attn/kernels/blas.h"

#ifdef ATTN_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace attn::kernels {

namespace {

std::atomic<Precision> g_precision{Precision::Fp32};
std::atomic<const Bf16Constants*> g_constants{nullptr};  // the innermost open scope

/// Copies the stored rows (rows x width, row stride ld) of X densely into `out`, each element
/// rounded to bfloat16 and kept as the float32 it stands for.
float* dense_rounded(const float* x, int64_t rows, int64_t width, int64_t ld, std::vector<float>& out) {
  out.resize(size_t(rows * width));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ld;
    float* o = out.data() + r * width;
    for (int64_t i = 0; i < width; ++i) o[i] = from_bf16(to_bf16(xr[i]));
  }
  return out.data();
}

void gemm_emulated(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                   const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  thread_local std::vector<float> a, b;
  const int64_t aw = ta ? M : K, bw = tb ? K : N;  // widths of the stored rows
  const float* ar = dense_rounded(A, ta ? K : M, aw, lda, a);
  const float* br = dense_rounded(B, tb ? N : K, bw, ldb, b);
  gemm_strict<float>(ta, tb, M, N, K, alpha, ar, aw, br, bw, beta, C, ldc);
}

#ifdef ATTN_HAVE_DNNL
const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct ProductKey {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;  // the row strides of the operands as stored, and of C
  float alpha, beta;
  bool f32;  // float32 operands, else bfloat16
  bool operator==(const ProductKey& o) const {
    return ta == o.ta && tb == o.tb && M == o.M && N == o.N && K == o.K && lda == o.lda && ldb == o.ldb &&
           ldc == o.ldc && alpha == o.alpha && beta == o.beta && f32 == o.f32;
  }
};
struct ProductKeyHash {
  size_t operator()(const ProductKey& k) const {
    size_t h = size_t(k.ta) | size_t(k.tb) << 1 | size_t(k.f32) << 2;
    for (int64_t v : {k.M, k.N, k.K, k.lda, k.ldb, k.ldc}) h = h * 1000003u ^ size_t(v);
    uint32_t a, b;
    std::memcpy(&a, &k.alpha, 4);
    std::memcpy(&b, &k.beta, 4);
    return h * 1000003u ^ (size_t(a) << 32 | b);
  }
};

struct Product {
  dnnl::memory::desc a, b, c;
  dnnl::matmul matmul;
};

/// The operands in their stored layout (row strides lda, ldb), C float32 with row stride ldc.
Product make_product(const ProductKey& k) {
  using dnnl::memory;
  const auto type = k.f32 ? memory::data_type::f32 : memory::data_type::bf16;
  const memory::desc a({k.M, k.K}, type, k.ta ? memory::dims{1, k.lda} : memory::dims{k.lda, 1});
  const memory::desc b({k.K, k.N}, type, k.tb ? memory::dims{1, k.ldb} : memory::dims{k.ldb, 1});
  const memory::desc c({k.M, k.N}, memory::data_type::f32, memory::dims{k.ldc, 1});
  dnnl::primitive_attr attr;
  if (k.alpha != 1.0f) attr.set_output_scales(0, {k.alpha});
  if (k.beta != 0.0f) {
    dnnl::post_ops ops;
    ops.append_sum(k.beta);
    attr.set_post_ops(ops);
  }
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, cpu_engine());
  return {a, b, c, dnnl::matmul(pd)};
}

/// C of the product `key` describes, from A and B as it describes them: a primitive made once per
/// key and kept per thread (the shapes of a few models' blocks: cleared past 512, not a leak).
void run_product(const ProductKey& key, const void* A, const void* B, float* C) {
  thread_local std::unordered_map<ProductKey, Product, ProductKeyHash> products;
  thread_local dnnl::stream stream(cpu_engine());
  auto it = products.find(key);
  if (it == products.end()) {
    if (products.size() >= 512) products.clear();
    it = products.emplace(key, make_product(key)).first;
  }
  const Product& p = it->second;
  const auto& engine = cpu_engine();
  p.matmul.execute(stream, {{DNNL_ARG_SRC, dnnl::memory(p.a, engine, const_cast<void*>(A))},
                            {DNNL_ARG_WEIGHTS, dnnl::memory(p.b, engine, const_cast<void*>(B))},
                            {DNNL_ARG_DST, dnnl::memory(p.c, engine, C)}});
  stream.wait();
}

/// The stored rows (rows x width, row stride ld) of X rounded to bfloat16 into `out`, densely:
/// oneDNN's reorder (vectorised for this CPU), one per shape, kept.
uint16_t* dense_bf16(const float* x, int64_t rows, int64_t width, int64_t ld, std::vector<uint16_t>& out) {
  using dnnl::memory;
  struct Key {
    int64_t rows, width, ld;
    bool operator==(const Key& o) const { return rows == o.rows && width == o.width && ld == o.ld; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return (size_t(k.rows) * 1000003u ^ size_t(k.width)) * 1000003u ^ size_t(k.ld); }
  };
  struct Reorder {
    memory::desc from, to;
    dnnl::reorder reorder;
  };
  thread_local std::unordered_map<Key, Reorder, KeyHash> reorders;
  thread_local dnnl::stream stream(cpu_engine());
  out.resize(size_t(rows * width));
  const Key key{rows, width, ld};
  auto it = reorders.find(key);
  if (it == reorders.end()) {
    if (reorders.size() >= 512) reorders.clear();
    const memory::desc from({rows, width}, memory::data_type::f32, memory::dims{ld, 1});
    const memory::desc to({rows, width}, memory::data_type::bf16, memory::dims{width, 1});
    const dnnl::reorder::primitive_desc pd(cpu_engine(), from, cpu_engine(), to);
    it = reorders.emplace(key, Reorder{from, to, dnnl::reorder(pd)}).first;
  }
  const Reorder& r = it->second;
  dnnl::memory src(r.from, cpu_engine(), const_cast<float*>(x)), dst(r.to, cpu_engine(), out.data());
  r.reorder.execute(stream, src, dst);
  stream.wait();
  return out.data();
}

void gemm_dnnl(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  thread_local std::vector<uint16_t> a, b;
  // Each operand: a scope's rounded copy (row stride its own), else rounded here (dense).
  auto operand = [](const float* x, int64_t rows, int64_t width, int64_t ld, std::vector<uint16_t>& buffer) {
    auto [bits, stride] = Bf16Constants::find(x, rows, width, ld);
    if (bits) return std::pair<const uint16_t*, int64_t>(bits, stride);
    return std::pair<const uint16_t*, int64_t>(dense_bf16(x, rows, width, ld, buffer), width);
  };
  const auto [ab, a_ld] = operand(A, ta ? K : M, ta ? M : K, lda, a);
  const auto [bb, b_ld] = operand(B, tb ? N : K, tb ? K : N, ldb, b);
  run_product(ProductKey{ta, tb, M, N, K, a_ld, b_ld, ldc, alpha, beta, /*f32=*/false}, ab, bb, C);
}

}  // namespace

void gemm_onednn_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                     const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  run_product(ProductKey{ta, tb, M, N, K, lda, ldb, ldc, alpha, beta, /*f32=*/true}, A, B, C);
}

namespace {

/// oneDNN's name for what it would run a bfloat16 product on here, or "" where that is not a
/// bfloat16 instruction set (oneDNN then has only reference loops: slower than emulating).
std::string dnnl_bf16_isa() {
  try {
    switch (dnnl::get_effective_cpu_isa()) {
      case dnnl::cpu_isa::avx512_core_amx: return "AMX";
      case dnnl::cpu_isa::avx512_core_bf16: return "AVX512-BF16";
      default: return "";
    }
  } catch (const dnnl::error&) {
    return "";
  }
}
#endif

}  // namespace

#ifndef ATTN_HAVE_DNNL
void gemm_onednn_f32(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float,
                     float*, int64_t) {
  throw std::logic_error("gemm_onednn_f32: this build has no oneDNN");  // onednn_fp32_products() is false
}
#endif

void set_matmul_precision(Precision precision) { g_precision.store(precision, std::memory_order_relaxed); }
Precision matmul_precision() { return g_precision.load(std::memory_order_relaxed); }

bool bf16_native() {
#ifdef ATTN_HAVE_DNNL
  static const bool native = !dnnl_bf16_isa().empty();
  return native;
#else
  return false;
#endif
}

bool onednn_fp32_products() {
#ifdef ATTN_HAVE_DNNL
  static const bool onednn = [] {
    const char* e = std::getenv("ATTN_FP32_PRODUCTS");
    if (e && std::string(e) == "onednn") return true;
    if (e && std::string(e) == "openblas") return false;
    return dnnl_bf16_isa() == "AMX";
  }();
  return onednn;
#else
  return false;
#endif
}

std::string bf16_engine() {
#ifdef ATTN_HAVE_DNNL
  if (bf16_native()) return "oneDNN " + dnnl_bf16_isa();
#endif
  return "emulated (float32 products of bfloat16-rounded operands)";
}

uint16_t to_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;  // to nearest, ties to even
  return uint16_t(nan ? (u >> 16) | 0x40u : rounded);
}

float from_bf16(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

void round_to_bf16(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = to_bf16(x[i]);
}

Bf16Constants::Bf16Constants(std::initializer_list<Operand> operands) {
#ifdef ATTN_HAVE_DNNL
  if (matmul_precision() != Precision::Bf16 || !bf16_native()) return;
  for (const Operand& o : operands) {
    if (!o.data || o.rows * o.cols == 0) continue;
    Rounded r{o, {}};
    dense_bf16(o.data, o.rows, o.cols, o.cols, r.bits);  // one reorder over the whole weight
    rounded_.push_back(std::move(r));
  }
  outer_ = g_constants.load();
  g_constants.store(this);
  open_ = true;
#else
  (void)operands;
#endif
}

Bf16Constants::~Bf16Constants() {
  if (open_) g_constants.store(outer_);
}

std::pair<const uint16_t*, int64_t> Bf16Constants::find(const float* x, int64_t rows, int64_t width, int64_t ld) {
  for (const Bf16Constants* s = g_constants.load(); s; s = s->outer_)
    for (const Rounded& r : s->rounded_) {
      const Operand& o = r.operand;
      if (ld != o.cols || x < o.data || x >= o.data + o.rows * o.cols) continue;
      const int64_t offset = x - o.data, row = offset / o.cols, col = offset % o.cols;
      if (row + rows <= o.rows && col + width <= o.cols) return {r.bits.data() + offset, o.cols};
    }
  return {nullptr, 0};
}

void gemm_bf16(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  if (M == 0 || N == 0) return;
#ifdef ATTN_HAVE_DNNL
  if (bf16_native() && K > 0) return gemm_dnnl(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
#endif
  gemm_emulated(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace attn::kernels
