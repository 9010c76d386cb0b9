// The encoder-decoder as a training task: teacher forcing with the causal mask on the decoder's
// self-attention and padding masks everywhere; validation reports loss, perplexity, token
// accuracy, and BLEU and exact match of greedy translations; the test split is translated
// with the config's beam search.
#include <chrono>
#include <cstdio>

#include "attn/core/stopwatch.h"
#include "attn/data/batcher.h"
#include "attn/data/seq2seq/seq2seq_data.h"
#include "attn/infer/evaluate_seq2seq.h"
#include "attn/model/build.h"
#include "attn/train/task.h"

namespace attn {

namespace {

class Seq2SeqTask : public Task {
 public:
  Seq2SeqTask(const Config& cfg, const torch::Device& device, const CheckpointHeader* resume, int threads)
      : cfg_(cfg), device_(device) {
    const auto t0 = std::chrono::steady_clock::now();
    std::shared_ptr<TextCodec> src, tgt;
    if (resume) {
      src = codec_from_json(resume->codecs.at("source"));
      const auto& t = resume->codecs.at("target");
      tgt = t.is_null() ? src : codec_from_json(t);  // null: the joint codec
    }
    data_ = prepare_seq2seq(read_pair_splits(cfg.data, cfg.seed), cfg.data, src, tgt, threads);
    data_seconds_ = seconds_since(t0);
    model_ = build_seq2seq(cfg.model, data_.source_codec->size(), data_.target_codec->size());
    model_->to(device);
    lengths_.reserve(data_.train.size());
    for (const auto& p : data_.train) lengths_.push_back(std::max(p.source.size(), p.target.size()));
  }

  torch::nn::Module& model() override { return *model_; }

  std::vector<std::string> describe() override {
    const auto& m = cfg_.model;
    char data[512], model[512];
    std::snprintf(data, sizeof data,
                  "[data] %s: %zu train (%lld dropped as longer than %lld/%lld tokens, %lld empty), %zu valid, "
                  "%zu test | source %s%s | %.1fs",
                  to_string(cfg_.data.kind).c_str(), data_.train.size(), static_cast<long long>(data_.dropped_train),
                  static_cast<long long>(cfg_.data.max_len), static_cast<long long>(cfg_.data.max_target_len),
                  static_cast<long long>(data_.skipped_empty), data_.valid.size(), data_.test.size(),
                  data_.source_codec->describe().c_str(),
                  data_.source_codec == data_.target_codec ? " (joint)"
                                                           : (", target " + data_.target_codec->describe()).c_str(),
                  data_seconds_);
    std::snprintf(model, sizeof model,
                  "[model] encoder-decoder: d_model %lld, %lld heads, ffn %lld, %lld+%lld layers, %s attention, "
                  "positions %s/%s, %s output | %lld trainable parameters",
                  static_cast<long long>(m.d_model), static_cast<long long>(m.heads),
                  static_cast<long long>(m.ffn_hidden), static_cast<long long>(m.layers),
                  static_cast<long long>(m.decoder_layers > 0 ? m.decoder_layers : m.layers), to_string(m.attention).c_str(),
                  to_string(m.positions).c_str(), to_string(m.decoder_positions).c_str(), m.tie_embeddings ? "tied" : "separate",
                  static_cast<long long>(count_trainable(*model_)));
    std::vector<std::string> lines = {data, model};
    if (data_.dropped_valid > 0)
      lines.push_back("[data] " + std::to_string(data_.dropped_valid) + " validation pairs longer than " +
                      std::to_string(cfg_.data.valid_max_len) + " tokens left out");
    return lines;
  }

  std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) const override {
    return training_batches(lengths_, cfg_, epoch);
  }

  double units(const std::vector<size_t>& batch) const override {
    double n = 0;
    for (size_t i : batch) n += double(data_.train[i].target.size() + 1);  // </s> included
    return n;
  }

  BatchLoss forward(const std::vector<size_t>& index) override {
    auto b = make_pair_batch(data_.train, index, device_);
    auto r = model_->loss(b.source, b.target_in, b.target_out, b.source_padding, b.target_padding,
                          cfg_.train.label_smoothing);
    const double n = static_cast<double>(r.tokens);
    return {r.loss, r.loss.item<double>() * n, static_cast<double>(r.correct), n};
  }

  bool has(Split split) const override { return !(split == Split::Valid ? data_.valid : data_.test).empty(); }

  nlohmann::json evaluate(Split split, std::string& summary) override {
    const bool valid = split == Split::Valid;
    // Validation translates greedily (cheap, and enough to rank checkpoints); the test split
    // with the configured beam.
    auto r = evaluate_seq2seq(model_, valid ? data_.valid : data_.test,
                              valid ? data_.valid_references : data_.test_references, *data_.target_codec,
                              cfg_.decode.batch_size, device_, /*decode=*/true,
                              search_options(cfg_, valid ? 1 : cfg_.decode.beam_size));
    char line[256];
    std::snprintf(line, sizeof line, "loss %.4f | ppl %.2f | accuracy %.4f | BLEU %.2f (lower-cased %.2f) | exact %.4f%s",
                  r.loss, r.perplexity, r.accuracy, r.bleu.score, r.bleu_lowercase.score, r.exact_match,
                  valid ? " | greedy" : (" | beam " + std::to_string(cfg_.decode.beam_size)).c_str());
    summary = line;
    return r.to_json();
  }

  std::vector<std::string> metric_keys() const override {
    return {"loss", "accuracy", "perplexity", "bleu", "bleu_lowercase", "exact_match"};
  }

  std::vector<ShownInput> attention_examples(size_t n) override {
    std::vector<ShownInput> out;
    for (size_t i = 0; i < std::min(n, data_.valid.size()); ++i)  // greedy, as the validation decodes
      out.push_back(show_seq2seq_example(model_, *data_.source_codec, *data_.target_codec, data_.valid[i].source,
                                         search_options(cfg_, 1)));
    return out;
  }

  void fill_header(CheckpointHeader& h) const override {
    const bool joint = data_.source_codec == data_.target_codec;
    h.codecs = {{"source", data_.source_codec->to_json()},
                {"target", joint ? nlohmann::json() : data_.target_codec->to_json()}};
  }

 private:
  Config cfg_;
  torch::Device device_;
  Seq2SeqData data_;
  Seq2Seq model_{nullptr};
  std::vector<size_t> lengths_;
  double data_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_seq2seq_task(const Config& config, const torch::Device& device,
                                        const CheckpointHeader* resume, int threads) {
  return std::make_unique<Seq2SeqTask>(config, device, resume, threads);
}

}  // namespace attn
