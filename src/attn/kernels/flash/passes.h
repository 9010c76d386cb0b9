// The passes of the attention kernels (the FlashKernels table of flash_kernels.h), compiled once
// per instruction set: forward.cpp, backward.cpp; table.cpp puts them in the table.
#pragma once

#include <cstdint>

#include "attn/kernels/flash_kernels.h"

#ifndef ATTN_KERNEL_ISA
#error "ATTN_KERNEL_ISA must name the instruction set this file is compiled for"
#endif

namespace attn::kernels::ATTN_KERNEL_ISA {

template <typename T>
void forward(const FlashProblem<T>& p, int64_t begin, int64_t end);
template <typename T>
void backward_prepare(const FlashProblem<T>& p, int64_t begin, int64_t end);
template <typename T>
void backward_fused(const FlashProblem<T>& p, int64_t begin, int64_t end);
template <typename T>
void backward_dkdv(const FlashProblem<T>& p, int64_t begin, int64_t end);
template <typename T>
void backward_dq(const FlashProblem<T>& p, int64_t begin, int64_t end);

}  // namespace attn::kernels::ATTN_KERNEL_ISA
