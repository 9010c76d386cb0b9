#include "attn/infer/evaluate.h"

#include <chrono>

#include "attn/core/stopwatch.h"
#include "attn/data/batcher.h"

namespace attn {

EvalResult evaluate(SetClassifier& model, const std::vector<EncodedExample>& data,
                    const DataConfig& config, int64_t batch_size, const torch::Device& device,
                    int64_t num_classes) {
  const auto start = std::chrono::steady_clock::now();
  const bool was_training = model->is_training();
  model->eval();
  torch::NoGradGuard no_grad;
  EvalResult r;
  const auto C = static_cast<size_t>(num_classes);
  r.confusion.assign(C, std::vector<int64_t>(C, 0));
  double loss_sum = 0;
  // Batches of similar lengths: the metrics do not depend on the order, the cost of padding
  // does. Unless padding is unmasked and variable (then a batch's outputs depend on its
  // longest member, so the data order is kept).
  const bool bucket = config.mask_padding || config.fixed_length;
  for (const auto& index : epoch_batches(data, batch_size, 0, 0, /*shuffle=*/false, bucket)) {
    auto batch = make_batch(data, index, config, device);
    auto logits = model(batch.ids, batch.padding);                         // (B, C)
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, batch.labels,
                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    auto predicted = logits.argmax(1).cpu();                               // (B)
    auto truth = batch.labels.cpu();                                       // (B)
    const auto* p = predicted.data_ptr<int64_t>();
    const auto* t = truth.data_ptr<int64_t>();
    for (int64_t i = 0; i < predicted.size(0); ++i) ++r.confusion[t[i]][p[i]];
  }
  r.count = static_cast<int64_t>(data.size());
  int64_t correct = 0;
  for (size_t c = 0; c < C; ++c) {
    int64_t predicted_c = 0, true_c = 0;
    for (size_t k = 0; k < C; ++k) predicted_c += r.confusion[k][c], true_c += r.confusion[c][k];
    correct += r.confusion[c][c];
    r.precision.push_back(predicted_c ? double(r.confusion[c][c]) / double(predicted_c) : 0.0);
    r.recall.push_back(true_c ? double(r.confusion[c][c]) / double(true_c) : 0.0);
  }
  r.loss = r.count ? loss_sum / double(r.count) : 0;
  r.accuracy = r.count ? double(correct) / double(r.count) : 0;
  model->train(was_training);
  r.seconds = seconds_since(start);
  return r;
}

nlohmann::json EvalResult::to_json(const std::vector<std::string>& labels) const {
  nlohmann::json per_class = nlohmann::json::object();
  for (size_t c = 0; c < labels.size() && c < precision.size(); ++c)
    per_class[labels[c]] = {{"precision", precision[c]}, {"recall", recall[c]}};
  return {{"loss", loss},          {"accuracy", accuracy}, {"count", count},
          {"per_class", per_class}, {"confusion", confusion}, {"labels", labels},
          {"seconds", seconds}};
}

}  // namespace attn
