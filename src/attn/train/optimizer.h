// The optimizer a run config's train section describes.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <vector>

#include "attn/config/config.h"

namespace attn {

/// AdamW (decoupled weight decay) or SGD with momentum, over the given parameters.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainConfig& t, std::vector<torch::Tensor> params);

/// The parameters of `model` that train (the sinusoid table does not).
std::vector<torch::Tensor> trainable_parameters(torch::nn::Module& model);

}  // namespace attn
