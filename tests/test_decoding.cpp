// Translation: incremental decoding with cached keys and values equals recomputing the whole
// prefix, greedy and beam search (beam 1 = greedy), length limits, padding, hard attention.
#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "attn/infer/search.h"
#include "attn/model/seq2seq.h"
#include "support.h"

// The whole file in a namespace of its own: the unity build compiles several test files as one.
namespace test_decoding {

using namespace attn;
using attn::test::max_abs_diff;

namespace {

constexpr int64_t kSrcVocab = 23, kTgtVocab = 19;

// A random encoder-decoder (float64, eval mode); source ids from 4 (past the specials).
Seq2Seq random_model(NormPlacement norm, bool tied, int64_t layers = 2) {
  auto layer = LayerOptions(16, 4, 32).norm(norm);
  Seq2Seq model(Seq2SeqOptions(EncoderOptions(EmbeddingsOptions(kSrcVocab, 16).positions(Positions::None), layer, layers),
                               DecoderOptions(EmbeddingsOptions(kTgtVocab, 16), layer, layers))
                    .tie_output_embeddings(tied));
  model->to(torch::kFloat64);
  model->eval();
  // Sharper outputs than at initialisation, so that searches make real choices.
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.mul_(2.0);
  return model;
}

// Two sources of lengths 6 and 4 (padded), and their padding mask.
std::pair<torch::Tensor, torch::Tensor> sources() {
  auto src = torch::randint(4, kSrcVocab, {2, 6});                         // (2, 6)
  src[1].narrow(0, 4, 2).fill_(1);
  auto padding = src.eq(1);                                                // (2, 6)
  return {src, padding};
}

}  // namespace

TEST_CASE("cached decoding steps give the logits of recomputing the whole prefix (float64)",
          "[decoding][cache]") {
  attn::test::seed();
  for (auto norm : {NormPlacement::Post, NormPlacement::Pre}) {
    for (bool tied : {false, true}) {
      auto model = random_model(norm, tied);
      auto [src, pad] = sources();
      auto tgt = torch::randint(4, kTgtVocab, {2, 7});                     // (2, 7)
      tgt.select(1, 0).fill_(2);                                           // <s>
      torch::NoGradGuard no_grad;
      auto memory = model->encode(src, pad);                               // (2, 6, 16)
      auto full = model->decode(tgt, memory, pad);                         // (2, 7, V)
      auto cache = model->start_decoding(memory);
      for (int64_t t = 0; t < 7; ++t) {
        auto step = model->decode_step(tgt.narrow(1, t, 1), cache, pad);   // (2, V)
        INFO("norm " << to_string(norm) << ", tied " << tied << ", step " << t);
        CHECK(max_abs_diff(step, full.select(1, t)) < 1e-10);
      }
      CHECK(cache.length == 7);
    }
  }
}

TEST_CASE("the key/value cache grows past its first room (64 positions) and still equals recomputation",
          "[decoding][cache]") {
  attn::test::seed();
  auto model = random_model(NormPlacement::Pre, true);
  auto [src, pad] = sources();
  const int64_t T = 140;  // the room grows twice: 64 -> 130 -> 262 positions
  auto tgt = torch::randint(4, kTgtVocab, {2, T});                         // (2, T)
  torch::NoGradGuard no_grad;
  auto memory = model->encode(src, pad);                                   // (2, 6, 16)
  auto full = model->decode(tgt, memory, pad);                             // (2, T, V)
  auto cache = model->start_decoding(memory);
  for (int64_t t = 0; t < T; ++t) {
    INFO("step " << t);
    CHECK(max_abs_diff(model->decode_step(tgt.narrow(1, t, 1), cache, pad), full.select(1, t)) < 1e-10);
  }
  CHECK(cache.layers[0].self.k.size(2) == T);
  CHECK(cache.layers[0].self.k_room.size(2) == 262);
  // Rows reordered (beam search's select) keep their keys and room.
  const auto swap = torch::tensor({int64_t(1), int64_t(0)});
  const auto k_before = cache.layers[0].self.k.clone();
  cache.reorder_within_sentences(swap);
  CHECK(torch::equal(cache.layers[0].self.k, k_before.index_select(0, swap)));
  CHECK(cache.layers[0].self.k_room.size(2) == 262);
}

TEST_CASE("cached decoding equals recomputation under hard attention too", "[decoding][cache][hard]") {
  attn::test::seed();
  auto model = random_model(NormPlacement::Post, true);
  set_attention_mode(*model, AttentionMode::Hard);
  auto [src, pad] = sources();
  auto tgt = torch::randint(4, kTgtVocab, {2, 5});
  torch::NoGradGuard no_grad;
  auto memory = model->encode(src, pad);
  auto full = model->decode(tgt, memory, pad);
  auto cache = model->start_decoding(memory);
  for (int64_t t = 0; t < 5; ++t)
    CHECK(max_abs_diff(model->decode_step(tgt.narrow(1, t, 1), cache, pad), full.select(1, t)) < 1e-10);
}

TEST_CASE("greedy and beam search give the same translations with and without the cache",
          "[decoding][cache][beam]") {
  attn::test::seed();
  auto model = random_model(NormPlacement::Post, false);
  auto [src, pad] = sources();
  for (int64_t beam : {1, 4}) {
    SearchOptions o;
    o.beam_size = beam;
    o.max_len_a = 1.0, o.max_len_b = 3;
    auto cached = translate(model, src, pad, o);
    o.use_cache = false;
    auto uncached = translate(model, src, pad, o);
    REQUIRE(cached.size() == 2);
    for (size_t i = 0; i < 2; ++i) {
      INFO("beam " << beam << ", sentence " << i);
      CHECK(cached[i].tokens == uncached[i].tokens);
      CHECK(cached[i].score == Approx(uncached[i].score).epsilon(1e-9));
    }
  }
}

TEST_CASE("beam search with beam 1 is greedy search", "[decoding][beam]") {
  attn::test::seed();
  for (int trial = 0; trial < 3; ++trial) {
    auto model = random_model(NormPlacement::Pre, true);
    auto [src, pad] = sources();
    SearchOptions o;
    o.max_len_a = 2.0, o.max_len_b = 2;
    auto greedy = greedy_search(model, src, pad, o);
    o.beam_size = 1;
    auto beam = beam_search(model, src, pad, o);
    for (size_t i = 0; i < 2; ++i) {
      CHECK(beam[i].tokens == greedy[i].tokens);
      CHECK(beam[i].score == Approx(greedy[i].score).epsilon(1e-5));  // summed in float32 on the beam
    }
  }
}

TEST_CASE("outputs respect the length limit a * source length + b", "[decoding]") {
  attn::test::seed();
  auto model = random_model(NormPlacement::Post, false);
  auto [src, pad] = sources();  // lengths 6 and 4
  // Forbid an early end: the bias of </s> very low, so every output runs to its limit.
  torch::NoGradGuard no_grad;
  model->generator->bias[3].fill_(-1e9);
  for (int64_t beam : {1, 3}) {
    SearchOptions o;
    o.beam_size = beam;
    o.max_len_a = 0.5, o.max_len_b = 2;  // 5 and 4 tokens with </s>: 4 and 3 without
    auto out = translate(model, src, pad, o);
    CHECK(out[0].tokens.size() == 4);
    CHECK(out[1].tokens.size() == 3);
  }
}

TEST_CASE("a sentence translates the same alone and in a padded batch", "[decoding][masks]") {
  attn::test::seed();
  auto model = random_model(NormPlacement::Post, true);
  auto [src, pad] = sources();
  SearchOptions o;
  o.beam_size = 3;
  auto batch = translate(model, src, pad, o);
  auto alone = translate(model, src.narrow(0, 1, 1).narrow(1, 0, 4), torch::Tensor(), o);
  CHECK(alone[0].tokens == batch[1].tokens);
  CHECK(alone[0].score == Approx(batch[1].score).epsilon(1e-6));
}

TEST_CASE("a beam wide enough to keep every prefix finds the most probable output", "[decoding][beam]") {
  // Outputs of at most 2 tokens and </s>; a beam of V*V rows keeps every prefix, so beam
  // search is exhaustive: with length_penalty 0 its best score is the maximum over all outputs,
  // checked here by enumerating them, and it is at least greedy's.
  attn::test::seed();
  auto model = random_model(NormPlacement::Post, false, 1);
  auto [src, pad] = sources();
  SearchOptions o;
  o.length_penalty = 0, o.max_len_a = 0, o.max_len_b = 3;
  auto greedy = greedy_search(model, src, pad, o);
  o.beam_size = kTgtVocab * kTgtVocab;
  auto beam = beam_search(model, src, pad, o);
  torch::NoGradGuard no_grad;
  auto memory = model->encode(src, pad);
  auto logp = [&](const std::vector<int64_t>& prefix) {  // log p(next | prefix) (2, V)
    auto ids = torch::tensor(prefix).unsqueeze(0).expand({2, -1}).contiguous();
    return torch::log_softmax(model->decode(ids, memory, pad).select(1, -1), -1);
  };
  std::vector<int64_t> words = {0};  // <unk> and the ordinary tokens; never <pad> or <s>
  for (int64_t a = 4; a < kTgtVocab; ++a) words.push_back(a);
  for (int64_t i = 0; i < 2; ++i) {
    auto p0 = logp({2})[i];
    double best = p0[3].item<double>();  // </s> at once
    for (int64_t a : words) {
      auto p1 = logp({2, a})[i];
      best = std::max(best, p0[a].item<double>() + p1[3].item<double>());
      for (int64_t b : words)
        best = std::max(best, p0[a].item<double>() + p1[b].item<double>() + logp({2, a, b})[i][3].item<double>());
    }
    CHECK(beam[static_cast<size_t>(i)].score == Approx(best).epsilon(1e-5));
    CHECK(beam[static_cast<size_t>(i)].score >= greedy[static_cast<size_t>(i)].score - 1e-5);
  }
}

}  // namespace test_decoding
