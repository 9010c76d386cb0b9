// The set classifier as a training task: IMDB, labelled files or the built-in set tasks.
#include <cstdio>

#include "attn/core/stopwatch.h"
#include "attn/data/batcher.h"
#include "attn/data/classify/classification_data.h"
#include "attn/infer/evaluate.h"
#include "attn/model/build.h"
#include "attn/train/task.h"

namespace attn {

namespace {

class ClassifyTask : public Task {
 public:
  ClassifyTask(const Config& cfg, const torch::Device& device, const CheckpointHeader* resume)
      : cfg_(cfg), device_(device) {
    const auto t0 = std::chrono::steady_clock::now();
    std::optional<Vocab> saved_vocab;
    if (resume) saved_vocab = Vocab::from_tokens(resume->vocab);
    auto raw = read_splits(cfg.data, cfg.seed);
    layout_ = raw.layout;
    data_ = prepare_classification(std::move(raw), cfg.data, saved_vocab ? &*saved_vocab : nullptr,
                                   resume ? &resume->labels : nullptr);
    data_seconds_ = seconds_since(t0);
    model_ = build_classifier(cfg.model, data_.vocab.size(), num_classes());
    model_->to(device);
  }

  torch::nn::Module& model() override { return *model_; }

  std::vector<std::string> describe() override {
    const auto& m = cfg_.model;
    char data[256], model[512];
    std::snprintf(data, sizeof data, "[data] %s: %zu train, %zu valid, %zu test | vocab %lld | %lld classes | %.1fs",
                  to_string(cfg_.data.kind).c_str(), data_.train.size(), data_.valid.size(), data_.test.size(),
                  static_cast<long long>(data_.vocab.size()), static_cast<long long>(num_classes()), data_seconds_);
    std::snprintf(model, sizeof model,
                  "[model] set classifier: d_model %lld, %lld heads, ffn %lld, %lld layer(s), %s attention, "
                  "positions %s, pooling %s | %lld trainable parameters",
                  static_cast<long long>(m.d_model), static_cast<long long>(m.heads),
                  static_cast<long long>(m.ffn_hidden), static_cast<long long>(m.layers), to_string(m.attention).c_str(),
                  to_string(m.positions).c_str(), to_string(m.pooling).c_str(), static_cast<long long>(count_trainable(*model_)));
    if (!layout_.empty()) return {data, "[data] " + layout_, model};
    return {data, model};
  }

  std::vector<std::vector<size_t>> epoch_batches(int64_t epoch) const override {
    return training_batches(lengths_of(data_.train), cfg_, epoch);
  }

  double units(const std::vector<size_t>& batch) const override { return double(batch.size()); }

  BatchLoss forward(const std::vector<size_t>& index) override {
    auto batch = make_batch(data_.train, index, cfg_.data, device_);
    auto logits = model_(batch.ids, batch.padding);                       // (B, C)
    auto loss = torch::nn::functional::cross_entropy(
        logits, batch.labels,
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(cfg_.train.label_smoothing));
    const double n = double(index.size());
    return {loss, loss.item<double>() * n, (logits.argmax(1) == batch.labels).sum().item<double>(), n};
  }

  bool has(Split split) const override { return !(split == Split::Valid ? data_.valid : data_.test).empty(); }

  nlohmann::json evaluate(Split split, std::string& summary) override {
    auto r = attn::evaluate(model_, split == Split::Valid ? data_.valid : data_.test, cfg_.data,
                            cfg_.train.batch_size, device_, num_classes());
    char line[128];
    std::snprintf(line, sizeof line, "loss %.4f | accuracy %.4f", r.loss, r.accuracy);
    summary = line;
    return r.to_json(data_.labels);
  }

  std::vector<std::string> metric_keys() const override { return {"loss", "accuracy"}; }

  void fill_header(CheckpointHeader& h) const override {
    h.vocab = data_.vocab.tokens();
    h.labels = data_.labels;
  }

  std::vector<ShownInput> attention_examples(size_t n) override {
    std::vector<ShownInput> out;
    for (size_t i = 0; i < std::min(n, data_.valid.size()); ++i) {
      out.push_back(show_classifier_example(model_, data_.vocab, data_.labels, cfg_.data, data_.valid[i].ids));
      for (const auto& t : out.back().tokens)  // the text as the model read it
        if (t != data_.vocab.token(Vocab::kPad)) out.back().text += (out.back().text.empty() ? "" : " ") + t;
    }
    return out;
  }

 private:
  int64_t num_classes() const { return static_cast<int64_t>(data_.labels.size()); }
  std::string layout_;

  Config cfg_;
  torch::Device device_;
  ClassificationData data_;
  SetClassifier model_{nullptr};
  double data_seconds_ = 0;
};

}  // namespace

std::unique_ptr<Task> make_classify_task(const Config& config, const torch::Device& device,
                                         const CheckpointHeader* resume, int /*threads: none used*/) {
  return std::make_unique<ClassifyTask>(config, device, resume);
}

}  // namespace attn
