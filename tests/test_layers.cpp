// The building blocks: the 1-convolution, embeddings, encoder and decoder layers, checked
// against the notebook's formulation, LibTorch's Transformer layers, and finite differences.
#include "attn/model/decoder.h"
#include "attn/model/encoder.h"

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_layers {

using namespace attn;
using attn::test::max_abs_diff;

namespace {
const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
}

TEST_CASE("the Conv1d feed-forward equals the notebook's Linear formulation", "[ffn][reference]") {
  attn::test::seed();
  for (auto act : {Activation::ReLU, Activation::GELU}) {
    ConvFeedForward ffn(ConvFeedForwardOptions(6, 10).activation(act));
    ffn->to(torch::kFloat64);
    torch::nn::Linear l1(6, 10), l2(10, 6);
    l1->to(torch::kFloat64), l2->to(torch::kFloat64);
    attn::test::copy_ffn(*ffn->k1convL1, *ffn->k1convL2, *l1, *l2);
    auto x = torch::randn({3, 7, 6}, f64);
    auto hidden = l1(x);
    auto expected = l2(act == Activation::GELU ? torch::gelu(hidden) : torch::relu(hidden));
    CHECK(max_abs_diff(ffn(x), expected) < 1e-12);
  }
}

TEST_CASE("the sinusoidal table is the notebook's, and fixed", "[embeddings][notebook]") {
  Embeddings emb(EmbeddingsOptions(20, 6).max_positions(50));
  const auto& table = emb->position_embeddings->weight;
  CHECK_FALSE(table.requires_grad());
  // E(p, 2i) = sin(p / 10000^(2i/d)), E(p, 2i+1) = cos(p / 10000^(2i/d)), by hand.
  for (int64_t p : {0, 1, 7, 49})
    for (int64_t j = 0; j < 6; ++j) {
      const double theta = p / std::pow(10000.0, 2.0 * (j / 2) / 6.0);
      const double expected = j % 2 == 0 ? std::sin(theta) : std::cos(theta);
      CHECK(table[p][j].item<double>() == Approx(expected).margin(1e-7));
    }
  CHECK(torch::equal(emb->word_embeddings->weight[1], torch::zeros({6})));  // <pad> row
}

TEST_CASE("embeddings add positions from `start`, and none when positions are off",
          "[embeddings]") {
  attn::test::seed();
  Embeddings with(EmbeddingsOptions(30, 8));
  auto ids = torch::randint(30, {2, 5});
  auto all = with(ids);
  CHECK(max_abs_diff(with(ids.narrow(1, 3, 2), /*start=*/3), all.narrow(1, 3, 2)) < 1e-6);
  Embeddings without(EmbeddingsOptions(30, 8).positions(Positions::None));
  CHECK_FALSE(without->position_embeddings);
  auto expected = without->LayerNorm(without->word_embeddings(ids));
  CHECK(max_abs_diff(without(ids), expected) < 1e-6);  // LibTorch's LayerNorm; the module's is fused
  CHECK_THROWS_WITH(Embeddings(EmbeddingsOptions(30, 8).max_positions(4))(ids),
                    Catch::Contains("positions 0..4 exceed the table of 4"));
}

TEST_CASE("the post-norm encoder layer equals LibTorch's TransformerEncoderLayer",
          "[encoder][reference]") {
  attn::test::seed();
  EncoderLayer ours(LayerOptions(8, 2, 16).layer_norm_eps(1e-5));
  ours->to(torch::kFloat64);
  torch::nn::TransformerEncoderLayer ref(
      torch::nn::TransformerEncoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0));
  ref->to(torch::kFloat64);
  attn::test::copy_attention(*ours->mha, *ref->self_attn);
  attn::test::copy_ffn(*ours->cnn->k1convL1, *ours->cnn->k1convL2, *ref->linear1, *ref->linear2);
  ref->eval();  // no dropout
  auto x = torch::randn({3, 5, 8}, f64);
  auto pad = torch::arange(5).unsqueeze(0) >= torch::tensor({5, 3, 2}).unsqueeze(1);  // (3, 5)
  CHECK(max_abs_diff(ours(x, pad), ref->forward(x.transpose(0, 1), {}, pad).transpose(0, 1)) < 1e-10);
}

TEST_CASE("the post-norm decoder layer equals LibTorch's TransformerDecoderLayer",
          "[decoder][reference]") {
  attn::test::seed();
  DecoderLayer ours(LayerOptions(8, 2, 16).layer_norm_eps(1e-5));
  ours->to(torch::kFloat64);
  torch::nn::TransformerDecoderLayer ref(
      torch::nn::TransformerDecoderLayerOptions(8, 2).dim_feedforward(16).dropout(0.0));
  ref->to(torch::kFloat64);
  ref->eval();
  attn::test::copy_attention(*ours->self_mha, *ref->self_attn);
  attn::test::copy_attention(*ours->cross_mha, *ref->multihead_attn);
  attn::test::copy_ffn(*ours->cnn->k1convL1, *ours->cnn->k1convL2, *ref->linear1, *ref->linear2);
  auto y = torch::randn({2, 4, 8}, f64), memory = torch::randn({2, 6, 8}, f64);
  auto mem_pad = torch::arange(6).unsqueeze(0) >= torch::tensor({6, 4}).unsqueeze(1);  // (2, 6)
  auto expected = ref->forward(y.transpose(0, 1), memory.transpose(0, 1),
                      attn::test::additive_causal_mask(4, y.options()), {}, {}, mem_pad);
  CHECK(max_abs_diff(ours->forward(y, memory, {}, mem_pad), expected.transpose(0, 1)) < 1e-10);
}

TEST_CASE("the pre-norm layers compute x + f(LN(x)) for each sub-layer", "[encoder][decoder]") {
  attn::test::seed();
  auto x = torch::randn({2, 4, 8}, f64), memory = torch::randn({2, 3, 8}, f64);
  EncoderLayer enc(LayerOptions(8, 2, 16).norm(NormPlacement::Pre));
  enc->to(torch::kFloat64);
  auto n1 = enc->layernorm1(x);
  auto h = x + enc->mha->forward(n1, n1, n1).output;
  CHECK(max_abs_diff(enc(x), h + enc->cnn(enc->layernorm2(h))) < 1e-12);

  DecoderLayer dec(LayerOptions(8, 2, 16).norm(NormPlacement::Pre));
  dec->to(torch::kFloat64);
  auto m1 = dec->layernorm1(x);
  auto h1 = x + dec->self_mha->forward(m1, m1, m1, {}, /*causal=*/true).output;
  auto h2 = h1 + dec->cross_mha->forward(dec->layernorm2(h1), memory, memory).output;
  CHECK(max_abs_diff(dec(x, memory), h2 + dec->cnn(dec->layernorm3(h2))) < 1e-12);
}

TEST_CASE("without positions the encoder is permutation equivariant", "[encoder][sets]") {
  attn::test::seed();
  for (auto mode : {AttentionMode::Soft, AttentionMode::Hard}) {
    Encoder enc(EncoderOptions(EmbeddingsOptions(40, 8).positions(Positions::None),
                               LayerOptions(8, 2, 16).attention(mode), 2));
    enc->to(torch::kFloat64);
    auto ids = torch::randint(2, 40, {3, 7});
    auto perm = torch::randperm(7);
    auto out = enc(ids);                                                   // (3, 7, 8)
    CHECK(max_abs_diff(enc(ids.index_select(1, perm)), out.index_select(1, perm)) < 1e-12);
  }
}

TEST_CASE("decoder outputs up to position i ignore target tokens after i", "[decoder][causal]") {
  attn::test::seed();
  for (auto norm : {NormPlacement::Post, NormPlacement::Pre}) {
    Decoder dec(DecoderOptions(EmbeddingsOptions(30, 8), LayerOptions(8, 2, 16).norm(norm), 2));
    dec->to(torch::kFloat64);
    auto memory = torch::randn({2, 5, 8}, f64);
    auto ids = torch::randint(2, 30, {2, 6});
    auto out = dec(ids, memory);
    for (int64_t i = 0; i < 5; ++i) {
      auto changed = ids.clone();
      changed.narrow(1, i + 1, 6 - i - 1).random_(2, 30);
      auto again = dec(changed, memory);
      CHECK(max_abs_diff(again.narrow(1, 0, i + 1), out.narrow(1, 0, i + 1)) < 1e-12);
    }
  }
}

TEST_CASE("encoder and decoder layers' gradients match finite differences",
          "[encoder][decoder][gradcheck]") {
  attn::test::seed();
  using attn::test::concat;
  using attn::test::gradient_error;
  using attn::test::trainable;
  auto x = torch::randn({2, 3, 4}, f64).requires_grad_();
  auto memory = torch::randn({2, 5, 4}, f64).requires_grad_();
  auto pad = torch::tensor({false, false, false, false, true, true}).view({2, 3});
  auto mem_pad = torch::arange(5).unsqueeze(0) >= torch::tensor({5, 2}).unsqueeze(1);
  for (auto norm : {NormPlacement::Post, NormPlacement::Pre}) {
    for (auto act : {Activation::ReLU, Activation::GELU}) {
      auto opts = LayerOptions(4, 2, 6).norm(norm).activation(act);
      EncoderLayer enc(opts);
      enc->to(torch::kFloat64);
      CHECK(gradient_error([&] { return enc(x, pad); }, concat({x}, trainable(*enc))) < 1e-6);
      DecoderLayer dec(opts);
      dec->to(torch::kFloat64);
      CHECK(gradient_error([&] { return dec(x, memory, pad, mem_pad); },
                           concat({x, memory}, trainable(*dec))) < 1e-6);
    }
  }
}

TEST_CASE("layers reject bad options with the values in the message", "[errors]") {
  CHECK_THROWS_WITH(EncoderLayer(LayerOptions(10, 3, 8)),
                    Catch::Contains("EncoderLayer: d_model (10) must be divisible by num_heads (3)"));
  CHECK_THROWS_WITH(DecoderLayer(LayerOptions(8, 2, 0)),
                    Catch::Contains("DecoderLayer: ffn_hidden must be positive, got 0"));
  CHECK_THROWS_WITH(Encoder(EncoderOptions(EmbeddingsOptions(10, 8), LayerOptions(8, 2, 8), 0)),
                    Catch::Contains("Encoder: num_layers must be positive, got 0"));
  CHECK_THROWS_WITH(Encoder(EncoderOptions(EmbeddingsOptions(10, 16), LayerOptions(8, 2, 8), 1)),
                    Catch::Contains("embeddings have d_model 16 but the layers have d_model 8"));
  CHECK_THROWS_WITH(Embeddings(EmbeddingsOptions(10, 8).padding_idx(10)),
                    Catch::Contains("padding_idx must be in [0, 10), got 10"));
  CHECK_THROWS_WITH(parse<Positions>("rotary"),
                    Catch::Contains("positions must be \"sinusoidal\", \"learned\" or \"none\", got \"rotary\""));
  CHECK_THROWS_WITH(parse<Activation>("tanh"), Catch::Contains("got \"tanh\""));
  CHECK_THROWS_WITH(parse<NormPlacement>("middle"), Catch::Contains("got \"middle\""));
}

}  // namespace test_layers
