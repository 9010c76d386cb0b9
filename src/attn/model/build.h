// Models from the run config's typed model section.
#pragma once

#include <torch/torch.h>

#include "attn/config/config.h"
#include "attn/model/set_classifier.h"

namespace attn {

/// The layer options a model config describes.
LayerOptions layer_options(const ModelConfig& m);

/// The set classifier a model config describes, for a vocabulary and a number of classes.
SetClassifier build_classifier(const ModelConfig& m, int64_t vocab_size, int64_t num_classes);

/// Parameters that train (the sinusoid table does not).
int64_t count_trainable(torch::nn::Module& model);

}  // namespace attn
