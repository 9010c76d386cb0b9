// Wall-clock seconds on the monotonic clock, for logs and benchmarks. Torch-free.
#pragma once

#include <chrono>

namespace attn {

/// Seconds since `start` (std::chrono::steady_clock).
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace attn
