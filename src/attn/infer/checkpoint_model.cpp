#include "attn/infer/checkpoint_model.h"

#include <filesystem>

#include "attn/model/build.h"
#include "attn/train/runtime.h"

namespace attn {

CheckpointModel load_checkpoint_model(const std::string& target, const std::string& device_name) {
  namespace fs = std::filesystem;
  std::string path = target;
  std::error_code ec;
  if (fs::is_directory(target, ec)) {
    path = (fs::path(target) / "checkpoints" / "best.pt").string();
    if (!fs::exists(path, ec))
      throw CheckpointError(target + ": a directory without checkpoints/best.pt (is it a run directory?)");
  }
  CheckpointReader reader(path);
  CheckpointModel m;
  m.path = path;
  m.header = reader.header();
  m.vocab = Vocab::from_tokens(m.header.vocab);
  m.device = select_device(device_name.empty() ? m.header.config.device : device_name);
  m.model = build_classifier(m.header.config.model, m.vocab.size(),
                             static_cast<int64_t>(m.header.labels.size()));
  reader.load_model(*m.model);
  m.model->to(m.device);
  m.model->eval();
  return m;
}

}  // namespace attn
