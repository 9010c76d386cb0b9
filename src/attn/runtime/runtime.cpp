#include "attn/runtime/runtime.h"

#include <malloc.h>

#include "attn/kernels/onednn_gemm.h"
#include "attn/kernels/blas_core.h"

#include <stdexcept>
#include <thread>

namespace attn {

torch::Device select_device(const DeviceChoice& device) {
  const bool cuda = torch::cuda::is_available();
  switch (device.kind) {
    case DeviceChoice::Kind::Auto: return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    case DeviceChoice::Kind::Cpu: return torch::Device(torch::kCPU);
    case DeviceChoice::Kind::Cuda: break;
  }
  const std::string name = to_string(device);
  if (!cuda)
    throw std::runtime_error("device \"" + name + "\": CUDA is not available in this LibTorch (" +
                             std::string(TORCH_VERSION) +
                             ") or on this machine; use --set device=cpu or device=auto");
  if (device.index >= static_cast<int64_t>(torch::cuda::device_count()))
    throw std::runtime_error("device \"" + name + "\": only " +
                             std::to_string(torch::cuda::device_count()) + " CUDA device(s) here");
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(device.index));
}

torch::Device select_device(const std::string& name, const DeviceChoice& otherwise) {
  if (name.empty()) return select_device(otherwise);
  try {
    return select_device(parse_device(name));
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--device: ") + e.what());
  }
}

int set_threads(int64_t threads) {
  const int n = threads > 0 ? static_cast<int>(threads)
                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return n;
}

std::string set_precision(Precision precision) {
  kernels::set_matmul_precision(precision);
  if (precision == Precision::Fp32) return kernels::onednn_fp32_products() ? "fp32 on oneDNN" : "fp32";
  return "bf16 on " + kernels::bf16_engine();
}

void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's upper limit on 64-bit systems
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

std::string versions() {
  return std::string("attn ") + ATTN_VERSION + ", LibTorch " + TORCH_VERSION + ", " +
         (torch::cuda::is_available() ? "CUDA available" : "CPU only") + ", BLAS " + kernels::blas_info().describe();
}

}  // namespace attn
