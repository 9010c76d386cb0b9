// Scaled dot-product attention: the notebook's sanity checks, hard attention and its tie rule,
// masks, and gradients.
#include "attn/model/attention.h"

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_attention {

using namespace attn;
using attn::test::close_to;
using attn::test::max_abs_diff;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

// The notebook's key-value store, single head: (1, 1, 4, 3).
torch::Tensor notebook_keys() {
  return torch::tensor({10., 0., 0., 0., 10., 0., 0., 0., 10., 0., 0., 10.}, f64).view({1, 1, 4, 3});
}
torch::Tensor notebook_values() {
  return torch::tensor({1., 0., 0., 10., 0., 0., 100., 5., 0., 1000., 6., 0.}, f64)
      .view({1, 1, 4, 3});
}
torch::Tensor queries(std::vector<double> rows) {
  const int64_t n = static_cast<int64_t>(rows.size()) / 3;
  return torch::tensor(rows, f64).view({1, 1, n, 3});
}

// The notebook scales by sqrt(d_k) = sqrt(512 / 8) = 8.
AttentionOptions notebook_scaling() { return AttentionOptions().beta(1.0 / 8).need_weights(true); }

}  // namespace

TEST_CASE("attention reproduces the notebook's three sanity checks", "[attention][notebook]") {
  const auto K = notebook_keys(), V = notebook_values();
  struct Case {
    std::vector<double> q, a, h;
  };
  // The numbers the notebook prints; compared to 1e-4 relative.
  const std::vector<Case> cases = {
      {{0, 10, 0}, {3.7266e-06, 0.99999, 3.7266e-06, 3.7266e-06}, {10.004, 4.0993e-05, 0}},
      {{0, 0, 10}, {1.8633e-06, 1.8633e-06, 0.5, 0.5}, {549.998, 5.5, 0}},
      {{0, 0, 10, 0, 10, 0, 10, 10, 0},
       {1.8633e-06, 1.8633e-06, 0.5, 0.5, 3.7266e-06, 0.99999, 3.7266e-06, 3.7266e-06, 0.5, 0.5,
        1.8633e-06, 1.8633e-06},
       {549.998, 5.5, 0, 10.004, 4.0993e-05, 0, 5.502, 2.0497e-05, 0}},
  };
  for (const auto& c : cases) {
    auto out = scaled_dot_product_attention(queries(c.q), K, V, {}, notebook_scaling());
    CHECK(close_to(out.a.flatten(), torch::tensor(c.a, f64), 1e-4, 1e-12));
    CHECK(close_to(out.h.flatten(), torch::tensor(c.h, f64), 1e-4, 1e-12));
  }
}

TEST_CASE("hard attention returns exactly the matched value, and the lowest key on a tie",
          "[attention][hard]") {
  const auto K = notebook_keys(), V = notebook_values();
  auto hard = notebook_scaling().mode(AttentionMode::Hard);
  // Query 1 matches key 1 only; query 2 ties keys 2 and 3; query 3 ties keys 0 and 1.
  auto out = scaled_dot_product_attention(queries({0, 10, 0, 0, 0, 10, 10, 10, 0}), K, V, {}, hard);
  auto expected_h = torch::tensor({10., 0., 0., 100., 5., 0., 1., 0., 0.}, f64).view({1, 1, 3, 3});
  auto expected_a =
      torch::tensor({0., 1., 0., 0., 0., 0., 1., 0., 1., 0., 0., 0.}, f64).view({1, 1, 3, 4});
  CHECK(torch::equal(out.h, expected_h));  // exact, not approximate
  CHECK(torch::equal(out.a, expected_a));
}

TEST_CASE("soft attention approaches hard attention as beta grows", "[attention][hard]") {
  attn::test::seed();
  auto q = torch::randn({2, 3, 5, 4}, f64), k = torch::randn({2, 3, 7, 4}, f64),
       v = torch::randn({2, 3, 7, 6}, f64);
  auto hard = scaled_dot_product_attention(
      q, k, v, {}, AttentionOptions().mode(AttentionMode::Hard).need_weights(true));
  // The weight soft attention leaves off the argmax key shrinks with every increase of beta.
  double previous = 1.0;
  for (double beta : {0.1, 1.0, 10.0, 100.0, 1000.0, 1e5}) {
    auto soft = scaled_dot_product_attention(q, k, v, {}, AttentionOptions().beta(beta).need_weights(true));
    const double off = (1 - (soft.a * hard.a).sum(-1)).max().item<double>();
    CHECK(off <= previous);
    previous = off;
    if (beta == 1e5) CHECK(max_abs_diff(soft.h, hard.h) < 1e-9);
  }
  CHECK(previous < 1e-9);
}

TEST_CASE("masked keys get exactly zero weight and equal removing those keys", "[attention][mask]") {
  attn::test::seed();
  const int64_t B = 3, H = 2, Tq = 4, Tk = 6, D = 5;
  auto q = torch::randn({B, H, Tq, D}, f64), k = torch::randn({B, H, Tk, D}, f64),
       v = torch::randn({B, H, Tk, D}, f64);
  const std::vector<int64_t> lengths = {6, 3, 1};  // batch b keeps its first lengths[b] keys
  auto pad = torch::arange(Tk).unsqueeze(0) >= torch::tensor(lengths).unsqueeze(1);  // (B, Tk)
  for (auto mode : {AttentionMode::Soft, AttentionMode::Hard}) {
    auto opts = AttentionOptions().mode(mode).need_weights(true);
    auto out = scaled_dot_product_attention(q, k, v, pad, opts);
    for (int64_t b = 0; b < B; ++b) {
      using torch::indexing::Slice;
      const int64_t n = lengths[b];
      CHECK(torch::all(out.a[b].index({Slice(), Slice(), Slice(n)}) == 0).item<bool>());
      auto kept = scaled_dot_product_attention(
          q.narrow(0, b, 1), k.narrow(0, b, 1).narrow(2, 0, n), v.narrow(0, b, 1).narrow(2, 0, n),
          {}, opts);
      CHECK(max_abs_diff(out.h.narrow(0, b, 1), kept.h) < 1e-12);
    }
  }
}

TEST_CASE("a query that sees no key gets zero weights and zero output, never NaN",
          "[attention][mask]") {
  attn::test::seed();
  auto q = torch::randn({2, 2, 3, 4}, f64).requires_grad_();
  auto k = torch::randn({2, 2, 5, 4}, f64).requires_grad_();
  auto v = torch::randn({2, 2, 5, 4}, f64).requires_grad_();
  auto pad = torch::zeros({2, 5}, torch::kBool);
  pad[1].fill_(true);  // the second set is all padding
  for (auto mode : {AttentionMode::Soft, AttentionMode::Hard}) {
    auto out = scaled_dot_product_attention(q, k, v, pad, AttentionOptions().mode(mode).need_weights(true));
    CHECK(torch::equal(out.a[1], torch::zeros_like(out.a[1])));
    CHECK(torch::equal(out.h[1], torch::zeros_like(out.h[1])));
    CHECK(torch::isfinite(out.h).all().item<bool>());
    out.h.sum().backward();
    for (auto* t : {&q, &k, &v}) {
      CHECK(torch::isfinite(t->grad()).all().item<bool>());
      t->mutable_grad().reset();
    }
  }
}

TEST_CASE("the causal mask lets query i see keys up to i, and equals attending to the prefix",
          "[attention][mask]") {
  attn::test::seed();
  const int64_t T = 6;
  auto q = torch::randn({2, 2, T, 4}, f64), k = torch::randn({2, 2, T, 4}, f64),
       v = torch::randn({2, 2, T, 3}, f64);
  auto out = scaled_dot_product_attention(q, k, v, {}, AttentionOptions().causal(true).need_weights(true));
  CHECK(torch::equal(out.a.triu(1), torch::zeros_like(out.a)));
  for (int64_t i = 0; i < T; ++i) {
    auto prefix = scaled_dot_product_attention(q.narrow(2, i, 1), k.narrow(2, 0, i + 1),
                                               v.narrow(2, 0, i + 1), {}, AttentionOptions());
    CHECK(max_abs_diff(out.h.narrow(2, i, 1), prefix.h) < 1e-12);
  }
  // With fewer queries than keys, the queries are the last positions (incremental decoding).
  auto last = scaled_dot_product_attention(q.narrow(2, T - 2, 2), k, v, {},
                                           AttentionOptions().causal(true));
  CHECK(max_abs_diff(last.h, out.h.narrow(2, T - 2, 2)) < 1e-12);
}

TEST_CASE("soft attention's gradients match finite differences", "[attention][gradcheck]") {
  attn::test::seed();
  auto q = torch::randn({2, 2, 3, 4}, f64).requires_grad_();
  auto k = torch::randn({2, 2, 5, 4}, f64).requires_grad_();
  auto v = torch::randn({2, 2, 5, 3}, f64).requires_grad_();
  auto pad = torch::tensor({false, false, false, true, true, false, false, false, false, false})
                 .view({2, 5});
  for (bool causal : {false, true}) {
    auto f = [&] {
      return scaled_dot_product_attention(q, k, v, pad, AttentionOptions().causal(causal).beta(0.7)).h;
    };
    CHECK(attn::test::gradient_error(f, {q, k, v}) < 1e-7);
  }
}

TEST_CASE("hard attention trains straight through: q and k get the softargmax gradient",
          "[attention][hard]") {
  attn::test::seed();
  auto q = torch::randn({2, 2, 3, 4}, f64).requires_grad_();
  auto k = torch::randn({2, 2, 5, 4}, f64).requires_grad_();
  auto v = torch::randn({2, 2, 5, 3}, f64).requires_grad_();
  auto g = torch::randn({2, 2, 3, 3}, f64);  // dL/dH
  auto grads = [&](AttentionOptions o) {
    auto out = scaled_dot_product_attention(q, k, v, {}, o.need_weights(true));
    return std::make_pair(torch::autograd::grad({out.h}, {q, k, v}, {g}, false, false, true),
                          out.a.detach());
  };
  auto [soft, a_soft] = grads(AttentionOptions());
  auto [st, a_hard] = grads(AttentionOptions().mode(AttentionMode::Hard));
  auto [none, a_none] = grads(AttentionOptions().mode(AttentionMode::Hard).hard_gradient(HardGradient::None));
  // dL/dA = g V^T does not depend on A, so the straight-through scores get soft's gradient.
  CHECK(max_abs_diff(st[0], soft[0]) < 1e-12);
  CHECK(max_abs_diff(st[1], soft[1]) < 1e-12);
  // Values get A^T g with the one-hot A.
  auto v_grad = torch::matmul(a_hard.transpose(-2, -1), g);
  CHECK(max_abs_diff(st[2], v_grad) < 1e-12);
  // Without a gradient through the weights, q and k get nothing; v still gets A^T g.
  CHECK_FALSE(none[0].defined());
  CHECK_FALSE(none[1].defined());
  CHECK(max_abs_diff(none[2], v_grad) < 1e-12);
  CHECK(torch::equal(a_none, a_hard));
}

TEST_CASE("attention rejects bad shapes and options with the values in the message",
          "[attention][errors]") {
  auto q = torch::randn({1, 1, 2, 4}), k = torch::randn({1, 1, 3, 5}), v = torch::randn({1, 1, 3, 2});
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v, {}, AttentionOptions()),
                    Catch::Contains("queries have width 4 but keys have width 5"));
  auto k4 = torch::randn({1, 1, 3, 4});
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k4, v, torch::zeros({1, 2}, torch::kBool),
                                                 AttentionOptions()),
                    Catch::Contains("key_padding_mask must be (B, Tk) = (1, 3), got [1, 2]"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k4, v, {}, AttentionOptions().beta(-1.0)),
                    Catch::Contains("beta must be positive and finite, got -1"));
  CHECK_THROWS_WITH(parse<AttentionMode>("medium"),
                    Catch::Contains("attention mode must be \"soft\" or \"hard\", got \"medium\""));
}

}  // namespace test_attention
