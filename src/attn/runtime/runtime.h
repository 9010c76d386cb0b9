// Where a run executes: the device from the config, the thread count, and the versions to log.
#pragma once

#include <torch/torch.h>

#include <string>

#include "attn/core/choices.h"

namespace attn {

/// The device a config or checkpoint names. CUDA asked for but absent is a std::runtime_error.
torch::Device select_device(const DeviceChoice& device);
/// The device a command line names ("auto" | "cpu" | "cuda" | "cuda:N"), or `otherwise` (the
/// config's) where it names none; any other name is a std::runtime_error too.
torch::Device select_device(const std::string& name, const DeviceChoice& otherwise);

/// 0 = every core. Returns the count set (LibTorch defaults to 1 here).
int set_threads(int64_t threads);

/// The arithmetic of attn's large CPU products from now on (config.precision; kernels/onednn_gemm.h).
/// Returns what runs them, for the log: "fp32" (the BLAS), "fp32 on oneDNN" (CPUs with AMX),
/// "bf16 on oneDNN AMX", "bf16 on emulated (...)".
std::string set_precision(Precision precision);

/// Keeps freed tensor memory in the process for the next step instead of handing it back to the
/// kernel: glibc returns blocks over 128 KiB with munmap, and faulting those pages in again cost
/// ~10% of a training step of the notebook's model. Blocks up to 32 MiB then come from the heap,
/// which is not trimmed. Call once, first thing in main.
void keep_freed_memory();

/// "attn 0.1.0, LibTorch 1.13.0, CPU only, BLAS OpenBLAS 0.3.21 Cooperlake (OpenBLAS's choice)" and the like.
std::string versions();

}  // namespace attn
