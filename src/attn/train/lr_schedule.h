// The learning rate at each optimizer step: optional linear warmup, then constant, cosine or
// linear decay to lr * min_lr_ratio, or inverse square root (the "Attention is all you need" one).
#pragma once

#include <cstdint>

#include "attn/config/config.h"

namespace attn {

/// step counts optimizer steps from 0; total_steps is the length of the run.
double learning_rate(const TrainConfig& t, int64_t step, int64_t total_steps);

}  // namespace attn
