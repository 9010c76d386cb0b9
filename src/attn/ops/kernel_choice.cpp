#include "attn/ops/kernel_choice.h"

namespace attn {

namespace {
thread_local KernelChoice current;
}  // namespace

const KernelChoice& kernel_choice() { return current; }

KernelScope::KernelScope(const KernelChoice& choice) : saved_(current) { current = choice; }

KernelScope::~KernelScope() { current = saved_; }

}  // namespace attn
