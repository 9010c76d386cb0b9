// MultiHeadAttention against LibTorch's own torch::nn::MultiheadAttention, and its gradients.
#include "attn/model/multi_head_attention.h"

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_multi_head_attention {

using namespace attn;
using attn::test::max_abs_diff;

namespace {

torch::nn::MultiheadAttention reference_for(MultiHeadAttentionImpl& ours) {
  const auto& o = ours.options;
  const int64_t d = o.d_model();
  auto ref = torch::nn::MultiheadAttention(
      torch::nn::MultiheadAttentionOptions(d, o.num_heads())
          .kdim(o.d_key_in().value_or(d))
          .vdim(o.d_value_in().value_or(d)));
  ref->to(torch::kFloat64);
  attn::test::copy_attention(ours, *ref);
  return ref;
}

// Ours on (B, T, D) against LibTorch's on (T, B, D); per-head weights compared too.
void compare_with_libtorch(MultiHeadAttentionImpl& ours, const torch::Tensor& xq,
                           const torch::Tensor& xk, const torch::Tensor& xv,
                           const torch::Tensor& pad, bool causal) {
  auto ref = reference_for(ours);
  auto mine = ours.forward(xq, xk, xv, pad, causal, /*need_weights=*/true);
  torch::Tensor attn_mask;
  if (causal) attn_mask = attn::test::additive_causal_mask(xq.size(1), xq.options());
  auto [theirs, theirs_w] = ref->forward(xq.transpose(0, 1), xk.transpose(0, 1), xv.transpose(0, 1),
                                         pad, /*need_weights=*/true, attn_mask,
                                         /*average_attn_weights=*/false);
  CHECK(max_abs_diff(mine.output, theirs.transpose(0, 1)) < 1e-10);
  CHECK(max_abs_diff(mine.weights, theirs_w) < 1e-10);
}

}  // namespace

TEST_CASE("self-attention equals LibTorch's MultiheadAttention (float64)", "[mha][reference]") {
  attn::test::seed();
  MultiHeadAttention mha(MultiHeadAttentionOptions(8, 2));
  mha->to(torch::kFloat64);
  auto x = torch::randn({3, 5, 8}, torch::kFloat64);
  auto pad = torch::tensor({false, false, false, false, false, false, false, false, true, true,
                            false, true, true, true, true})
                 .view({3, 5});
  SECTION("without a mask") { compare_with_libtorch(*mha, x, x, x, {}, false); }
  SECTION("with a key-padding mask") { compare_with_libtorch(*mha, x, x, x, pad, false); }
  SECTION("with a causal mask") { compare_with_libtorch(*mha, x, x, x, {}, true); }
}

TEST_CASE("cross-attention with other input widths equals LibTorch's MultiheadAttention",
          "[mha][reference]") {
  attn::test::seed();
  MultiHeadAttention mha(MultiHeadAttentionOptions(12, 3).d_key_in(5).d_value_in(5));
  mha->to(torch::kFloat64);
  auto xq = torch::randn({2, 4, 12}, torch::kFloat64);
  auto xk = torch::randn({2, 6, 5}, torch::kFloat64);
  auto xv = torch::randn({2, 6, 5}, torch::kFloat64);  // LibTorch needs keys and values alike
  auto pad = torch::tensor({false, false, false, false, true, true, false, false, false, false,
                            false, false})
                 .view({2, 6});
  SECTION("without a mask") { compare_with_libtorch(*mha, xq, xk, xv, {}, false); }
  SECTION("with a key-padding mask") { compare_with_libtorch(*mha, xq, xk, xv, pad, false); }
}

TEST_CASE("the stacked self-attention projection equals three separate products", "[mha]") {
  attn::test::seed();
  MultiHeadAttention mha(MultiHeadAttentionOptions(8, 4));
  mha->to(torch::kFloat64);
  auto x = torch::randn({2, 5, 8}, torch::kFloat64);
  auto fused = mha->forward(x, x, x).output;          // one tall product
  auto separate = mha->forward(x, x.clone(), x.clone()).output;  // three products
  CHECK(max_abs_diff(fused, separate) < 1e-12);
}

TEST_CASE("multi-head attention's gradients match finite differences", "[mha][gradcheck]") {
  attn::test::seed();
  MultiHeadAttention mha(MultiHeadAttentionOptions(4, 2).d_key_in(3));
  mha->to(torch::kFloat64);
  auto xq = torch::randn({2, 3, 4}, torch::kFloat64).requires_grad_();
  auto xk = torch::randn({2, 4, 3}, torch::kFloat64).requires_grad_();
  auto xv = torch::randn({2, 4, 4}, torch::kFloat64).requires_grad_();
  auto pad = torch::tensor({false, false, true, true, false, false, false, false}).view({2, 4});
  auto f = [&] { return mha->forward(xq, xk, xv, pad).output; };
  CHECK(attn::test::gradient_error(f, attn::test::concat({xq, xk, xv}, attn::test::trainable(*mha))) <
        1e-7);
}

TEST_CASE("set_attention_mode switches every attention module of a model", "[mha][hard]") {
  attn::test::seed();
  torch::nn::Sequential model;
  model->push_back(MultiHeadAttention(MultiHeadAttentionOptions(4, 2)));
  model->push_back(MultiHeadAttention(MultiHeadAttentionOptions(4, 1)));
  CHECK(set_attention_mode(*model, AttentionMode::Hard) == 2);
  for (const auto& m : model->modules())
    if (auto* mha = m->as<MultiHeadAttentionImpl>()) {
      CHECK(mha->options.mode() == AttentionMode::Hard);
      auto x = torch::randn({1, 3, 4});
      auto w = mha->forward(x, x, x, {}, false, true).weights;
      CHECK(torch::equal(w.sum(-1), torch::ones_like(w.sum(-1))));  // one-hot rows
      CHECK(torch::equal(std::get<0>(w.max(-1)), torch::ones_like(w.sum(-1))));
    }
}

TEST_CASE("multi-head attention rejects bad options with the values in the message",
          "[mha][errors]") {
  CHECK_THROWS_WITH(MultiHeadAttention(MultiHeadAttentionOptions(30, 4)),
                    Catch::Contains("d_model (30) must be divisible by num_heads (4)"));
  CHECK_THROWS_WITH(MultiHeadAttention(MultiHeadAttentionOptions(0, 1)),
                    Catch::Contains("d_model must be positive, got 0"));
  CHECK_THROWS_WITH(MultiHeadAttention(MultiHeadAttentionOptions(8, 2).d_key_in(0)),
                    Catch::Contains("input widths must be positive, got d_query_in=8 d_key_in=0"));
  CHECK_THROWS_WITH(MultiHeadAttention(MultiHeadAttentionOptions(8, 2).dropout(1.5)),
                    Catch::Contains("dropout must be in [0, 1), got 1.5"));
}

}  // namespace test_multi_head_attention
