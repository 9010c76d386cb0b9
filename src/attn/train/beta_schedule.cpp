#include "attn/train/beta_schedule.h"

#include <algorithm>
#include <cmath>

#include "attn/core/choices.h"

namespace attn {

std::optional<double> scheduled_beta(const ModelConfig& m, int64_t step, int64_t total_steps) {
  if (m.beta_schedule == BetaSchedule::Constant) return std::nullopt;
  const double start = m.beta > 0 ? m.beta : 1.0 / std::sqrt(double(m.d_model / m.heads));
  const double f = total_steps > 1 ? std::clamp(double(step) / double(total_steps - 1), 0.0, 1.0) : 1.0;
  if (m.beta_schedule == BetaSchedule::Linear) return start + (m.beta_end - start) * f;
  return start * std::pow(m.beta_end / start, f);  // exponential: the same factor every step
}

}  // namespace attn
