// The backward of one (set, head) over the queries that have a gradient only.
#pragma once

#include <cstdint>
#include <vector>

#include "attn/kernels/flash/tiles.h"

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

// The rows of a (b, h) whose queries have a gradient, gathered: the problem they make.
template <typename T>
struct Gathered {
  std::vector<int64_t> rows;
  std::vector<T> q, dout, dq, lse, drow;
  explicit Gathered(const FlashProblem<T>& p)
      : rows(p.Tq), q(p.Tq * p.D), dout(p.Tq * p.Dv), dq(p.Tq * p.D), lse(p.Tq), drow(p.Tq) {}
};

/// dq, dk and dv of (b, h) from the n queries at gr.rows (the others have no output gradient):
/// dq of the others is 0, dk and dv are theirs alone.
template <typename T>
void backward_gathered(const FlashProblem<T>& p, Scratch<T>& w, Gathered<T>& gr, int64_t b, int64_t h, int64_t n);

}  // namespace attn::kernels::ATTN_KERNEL_ISA
