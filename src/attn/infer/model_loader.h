// How a checkpoint becomes a model, as a type: each task kind has its loader (cli/task_kinds.h),
// and what handles weights alone (averaging, export) is given one. Declares no LibTorch header.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace torch::nn {
class Module;
}  // namespace torch::nn

namespace attn {

class CheckpointReader;

/// The model of an opened checkpoint as a plain module, on `device_name` ("" = the config's).
using ModelLoader =
    std::function<std::shared_ptr<torch::nn::Module>(CheckpointReader& reader, const std::string& device_name)>;

}  // namespace attn
