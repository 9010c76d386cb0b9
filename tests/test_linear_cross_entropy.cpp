// The output projection and label-smoothed cross-entropy in one operation
// (attn/ops/linear_cross_entropy.h) against LibTorch's linear and cross_entropy(ignore_index,
// label_smoothing): the loss, the gradients of hidden, weight and bias, the count of tokens and
// of correct argmaxes; float64 and float32, on every instruction set the kernels have here, with
// and without bias, smoothing and padding, row counts that split into blocks unevenly.
#include "attn/ops/linear_cross_entropy.h"

#include "attn/config/config.h"
#include "attn/kernels/isa.h"
#include "attn/model/build.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_linear_cross_entropy {

using namespace attn;
using attn::test::relative_error;

namespace {

constexpr int64_t kIgnore = 1;

struct Result {
  torch::Tensor loss, dh, dw, db;
  int64_t tokens = 0, correct = 0;
  bool fused = false;
};

Result run(bool fused, const torch::Tensor& h_in, const torch::Tensor& w_in, const torch::Tensor& b_in,
           const torch::Tensor& target, double smoothing, double upstream) {
  KernelChoice choice;
  if (!fused) choice = KernelChoice::reference();
  const KernelScope scope(choice);
  auto h = h_in.clone().requires_grad_(), w = w_in.clone().requires_grad_();
  auto b = b_in.defined() ? b_in.clone().requires_grad_() : torch::Tensor();
  auto r = linear_cross_entropy(h, w, b, target, kIgnore, smoothing);
  (r.loss * upstream).backward();  // a factor from outside, as grad accumulation's 1/k
  return {r.loss.detach(), h.grad(), w.grad(), b.defined() ? b.grad() : torch::Tensor(), r.tokens, r.correct,
          attn::test::graph_has(r.loss, "LinearCrossEntropy")};
}

void check_same(int64_t B, int64_t T, int64_t D, int64_t V, bool bias, double smoothing, double padding,
                torch::Dtype dtype, double tolerance) {
  const auto o = torch::TensorOptions().dtype(dtype);
  const auto h = torch::randn({B, T, D}, o), w = torch::randn({V, D}, o) * 0.5;
  const auto b = bias ? torch::randn({V}, o) : torch::Tensor();
  auto target = torch::randint(0, V, {B, T}, torch::kLong);                 // (B, T)
  target.masked_fill_(torch::rand({B, T}) < padding, kIgnore);
  target[0][0] = 0;  // one counted token at least (none: both give NaN)
  const auto got = run(true, h, w, b, target, smoothing, 0.75), want = run(false, h, w, b, target, smoothing, 0.75);
  INFO("B " << B << " T " << T << " D " << D << " V " << V << (bias ? " bias" : " no bias") << " smoothing "
            << smoothing << " padding " << padding << " " << dtype);
  CHECK(got.fused);
  CHECK_FALSE(want.fused);
  CHECK(got.tokens == want.tokens);
  CHECK(got.correct == want.correct);
  CHECK(relative_error(got.loss, want.loss) < tolerance);
  CHECK(relative_error(got.dh, want.dh) < tolerance);
  CHECK(relative_error(got.dw, want.dw) < tolerance);
  if (bias) CHECK(relative_error(got.db, want.db) < tolerance);
}

}  // namespace

TEST_CASE("the fused projection and cross-entropy match LibTorch's, loss, gradients and counts, on every "
          "instruction set",
          "[fused_loss]") {
  attn::test::seed();
  // Vocabularies: 37 (the plain loops' tails), 1,000 and 8,000 (Multi30k's; 128-row blocks);
  // rows: one, fewer than a block, several blocks split unevenly.
  const std::vector<std::array<int64_t, 4>> shapes = {{1, 1, 16, 37}, {3, 29, 24, 37}, {4, 90, 32, 1000},
                                                      {5, 61, 16, 8000}};
  for (const auto& isa : attn::test::isas_under_test()) {
    INFO("kernels: " << isa);
    REQUIRE(kernels::force_kernel_isa(isa));
    for (const auto& [B, T, D, V] : shapes)
      for (bool bias : {true, false})
        for (double smoothing : {0.0, 0.1})
          for (double padding : {0.0, 0.3}) {
            check_same(B, T, D, V, bias, smoothing, padding, torch::kFloat64, 1e-12);
            check_same(B, T, D, V, bias, smoothing, padding, torch::kFloat32, 2e-5);
          }
  }
  kernels::force_kernel_isa("");
}

TEST_CASE("the fused cross-entropy counts the largest logit as torch.argmax does, and skips padding rows",
          "[fused_loss]") {
  // Rows built so that the target is the largest logit in some and not in others.
  const int64_t V = 50, D = 50;
  auto h = torch::eye(D, torch::kFloat64).narrow(0, 0, 6);                  // (6, D): row i is e_i
  auto w = torch::eye(V, torch::kFloat64) * 3;                              // (V, D): logit i of row i is 3
  auto target = torch::tensor(std::vector<int64_t>{0, 5, 2, kIgnore, 4, 9});  // rows 0, 2, 4 right
  for (bool fused : {true, false}) {
    const KernelScope scope(fused ? KernelChoice() : KernelChoice::reference());
    const auto r = linear_cross_entropy(h, w, torch::Tensor(), target, kIgnore, 0.1);
    INFO((fused ? "fused" : "reference"));
    CHECK(r.tokens == 5);
    CHECK(r.correct == 3);
  }
}

TEST_CASE("the fused cross-entropy without gradients (evaluation) gives the loss of training, and the same bits "
          "on every run",
          "[fused_loss]") {
  attn::test::seed();
  const auto h = torch::randn({700, 32}), w = torch::randn({3000, 32}), b = torch::randn({3000});
  const auto target = torch::randint(0, 3000, {700}, torch::kLong);
  const auto a = run(true, h, w, b, target, 0.1, 1.0), c = run(true, h, w, b, target, 0.1, 1.0);
  CHECK(torch::equal(a.loss, c.loss));
  CHECK(torch::equal(a.dh, c.dh));
  CHECK(torch::equal(a.dw, c.dw));
  CHECK(torch::equal(a.db, c.db));
  torch::NoGradGuard no_grad;
  const auto e = linear_cross_entropy(h, w, b, target, kIgnore, 0.1);
  CHECK_FALSE(e.loss.requires_grad());
  CHECK(torch::equal(e.loss, a.loss));
}

TEST_CASE("a translation model's loss is cross_entropy of its logits, and its gradients are the same, with "
          "tied and untied output weights",
          "[fused_loss][models]") {
  attn::test::seed();
  ModelConfig m;
  m.d_model = 16, m.heads = 2, m.ffn_hidden = 32, m.layers = 1, m.decoder_layers = 2, m.dropout = 0;
  for (bool tied : {true, false}) {
    m.tie_embeddings = tied;
    auto model = build_seq2seq(m, 40, 45);
    model->to(torch::kFloat64);
    auto src = torch::randint(4, 40, {3, 7}, torch::kLong), tgt = torch::randint(4, 45, {3, 6}, torch::kLong);
    auto src_pad = torch::zeros({3, 7}, torch::kBool), tgt_pad = torch::zeros({3, 5}, torch::kBool);
    src_pad[2].narrow(0, 5, 2).fill_(true), tgt_pad[1].narrow(0, 3, 2).fill_(true);
    auto tgt_in = tgt.narrow(1, 0, 5), tgt_out = tgt.narrow(1, 1, 5).clone();
    tgt_out.masked_fill_(tgt_pad, kIgnore);
    model->zero_grad();
    auto fused = model->loss(src, tgt_in, tgt_out, src_pad, tgt_pad, 0.1);
    fused.loss.backward();
    std::vector<torch::Tensor> fused_grads;
    for (const auto& p : model->parameters()) fused_grads.push_back(p.grad().defined() ? p.grad().clone() : p.grad());
    model->zero_grad();
    auto logits = model(src, tgt_in, src_pad, tgt_pad);                     // (B, T, V)
    auto want = torch::nn::functional::cross_entropy(
        logits.flatten(0, 1), tgt_out.flatten(),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore).label_smoothing(0.1));
    want.backward();
    INFO((tied ? "tied" : "untied"));
    CHECK(attn::test::graph_has(fused.loss, "LinearCrossEntropy"));
    CHECK(relative_error(fused.loss, want) < 1e-12);
    CHECK(fused.tokens == 13);
    const auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      REQUIRE(fused_grads[i].defined() == params[i].grad().defined());  // the sinusoidal table has none
      if (fused_grads[i].defined()) CHECK(relative_error(fused_grads[i], params[i].grad()) < 1e-10);
    }
  }
}

TEST_CASE("the fused cross-entropy refuses a target outside the vocabulary and shapes that do not fit",
          "[fused_loss][errors]") {
  const auto h = torch::randn({4, 8}), w = torch::randn({10, 8});
  CHECK_THROWS_WITH(linear_cross_entropy(h, w, torch::Tensor(), torch::tensor({0, 3, 10, 2}, torch::kLong), kIgnore, 0.0),
                    Catch::Contains("a target outside [0, 10)"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, torch::randn({10, 7}), torch::Tensor(), torch::tensor({0, 3, 9, 2}, torch::kLong),
                                         kIgnore, 0.0),
                    Catch::Contains("does not fit weight"));
  CHECK_THROWS_WITH(linear_cross_entropy(h, w, torch::Tensor(), torch::tensor({0, 3, 9}, torch::kLong), kIgnore, 0.0),
                    Catch::Contains("3 targets for hidden"));
}

}  // namespace test_linear_cross_entropy
