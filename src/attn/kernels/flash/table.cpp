// The table of one instruction set's attention kernels (flash_dispatch.cpp picks the table).
#include "attn/kernels/flash/passes.h"

namespace attn::kernels::ATTN_KERNEL_ISA {

namespace {

template <typename T>
const FlashKernels<T> kTable = {&forward<T>, &backward_prepare<T>, &backward_fused<T>, &backward_dkdv<T>,
                                &backward_dq<T>};

}  // namespace

template <typename T>
const FlashKernels<T>& table() {
  return kTable<T>;
}
template const FlashKernels<float>& table<float>();
template const FlashKernels<double>& table<double>();

}  // namespace attn::kernels::ATTN_KERNEL_ISA
