// Evaluation of a set classifier: loss, accuracy, per-class precision and recall, and the
// confusion matrix. Accuracy is over examples (the notebook averages per-batch accuracies,
// which differs only through the last, smaller batch).
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attn/config/config.h"
#include "attn/data/classify/classification_data.h"
#include "attn/model/set_classifier.h"

namespace attn {

struct EvalResult {
  double loss = 0;
  double accuracy = 0;
  int64_t count = 0;
  std::vector<std::vector<int64_t>> confusion;  ///< [true class][predicted class]
  std::vector<double> precision, recall;        ///< per class; 0 where undefined
  double seconds = 0;

  nlohmann::json to_json(const std::vector<std::string>& labels) const;
};

/// Runs the model in eval mode (no dropout, no gradient) over `data`, batched by length
/// where padding is masked or fixed.
EvalResult evaluate(SetClassifier& model, const std::vector<EncodedExample>& data,
                    const DataConfig& config, int64_t batch_size, const torch::Device& device,
                    int64_t num_classes);

}  // namespace attn
