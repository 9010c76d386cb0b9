// A state dict saved by Python's torch.save (`torch.save(model.state_dict(), f)`): its zip
// records read by LibTorch's archive reader and its pickle by a reader of our own that knows the
// few Python names a state dict uses (an OrderedDict, tensors rebuilt from storages, parameters)
// and refuses every other one, so that nothing in the file can run (what
// torch.load(weights_only=True) allows). LibTorch's own unpickler cannot be used: it turns every
// OrderedDict into None (it meets them only as a tensor's backward hooks).
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace attn {

/// name -> tensor, in the file's order. Throws CheckpointError naming the file and what is wrong
/// (not a zip that torch.save wrote, a pickle of something other than tensors by name, a record
/// missing or short).
std::vector<std::pair<std::string, torch::Tensor>> read_torch_state_dict(const std::string& path);

}  // namespace attn
