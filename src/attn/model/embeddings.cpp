#include "attn/model/embeddings.h"

#include "attn/ops/dropout.h"
#include "attn/ops/embedding_lookup.h"
#include "attn/ops/fused_add_norm.h"

namespace attn {

EmbeddingsOptions::EmbeddingsOptions(int64_t vocab_size, int64_t d_model)
    : vocab_size_(vocab_size), d_model_(d_model) {}

torch::Tensor sinusoidal_table(int64_t rows, int64_t dim) {
  auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  auto p = torch::arange(rows, f64).unsqueeze(1);                         // (rows, 1)
  auto pair = torch::arange(dim, f64).div(2, "floor").mul(2);             // (dim): 2i for 2i, 2i+1
  auto theta = p / torch::pow(10000.0, pair / static_cast<double>(dim)); // (rows, dim)
  auto table = torch::empty({rows, dim}, f64);
  using torch::indexing::Slice;
  table.index_put_({Slice(), Slice(0, torch::indexing::None, 2)}, theta.index({Slice(), Slice(0, torch::indexing::None, 2)}).sin());
  table.index_put_({Slice(), Slice(1, torch::indexing::None, 2)}, theta.index({Slice(), Slice(1, torch::indexing::None, 2)}).cos());
  return table;
}

EmbeddingsImpl::EmbeddingsImpl(EmbeddingsOptions options_) : options(std::move(options_)) { reset(); }

void EmbeddingsImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.vocab_size() > 0, "Embeddings: vocab_size must be positive, got ", o.vocab_size());
  TORCH_CHECK(o.d_model() > 0, "Embeddings: d_model must be positive, got ", o.d_model());
  TORCH_CHECK(o.padding_idx() >= 0 && o.padding_idx() < o.vocab_size(),
              "Embeddings: padding_idx must be in [0, ", o.vocab_size(), "), got ",
              o.padding_idx());
  TORCH_CHECK(o.max_positions() > 0, "Embeddings: max_positions must be positive, got ",
              o.max_positions());
  TORCH_CHECK(o.dropout() >= 0 && o.dropout() < 1, "Embeddings: dropout must be in [0, 1), got ",
              o.dropout());
  word_embeddings = register_module(
      "word_embeddings",
      torch::nn::Embedding(
          torch::nn::EmbeddingOptions(o.vocab_size(), o.d_model()).padding_idx(o.padding_idx())));
  if (o.positions() != Positions::None) {
    position_embeddings = register_module(
        "position_embeddings",
        torch::nn::Embedding(torch::nn::EmbeddingOptions(o.max_positions(), o.d_model())));
    if (o.positions() == Positions::Sinusoidal) {
      torch::NoGradGuard no_grad;
      position_embeddings->weight.copy_(sinusoidal_table(o.max_positions(), o.d_model()));
      position_embeddings->weight.set_requires_grad(false);  // fixed, as in the notebook
    }
  }
  LayerNorm = register_module(
      "LayerNorm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model()}).eps(o.layer_norm_eps())));
}

std::shared_ptr<torch::nn::Module> EmbeddingsImpl::clone(const c10::optional<torch::Device>& device) const {
  auto copy = Cloneable::clone(device);
  if (options.positions() == Positions::Sinusoidal)
    std::dynamic_pointer_cast<EmbeddingsImpl>(copy)->position_embeddings->weight.set_requires_grad(false);
  return copy;
}

torch::Tensor EmbeddingsImpl::forward(const torch::Tensor& ids, int64_t start) {
  TORCH_CHECK(ids.dim() == 2, "Embeddings expects token ids (B, T), got ", ids.sizes());
  auto x = embedding_lookup(word_embeddings->weight, ids,
                            word_embeddings->options.padding_idx().value_or(-1));  // (B, T, D)
  torch::Tensor positions;                                                 // (T, D) or undefined
  if (position_embeddings) {
    const int64_t T = ids.size(1);
    TORCH_CHECK(start >= 0 && start + T <= options.max_positions(), "Embeddings: positions ",
                start, "..", start + T - 1, " exceed the table of ", options.max_positions(),
                " (raise max_positions or shorten the input)");
    auto pos = torch::arange(start, start + T, ids.options().dtype(torch::kLong));  // (T)
    positions = position_embeddings(pos);                                  // (T, D)
  }
  x = add_layer_norm(x, positions, LayerNorm);                             // LN(x + positions) (B, T, D)
  x = attn::dropout(x, options.dropout(), is_training());
  return x;
}

}  // namespace attn
