#include "attn/ops/embedding_lookup.h"

#include <ATen/Parallel.h>

#include "attn/ops/cpu_kernels.h"

namespace attn {

namespace {

// table (V, D) contiguous, ids (N) long contiguous.
struct EmbeddingLookupFunction : public torch::autograd::Function<EmbeddingLookupFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& table,
                               const torch::Tensor& ids, int64_t padding_idx) {
    ctx->save_for_backward({ids});
    ctx->saved_data["rows"] = table.size(0);
    ctx->saved_data["padding_idx"] = padding_idx;
    return table.index_select(0, ids);                                     // (N, D)
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                  torch::autograd::variable_list grads) {
    const auto ids = ctx->get_saved_variables()[0];                        // (N)
    const int64_t V = ctx->saved_data["rows"].toInt(), padding = ctx->saved_data["padding_idx"].toInt();
    const auto grad = grads[0].contiguous();                               // (N, D)
    const int64_t N = grad.size(0), D = grad.size(1);
    auto dtable = torch::empty({V, D}, grad.options());                    // (V, D)
    const int64_t* id = ids.data_ptr<int64_t>();
    AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "embedding_lookup_backward", [&] {
      const scalar_t* g = grad.data_ptr<scalar_t>();
      scalar_t* out = dtable.data_ptr<scalar_t>();
      // Table rows [v0, v1) per task; a grain of 2,048 rows keeps small tables on one thread.
      at::parallel_for(0, V, 2048, [&](int64_t v0, int64_t v1) {
        std::fill(out + v0 * D, out + v1 * D, scalar_t(0));
        for (int64_t i = 0; i < N; ++i) {
          const int64_t v = id[i];
          if (v < v0 || v >= v1 || v == padding) continue;
          scalar_t* row = out + v * D;
          const scalar_t* src = g + i * D;
          for (int64_t c = 0; c < D; ++c) row[c] += src[c];
        }
      });
    });
    return {dtable, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor embedding_lookup(const torch::Tensor& table, const torch::Tensor& ids, int64_t padding_idx) {
  TORCH_CHECK(table.dim() == 2, "embedding_lookup: the table must be (V, D), got ", table.sizes());
  TORCH_CHECK(ids.scalar_type() == torch::kLong, "embedding_lookup: ids must be int64, got ", ids.scalar_type());
  auto shape = ids.sizes().vec();
  shape.push_back(table.size(1));
  const auto flat = ids.reshape({-1}).contiguous();                        // (N)
  // Elsewhere LibTorch's embedding, which checks the ids itself (on CUDA without a host sync).
  if (!cpu_kernels_take(table))
    return torch::embedding(table, flat, padding_idx).view(shape);        // (..., D)
  if (flat.numel() > 0) {
    const auto [lo, hi] = torch::aminmax(flat);
    TORCH_CHECK(lo.item<int64_t>() >= 0 && hi.item<int64_t>() < table.size(0), "embedding_lookup: ids must lie in [0, ",
                table.size(0), "), got ", lo.item<int64_t>(), "..", hi.item<int64_t>());
  }
  return EmbeddingLookupFunction::apply(table.contiguous(), flat, padding_idx).view(shape);  // (..., D)
}

}  // namespace attn
