// The attention's inverse temperature over a run (model.beta_schedule): soft attention that
// sharpens as the run goes, so that the model it ends with is the one hard attention evaluates.
// It applies where model.hard_in says attention is to be hard; the rest keeps model.beta.
// The lecture's beta: a = softargmax_beta(K^T q) tends to the one-hot argmax as beta grows.
#pragma once

#include <cstdint>
#include <optional>

#include "attn/config/config.h"

namespace attn {

/// The beta of optimizer step `step` of `total_steps`: model.beta (0: 1/sqrt(d_k)) at step 0 to
/// model.beta_end at the last, linearly or geometrically; nullopt under the constant schedule
/// (the model keeps model.beta).
std::optional<double> scheduled_beta(const ModelConfig& m, int64_t step, int64_t total_steps);

}  // namespace attn
