// The assembled models: set to vector (SetClassifier) and set to set (Seq2Seq).
#include "attn/model/attention_record.h"
#include "attn/model/build.h"
#include "attn/model/seq2seq.h"
#include "attn/model/set_classifier.h"
#include "attn/train/beta_schedule.h"

#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_models {

using namespace attn;
using attn::test::max_abs_diff;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

SetClassifier small_classifier(Pooling pooling, Positions positions,
                               AttentionMode mode = AttentionMode::Soft) {
  SetClassifier model(SetClassifierOptions(
      EncoderOptions(EmbeddingsOptions(50, 8).positions(positions),
                     LayerOptions(8, 2, 16).attention(mode), 2),
      3)
                          .pooling(pooling));
  model->to(torch::kFloat64);
  return model;
}

// The notebook's model: vocab 50,002, d_model 32, 2 heads, hidden 128, 1 layer, max pooling.
SetClassifier notebook_classifier() {
  return SetClassifier(
      SetClassifierOptions(EncoderOptions(EmbeddingsOptions(50002, 32), LayerOptions(32, 2, 128), 1), 2));
}

const Pooling kPoolings[] = {Pooling::Max, Pooling::Mean, Pooling::Attention};

}  // namespace

TEST_CASE("without positions the set classifier is permutation invariant, for every pooling",
          "[classifier][sets]") {
  attn::test::seed();
  for (auto pooling : kPoolings)
    for (auto mode : {AttentionMode::Soft, AttentionMode::Hard}) {
      auto model = small_classifier(pooling, Positions::None, mode);
      auto ids = torch::randint(2, 50, {4, 9});
      auto pad = torch::arange(9).unsqueeze(0) >= torch::tensor({9, 5, 7, 1}).unsqueeze(1);
      auto perm = torch::randperm(9);
      CHECK(max_abs_diff(model(ids.index_select(1, perm), pad.index_select(1, perm)),
                         model(ids, pad)) < 1e-12);
    }
}

TEST_CASE("padding a set changes no output of the set classifier, for every pooling",
          "[classifier][mask]") {
  attn::test::seed();
  for (auto positions : {Positions::None, Positions::Sinusoidal, Positions::Learned})
    for (auto pooling : kPoolings) {
      auto model = small_classifier(pooling, positions);
      auto ids = torch::randint(2, 50, {3, 6});
      auto padded = torch::cat({ids, torch::ones({3, 4}, ids.options())}, 1);  // <pad> = 1
      auto pad = torch::arange(10).unsqueeze(0).expand({3, 10}) >= 6;          // (3, 10)
      CHECK(max_abs_diff(model(padded, pad), model(ids)) < 1e-12);
    }
}

TEST_CASE("without a mask, padding takes part in attention and pooling, as in the notebook",
          "[classifier][notebook]") {
  attn::test::seed();
  auto model = small_classifier(Pooling::Max, Positions::Sinusoidal);
  auto ids = torch::randint(2, 50, {2, 6});
  auto padded = torch::cat({ids, torch::ones({2, 4}, ids.options())}, 1);
  CHECK(max_abs_diff(model(padded), model(ids)) > 1e-6);
}

TEST_CASE("max and mean pooling leave padding out, and an empty set pools to zeros",
          "[classifier][mask]") {
  attn::test::seed();
  auto x = torch::randn({2, 4, 3}, f64);
  auto pad = torch::tensor({false, false, true, true, true, true, true, true}).view({2, 4});
  auto first_two = x[0].narrow(0, 0, 2);
  CHECK(max_abs_diff(pool_max(x, pad)[0], std::get<0>(first_two.max(0))) == 0);
  CHECK(max_abs_diff(pool_mean(x, pad)[0], first_two.mean(0)) < 1e-15);
  CHECK(torch::equal(pool_max(x, pad)[1], torch::zeros({3}, f64)));
  CHECK(torch::equal(pool_mean(x, pad)[1], torch::zeros({3}, f64)));
}

TEST_CASE("the set classifier's gradients match finite differences, for every pooling",
          "[classifier][gradcheck]") {
  attn::test::seed();
  for (auto pooling : kPoolings) {
    SetClassifier model(SetClassifierOptions(
        EncoderOptions(EmbeddingsOptions(12, 4).positions(Positions::Learned).max_positions(6),
                       LayerOptions(4, 2, 6), 1),
        2)
                            .pooling(pooling));
    model->to(torch::kFloat64);
    auto ids = torch::randint(2, 12, {2, 4});
    auto pad = torch::tensor({false, false, false, false, false, false, true, true}).view({2, 4});
    CHECK(attn::test::gradient_error([&] { return model(ids, pad); }, attn::test::trainable(*model)) <
          1e-6);
  }
}

TEST_CASE("the max-pooled classifier's parameter gradients are the same with the fused kernels, which skip the "
          "rows max-pooling gives no gradient, and with the reference path",
          "[classifier][notebook]") {
  // Max-pooling sends each feature's gradient to one element of the set, so most rows of the
  // encoder's last layer get none, and the fused kernels leave them out of their backward
  // products (attn/ops/gradient_rows.h); LibTorch's path multiplies the zeros. float64.
  attn::test::seed();
  auto build = [] {
    return SetClassifier(
        SetClassifierOptions(EncoderOptions(EmbeddingsOptions(1000, 32), LayerOptions(32, 2, 128), 2), 2));
  };
  auto fused = build(), reference = build();
  fused->to(torch::kFloat64), reference->to(torch::kFloat64);
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < fused->parameters().size(); ++i) reference->parameters()[i].copy_(fused->parameters()[i]);
  }
  const auto ids = torch::randint(2, 1000, {12, 200});
  const auto labels = torch::randint(2, {12});
  torch::nn::functional::cross_entropy(fused(ids), labels).backward();
  attn::test::with_reference_kernels([&] { return torch::nn::functional::cross_entropy(reference(ids), labels); })
      .backward();
  const auto names = fused->named_parameters().keys();
  const auto got_all = fused->parameters(), want_all = reference->parameters();
  for (size_t i = 0; i < got_all.size(); ++i) {
    const auto &got = got_all[i], &want = want_all[i];
    if (!want.requires_grad()) continue;
    INFO(names[i]);
    REQUIRE(got.grad().defined());
    CHECK(attn::test::relative_error(got.grad(), want.grad()) < 1e-10);
  }
}

TEST_CASE("the notebook's classifier has the notebook's parameters and names", "[classifier][notebook]") {
  auto model = notebook_classifier();
  // The Python notebook's TransformerClassifier: 1,612,802 trainable parameters (the sinusoid
  // table of 10000 x 32 is fixed), counted with bench/notebook_baseline.py's model.
  int64_t trainable = 0;
  for (const auto& p : model->parameters())
    if (p.requires_grad()) trainable += p.numel();
  CHECK(trainable == 1612802);
  auto names = model->named_parameters().keys();
  for (const char* name : {"encoder.embedding.word_embeddings.weight", "encoder.layers.0.mha.W_q.weight",
                           "encoder.layers.0.cnn.k1convL1.weight", "encoder.layers.0.layernorm2.bias",
                           "dense.weight"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
}

TEST_CASE("a notebook-sized AdamW step runs forward and backward and lowers the loss on a batch",
          "[classifier][notebook][training]") {
  attn::test::seed();
  auto model = notebook_classifier();
  torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(1e-3));
  auto ids = torch::randint(2, 50002, {164, 200});  // the notebook's batch: 164 reviews x 200 tokens
  auto labels = torch::randint(2, {164});
  std::vector<double> losses;
  for (int step = 0; step < 8; ++step) {
    auto loss = torch::nn::functional::cross_entropy(model(ids), labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    losses.push_back(loss.item<double>());
  }
  INFO("loss from " << losses.front() << " to " << losses.back());
  CHECK(losses.back() < losses.front() - 0.05);
  CHECK(std::isfinite(losses.back()));
}

TEST_CASE("seq2seq: target positions ignore later target tokens, and padding changes nothing",
          "[seq2seq][causal]") {
  attn::test::seed();
  for (bool tied : {false, true}) {
    Seq2Seq model(Seq2SeqOptions(EncoderOptions(EmbeddingsOptions(20, 8), LayerOptions(8, 2, 16), 2),
                                 DecoderOptions(EmbeddingsOptions(25, 8), LayerOptions(8, 2, 16), 2))
                      .tie_output_embeddings(tied));
    model->to(torch::kFloat64);
    auto src = torch::randint(2, 20, {2, 5}), tgt = torch::randint(2, 25, {2, 6});
    auto logits = model(src, tgt);                                         // (2, 6, 25)
    CHECK(logits.sizes() == torch::IntArrayRef({2, 6, 25}));
    auto changed = tgt.clone();
    changed.narrow(1, 3, 3).random_(2, 25);
    CHECK(max_abs_diff(model(src, changed).narrow(1, 0, 3), logits.narrow(1, 0, 3)) < 1e-12);
    // Padded source and target: the real positions' logits do not move.
    auto src_p = torch::cat({src, torch::ones({2, 3}, src.options())}, 1);
    auto tgt_p = torch::cat({tgt, torch::ones({2, 2}, tgt.options())}, 1);
    auto src_pad = torch::arange(8).unsqueeze(0).expand({2, 8}) >= 5;
    auto tgt_pad = torch::arange(8).unsqueeze(0).expand({2, 8}) >= 6;
    CHECK(max_abs_diff(model(src_p, tgt_p, src_pad, tgt_pad).narrow(1, 0, 6), logits) < 1e-12);
  }
}

TEST_CASE("model.hard_in makes attention hard (and a beta schedule sharp) in the places it names, the others soft",
          "[seq2seq][hard]") {
  attn::test::seed();
  ModelConfig m;
  m.d_model = 8, m.heads = 2, m.ffn_hidden = 16, m.layers = 2;
  m.attention = AttentionMode::Hard, m.hard_in = {AttentionPlace::Cross};
  auto model = build_seq2seq(m, 20, 20);
  model->eval();
  auto src = torch::randint(4, 20, {3, 7}), tgt = torch::randint(4, 20, {3, 5});
  AttentionRecord record;
  model(src, tgt);
  int64_t cross = 0, soft = 0;
  for (const auto& r : record.named(*model)) {
    INFO(r.name);
    const auto peak = std::get<0>(r.weights.max(-1));                       // (B, H, Tq)
    if (r.name.find("cross_mha") != std::string::npos) {
      CHECK(peak.eq(1).all().item<bool>());                                 // one key per query
      ++cross;
    } else {
      CHECK(peak.lt(1).any().item<bool>());                                 // a mix somewhere
      ++soft;
    }
  }
  CHECK(cross == 2);
  CHECK(soft == 4);  // the encoder's two layers, the decoder's two causal self-attentions
  // --attention soft on the same model, then hard everywhere model.hard_in is not asked.
  use_attention(*model, m, AttentionMode::Soft);
  CHECK(set_attention_mode(*model, AttentionMode::Hard, {AttentionPlace::Cross, AttentionPlace::Pooling}) == 2);
  CHECK(set_attention_mode(*model, AttentionMode::Hard) == 6);
  // A beta schedule sharpens the same places only.
  use_beta(*model, m, 5.0);
  for (const auto& sub : model->modules())
    if (auto* mha = sub->as<MultiHeadAttentionImpl>())
      CHECK(mha->options.beta() == (mha->options.place() == AttentionPlace::Cross ? std::optional<double>(5.0)
                                                                                   : std::nullopt));
}

TEST_CASE("a beta schedule moves beta from model.beta to model.beta_end, linearly or by a constant factor",
          "[hard]") {
  ModelConfig m;
  m.d_model = 32, m.heads = 2;  // d_k 16: model.beta 0 starts at 1/4
  CHECK_FALSE(scheduled_beta(m, 5, 10).has_value());  // constant: the model keeps model.beta
  m.beta_schedule = BetaSchedule::Linear, m.beta_end = 10;
  CHECK(*scheduled_beta(m, 0, 11) == Approx(0.25));
  CHECK(*scheduled_beta(m, 5, 11) == Approx(0.25 + 0.5 * 9.75));
  CHECK(*scheduled_beta(m, 10, 11) == Approx(10));
  CHECK(*scheduled_beta(m, 11, 11) == Approx(10));  // after the last step (the last validation)
  m.beta_schedule = BetaSchedule::Exponential, m.beta = 0.5, m.beta_end = 8;
  CHECK(*scheduled_beta(m, 0, 5) == Approx(0.5));
  for (int64_t step = 1; step < 5; ++step)  // the same factor each step: 16^(1/4) = 2
    CHECK(*scheduled_beta(m, step, 5) == Approx(2 * *scheduled_beta(m, step - 1, 5)));
  CHECK(*scheduled_beta(m, 4, 5) == Approx(8));
}

TEST_CASE("seq2seq with tied output embeddings projects with the decoder's token embedding",
          "[seq2seq]") {
  attn::test::seed();
  Seq2Seq model(Seq2SeqOptions(EncoderOptions(EmbeddingsOptions(20, 8), LayerOptions(8, 2, 16), 1),
                               DecoderOptions(EmbeddingsOptions(25, 8), LayerOptions(8, 2, 16), 1))
                    .tie_output_embeddings(true));
  CHECK_FALSE(model->generator);
  auto h = torch::randn({2, 3, 8});
  auto expected = torch::matmul(h, model->decoder->embedding->word_embeddings->weight.t()) +
                  model->generator_bias;
  CHECK(max_abs_diff(model->project(h), expected) < 1e-5);
  auto src = torch::randint(2, 20, {2, 4}), tgt = torch::randint(2, 25, {2, 3});
  model(src, tgt).sum().backward();  // one weight, gradients from both of its uses
  CHECK(model->decoder->embedding->word_embeddings->weight.grad().abs().sum().item<double>() > 0);
}

// clone() as torch::nn's own modules give it: the same parameter names and values in tensors of
// its own, so that the copy computes what the original does and trains apart from it.
template <class Model, class Forward>
void check_clone(Model& model, Forward&& forward) {
  auto copy = std::dynamic_pointer_cast<typename Model::Impl>(model->clone());
  REQUIRE(copy);
  const auto mine = model->named_parameters(), theirs = copy->named_parameters();
  REQUIRE(mine.size() == theirs.size());
  for (const auto& p : mine) {
    const auto* q = theirs.find(p.key());
    REQUIRE(q);
    CHECK(torch::equal(p.value(), *q));
    CHECK(p.value().data_ptr() != q->data_ptr());
    CHECK(p.value().requires_grad() == q->requires_grad());
  }
  model->eval(), copy->eval();
  const auto before = forward(*model);
  CHECK(torch::equal(forward(*copy), before));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : copy->parameters()) p.add_(1.0);
  }
  CHECK(torch::equal(forward(*model), before));  // the original is untouched
}

TEST_CASE("clone() copies a model: same names and values, tensors of its own", "[models]") {
  attn::test::seed();
  for (const auto pooling : kPoolings) {
    auto model = small_classifier(pooling, Positions::Sinusoidal);
    const auto ids = torch::randint(2, 50, {3, 7});
    check_clone(model, [&](SetClassifierImpl& m) { return m.forward(ids); });
  }
  for (const bool tied : {false, true}) {
    Seq2Seq model(Seq2SeqOptions(EncoderOptions(EmbeddingsOptions(20, 8), LayerOptions(8, 2, 16).norm(NormPlacement::Pre), 2),
                                 DecoderOptions(EmbeddingsOptions(25, 8), LayerOptions(8, 2, 16).norm(NormPlacement::Pre), 1))
                      .tie_output_embeddings(tied));
    const auto src = torch::randint(2, 20, {2, 5}), tgt = torch::randint(2, 25, {2, 4});
    check_clone(model, [&](Seq2SeqImpl& m) { return m.forward(src, tgt); });
  }
}

TEST_CASE("models reject bad options with the values in the message", "[errors]") {
  auto enc = EncoderOptions(EmbeddingsOptions(10, 8), LayerOptions(8, 2, 8), 1);
  CHECK_THROWS_WITH(SetClassifier(SetClassifierOptions(enc, 1)),
                    Catch::Contains("num_classes must be at least 2, got 1"));
  auto dec = DecoderOptions(EmbeddingsOptions(10, 4), LayerOptions(4, 2, 8), 1);
  CHECK_THROWS_WITH(Seq2Seq(Seq2SeqOptions(enc, dec)),
                    Catch::Contains("the encoder has d_model 8 but the decoder has d_model 4"));
  CHECK_THROWS_WITH(parse<Pooling>("sum"),
                    Catch::Contains("pooling must be \"max\", \"mean\" or \"attention\", got \"sum\""));
}

}  // namespace test_models
