#include "attn/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace attn {

double learning_rate(const TrainConfig& t, int64_t step, int64_t total_steps) {
  const double s = static_cast<double>(step + 1);  // the step about to be taken, from 1
  const double warmup = static_cast<double>(t.warmup_steps);
  if (t.schedule == LrSchedule::InverseSqrt) return t.lr * std::min(s / warmup, std::sqrt(warmup / s));
  if (t.warmup_steps > 0 && s <= warmup) return t.lr * s / warmup;
  if (t.schedule == LrSchedule::Constant) return t.lr;
  const double span = std::max(1.0, static_cast<double>(total_steps) - warmup);
  const double progress = std::clamp((s - warmup) / span, 0.0, 1.0);
  const double shape = t.schedule == LrSchedule::Cosine ? 0.5 * (1 + std::cos(M_PI * progress)) : 1 - progress;
  return t.lr * (t.min_lr_ratio + (1 - t.min_lr_ratio) * shape);
}

}  // namespace attn
