#include "attn/infer/checkpoint_model.h"

#include <filesystem>

#include "attn/model/build.h"
#include "attn/runtime/runtime.h"

namespace attn {

std::string resolve_checkpoint_path(const std::string& target) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(target, ec)) return target;
  const auto path = (fs::path(target) / "checkpoints" / "best.pt").string();
  if (!fs::exists(path, ec))
    throw CheckpointError(target + ": a directory without checkpoints/best.pt (is it a run directory?)");
  return path;
}

CheckpointSeq2Seq load_seq2seq_checkpoint(CheckpointReader& reader, const std::string& device_name) {
  const auto& path = reader.path();
  CheckpointSeq2Seq m;
  m.path = path;
  m.header = reader.header();
  if (m.header.config.task != TaskKind::Seq2Seq)
    throw CheckpointError(path + ": a " + to_string(m.header.config.task) + " checkpoint, not a seq2seq one");
  try {
    m.source_codec = codec_from_json(m.header.codecs.at("source"));
    const auto& t = m.header.codecs.at("target");
    m.target_codec = t.is_null() ? m.source_codec : codec_from_json(t);
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": damaged text codecs (" + e.what() + ")");
  }
  m.device = select_device(device_name, m.header.config.device);
  m.model = build_seq2seq(m.header.config.model, m.source_codec->size(), m.target_codec->size());
  if (m.header.state.beta > 0) use_beta(*m.model, m.header.config.model, m.header.state.beta);  // as trained
  reader.load_model(*m.model);
  m.model->to(m.device);
  m.model->eval();
  return m;
}

CheckpointModel load_checkpoint_model(CheckpointReader& reader, const std::string& device_name) {
  const auto& path = reader.path();
  CheckpointModel m;
  m.path = path;
  m.header = reader.header();
  if (m.header.config.task != TaskKind::Classify)
    throw CheckpointError(path + ": a " + to_string(m.header.config.task) + " checkpoint, not a classifier");
  m.vocab = Vocab::from_tokens(m.header.vocab);
  m.device = select_device(device_name, m.header.config.device);
  m.model = build_classifier(m.header.config.model, m.vocab.size(),
                             static_cast<int64_t>(m.header.labels.size()));
  if (m.header.state.beta > 0) use_beta(*m.model, m.header.config.model, m.header.state.beta);  // as trained
  reader.load_model(*m.model);
  m.model->to(m.device);
  m.model->eval();
  return m;
}

}  // namespace attn
