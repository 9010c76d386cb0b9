#include "attn/infer/attention_maps.h"

#include <cmath>

#include "attn/data/batcher.h"
#include "attn/data/classify/classification_data.h"

namespace attn {

using nlohmann::json;

ShownInput show_classifier_input(CheckpointModel& m, const std::string& text) {
  const auto& data = m.header.config.data;
  const auto tok = make_tokenizer(data);
  const std::vector<EncodedExample> one = {{encode_text(text, tok, m.vocab, eval_length(data)), 0}};
  const auto batch = make_batch(one, {0}, data, m.device);                  // ids (1, T)
  torch::NoGradGuard no_grad;
  AttentionRecord record;
  const auto probs = torch::softmax(m.model->forward(batch.ids, batch.padding), 1)[0].cpu();  // (C)
  ShownInput shown;
  shown.text = text;
  const auto ids = batch.ids[0].cpu();
  for (int64_t t = 0; t < ids.size(0); ++t) shown.tokens.push_back(m.vocab.token(ids[t].item<int64_t>()));
  const auto best = probs.argmax().item<int64_t>();
  shown.label = m.header.labels.at(static_cast<size_t>(best));
  shown.probability = probs[best].item<double>();
  for (auto& map : record.named(*m.model)) {
    map.weights = map.weights[0].to(torch::kCPU, torch::kFloat64);           // (H, Tq, Tk)
    shown.maps.push_back(std::move(map));
  }
  return shown;
}

std::string describe_map(const std::string& name) {
  if (name == "pool_attention") return "attention pooling: the learnt query over the set";
  const std::string layers = "encoder.layers.";
  if (name.rfind(layers, 0) == 0) {
    const auto rest = name.substr(layers.size());
    const auto dot = rest.find('.');
    try {
      return "encoder layer " + std::to_string(std::stoll(rest.substr(0, dot)) + 1) + " self-attention";
    } catch (const std::exception&) {
    }
  }
  return name;
}

nlohmann::json attention_maps_json(const CheckpointModel& m, const std::string& attention,
                                   const std::vector<ShownInput>& inputs) {
  json doc = {{"checkpoint", m.path}, {"task", m.header.config.task}, {"attention", attention},
              {"labels", m.header.labels}, {"step", m.header.state.step}, {"inputs", json::array()}};
  for (const auto& in : inputs) {
    json maps = json::array();
    for (const auto& map : in.maps) {
      const auto w = map.weights.contiguous();                                // (H, Tq, Tk) float64
      const auto H = w.size(0), Tq = w.size(1), Tk = w.size(2);
      const double* p = w.data_ptr<double>();
      json heads = json::array();
      for (int64_t h = 0; h < H; ++h) {
        json rows = json::array();
        for (int64_t q = 0; q < Tq; ++q) {
          json row = json::array();
          for (int64_t k = 0; k < Tk; ++k) row.push_back(std::round(p[(h * Tq + q) * Tk + k] * 1e7) / 1e7);
          rows.push_back(std::move(row));
        }
        heads.push_back(std::move(rows));
      }
      // Self-attention reads the set against itself; the pooling query is one learnt vector.
      const json queries = Tq == static_cast<int64_t>(in.tokens.size()) ? json(in.tokens) : json(std::vector<std::string>(Tq, "query"));
      maps.push_back({{"name", map.name}, {"title", describe_map(map.name)}, {"queries", queries},
                      {"keys", in.tokens}, {"weights", std::move(heads)}});
    }
    doc["inputs"].push_back({{"text", in.text}, {"tokens", in.tokens}, {"label", in.label},
                             {"probability", in.probability}, {"maps", std::move(maps)}});
  }
  return doc;
}

}  // namespace attn
