#include "attn/infer/evaluate_seq2seq.h"

#include <chrono>
#include <cmath>

#include "attn/core/stopwatch.h"
#include "attn/data/batcher.h"

namespace attn {

Seq2SeqEvalResult evaluate_seq2seq(Seq2Seq& model, const std::vector<EncodedPair>& data,
                                   const std::vector<std::string>& references, const TextCodec& target_codec,
                                   int64_t batch_size, const torch::Device& device, bool decode,
                                   const SearchOptions& search) {
  const auto start = std::chrono::steady_clock::now();
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  Seq2SeqEvalResult r;
  r.count = static_cast<int64_t>(data.size());
  std::vector<size_t> lengths(data.size());
  for (size_t i = 0; i < data.size(); ++i) lengths[i] = data[i].source.size();
  // Batches of similar source lengths (less padding); results go back to data order.
  const auto batches = epoch_batches(lengths, batch_size, 0, 0, /*shuffle=*/false, /*bucket=*/true);
  double loss_sum = 0, correct = 0;
  std::vector<std::vector<int64_t>> outputs(data.size());
  double decode_seconds = 0;
  for (const auto& index : batches) {
    auto b = make_pair_batch(data, index, device);
    // Unsmoothed: the loss and perplexity of the model's distribution.
    auto l = model->loss(b.source, b.target_in, b.target_out, b.source_padding, b.target_padding, 0.0);
    loss_sum += l.loss.item<double>() * static_cast<double>(l.tokens);
    correct += static_cast<double>(l.correct);
    r.tokens += l.tokens;
    if (decode) {
      const auto t0 = std::chrono::steady_clock::now();
      auto hyps = translate(model, b.source, b.source_padding, search);
      decode_seconds += seconds_since(t0);
      for (size_t k = 0; k < index.size(); ++k) outputs[index[k]] = std::move(hyps[k].tokens);
    }
  }
  r.loss = r.tokens ? loss_sum / double(r.tokens) : 0;
  r.perplexity = std::exp(r.loss);
  r.accuracy = r.tokens ? correct / double(r.tokens) : 0;
  if (decode) {
    r.decoded = true;
    r.decode_seconds = decode_seconds;
    BleuAccumulator cased, lower(BleuOptions{/*lowercase=*/true});
    int64_t exact = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      r.hypotheses.push_back(target_codec.decode(outputs[i]));
      cased.add(r.hypotheses.back(), {references[i]});
      lower.add(r.hypotheses.back(), {references[i]});
      exact += outputs[i] == data[i].target;
    }
    r.bleu = cased.score();
    r.bleu_lowercase = lower.score();
    r.exact_match = data.empty() ? 0 : double(exact) / double(data.size());
  }
  model->train(was_training);
  r.seconds = seconds_since(start);
  return r;
}

nlohmann::json Seq2SeqEvalResult::to_json() const {
  nlohmann::json j = {{"loss", loss}, {"perplexity", perplexity}, {"accuracy", accuracy},
                      {"count", count}, {"tokens", tokens}, {"seconds", seconds}};
  if (decoded) {
    auto score = [](const BleuScore& s) {
      return nlohmann::json{{"score", s.score}, {"precisions", s.precisions}, {"brevity_penalty", s.brevity_penalty},
                            {"hyp_len", s.hyp_len}, {"ref_len", s.ref_len}, {"text", s.to_string()}};
    };
    j["bleu"] = bleu.score;
    j["bleu_lowercase"] = bleu_lowercase.score;
    j["exact_match"] = exact_match;
    j["bleu_detail"] = score(bleu);
    j["bleu_lowercase_detail"] = score(bleu_lowercase);
    j["decode_seconds"] = decode_seconds;
  }
  return j;
}

}  // namespace attn
