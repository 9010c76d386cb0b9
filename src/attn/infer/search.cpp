#include "attn/infer/search.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace attn {

namespace {

constexpr int64_t kPad = 1, kBos = 2, kEos = 3;  // <pad> and <s> are adjacent
static_assert(kBos == kPad + 1);
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Each sentence's longest output, </s> included: a * source length + b, at least 1.
std::vector<int64_t> length_limits(const torch::Tensor& src, const torch::Tensor& src_padding,
                                   const SearchOptions& o) {
  const int64_t B = src.size(0), S = src.size(1);
  auto lengths = src_padding.defined() ? (~src_padding).sum(1).cpu()                  // (B)
                                       : torch::full({B}, S, torch::kLong);
  std::vector<int64_t> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    auto n = static_cast<int64_t>(std::floor(o.max_len_a * double(lengths[b].item<int64_t>()))) + o.max_len_b;
    if (o.max_len_cap > 0) n = std::min(n, o.max_len_cap);
    out[static_cast<size_t>(b)] = std::max<int64_t>(n, 1);
  }
  return out;
}

// Next-token log-probabilities for a batch of prefixes, from the cache or recomputed.
class Stepper {
 public:
  Stepper(Seq2Seq& model, torch::Tensor memory, torch::Tensor src_padding, bool use_cache)
      : model_(model), memory_(std::move(memory)), src_padding_(std::move(src_padding)), cached_(use_cache) {
    if (cached_) cache_ = model_->start_decoding(memory_);
  }
  /// prefix (R, t) starting with <s> -> log p(next | prefix) (R, V)
  torch::Tensor next(const torch::Tensor& prefix) {
    torch::Tensor logits;
    if (cached_) logits = model_->decode_step(prefix.slice(1, prefix.size(1) - 1), cache_, src_padding_);
    else logits = model_->decode(prefix, memory_, src_padding_).select(1, prefix.size(1) - 1);  // (R, V)
    auto logp = torch::log_softmax(logits.to(torch::kFloat), -1);                            // (R, V)
    // <pad> and <s> are never outputs.
    logp.narrow(1, kPad, 2).fill_(kNegInf);
    return logp;
  }
  /// Row r continues row index[r], a row of the same sentence (beam search reorders its
  /// hypotheses): the memory, its padding and the cross-attention caches, the same for every
  /// row of a sentence, stay where they are.
  void reorder_within_sentences(const torch::Tensor& index) {
    if (cached_) cache_.reorder_within_sentences(index);
  }

 private:
  Seq2Seq& model_;
  torch::Tensor memory_, src_padding_;
  bool cached_;
  DecoderCache cache_;
};

// Rows whose next token is their last allowed one may only end the sentence.
torch::Tensor force_eos(torch::Tensor logp, const std::vector<int64_t>& limits, int64_t rows_per_sentence,
                        int64_t step) {
  std::vector<uint8_t> at_limit(static_cast<size_t>(logp.size(0)));
  bool any = false;
  for (size_t r = 0; r < at_limit.size(); ++r)
    any |= (at_limit[r] = step + 1 >= limits[r / static_cast<size_t>(rows_per_sentence)]) != 0;
  if (!any) return logp;
  auto rows = torch::from_blob(at_limit.data(), {logp.size(0)}, torch::kUInt8).to(torch::kBool).to(logp.device());
  auto not_eos = torch::arange(logp.size(1), logp.options().dtype(torch::kLong)) != kEos;      // (V)
  return logp.masked_fill(rows.unsqueeze(1) & not_eos.unsqueeze(0), kNegInf);                 // (R, V)
}

std::vector<int64_t> row_tokens(const torch::Tensor& prefix, int64_t row) {
  auto r = prefix[row].slice(0, 1).cpu();  // without <s>
  return {r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + r.numel()};
}

}  // namespace

SearchOptions search_options(const Config& cfg, int64_t beam_size) {
  SearchOptions o;
  o.beam_size = beam_size;
  o.length_penalty = cfg.decode.length_penalty;
  o.max_len_a = cfg.decode.max_len_a;
  o.max_len_b = cfg.decode.max_len_b;
  // The decoder's position table bounds the output length.
  if (cfg.model.decoder_positions != Positions::None) o.max_len_cap = cfg.model.max_positions;
  return o;
}

std::vector<Hypothesis> greedy_search(Seq2Seq& model, const torch::Tensor& src,
                                      const torch::Tensor& src_padding, const SearchOptions& o) {
  torch::NoGradGuard no_grad;
  const int64_t B = src.size(0);
  const auto limits = length_limits(src, src_padding, o);
  Stepper stepper(model, model->encode(src, src_padding), src_padding, o.use_cache);
  auto prefix = torch::full({B, 1}, kBos, src.options());                                      // (B, 1)
  std::vector<Hypothesis> out(static_cast<size_t>(B));
  std::vector<bool> finished(static_cast<size_t>(B), false);
  int64_t left = B;
  const int64_t steps = *std::max_element(limits.begin(), limits.end());
  for (int64_t t = 0; t < steps && left > 0; ++t) {
    auto logp = force_eos(stepper.next(prefix), limits, 1, t);                                // (B, V)
    auto [best, token] = logp.max(1);                                                         // (B), (B)
    auto best_cpu = best.to(torch::kDouble).cpu(), token_cpu = token.cpu();
    auto best_at = best_cpu.accessor<double, 1>();
    auto token_at = token_cpu.accessor<int64_t, 1>();
    for (int64_t b = 0; b < B; ++b) {
      if (finished[static_cast<size_t>(b)]) {
        token_at[b] = kPad;
        continue;
      }
      auto& h = out[static_cast<size_t>(b)];
      h.score += best_at[b];
      const auto tok = token_at[b];
      if (tok == kEos) finished[static_cast<size_t>(b)] = true, --left;
      else h.tokens.push_back(tok);
    }
    prefix = torch::cat({prefix, token_cpu.to(src.device()).unsqueeze(1)}, 1);                 // (B, t + 2)
  }
  return out;
}

std::vector<Hypothesis> beam_search(Seq2Seq& model, const torch::Tensor& src,
                                    const torch::Tensor& src_padding, const SearchOptions& o) {
  torch::NoGradGuard no_grad;
  const int64_t B = src.size(0), K = o.beam_size;
  const auto limits = length_limits(src, src_padding, o);
  // K rows per sentence: sentence b owns rows b*K .. b*K + K-1.
  auto expand = torch::arange(B, src.options().dtype(torch::kLong)).repeat_interleave(K);   // (B*K)
  auto memory = model->encode(src, src_padding).index_select(0, expand);                   // (B*K, S, D)
  Stepper stepper(model, memory, src_padding.defined() ? src_padding.index_select(0, expand) : src_padding,
                  o.use_cache);
  auto prefix = torch::full({B * K, 1}, kBos, src.options());                                 // (B*K, 1)
  // At the start only the first row of each sentence is live (the others would repeat it).
  std::vector<float> scores(static_cast<size_t>(B * K), kNegInf);
  for (int64_t b = 0; b < B; ++b) scores[static_cast<size_t>(b * K)] = 0;

  struct Finished {
    Hypothesis h;
    double normalized;
  };
  std::vector<std::vector<Finished>> finished(static_cast<size_t>(B));
  std::vector<bool> done(static_cast<size_t>(B), false);
  int64_t left = B;
  const int64_t steps = *std::max_element(limits.begin(), limits.end());
  for (int64_t t = 0; t < steps && left > 0; ++t) {
    auto logp = force_eos(stepper.next(prefix), limits, K, t);                                // (B*K, V)
    const int64_t V = logp.size(1);
    auto score_t = torch::from_blob(scores.data(), {B * K, 1}, torch::kFloat).to(logp.device());
    auto cand = (score_t + logp).view({B, K * V});                                            // (B, K*V)
    auto [top_v, top_i] = cand.topk(std::min(2 * K, K * V), 1);                               // (B, 2K)
    top_v = top_v.cpu(), top_i = top_i.cpu();
    const int64_t C = top_v.size(1);
    auto tv = top_v.accessor<float, 2>();
    auto ti = top_i.accessor<int64_t, 2>();

    std::vector<int64_t> rows(static_cast<size_t>(B * K)), tokens(static_cast<size_t>(B * K), kPad);
    std::vector<float> next_scores(static_cast<size_t>(B * K), kNegInf);
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = 0;
      if (!done[static_cast<size_t>(b)]) {
        for (int64_t j = 0; j < C && n < K; ++j) {
          const float v = tv[b][j];
          if (v == kNegInf) break;
          const int64_t beam = ti[b][j] / V, tok = ti[b][j] % V, row = b * K + beam;
          if (tok == kEos) {
            // An ending counts only among the K best candidates (as in fairseq).
            if (j < K)
              finished[static_cast<size_t>(b)].push_back(
                  {{row_tokens(prefix, row), double(v)}, double(v) / std::pow(double(t + 1), o.length_penalty)});
            continue;
          }
          rows[static_cast<size_t>(b * K + n)] = row;
          tokens[static_cast<size_t>(b * K + n)] = tok;
          next_scores[static_cast<size_t>(b * K + n)] = v;
          ++n;
        }
        // Done when no hypothesis is live, or K have ended and none of the live ones can beat
        // the K-th best of them (the best live score, normalized at its present length).
        auto& f = finished[static_cast<size_t>(b)];
        bool stop = n == 0;
        if (!stop && static_cast<int64_t>(f.size()) >= K) {
          std::vector<double> norm;
          for (const auto& x : f) norm.push_back(x.normalized);
          std::nth_element(norm.begin(), norm.begin() + (K - 1), norm.end(), std::greater<double>());
          const double best_live = double(next_scores[static_cast<size_t>(b * K)]) /
                                   std::pow(double(t + 1), o.length_penalty);
          stop = norm[static_cast<size_t>(K - 1)] >= best_live;
        }
        if (stop) done[static_cast<size_t>(b)] = true, --left;
      }
      for (; n < K; ++n) rows[static_cast<size_t>(b * K + n)] = b * K;  // idle rows
      if (done[static_cast<size_t>(b)])
        for (int64_t k = 0; k < K; ++k) next_scores[static_cast<size_t>(b * K + k)] = kNegInf;
    }
    auto index = torch::tensor(rows, torch::kLong).to(src.device());                          // (B*K)
    stepper.reorder_within_sentences(index);
    auto next = torch::tensor(tokens, torch::kLong).to(src.device()).unsqueeze(1);            // (B*K, 1)
    prefix = torch::cat({prefix.index_select(0, index), next}, 1);                            // (B*K, t + 2)
    scores = next_scores;
  }

  std::vector<Hypothesis> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    auto& f = finished[static_cast<size_t>(b)];
    if (f.empty()) continue;  // cannot happen: the length limit forces an ending
    auto best = std::max_element(f.begin(), f.end(),
                                 [](const Finished& x, const Finished& y) { return x.normalized < y.normalized; });
    out[static_cast<size_t>(b)] = best->h;
  }
  return out;
}

std::vector<Hypothesis> translate(Seq2Seq& model, const torch::Tensor& src, const torch::Tensor& src_padding,
                                  const SearchOptions& options) {
  return options.beam_size <= 1 ? greedy_search(model, src, src_padding, options)
                                : beam_search(model, src, src_padding, options);
}

}  // namespace attn
